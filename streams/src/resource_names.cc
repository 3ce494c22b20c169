#include "tidewater/streams/resource_names.h"

#include <charconv>
#include <cstdio>

namespace tidewater::streams {
namespace {

constexpr std::string_view kArnPrefix = "arn:aws:dynamodb:";
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

}  // namespace

std::string TableArn(std::string_view region, std::string_view table) {
  std::string arn(kArnPrefix);
  arn += region;
  arn += ':';
  arn += kAccountId;
  arn += ":table/";
  arn += table;
  return arn;
}

std::string StreamArn(std::string_view region, std::string_view table, std::string_view label) {
  std::string arn = TableArn(region, table);
  arn += "/stream/";
  arn += label;
  return arn;
}

Result<ParsedStreamArn> ParseStreamArn(std::string_view arn) {
  const Status invalid = Status::Validation("Invalid StreamArn");
  if (!arn.starts_with(kArnPrefix)) return invalid;
  size_t table_marker = arn.find(":table/");
  if (table_marker == std::string_view::npos) return invalid;
  std::string_view rest = arn.substr(table_marker + 7);
  size_t stream_marker = rest.find("/stream/");
  if (stream_marker == std::string_view::npos || stream_marker == 0) return invalid;
  ParsedStreamArn parsed;
  parsed.table = std::string(rest.substr(0, stream_marker));
  parsed.label = std::string(rest.substr(stream_marker + 8));
  if (parsed.label.empty()) return invalid;
  return parsed;
}

std::string ShardId(int64_t table_creation_micros, uint32_t shard_index) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "shardId-%020lld-%08x",
                static_cast<long long>(table_creation_micros / 1000), shard_index);
  return buffer;
}

Result<uint32_t> ParseShardId(std::string_view id, int64_t table_creation_micros) {
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
  return shard;
}

Result<uint64_t> ParseSequenceNumber(std::string_view text) {
  const Status invalid = Status::Validation("Invalid SequenceNumber: " + std::string(text) +
                                            " is not a sequence number");
  if (!AllDigits(text)) return invalid;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return invalid;
  return value;
}

}  // namespace tidewater::streams
