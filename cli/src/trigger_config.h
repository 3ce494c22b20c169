// The YAML configuration of `tidewater trigger` (docs/TRIGGERS.md): where changes come
// from (a remote tidewaterd, a local data directory, or Kafka), the application name, the metrics
// address, and the triggers with their handler and their event source mapping options under
// Lambda's names.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "tidewater/connectors/stream_source.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/trigger.h"

namespace tidewater::cli {

struct TriggerHandlerConfig {
  std::string type;                            // exec | webhook
  std::vector<std::string> command;            // exec: program and arguments
  std::string url;                             // webhook
  std::map<std::string, std::string> headers;  // webhook
  std::chrono::milliseconds timeout{60'000};   // Lambda's default is 3 s; ours 60 s
};

// DestinationConfig.OnFailure.Destination: "file:PATH" or "kafka://BROKERS/TOPIC".
struct OnFailureConfig {
  std::string file;
  std::string kafka_brokers;
  std::string kafka_topic;
  bool configured() const { return !file.empty() || !kafka_topic.empty(); }
};

struct TriggerConfig {
  std::string name;
  std::string table;
  TriggerHandlerConfig handler;
  // The mapping options; on_failure, listener and the stream identity are set at run time.
  streams::TriggerOptions options;
  OnFailureConfig on_failure;
  // QuarantineTable: where PoisonRecordHandling QUARANTINE_KEY parks records.
  std::string quarantine_table = streams::kDefaultQuarantineTable;
};

// Exactly one source is set.
struct TriggerRunConfig {
  std::string endpoint;                 // a remote tidewaterd, http://HOST:PORT
  std::string data_dir;                 // a local engine's data directory
  connectors::KafkaSourceConfig kafka;  // kafka.brokers set: the publisher's topics
  std::string region = "local";
  std::string application = "tidewater-trigger";
  std::string metrics_listen;  // HOST:PORT; empty: no metrics endpoint
  std::vector<TriggerConfig> triggers;
};

// Errors: Validation naming the key that is wrong (unknown keys are errors, so that a
// misspelt option does not silently take its default).
Result<TriggerRunConfig> ParseTriggerConfig(const std::string& yaml_text);

}  // namespace tidewater::cli
