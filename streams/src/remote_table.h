// Private: what the stores kept in a remote tidewaterd's tables (leases, quarantined
// records) share: DynamoDB API targets and JSON bodies, and making sure a table exists.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "client_pool.h"
#include "tidewater/core/json_codec.h"

namespace tidewater::streams {

// "DynamoDB_20120810.<operation>".
std::string DynamoDbTarget(std::string_view operation);

// A member `key` whose value is the string `value`.
void WriteStringMember(json::Writer& w, const char* key, std::string_view value);

std::string BufferText(const rapidjson::StringBuffer& buffer);

// Creates `table` (PAY_PER_REQUEST; a string partition key, and a string sort key when
// given) when it is missing, and waits until it is ACTIVE. A table another process
// creates meanwhile is fine. `what` names the table in errors ("lease table").
Status EnsureRemoteTable(ClientPool& pool, const std::string& table, std::string_view what,
                         std::string_view partition_key,
                         std::optional<std::string_view> sort_key = std::nullopt);

// Every item `operation` (Query or Scan) returns from `table`, page after page, with
// ConsistentRead: `write_members` adds the request's own members (a key condition) to
// each page's body, `on_item` takes each item in order and may stop the read with an error.
Status ReadRemoteItems(ClientPool& pool, std::string_view operation, const std::string& table,
                       const std::function<void(json::Writer&)>& write_members,
                       const std::function<Status(const Item&)>& on_item);

}  // namespace tidewater::streams
