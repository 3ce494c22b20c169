#include "tidewater/streams/resource_names.h"

#include <charconv>
#include <cstdio>

namespace tidewater::streams {
namespace {

constexpr std::string_view kArnPrefix = "arn:aws:dynamodb:";
constexpr std::string_view kTableMarker = "table/";
constexpr std::string_view kStreamMarker = "/stream/";
constexpr std::string_view kShardIdPrefix = "shardId-";
constexpr size_t kShardTimeDigits = 20;
constexpr size_t kShardIndexDigits = 8;

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsRegion(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// DynamoDB's table name rules: 3 to 255 of [a-zA-Z0-9_.-].
bool IsTableName(std::string_view text) {
  if (text.size() < 3 || text.size() > 255) return false;
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

// A stream label: the stream's creation time as "2024-01-31T12:34:56.789".
bool IsStreamLabel(std::string_view text) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.ddd";
  if (text.size() != kShape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return false;
  }
  return true;
}

}  // namespace

std::string TableArn(std::string_view region, std::string_view table) {
  std::string arn(kArnPrefix);
  arn += region;
  arn += ':';
  arn += kAccountId;
  arn += ':';
  arn += kTableMarker;
  arn += table;
  return arn;
}

std::string StreamArn(std::string_view region, std::string_view table, std::string_view label) {
  std::string arn = TableArn(region, table);
  arn += kStreamMarker;
  arn += label;
  return arn;
}

Result<ParsedStreamArn> ParseStreamArn(std::string_view arn) {
  const Status invalid = Status::Validation("Invalid StreamArn");
  if (!arn.starts_with(kArnPrefix)) return invalid;
  std::string_view rest = arn.substr(kArnPrefix.size());
  const size_t region_end = rest.find(':');
  if (region_end == std::string_view::npos || !IsRegion(rest.substr(0, region_end))) {
    return invalid;
  }
  rest.remove_prefix(region_end + 1);
  const size_t account_end = rest.find(':');
  if (account_end != kAccountId.size() || !AllDigits(rest.substr(0, account_end))) return invalid;
  rest.remove_prefix(account_end + 1);
  if (!rest.starts_with(kTableMarker)) return invalid;
  rest.remove_prefix(kTableMarker.size());
  const size_t stream_marker = rest.find(kStreamMarker);
  if (stream_marker == std::string_view::npos) return invalid;
  ParsedStreamArn parsed;
  parsed.table = std::string(rest.substr(0, stream_marker));
  parsed.label = std::string(rest.substr(stream_marker + kStreamMarker.size()));
  if (!IsTableName(parsed.table) || !IsStreamLabel(parsed.label)) return invalid;
  return parsed;
}

std::string ShardId(int64_t table_creation_micros, ShardIndex shard_index) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "shardId-%020lld-%08x",
                static_cast<long long>(table_creation_micros / 1000), shard_index.value());
  return buffer;
}

Result<ShardIndex> ParseShardId(std::string_view id, int64_t table_creation_micros) {
  const Status not_found =
      Status::NotFound("Requested resource not found: Shard: " + std::string(id) + " not found");
  if (id.size() != kShardIdPrefix.size() + kShardTimeDigits + 1 + kShardIndexDigits ||
      !id.starts_with(kShardIdPrefix) || id[kShardIdPrefix.size() + kShardTimeDigits] != '-') {
    return not_found;
  }
  std::string_view time = id.substr(kShardIdPrefix.size(), kShardTimeDigits);
  std::string_view index = id.substr(kShardIdPrefix.size() + kShardTimeDigits + 1);
  long long millis = 0;
  if (!AllDigits(time) ||
      std::from_chars(time.data(), time.data() + time.size(), millis).ec != std::errc() ||
      millis != table_creation_micros / 1000) {
    return not_found;
  }
  uint32_t shard = 0;
  auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), shard, 16);
  if (ec != std::errc() || end != index.data() + index.size()) return not_found;
  return ShardIndex(shard);
}

Result<SequenceNumber> ParseSequenceNumber(std::string_view text) {
  const Status invalid = Status::Validation("Invalid SequenceNumber: " + std::string(text) +
                                            " is not a sequence number");
  if (!AllDigits(text)) return invalid;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return invalid;
  return SequenceNumber(value);
}

}  // namespace tidewater::streams
