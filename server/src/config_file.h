// tidewaterd --config FILE: a YAML mapping whose keys mirror the command-line flags
// (data-dir, listen, region, threads, max-body-bytes, sync, min-free-disk-mb, log-level,
// kafka-brokers, kafka-topic-prefix, kafka-format, console, split-shard-bytes,
// split-shard-writes-per-second, split-sustain-seconds, autoscaling-period-seconds, s3-endpoint,
// s3-region, s3-path-style, s3-access-key-id, s3-secret-access-key,
// incremental-export-min-window-seconds, auth, credentials-file, metrics-auth,
// authorization, policy-file, audit-allowed, tls-cert, tls-key, tls-client-ca,
// encryption-key-file, encryption-key-command, cluster-brokers, cluster-name, node-id,
// advertise, cluster-ownership, cluster-session-timeout-ms), plus
// kafka-properties: a mapping of librdkafka properties passed to the Kafka publisher,
// cluster-kafka-properties: the same for cluster mode's Kafka clients (TLS, SASL), and
// s3-local-buckets: a mapping of bucket name to local directory (the flag --s3-local-bucket
// NAME=DIR). Flags given on the command line win over the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tidewater/core/status.h"

namespace tidewater::server {

struct ConfigFileValues {
  std::optional<std::string> data_dir;
  std::optional<std::string> listen;
  std::optional<std::string> region;
  std::optional<int> threads;
  std::optional<size_t> max_body_bytes;
  std::optional<bool> sync;
  std::optional<uint64_t> min_free_disk_mb;
  std::optional<uint64_t> cache_mb;
  std::optional<std::string> log_level;
  std::optional<std::string> kafka_brokers;
  std::optional<std::string> kafka_topic_prefix;
  std::optional<std::string> kafka_format;
  std::optional<std::map<std::string, std::string>> kafka_properties;
  std::optional<std::string> cluster_brokers;
  std::optional<std::string> cluster_name;
  std::optional<std::string> node_id;
  std::optional<std::string> advertise;
  std::optional<std::map<std::string, std::string>> cluster_kafka_properties;
  std::optional<std::string> cluster_ownership;  // "group", "every-shard" (checked by tidewaterd)
  std::optional<int64_t> cluster_session_timeout_ms;
  std::optional<std::string> console;  // "on" or "off" (checked by tidewaterd)
  // Automatic shard splits (checked by tidewaterd: not negative).
  std::optional<double> split_shard_bytes;
  std::optional<double> split_shard_writes_per_second;
  std::optional<double> split_sustain_seconds;
  // Application Auto Scaling's evaluation period (checked by tidewaterd: positive).
  std::optional<double> autoscaling_period_seconds;
  // Where table exports go (ObjectStoreOptions).
  std::optional<std::string> s3_endpoint;
  std::optional<std::string> s3_region;
  std::optional<bool> s3_path_style;
  std::optional<std::map<std::string, std::string>> s3_local_buckets;
  std::optional<std::string> s3_access_key_id;
  std::optional<std::string> s3_secret_access_key;
  // The shortest incremental export window (checked by tidewaterd).
  std::optional<double> incremental_export_min_window_seconds;
  // Request authentication (checked by tidewaterd: "off"/"required", "open"/"required").
  std::optional<std::string> auth;
  std::optional<std::string> credentials_file;
  std::optional<std::string> metrics_auth;
  // Authorization (checked by tidewaterd: "open"/"policies").
  std::optional<std::string> authorization;
  std::optional<std::string> policy_file;
  std::optional<bool> audit_allowed;
  // HTTPS: PEM files (checked when the server starts).
  std::optional<std::string> tls_cert;
  std::optional<std::string> tls_key;
  std::optional<std::string> tls_client_ca;
  // Encryption at rest: the master keyring's file or command (checked when the server starts).
  std::optional<std::string> encryption_key_file;
  std::optional<std::string> encryption_key_command;
};

// Errors (Validation): unreadable or malformed YAML, a key that is not a flag, a value of
// the wrong type.
Result<ConfigFileValues> ParseConfigText(const std::string& yaml_text);
Result<ConfigFileValues> ReadConfigFile(const std::string& path);

}  // namespace tidewater::server
