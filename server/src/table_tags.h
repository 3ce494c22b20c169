// Table tags as DynamoDB limits them (CreateTable Tags, TagResource, UntagResource): at
// most 50 per table; keys of 1..128 and values of 0..256 characters (Unicode code points),
// of letters, digits, white space and `+ - = . _ : /`; keys beginning with `aws:` are
// reserved. Errors are DynamoDB's ValidationException texts. Pure functions: thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "tidewater/core/status.h"

namespace tidewater::server {

inline constexpr size_t kMaxTagsPerTable = 50;

using TagMap = std::map<std::string, std::string>;

// A Tags list ([{"Key":..,"Value":..}, ...]): every key and value checked, a key given
// twice refused, more than kMaxTagsPerTable refused.
Result<TagMap> ReadTagList(const rapidjson::Value& tags);

// A key to remove (UntagResource): its length and characters.
Status CheckTagKey(std::string_view key);

// ValidationException when a table would carry `count` tags, or a request names `count`
// keys, above kMaxTagsPerTable.
Status CheckTagCount(size_t count);

// The table a table ARN names: arn:aws:dynamodb:<region>:<12-digit account>:table/<name>.
// ValidationException "Invalid TableArn: ..." for other text; ResourceNotFoundException
// (DynamoDB's text, "ResourcArn" as DynamoDB spells it) for an ARN of another region or
// account than `region` and Tidewater's.
Result<std::string> TableOfArn(std::string_view arn, std::string_view region);

// The ResourceNotFoundException for a well-formed ARN that names no table.
Status UnknownResource(std::string_view arn);

}  // namespace tidewater::server
