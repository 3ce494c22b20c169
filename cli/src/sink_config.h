// `tidewater sink --config FILE`: the YAML configuration (docs/SINKS.md shows a full file).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tidewater/connectors/file_sink.h"
#include "tidewater/connectors/kafka_wire.h"
#include "tidewater/connectors/postgres_sink.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/quarantine.h"

namespace tidewater::cli {

// Topics the Kafka publisher writes (connectors/kafka_wire.h).
struct SinkKafkaConfig {
  std::string brokers;                      // bootstrap servers; set: the source is Kafka
  std::string topic_prefix = "tidewater.";  // table T is topic "<topic_prefix>T"
  connectors::KafkaFormat format = connectors::KafkaFormat::kProtobuf;
  // Consumer groups are "<group_id>.<sink name>.<table>"; "" means the application.
  std::string group_id;
  std::map<std::string, std::string> properties;  // librdkafka properties
};

// Exactly one of endpoint, data_dir and kafka.brokers is set.
struct SinkSourceConfig {
  std::string endpoint;  // a tidewaterd, "http://HOST:PORT"
  std::string data_dir;  // or a local engine's directory (not shared with a running tidewaterd)
  std::string region = "local";  // the local engine's region
  SinkKafkaConfig kafka;         // or the Kafka topics of the tables
};

struct SinkTargetConfig {
  enum class Type { kPostgres, kFiles };
  Type type = Type::kFiles;
  std::string name;  // unique; the consumer application is "<application>.<name>"
  connectors::PostgresSinkOptions postgres;
  connectors::FileSinkOptions files;
  // poison_records: quarantine_key (postgres only; default block): records PostgreSQL
  // rejects are parked per key in `quarantine_table` (connectors/quarantining_sink.h) after
  // `poison_retry_attempts` more writes.
  bool quarantine_key = false;
  int poison_retry_attempts = 2;
  std::string quarantine_table = streams::kDefaultQuarantineTable;
};

struct SinkConfig {
  SinkSourceConfig source;
  std::vector<std::string> tables;
  std::string application = "tidewater-sink";
  streams::StartingPosition starting_position = streams::StartingPosition::kTrimHorizon;
  int64_t starting_time_micros = 0;  // with at_timestamp: starting_timestamp
  size_t max_batch_records = 1000;
  std::chrono::milliseconds max_batching_window{200};
  // A lease not renewed for this long is taken over (after a crash, the restarted sink
  // waits this long for the dead worker's shards).
  std::chrono::milliseconds lease_duration{10'000};
  std::vector<SinkTargetConfig> sinks;
  std::string metrics_listen;  // "HOST:PORT" for /metrics; "" for none
};

// Parses and validates the YAML text. Errors: Validation naming the offending key.
Result<SinkConfig> ParseSinkConfig(const std::string& yaml_text);

}  // namespace tidewater::cli
