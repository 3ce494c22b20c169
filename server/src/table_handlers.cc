// CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable, UpdateTimeToLive,
// DescribeTimeToLive; TagResource, UntagResource, ListTagsOfResource; DescribeLimits,
// DescribeEndpoints.
#include <functional>

#include "billing_changes.h"
#include "handler_support.h"
#include "handlers.h"
#include "table_definition_input.h"
#include "table_encryption.h"
#include "table_json.h"
#include "table_tags.h"

namespace tidewater::server {
namespace {

constexpr int64_t kMaxListTablesLimit = 100;
// ListTagsOfResource answers at most this many tags, with a NextToken when more follow
// (DynamoDB does not document its page size).
constexpr size_t kTagsPerPage = 10;
// DescribeLimits: DynamoDB's default quotas (provisioned capacity units per table and per
// account in a region).
constexpr int64_t kTableMaxCapacityUnits = 40'000;
constexpr int64_t kAccountMaxCapacityUnits = 80'000;
// DescribeEndpoints: how long clients may cache the endpoint (DynamoDB's value).
constexpr int64_t kEndpointCacheMinutes = 1440;

// StreamSpecification: nullopt when absent.
Result<std::optional<StreamSpecification>> ReadStreamSpecification(const rapidjson::Value& request,
                                                                   ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* spec, GetObject(request, "StreamSpecification"));
  if (spec == nullptr) return std::optional<StreamSpecification>();
  TW_ASSIGN_OR_RETURN(std::optional<bool> enabled, GetBool(*spec, "StreamEnabled"));
  TW_ASSIGN_OR_RETURN(auto view, GetString(*spec, "StreamViewType"));
  errors.RequireNotNull("streamSpecification.streamEnabled", enabled.has_value());
  errors.CheckEnum("streamSpecification.streamViewType", view,
                   {"NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"});
  if (!errors.empty()) return errors.ToStatus();
  StreamSpecification result;
  result.enabled = *enabled;
  if (result.enabled) {
    if (!view) {
      return Status::Validation(
          "One or more parameter values were invalid: StreamViewType is required when "
          "StreamEnabled is true");
    }
    ParseStreamViewType(*view, &result.view_type);
  } else if (view) {
    return Status::Validation(
        "One or more parameter values were invalid: StreamViewType cannot be specified when "
        "StreamEnabled is false");
  }
  return std::optional<StreamSpecification>(result);
}

// Refuses the members Tidewater does not implement for this operation.
Status RejectUnsupported(const rapidjson::Value& request,
                         std::initializer_list<const char*> members) {
  for (const char* member : members) {
    if (FindMember(request, member) != nullptr) {
      return Status::Validation(std::string("One or more parameter values were invalid: ") +
                                member + " are not supported by Tidewater");
    }
  }
  return Status::Ok();
}

// GlobalSecondaryIndexUpdates of an UpdateTable on `table` (empty when absent): each
// member exactly one Create, Delete or Update action; one Create or Delete at most, as
// DynamoDB builds one index at a time. A Create's key attributes are defined in the
// request's AttributeDefinitions.
Result<std::vector<GlobalIndexUpdate>> ReadGlobalIndexUpdates(const rapidjson::Value& request,
                                                              const TableDescription& table,
                                                              BillingMode billing_mode,
                                                              ConstraintErrors& errors) {
  std::vector<GlobalIndexUpdate> updates;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* given,
                      GetArray(request, "GlobalSecondaryIndexUpdates"));
  if (given == nullptr) return updates;
  int position = 0;
  size_t builds = 0;  // Create and Delete actions
  for (const rapidjson::Value& member : given->GetArray()) {
    ++position;
    const std::string path = "globalSecondaryIndexUpdates." + std::to_string(position) + ".member.";
    TW_RETURN_IF_ERROR(ExpectObject(member));
    TW_ASSIGN_OR_RETURN(const rapidjson::Value* create, GetObject(member, "Create"));
    TW_ASSIGN_OR_RETURN(const rapidjson::Value* remove, GetObject(member, "Delete"));
    TW_ASSIGN_OR_RETURN(const rapidjson::Value* update, GetObject(member, "Update"));
    if ((create != nullptr) + (remove != nullptr) + (update != nullptr) != 1) {
      return Status::Validation(
          "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Create, "
          "GlobalSecondaryIndexUpdate.Update, or GlobalSecondaryIndexUpdate.Delete must be "
          "specified");
    }
    GlobalIndexUpdate action;
    if (create != nullptr) {
      ++builds;
      TW_ASSIGN_OR_RETURN(KeyInput definitions,
                          ReadAttributeDefinitions(request, /*path=*/"", errors));
      TW_ASSIGN_OR_RETURN(action.index, ReadIndex(*create, path + "create.", definitions, errors));
      TW_RETURN_IF_ERROR(
          ReadIndexThroughput(*create, path + "create.", billing_mode, errors, action.index));
      action.kind = GlobalIndexUpdate::Kind::kCreate;
    } else {
      const rapidjson::Value& named = remove != nullptr ? *remove : *update;
      const std::string named_path = path + (remove != nullptr ? "delete." : "update.");
      TW_ASSIGN_OR_RETURN(auto name, GetString(named, "IndexName"));
      errors.CheckTableName(named_path + "indexName", name);
      TW_RETURN_IF_ERROR(errors.ToStatus());
      action.index.name = std::string(*name);
      if (remove != nullptr) {
        ++builds;
        action.kind = GlobalIndexUpdate::Kind::kDelete;
      } else {
        action.kind = GlobalIndexUpdate::Kind::kUpdateThroughput;
        TW_ASSIGN_OR_RETURN(const rapidjson::Value* throughput,
                            GetObject(*update, "ProvisionedThroughput"));
        errors.RequireNotNull(named_path + "provisionedThroughput", throughput != nullptr);
        TW_RETURN_IF_ERROR(errors.ToStatus());
        TW_RETURN_IF_ERROR(
            ReadIndexThroughput(*update, named_path, billing_mode, errors, action.index));
        const ProvisionedThroughput requested{
            static_cast<int64_t>(action.index.read_capacity_units),
            static_cast<int64_t>(action.index.write_capacity_units)};
        action.change_throughput = [requested](const SecondaryIndex&, int64_t now_micros,
                                               SecondaryIndex& index) {
          return ChangeIndexThroughput(requested, now_micros, index);
        };
      }
    }
    updates.push_back(std::move(action));
  }
  if (builds > 1) {
    return Status(ErrorCode::kLimitExceeded,
                  "Subscriber limit exceeded: Only 1 online index can be created or deleted "
                  "simultaneously per table");
  }
  for (const GlobalIndexUpdate& action : updates) {
    if (action.kind != GlobalIndexUpdate::Kind::kCreate) continue;
    std::vector<SecondaryIndex> local, global;
    for (const IndexDescription& index : table.local_indexes) local.push_back(index.definition);
    for (const IndexDescription& index : table.global_indexes) global.push_back(index.definition);
    global.push_back(action.index);
    TW_RETURN_IF_ERROR(CheckProjectedAttributes(local, global));
  }
  return updates;
}

// TableClass, when the request names one (an unknown name is a constraint error).
Result<std::optional<TableClass>> ReadTableClass(const rapidjson::Value& request,
                                                 ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(auto text, GetString(request, "TableClass"));
  if (!text) return std::optional<TableClass>();
  errors.CheckEnum("tableClass", text, {"STANDARD_INFREQUENT_ACCESS", "STANDARD"});
  return std::optional<TableClass>(*text == "STANDARD_INFREQUENT_ACCESS"
                                       ? TableClass::kStandardInfrequentAccess
                                       : TableClass::kStandard);
}

int64_t EngineNow(const ServiceContext& service) {
  return service.engine->options().clock->NowMicros();
}

Status WriteTable(const char* member, const TableDescription& table, const ServiceContext& service,
                  json::Writer& writer) {
  writer.StartObject();
  writer.Key(member);
  WriteTableDescription(table, service.region, "ACTIVE", EngineNow(service), writer);
  writer.EndObject();
  return Status::Ok();
}

}  // namespace

Status CreateTable(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(TableDefinitionMembers members,
                      ReadTableDefinitionMembers(request, /*path=*/"", errors));
  TW_ASSIGN_OR_RETURN(std::optional<StreamSpecification> stream,
                      ReadStreamSpecification(request, errors));
  TW_ASSIGN_OR_RETURN(std::optional<bool> protection,
                      GetBool(request, "DeletionProtectionEnabled"));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* tags, GetArray(request, "Tags"));
  TW_ASSIGN_OR_RETURN(std::optional<TableClass> table_class, ReadTableClass(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_RETURN_IF_ERROR(RejectUnsupported(request, {"GlobalSecondaryIndexUpdates", "ReplicaUpdates"}));
  TW_ASSIGN_OR_RETURN(std::optional<std::string> sse_key,
                      ReadSseSpecification(request, service.master_keys));

  TW_ASSIGN_OR_RETURN(CreateTableRequest create,
                      ResolveTableDefinition(request, members, /*path=*/"",
                                             /*with_local_indexes=*/true, errors));
  if (table_class) {
    create.settings.table_class = *table_class;
    create.settings.table_class_set_micros = EngineNow(service);
  }
  if (tags != nullptr) {
    TW_ASSIGN_OR_RETURN(create.settings.tags, ReadTagList(*tags));
  }
  create.settings.deletion_protection = protection.value_or(false);
  if (sse_key) create.settings.sse_kms_master_key_id = *sse_key;
  if (stream) create.stream = *stream;
  service.schemas->Forget(create.name);
  service.throughput->Forget(create.name);
  TW_ASSIGN_OR_RETURN(TableDescription table, service.engine->CreateTable(create));
  return WriteTable("TableDescription", table, service, scope.writer);
}

Status DescribeTable(ServiceContext& service, const rapidjson::Value& request,
                     RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string name, ReadTableName(request, "tableName", errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(TableDescription table, service.engine->DescribeTable(name));
  return WriteTable("Table", table, service, scope.writer);
}

Status ListTables(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto start, GetString(request, "ExclusiveStartTableName"));
  TW_ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  errors.CheckTableName("exclusiveStartTableName", start, /*required=*/false);
  errors.CheckRange("limit", limit, 1, kMaxListTablesLimit);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  std::optional<std::string> exclusive_start;
  if (start) exclusive_start = std::string(*start);
  TW_ASSIGN_OR_RETURN(
      ListTablesPage page,
      service.engine->ListTables(exclusive_start,
                                 static_cast<size_t>(limit.value_or(kMaxListTablesLimit))));
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("TableNames");
  w.StartArray();
  for (const std::string& name : page.names) WriteString(w, name);
  w.EndArray();
  if (page.last_evaluated_table_name) {
    w.Key("LastEvaluatedTableName");
    WriteString(w, *page.last_evaluated_table_name);
  }
  w.EndObject();
  return Status::Ok();
}

Status DeleteTable(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string name, ReadTableName(request, "tableName", errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(TableDescription table, service.engine->DeleteTable(name));
  service.schemas->Forget(name);
  service.throughput->Forget(name);
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("TableDescription");
  WriteDeletedTableDescription(table, service.region, EngineNow(service), w);
  w.EndObject();
  return Status::Ok();
}

Status UpdateTable(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string name, ReadTableName(request, "tableName", errors));
  TW_ASSIGN_OR_RETURN(BillingChange billing, ReadBilling(request, /*path=*/"", errors));
  TW_ASSIGN_OR_RETURN(std::optional<StreamSpecification> stream,
                      ReadStreamSpecification(request, errors));
  TW_ASSIGN_OR_RETURN(std::optional<bool> protection,
                      GetBool(request, "DeletionProtectionEnabled"));
  TW_ASSIGN_OR_RETURN(std::optional<TableClass> table_class, ReadTableClass(request, errors));
  TW_RETURN_IF_ERROR(
      CheckSseSpecification(request, "SSESpecification", "sSESpecification", errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_RETURN_IF_ERROR(RejectUnsupported(request, {"ReplicaUpdates"}));
  TW_ASSIGN_OR_RETURN(std::optional<std::string> sse_key,
                      ReadSseSpecification(request, service.master_keys));
  TW_ASSIGN_OR_RETURN(TableDescription table, service.engine->DescribeTable(name));
  TW_ASSIGN_OR_RETURN(
      std::vector<GlobalIndexUpdate> index_updates,
      ReadGlobalIndexUpdates(request, table, billing.mode.value_or(table.settings.billing_mode),
                             errors));
  const bool settings_change = billing.mode || billing.throughput || billing.on_demand_given() ||
                               protection || table_class || sse_key;
  if (!stream && !settings_change && index_updates.empty()) {
    return Status::Validation(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  }
  // The stream's own refusals come first, so that a refused request changes nothing.
  if (stream && stream->enabled == table.stream.enabled) {
    return Status::Validation(stream->enabled
                                  ? "Table already has an enabled stream: TableName: " + name
                                  : "Table already has no stream: TableName: " + name);
  }
  if (settings_change) {
    TW_ASSIGN_OR_RETURN(
        table, service.engine->UpdateTableSettings(
                   name, [&](const TableDescription&, int64_t now_micros, TableSettings& settings) {
                     TW_RETURN_IF_ERROR(ApplyBillingChange(billing, now_micros, settings));
                     if (protection) settings.deletion_protection = *protection;
                     if (table_class) {
                       settings.table_class = *table_class;
                       settings.table_class_set_micros = now_micros;
                     }
                     if (sse_key) settings.sse_kms_master_key_id = *sse_key;
                     return Status::Ok();
                   }));
    service.throughput->Configure(table);
  }
  if (stream) {
    TW_ASSIGN_OR_RETURN(table, service.engine->UpdateStream(name, *stream));
  }
  for (const GlobalIndexUpdate& update : index_updates) {
    Result<TableDescription> updated = service.engine->UpdateGlobalIndexes(name, update);
    service.schemas->Forget(name);  // Query and Scan plan with the indexes as they are now
    if (!updated.ok()) return updated.status();
    table = std::move(*updated);
    service.throughput->Configure(table);  // the index's own capacity
  }
  return WriteTable("TableDescription", table, service, scope.writer);
}

Status UpdateTimeToLive(ServiceContext& service, const rapidjson::Value& request,
                        RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string name, ReadTableName(request, "tableName", errors));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* spec, GetObject(request, "TimeToLiveSpecification"));
  errors.RequireNotNull("timeToLiveSpecification", spec != nullptr);
  std::optional<bool> enabled;
  std::optional<std::string_view> attribute;
  if (spec != nullptr) {
    TW_ASSIGN_OR_RETURN(enabled, GetBool(*spec, "Enabled"));
    TW_ASSIGN_OR_RETURN(attribute, GetString(*spec, "AttributeName"));
    errors.RequireNotNull("timeToLiveSpecification.enabled", enabled.has_value());
    errors.RequireNotNull("timeToLiveSpecification.attributeName", attribute.has_value());
    errors.CheckLength("timeToLiveSpecification.attributeName", attribute, 1, 255);
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());
  if (*enabled) {
    TW_RETURN_IF_ERROR(service.engine->UpdateTimeToLive(name, std::string(*attribute)));
  } else {
    TW_ASSIGN_OR_RETURN(TableDescription table, service.engine->DescribeTable(name));
    if (table.ttl_attribute && *table.ttl_attribute != *attribute) {
      return Status::Validation(
          "TimeToLive is active on a different AttributeName: current "
          "AttributeName is " +
          *table.ttl_attribute);
    }
    TW_RETURN_IF_ERROR(service.engine->UpdateTimeToLive(name, std::nullopt));
  }
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("TimeToLiveSpecification");
  w.StartObject();
  w.Key("Enabled");
  w.Bool(*enabled);
  w.Key("AttributeName");
  WriteString(w, *attribute);
  w.EndObject();
  w.EndObject();
  return Status::Ok();
}

Status DescribeTimeToLive(ServiceContext& service, const rapidjson::Value& request,
                          RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string name, ReadTableName(request, "tableName", errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(TableDescription table, service.engine->DescribeTable(name));
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("TimeToLiveDescription");
  WriteTimeToLiveDescription(table, w);
  w.EndObject();
  return Status::Ok();
}

namespace {

// The ResourceArn member of a tagging request (its shape checks collected in `errors`).
Status ReadResourceArn(const rapidjson::Value& request, ConstraintErrors& errors,
                       std::optional<std::string_view>* arn) {
  TW_ASSIGN_OR_RETURN(*arn, GetString(request, "ResourceArn"));
  errors.RequireNotNull("resourceArn", arn->has_value());
  errors.CheckLength("resourceArn", *arn, 1, 1283);
  return Status::Ok();
}

// The table `arn` names, which must exist.
Result<std::string> ExistingTableOfArn(ServiceContext& service, std::string_view arn) {
  TW_ASSIGN_OR_RETURN(std::string table, TableOfArn(arn, service.region));
  Result<TableDescription> described = service.engine->DescribeTable(table);
  if (!described.ok()) {
    if (described.status().code() == ErrorCode::kResourceNotFound) return UnknownResource(arn);
    return described.status();
  }
  return table;
}

// Runs a tag change under the catalog's lock; an ARN whose table went meanwhile is unknown.
Status UpdateTags(ServiceContext& service, std::string_view arn, const std::string& table,
                  const std::function<Status(TagMap&)>& change) {
  Result<TableDescription> updated = service.engine->UpdateTableSettings(
      table, [&](const TableDescription&, int64_t, TableSettings& settings) {
        TagMap tags = settings.tags;
        TW_RETURN_IF_ERROR(change(tags));
        TW_RETURN_IF_ERROR(CheckTagCount(tags.size()));
        settings.tags = std::move(tags);
        return Status::Ok();
      });
  if (!updated.ok() && updated.status().code() == ErrorCode::kResourceNotFound) {
    return UnknownResource(arn);
  }
  return updated.status();
}

}  // namespace

Status TagResource(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  std::optional<std::string_view> arn;
  TW_RETURN_IF_ERROR(ReadResourceArn(request, errors, &arn));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* tags, GetArray(request, "Tags"));
  errors.RequireNotNull("tags", tags != nullptr);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_RETURN_IF_ERROR(TableOfArn(*arn, service.region).status());
  if (tags->Empty()) return Status::Validation("Atleast one Tag needs to be provided as Input.");
  TW_ASSIGN_OR_RETURN(TagMap added, ReadTagList(*tags));
  TW_ASSIGN_OR_RETURN(std::string table, ExistingTableOfArn(service, *arn));
  TW_RETURN_IF_ERROR(UpdateTags(service, *arn, table, [&](TagMap& current) {
    for (const auto& [key, value] : added) current[key] = value;
    return Status::Ok();
  }));
  scope.writer.StartObject();
  scope.writer.EndObject();
  return Status::Ok();
}

Status UntagResource(ServiceContext& service, const rapidjson::Value& request,
                     RequestScope& scope) {
  ConstraintErrors errors;
  std::optional<std::string_view> arn;
  TW_RETURN_IF_ERROR(ReadResourceArn(request, errors, &arn));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* keys, GetArray(request, "TagKeys"));
  errors.RequireNotNull("tagKeys", keys != nullptr);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_RETURN_IF_ERROR(TableOfArn(*arn, service.region).status());
  if (keys->Empty())
    return Status::Validation("Atleast one Tag Key needs to be provided as Input.");
  TW_RETURN_IF_ERROR(CheckTagCount(keys->Size()));
  std::vector<std::string> removed;
  for (const rapidjson::Value& key : keys->GetArray()) {
    TW_RETURN_IF_ERROR(ExpectString(key));
    std::string_view text(key.GetString(), key.GetStringLength());
    TW_RETURN_IF_ERROR(CheckTagKey(text));
    removed.emplace_back(text);
  }
  TW_ASSIGN_OR_RETURN(std::string table, ExistingTableOfArn(service, *arn));
  TW_RETURN_IF_ERROR(UpdateTags(service, *arn, table, [&](TagMap& current) {
    for (const std::string& key : removed) current.erase(key);
    return Status::Ok();
  }));
  scope.writer.StartObject();
  scope.writer.EndObject();
  return Status::Ok();
}

Status ListTagsOfResource(ServiceContext& service, const rapidjson::Value& request,
                          RequestScope& scope) {
  ConstraintErrors errors;
  std::optional<std::string_view> arn;
  TW_RETURN_IF_ERROR(ReadResourceArn(request, errors, &arn));
  TW_ASSIGN_OR_RETURN(auto next_token, GetString(request, "NextToken"));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(std::string table, TableOfArn(*arn, service.region));
  Result<TableDescription> described = service.engine->DescribeTable(table);
  if (!described.ok()) {
    if (described.status().code() == ErrorCode::kResourceNotFound) return UnknownResource(*arn);
    return described.status();
  }
  const TagMap& tags = described->settings.tags;
  // NextToken is the last key of the previous page: the next page starts after it.
  auto it = next_token ? tags.upper_bound(std::string(*next_token)) : tags.begin();
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Tags");
  w.StartArray();
  size_t written = 0;
  std::string_view last_key;
  for (; it != tags.end() && written < kTagsPerPage; ++it, ++written) {
    w.StartObject();
    w.Key("Key");
    WriteString(w, it->first);
    w.Key("Value");
    WriteString(w, it->second);
    w.EndObject();
    last_key = it->first;
  }
  w.EndArray();
  if (it != tags.end()) {
    w.Key("NextToken");
    WriteString(w, last_key);
  }
  w.EndObject();
  return Status::Ok();
}

Status DescribeLimits(ServiceContext&, const rapidjson::Value&, RequestScope& scope) {
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("AccountMaxReadCapacityUnits");
  w.Int64(kAccountMaxCapacityUnits);
  w.Key("AccountMaxWriteCapacityUnits");
  w.Int64(kAccountMaxCapacityUnits);
  w.Key("TableMaxReadCapacityUnits");
  w.Int64(kTableMaxCapacityUnits);
  w.Key("TableMaxWriteCapacityUnits");
  w.Int64(kTableMaxCapacityUnits);
  w.EndObject();
  return Status::Ok();
}

Status DescribeEndpoints(ServiceContext&, const rapidjson::Value&, RequestScope& scope) {
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Endpoints");
  w.StartArray();
  w.StartObject();
  w.Key("Address");
  WriteString(w, scope.host);
  w.Key("CachePeriodInMinutes");
  w.Int64(kEndpointCacheMinutes);
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return Status::Ok();
}

}  // namespace tidewater::server
