// Tidewater's administrative operations (TidewaterAdmin_20261205), JSON as DynamoDB's:
//
// SplitShard {"TableName": T, "ShardId": "shardId-..."} (the id DescribeStream shows) splits
// the open shard online (TableCatalog::SplitShard) and answers
//   {"ParentShardId": id, "EndingSequenceNumber": "...", "ChildShardIds": [lower, upper]}.
// Errors as DynamoDB's: ResourceNotFoundException (no such table or shard),
// ValidationException (a malformed request, a closed shard, a range of one hash),
// LimitExceededException (the table has as many shards as it may).
//
// EstimateCost {"TableName": T} (optional: every table when absent) answers each table's
// estimated monthly cost on DynamoDB at both table classes (table_cost.h):
//   {"Tables": [{"TableName", "TableClass" (now), "BillingMode", "TableSizeBytes",
//                "ConsumedReadUnitsPerSecond", "ConsumedWriteUnitsPerSecond",
//                "ProvisionedThroughput": {"ReadCapacityUnits", "WriteCapacityUnits"},
//                "MonthlyCost": {"STANDARD": {"Storage", "Reads", "Writes", "Total"},
//                                "STANDARD_INFREQUENT_ACCESS": {...}}}, ...]}
// in US dollars per month. ResourceNotFoundException for a table that does not exist.
#include <string>
#include <utility>
#include <vector>

#include "handler_support.h"
#include "handlers.h"
#include "table_cost.h"
#include "table_json.h"
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

namespace {

void WriteMonthlyCost(const MonthlyCost& cost, json::Writer& w) {
  w.StartObject();
  w.Key("Storage");
  w.Double(cost.storage);
  w.Key("Reads");
  w.Double(cost.reads);
  w.Key("Writes");
  w.Double(cost.writes);
  w.Key("Total");
  w.Double(cost.total());
  w.EndObject();
}

void WriteCostEstimate(const TableCostEstimate& estimate, json::Writer& w) {
  w.StartObject();
  w.Key("TableName");
  WriteString(w, estimate.table);
  w.Key("TableClass");
  WriteString(w, TableClassName(estimate.table_class));
  w.Key("BillingMode");
  WriteString(w, BillingModeName(estimate.usage.billing_mode));
  w.Key("TableSizeBytes");
  w.Uint64(estimate.usage.size_bytes);
  w.Key("ConsumedReadUnitsPerSecond");
  w.Double(estimate.usage.read_units_per_second);
  w.Key("ConsumedWriteUnitsPerSecond");
  w.Double(estimate.usage.write_units_per_second);
  w.Key("ProvisionedThroughput");
  w.StartObject();
  w.Key("ReadCapacityUnits");
  w.Int64(estimate.usage.provisioned.read_capacity_units);
  w.Key("WriteCapacityUnits");
  w.Int64(estimate.usage.provisioned.write_capacity_units);
  w.EndObject();
  w.Key("MonthlyCost");
  w.StartObject();
  for (TableClass table_class : {TableClass::kStandard, TableClass::kStandardInfrequentAccess}) {
    const std::string name(TableClassName(table_class));
    w.Key(name.c_str());
    WriteMonthlyCost(estimate.At(table_class), w);
  }
  w.EndObject();
  w.EndObject();
}

}  // namespace

Status EstimateCost(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  std::vector<TableCostEstimate> estimates;
  if (request.HasMember("TableName")) {
    ConstraintErrors errors;
    TW_ASSIGN_OR_RETURN(std::string table, ReadTableName(request, "tableName", errors));
    TW_RETURN_IF_ERROR(errors.ToStatus());
    TW_ASSIGN_OR_RETURN(TableCostEstimate estimate, service.cost->Estimate(table));
    estimates.push_back(std::move(estimate));
  } else {
    TW_ASSIGN_OR_RETURN(estimates, service.cost->EstimateAll());
  }
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Tables");
  w.StartArray();
  for (const TableCostEstimate& estimate : estimates) WriteCostEstimate(estimate, w);
  w.EndArray();
  w.EndObject();
  return Status::Ok();
}

}  // namespace tidewater::server
