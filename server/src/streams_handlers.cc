// The DynamoDB Streams API over the engine's per-shard change log: ListStreams,
// DescribeStream, GetShardIterator, GetRecords.
//
// A stream is named by its table and label. When it is disabled (turned off, replaced by
// re-enabling the stream, which issues a new label, or its table deleted) it stays
// readable for the stream retention (24 h), as DynamoDB's DISABLED streams: ListStreams
// lists it, DescribeStream shows every shard closed with its EndingSequenceNumber, and
// reading a shard to its end answers no NextShardIterator. Afterwards it is gone
// (ResourceNotFoundException). Records carry the label of the stream they were written
// under; an iterator returns only its own stream's records.
//
// Extension (as Kinesis): GetShardIterator's AT_TIMESTAMP with `Timestamp` (epoch
// seconds) starts at the shard's first record created at or after it (the lookup is
// streams::FindShardPositionAtTime); a time after the newest record reads what is written
// from then on (as LATEST), one at or before the oldest retained record is TRIM_HORIZON.

#include <optional>
#include <tuple>

#include "handler_support.h"
#include "handlers.h"
#include "table_json.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/resource_names.h"
#include "tidewater/streams/stream_record_json.h"

namespace tidewater::server {

using streams::ParseSequenceNumber;
using streams::ParseShardId;
using streams::ParseStreamArn;
using streams::ShardId;
using streams::StreamArn;
namespace {

constexpr int64_t kMaxListStreamsLimit = 100;
constexpr int64_t kMaxDescribeStreamLimit = 100;
constexpr int64_t kMaxGetRecordsLimit = 1000;
// GetRecords answers at most 1 MB of records.
constexpr size_t kMaxGetRecordsBytes = 1024 * 1024;
// TRIM_HORIZON iterators start at the oldest retained record, wherever trimming has
// moved it by the time they are read.
constexpr uint64_t kTrimHorizon = 0;

Status StreamNotFound(std::string_view arn) {
  return Status::NotFound("Requested resource not found: Stream: " + std::string(arn) +
                          " not found");
}

Status TrimmedData() {
  return Status(ErrorCode::kTrimmedDataAccess,
                "The operation attempted to read past the oldest stream record in a shard.");
}

// The stream `label` of `table`; ResourceNotFound (naming `arn`) when it is not readable.
Result<StreamDescription> FindStream(ServiceContext& service, const std::string& table,
                                     const std::string& label, std::string_view arn) {
  auto stream = service.engine->DescribeStream(table, label);
  if (!stream.ok() && stream.status().code() == ErrorCode::kResourceNotFound) {
    return StreamNotFound(arn);
  }
  return stream;
}

// The stream an ARN names. A malformed ARN is a ValidationException, a well-formed one
// naming no readable stream ResourceNotFound.
Result<StreamDescription> FindStream(ServiceContext& service, std::string_view arn) {
  TW_ASSIGN_OR_RETURN(streams::ParsedStreamArn parsed, ParseStreamArn(arn));
  return FindStream(service, parsed.table, parsed.label, arn);
}

// The shard's StartingSequenceNumber: its oldest retained record, or (none retained) the
// sequence its next record will get.
SequenceNumber FirstRetained(const ShardDescription& shard) {
  return shard.first_sequence != SequenceNumber(0) ? shard.first_sequence
                                                   : shard.last_sequence.Next();
}

// With `tidewater_metadata`, also the shard's exact retained range:
// "tidewater":{"firstSequence":n,"lastSequence":n} (0: none), which DynamoDB's shape
// does not tell for an open shard.
// A closed shard (every shard of a disabled stream) has an EndingSequenceNumber, also when
// the stream wrote nothing in it: then it is one below the StartingSequenceNumber.
void WriteShard(const StreamDescription& stream, const ShardDescription& shard,
                bool tidewater_metadata, json::Writer& w) {
  w.StartObject();
  w.Key("ShardId");
  WriteString(w, ShardId(stream.table_creation_time_micros, shard.index));
  if (shard.parent) {
    w.Key("ParentShardId");
    WriteString(w, ShardId(stream.table_creation_time_micros, *shard.parent));
  }
  w.Key("SequenceNumberRange");
  w.StartObject();
  w.Key("StartingSequenceNumber");
  WriteString(w, streams::SequenceNumberText(FirstRetained(shard)));
  if (shard.closed || !stream.enabled) {
    w.Key("EndingSequenceNumber");
    WriteString(w, streams::SequenceNumberText(shard.last_sequence));
  }
  w.EndObject();
  if (tidewater_metadata) {
    w.Key("tidewater");
    w.StartObject();
    w.Key("firstSequence");
    w.Uint64(shard.first_sequence.value());
    w.Key("lastSequence");
    w.Uint64(shard.last_sequence.value());
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

Status ListStreams(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto table_name, GetString(request, "TableName"));
  TW_ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  TW_ASSIGN_OR_RETURN(auto start_arn, GetString(request, "ExclusiveStartStreamArn"));
  errors.CheckTableName("tableName", table_name, /*required=*/false);
  errors.CheckRange("limit", limit, 1, kMaxListStreamsLimit);
  errors.CheckLength("exclusiveStartStreamArn", start_arn, 37, 1024);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  std::optional<streams::ParsedStreamArn> start;
  if (start_arn) {
    TW_ASSIGN_OR_RETURN(start, ParseStreamArn(*start_arn));
  }

  std::optional<std::string> table_filter;
  if (table_name) table_filter = std::string(*table_name);
  TW_ASSIGN_OR_RETURN(std::vector<StreamDescription> all,
                      service.engine->ListStreams(table_filter));
  // In (table, label) order, after the start ARN's stream.
  std::vector<const StreamDescription*> streams;
  const size_t wanted = static_cast<size_t>(limit.value_or(kMaxListStreamsLimit));
  bool more = false;
  for (const StreamDescription& stream : all) {
    if (start && std::tie(stream.table, stream.label) <= std::tie(start->table, start->label)) {
      continue;
    }
    if (streams.size() == wanted) {
      more = true;
      break;
    }
    streams.push_back(&stream);
  }

  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Streams");
  w.StartArray();
  for (const StreamDescription* stream : streams) {
    w.StartObject();
    w.Key("StreamArn");
    WriteString(w, StreamArn(service.region, stream->table, stream->label));
    w.Key("TableName");
    WriteString(w, stream->table);
    w.Key("StreamLabel");
    WriteString(w, stream->label);
    w.EndObject();
  }
  w.EndArray();
  if (more) {
    w.Key("LastEvaluatedStreamArn");
    WriteString(w, StreamArn(service.region, streams.back()->table, streams.back()->label));
  }
  w.EndObject();
  return Status::Ok();
}

Status DescribeStream(ServiceContext& service, const rapidjson::Value& request,
                      RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto arn, GetString(request, "StreamArn"));
  TW_ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  TW_ASSIGN_OR_RETURN(auto start_shard, GetString(request, "ExclusiveStartShardId"));
  errors.RequireNotNull("streamArn", arn.has_value());
  errors.CheckLength("streamArn", arn, 37, 1024);
  errors.CheckRange("limit", limit, 1, kMaxDescribeStreamLimit);
  errors.CheckLength("exclusiveStartShardId", start_shard, 28, 65);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(StreamDescription stream, FindStream(service, *arn));

  size_t first = 0;
  if (start_shard) {
    auto index = ParseShardId(*start_shard, stream.table_creation_time_micros);
    // An unknown start shard matches nothing: the listing is empty.
    first = index.ok() ? size_t{index->value()} + 1 : stream.shards.size();
  }
  const size_t wanted = static_cast<size_t>(limit.value_or(kMaxDescribeStreamLimit));
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("StreamDescription");
  w.StartObject();
  w.Key("StreamArn");
  WriteString(w, *arn);
  w.Key("StreamLabel");
  WriteString(w, stream.label);
  w.Key("StreamStatus");
  WriteString(w, stream.enabled ? "ENABLED" : "DISABLED");
  w.Key("StreamViewType");
  WriteString(w, StreamViewTypeName(stream.view_type));
  w.Key("CreationRequestDateTime");
  w.Double(EpochSeconds(StreamLabelMicros(stream.label)));
  w.Key("TableName");
  WriteString(w, stream.table);
  w.Key("KeySchema");
  WriteKeySchema(stream.key_schema, w);
  w.Key("Shards");
  w.StartArray();
  size_t written = 0;
  size_t index = first;
  for (; index < stream.shards.size() && written < wanted; ++index, ++written) {
    WriteShard(stream, stream.shards[index], scope.tidewater_metadata, w);
  }
  w.EndArray();
  if (index < stream.shards.size()) {
    w.Key("LastEvaluatedShardId");
    WriteString(w, ShardId(stream.table_creation_time_micros, stream.shards[index - 1].index));
  }
  w.EndObject();
  w.EndObject();
  return Status::Ok();
}

Status GetShardIterator(ServiceContext& service, const rapidjson::Value& request,
                        RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto arn, GetString(request, "StreamArn"));
  TW_ASSIGN_OR_RETURN(auto shard_id, GetString(request, "ShardId"));
  TW_ASSIGN_OR_RETURN(auto type, GetString(request, "ShardIteratorType"));
  TW_ASSIGN_OR_RETURN(auto sequence_text, GetString(request, "SequenceNumber"));
  TW_ASSIGN_OR_RETURN(auto timestamp_micros, GetTimestampMicros(request, "Timestamp"));
  errors.RequireNotNull("streamArn", arn.has_value());
  errors.CheckLength("streamArn", arn, 37, 1024);
  errors.RequireNotNull("shardId", shard_id.has_value());
  errors.CheckLength("shardId", shard_id, 28, 65);
  errors.RequireNotNull("shardIteratorType", type.has_value());
  errors.CheckEnum(
      "shardIteratorType", type,
      {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP"});
  errors.CheckLength("sequenceNumber", sequence_text, 21, 40);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  const bool at = *type == "AT_SEQUENCE_NUMBER";
  const bool after = *type == "AFTER_SEQUENCE_NUMBER";
  if ((at || after) && !sequence_text) {
    return Status::Validation("Missing required parameter SequenceNumber for ShardIteratorType " +
                              std::string(*type));
  }
  if (!at && !after && sequence_text) {
    return Status::Validation("SequenceNumber must not be given for ShardIteratorType " +
                              std::string(*type));
  }
  const bool at_timestamp = *type == "AT_TIMESTAMP";
  if (at_timestamp && !timestamp_micros) {
    return Status::Validation(
        "Missing required parameter Timestamp for ShardIteratorType AT_TIMESTAMP");
  }
  if (!at_timestamp && timestamp_micros) {
    return Status::Validation("Timestamp must not be given for ShardIteratorType " +
                              std::string(*type));
  }
  TW_ASSIGN_OR_RETURN(StreamDescription stream, FindStream(service, *arn));
  TW_ASSIGN_OR_RETURN(ShardIndex shard_index,
                      ParseShardId(*shard_id, stream.table_creation_time_micros));
  if (shard_index.value() >= stream.shards.size()) {
    return Status::NotFound("Requested resource not found: Shard: " + std::string(*shard_id) +
                            " not found");
  }
  const ShardDescription& shard = stream.shards[shard_index.value()];

  ShardPosition position;
  position.table = stream.table;
  position.table_id = stream.table_id;
  position.stream_label = stream.label;
  position.shard = shard_index.value();
  if (*type == "TRIM_HORIZON") {
    position.sequence = kTrimHorizon;
  } else if (*type == "LATEST") {
    position.sequence = shard.last_sequence.Next().value();
  } else if (at_timestamp) {
    ShardReadRequest in_shard;
    in_shard.table = TableName(stream.table);
    in_shard.table_id = stream.table_id;
    in_shard.shard = shard_index;
    std::optional<SequenceNumber> stream_end;
    if (shard.closed || !stream.enabled) stream_end = shard.last_sequence;
    TW_ASSIGN_OR_RETURN(
        streams::TimePosition found,
        streams::FindShardPositionAtTime(*service.engine, in_shard, *timestamp_micros, stream_end));
    position.sequence = found.at_trim_horizon ? kTrimHorizon : found.sequence.value();
  } else {
    TW_ASSIGN_OR_RETURN(SequenceNumber sequence, ParseSequenceNumber(*sequence_text));
    // The shard's StartingSequenceNumber is always a valid AT position, also when no
    // record holds it yet (nothing retained): reading starts with the next record.
    const bool starting = at && sequence == FirstRetained(shard);
    if (sequence == SequenceNumber(0) || (sequence > shard.last_sequence && !starting)) {
      return Status::Validation("Invalid SequenceNumber: " + std::string(*sequence_text) +
                                " is not a sequence number of shard " + std::string(*shard_id));
    }
    const SequenceNumber first_wanted = after ? sequence.Next() : sequence;
    if (first_wanted < FirstRetained(shard)) return TrimmedData();
    position.sequence = first_wanted.value();
  }
  // With the extension header: where the iterator starts, which its opaque text hides
  // (a remote ChangeSource's PositionAtTime needs it).
  const bool at_horizon = position.sequence == kTrimHorizon;
  const SequenceNumber starts_at =
      at_horizon ? FirstRetained(shard) : SequenceNumber(position.sequence);
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("ShardIterator");
  WriteString(w, service.iterators->Encode(std::move(position)));
  if (scope.tidewater_metadata) {
    w.Key("tidewater");
    w.StartObject();
    w.Key("sequence");
    w.Uint64(starts_at.value());
    w.Key("trimHorizon");
    w.Bool(at_horizon);
    w.EndObject();
  }
  w.EndObject();
  return Status::Ok();
}

Status GetRecords(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto iterator, GetString(request, "ShardIterator"));
  TW_ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  errors.RequireNotNull("shardIterator", iterator.has_value());
  errors.CheckLength("shardIterator", iterator, 1, 2048);
  errors.CheckRange("limit", limit, 1, kMaxGetRecordsLimit);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(ShardPosition position, service.iterators->Decode(*iterator));

  const std::string arn = StreamArn(service.region, position.table, position.stream_label);
  TW_ASSIGN_OR_RETURN(StreamDescription stream,
                      FindStream(service, position.table, position.stream_label, arn));
  if (stream.table_id != position.table_id || position.shard >= stream.shards.size()) {
    return StreamNotFound(arn);
  }
  const ShardDescription& shard = stream.shards[position.shard];
  // A closed shard (a disabled stream's) ends at its last sequence, though the table's log
  // may go on with a newer stream's records.
  const bool closed = !stream.enabled || shard.closed;
  ShardReadRequest read;
  read.table = TableName(position.table);
  read.table_id = position.table_id;
  read.shard = ShardIndex(position.shard);
  read.from_sequence =
      position.sequence == kTrimHorizon ? FirstRetained(shard) : SequenceNumber(position.sequence);
  read.limit = static_cast<size_t>(limit.value_or(kMaxGetRecordsLimit));
  // Taken before the read, so that the read reaches the sequence it covers unless it
  // stops short.
  std::optional<ShardWatermark> watermark;
  if (scope.watermark && !closed) {
    TW_ASSIGN_OR_RETURN(watermark, service.engine->ResolvedWatermark(read.table, read.shard));
  }
  TW_ASSIGN_OR_RETURN(ShardReadResult result, service.engine->ReadShard(read));
  if (position.sequence != kTrimHorizon &&
      SequenceNumber(position.sequence) < result.first_available) {
    return TrimmedData();
  }

  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Records");
  w.StartArray();
  SequenceNumber next_sequence = result.next_sequence;
  size_t returned = 0;
  for (const ChangeRecord& record : result.records) {
    if ((scope.buffer.GetSize() > kMaxGetRecordsBytes && returned > 0) ||
        (closed && SequenceNumber(record.sequence()) > shard.last_sequence)) {
      next_sequence = SequenceNumber(record.sequence());
      break;
    }
    if (record.stream_label() != position.stream_label) continue;
    TW_RETURN_IF_ERROR(streams::WriteStreamRecord(record, position.table_id, service.region, w,
                                                  scope.tidewater_metadata,
                                                  streams::IdentityNames::kStreamsApi));
    ++returned;
  }
  w.EndArray();
  if (!closed || next_sequence <= shard.last_sequence) {
    position.sequence = next_sequence.value();
    w.Key("NextShardIterator");
    WriteString(w, service.iterators->Encode(std::move(position)));
  }
  if (watermark && next_sequence > watermark->last_sequence) {
    w.Key(streams::kResolvedTimeMember);
    w.Int64(watermark->resolved_micros);
  }
  w.EndObject();
  service.metrics->StreamRecordsRead(returned);
  return Status::Ok();
}

}  // namespace tidewater::server
