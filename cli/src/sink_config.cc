#include "sink_config.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "starting_time.h"

namespace tidewater::cli {
namespace {

Status Invalid(const std::string& message) { return Status::Validation("sink config: " + message); }

// Every key of `node` must be in `allowed`: a typo is an error, not a silent default.
Status CheckKeys(const YAML::Node& node, const std::string& where,
                 const std::set<std::string>& allowed) {
  if (!node.IsMap()) return Invalid(where + " must be a mapping");
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    if (!allowed.contains(key)) return Invalid("unknown key " + where + "." + key);
  }
  return Status::Ok();
}

// poison_records, poison_retry_attempts and quarantine_table of a postgres sink.
Status ParsePoisonRecords(const YAML::Node& node, const std::string& where,
                          SinkTargetConfig* target) {
  if (node["poison_records"]) {
    const std::string mode = node["poison_records"].as<std::string>();
    if (mode == "quarantine_key") {
      target->quarantine_key = true;
    } else if (mode != "block") {
      return Invalid(where + ".poison_records must be block or quarantine_key");
    }
  }
  if (!target->quarantine_key && (node["poison_retry_attempts"] || node["quarantine_table"])) {
    return Invalid(where +
                   ": poison_retry_attempts and quarantine_table are only for poison_records: "
                   "quarantine_key");
  }
  if (node["poison_retry_attempts"]) {
    target->poison_retry_attempts = node["poison_retry_attempts"].as<int>();
    if (target->poison_retry_attempts < 0 || target->poison_retry_attempts > 10'000) {
      return Invalid(where + ".poison_retry_attempts must be between 0 and 10000");
    }
  }
  if (node["quarantine_table"]) {
    target->quarantine_table = node["quarantine_table"].as<std::string>();
    if (target->quarantine_table.empty()) return Invalid(where + ".quarantine_table is empty");
  }
  return Status::Ok();
}

Result<SinkTargetConfig> ParseTarget(const YAML::Node& node, size_t index) {
  const std::string where = "sinks[" + std::to_string(index) + "]";
  SinkTargetConfig target;
  if (!node.IsMap() || !node["type"]) return Invalid(where + ".type is required");
  const std::string type = node["type"].as<std::string>();
  target.name = node["name"] ? node["name"].as<std::string>() : type;
  connectors::ImageJson image_json = connectors::ImageJson::kPlain;
  if (node["image_json"] &&
      !connectors::ParseImageJson(node["image_json"].as<std::string>(), &image_json)) {
    return Invalid(where + ".image_json must be plain or dynamodb");
  }
  if (type == "postgres") {
    TW_RETURN_IF_ERROR(CheckKeys(
        node, where,
        {"type", "name", "conninfo", "schema", "table_prefix", "checkpoint_table", "resolved_table",
         "image_json", "poison_records", "poison_retry_attempts", "quarantine_table"}));
    target.type = SinkTargetConfig::Type::kPostgres;
    auto& options = target.postgres;
    if (!node["conninfo"]) return Invalid(where + ".conninfo is required");
    options.conninfo = node["conninfo"].as<std::string>();
    if (node["schema"]) options.schema = node["schema"].as<std::string>();
    if (node["table_prefix"]) options.table_prefix = node["table_prefix"].as<std::string>();
    if (node["checkpoint_table"]) {
      options.checkpoint_table = node["checkpoint_table"].as<std::string>();
    }
    if (node["resolved_table"]) options.resolved_table = node["resolved_table"].as<std::string>();
    options.sink_name = target.name;
    options.image_json = image_json;
    TW_RETURN_IF_ERROR(ParsePoisonRecords(node, where, &target));
  } else if (type == "files") {
    TW_RETURN_IF_ERROR(CheckKeys(node, where,
                                 {"type", "name", "dir", "format", "rotate_bytes", "rotate_seconds",
                                  "image_json", "poison_records"}));
    // A file sink's failures are the disk's, never a record's: nothing to quarantine.
    if (node["poison_records"] && node["poison_records"].as<std::string>() != "block") {
      return Invalid(where + ".poison_records must be block for a files sink");
    }
    target.type = SinkTargetConfig::Type::kFiles;
    auto& options = target.files;
    if (!node["dir"]) return Invalid(where + ".dir is required");
    options.dir = node["dir"].as<std::string>();
    if (node["format"] &&
        !connectors::ParseFileFormat(node["format"].as<std::string>(), &options.format)) {
      return Invalid(where + ".format must be jsonl or csv");
    }
    if (node["rotate_bytes"]) options.rotate_bytes = node["rotate_bytes"].as<size_t>();
    if (node["rotate_seconds"]) {
      options.rotate_interval = std::chrono::seconds(node["rotate_seconds"].as<int64_t>());
    }
    if (options.rotate_bytes == 0 || options.rotate_interval.count() <= 0) {
      return Invalid(where + ": rotate_bytes and rotate_seconds must be positive");
    }
    options.sink_name = target.name;
    options.image_json = image_json;
  } else {
    return Invalid(where + ".type must be postgres or files, not " + type);
  }
  return target;
}

Status ParseKafka(const YAML::Node& node, SinkKafkaConfig* kafka) {
  TW_RETURN_IF_ERROR(CheckKeys(node, "source.kafka",
                               {"brokers", "topic_prefix", "format", "group_id", "properties"}));
  if (!node["brokers"]) return Invalid("source.kafka.brokers is required");
  kafka->brokers = node["brokers"].as<std::string>();
  if (kafka->brokers.empty()) return Invalid("source.kafka.brokers is required");
  if (node["topic_prefix"]) kafka->topic_prefix = node["topic_prefix"].as<std::string>();
  if (node["format"] &&
      !connectors::ParseKafkaFormat(node["format"].as<std::string>(), &kafka->format)) {
    return Invalid("source.kafka.format must be protobuf or json");
  }
  if (node["group_id"]) kafka->group_id = node["group_id"].as<std::string>();
  if (const YAML::Node properties = node["properties"]) {
    if (!properties.IsMap()) return Invalid("source.kafka.properties must be a mapping");
    for (const auto& entry : properties) {
      kafka->properties[entry.first.as<std::string>()] = entry.second.as<std::string>();
    }
  }
  return Status::Ok();
}

Result<SinkConfig> Parse(const YAML::Node& root) {
  SinkConfig config;
  TW_RETURN_IF_ERROR(CheckKeys(
      root, "config",
      {"source", "tables", "application", "starting_position", "starting_timestamp",
       "max_batch_records", "max_batching_window_ms", "lease_duration_ms", "sinks", "metrics"}));
  const YAML::Node source = root["source"];
  if (!source) return Invalid("source is required");
  TW_RETURN_IF_ERROR(CheckKeys(source, "source", {"endpoint", "data_dir", "region", "kafka"}));
  if (source["endpoint"]) config.source.endpoint = source["endpoint"].as<std::string>();
  if (source["data_dir"]) config.source.data_dir = source["data_dir"].as<std::string>();
  if (source["region"]) config.source.region = source["region"].as<std::string>();
  if (source["kafka"]) TW_RETURN_IF_ERROR(ParseKafka(source["kafka"], &config.source.kafka));
  const int sources = (config.source.endpoint.empty() ? 0 : 1) +
                      (config.source.data_dir.empty() ? 0 : 1) +
                      (config.source.kafka.brokers.empty() ? 0 : 1);
  if (sources != 1) return Invalid("source needs exactly one of endpoint, data_dir and kafka");
  const YAML::Node tables = root["tables"];
  if (!tables || !tables.IsSequence() || tables.size() == 0) {
    return Invalid("tables must be a non-empty list");
  }
  for (const auto& table : tables) config.tables.push_back(table.as<std::string>());
  if (root["application"]) config.application = root["application"].as<std::string>();
  if (root["starting_position"]) {
    const std::string position = root["starting_position"].as<std::string>();
    if (position == "trim_horizon") {
      config.starting_position = streams::StartingPosition::kTrimHorizon;
    } else if (position == "latest") {
      config.starting_position = streams::StartingPosition::kLatest;
    } else if (position == "at_timestamp") {
      config.starting_position = streams::StartingPosition::kAtTimestamp;
    } else {
      return Invalid("starting_position must be trim_horizon, latest or at_timestamp");
    }
  }
  const bool at_timestamp = config.starting_position == streams::StartingPosition::kAtTimestamp;
  if (at_timestamp != static_cast<bool>(root["starting_timestamp"])) {
    return Invalid(at_timestamp ? "starting_timestamp is required with starting_position "
                                  "at_timestamp"
                                : "starting_timestamp is only for starting_position at_timestamp");
  }
  if (at_timestamp) {
    auto micros = ParseStartingTime(root["starting_timestamp"].as<std::string>());
    if (!micros.ok()) return Invalid("starting_timestamp: " + micros.status().message());
    config.starting_time_micros = *micros;
  }
  if (root["max_batch_records"]) {
    config.max_batch_records = root["max_batch_records"].as<size_t>();
    if (config.max_batch_records == 0) return Invalid("max_batch_records must be positive");
  }
  if (root["max_batching_window_ms"]) {
    config.max_batching_window =
        std::chrono::milliseconds(root["max_batching_window_ms"].as<int64_t>());
  }
  if (root["lease_duration_ms"]) {
    config.lease_duration = std::chrono::milliseconds(root["lease_duration_ms"].as<int64_t>());
    if (config.lease_duration.count() <= 0) return Invalid("lease_duration_ms must be positive");
  }
  const YAML::Node sinks = root["sinks"];
  if (!sinks || !sinks.IsSequence() || sinks.size() == 0) {
    return Invalid("sinks must be a non-empty list");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < sinks.size(); ++i) {
    TW_ASSIGN_OR_RETURN(SinkTargetConfig target, ParseTarget(sinks[i], i));
    if (!names.insert(target.name).second) {
      return Invalid("two sinks are named " + target.name + " (set name:)");
    }
    config.sinks.push_back(std::move(target));
  }
  if (root["metrics"]) {
    TW_RETURN_IF_ERROR(CheckKeys(root["metrics"], "metrics", {"listen"}));
    if (root["metrics"]["listen"]) {
      config.metrics_listen = root["metrics"]["listen"].as<std::string>();
    }
  }
  return config;
}

}  // namespace

Result<SinkConfig> ParseSinkConfig(const std::string& yaml_text) {
  try {
    return Parse(YAML::Load(yaml_text));
  } catch (const YAML::Exception& error) {
    return Invalid(error.what());
  }
}

}  // namespace tidewater::cli
