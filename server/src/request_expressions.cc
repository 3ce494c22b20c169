#include "request_expressions.h"

#include <cctype>

#include "handler_support.h"
#include "json_request.h"
#include "tidewater/core/json_codec.h"

namespace tidewater::server {
namespace {

std::string JoinParameters(const std::vector<std::string_view>& names) {
  std::string text = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += ", ";
    text += names[i];
  }
  return text + "}";
}

void Note(std::vector<std::string_view>& seen, std::string_view parameter) {
  for (std::string_view s : seen) {
    if (s == parameter) return;
  }
  seen.push_back(parameter);
}

Result<std::optional<AttributeValue>> ReadAttributeValue(const rapidjson::Value& object,
                                                         std::string_view member) {
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* value, GetObject(object, member));
  if (value == nullptr) return std::optional<AttributeValue>();
  TW_ASSIGN_OR_RETURN(AttributeValue parsed, json::ParseAttributeValue(*value));
  return std::optional<AttributeValue>(std::move(parsed));
}

// Placeholders are `prefix` followed by letters, digits and underscores, at most 255 bytes.
// (DynamoDB tells the size of a too long key for names but not for values.)
Status CheckPlaceholderKey(std::string_view map, char prefix, std::string_view key) {
  constexpr size_t kMaxPlaceholderBytes = 255;
  const std::string invalid_key = std::string(map) + " contains invalid key: ";
  if (key.size() > kMaxPlaceholderBytes) {
    std::string message =
        invalid_key + "The expression attribute map contains a key that is too long;";
    if (prefix == '#') message += " size of key: " + std::to_string(key.size());
    return Status::Validation(std::move(message));
  }
  bool valid = key.size() > 1 && key[0] == prefix;
  for (size_t i = 1; valid && i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    valid = std::isalnum(c) || c == '_';
  }
  if (!valid) {
    return Status::Validation(invalid_key + "Syntax error; key: \"" + std::string(key) + "\"");
  }
  return Status::Ok();
}

Status CheckExpressionAttributeName(std::string_view placeholder, std::string_view name) {
  const std::string invalid_value = "ExpressionAttributeNames contains invalid value: ";
  if (name.empty()) {
    return Status::Validation(invalid_value + "Empty attribute name for key " +
                              std::string(placeholder));
  }
  if (name.size() > kMaxAttributeNameBytes) {
    return Status::Validation(
        invalid_value + "Size of attribute name has exceeded the maximum size limit of " +
        std::to_string(kMaxAttributeNameBytes) + " bytes for key " + std::string(placeholder));
  }
  return Status::Ok();
}

}  // namespace

Result<RequestExpressions> RequestExpressions::Read(const rapidjson::Value& request,
                                                    ExpressionCache* cache) {
  RequestExpressions expressions(cache);
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* names,
                      GetObject(request, "ExpressionAttributeNames"));
  if (names != nullptr) {
    if (names->MemberCount() == 0) {
      return Status::Validation("ExpressionAttributeNames must not be empty");
    }
    expressions.has_names_ = true;
    for (const auto& member : names->GetObject()) {
      TW_RETURN_IF_ERROR(ExpectString(member.value));
      std::string placeholder(member.name.GetString(), member.name.GetStringLength());
      std::string name(member.value.GetString(), member.value.GetStringLength());
      TW_RETURN_IF_ERROR(CheckPlaceholderKey("ExpressionAttributeNames", '#', placeholder));
      TW_RETURN_IF_ERROR(CheckExpressionAttributeName(placeholder, name));
      expressions.names_.emplace(std::move(placeholder), std::move(name));
    }
  }
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* values,
                      GetObject(request, "ExpressionAttributeValues"));
  if (values != nullptr) {
    if (values->MemberCount() == 0) {
      return Status::Validation("ExpressionAttributeValues must not be empty");
    }
    expressions.has_values_ = true;
    for (const auto& member : values->GetObject()) {
      TW_RETURN_IF_ERROR(CheckPlaceholderKey(
          "ExpressionAttributeValues", ':',
          std::string_view(member.name.GetString(), member.name.GetStringLength())));
    }
    TW_ASSIGN_OR_RETURN(expressions.values_, json::ParseItem(*values));
  }
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> conditional_operator,
                      GetString(request, "ConditionalOperator"));
  if (conditional_operator) {
    ConstraintErrors errors;
    errors.CheckEnum("conditionalOperator", conditional_operator, {"AND", "OR"});
    TW_RETURN_IF_ERROR(errors.ToStatus());
    if (*conditional_operator == "OR") expressions.conditional_operator_ = ConditionalOperator::kOr;
    Note(expressions.legacy_parameters_, "ConditionalOperator");
  }
  return expressions;
}

Result<std::vector<LegacyCondition>> RequestExpressions::ReadLegacyConditions(
    const rapidjson::Value& request, std::string_view member, bool older_form_allowed) {
  std::vector<LegacyCondition> conditions;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* map, GetObject(request, member));
  if (map == nullptr || map->MemberCount() == 0) return conditions;
  ConstraintErrors errors;
  for (const auto& entry : map->GetObject()) {
    TW_RETURN_IF_ERROR(ExpectObject(entry.value));
    LegacyCondition condition;
    condition.attribute.assign(entry.name.GetString(), entry.name.GetStringLength());
    TW_RETURN_IF_ERROR(CheckAttributeName(condition.attribute));
    TW_ASSIGN_OR_RETURN(std::optional<std::string_view> op,
                        GetString(entry.value, "ComparisonOperator"));
    if (op) {
      condition.comparison_operator = ParseComparisonOperator(*op);
      if (!condition.comparison_operator) {
        std::string path(member);
        path[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(path[0])));
        errors.CheckEnum(path + "." + condition.attribute + ".member.comparisonOperator", op,
                         {"IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL",
                          "NE", "LE", "BEGINS_WITH", "GE", "CONTAINS"});
      }
    }
    TW_ASSIGN_OR_RETURN(const rapidjson::Value* list, GetArray(entry.value, "AttributeValueList"));
    if (list != nullptr) {
      std::vector<AttributeValue> values;
      for (const auto& value : list->GetArray()) {
        TW_RETURN_IF_ERROR(ExpectObject(value));
        TW_ASSIGN_OR_RETURN(AttributeValue parsed, json::ParseAttributeValue(value));
        values.push_back(std::move(parsed));
      }
      condition.attribute_value_list = std::move(values);
    }
    if (older_form_allowed) {
      TW_ASSIGN_OR_RETURN(condition.value, ReadAttributeValue(entry.value, "Value"));
      TW_ASSIGN_OR_RETURN(condition.exists, GetBool(entry.value, "Exists"));
    }
    conditions.push_back(std::move(condition));
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());
  return conditions;
}

Result<std::optional<ConditionExpression>> RequestExpressions::CompileCondition(
    const rapidjson::Value& request, std::string_view member, ExpressionType type) {
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> text, GetString(request, member));
  if (!text) return std::optional<ConditionExpression>();
  Note(expression_parameters_, member);
  TW_ASSIGN_OR_RETURN(ConditionExpression condition,
                      ConditionExpression::Compile(type, *text, names_, values_, cache_));
  used_.push_back(condition.placeholders());
  return std::optional<ConditionExpression>(std::move(condition));
}

Result<std::optional<ConditionExpression>> RequestExpressions::Condition(
    const rapidjson::Value& request) {
  TW_ASSIGN_OR_RETURN(std::vector<LegacyCondition> expected,
                      ReadLegacyConditions(request, "Expected", /*older_form_allowed=*/true));
  if (!expected.empty()) Note(legacy_parameters_, "Expected");
  TW_ASSIGN_OR_RETURN(std::optional<ConditionExpression> condition,
                      CompileCondition(request, "ConditionExpression", ExpressionType::kCondition));
  if (condition || expected.empty()) return condition;
  TW_ASSIGN_OR_RETURN(
      ConditionExpression translated,
      TranslateLegacyConditions(expected, conditional_operator_, LegacyConditionSource::kExpected));
  return std::optional<ConditionExpression>(std::move(translated));
}

Result<std::optional<ConditionExpression>> RequestExpressions::Filter(
    const rapidjson::Value& request, LegacyConditionSource legacy_source) {
  const std::string_view legacy_member =
      legacy_source == LegacyConditionSource::kQueryFilter ? "QueryFilter" : "ScanFilter";
  TW_ASSIGN_OR_RETURN(std::vector<LegacyCondition> legacy,
                      ReadLegacyConditions(request, legacy_member, /*older_form_allowed=*/false));
  if (!legacy.empty()) Note(legacy_parameters_, legacy_member);
  TW_ASSIGN_OR_RETURN(std::optional<ConditionExpression> filter,
                      CompileCondition(request, "FilterExpression", ExpressionType::kFilter));
  if (filter || legacy.empty()) return filter;
  TW_ASSIGN_OR_RETURN(ConditionExpression translated,
                      TranslateLegacyConditions(legacy, conditional_operator_, legacy_source));
  return std::optional<ConditionExpression>(std::move(translated));
}

Result<std::optional<UpdateExpression>> RequestExpressions::Update(const rapidjson::Value& request,
                                                                   const KeySchema& key_schema) {
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* attribute_updates,
                      GetObject(request, "AttributeUpdates"));
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> text, GetString(request, "UpdateExpression"));
  if (text) {
    Note(expression_parameters_, "UpdateExpression");
    TW_ASSIGN_OR_RETURN(UpdateExpression update,
                        UpdateExpression::Compile(*text, names_, values_, key_schema, cache_));
    used_.push_back(update.placeholders());
    if (attribute_updates != nullptr) Note(legacy_parameters_, "AttributeUpdates");
    return std::optional<UpdateExpression>(std::move(update));
  }
  if (attribute_updates == nullptr || attribute_updates->MemberCount() == 0) {
    return std::optional<UpdateExpression>();
  }
  Note(legacy_parameters_, "AttributeUpdates");
  std::vector<LegacyAttributeUpdate> updates;
  ConstraintErrors errors;
  for (const auto& entry : attribute_updates->GetObject()) {
    TW_RETURN_IF_ERROR(ExpectObject(entry.value));
    LegacyAttributeUpdate update;
    update.attribute.assign(entry.name.GetString(), entry.name.GetStringLength());
    TW_RETURN_IF_ERROR(CheckAttributeName(update.attribute));
    TW_ASSIGN_OR_RETURN(std::optional<std::string_view> action, GetString(entry.value, "Action"));
    if (action == "ADD") {
      update.action = LegacyAttributeUpdate::Action::kAdd;
    } else if (action == "DELETE") {
      update.action = LegacyAttributeUpdate::Action::kDelete;
    } else {
      errors.CheckEnum("attributeUpdates." + update.attribute + ".member.action", action,
                       {"ADD", "PUT", "DELETE"});
    }
    TW_ASSIGN_OR_RETURN(update.value, ReadAttributeValue(entry.value, "Value"));
    updates.push_back(std::move(update));
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(UpdateExpression translated, TranslateAttributeUpdates(updates, key_schema));
  return std::optional<UpdateExpression>(std::move(translated));
}

Result<std::optional<ProjectionExpression>> RequestExpressions::Projection(
    const rapidjson::Value& request) {
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> text,
                      GetString(request, "ProjectionExpression"));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* attributes, GetArray(request, "AttributesToGet"));
  if (text) {
    Note(expression_parameters_, "ProjectionExpression");
    if (attributes != nullptr) Note(legacy_parameters_, "AttributesToGet");
    TW_ASSIGN_OR_RETURN(ProjectionExpression projection,
                        ProjectionExpression::Compile(*text, names_, cache_));
    used_.push_back(projection.placeholders());
    return std::optional<ProjectionExpression>(std::move(projection));
  }
  if (attributes == nullptr) return std::optional<ProjectionExpression>();
  Note(legacy_parameters_, "AttributesToGet");
  if (attributes->Empty()) {
    ConstraintErrors errors;
    errors.Add("attributesToGet", "[]", "Member must have length greater than or equal to 1");
    return errors.ToStatus();
  }
  std::vector<std::string> names;
  for (const auto& name : attributes->GetArray()) {
    TW_RETURN_IF_ERROR(ExpectString(name));
    std::string attribute(name.GetString(), name.GetStringLength());
    TW_RETURN_IF_ERROR(CheckAttributeName(attribute));
    for (const std::string& earlier : names) {
      if (earlier == attribute) {
        return Status::Validation(
            "One or more parameter values were invalid: Duplicate value in attribute name: " +
            attribute);
      }
    }
    names.push_back(std::move(attribute));
  }
  return std::optional<ProjectionExpression>(ProjectionExpression::FromAttributeNames(names));
}

Result<KeyCondition> RequestExpressions::KeyConditions(const rapidjson::Value& request,
                                                       const KeySchema& key_schema) {
  TW_ASSIGN_OR_RETURN(std::vector<LegacyCondition> legacy,
                      ReadLegacyConditions(request, "KeyConditions", /*older_form_allowed=*/false));
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> text,
                      GetString(request, "KeyConditionExpression"));
  if (text) {
    Note(expression_parameters_, "KeyConditionExpression");
    if (!legacy.empty()) Note(legacy_parameters_, "KeyConditions");
    TW_ASSIGN_OR_RETURN(KeyCondition condition,
                        CompileKeyCondition(*text, names_, values_, key_schema, cache_));
    used_.push_back(condition.placeholders);
    return condition;
  }
  if (legacy.empty()) {
    return Status::Validation(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.");
  }
  return TranslateKeyConditions(legacy, key_schema);
}

Status RequestExpressions::Finish() const {
  if (!expression_parameters_.empty() && !legacy_parameters_.empty()) {
    return Status::Validation(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: " +
        JoinParameters(legacy_parameters_) +
        " Expression parameters: " + JoinParameters(expression_parameters_));
  }
  if (used_.empty()) {
    if (has_names_) {
      return Status::Validation(
          "ExpressionAttributeNames can only be specified when using expressions");
    }
    if (has_values_) {
      return Status::Validation(
          "ExpressionAttributeValues can only be specified when using expressions");
    }
    return Status::Ok();
  }
  std::vector<const ExpressionPlaceholders*> expressions;
  expressions.reserve(used_.size());
  for (const ExpressionPlaceholders& p : used_) expressions.push_back(&p);
  return CheckPlaceholdersUsed(expressions, names_, values_);
}

}  // namespace tidewater::server
