// Query and Scan: one engine page (Limit items or 1 MB read, whichever first), then the
// FilterExpression, Select and ProjectionExpression, with Count / ScannedCount /
// LastEvaluatedKey as DynamoDB reports them.
#include "capacity.h"
#include "handler_support.h"
#include "handlers.h"
#include "request_expressions.h"
#include "tidewater/core/key_codec.h"

namespace tidewater::server {
namespace {

constexpr int64_t kMaxTotalSegments = 1'000'000;

enum class Select { kAllAttributes, kAllProjected, kSpecific, kCount };

// What Query and Scan share.
struct ReadInputs {
  std::string table;
  std::optional<int64_t> limit;
  std::optional<Item> exclusive_start_key;
  bool consistent = false;
  Select select = Select::kAllAttributes;
  CapacityDetail capacity = CapacityDetail::kNone;
  std::optional<ConditionExpression> filter;
  std::optional<ProjectionExpression> projection;
  std::optional<std::string> index_name;  // IndexName
};

Result<ReadInputs> ReadCommonInputs(const rapidjson::Value& request, ConstraintErrors& errors) {
  ReadInputs inputs;
  TW_ASSIGN_OR_RETURN(inputs.table, ReadTableName(request, "tableName", errors));
  TW_ASSIGN_OR_RETURN(inputs.limit, GetInteger(request, "Limit"));
  errors.CheckRange("limit", inputs.limit, 1, std::nullopt);
  TW_ASSIGN_OR_RETURN(inputs.exclusive_start_key, ReadItemMember(request, "ExclusiveStartKey"));
  TW_ASSIGN_OR_RETURN(std::optional<bool> consistent, GetBool(request, "ConsistentRead"));
  inputs.consistent = consistent.value_or(false);
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> select, GetString(request, "Select"));
  errors.CheckEnum("select", select,
                   {"SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"});
  if (select == "COUNT") inputs.select = Select::kCount;
  if (select == "SPECIFIC_ATTRIBUTES") inputs.select = Select::kSpecific;
  if (select == "ALL_PROJECTED_ATTRIBUTES") inputs.select = Select::kAllProjected;
  TW_ASSIGN_OR_RETURN(inputs.capacity, ParseCapacityDetail(request));
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> index, GetString(request, "IndexName"));
  errors.CheckTableName("indexName", index, /*required=*/false);
  if (index) inputs.index_name = std::string(*index);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  return inputs;
}

const char* SelectName(Select select) {
  switch (select) {
    case Select::kAllAttributes:
      return "ALL_ATTRIBUTES";
    case Select::kAllProjected:
      return "ALL_PROJECTED_ATTRIBUTES";
    case Select::kSpecific:
      return "SPECIFIC_ATTRIBUTES";
    case Select::kCount:
      return "COUNT";
  }
  return "ALL_ATTRIBUTES";
}

// The rules between Select and the projection parameters.
Status CheckSelect(const rapidjson::Value& request, const ReadInputs& inputs) {
  const bool has_projection = inputs.projection.has_value();
  const char* projection_member = FindMember(request, "AttributesToGet") != nullptr
                                      ? "AttributesToGet"
                                      : "ProjectionExpression";
  switch (inputs.select) {
    case Select::kAllProjected:
      if (!inputs.index_name) {
        return Status::Validation(
            "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is "
            "supported only for index queries; IndexName not specified");
      }
      if (has_projection) {
        return Status::Validation(std::string("Cannot specify the ") + projection_member +
                                  " when choosing to get ALL_PROJECTED_ATTRIBUTES");
      }
      return Status::Ok();
    case Select::kSpecific:
      if (!has_projection) {
        return Status::Validation(
            "One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES requires "
            "AttributesToGet or ProjectionExpression");
      }
      return Status::Ok();
    case Select::kCount:
    case Select::kAllAttributes:
      if (has_projection && FindMember(request, "Select") != nullptr) {
        return Status::Validation(std::string("Cannot specify the ") + projection_member +
                                  " when choosing to get " + SelectName(inputs.select));
      }
      return Status::Ok();
  }
  return Status::Ok();
}

// Which key schema a read's key conditions and start key are on (the index's or the
// table's), and how an index is read: its entries alone, or each entry's whole item when
// the request wants attributes the index does not project (Select ALL_ATTRIBUTES, or a
// projection or filter naming one), as DynamoDB fetches them for a local index (never for
// a global one).
struct ReadPlan {
  KeySchema keys;
  const SecondaryIndex* index = nullptr;
  bool global = false;  // `index` is a global secondary index
  IndexRead read;
};

Result<ReadPlan> PlanRead(const rapidjson::Value& request, const TableKeys& table,
                          const ReadInputs& inputs) {
  ReadPlan plan;
  plan.keys = table.key_schema;
  if (!inputs.index_name) return plan;
  plan.index = table.FindIndex(*inputs.index_name);
  if (plan.index == nullptr) {
    return Status::Validation("The table does not have the specified index: " + *inputs.index_name);
  }
  plan.keys = plan.index->key_schema;
  plan.read.name = *inputs.index_name;
  const auto projected = [&](const std::vector<std::string>& names) {
    for (const std::string& name : names) {
      if (!IndexProjects(*plan.index, table.key_schema, name)) return false;
    }
    return true;
  };
  const bool all_attributes =
      inputs.select == Select::kAllAttributes && FindMember(request, "Select") != nullptr;
  if (table.IsGlobal(plan.index)) {
    // A global index holds only what it projects and lags the table: it is never fetched
    // from. A projection may name only what it projects; a filter finds the rest absent.
    plan.global = true;
    if (inputs.consistent) {
      return Status::Validation("Consistent reads are not supported on global secondary indexes");
    }
    if (all_attributes && plan.index->projection.type != ProjectionType::kAll) {
      return Status::Validation(
          "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
          "supported for global secondary index " +
          plan.index->name + " because its projection type is not ALL");
    }
    if (inputs.projection) {
      std::vector<std::string> missing;
      for (const std::string& name : inputs.projection->TopLevelAttributes()) {
        if (!IndexProjects(*plan.index, table.key_schema, name)) missing.push_back(name);
      }
      if (!missing.empty()) {
        std::string list;
        for (const std::string& name : missing) list += (list.empty() ? "" : ", ") + name;
        return Status::Validation(
            "One or more parameter values were invalid: Global secondary index " +
            plan.index->name + " does not project [" + list + "]");
      }
    }
    return plan;
  }
  plan.read.fetch_items =
      (all_attributes && plan.index->projection.type != ProjectionType::kAll) ||
      (inputs.projection && !projected(inputs.projection->TopLevelAttributes())) ||
      (inputs.filter && !projected(inputs.filter->TopLevelAttributes()));
  return plan;
}

// A Query filter may not read key attributes (the key condition is for those).
Status CheckFilterSkipsKeys(const rapidjson::Value& request, const ConditionExpression& filter,
                            const KeySchema& schema) {
  for (const std::string& attribute : filter.TopLevelAttributes()) {
    if (attribute == schema.partition_key.name ||
        (schema.sort_key && attribute == schema.sort_key->name)) {
      const char* parameter =
          FindMember(request, "FilterExpression") != nullptr ? "Filter Expression" : "QueryFilter";
      return Status::Validation(std::string(parameter) +
                                " can only contain non-primary key attributes: Primary key "
                                "attribute: " +
                                attribute);
    }
  }
  return Status::Ok();
}

// ExclusiveStartKey must be a key of the table (exactly its key attributes).
Status CheckStartKeySchema(ServiceContext& service, const std::string& table, const Item& key) {
  Status valid = service.engine->ValidateKey(table, key);
  if (valid.code() == ErrorCode::kValidation) {
    return Status::Validation("The provided starting key is invalid: " + valid.message());
  }
  return valid;
}

// A Query's ExclusiveStartKey must lie in the queried partition. An index's start key
// (table and index keys) is checked by the engine.
Status CheckStartKeyInPartition(ServiceContext& service, const std::string& table,
                                const ReadPlan& plan, const Item& key,
                                const AttributeValue& partition_key) {
  if (plan.index == nullptr) TW_RETURN_IF_ERROR(CheckStartKeySchema(service, table, key));
  auto start_partition = key.find(plan.keys.partition_key.name);
  if (start_partition != key.end() && !(start_partition->second == partition_key)) {
    return Status::Validation(
        "The provided starting key is outside query boundaries based on provided conditions");
  }
  return Status::Ok();
}

// A parallel Scan's ExclusiveStartKey must lie in the scanned segment.
Status CheckStartKeyInSegment(ServiceContext& service, const std::string& table,
                              const ReadPlan& plan, const Item& key, uint32_t segment,
                              uint32_t total_segments) {
  if (plan.index == nullptr) TW_RETURN_IF_ERROR(CheckStartKeySchema(service, table, key));
  auto start_partition = key.find(plan.keys.partition_key.name);
  if (start_partition == key.end()) return Status::Ok();  // the engine names what is missing
  const uint64_t hash = keycodec::PartitionHash(start_partition->second);
  if (keycodec::ShardOf(hash, total_segments) != segment) {
    return Status::Validation(
        "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
        "ExclusiveStartKey with correct Segment. TotalSegments: " +
        std::to_string(total_segments) + " Segment: " + std::to_string(segment));
  }
  return Status::Ok();
}

// Admits a Query or Scan: against a global index's own read capacity when it reads one,
// else the table's (and the shard `partition` routes to, when given).
Result<CapacityTicket> AdmitRead(ServiceContext& service, const ReadInputs& inputs,
                                 const ReadPlan& plan, std::string_view operation,
                                 const Item* partition, RequestScope& scope) {
  if (plan.global) {
    return service.throughput->AdmitIndexRead(inputs.table, *inputs.index_name, operation,
                                              scope.error_details);
  }
  return service.throughput->Admit(inputs.table, CapacityKind::kRead, operation, partition,
                                   scope.error_details);
}

// Charges the units of one engine page and writes the answer for it.
void WritePage(ServiceContext& service, const CapacityTicket& ticket, const ItemPage& page,
               const ReadInputs& inputs, const ReadPlan& plan, json::Writer& w) {
  // An index read costs its entries' size on the index and its fetches' on the table, each
  // rounded up to whole units; a local index's units are the table's capacity.
  CapacityTally capacity(inputs.capacity);
  double units = 0;
  if (inputs.index_name) {
    const double index_units =
        ReadUnits(page.scanned_bytes - page.fetched_bytes, inputs.consistent);
    const double fetch_units =
        page.fetched_bytes > 0 ? ReadUnits(page.fetched_bytes, inputs.consistent) : 0;
    units = index_units + fetch_units;
    if (capacity.wanted()) {
      capacity.AddIndexRead(inputs.table, *inputs.index_name, plan.global, index_units);
      capacity.AddRead(inputs.table, fetch_units);
    }
  } else {
    units = ReadUnits(page.scanned_bytes, inputs.consistent);
    if (capacity.wanted()) capacity.AddRead(inputs.table, units);
  }
  service.throughput->Charge(ticket, CapacityKind::kRead, units);
  w.StartObject();
  size_t count = 0;
  if (inputs.select != Select::kCount) {
    w.Key("Items");
    w.StartArray();
  }
  for (const Item& item : page.items) {
    if (inputs.filter && !inputs.filter->Matches(&item)) continue;
    ++count;
    if (inputs.select != Select::kCount) WriteProjectedItem(item, inputs.projection, w);
  }
  if (inputs.select != Select::kCount) w.EndArray();
  w.Key("Count");
  w.Uint64(count);
  w.Key("ScannedCount");
  w.Uint64(page.items.size());
  if (page.last_evaluated_key) {
    w.Key("LastEvaluatedKey");
    json::WriteItem(*page.last_evaluated_key, w);
  }
  capacity.WriteSingle(w);
  w.EndObject();
}

}  // namespace

Status Query(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(ReadInputs inputs, ReadCommonInputs(request, errors));
  TW_ASSIGN_OR_RETURN(std::optional<bool> forward, GetBool(request, "ScanIndexForward"));
  TW_ASSIGN_OR_RETURN(std::shared_ptr<const TableKeys> table,
                      service.schemas->GetKeys(inputs.table));
  TW_ASSIGN_OR_RETURN(RequestExpressions expressions,
                      RequestExpressions::Read(request, service.expressions));
  TW_ASSIGN_OR_RETURN(inputs.filter,
                      expressions.Filter(request, LegacyConditionSource::kQueryFilter));
  TW_ASSIGN_OR_RETURN(inputs.projection, expressions.Projection(request));
  TW_ASSIGN_OR_RETURN(ReadPlan plan, PlanRead(request, *table, inputs));
  const KeySchema& schema = plan.keys;
  TW_ASSIGN_OR_RETURN(KeyCondition key_condition, expressions.KeyConditions(request, schema));
  TW_RETURN_IF_ERROR(expressions.Finish());
  TW_RETURN_IF_ERROR(CheckSelect(request, inputs));
  if (inputs.filter) TW_RETURN_IF_ERROR(CheckFilterSkipsKeys(request, *inputs.filter, schema));
  if (inputs.exclusive_start_key) {
    TW_RETURN_IF_ERROR(CheckStartKeyInPartition(
        service, inputs.table, plan, *inputs.exclusive_start_key, key_condition.partition_key));
  }

  QueryRequest query;
  query.table = inputs.table;
  query.index = plan.read;
  query.partition_key = std::move(key_condition.partition_key);
  query.sort_key = std::move(key_condition.sort_key);
  query.forward = forward.value_or(true);
  query.limit = static_cast<size_t>(inputs.limit.value_or(0));
  query.exclusive_start_key = inputs.exclusive_start_key;
  query.consistency = ConsistencyOf(inputs.consistent);
  // A Query reads one partition: the shard its partition key routes to. A global index has
  // capacity of its own, and partitions that are not the table's.
  const Item partition{{table->key_schema.partition_key.name, query.partition_key}};
  TW_ASSIGN_OR_RETURN(CapacityTicket ticket,
                      AdmitRead(service, inputs, plan, "Query", &partition, scope));
  TW_ASSIGN_OR_RETURN(ItemPage page, service.engine->Query(query));
  WritePage(service, ticket, page, inputs, plan, scope.writer);
  return Status::Ok();
}

Status Scan(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::optional<int64_t> segment, GetInteger(request, "Segment"));
  TW_ASSIGN_OR_RETURN(std::optional<int64_t> total_segments, GetInteger(request, "TotalSegments"));
  errors.CheckRange("segment", segment, 0, kMaxTotalSegments - 1);
  errors.CheckRange("totalSegments", total_segments, 1, kMaxTotalSegments);
  TW_ASSIGN_OR_RETURN(ReadInputs inputs, ReadCommonInputs(request, errors));
  if (segment && !total_segments) {
    return Status::Validation(
        "The TotalSegments parameter is required but was not present in the request when "
        "Segment parameter is present");
  }
  if (total_segments && !segment) {
    return Status::Validation(
        "The Segment parameter is required but was not present in the request when parameter "
        "TotalSegments is present");
  }
  TW_ASSIGN_OR_RETURN(RequestExpressions expressions,
                      RequestExpressions::Read(request, service.expressions));
  TW_ASSIGN_OR_RETURN(inputs.filter,
                      expressions.Filter(request, LegacyConditionSource::kScanFilter));
  TW_ASSIGN_OR_RETURN(inputs.projection, expressions.Projection(request));
  TW_RETURN_IF_ERROR(expressions.Finish());
  TW_RETURN_IF_ERROR(CheckSelect(request, inputs));
  TW_ASSIGN_OR_RETURN(std::shared_ptr<const TableKeys> table,
                      service.schemas->GetKeys(inputs.table));
  TW_ASSIGN_OR_RETURN(ReadPlan plan, PlanRead(request, *table, inputs));

  ScanRequest scan;
  scan.table = inputs.table;
  scan.index = plan.read;
  scan.segment = static_cast<uint32_t>(segment.value_or(0));
  scan.total_segments = static_cast<uint32_t>(total_segments.value_or(1));
  scan.limit = static_cast<size_t>(inputs.limit.value_or(0));
  scan.exclusive_start_key = inputs.exclusive_start_key;
  scan.consistency = ConsistencyOf(inputs.consistent);
  if (scan.exclusive_start_key && scan.segment < scan.total_segments) {
    TW_RETURN_IF_ERROR(CheckStartKeyInSegment(
        service, inputs.table, plan, *scan.exclusive_start_key, scan.segment, scan.total_segments));
  }
  // A Scan page reads across shards: no shard's limit applies.
  TW_ASSIGN_OR_RETURN(CapacityTicket ticket,
                      AdmitRead(service, inputs, plan, "Scan", nullptr, scope));
  TW_ASSIGN_OR_RETURN(ItemPage page, service.engine->Scan(scan));
  WritePage(service, ticket, page, inputs, plan, scope.writer);
  return Status::Ok();
}

}  // namespace tidewater::server
