// CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable, UpdateTimeToLive,
// DescribeTimeToLive; TagResource, UntagResource, ListTagsOfResource; DescribeLimits,
// DescribeEndpoints.
#include <algorithm>
#include <functional>

#include "billing_changes.h"
#include "handler_support.h"
#include "handlers.h"
#include "index_input.h"
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

bool ParseKeyType(std::string_view text, AttributeType* type) {
  if (text == "S")
    *type = AttributeType::kS;
  else if (text == "N")
    *type = AttributeType::kN;
  else if (text == "B")
    *type = AttributeType::kB;
  else
    return false;
  return true;
}

// KeySchema and AttributeDefinitions as sent, after the shape checks.
struct KeyInput {
  std::vector<KeyElement> elements;
  std::vector<KeyAttribute> definitions;
};

// AttributeDefinitions (required) as sent, after the shape checks; no key schema.
Result<KeyInput> ReadDefinitions(const rapidjson::Value& request, ConstraintErrors& errors) {
  KeyInput input;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* definitions,
                      GetArray(request, "AttributeDefinitions"));
  errors.RequireNotNull("attributeDefinitions", definitions != nullptr);
  if (definitions != nullptr) {
    int index = 0;
    for (const auto& definition : definitions->GetArray()) {
      ++index;
      TW_RETURN_IF_ERROR(ExpectObject(definition));
      TW_ASSIGN_OR_RETURN(auto name, GetString(definition, "AttributeName"));
      TW_ASSIGN_OR_RETURN(auto type, GetString(definition, "AttributeType"));
      std::string path = "attributeDefinitions." + std::to_string(index) + ".member.";
      errors.RequireNotNull(path + "attributeName", name.has_value());
      errors.CheckLength(path + "attributeName", name, 1, 255);
      errors.RequireNotNull(path + "attributeType", type.has_value());
      errors.CheckEnum(path + "attributeType", type, {"B", "N", "S"});
      KeyAttribute attribute;
      if (name) attribute.name = std::string(*name);
      if (type) ParseKeyType(*type, &attribute.type);
      input.definitions.push_back(std::move(attribute));
    }
  }
  return input;
}

Result<KeyInput> ReadKeyInput(const rapidjson::Value& request, ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(KeyInput input, ReadDefinitions(request, errors));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* schema, GetArray(request, "KeySchema"));
  errors.RequireNotNull("keySchema", schema != nullptr);
  if (schema != nullptr) {
    int index = 0;
    for (const auto& element : schema->GetArray()) {
      ++index;
      TW_RETURN_IF_ERROR(ExpectObject(element));
      TW_ASSIGN_OR_RETURN(auto name, GetString(element, "AttributeName"));
      TW_ASSIGN_OR_RETURN(auto key_type, GetString(element, "KeyType"));
      std::string path = "keySchema." + std::to_string(index) + ".member.";
      errors.RequireNotNull(path + "attributeName", name.has_value());
      errors.CheckLength(path + "attributeName", name, 1, 255);
      errors.RequireNotNull(path + "keyType", key_type.has_value());
      errors.CheckEnum(path + "keyType", key_type, {"HASH", "RANGE"});
      input.elements.push_back(
          {name ? std::string(*name) : "", key_type ? std::string(*key_type) : ""});
    }
    if (schema->Empty() || schema->Size() > 2) {
      errors.Add("keySchema", "[" + std::to_string(schema->Size()) + " elements]",
                 schema->Empty() ? "Member must have length greater than or equal to 1"
                                 : "Member must have length less than or equal to 2");
    }
  }
  return input;
}

std::string NameList(const std::vector<std::string>& names) {
  std::string text = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += ", ";
    text += names[i];
  }
  return text + "]";
}

Result<KeySchema> ResolveKeySchema(const KeyInput& input) {
  const KeyElement& hash = input.elements[0];
  if (hash.key_type != "HASH") {
    return Status::Validation(
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  }
  if (input.elements.size() == 2) {
    if (input.elements[1].key_type != "RANGE") {
      return Status::Validation(
          "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
    }
    if (input.elements[1].name == hash.name) {
      return Status::Validation(
          "Both the Hash Key and the Range Key element in the KeySchema have the same name");
    }
  }
  std::vector<std::string> key_names, defined_names;
  for (const KeyElement& e : input.elements) key_names.push_back(e.name);
  for (const KeyAttribute& d : input.definitions) defined_names.push_back(d.name);
  KeySchema schema;
  for (size_t i = 0; i < input.elements.size(); ++i) {
    const KeyAttribute* definition = nullptr;
    for (const KeyAttribute& d : input.definitions) {
      if (d.name == input.elements[i].name) definition = &d;
    }
    if (definition == nullptr) {
      return Status::Validation(
          "One or more parameter values were invalid: Some index key attributes are not defined "
          "in AttributeDefinitions. Keys: " +
          NameList(key_names) + ", AttributeDefinitions: " + NameList(defined_names));
    }
    if (i == 0) {
      schema.partition_key = *definition;
    } else {
      schema.sort_key = *definition;
    }
  }
  return schema;
}

// Every AttributeDefinition must be a key attribute of the table or of an index.
Status CheckDefinitionsUsed(const KeyInput& input, const KeySchema& table,
                            const std::vector<SecondaryIndex>& indexes) {
  std::vector<std::string> used;
  const auto use = [&used](const KeySchema& schema) {
    for (const KeyAttribute* key :
         {&schema.partition_key, schema.sort_key ? &*schema.sort_key : nullptr}) {
      if (key != nullptr && std::find(used.begin(), used.end(), key->name) == used.end()) {
        used.push_back(key->name);
      }
    }
  };
  use(table);
  for (const SecondaryIndex& index : indexes) use(index.key_schema);
  if (input.definitions.size() == used.size()) return Status::Ok();
  if (indexes.empty()) {
    return Status::Validation(
        "One or more parameter values were invalid: Number of attributes in KeySchema does not "
        "exactly match number of attributes defined in AttributeDefinitions");
  }
  std::vector<std::string> defined;
  for (const KeyAttribute& d : input.definitions) defined.push_back(d.name);
  return Status::Validation(
      "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
      "AttributeDefinitions: " +
      NameList(defined) + ", keys used: " + NameList(used));
}

constexpr size_t kMaxLocalIndexes = 5;
constexpr size_t kMaxGlobalIndexes = 20;
constexpr size_t kMaxNonKeyAttributes = 100;

// One member of LocalSecondaryIndexes or GlobalSecondaryIndexes: its name, key schema (its
// attributes defined in `input`) and projection. Constraint errors are returned at once.
Result<SecondaryIndex> ReadIndex(const rapidjson::Value& member, const std::string& path,
                                 const KeyInput& input, ConstraintErrors& errors) {
  TW_RETURN_IF_ERROR(ExpectObject(member));
  TW_ASSIGN_OR_RETURN(auto name, GetString(member, "IndexName"));
  errors.CheckTableName(path + "indexName", name);
  KeyInput keys;
  keys.definitions = input.definitions;
  TW_ASSIGN_OR_RETURN(keys.elements, ReadIndexKeyElements(member, path, errors));
  TW_ASSIGN_OR_RETURN(IndexProjection projection, ReadProjection(member, path, errors));
  if (!errors.empty()) return errors.ToStatus();
  SecondaryIndex index;
  index.name = std::string(*name);
  index.projection = std::move(projection);
  TW_ASSIGN_OR_RETURN(index.key_schema, ResolveKeySchema(keys));
  return index;
}

Status CheckUniqueName(const std::vector<SecondaryIndex>& earlier, const SecondaryIndex& index) {
  for (const SecondaryIndex& other : earlier) {
    if (other.name == index.name) {
      return Status::Validation(
          "One or more parameter values were invalid: Duplicate index name: " + index.name);
    }
  }
  return Status::Ok();
}

// LocalSecondaryIndexes of a CreateTable, validated against the table's key schema.
Result<std::vector<SecondaryIndex>> ReadLocalIndexes(const rapidjson::Value& request,
                                                     const KeyInput& input, const KeySchema& table,
                                                     ConstraintErrors& errors) {
  std::vector<SecondaryIndex> indexes;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* given, GetArray(request, "LocalSecondaryIndexes"));
  if (given == nullptr) return indexes;
  if (given->Empty()) {
    return Status::Validation(
        "One or more parameter values were invalid: List of LocalSecondaryIndexes is empty");
  }
  int position = 0;
  for (const rapidjson::Value& member : given->GetArray()) {
    ++position;
    const std::string path = "localSecondaryIndexes." + std::to_string(position) + ".member.";
    TW_ASSIGN_OR_RETURN(SecondaryIndex index, ReadIndex(member, path, input, errors));
    if (!table.sort_key) {
      return Status::Validation(
          "One or more parameter values were invalid: Table KeySchema does not have a range key, "
          "which is required when specifying a LocalSecondaryIndex");
    }
    if (index.key_schema.partition_key.name != table.partition_key.name) {
      return Status::Validation(
          "One or more parameter values were invalid: Index KeySchema does not have the same "
          "leading hash key as table KeySchema for index: " +
          index.name + ". index hash key: " + index.key_schema.partition_key.name +
          ", table hash key: " + table.partition_key.name);
    }
    if (!index.key_schema.sort_key) {
      return Status::Validation(
          "One or more parameter values were invalid: Index KeySchema does not have a range key "
          "for index: " +
          index.name);
    }
    TW_RETURN_IF_ERROR(CheckUniqueName(indexes, index));
    indexes.push_back(std::move(index));
  }
  if (indexes.size() > kMaxLocalIndexes) {
    return Status::Validation(
        "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-"
        "table limit of " +
        std::to_string(kMaxLocalIndexes));
  }
  return indexes;
}

// The provisioned units of a global index (CreateTable's, or UpdateTable's Create or
// Update, on the table's billing mode after the request): required on a PROVISIONED
// table, refused on a PAY_PER_REQUEST one.
Status ReadIndexThroughput(const rapidjson::Value& action, const std::string& path,
                           BillingMode billing_mode, ConstraintErrors& errors,
                           SecondaryIndex& index) {
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* throughput,
                      GetObject(action, "ProvisionedThroughput"));
  if (throughput == nullptr) {
    if (billing_mode == BillingMode::kPayPerRequest) return Status::Ok();
    return Status::Validation(
        "One or more parameter values were invalid: ProvisionedThroughput is not specified for "
        "index: " +
        index.name);
  }
  TW_ASSIGN_OR_RETURN(ProvisionedThroughput units,
                      ReadThroughput(*throughput, path + "provisionedThroughput.", errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  if (billing_mode == BillingMode::kPayPerRequest) {
    return Status::Validation(
        "One or more parameter values were invalid: ProvisionedThroughput should not be "
        "specified for index: " +
        index.name + " when BillingMode is PAY_PER_REQUEST");
  }
  index.read_capacity_units = static_cast<uint64_t>(units.read_capacity_units);
  index.write_capacity_units = static_cast<uint64_t>(units.write_capacity_units);
  return Status::Ok();
}

// GlobalSecondaryIndexes of a CreateTable: names unique among `local` too, and each with
// its own ProvisionedThroughput exactly when the table's billing mode is PROVISIONED.
Result<std::vector<SecondaryIndex>> ReadGlobalIndexes(const rapidjson::Value& request,
                                                      const KeyInput& input,
                                                      const std::vector<SecondaryIndex>& local,
                                                      BillingMode billing,
                                                      ConstraintErrors& errors) {
  std::vector<SecondaryIndex> indexes;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* given, GetArray(request, "GlobalSecondaryIndexes"));
  if (given == nullptr) return indexes;
  if (given->Empty()) {
    return Status::Validation(
        "One or more parameter values were invalid: List of GlobalSecondaryIndexes is empty");
  }
  int position = 0;
  for (const rapidjson::Value& member : given->GetArray()) {
    ++position;
    const std::string path = "globalSecondaryIndexes." + std::to_string(position) + ".member.";
    TW_ASSIGN_OR_RETURN(SecondaryIndex index, ReadIndex(member, path, input, errors));
    TW_RETURN_IF_ERROR(ReadIndexThroughput(member, path, billing, errors, index));
    TW_RETURN_IF_ERROR(CheckUniqueName(local, index));
    TW_RETURN_IF_ERROR(CheckUniqueName(indexes, index));
    indexes.push_back(std::move(index));
  }
  if (indexes.size() > kMaxGlobalIndexes) {
    return Status::Validation(
        "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the "
        "per-table limit of " +
        std::to_string(kMaxGlobalIndexes));
  }
  return indexes;
}

// DynamoDB's limit on the attributes projected by INCLUDE over all the table's indexes.
Status CheckProjectedAttributes(const std::vector<SecondaryIndex>& local,
                                const std::vector<SecondaryIndex>& global) {
  size_t non_key_attributes = 0;
  for (const auto* indexes : {&local, &global}) {
    for (const SecondaryIndex& index : *indexes) {
      non_key_attributes += index.projection.non_key_attributes.size();
    }
  }
  if (non_key_attributes > kMaxNonKeyAttributes) {
    return Status(
        ErrorCode::kLimitExceeded,
        "The number of projected attributes in all indexes of the table exceeds the limit of " +
            std::to_string(kMaxNonKeyAttributes));
  }
  return Status::Ok();
}

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

Result<BillingChange> ReadBilling(const rapidjson::Value& request, ConstraintErrors& errors) {
  BillingChange billing;
  TW_ASSIGN_OR_RETURN(auto mode, GetString(request, "BillingMode"));
  errors.CheckEnum("billingMode", mode, {"PROVISIONED", "PAY_PER_REQUEST"});
  if (mode == "PROVISIONED") billing.mode = BillingMode::kProvisioned;
  if (mode == "PAY_PER_REQUEST") billing.mode = BillingMode::kPayPerRequest;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* throughput,
                      GetObject(request, "ProvisionedThroughput"));
  if (throughput != nullptr) {
    TW_ASSIGN_OR_RETURN(billing.throughput,
                        ReadThroughput(*throughput, "provisionedThroughput.", errors));
  }
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* on_demand, GetObject(request, "OnDemandThroughput"));
  if (on_demand != nullptr) {
    TW_ASSIGN_OR_RETURN(billing.max_read_request_units,
                        GetInteger(*on_demand, "MaxReadRequestUnits"));
    TW_ASSIGN_OR_RETURN(billing.max_write_request_units,
                        GetInteger(*on_demand, "MaxWriteRequestUnits"));
    if (!billing.on_demand_given()) {
      return Status::Validation(
          "One or more parameter values were invalid: OnDemandThroughput must specify "
          "MaxReadRequestUnits, MaxWriteRequestUnits, or both");
    }
    for (auto [member, value] :
         {std::pair{"MaxReadRequestUnits", billing.max_read_request_units},
          std::pair{"MaxWriteRequestUnits", billing.max_write_request_units}}) {
      if (value && *value != -1 && *value < 1) {
        return Status::Validation(std::string("One or more parameter values were invalid: ") +
                                  member + " must be at least 1, or -1 for no maximum");
      }
    }
  }
  return billing;
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
      TW_ASSIGN_OR_RETURN(KeyInput definitions, ReadDefinitions(request, errors));
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
  TW_ASSIGN_OR_RETURN(std::string name, ReadTableName(request, "tableName", errors));
  TW_ASSIGN_OR_RETURN(KeyInput key_input, ReadKeyInput(request, errors));
  TW_ASSIGN_OR_RETURN(BillingChange billing, ReadBilling(request, errors));
  TW_ASSIGN_OR_RETURN(std::optional<StreamSpecification> stream,
                      ReadStreamSpecification(request, errors));
  TW_ASSIGN_OR_RETURN(std::optional<bool> protection,
                      GetBool(request, "DeletionProtectionEnabled"));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* tags, GetArray(request, "Tags"));
  TW_ASSIGN_OR_RETURN(std::optional<TableClass> table_class, ReadTableClass(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_RETURN_IF_ERROR(RejectUnsupported(request, {"GlobalSecondaryIndexUpdates", "ReplicaUpdates"}));

  CreateTableRequest create;
  if (table_class) {
    create.settings.table_class = *table_class;
    create.settings.table_class_set_micros = EngineNow(service);
  }
  create.name = name;
  TW_ASSIGN_OR_RETURN(create.key_schema, ResolveKeySchema(key_input));
  TW_ASSIGN_OR_RETURN(create.local_indexes,
                      ReadLocalIndexes(request, key_input, create.key_schema, errors));
  const BillingMode billing_mode = billing.mode.value_or(BillingMode::kProvisioned);
  TW_ASSIGN_OR_RETURN(
      create.global_indexes,
      ReadGlobalIndexes(request, key_input, create.local_indexes, billing_mode, errors));
  TW_RETURN_IF_ERROR(CheckProjectedAttributes(create.local_indexes, create.global_indexes));
  std::vector<SecondaryIndex> all_indexes = create.local_indexes;
  all_indexes.insert(all_indexes.end(), create.global_indexes.begin(), create.global_indexes.end());
  TW_RETURN_IF_ERROR(CheckDefinitionsUsed(key_input, create.key_schema, all_indexes));
  if (tags != nullptr) {
    TW_ASSIGN_OR_RETURN(create.settings.tags, ReadTagList(*tags));
  }
  create.settings.deletion_protection = protection.value_or(false);
  if (billing.mode == BillingMode::kPayPerRequest) {
    if (billing.throughput) {
      return Status::Validation(
          "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
          "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    }
    create.settings.billing_mode = BillingMode::kPayPerRequest;
    create.settings.on_demand.max_read_request_units = billing.max_read_request_units.value_or(-1);
    create.settings.on_demand.max_write_request_units =
        billing.max_write_request_units.value_or(-1);
  } else {
    if (billing.on_demand_given()) return OnDemandThroughputNotAllowed();
    if (!billing.throughput) {
      return Status::Validation(
          "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
          "must both be specified when BillingMode is PROVISIONED");
    }
    create.settings.billing_mode = BillingMode::kProvisioned;
    create.settings.provisioned = *billing.throughput;
  }
  if (stream) create.stream = *stream;
  service.schemas->Forget(name);
  service.throughput->Forget(name);
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
  TW_ASSIGN_OR_RETURN(BillingChange billing, ReadBilling(request, errors));
  TW_ASSIGN_OR_RETURN(std::optional<StreamSpecification> stream,
                      ReadStreamSpecification(request, errors));
  TW_ASSIGN_OR_RETURN(std::optional<bool> protection,
                      GetBool(request, "DeletionProtectionEnabled"));
  TW_ASSIGN_OR_RETURN(std::optional<TableClass> table_class, ReadTableClass(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_RETURN_IF_ERROR(RejectUnsupported(request, {"ReplicaUpdates"}));
  TW_ASSIGN_OR_RETURN(TableDescription table, service.engine->DescribeTable(name));
  TW_ASSIGN_OR_RETURN(
      std::vector<GlobalIndexUpdate> index_updates,
      ReadGlobalIndexUpdates(request, table, billing.mode.value_or(table.settings.billing_mode),
                             errors));
  const bool settings_change =
      billing.mode || billing.throughput || billing.on_demand_given() || protection || table_class;
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
