// CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable, UpdateTimeToLive,
// DescribeTimeToLive.
#include "handler_support.h"
#include "handlers.h"
#include "table_json.h"

namespace tidewater::server {
namespace {

constexpr int64_t kMaxListTablesLimit = 100;

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

struct KeyElement {
  std::string name;
  std::string key_type;
};

// KeySchema and AttributeDefinitions as sent, after the shape checks.
struct KeyInput {
  std::vector<KeyElement> elements;
  std::vector<KeyAttribute> definitions;
};

Result<KeyInput> ReadKeyInput(const rapidjson::Value& request, ConstraintErrors& errors) {
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
  if (input.definitions.size() != input.elements.size()) {
    return Status::Validation(
        "One or more parameter values were invalid: Number of attributes in KeySchema does not "
        "exactly match number of attributes defined in AttributeDefinitions");
  }
  return schema;
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

struct Billing {
  std::optional<std::string_view> mode;
  std::optional<ProvisionedThroughput> throughput;
};

Result<Billing> ReadBilling(const rapidjson::Value& request, ConstraintErrors& errors) {
  Billing billing;
  TW_ASSIGN_OR_RETURN(billing.mode, GetString(request, "BillingMode"));
  errors.CheckEnum("billingMode", billing.mode, {"PROVISIONED", "PAY_PER_REQUEST"});
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* throughput,
                      GetObject(request, "ProvisionedThroughput"));
  if (throughput != nullptr) {
    TW_ASSIGN_OR_RETURN(auto read, GetInteger(*throughput, "ReadCapacityUnits"));
    TW_ASSIGN_OR_RETURN(auto write, GetInteger(*throughput, "WriteCapacityUnits"));
    errors.RequireNotNull("provisionedThroughput.readCapacityUnits", read.has_value());
    errors.RequireNotNull("provisionedThroughput.writeCapacityUnits", write.has_value());
    errors.CheckRange("provisionedThroughput.readCapacityUnits", read, 1, std::nullopt);
    errors.CheckRange("provisionedThroughput.writeCapacityUnits", write, 1, std::nullopt);
    billing.throughput = ProvisionedThroughput{read.value_or(0), write.value_or(0)};
  }
  return billing;
}

Status RejectSecondaryIndexes(const rapidjson::Value& request) {
  for (const char* member : {"GlobalSecondaryIndexes", "LocalSecondaryIndexes",
                             "GlobalSecondaryIndexUpdates", "ReplicaUpdates"}) {
    if (FindMember(request, member) != nullptr) {
      return Status::Validation(std::string("One or more parameter values were invalid: ") +
                                member + " are not supported by Tidewater");
    }
  }
  return Status::Ok();
}

Status WriteTable(const char* member, const TableDescription& table, std::string_view region,
                  std::string_view status, json::Writer& writer) {
  writer.StartObject();
  writer.Key(member);
  WriteTableDescription(table, region, status, writer);
  writer.EndObject();
  return Status::Ok();
}

}  // namespace

Status CreateTable(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string name, ReadTableName(request, "tableName", errors));
  TW_ASSIGN_OR_RETURN(KeyInput key_input, ReadKeyInput(request, errors));
  TW_ASSIGN_OR_RETURN(Billing billing, ReadBilling(request, errors));
  TW_ASSIGN_OR_RETURN(std::optional<StreamSpecification> stream,
                      ReadStreamSpecification(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_RETURN_IF_ERROR(RejectSecondaryIndexes(request));

  CreateTableRequest create;
  create.name = name;
  TW_ASSIGN_OR_RETURN(create.key_schema, ResolveKeySchema(key_input));
  const bool on_demand = billing.mode && *billing.mode == "PAY_PER_REQUEST";
  if (on_demand) {
    if (billing.throughput) {
      return Status::Validation(
          "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
          "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    }
    create.billing_mode = BillingMode::kPayPerRequest;
  } else {
    if (!billing.throughput) {
      return Status::Validation(
          "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
          "must both be specified when BillingMode is PROVISIONED");
    }
    create.billing_mode = BillingMode::kProvisioned;
    create.provisioned = *billing.throughput;
  }
  if (stream) create.stream = *stream;
  service.schemas->Forget(name);
  TW_ASSIGN_OR_RETURN(TableDescription table, service.engine->CreateTable(create));
  return WriteTable("TableDescription", table, service.region, "ACTIVE", scope.writer);
}

Status DescribeTable(ServiceContext& service, const rapidjson::Value& request,
                     RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string name, ReadTableName(request, "tableName", errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(TableDescription table, service.engine->DescribeTable(name));
  return WriteTable("Table", table, service.region, "ACTIVE", scope.writer);
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
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("TableDescription");
  WriteDeletedTableDescription(table, service.region, w);
  w.EndObject();
  return Status::Ok();
}

Status UpdateTable(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string name, ReadTableName(request, "tableName", errors));
  TW_ASSIGN_OR_RETURN(Billing billing, ReadBilling(request, errors));
  TW_ASSIGN_OR_RETURN(std::optional<StreamSpecification> stream,
                      ReadStreamSpecification(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_RETURN_IF_ERROR(RejectSecondaryIndexes(request));
  TW_ASSIGN_OR_RETURN(TableDescription table, service.engine->DescribeTable(name));
  if (!stream && !billing.mode && !billing.throughput) {
    return Status::Validation(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  }
  // The engine keeps billing settings as created; a request may restate them unchanged.
  const bool mode_changes = billing.mode && (*billing.mode == "PAY_PER_REQUEST") !=
                                                (table.billing_mode == BillingMode::kPayPerRequest);
  const bool throughput_changes =
      billing.throughput &&
      (billing.throughput->read_capacity_units != table.provisioned.read_capacity_units ||
       billing.throughput->write_capacity_units != table.provisioned.write_capacity_units);
  if (mode_changes || throughput_changes) {
    return Status::Validation(
        "One or more parameter values were invalid: Tidewater does not support changing "
        "BillingMode or ProvisionedThroughput of an existing table");
  }
  if (stream) {
    TW_ASSIGN_OR_RETURN(table, service.engine->UpdateStream(name, *stream));
  }
  return WriteTable("TableDescription", table, service.region, "ACTIVE", scope.writer);
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
  w.StartObject();
  w.Key("TimeToLiveStatus");
  WriteString(w, table.ttl_attribute ? "ENABLED" : "DISABLED");
  if (table.ttl_attribute) {
    w.Key("AttributeName");
    WriteString(w, *table.ttl_attribute);
  }
  w.EndObject();
  w.EndObject();
  return Status::Ok();
}

}  // namespace tidewater::server
