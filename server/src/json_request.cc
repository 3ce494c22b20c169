#include "json_request.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tidewater::server {
namespace {

constexpr int kMaxReportedConstraintErrors = 10;

// DynamoDB's name for the JSON token it found, in "X cannot be converted to Y" messages.
const char* TokenName(const rapidjson::Value& value) {
  switch (value.GetType()) {
    case rapidjson::kNumberType:
      return "NUMBER_VALUE";
    case rapidjson::kStringType:
      return "STRING_VALUE";
    case rapidjson::kTrueType:
      return "TRUE_VALUE";
    case rapidjson::kFalseType:
      return "FALSE_VALUE";
    default:
      return "NULL_VALUE";
  }
}

Status CannotConvert(const rapidjson::Value& value, std::string_view target) {
  if (value.IsObject())
    return Status::Serialization("Start of structure or map found where not expected.");
  if (value.IsArray()) return Status::Serialization("Start of list found where not expected");
  return Status::Serialization(std::string(TokenName(value)) + " cannot be converted to " +
                               std::string(target));
}

bool IsTableNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

}  // namespace

const rapidjson::Value* FindMember(const rapidjson::Value& object, std::string_view name) {
  auto it = object.FindMember(rapidjson::Value(
      rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))));
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

Status ExpectString(const rapidjson::Value& value) {
  return value.IsString() ? Status::Ok() : CannotConvert(value, "String");
}

Status ExpectObject(const rapidjson::Value& value) {
  if (value.IsObject()) return Status::Ok();
  if (value.IsArray()) return Status::Serialization("Start of list found where not expected");
  return Status::Serialization("Expected map or null");
}

Status ExpectArray(const rapidjson::Value& value) {
  if (value.IsArray()) return Status::Ok();
  if (value.IsObject())
    return Status::Serialization("Start of structure or map found where not expected.");
  return Status::Serialization("Expected list or null");
}

Result<std::optional<std::string_view>> GetString(const rapidjson::Value& object,
                                                  std::string_view name) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return std::optional<std::string_view>();
  TW_RETURN_IF_ERROR(ExpectString(*value));
  return std::optional<std::string_view>(
      std::string_view(value->GetString(), value->GetStringLength()));
}

Result<std::optional<bool>> GetBool(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return std::optional<bool>();
  if (!value->IsBool()) return CannotConvert(*value, "Boolean");
  return std::optional<bool>(value->GetBool());
}

Result<std::optional<int64_t>> GetInteger(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return std::optional<int64_t>();
  if (!value->IsNumber()) return CannotConvert(*value, "Integer");
  if (value->IsInt64()) return std::optional<int64_t>(value->GetInt64());
  if (value->IsUint64()) return std::optional<int64_t>(std::numeric_limits<int64_t>::max());
  double d = std::trunc(value->GetDouble());
  if (d >= 9.2e18) return std::optional<int64_t>(std::numeric_limits<int64_t>::max());
  if (d <= -9.2e18) return std::optional<int64_t>(std::numeric_limits<int64_t>::min());
  return std::optional<int64_t>(static_cast<int64_t>(d));
}

Result<std::optional<int64_t>> GetTimestampMicros(const rapidjson::Value& object,
                                                  std::string_view name) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return std::optional<int64_t>();
  if (!value->IsNumber()) return CannotConvert(*value, "Timestamp");
  if (value->IsInt64()) {
    constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 1'000'000;
    return std::optional<int64_t>(std::clamp(value->GetInt64(), -kLimit, kLimit) * 1'000'000);
  }
  const double micros = std::round(value->GetDouble() * 1e6);
  if (micros >= 9.2e18) return std::optional<int64_t>(std::numeric_limits<int64_t>::max());
  if (micros <= -9.2e18) return std::optional<int64_t>(std::numeric_limits<int64_t>::min());
  return std::optional<int64_t>(static_cast<int64_t>(micros));
}

Result<const rapidjson::Value*> GetObject(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return static_cast<const rapidjson::Value*>(nullptr);
  TW_RETURN_IF_ERROR(ExpectObject(*value));
  return value;
}

Result<const rapidjson::Value*> GetArray(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return static_cast<const rapidjson::Value*>(nullptr);
  TW_RETURN_IF_ERROR(ExpectArray(*value));
  return value;
}

void ConstraintErrors::Add(std::string_view path, std::optional<std::string_view> value,
                           std::string_view constraint) {
  ++count_;
  if (count_ > kMaxReportedConstraintErrors) return;
  if (!joined_.empty()) joined_ += "; ";
  joined_ += "Value ";
  if (value) {
    joined_ += '\'';
    joined_ += *value;
    joined_ += '\'';
  } else {
    joined_ += "null";
  }
  joined_ += " at '";
  joined_ += path;
  joined_ += "' failed to satisfy constraint: ";
  joined_ += constraint;
}

void ConstraintErrors::RequireNotNull(std::string_view path, bool present) {
  if (!present) Add(path, std::nullopt, "Member must not be null");
}

void ConstraintErrors::CheckTableName(std::string_view path, std::optional<std::string_view> name,
                                      bool required) {
  if (!name) {
    if (required) RequireNotNull(path, false);
    return;
  }
  for (char c : *name) {
    if (!IsTableNameChar(c)) {
      Add(path, name, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
      break;
    }
  }
  CheckLength(path, name, 3, 255);
}

void ConstraintErrors::CheckEnum(std::string_view path, std::optional<std::string_view> value,
                                 std::initializer_list<std::string_view> allowed) {
  if (!value) return;
  for (std::string_view a : allowed) {
    if (a == *value) return;
  }
  std::string constraint = "Member must satisfy enum value set: [";
  bool first = true;
  for (std::string_view a : allowed) {
    if (!first) constraint += ", ";
    constraint += a;
    first = false;
  }
  constraint += "]";
  Add(path, value, constraint);
}

void ConstraintErrors::CheckRange(std::string_view path, std::optional<int64_t> value,
                                  std::optional<int64_t> min, std::optional<int64_t> max) {
  if (!value) return;
  std::string text = std::to_string(*value);
  if (min && *value < *min) {
    Add(path, text, "Member must have value greater than or equal to " + std::to_string(*min));
  }
  if (max && *value > *max) {
    Add(path, text, "Member must have value less than or equal to " + std::to_string(*max));
  }
}

void ConstraintErrors::CheckLength(std::string_view path, std::optional<std::string_view> value,
                                   std::optional<size_t> min, std::optional<size_t> max) {
  if (!value) return;
  if (min && value->size() < *min) {
    Add(path, value, "Member must have length greater than or equal to " + std::to_string(*min));
  }
  if (max && value->size() > *max) {
    Add(path, value, "Member must have length less than or equal to " + std::to_string(*max));
  }
}

Status ConstraintErrors::ToStatus() const {
  if (count_ == 0) return Status::Ok();
  int reported = count_ < kMaxReportedConstraintErrors ? count_ : kMaxReportedConstraintErrors;
  return Status::Validation(
      std::to_string(reported) +
      (reported == 1 ? " validation error detected: " : " validation errors detected: ") + joined_);
}

}  // namespace tidewater::server
