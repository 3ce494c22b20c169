#include "tidewater/replicator/replicator_config.h"

#include <yaml-cpp/yaml.h>

#include <set>

namespace tidewater::replicator {
namespace {

constexpr size_t kMaxBatchSize = 10'000;

Status Invalid(const std::string& path, const std::string& message) {
  return Status::Validation(path + ": " + message);
}

}  // namespace

Result<ReplicatorConfig> ReadReplicatorConfig(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Invalid(path, e.what());
  }
  if (!root.IsMap()) return Invalid(path, "expected a map of settings");
  static const std::set<std::string> kKeys = {
      "source",         "target",         "source_region",    "target_region", "profile",
      "metrics_listen", "batch_size",     "tables",           "source_kafka",  "kafka_topic_prefix",
      "kafka_format",   "kafka_group_id", "kafka_properties", "ca_bundle",     "client_cert",
      "client_key"};
  ReplicatorConfig config;
  try {
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      if (!kKeys.contains(key)) return Invalid(path, "unknown key '" + key + "'");
    }
    if (root["source"]) config.source_url = root["source"].as<std::string>();
    if (root["target"]) config.target_url = root["target"].as<std::string>();
    if (root["source_region"]) config.source_region = root["source_region"].as<std::string>();
    if (root["target_region"]) config.target_region = root["target_region"].as<std::string>();
    if (root["profile"]) config.profile = root["profile"].as<std::string>();
    if (root["ca_bundle"]) config.ca_bundle = root["ca_bundle"].as<std::string>();
    if (root["client_cert"]) config.client_cert = root["client_cert"].as<std::string>();
    if (root["client_key"]) config.client_key = root["client_key"].as<std::string>();
    if (root["metrics_listen"]) config.metrics_listen = root["metrics_listen"].as<std::string>();
    if (root["batch_size"]) {
      const int64_t size = root["batch_size"].as<int64_t>();
      if (size < 1 || static_cast<size_t>(size) > kMaxBatchSize) {
        return Invalid(path, "batch_size must be between 1 and " + std::to_string(kMaxBatchSize));
      }
      config.batch_size = static_cast<size_t>(size);
    }
    if (root["source_kafka"]) config.source_kafka = root["source_kafka"].as<std::string>();
    if (root["kafka_topic_prefix"]) {
      config.kafka_topic_prefix = root["kafka_topic_prefix"].as<std::string>();
    }
    if (root["kafka_format"] && !connectors::ParseKafkaFormat(
                                    root["kafka_format"].as<std::string>(), &config.kafka_format)) {
      return Invalid(path, "kafka_format must be protobuf or json");
    }
    if (root["kafka_group_id"]) config.kafka_group_id = root["kafka_group_id"].as<std::string>();
    if (const YAML::Node properties = root["kafka_properties"]) {
      if (!properties.IsMap()) return Invalid(path, "kafka_properties must be a mapping");
      for (const auto& entry : properties) {
        config.kafka_properties[entry.first.as<std::string>()] = entry.second.as<std::string>();
      }
    }
    if (root["tables"]) {
      if (!root["tables"].IsSequence()) return Invalid(path, "tables must be a list of names");
      for (const auto& table : root["tables"]) config.tables.push_back(table.as<std::string>());
    }
  } catch (const YAML::Exception& e) {
    return Invalid(path, e.what());
  }
  Status valid = ValidateReplicatorConfig(config);
  if (!valid.ok()) return Invalid(path, valid.message());
  return config;
}

Status ValidateReplicatorConfig(const ReplicatorConfig& config) {
  const bool kafka = !config.source_kafka.empty();
  if (config.source_url.empty() && !kafka) {
    return Status::Validation("source is required (a tidewaterd URL or Kafka brokers)");
  }
  if (config.target_url.empty()) return Status::Validation("target is required");
  for (const std::string* url : {&config.source_url, &config.target_url}) {
    if (!url->empty() && !url->starts_with("http://") && !url->starts_with("https://")) {
      return Status::Validation("endpoint must be an http:// or https:// URL: " + *url);
    }
  }
  if (kafka && config.source_region.empty() && config.source_url.empty()) {
    return Status::Validation(
        "source_region is required with a Kafka source (the topics also carry changes that "
        "came to the source region from others), unless the source URL names it");
  }
  if (kafka && config.kafka_format != connectors::KafkaFormat::kProtobuf) {
    return Status::Validation(
        "kafka_format json cannot be replicated: the JSON records carry no item versions; "
        "publish the topics in the protobuf format");
  }
  if (config.source_url == config.target_url) {
    return Status::Validation("source and target are the same endpoint: " + config.source_url);
  }
  if (config.tables.empty()) return Status::Validation("at least one table is required");
  std::set<std::string> seen;
  for (const std::string& table : config.tables) {
    if (table.empty()) return Status::Validation("a table name is empty");
    if (!seen.insert(table).second) return Status::Validation("table listed twice: " + table);
  }
  if (config.batch_size < 1 || config.batch_size > kMaxBatchSize) {
    return Status::Validation("batch size must be between 1 and " + std::to_string(kMaxBatchSize));
  }
  return Status::Ok();
}

connectors::StreamSourceConfig ChangeSourceOf(const ReplicatorConfig& config) {
  connectors::StreamSourceConfig source;
  source.lease_table = "";
  if (config.source_kafka.empty()) {
    source.endpoint = config.source_url;
    source.profile = config.profile;
    source.endpoint_region = config.source_region;
    source.tls = {config.ca_bundle, config.client_cert, config.client_key};
    return source;
  }
  source.kafka.brokers = config.source_kafka;
  source.kafka.topic_prefix = config.kafka_topic_prefix;
  source.kafka.format = config.kafka_format;
  source.kafka.properties = config.kafka_properties;
  return source;
}

}  // namespace tidewater::replicator
