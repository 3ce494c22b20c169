// A change record in the DynamoDB Streams JSON shape (an entry of GetRecords "Records"):
//   {"eventID":..,"eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb",
//    "awsRegion":..,"dynamodb":{"ApproximateCreationDateTime":<epoch seconds>,"Keys":{..},
//    "NewImage":{..},"OldImage":{..},"SequenceNumber":"000..","SizeBytes":n,
//    "StreamViewType":".."},
//    "userIdentity":{"Type":"Service","PrincipalId":"dynamodb.amazonaws.com"}}  (TTL deletes)
// Used by the Streams API, Lambda-style trigger events and the Kafka publisher's JSON
// format, so that all show a record alike. One difference: userIdentity's members are
// named as the DynamoDB Streams API model names them ("Type", "PrincipalId", what the AWS
// SDKs read) in GetRecords, and as Lambda events name them ("type", "principalId") in
// trigger events and Kafka messages. Functions only; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tidewater/core/engine.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/status.h"

namespace tidewater::streams {

// The engine's per-shard sequence as DynamoDB Streams shows it: decimal, zero-padded to
// 21 digits, so that text order and numeric order agree.
std::string SequenceNumberText(SequenceNumber sequence);

// The record's eventID: hex of (table id, shard, sequence), unique and stable per record.
std::string EventId(uint64_t table_id, ShardIndex shard, SequenceNumber sequence);

// How userIdentity's members are spelled (see the file comment).
enum class IdentityNames { kStreamsApi, kLambdaEvent };

// Writes the record as one JSON object. `table_id` is TableDescription::table_id of the
// record's table; `region` is the awsRegion shown. Errors: Internal when the record holds
// a malformed value (for example a bad number text).
//
// With `tidewater_metadata` (the opt-in extension a client asks for with the request
// header `X-Tidewater-Record-Metadata: 1`) the object gets one more member with what the
// DynamoDB shape cannot carry:
//   "tidewater":{"originRegion":"..","provenance":"USER_WRITE","version":{"hlcMicros":n,
//     "region":".."},"transactionId":"..","participants":n,"creationTimeMicros":n,
//     "streamLabel":".."}
// Standard clients never ask for it and see exactly DynamoDB's shape.
Status WriteStreamRecord(const ChangeRecord& record, uint64_t table_id, std::string_view region,
                         json::Writer& writer, bool tidewater_metadata = false,
                         IdentityNames identity_names = IdentityNames::kLambdaEvent);

// The same, as text, with Lambda's userIdentity names.
Result<std::string> StreamRecordJson(const ChangeRecord& record, uint64_t table_id,
                                     std::string_view region, bool tidewater_metadata = false);

// The header that asks tidewaterd's Streams API for the extension above (value "1").
inline constexpr char kRecordMetadataHeader[] = "X-Tidewater-Record-Metadata";

// The header that asks tidewaterd's GetRecords for the shard's resolved watermark (value
// "1"): a response that read the shard up to the watermark's last sequence then has the
// top-level member kResolvedTimeMember, the resolved time in microseconds since the Unix
// epoch (ChangeLog::ResolvedWatermark): every record of the shard committed before it is
// in this response or an earlier one of the iterator chain. Without the header, or when
// the response stopped short (limit, size) or the shard is closed, the member is absent.
inline constexpr char kWatermarkHeader[] = "X-Tidewater-Watermark";
inline constexpr char kResolvedTimeMember[] = "TidewaterResolvedTimeMicros";

// Reads a record written by WriteStreamRecord back (the inverse, for readers of a remote
// Streams API or of JSON Kafka messages). `table` and `shard` are where it was read from
// (the JSON does not name them). Without the "tidewater" member the record gets what the
// DynamoDB shape tells: creation time in whole seconds, provenance TTL for the service's
// userIdentity in either spelling (else USER_WRITE), no origin, version or transaction.
// Errors: Serialization for a malformed record.
Result<ChangeRecord> ParseStreamRecord(const rapidjson::Value& json, std::string_view table,
                                       ShardIndex shard);

}  // namespace tidewater::streams
