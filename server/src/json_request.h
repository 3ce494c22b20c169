// Reading the members of a request document the way DynamoDB's front end does:
//  * a member with the wrong JSON type is a SerializationException ("NUMBER_VALUE cannot be
//    converted to String", "Start of list found where not expected", ...);
//  * a JSON null counts as absent;
//  * violated constraints (missing required member, length, pattern, enum, range) collect
//    in ConstraintErrors and become one ValidationException
//    "2 validation errors detected: Value null at 'tableName' failed to satisfy
//    constraint: Member must not be null; ...".
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "tidewater/core/status.h"

namespace tidewater::server {

// The member `name` of `object`, or nullptr when absent or null. `object` must be an object.
const rapidjson::Value* FindMember(const rapidjson::Value& object, std::string_view name);

Result<std::optional<std::string_view>> GetString(const rapidjson::Value& object,
                                                  std::string_view name);
Result<std::optional<bool>> GetBool(const rapidjson::Value& object, std::string_view name);
// Integers: JSON numbers (a fraction is truncated, as DynamoDB does); out-of-range values
// saturate so that range constraints report them.
Result<std::optional<int64_t>> GetInteger(const rapidjson::Value& object, std::string_view name);
// Timestamps as the AWS JSON protocol sends them: JSON numbers of seconds since the epoch,
// a fraction allowed. In micro-seconds, rounded to the nearest (a decimal fraction of
// micro-seconds may not be exact as a double); out-of-range values saturate.
Result<std::optional<int64_t>> GetTimestampMicros(const rapidjson::Value& object,
                                                  std::string_view name);
// Structures and maps (JSON objects) and lists; nullptr when absent.
Result<const rapidjson::Value*> GetObject(const rapidjson::Value& object, std::string_view name);
Result<const rapidjson::Value*> GetArray(const rapidjson::Value& object, std::string_view name);

// The same checks for a value already in hand (list members, map values).
Status ExpectString(const rapidjson::Value& value);
Status ExpectObject(const rapidjson::Value& value);
Status ExpectArray(const rapidjson::Value& value);

// Accumulates constraint violations in request order; at most 10 are reported, as DynamoDB.
class ConstraintErrors {
 public:
  // `path` is the lowerCamel member path DynamoDB reports ("tableName", "key",
  // "transactItems.1.member.put.tableName"); `value` the offending value (nullopt: null).
  void Add(std::string_view path, std::optional<std::string_view> value,
           std::string_view constraint);

  void RequireNotNull(std::string_view path, bool present);
  // TableName rules: not null (when `required`), length 3..255, pattern [a-zA-Z0-9_.-]+.
  void CheckTableName(std::string_view path, std::optional<std::string_view> name,
                      bool required = true);
  void CheckEnum(std::string_view path, std::optional<std::string_view> value,
                 std::initializer_list<std::string_view> allowed);
  void CheckRange(std::string_view path, std::optional<int64_t> value, std::optional<int64_t> min,
                  std::optional<int64_t> max);
  void CheckLength(std::string_view path, std::optional<std::string_view> value,
                   std::optional<size_t> min, std::optional<size_t> max);

  bool empty() const { return count_ == 0; }
  // Ok when nothing was added, else the ValidationException.
  Status ToStatus() const;

 private:
  int count_ = 0;
  std::string joined_;
};

}  // namespace tidewater::server
