// Tidewater's administrative operations (TidewaterAdmin_20261205), JSON as DynamoDB's:
//
// SplitShard {"TableName": T, "ShardId": "shardId-..."} (the id DescribeStream shows) splits
// the open shard online (TableCatalog::SplitShard) and answers
//   {"ParentShardId": id, "EndingSequenceNumber": "...", "ChildShardIds": [lower, upper]}.
// Errors as DynamoDB's: ResourceNotFoundException (no such table or shard),
// ValidationException (a malformed request, a closed shard, a range of one hash),
// LimitExceededException (the table has as many shards as it may).
#include "handler_support.h"
#include "handlers.h"
#include "tidewater/streams/resource_names.h"
#include "tidewater/streams/stream_record_json.h"

namespace tidewater::server {

Status SplitShard(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string table, ReadTableName(request, "tableName", errors));
  TW_ASSIGN_OR_RETURN(auto shard_id, GetString(request, "ShardId"));
  errors.RequireNotNull("shardId", shard_id.has_value());
  errors.CheckLength("shardId", shard_id, 28, 65);
  TW_RETURN_IF_ERROR(errors.ToStatus());

  TW_ASSIGN_OR_RETURN(TableDescription description, service.engine->DescribeTable(table));
  auto shard = streams::ParseShardId(*shard_id, description.creation_time_micros);
  if (!shard.ok()) {
    return Status::NotFound("Requested resource not found: Shard: " + std::string(*shard_id) +
                            " is not a shard of table " + table);
  }
  TW_ASSIGN_OR_RETURN(ShardSplit split, service.engine->SplitShard(table, *shard));

  const auto id = [&](const ShardDescription& shard_description) {
    return streams::ShardId(description.creation_time_micros, shard_description.index);
  };
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("ParentShardId");
  WriteString(w, id(split.parent));
  w.Key("EndingSequenceNumber");
  WriteString(w, streams::SequenceNumberText(split.parent.last_sequence));
  w.Key("ChildShardIds");
  w.StartArray();
  WriteString(w, id(split.lower_child));
  WriteString(w, id(split.upper_child));
  w.EndArray();
  w.EndObject();
  return Status::Ok();
}

}  // namespace tidewater::server
