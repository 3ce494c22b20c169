#include "tidewater/connectors/kafka_wire.h"

#include <algorithm>
#include <charconv>

namespace tidewater::connectors {

std::string_view KafkaFormatName(KafkaFormat format) {
  return format == KafkaFormat::kJson ? "json" : "protobuf";
}

bool ParseKafkaFormat(std::string_view name, KafkaFormat* out) {
  if (name == "protobuf") {
    *out = KafkaFormat::kProtobuf;
  } else if (name == "json") {
    *out = KafkaFormat::kJson;
  } else {
    return false;
  }
  return true;
}

std::string KafkaTopicName(std::string_view topic_prefix, std::string_view table) {
  std::string topic(topic_prefix);
  topic.append(table);
  return topic;
}

bool IsKafkaTopicText(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::optional<uint64_t> ParseHeaderNumber(std::string_view text) {
  if (text.empty() || text.size() > 20 || text.front() < '0' || text.front() > '9') {
    return std::nullopt;
  }
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace tidewater::connectors
