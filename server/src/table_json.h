// TableDescription in DynamoDB's JSON shape (CreateTable, DescribeTable, DeleteTable,
// UpdateTable and restore answers), the pieces of it backup descriptions share, and the time
// conversions DynamoDB's JSON uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tidewater/core/json_codec.h"
#include "tidewater/core/table.h"

namespace tidewater::server {

// Writes the TableDescription object (without the enclosing member name).
// `status` is the TableStatus to report ("ACTIVE", "DELETING"), but a table still being
// restored is "CREATING"; a restored table has its RestoreSummary. `now_micros` (the engine
// clock's time) decides which throughput decreases were "today".
void WriteTableDescription(const TableDescription& table, std::string_view region,
                           std::string_view status, int64_t now_micros, json::Writer& writer);

// The shorter TableDescription DeleteTable answers: name, status DELETING, throughput,
// size, item count, ARN, id and billing mode (no key schema, times or stream).
void WriteDeletedTableDescription(const TableDescription& table, std::string_view region,
                                  int64_t now_micros, json::Writer& writer);

// Writes the KeySchema array ([{"AttributeName":..,"KeyType":"HASH"}, ...]).
void WriteKeySchema(const KeySchema& schema, json::Writer& writer);

// Writes an index's Projection object ({"ProjectionType":..,"NonKeyAttributes":[..]}).
void WriteProjection(const IndexProjection& projection, json::Writer& writer);

// A TimeToLiveDescription: {TimeToLiveStatus, AttributeName (when enabled)}.
void WriteTimeToLiveDescription(const TableDescription& table, json::Writer& writer);

// The TableId DynamoDB shows: UUID-shaped, derived from the engine's table id.
std::string TableIdText(uint64_t table_id);

// A backup's ARN: its source table's ARN, "/backup/", the backup id.
std::string BackupArn(std::string_view region, std::string_view table, std::string_view backup_id);

// "STANDARD" or "STANDARD_INFREQUENT_ACCESS", as TableClassSummary names the class.
std::string_view TableClassName(TableClass table_class);

// DynamoDB's name of a billing mode: "PROVISIONED" or "PAY_PER_REQUEST".
std::string_view BillingModeName(BillingMode mode);

// Epoch seconds with a fraction, as DynamoDB timestamps appear in JSON.
double EpochSeconds(int64_t micros);
// A stream label ("2024-01-31T12:34:56.789", UTC) as epoch microseconds; 0 when malformed.
int64_t StreamLabelMicros(std::string_view label);

}  // namespace tidewater::server
