// Small pieces every handler group uses: reading the common request members (TableName,
// Item/Key maps, ReturnValues, ReturnValuesOnConditionCheckFailure) and writing strings
// and items to the response.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "json_request.h"
#include "table_schemas.h"
#include "tidewater/core/attribute_value.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/expression.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/status.h"

namespace tidewater::server {

inline void WriteString(json::Writer& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

inline void WriteKey(json::Writer& writer, std::string_view name) {
  writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
}

// Writes `item` projected by `projection` (the whole item when there is none).
// The engine's consistency for a request's ConsistentRead (absent: false, as DynamoDB).
inline ReadConsistency ConsistencyOf(std::optional<bool> consistent_read) {
  return consistent_read.value_or(false) ? ReadConsistency::kStrong : ReadConsistency::kEventual;
}

void WriteProjectedItem(const Item& item, const std::optional<ProjectionExpression>& projection,
                        json::Writer& writer);

// DynamoDB's limit on attribute names ("less than 64 KB"; 65535 bytes is accepted).
inline constexpr size_t kMaxAttributeNameBytes = 65535;

// An attribute name (of an item, a key, a legacy parameter): not empty, at most
// kMaxAttributeNameBytes.
Status CheckAttributeName(std::string_view name);

// A map-of-attribute-values member (Item, Key, ExclusiveStartKey, ...) parsed with
// DynamoDB's attribute value rules, its attribute names checked; nullopt when absent.
Result<std::optional<Item>> ReadItemMember(const rapidjson::Value& object, std::string_view member);

// The item `update` makes of `current` (nullptr when absent; `key` is then the start), for
// an engine ItemUpdater. Without an update the item exists afterwards, unchanged. An
// update that only removes attributes (no SET or ADD) leaves an absent item absent:
// nullopt, and DynamoDB then creates nothing and fails no document path.
Result<std::optional<Item>> UpdatedItem(const std::optional<UpdateExpression>& update,
                                        const Item* current, const Item& key);

enum class ReturnValues { kNone, kAllOld, kUpdatedOld, kAllNew, kUpdatedNew };

// Reads "ReturnValues"; values outside DynamoDB's enum are constraint errors (collected),
// values the operation does not support are "ReturnValues can only be ALL_OLD or NONE".
Result<ReturnValues> ReadReturnValues(const rapidjson::Value& request, bool only_all_old,
                                      ConstraintErrors& errors);
// Reads "ReturnValuesOnConditionCheckFailure": true for ALL_OLD.
Result<bool> ReadReturnOldOnConditionFailure(const rapidjson::Value& request, std::string_view path,
                                             ConstraintErrors& errors);
// Reads "ReturnItemCollectionMetrics" (SIZE | NONE): true when SIZE is asked for.
Result<bool> ReadReturnItemCollectionMetrics(const rapidjson::Value& request,
                                             ConstraintErrors& errors);

// The table names DynamoDB accepts in TableName (collected as constraint errors).
Result<std::string> ReadTableName(const rapidjson::Value& request, std::string_view path,
                                  ConstraintErrors& errors);

// The key attributes of `item` under `schema` (the item must hold them).
Item KeyOf(const KeySchema& schema, const Item& item);

// The checks the engine's PutItem makes of `item` (key attributes present, of the right
// types and sizes; index key attributes of the right types; the item within 400 KB), with
// the same errors, for requests that validate every item before writing any
// (BatchWriteItem, TransactWriteItems).
Status ValidatePutItem(Engine& engine, const std::string& table, const TableKeys& keys,
                       const Item& item);

// "TidewaterStreamBackfill" (a tidewater extension of RestoreTableFromBackup,
// RestoreTableToPointInTime and ImportTable): a StreamViewType name. When present, the new
// table has a stream of that view type, and the items the restore or import loads enter it
// (CreateTableRequest::backfill_stream); nullopt when absent. ValidationException for a name
// that is not a StreamViewType.
Result<std::optional<StreamViewType>> ReadStreamBackfill(const rapidjson::Value& request);

}  // namespace tidewater::server
