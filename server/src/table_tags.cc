#include "table_tags.h"

#include <cctype>

#include "json_request.h"
#include "tidewater/streams/resource_names.h"

namespace tidewater::server {
namespace {

constexpr size_t kMaxKeyCharacters = 128;
constexpr size_t kMaxValueCharacters = 256;
constexpr std::string_view kReservedPrefix = "aws:";

// Unicode code points of UTF-8 text (the body was validated as UTF-8 when parsed).
size_t CodePoints(std::string_view text) {
  size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

// Letters, digits, white space and + - = . _ : / ; any non-ASCII code point counts as a
// letter (Tidewater does not classify Unicode).
bool AllowedCharacters(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80 || std::isalnum(byte) || std::isspace(byte)) continue;
    if (std::string_view("+-=._:/").find(c) == std::string_view::npos) return false;
  }
  return true;
}

Status InvalidKey(std::string_view key) {
  return Status::Validation("The Tag Key provided is invalid, Key: " + std::string(key));
}

bool ValidValue(std::string_view value) {
  return CodePoints(value) <= kMaxValueCharacters && AllowedCharacters(value);
}

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool ValidTableName(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

Status CheckTagKey(std::string_view key) {
  const size_t length = CodePoints(key);
  if (length < 1 || length > kMaxKeyCharacters || !AllowedCharacters(key)) {
    return InvalidKey(key);
  }
  return Status::Ok();
}

Status CheckTagCount(size_t count) {
  if (count > kMaxTagsPerTable) {
    return Status::Validation(
        "Number of Tags exceed the current limit for the provided ResourceArn");
  }
  return Status::Ok();
}

Result<TagMap> ReadTagList(const rapidjson::Value& tags) {
  TagMap result;
  for (const rapidjson::Value& tag : tags.GetArray()) {
    TW_RETURN_IF_ERROR(ExpectObject(tag));
    TW_ASSIGN_OR_RETURN(auto key, GetString(tag, "Key"));
    TW_ASSIGN_OR_RETURN(auto value, GetString(tag, "Value"));
    if (!key) return InvalidKey("null");
    TW_RETURN_IF_ERROR(CheckTagKey(*key));
    if (key->starts_with(kReservedPrefix)) {
      return Status::Validation("Tag Key cannot be prefixed with aws:, Key: " + std::string(*key));
    }
    if (!value || !ValidValue(*value)) {
      return Status::Validation("The Tag Value provided is invalid, Value: " +
                                (value ? std::string(*value) : std::string("null")));
    }
    if (!result.emplace(std::string(*key), std::string(*value)).second) {
      return Status::Validation("Duplicate Tag Keys provided as input: Duplicate Tag Key found " +
                                std::string(*key));
    }
  }
  TW_RETURN_IF_ERROR(CheckTagCount(result.size()));
  return result;
}

Status UnknownResource(std::string_view arn) {
  return Status::NotFound("Requested resource not found: ResourcArn: " + std::string(arn) +
                          " not found");
}

Result<std::string> TableOfArn(std::string_view arn, std::string_view region) {
  const Status invalid = Status::Validation(
      "Invalid TableArn: Invalid ResourceArn provided as input " + std::string(arn));
  constexpr std::string_view kPrefix = "arn:aws:dynamodb:";
  if (!arn.starts_with(kPrefix)) return invalid;
  std::string_view rest = arn.substr(kPrefix.size());
  const size_t region_end = rest.find(':');
  if (region_end == std::string_view::npos || region_end == 0) return invalid;
  const std::string_view arn_region = rest.substr(0, region_end);
  rest.remove_prefix(region_end + 1);
  const size_t account_end = rest.find(':');
  if (account_end != 12 || !AllDigits(rest.substr(0, account_end))) return invalid;
  const std::string_view account = rest.substr(0, account_end);
  rest.remove_prefix(account_end + 1);
  constexpr std::string_view kTable = "table/";
  if (!rest.starts_with(kTable) || !ValidTableName(rest.substr(kTable.size()))) return invalid;
  if (arn_region != region || account != streams::kAccountId) return UnknownResource(arn);
  return std::string(rest.substr(kTable.size()));
}

}  // namespace tidewater::server
