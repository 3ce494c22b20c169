#include "table_definition_input.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "handler_support.h"

namespace tidewater::server {
namespace {

constexpr size_t kMaxLocalIndexes = 5;
constexpr size_t kMaxGlobalIndexes = 20;
constexpr size_t kMaxNonKeyAttributes = 100;

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

// AttributeDefinitions and KeySchema (both required) as sent, after the shape checks.
Result<KeyInput> ReadKeyInput(const rapidjson::Value& object, std::string_view path,
                              ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(KeyInput input, ReadAttributeDefinitions(object, path, errors));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* schema, GetArray(object, "KeySchema"));
  const std::string member = std::string(path) + "keySchema";
  errors.RequireNotNull(member, schema != nullptr);
  if (schema != nullptr) {
    int index = 0;
    for (const auto& element : schema->GetArray()) {
      ++index;
      TW_RETURN_IF_ERROR(ExpectObject(element));
      TW_ASSIGN_OR_RETURN(auto name, GetString(element, "AttributeName"));
      TW_ASSIGN_OR_RETURN(auto key_type, GetString(element, "KeyType"));
      const std::string element_path = member + "." + std::to_string(index) + ".member.";
      errors.RequireNotNull(element_path + "attributeName", name.has_value());
      errors.CheckLength(element_path + "attributeName", name, 1, 255);
      errors.RequireNotNull(element_path + "keyType", key_type.has_value());
      errors.CheckEnum(element_path + "keyType", key_type, {"HASH", "RANGE"});
      input.elements.push_back(
          {name ? std::string(*name) : "", key_type ? std::string(*key_type) : ""});
    }
    if (schema->Empty() || schema->Size() > 2) {
      errors.Add(member, "[" + std::to_string(schema->Size()) + " elements]",
                 schema->Empty() ? "Member must have length greater than or equal to 1"
                                 : "Member must have length less than or equal to 2");
    }
  }
  return input;
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
Result<std::vector<SecondaryIndex>> ReadLocalIndexes(const rapidjson::Value& object,
                                                     const KeyInput& input, const KeySchema& table,
                                                     const std::string& path,
                                                     ConstraintErrors& errors) {
  std::vector<SecondaryIndex> indexes;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* given, GetArray(object, "LocalSecondaryIndexes"));
  if (given == nullptr) return indexes;
  if (given->Empty()) {
    return Status::Validation(
        "One or more parameter values were invalid: List of LocalSecondaryIndexes is empty");
  }
  int position = 0;
  for (const rapidjson::Value& member : given->GetArray()) {
    ++position;
    const std::string member_path =
        path + "localSecondaryIndexes." + std::to_string(position) + ".member.";
    TW_ASSIGN_OR_RETURN(SecondaryIndex index, ReadIndex(member, member_path, input, errors));
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

// GlobalSecondaryIndexes of a CreateTable: names unique among `local` too, and each with
// its own ProvisionedThroughput exactly when the table's billing mode is PROVISIONED.
Result<std::vector<SecondaryIndex>> ReadGlobalIndexes(const rapidjson::Value& object,
                                                      const KeyInput& input,
                                                      const std::vector<SecondaryIndex>& local,
                                                      BillingMode billing, const std::string& path,
                                                      ConstraintErrors& errors) {
  std::vector<SecondaryIndex> indexes;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* given, GetArray(object, "GlobalSecondaryIndexes"));
  if (given == nullptr) return indexes;
  if (given->Empty()) {
    return Status::Validation(
        "One or more parameter values were invalid: List of GlobalSecondaryIndexes is empty");
  }
  int position = 0;
  for (const rapidjson::Value& member : given->GetArray()) {
    ++position;
    const std::string member_path =
        path + "globalSecondaryIndexes." + std::to_string(position) + ".member.";
    TW_ASSIGN_OR_RETURN(SecondaryIndex index, ReadIndex(member, member_path, input, errors));
    TW_RETURN_IF_ERROR(ReadIndexThroughput(member, member_path, billing, errors, index));
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

// CreateTable's rules between the billing mode (default PROVISIONED) and the throughputs,
// applied to `settings`.
Status ResolveBilling(const BillingChange& billing, TableSettings& settings) {
  if (billing.mode == BillingMode::kPayPerRequest) {
    if (billing.throughput) {
      return Status::Validation(
          "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
          "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    }
    settings.billing_mode = BillingMode::kPayPerRequest;
    settings.on_demand.max_read_request_units = billing.max_read_request_units.value_or(-1);
    settings.on_demand.max_write_request_units = billing.max_write_request_units.value_or(-1);
  } else {
    if (billing.on_demand_given()) return OnDemandThroughputNotAllowed();
    if (!billing.throughput) {
      return Status::Validation(
          "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
          "must both be specified when BillingMode is PROVISIONED");
    }
    settings.billing_mode = BillingMode::kProvisioned;
    settings.provisioned = *billing.throughput;
  }
  return Status::Ok();
}

}  // namespace

Result<TableDefinitionMembers> ReadTableDefinitionMembers(const rapidjson::Value& object,
                                                          std::string_view path,
                                                          ConstraintErrors& errors) {
  const std::string prefix(path);
  TableDefinitionMembers members;
  TW_ASSIGN_OR_RETURN(members.name, ReadTableName(object, prefix + "tableName", errors));
  TW_ASSIGN_OR_RETURN(members.keys, ReadKeyInput(object, path, errors));
  TW_ASSIGN_OR_RETURN(members.billing, ReadBilling(object, path, errors));
  TW_RETURN_IF_ERROR(
      CheckSseSpecification(object, "SSESpecification", prefix + "sSESpecification", errors));
  return members;
}

Result<CreateTableRequest> ResolveTableDefinition(const rapidjson::Value& object,
                                                  const TableDefinitionMembers& members,
                                                  std::string_view path, bool with_local_indexes,
                                                  ConstraintErrors& errors) {
  const std::string prefix(path);
  CreateTableRequest create;
  create.name = members.name;
  TW_ASSIGN_OR_RETURN(create.key_schema, ResolveKeySchema(members.keys));
  if (with_local_indexes) {
    TW_ASSIGN_OR_RETURN(create.local_indexes,
                        ReadLocalIndexes(object, members.keys, create.key_schema, prefix, errors));
  }
  const BillingMode billing_mode = members.billing.mode.value_or(BillingMode::kProvisioned);
  TW_ASSIGN_OR_RETURN(
      create.global_indexes,
      ReadGlobalIndexes(object, members.keys, create.local_indexes, billing_mode, prefix, errors));
  TW_RETURN_IF_ERROR(CheckProjectedAttributes(create.local_indexes, create.global_indexes));
  std::vector<SecondaryIndex> all_indexes = create.local_indexes;
  all_indexes.insert(all_indexes.end(), create.global_indexes.begin(), create.global_indexes.end());
  TW_RETURN_IF_ERROR(CheckDefinitionsUsed(members.keys, create.key_schema, all_indexes));
  TW_RETURN_IF_ERROR(ResolveBilling(members.billing, create.settings));
  return create;
}

Result<KeyInput> ReadAttributeDefinitions(const rapidjson::Value& object, std::string_view path,
                                          ConstraintErrors& errors) {
  KeyInput input;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* definitions,
                      GetArray(object, "AttributeDefinitions"));
  const std::string member = std::string(path) + "attributeDefinitions";
  errors.RequireNotNull(member, definitions != nullptr);
  if (definitions != nullptr) {
    int index = 0;
    for (const auto& definition : definitions->GetArray()) {
      ++index;
      TW_RETURN_IF_ERROR(ExpectObject(definition));
      TW_ASSIGN_OR_RETURN(auto name, GetString(definition, "AttributeName"));
      TW_ASSIGN_OR_RETURN(auto type, GetString(definition, "AttributeType"));
      const std::string element_path = member + "." + std::to_string(index) + ".member.";
      errors.RequireNotNull(element_path + "attributeName", name.has_value());
      errors.CheckLength(element_path + "attributeName", name, 1, 255);
      errors.RequireNotNull(element_path + "attributeType", type.has_value());
      errors.CheckEnum(element_path + "attributeType", type, {"B", "N", "S"});
      KeyAttribute attribute;
      if (name) attribute.name = std::string(*name);
      if (type) ParseKeyType(*type, &attribute.type);
      input.definitions.push_back(std::move(attribute));
    }
  }
  return input;
}

Result<BillingChange> ReadBilling(const rapidjson::Value& object, std::string_view path,
                                  ConstraintErrors& errors) {
  BillingChange billing;
  TW_ASSIGN_OR_RETURN(auto mode, GetString(object, "BillingMode"));
  errors.CheckEnum(std::string(path) + "billingMode", mode, {"PROVISIONED", "PAY_PER_REQUEST"});
  if (mode == "PROVISIONED") billing.mode = BillingMode::kProvisioned;
  if (mode == "PAY_PER_REQUEST") billing.mode = BillingMode::kPayPerRequest;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* throughput,
                      GetObject(object, "ProvisionedThroughput"));
  if (throughput != nullptr) {
    TW_ASSIGN_OR_RETURN(
        billing.throughput,
        ReadThroughput(*throughput, std::string(path) + "provisionedThroughput.", errors));
  }
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* on_demand, GetObject(object, "OnDemandThroughput"));
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

Status CheckSseSpecification(const rapidjson::Value& object, std::string_view member,
                             std::string_view path, ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* sse, GetObject(object, member));
  if (sse == nullptr) return Status::Ok();
  TW_RETURN_IF_ERROR(GetBool(*sse, "Enabled").status());
  TW_RETURN_IF_ERROR(GetString(*sse, "KMSMasterKeyId").status());
  TW_ASSIGN_OR_RETURN(auto type, GetString(*sse, "SSEType"));
  errors.CheckEnum(std::string(path) + ".sSEType", type, {"AES256", "KMS"});
  return Status::Ok();
}

std::string NameList(const std::vector<std::string>& names) {
  std::string text = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += ", ";
    text += names[i];
  }
  return text + "]";
}

}  // namespace tidewater::server
