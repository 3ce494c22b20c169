#include "handler_support.h"

namespace tidewater::server {

void WriteProjectedItem(const Item& item, const std::optional<ProjectionExpression>& projection,
                        json::Writer& writer) {
  if (projection) {
    json::WriteItem(projection->Project(item), writer);
  } else {
    json::WriteItem(item, writer);
  }
}

Status CheckAttributeName(std::string_view name) {
  if (name.empty()) {
    return Status::Validation(
        "One or more parameter values were invalid: An attribute name must not be empty");
  }
  if (name.size() > kMaxAttributeNameBytes) {
    return Status::Validation(
        "One or more parameter values were invalid: Size of attribute name has exceeded the "
        "maximum size limit of " +
        std::to_string(kMaxAttributeNameBytes) + " bytes");
  }
  return Status::Ok();
}

Result<std::optional<Item>> ReadItemMember(const rapidjson::Value& object,
                                           std::string_view member) {
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* value, GetObject(object, member));
  if (value == nullptr) return std::optional<Item>();
  TW_ASSIGN_OR_RETURN(Item item, json::ParseItem(*value));
  for (const auto& [name, attribute] : item) TW_RETURN_IF_ERROR(CheckAttributeName(name));
  return std::optional<Item>(std::move(item));
}

Result<std::optional<Item>> UpdatedItem(const std::optional<UpdateExpression>& update,
                                        const Item* current, const Item& key) {
  if (!update) return std::optional<Item>(current != nullptr ? *current : key);
  if (current == nullptr && !update->AddsAttributes()) return std::optional<Item>();
  TW_ASSIGN_OR_RETURN(Item updated, update->Apply(current, key));
  return std::optional<Item>(std::move(updated));
}

Result<ReturnValues> ReadReturnValues(const rapidjson::Value& request, bool only_all_old,
                                      ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> text, GetString(request, "ReturnValues"));
  if (!text || *text == "NONE") return ReturnValues::kNone;
  ReturnValues value;
  if (*text == "ALL_OLD") {
    value = ReturnValues::kAllOld;
  } else if (*text == "UPDATED_OLD") {
    value = ReturnValues::kUpdatedOld;
  } else if (*text == "ALL_NEW") {
    value = ReturnValues::kAllNew;
  } else if (*text == "UPDATED_NEW") {
    value = ReturnValues::kUpdatedNew;
  } else {
    errors.CheckEnum("returnValues", text,
                     {"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"});
    return ReturnValues::kNone;
  }
  if (only_all_old && value != ReturnValues::kAllOld) {
    return Status::Validation("ReturnValues can only be ALL_OLD or NONE");
  }
  return value;
}

Result<bool> ReadReturnOldOnConditionFailure(const rapidjson::Value& request, std::string_view path,
                                             ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> text,
                      GetString(request, "ReturnValuesOnConditionCheckFailure"));
  errors.CheckEnum(path, text, {"ALL_OLD", "NONE"});
  return text && *text == "ALL_OLD";
}

Result<bool> ReadReturnItemCollectionMetrics(const rapidjson::Value& request,
                                             ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> text,
                      GetString(request, "ReturnItemCollectionMetrics"));
  errors.CheckEnum("returnItemCollectionMetrics", text, {"SIZE", "NONE"});
  return text == "SIZE";
}

Result<std::string> ReadTableName(const rapidjson::Value& request, std::string_view path,
                                  ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> name, GetString(request, "TableName"));
  errors.CheckTableName(path, name);
  return name ? std::string(*name) : std::string();
}

Item KeyOf(const KeySchema& schema, const Item& item) {
  Item key;
  auto pk = item.find(schema.partition_key.name);
  if (pk != item.end()) key.emplace(pk->first, pk->second);
  if (schema.sort_key) {
    auto sk = item.find(schema.sort_key->name);
    if (sk != item.end()) key.emplace(sk->first, sk->second);
  }
  return key;
}

Status ValidatePutItem(Engine& engine, const std::string& table, const TableKeys& keys,
                       const Item& item) {
  const KeySchema& schema = keys.key_schema;
  for (const KeyAttribute* attribute :
       {&schema.partition_key, schema.sort_key ? &*schema.sort_key : nullptr}) {
    if (attribute == nullptr) continue;
    auto it = item.find(attribute->name);
    if (it == item.end()) {
      return Status::Validation("One or more parameter values were invalid: Missing the key " +
                                attribute->name + " in the item");
    }
    if (it->second.type() != attribute->type) {
      return Status::Validation(
          "One or more parameter values were invalid: Type mismatch for key " + attribute->name +
          " expected: " + std::string(AttributeTypeName(attribute->type)) +
          " actual: " + std::string(AttributeTypeName(it->second.type())));
    }
  }
  TW_RETURN_IF_ERROR(engine.ValidateKey(table, KeyOf(schema, item)));
  TW_RETURN_IF_ERROR(ValidateIndexKeys(keys.local_indexes, item));
  TW_RETURN_IF_ERROR(ValidateIndexKeys(keys.global_indexes, item));
  if (ItemSize(item) > kMaxItemSizeBytes) {
    return Status::Validation("Item size has exceeded the maximum allowed size");
  }
  return Status::Ok();
}

Result<std::optional<StreamViewType>> ReadStreamBackfill(const rapidjson::Value& request) {
  TW_ASSIGN_OR_RETURN(auto name, GetString(request, "TidewaterStreamBackfill"));
  if (!name) return std::optional<StreamViewType>();
  StreamViewType view_type;
  if (!ParseStreamViewType(*name, &view_type)) {
    return Status::Validation(
        "1 validation error detected: Value '" + std::string(*name) +
        "' at 'tidewaterStreamBackfill' failed to satisfy constraint: Member must satisfy enum "
        "value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]");
  }
  return std::optional<StreamViewType>(view_type);
}

}  // namespace tidewater::server
