#include "config_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace tidewater::server {
namespace {

template <typename T>
Status Read(const YAML::Node& node, const std::string& key, std::optional<T>* out) {
  try {
    *out = node.as<T>();
    return Status::Ok();
  } catch (const YAML::Exception&) {
    return Status::Validation("config key '" + key + "' has a value of the wrong type");
  }
}

}  // namespace

Result<ConfigFileValues> ParseConfigText(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::Validation(std::string("config is not valid YAML: ") + e.what());
  }
  ConfigFileValues values;
  if (root.IsNull()) return values;
  if (!root.IsMap()) return Status::Validation("config must be a YAML mapping of flag: value");
  for (const auto& entry : root) {
    std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (key == "data-dir") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.data_dir));
    } else if (key == "listen") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.listen));
    } else if (key == "region") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.region));
    } else if (key == "threads") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.threads));
    } else if (key == "max-body-bytes") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.max_body_bytes));
    } else if (key == "sync") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.sync));
    } else if (key == "min-free-disk-mb") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.min_free_disk_mb));
    } else if (key == "cache-mb") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.cache_mb));
    } else if (key == "log-level") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.log_level));
    } else if (key == "kafka-brokers") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.kafka_brokers));
    } else if (key == "kafka-topic-prefix") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.kafka_topic_prefix));
    } else if (key == "kafka-format") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.kafka_format));
    } else if (key == "kafka-properties") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.kafka_properties));
    } else if (key == "cluster-brokers") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.cluster_brokers));
    } else if (key == "cluster-name") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.cluster_name));
    } else if (key == "node-id") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.node_id));
    } else if (key == "advertise") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.advertise));
    } else if (key == "cluster-kafka-properties") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.cluster_kafka_properties));
    } else if (key == "cluster-ownership") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.cluster_ownership));
    } else if (key == "cluster-session-timeout-ms") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.cluster_session_timeout_ms));
    } else if (key == "console") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.console));
    } else if (key == "split-shard-bytes") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.split_shard_bytes));
    } else if (key == "split-shard-writes-per-second") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.split_shard_writes_per_second));
    } else if (key == "split-sustain-seconds") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.split_sustain_seconds));
    } else if (key == "autoscaling-period-seconds") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.autoscaling_period_seconds));
    } else if (key == "s3-endpoint") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.s3_endpoint));
    } else if (key == "s3-region") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.s3_region));
    } else if (key == "s3-path-style") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.s3_path_style));
    } else if (key == "s3-local-buckets") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.s3_local_buckets));
    } else if (key == "s3-access-key-id") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.s3_access_key_id));
    } else if (key == "s3-secret-access-key") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.s3_secret_access_key));
    } else if (key == "incremental-export-min-window-seconds") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.incremental_export_min_window_seconds));
    } else if (key == "auth") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.auth));
    } else if (key == "credentials-file") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.credentials_file));
    } else if (key == "metrics-auth") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.metrics_auth));
    } else if (key == "authorization") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.authorization));
    } else if (key == "policy-file") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.policy_file));
    } else if (key == "audit-allowed") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.audit_allowed));
    } else if (key == "tls-cert") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.tls_cert));
    } else if (key == "tls-key") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.tls_key));
    } else if (key == "tls-client-ca") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.tls_client_ca));
    } else if (key == "encryption-key-file") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.encryption_key_file));
    } else if (key == "encryption-key-command") {
      TW_RETURN_IF_ERROR(Read(value, key, &values.encryption_key_command));
    } else {
      return Status::Validation("unknown config key '" + key + "'");
    }
  }
  return values;
}

Result<ConfigFileValues> ReadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Validation("cannot read config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfigText(text.str());
}

}  // namespace tidewater::server
