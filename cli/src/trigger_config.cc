#include "trigger_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>

#include "starting_time.h"
#include "tidewater/streams/filter_pattern.h"

namespace tidewater::cli {
namespace {

Status Invalid(const std::string& where, const std::string& what) {
  return Status::Validation("trigger config: " + where + ": " + what);
}

Status CheckKeys(const YAML::Node& node, const std::string& where,
                 const std::set<std::string>& allowed) {
  if (!node.IsMap()) return Invalid(where, "must be a mapping");
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    if (!allowed.contains(key)) return Invalid(where, "unknown key \"" + key + "\"");
  }
  return Status::Ok();
}

template <typename T>
Result<T> Scalar(const YAML::Node& node, const std::string& where) {
  try {
    if (!node.IsDefined()) return Invalid(where, "is required");
    if (!node.IsScalar()) return Invalid(where, "must be a single value");
    return node.as<T>();
  } catch (const YAML::Exception&) {
    return Invalid(where, "has the wrong type");
  }
}

Result<std::chrono::milliseconds> Seconds(const YAML::Node& node, const std::string& where) {
  TW_ASSIGN_OR_RETURN(double seconds, Scalar<double>(node, where));
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 86'400) {
    return Invalid(where, "must be a number of seconds between 0 and 86400");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

Result<TriggerHandlerConfig> ParseHandler(const YAML::Node& node, const std::string& where) {
  TW_RETURN_IF_ERROR(CheckKeys(node, where, {"type", "command", "url", "headers", "timeout"}));
  TriggerHandlerConfig handler;
  TW_ASSIGN_OR_RETURN(handler.type, Scalar<std::string>(node["type"], where + ".type"));
  if (node["timeout"]) {
    TW_ASSIGN_OR_RETURN(handler.timeout, Seconds(node["timeout"], where + ".timeout"));
    if (handler.timeout.count() == 0) return Invalid(where + ".timeout", "must be positive");
  }
  if (handler.type == "exec") {
    const YAML::Node command = node["command"];
    if (command && command.IsSequence()) {
      for (size_t i = 0; i < command.size(); ++i) {
        TW_ASSIGN_OR_RETURN(std::string arg, Scalar<std::string>(command[i], where + ".command"));
        handler.command.push_back(std::move(arg));
      }
    } else if (command) {
      TW_ASSIGN_OR_RETURN(std::string program, Scalar<std::string>(command, where + ".command"));
      handler.command.push_back(std::move(program));
    }
    if (handler.command.empty()) return Invalid(where + ".command", "is required for exec");
  } else if (handler.type == "webhook") {
    TW_ASSIGN_OR_RETURN(handler.url, Scalar<std::string>(node["url"], where + ".url"));
    if (const YAML::Node headers = node["headers"]) {
      if (!headers.IsMap()) return Invalid(where + ".headers", "must be a mapping");
      for (const auto& entry : headers) {
        handler.headers[entry.first.as<std::string>()] = entry.second.as<std::string>();
      }
    }
  } else {
    return Invalid(where + ".type", "must be exec or webhook");
  }
  return handler;
}

Result<OnFailureConfig> ParseDestination(const YAML::Node& node, const std::string& where) {
  TW_RETURN_IF_ERROR(CheckKeys(node, where, {"OnFailure"}));
  TW_RETURN_IF_ERROR(CheckKeys(node["OnFailure"], where + ".OnFailure", {"Destination"}));
  const std::string key = where + ".OnFailure.Destination";
  TW_ASSIGN_OR_RETURN(std::string destination,
                      Scalar<std::string>(node["OnFailure"]["Destination"], key));
  OnFailureConfig config;
  constexpr std::string_view kFile = "file:";
  constexpr std::string_view kKafka = "kafka://";
  if (destination.starts_with(kFile) && destination.size() > kFile.size()) {
    config.file = destination.substr(kFile.size());
    return config;
  }
  if (destination.starts_with(kKafka)) {
    std::string rest = destination.substr(kKafka.size());
    size_t slash = rest.find('/');
    if (slash != std::string::npos && slash > 0 && slash + 1 < rest.size()) {
      config.kafka_brokers = rest.substr(0, slash);
      config.kafka_topic = rest.substr(slash + 1);
      return config;
    }
  }
  return Invalid(key, "must be file:PATH or kafka://BROKERS/TOPIC");
}

Result<TriggerConfig> ParseTrigger(const YAML::Node& node, const std::string& where) {
  TW_RETURN_IF_ERROR(
      CheckKeys(node, where,
                {"name", "table", "handler", "BatchSize", "MaximumBatchingWindowInSeconds",
                 "StartingPosition", "StartingPositionTimestamp", "MaximumRetryAttempts",
                 "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "FunctionResponseTypes",
                 "FilterCriteria", "ParallelizationFactor", "PartitionKey", "DestinationConfig",
                 "PoisonRecordHandling", "QuarantineTable"}));
  TriggerConfig trigger;
  TW_ASSIGN_OR_RETURN(trigger.table, Scalar<std::string>(node["table"], where + ".table"));
  trigger.name = trigger.table;
  if (node["name"]) {
    TW_ASSIGN_OR_RETURN(trigger.name, Scalar<std::string>(node["name"], where + ".name"));
  }
  const std::string at = "trigger " + trigger.name;
  if (!node["handler"]) return Invalid(at, "handler is required");
  TW_ASSIGN_OR_RETURN(trigger.handler, ParseHandler(node["handler"], at + ".handler"));

  streams::TriggerOptions& o = trigger.options;
  o.function_name = trigger.name;
  if (node["BatchSize"]) {
    TW_ASSIGN_OR_RETURN(int64_t size, Scalar<int64_t>(node["BatchSize"], at + ".BatchSize"));
    if (size < 1) return Invalid(at + ".BatchSize", "must be between 1 and 10000");
    o.batch_size = static_cast<size_t>(size);
  }
  if (node["MaximumBatchingWindowInSeconds"]) {
    TW_ASSIGN_OR_RETURN(o.maximum_batching_window, Seconds(node["MaximumBatchingWindowInSeconds"],
                                                           at + ".MaximumBatchingWindowInSeconds"));
  }
  if (!node["StartingPosition"])
    return Invalid(at, "StartingPosition is required (TRIM_HORIZON, LATEST or AT_TIMESTAMP)");
  TW_ASSIGN_OR_RETURN(std::string position,
                      Scalar<std::string>(node["StartingPosition"], at + ".StartingPosition"));
  if (position == "TRIM_HORIZON") {
    o.starting_position = streams::StartingPosition::kTrimHorizon;
  } else if (position == "LATEST") {
    o.starting_position = streams::StartingPosition::kLatest;
  } else if (position == "AT_TIMESTAMP") {
    o.starting_position = streams::StartingPosition::kAtTimestamp;
  } else {
    return Invalid(at + ".StartingPosition", "must be TRIM_HORIZON, LATEST or AT_TIMESTAMP");
  }
  const bool at_timestamp = o.starting_position == streams::StartingPosition::kAtTimestamp;
  if (at_timestamp != static_cast<bool>(node["StartingPositionTimestamp"])) {
    return Invalid(at + ".StartingPositionTimestamp",
                   at_timestamp ? "is required with StartingPosition AT_TIMESTAMP"
                                : "is only for StartingPosition AT_TIMESTAMP");
  }
  if (at_timestamp) {
    const std::string key = at + ".StartingPositionTimestamp";
    TW_ASSIGN_OR_RETURN(std::string time,
                        Scalar<std::string>(node["StartingPositionTimestamp"], key));
    auto micros = ParseStartingTime(time);
    if (!micros.ok()) return Invalid(key, micros.status().message());
    o.starting_position_timestamp_micros = *micros;
  }
  if (node["MaximumRetryAttempts"]) {
    TW_ASSIGN_OR_RETURN(o.maximum_retry_attempts,
                        Scalar<int>(node["MaximumRetryAttempts"], at + ".MaximumRetryAttempts"));
  }
  if (node["MaximumRecordAgeInSeconds"]) {
    TW_ASSIGN_OR_RETURN(
        o.maximum_record_age_seconds,
        Scalar<int64_t>(node["MaximumRecordAgeInSeconds"], at + ".MaximumRecordAgeInSeconds"));
  }
  if (node["BisectBatchOnFunctionError"]) {
    TW_ASSIGN_OR_RETURN(
        o.bisect_batch_on_function_error,
        Scalar<bool>(node["BisectBatchOnFunctionError"], at + ".BisectBatchOnFunctionError"));
  }
  if (const YAML::Node types = node["FunctionResponseTypes"]) {
    if (!types.IsSequence()) return Invalid(at + ".FunctionResponseTypes", "must be a list");
    for (size_t i = 0; i < types.size(); ++i) {
      TW_ASSIGN_OR_RETURN(std::string type,
                          Scalar<std::string>(types[i], at + ".FunctionResponseTypes"));
      if (type != "ReportBatchItemFailures") {
        return Invalid(at + ".FunctionResponseTypes", "only ReportBatchItemFailures exists");
      }
      o.report_batch_item_failures = true;
    }
  }
  if (const YAML::Node criteria = node["FilterCriteria"]) {
    TW_RETURN_IF_ERROR(CheckKeys(criteria, at + ".FilterCriteria", {"Filters"}));
    const YAML::Node filters = criteria["Filters"];
    if (!filters.IsSequence()) return Invalid(at + ".FilterCriteria.Filters", "must be a list");
    for (size_t i = 0; i < filters.size(); ++i) {
      const std::string key = at + ".FilterCriteria.Filters[" + std::to_string(i) + "]";
      TW_RETURN_IF_ERROR(CheckKeys(filters[i], key, {"Pattern"}));
      TW_ASSIGN_OR_RETURN(std::string pattern,
                          Scalar<std::string>(filters[i]["Pattern"], key + ".Pattern"));
      o.filter_patterns.push_back(std::move(pattern));
    }
  }
  if (node["ParallelizationFactor"]) {
    TW_ASSIGN_OR_RETURN(o.parallelization_factor,
                        Scalar<int>(node["ParallelizationFactor"], at + ".ParallelizationFactor"));
  }
  if (node["PartitionKey"]) {
    TW_ASSIGN_OR_RETURN(o.partition_key_attribute,
                        Scalar<std::string>(node["PartitionKey"], at + ".PartitionKey"));
  }
  if (node["DestinationConfig"]) {
    TW_ASSIGN_OR_RETURN(trigger.on_failure,
                        ParseDestination(node["DestinationConfig"], at + ".DestinationConfig"));
  }
  if (node["PoisonRecordHandling"]) {
    TW_ASSIGN_OR_RETURN(std::string handling, Scalar<std::string>(node["PoisonRecordHandling"],
                                                                  at + ".PoisonRecordHandling"));
    if (handling == "BLOCK_SHARD") {
      o.poison_record_handling = streams::PoisonRecordHandling::kBlockShard;
    } else if (handling == "QUARANTINE_KEY") {
      o.poison_record_handling = streams::PoisonRecordHandling::kQuarantineKey;
    } else {
      return Invalid(at + ".PoisonRecordHandling", "must be BLOCK_SHARD or QUARANTINE_KEY");
    }
  }
  if (node["QuarantineTable"]) {
    if (o.poison_record_handling != streams::PoisonRecordHandling::kQuarantineKey) {
      return Invalid(at + ".QuarantineTable", "is only for PoisonRecordHandling QUARANTINE_KEY");
    }
    TW_ASSIGN_OR_RETURN(trigger.quarantine_table,
                        Scalar<std::string>(node["QuarantineTable"], at + ".QuarantineTable"));
    if (trigger.quarantine_table.empty()) return Invalid(at + ".QuarantineTable", "is empty");
  }
  Status valid = streams::ValidateTriggerOptions(o);
  if (!valid.ok()) return Invalid(at, valid.message());
  auto filters = streams::FilterCriteria::Parse(o.filter_patterns);
  if (!filters.ok()) return Invalid(at + ".FilterCriteria", filters.status().message());
  return trigger;
}

}  // namespace

Result<TriggerRunConfig> ParseTriggerConfig(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& error) {
    return Status::Validation(std::string("trigger config: not valid YAML: ") + error.what());
  }
  TW_RETURN_IF_ERROR(
      CheckKeys(root, "top level", {"source", "application", "region", "metrics", "triggers"}));
  TriggerRunConfig config;
  const YAML::Node source = root["source"];
  if (!source) return Invalid("source", "is required (endpoint, data-dir or kafka)");
  TW_RETURN_IF_ERROR(CheckKeys(source, "source", {"endpoint", "data-dir", "kafka"}));
  if (source.size() != 1) return Invalid("source", "give exactly one of endpoint, data-dir, kafka");
  if (source["endpoint"]) {
    TW_ASSIGN_OR_RETURN(config.endpoint,
                        Scalar<std::string>(source["endpoint"], "source.endpoint"));
    if (!config.endpoint.starts_with("http://")) {
      return Invalid("source.endpoint", "must be an http:// URL");
    }
  }
  if (source["data-dir"]) {
    TW_ASSIGN_OR_RETURN(config.data_dir,
                        Scalar<std::string>(source["data-dir"], "source.data-dir"));
  }
  if (const YAML::Node kafka = source["kafka"]) {
    TW_RETURN_IF_ERROR(
        CheckKeys(kafka, "source.kafka", {"brokers", "topic-prefix", "format", "properties"}));
    TW_ASSIGN_OR_RETURN(config.kafka.brokers,
                        Scalar<std::string>(kafka["brokers"], "source.kafka.brokers"));
    if (kafka["topic-prefix"]) {
      TW_ASSIGN_OR_RETURN(config.kafka.topic_prefix,
                          Scalar<std::string>(kafka["topic-prefix"], "source.kafka.topic-prefix"));
    }
    if (kafka["format"]) {
      TW_ASSIGN_OR_RETURN(std::string format,
                          Scalar<std::string>(kafka["format"], "source.kafka.format"));
      if (!connectors::ParseKafkaFormat(format, &config.kafka.format)) {
        return Invalid("source.kafka.format", "must be protobuf or json");
      }
    }
    if (const YAML::Node properties = kafka["properties"]) {
      if (!properties.IsMap()) return Invalid("source.kafka.properties", "must be a mapping");
      for (const auto& entry : properties) {
        config.kafka.properties[entry.first.as<std::string>()] = entry.second.as<std::string>();
      }
    }
  }
  if (root["application"]) {
    TW_ASSIGN_OR_RETURN(config.application,
                        Scalar<std::string>(root["application"], "application"));
  }
  if (root["region"]) {
    TW_ASSIGN_OR_RETURN(config.region, Scalar<std::string>(root["region"], "region"));
  }
  if (const YAML::Node metrics = root["metrics"]) {
    TW_RETURN_IF_ERROR(CheckKeys(metrics, "metrics", {"listen"}));
    TW_ASSIGN_OR_RETURN(config.metrics_listen,
                        Scalar<std::string>(metrics["listen"], "metrics.listen"));
  }
  const YAML::Node triggers = root["triggers"];
  if (!triggers || !triggers.IsSequence() || triggers.size() == 0) {
    return Invalid("triggers", "must list at least one trigger");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < triggers.size(); ++i) {
    TW_ASSIGN_OR_RETURN(TriggerConfig trigger,
                        ParseTrigger(triggers[i], "triggers[" + std::to_string(i) + "]"));
    trigger.options.region = config.region;
    if (!names.insert(trigger.name).second) {
      return Invalid("triggers", "two triggers are named " + trigger.name);
    }
    config.triggers.push_back(std::move(trigger));
  }
  return config;
}

}  // namespace tidewater::cli
