// The DynamoDB Streams API over the engine's per-shard change log: ListStreams,
// DescribeStream, GetShardIterator, GetRecords.
//
// A table's stream is named by its current stream label. When the stream is disabled (or
// replaced by re-enabling it, which issues a new label) the old stream's shards are
// closed: reading one to its end answers no NextShardIterator. Records carry the label of
// the stream they were written under; an iterator returns only its own stream's records.
#include "handler_support.h"
#include "handlers.h"
#include "table_json.h"
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

// The table behind a stream ARN, when the ARN names its current stream. A malformed ARN
// is a ValidationException, a well-formed one naming no stream ResourceNotFound.
Result<TableDescription> FindStreamTable(ServiceContext& service, std::string_view arn) {
  TW_ASSIGN_OR_RETURN(streams::ParsedStreamArn parsed, ParseStreamArn(arn));
  auto table = service.engine->DescribeTable(parsed.table);
  if (!table.ok()) {
    if (table.status().code() == ErrorCode::kResourceNotFound) return StreamNotFound(arn);
    return table.status();
  }
  if (table->stream_label.empty() || table->stream_label != parsed.label) {
    return StreamNotFound(arn);
  }
  return std::move(table).value();
}

bool StreamOpen(const TableDescription& table, std::string_view label) {
  return table.stream.enabled && table.stream_label == label;
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
void WriteShard(const TableDescription& table, const ShardDescription& shard, bool stream_open,
                bool tidewater_metadata, json::Writer& w) {
  w.StartObject();
  w.Key("ShardId");
  WriteString(w, ShardId(table.creation_time_micros, shard.index));
  if (shard.parent) {
    w.Key("ParentShardId");
    WriteString(w, ShardId(table.creation_time_micros, *shard.parent));
  }
  w.Key("SequenceNumberRange");
  w.StartObject();
  w.Key("StartingSequenceNumber");
  WriteString(w, streams::SequenceNumberText(FirstRetained(shard)));
  if ((shard.closed || !stream_open) && shard.last_sequence != SequenceNumber(0)) {
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

  std::vector<TableDescription> streams;
  const size_t wanted = static_cast<size_t>(limit.value_or(kMaxListStreamsLimit));
  bool more = false;
  if (table_name) {
    TW_ASSIGN_OR_RETURN(TableDescription table,
                        service.engine->DescribeTable(std::string(*table_name)));
    if (!table.stream_label.empty() &&
        (!start_arn || *start_arn != StreamArn(service.region, table.name, table.stream_label))) {
      streams.push_back(std::move(table));
    }
  } else {
    std::optional<std::string> after;
    if (start) after = start->table;
    do {
      TW_ASSIGN_OR_RETURN(ListTablesPage page, service.engine->ListTables(after, 100));
      for (const std::string& name : page.names) {
        auto table = service.engine->DescribeTable(name);
        if (!table.ok() || table->stream_label.empty()) continue;  // dropped meanwhile, or none
        if (streams.size() == wanted) {
          more = true;
          break;
        }
        streams.push_back(std::move(table).value());
      }
      after = page.last_evaluated_table_name;
    } while (after && !more);
  }

  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Streams");
  w.StartArray();
  for (const TableDescription& table : streams) {
    w.StartObject();
    w.Key("StreamArn");
    WriteString(w, StreamArn(service.region, table.name, table.stream_label));
    w.Key("TableName");
    WriteString(w, table.name);
    w.Key("StreamLabel");
    WriteString(w, table.stream_label);
    w.EndObject();
  }
  w.EndArray();
  if (more) {
    w.Key("LastEvaluatedStreamArn");
    const TableDescription& last = streams.back();
    WriteString(w, StreamArn(service.region, last.name, last.stream_label));
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
  TW_ASSIGN_OR_RETURN(TableDescription table, FindStreamTable(service, *arn));
  const bool open = StreamOpen(table, table.stream_label);

  size_t first = 0;
  if (start_shard) {
    auto index = ParseShardId(*start_shard, table.creation_time_micros);
    // An unknown start shard matches nothing: the listing is empty.
    first = index.ok() ? size_t{index->value()} + 1 : table.shards.size();
  }
  const size_t wanted = static_cast<size_t>(limit.value_or(kMaxDescribeStreamLimit));
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("StreamDescription");
  w.StartObject();
  w.Key("StreamArn");
  WriteString(w, *arn);
  w.Key("StreamLabel");
  WriteString(w, table.stream_label);
  w.Key("StreamStatus");
  WriteString(w, open ? "ENABLED" : "DISABLED");
  w.Key("StreamViewType");
  WriteString(w, StreamViewTypeName(table.stream.view_type));
  w.Key("CreationRequestDateTime");
  w.Double(EpochSeconds(StreamLabelMicros(table.stream_label)));
  w.Key("TableName");
  WriteString(w, table.name);
  w.Key("KeySchema");
  WriteKeySchema(table.key_schema, w);
  w.Key("Shards");
  w.StartArray();
  size_t written = 0;
  size_t index = first;
  for (; index < table.shards.size() && written < wanted; ++index, ++written) {
    WriteShard(table, table.shards[index], open, scope.tidewater_metadata, w);
  }
  w.EndArray();
  if (index < table.shards.size()) {
    w.Key("LastEvaluatedShardId");
    WriteString(w, ShardId(table.creation_time_micros, table.shards[index - 1].index));
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
  errors.RequireNotNull("streamArn", arn.has_value());
  errors.CheckLength("streamArn", arn, 37, 1024);
  errors.RequireNotNull("shardId", shard_id.has_value());
  errors.CheckLength("shardId", shard_id, 28, 65);
  errors.RequireNotNull("shardIteratorType", type.has_value());
  errors.CheckEnum("shardIteratorType", type,
                   {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"});
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
  TW_ASSIGN_OR_RETURN(TableDescription table, FindStreamTable(service, *arn));
  TW_ASSIGN_OR_RETURN(ShardIndex shard_index, ParseShardId(*shard_id, table.creation_time_micros));
  if (shard_index.value() >= table.shards.size()) {
    return Status::NotFound("Requested resource not found: Shard: " + std::string(*shard_id) +
                            " not found");
  }
  const ShardDescription& shard = table.shards[shard_index.value()];

  ShardPosition position;
  position.table = table.name;
  position.table_id = table.table_id;
  position.stream_label = table.stream_label;
  position.shard = shard_index.value();
  if (*type == "TRIM_HORIZON") {
    position.sequence = kTrimHorizon;
  } else if (*type == "LATEST") {
    position.sequence = shard.last_sequence.Next().value();
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
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("ShardIterator");
  WriteString(w, service.iterators->Encode(std::move(position)));
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
  auto table = service.engine->DescribeTable(position.table);
  if (!table.ok()) {
    if (table.status().code() == ErrorCode::kResourceNotFound) return StreamNotFound(arn);
    return table.status();
  }
  if (table->table_id != position.table_id || position.shard >= table->shards.size()) {
    return StreamNotFound(arn);
  }
  ShardReadRequest read;
  read.table = TableName(position.table);
  read.shard = ShardIndex(position.shard);
  read.from_sequence = SequenceNumber(position.sequence == kTrimHorizon ? 1 : position.sequence);
  read.limit = static_cast<size_t>(limit.value_or(kMaxGetRecordsLimit));
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
    if (scope.buffer.GetSize() > kMaxGetRecordsBytes && returned > 0) {
      next_sequence = SequenceNumber(record.sequence());
      break;
    }
    if (record.stream_label() != position.stream_label) continue;
    TW_RETURN_IF_ERROR(streams::WriteStreamRecord(record, position.table_id, service.region, w,
                                                  scope.tidewater_metadata));
    ++returned;
  }
  w.EndArray();
  const bool closed =
      !StreamOpen(*table, position.stream_label) || table->shards[position.shard].closed;
  if (!closed || next_sequence <= result.last_written) {
    position.sequence = next_sequence.value();
    w.Key("NextShardIterator");
    WriteString(w, service.iterators->Encode(std::move(position)));
  }
  w.EndObject();
  service.metrics->StreamRecordsRead(returned);
  return Status::Ok();
}

}  // namespace tidewater::server
