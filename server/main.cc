// tidewaterd: the Tidewater table engine server.
//
//   tidewaterd --data-dir DIR --listen HOST:PORT --region NAME [--config FILE]
//              [--kafka-brokers HOST:PORT,... [--kafka-topic-prefix P] [--kafka-format F]
//               [--kafka-watermark-interval-ms N]] [--console on|off] [--throttling on|off]
//              [--split-shard-bytes N] [--split-shard-writes-per-second N]
//              [--split-sustain-seconds S] [--autoscaling-period-seconds S]
//              [--s3-endpoint URL] [--s3-region R] [--s3-path-style true|false]
//              [--s3-local-bucket NAME=DIR]... [--s3-access-key-id ID --s3-secret-access-key K]
//              [--incremental-export-min-window-seconds S]
//              [--auth off|required] [--credentials-file FILE] [--metrics-auth open|required]
//              [--authorization open|policies] [--policy-file FILE] [--audit-allowed]
//              [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]
//              [--encryption-key-file FILE | --encryption-key-command CMD]
//              [--cluster-brokers HOST:PORT,... --cluster-name NAME --node-id ID
//               [--advertise HOST:PORT] [--cluster-ownership group|every-shard]
//               [--cluster-session-timeout-ms MS]]
//
// With --tls-cert and --tls-key, --listen speaks HTTPS only (TLS 1.2+, forward-secret AEAD
// suites); --tls-client-ca also requires a client certificate signed by one of its CAs
// (docs/OPERATIONS.md, "TLS").
// With --encryption-key-file (a keyring file, mode 600) or --encryption-key-command (a
// command printing the keyring) every file of the data directory and its backups is
// encrypted at rest with AES-256; a data directory is either encrypted or not, and tidewaterd
// refuses to start on the other kind (docs/OPERATIONS.md, "Encryption at rest").
// Requests must be signed with AWS Signature Version 4 (--auth required, the default unless
// --listen is a loopback address; --auth off is refused on any other address) by a
// credential of --credentials-file or of <data-dir>/credentials.yaml (created with
// `tidewater admin credentials create`); GET /metrics too unless --metrics-auth open
// (docs/OPERATIONS.md, "Authentication"). Secrets are never logged. With --authorization
// policies (needs --auth required) every API request is evaluated against its principal's
// access policies, those of --policy-file and of <data-dir>/policies.json (attached with
// `tidewater admin policy put`), and denied unless one allows it (docs/OPERATIONS.md,
// "Authorization").
// With Kafka brokers, the change log of every stream-enabled table is published to Kafka
// as well (docs/KAFKA.md). The read-only web console is served on /console unless
// --console off (docs/OPERATIONS.md). A shard that grows past --split-shard-bytes or stays
// above --split-shard-writes-per-second for --split-sustain-seconds splits in two
// (docs/ARCHITECTURE.md, "Shard splits"); 0 turns a rule off. Application Auto Scaling
// takes one datapoint of each scaled table's consumption per --autoscaling-period-seconds
// (60, as DynamoDB's alarms; shorter for tests) (docs/OPERATIONS.md, "Auto scaling").
// ExportTableToPointInTime writes to an S3-compatible endpoint (--s3-*; credentials from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN unless given, never logged)
// or to buckets mapped to local directories (--s3-local-bucket exports=/var/exports); with
// neither, an export fails with S3NoSuchBucket (docs/OPERATIONS.md, "Exports").
// With --cluster-brokers the node runs in cluster mode (docs/CLUSTER.md): every write is
// appended to its shard's Kafka partition, acknowledged there and read back before it is
// applied locally and answered, so a lost data directory loses nothing acknowledged. The
// nodes of a cluster share the shards through the owners' consumer group (--cluster-ownership
// group, the default): a node silent for --cluster-session-timeout-ms loses its shards to
// the others, and a node stopping hands its shards off first. With every-shard, the node
// takes every shard over at start (a one-node cluster). With the group, take-overs are
// announced on the topic tidewater.<cluster>.nodes, and an item request for shards another
// node serves is forwarded to it (plain HTTP; off with --tls-cert). It refuses to start when
// the brokers do not answer, the nodes topic is missing (group ownership), or the data
// directory belongs to another node or holds data written outside cluster mode.
// Stops cleanly on SIGTERM or SIGINT (finishes in-flight requests, closes the engine).
// Every acknowledged write is in the engine's write-ahead log before the answer is sent,
// so a SIGKILL loses nothing acknowledged.
#include <prometheus/registry.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "config_file.h"
#include "listen_address.h"
#include "tidewater/cluster/catalog_log.h"
#include "tidewater/cluster/cluster_commit_log.h"
#include "tidewater/cluster/node_identity.h"
#include "tidewater/connectors/kafka_publisher.h"
#include "tidewater/security/credential_store.h"
#include "tidewater/server/server.h"

namespace {

using tidewater::server::ServerOptions;

struct Flags {
  std::string config;
  std::string log_level = "info";
  std::string kafka_brokers;
  std::string kafka_topic_prefix = "tidewater.";
  std::string kafka_format = "protobuf";
  int64_t kafka_watermark_interval_ms = 0;
  std::string console = "on";
  std::string s3_path_style = "true";
  std::vector<std::string> s3_local_buckets;  // NAME=DIR
  std::string auth;                           // "off", "required"; empty: by the listen address
  std::string credentials_file;
  std::string metrics_auth;            // "open", "required"; empty: required when auth is
  std::string authorization = "open";  // "open", "policies"
  std::string policy_file;
  bool audit_allowed = false;
  std::string cluster_brokers;
  std::string cluster_name;
  std::string node_id;
  std::string advertise;                    // empty: the --listen address
  std::string cluster_ownership = "group";  // "group", "every-shard"
  int64_t cluster_session_timeout_ms = 10000;
  std::map<std::string, std::string> cluster_kafka_properties;  // config file only
};

int Fail(const std::string& message) {
  spdlog::error("event=startup_failed error=\"{}\"", message);
  return 1;
}

// Sets require_auth, metrics_open and credentials from the flags. Authentication may be off
// only on a loopback address, and is off by default there.
bool ApplyAuthFlags(const Flags& flags, ServerOptions* options, std::string* error) {
  auto endpoint = tidewater::server::ParseListenAddress(options->listen);
  if (!endpoint.ok()) {
    *error = endpoint.status().message();
    return false;
  }
  const bool loopback = tidewater::server::IsLoopback(*endpoint);
  const std::string auth = flags.auth.empty() ? (loopback ? "off" : "required") : flags.auth;
  if (auth != "off" && auth != "required") {
    *error = "auth must be off or required, not " + auth;
    return false;
  }
  if (!flags.metrics_auth.empty() && flags.metrics_auth != "open" &&
      flags.metrics_auth != "required") {
    *error = "metrics-auth must be open or required, not " + flags.metrics_auth;
    return false;
  }
  if (auth == "off" && !loopback) {
    *error = "--auth off would let anyone who reaches " + options->listen +
             " do anything: authentication may be off only on a loopback --listen address "
             "(127.0.0.1, [::1], localhost). Use --auth required with --credentials-file FILE "
             "(see Authentication in docs/OPERATIONS.md)";
    return false;
  }
  options->require_auth = auth == "required";
  if (!options->require_auth && !flags.credentials_file.empty()) {
    *error = "--credentials-file needs --auth required (auth is off: " +
             std::string(flags.auth.empty() ? "the default on a loopback --listen address)"
                                            : "--auth off)");
    return false;
  }
  if (!options->require_auth && flags.metrics_auth == "required") {
    *error = "--metrics-auth required needs --auth required";
    return false;
  }
  options->metrics_open = flags.metrics_auth == "open";
  if (!flags.credentials_file.empty()) {
    auto credentials = tidewater::security::ReadCredentialsFile(flags.credentials_file);
    if (!credentials.ok()) {
      *error = credentials.status().message();
      return false;
    }
    options->credentials = std::move(*credentials);
  }
  if (flags.authorization != "open" && flags.authorization != "policies") {
    *error = "authorization must be open or policies, not " + flags.authorization;
    return false;
  }
  if (flags.authorization == "policies" && !options->require_auth) {
    *error =
        "--authorization policies needs --auth required: policies belong to the principals of "
        "signed requests";
    return false;
  }
  if (!flags.policy_file.empty() && flags.authorization != "policies") {
    *error = "--policy-file needs --authorization policies";
    return false;
  }
  options->authorization = flags.authorization == "policies"
                               ? ServerOptions::Authorization::kPolicies
                               : ServerOptions::Authorization::kOpen;
  options->audit_allowed = flags.audit_allowed;
  if (!flags.policy_file.empty()) {
    auto policies = tidewater::security::ReadPolicyFile(flags.policy_file);
    if (!policies.ok()) {
      *error = flags.policy_file + ": " + policies.status().message();
      return false;
    }
    options->policies = std::move(*policies);
  }
  return true;
}

// Cluster mode from the flags (docs/CLUSTER.md): the data directory claimed for this node,
// the brokers reached, and the commit log the engine will write through. Null, and no
// error, in the embedded default, whose data directory must not belong to a cluster node.
// With group ownership `*directory` is where the log announces its take-overs and finds the
// other nodes' (it must outlive the log).
std::unique_ptr<tidewater::cluster::ClusterCommitLog> StartClusterMode(
    const Flags& flags, const ServerOptions& options, prometheus::Registry* registry,
    std::unique_ptr<tidewater::cluster::OwnerDirectory>* directory, std::string* error) {
  namespace cluster = tidewater::cluster;
  if (flags.cluster_brokers.empty()) {
    if (!flags.cluster_name.empty() || !flags.node_id.empty() || !flags.advertise.empty()) {
      *error = "--cluster-name, --node-id and --advertise need --cluster-brokers";
      return nullptr;
    }
    auto recorded = cluster::ReadNodeIdentity(options.data_dir);
    if (!recorded.ok()) {
      *error = recorded.status().message();
    } else if (*recorded) {
      *error = "data directory " + options.data_dir + " belongs to node " + (*recorded)->node_id +
               " of cluster " + (*recorded)->cluster_name +
               ": start it with --cluster-brokers, --cluster-name " + (*recorded)->cluster_name +
               " and --node-id " + (*recorded)->node_id;
    }
    return nullptr;
  }
  for (const auto& [what, value] :
       {std::pair{"--cluster-name", &flags.cluster_name}, {"--node-id", &flags.node_id}}) {
    if (tidewater::Status valid = cluster::ValidateClusterName(what, *value); !valid.ok()) {
      *error = valid.message();
      return nullptr;
    }
  }
  if (flags.cluster_ownership != "group" && flags.cluster_ownership != "every-shard") {
    *error =
        "--cluster-ownership must be group or every-shard, not '" + flags.cluster_ownership + "'";
    return nullptr;
  }
  if (flags.cluster_session_timeout_ms < 1000 || flags.cluster_session_timeout_ms > 300000) {
    *error = "--cluster-session-timeout-ms must be from 1000 to 300000";
    return nullptr;
  }
  const std::string advertise = flags.advertise.empty() ? options.listen : flags.advertise;
  if (auto parsed = tidewater::server::ParseListenAddress(advertise); !parsed.ok()) {
    *error = "--advertise: " + parsed.status().message();
    return nullptr;
  }
  if (auto claimed =
          cluster::ClaimDataDirectory(options.data_dir, {flags.cluster_name, flags.node_id});
      !claimed.ok()) {
    *error = claimed.message();
    return nullptr;
  }
  cluster::ClusterCommitLogOptions log;
  log.brokers = flags.cluster_brokers;
  log.cluster_name = flags.cluster_name;
  log.node_id = flags.node_id;
  log.advertised = advertise;
  log.kafka_properties = flags.cluster_kafka_properties;
  log.registry = registry;
  log.ownership = flags.cluster_ownership == "every-shard" ? cluster::ShardOwnership::kEveryShard
                                                           : cluster::ShardOwnership::kGroup;
  log.session_timeout = std::chrono::milliseconds(flags.cluster_session_timeout_ms);
  auto topics = cluster::ReadTopicPartitions({log.brokers, log.kafka_properties, log.timeout});
  if (!topics.ok()) {
    *error = "cluster mode: " + topics.status().message();
    return nullptr;
  }
  if (log.ownership == cluster::ShardOwnership::kGroup) {
    auto started = cluster::OwnerDirectory::Start({log.brokers, log.kafka_properties, log.timeout},
                                                  log.cluster_name);
    if (!started.ok()) {
      *error = "cluster mode: the owners' directory: " + started.status().message();
      return nullptr;
    }
    *directory = std::move(*started);
    log.directory = directory->get();
  }
  spdlog::info("event=cluster_mode cluster={} node={} advertise={} brokers={} topics={}",
               log.cluster_name, log.node_id, log.advertised, log.brokers, topics->size());
  return std::make_unique<cluster::ClusterCommitLog>(std::move(log));
}

// --s3-local-bucket NAME=DIR, one a flag.
bool ParseLocalBuckets(const std::vector<std::string>& given,
                       std::map<std::string, std::string>* buckets, std::string* error) {
  for (const std::string& entry : given) {
    const size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
      *error = "s3-local-bucket must be NAME=DIR, not " + entry;
      return false;
    }
    (*buckets)[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  ServerOptions options;
  Flags flags;
  int threads = 0;
  size_t max_body_bytes = options.max_body_bytes;
  bool sync = false;
  uint64_t min_free_disk_mb = options.min_free_disk_bytes >> 20;
  uint64_t cache_mb = options.cache_bytes >> 20;

  CLI::App app{"tidewaterd: DynamoDB-compatible table engine with change streams"};
  auto* data_dir_flag =
      app.add_option("--data-dir", options.data_dir, "Data directory")->capture_default_str();
  auto* listen_flag =
      app.add_option("--listen", options.listen, "HOST:PORT to serve on")->capture_default_str();
  auto* region_flag =
      app.add_option("--region", options.region, "Region name in ARNs and stream records")
          ->capture_default_str();
  app.add_option("--config", flags.config, "YAML file whose keys mirror these flags");
  auto* threads_flag = app.add_option("--threads", threads,
                                      "Worker threads (0: one per hardware thread, min 2; with "
                                      "--sync 2 per hardware thread, min 4)");
  auto* body_flag = app.add_option("--max-body-bytes", max_body_bytes, "Largest request body")
                        ->capture_default_str();
  auto* sync_flag = app.add_flag("--sync", sync, "fsync the write-ahead log on every write");
  auto* min_free_flag =
      app.add_option("--min-free-disk-mb", min_free_disk_mb,
                     "Refuse writes while the data directory's disk has less free space (MB); 0: "
                     "never")
          ->capture_default_str();
  auto* cache_flag =
      app.add_option("--cache-mb", cache_mb,
                     "Memory for the read cache of items and Query/Scan pages, kept exact by the "
                     "change log and used by eventually consistent reads (MB); 0: no cache")
          ->capture_default_str();
  auto* log_flag = app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error")
                       ->capture_default_str();
  auto* kafka_brokers_flag = app.add_option("--kafka-brokers", flags.kafka_brokers,
                                            "Publish the change log to Kafka (HOST:PORT,...)");
  auto* kafka_prefix_flag = app.add_option("--kafka-topic-prefix", flags.kafka_topic_prefix,
                                           "Kafka topic of a table: prefix + table name")
                                ->capture_default_str();
  auto* kafka_format_flag =
      app.add_option("--kafka-format", flags.kafka_format, "Kafka message value: protobuf, json")
          ->capture_default_str();
  app.add_option("--kafka-watermark-interval-ms", flags.kafka_watermark_interval_ms,
                 "Send each partition a watermark message this often (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  std::string throttling = "on";
  app.add_option("--throttling", throttling,
                 "on: PROVISIONED tables refuse load beyond their throughput "
                 "(ProvisionedThroughputExceededException); off: serve any load")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  auto* console_flag = app.add_option("--console", flags.console,
                                      "Serve the read-only web console on /console: on, off")
                           ->capture_default_str();
  double split_bytes = static_cast<double>(options.split_shard_bytes);
  auto* split_bytes_flag =
      app.add_option("--split-shard-bytes", split_bytes,
                     "Split a shard whose estimated stored bytes pass this (0: never)")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
  auto* split_writes_flag =
      app.add_option("--split-shard-writes-per-second", options.split_shard_writes_per_second,
                     "Split a shard whose change records per second stay above this for "
                     "--split-sustain-seconds (0: never)")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
  double split_sustain_seconds = static_cast<double>(options.split_sustain.count());
  auto* split_sustain_flag =
      app.add_option("--split-sustain-seconds", split_sustain_seconds,
                     "How long a shard's write rate must stay above the threshold")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
  double autoscaling_period_seconds = 60;
  auto* autoscaling_period_flag =
      app.add_option("--autoscaling-period-seconds", autoscaling_period_seconds,
                     "Application Auto Scaling's evaluation period: one datapoint of consumed "
                     "capacity per period (DynamoDB: 60; shorter only for tests)")
          ->capture_default_str();
  tidewater::ObjectStoreOptions& store = options.object_store;
  auto* s3_endpoint_flag = app.add_option(
      "--s3-endpoint", store.endpoint,
      "S3-compatible endpoint exports are written to (e.g. http://127.0.0.1:4569); none: only "
      "--s3-local-bucket buckets");
  auto* s3_region_flag =
      app.add_option("--s3-region", store.region, "Region requests to --s3-endpoint are signed for")
          ->capture_default_str();
  auto* s3_path_style_flag =
      app.add_option("--s3-path-style", flags.s3_path_style,
                     "true: endpoint/bucket/key; false: virtual-hosted bucket.endpoint/key")
          ->check(CLI::IsMember({"true", "false"}))
          ->capture_default_str();
  auto* s3_local_bucket_flag =
      app.add_option("--s3-local-bucket", flags.s3_local_buckets,
                     "NAME=DIR: bucket NAME is the local directory DIR (repeatable)")
          ->allow_extra_args(false);
  // Never logged; the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
  // AWS_SESSION_TOKEN) keeps them out of the process list.
  auto* s3_key_id_flag = app.add_option("--s3-access-key-id", store.access_key_id,
                                        "S3 access key id (default: AWS_ACCESS_KEY_ID)");
  auto* s3_secret_flag = app.add_option("--s3-secret-access-key", store.secret_access_key,
                                        "S3 secret access key (default: AWS_SECRET_ACCESS_KEY)");
  double incremental_window_seconds = 15 * 60;
  auto* incremental_window_flag =
      app.add_option("--incremental-export-min-window-seconds", incremental_window_seconds,
                     "Shortest window of an incremental export (DynamoDB: 900; shorter only for "
                     "tests)")
          ->capture_default_str();
  auto* auth_flag =
      app.add_option("--auth", flags.auth,
                     "off, required: requests must be signed with AWS Signature Version 4 by "
                     "a known credential (default: off on a loopback --listen address, else "
                     "required; off is refused on other addresses)");
  auto* credentials_file_flag =
      app.add_option("--credentials-file", flags.credentials_file,
                     "YAML file of credentials accepted besides those created with `tidewater "
                     "admin credentials create` (with --auth required)");
  auto* metrics_auth_flag =
      app.add_option("--metrics-auth", flags.metrics_auth,
                     "open, required: whether GET /metrics needs a signed request too "
                     "(default with --auth required: required)");
  auto* authorization_flag =
      app.add_option("--authorization", flags.authorization,
                     "open, policies: evaluate every request against the caller's access "
                     "policies, default deny (needs --auth required)")
          ->capture_default_str();
  auto* policy_file_flag =
      app.add_option("--policy-file", flags.policy_file,
                     "JSON file of access policies per principal, in force besides those "
                     "attached with `tidewater admin policy put` (with --authorization policies)");
  auto* audit_allowed_flag =
      app.add_flag("--audit-allowed", flags.audit_allowed,
                   "Log allowed requests too (event=access_allowed; denials are always logged)");
  auto* tls_cert_flag = app.add_option(
      "--tls-cert", options.tls_cert_file,
      "PEM certificate (then its chain): --listen speaks HTTPS only (needs --tls-key)");
  auto* tls_key_flag =
      app.add_option("--tls-key", options.tls_key_file, "PEM private key of --tls-cert");
  auto* tls_client_ca_flag = app.add_option(
      "--tls-client-ca", options.tls_client_ca_file,
      "PEM CA file: require a client certificate signed by one of them (mutual TLS)");
  auto* encryption_key_file_flag = app.add_option(
      "--encryption-key-file", options.encryption_key_file,
      "Master keyring file (mode 600; lines '<key id> <64 hex digits>', the first is current): "
      "encrypt the data directory at rest");
  auto* encryption_key_command_flag =
      app.add_option("--encryption-key-command", options.encryption_key_command,
                     "Command (run with /bin/sh -c) whose stdout is the master keyring");
  auto* cluster_brokers_flag = app.add_option(
      "--cluster-brokers", flags.cluster_brokers,
      "Cluster mode: Kafka brokers (HOST:PORT,...) whose shard-log topics are the commit log");
  auto* cluster_name_flag = app.add_option(
      "--cluster-name", flags.cluster_name,
      "Cluster mode: the cluster's name, in its topic names (tidewater.NAME.t.<table id>.g0)");
  auto* node_id_flag = app.add_option("--node-id", flags.node_id,
                                      "Cluster mode: this node's id, unique in its cluster");
  auto* advertise_flag = app.add_option(
      "--advertise", flags.advertise,
      "Cluster mode: HOST:PORT other nodes and clients reach this node on (default: --listen)");
  auto* cluster_ownership_flag =
      app.add_option("--cluster-ownership", flags.cluster_ownership,
                     "Cluster mode: group (the owners' consumer group shares the shards among "
                     "the nodes) or every-shard (this node takes every shard over at start)")
          ->check(CLI::IsMember({"group", "every-shard"}));
  auto* cluster_session_timeout_flag =
      app.add_option("--cluster-session-timeout-ms", flags.cluster_session_timeout_ms,
                     "Cluster mode, group ownership: a node silent this long loses its shards")
          ->check(CLI::Range(int64_t{1000}, int64_t{300000}));
  std::map<std::string, std::string> kafka_properties;  // config file only
  std::map<std::string, std::string> file_local_buckets;
  CLI11_PARSE(app, argc, argv);

  if (!flags.config.empty()) {
    auto config = tidewater::server::ReadConfigFile(flags.config);
    if (!config.ok()) return Fail(config.status().message());
    // The file fills what the command line left unset.
    if (config->data_dir && data_dir_flag->count() == 0) options.data_dir = *config->data_dir;
    if (config->listen && listen_flag->count() == 0) options.listen = *config->listen;
    if (config->region && region_flag->count() == 0) options.region = *config->region;
    if (config->threads && threads_flag->count() == 0) threads = *config->threads;
    if (config->max_body_bytes && body_flag->count() == 0) max_body_bytes = *config->max_body_bytes;
    if (config->sync && sync_flag->count() == 0) sync = *config->sync;
    if (config->min_free_disk_mb && min_free_flag->count() == 0) {
      min_free_disk_mb = *config->min_free_disk_mb;
    }
    if (config->cache_mb && cache_flag->count() == 0) cache_mb = *config->cache_mb;
    if (config->log_level && log_flag->count() == 0) flags.log_level = *config->log_level;
    if (config->kafka_brokers && kafka_brokers_flag->count() == 0) {
      flags.kafka_brokers = *config->kafka_brokers;
    }
    if (config->kafka_topic_prefix && kafka_prefix_flag->count() == 0) {
      flags.kafka_topic_prefix = *config->kafka_topic_prefix;
    }
    if (config->kafka_format && kafka_format_flag->count() == 0) {
      flags.kafka_format = *config->kafka_format;
    }
    if (config->kafka_properties) kafka_properties = *config->kafka_properties;
    if (config->console && console_flag->count() == 0) flags.console = *config->console;
    if (config->split_shard_bytes && split_bytes_flag->count() == 0) {
      split_bytes = *config->split_shard_bytes;
    }
    if (config->split_shard_writes_per_second && split_writes_flag->count() == 0) {
      options.split_shard_writes_per_second = *config->split_shard_writes_per_second;
    }
    if (config->split_sustain_seconds && split_sustain_flag->count() == 0) {
      split_sustain_seconds = *config->split_sustain_seconds;
    }
    if (config->autoscaling_period_seconds && autoscaling_period_flag->count() == 0) {
      autoscaling_period_seconds = *config->autoscaling_period_seconds;
    }
    if (config->s3_endpoint && s3_endpoint_flag->count() == 0)
      store.endpoint = *config->s3_endpoint;
    if (config->s3_region && s3_region_flag->count() == 0) store.region = *config->s3_region;
    if (config->s3_path_style && s3_path_style_flag->count() == 0) {
      flags.s3_path_style = *config->s3_path_style ? "true" : "false";
    }
    // Buckets given on the command line replace the file's.
    if (config->s3_local_buckets && s3_local_bucket_flag->count() == 0) {
      file_local_buckets = *config->s3_local_buckets;
    }
    if (config->s3_access_key_id && s3_key_id_flag->count() == 0) {
      store.access_key_id = *config->s3_access_key_id;
    }
    if (config->s3_secret_access_key && s3_secret_flag->count() == 0) {
      store.secret_access_key = *config->s3_secret_access_key;
    }
    if (config->incremental_export_min_window_seconds && incremental_window_flag->count() == 0) {
      incremental_window_seconds = *config->incremental_export_min_window_seconds;
    }
    if (config->auth && auth_flag->count() == 0) flags.auth = *config->auth;
    if (config->credentials_file && credentials_file_flag->count() == 0) {
      flags.credentials_file = *config->credentials_file;
    }
    if (config->metrics_auth && metrics_auth_flag->count() == 0) {
      flags.metrics_auth = *config->metrics_auth;
    }
    if (config->authorization && authorization_flag->count() == 0) {
      flags.authorization = *config->authorization;
    }
    if (config->policy_file && policy_file_flag->count() == 0) {
      flags.policy_file = *config->policy_file;
    }
    if (config->audit_allowed && audit_allowed_flag->count() == 0) {
      flags.audit_allowed = *config->audit_allowed;
    }
    if (config->tls_cert && tls_cert_flag->count() == 0) options.tls_cert_file = *config->tls_cert;
    if (config->tls_key && tls_key_flag->count() == 0) options.tls_key_file = *config->tls_key;
    if (config->tls_client_ca && tls_client_ca_flag->count() == 0) {
      options.tls_client_ca_file = *config->tls_client_ca;
    }
    if (config->encryption_key_file && encryption_key_file_flag->count() == 0) {
      options.encryption_key_file = *config->encryption_key_file;
    }
    if (config->encryption_key_command && encryption_key_command_flag->count() == 0) {
      options.encryption_key_command = *config->encryption_key_command;
    }
    if (config->cluster_brokers && cluster_brokers_flag->count() == 0) {
      flags.cluster_brokers = *config->cluster_brokers;
    }
    if (config->cluster_name && cluster_name_flag->count() == 0) {
      flags.cluster_name = *config->cluster_name;
    }
    if (config->node_id && node_id_flag->count() == 0) flags.node_id = *config->node_id;
    if (config->advertise && advertise_flag->count() == 0) flags.advertise = *config->advertise;
    if (config->cluster_kafka_properties) {
      flags.cluster_kafka_properties = *config->cluster_kafka_properties;
    }
    if (config->cluster_ownership && cluster_ownership_flag->count() == 0) {
      flags.cluster_ownership = *config->cluster_ownership;
    }
    if (config->cluster_session_timeout_ms && cluster_session_timeout_flag->count() == 0) {
      flags.cluster_session_timeout_ms = *config->cluster_session_timeout_ms;
    }
  }
  if (std::string error; !ApplyAuthFlags(flags, &options, &error)) return Fail(error);
  store.path_style = flags.s3_path_style == "true";
  store.local_buckets = std::move(file_local_buckets);
  if (std::string error; !ParseLocalBuckets(flags.s3_local_buckets, &store.local_buckets, &error)) {
    return Fail(error);
  }
  if (!(incremental_window_seconds >= 0.001)) {
    return Fail("incremental-export-min-window-seconds must be at least 0.001");
  }
  options.incremental_export_min_window = std::chrono::milliseconds(
      std::max<int64_t>(1, std::llround(incremental_window_seconds * 1000)));
  if (!(autoscaling_period_seconds > 0)) {
    return Fail("autoscaling-period-seconds must be positive");
  }
  if (split_bytes < 0 || options.split_shard_writes_per_second < 0 || split_sustain_seconds < 0) {
    return Fail(
        "split-shard-bytes, split-shard-writes-per-second and split-sustain-seconds must "
        "not be negative");
  }
  options.split_shard_bytes = static_cast<uint64_t>(split_bytes);
  options.split_sustain =
      std::chrono::seconds(static_cast<int64_t>(std::llround(split_sustain_seconds)));
  options.autoscaling_period = std::chrono::milliseconds(
      std::max<int64_t>(1, std::llround(autoscaling_period_seconds * 1000)));
  if (flags.console != "on" && flags.console != "off") {
    return Fail("console must be on or off, not " + flags.console);
  }
  options.console = flags.console == "on";
  tidewater::connectors::KafkaFormat kafka_format;
  if (!tidewater::connectors::ParseKafkaFormat(flags.kafka_format, &kafka_format)) {
    return Fail("kafka-format must be protobuf or json, not " + flags.kafka_format);
  }
  options.worker_threads = threads;
  options.max_body_bytes = max_body_bytes;
  options.sync_writes = sync;
  options.throttling = throttling == "on";
  options.min_free_disk_bytes = min_free_disk_mb << 20;
  options.cache_bytes = cache_mb << 20;
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);

  // Block the stop signals in every thread; this thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  prometheus::Registry cluster_metrics;
  std::string cluster_error;
  std::unique_ptr<tidewater::cluster::OwnerDirectory> owner_directory;  // outlives the log
  std::unique_ptr<tidewater::cluster::ClusterCommitLog> cluster_log =
      StartClusterMode(flags, options, &cluster_metrics, &owner_directory, &cluster_error);
  if (!cluster_error.empty()) return Fail(cluster_error);
  options.replicated_log = cluster_log.get();  // outlives the server, declared after it
  if (owner_directory) {
    if (options.tls_cert_file.empty()) {
      options.remote_owner = [log = cluster_log.get()](const tidewater::TableName& table,
                                                       tidewater::ShardIndex shard) {
        return log->RemoteOwner(table, shard);
      };
      options.advertised = flags.advertise.empty() ? options.listen : flags.advertise;
    } else {
      spdlog::warn(
          "event=forwarding_off reason=\"forwarding speaks plain HTTP; with --tls-cert "
          "clients must send each request to the node serving its shards\"");
    }
  }
  if (cluster_log) options.extra_metrics.push_back(&cluster_metrics);
  // Group ownership: CreateTable and DeleteTable go through the cluster's catalog, read once
  // the server's engine is open (its handlers apply it), before it serves.
  std::unique_ptr<tidewater::cluster::CatalogLog> catalog;
  std::atomic<tidewater::cluster::CatalogLog*> catalog_read{nullptr};
  if (owner_directory) {
    options.catalog_submit =
        [&catalog_read](
            const std::string& operation,
            const std::string& request) -> tidewater::Result<tidewater::server::ApiAnswer> {
      tidewater::cluster::CatalogLog* log = catalog_read.load(std::memory_order_acquire);
      if (log == nullptr) {
        return tidewater::Status::Unavailable("the cluster's catalog is not read yet");
      }
      TW_ASSIGN_OR_RETURN(tidewater::cluster::CatalogOutcome outcome,
                          log->Submit(operation, request, std::chrono::seconds(30)));
      return tidewater::server::ApiAnswer{outcome.http_status, std::move(outcome.body)};
    };
    // Read before the first request is served: every table created so far exists here.
    options.before_serving = [&](tidewater::server::Server& server) -> tidewater::Status {
      auto read = tidewater::cluster::CatalogLog::Start(
          {flags.cluster_brokers, flags.cluster_kafka_properties, std::chrono::seconds(10)},
          flags.cluster_name, flags.node_id, options.data_dir,
          [&server](const std::string& operation, const std::string& request) {
            tidewater::server::ApiAnswer answer = server.ApplyCatalogChange(operation, request);
            return tidewater::cluster::CatalogOutcome{answer.http_status, std::move(answer.body)};
          });
      if (!read.ok()) {
        return tidewater::Status::Internal("cluster mode: the catalog: " + read.status().message());
      }
      catalog = std::move(*read);
      catalog_read.store(catalog.get(), std::memory_order_release);
      return tidewater::Status::Ok();
    };
  }

  prometheus::Registry kafka_metrics;
  const bool publish = !flags.kafka_brokers.empty();
  if (publish) options.extra_metrics.push_back(&kafka_metrics);
  auto server = tidewater::server::Server::Start(options);
  if (!server.ok()) return Fail(server.status().ToString());
  if (cluster_log) {
    // After the engine opened its tables: the group's assignments take their shards over.
    if (tidewater::Status joined = cluster_log->JoinOwnersGroup(); !joined.ok()) {
      if (catalog) catalog->Stop();
      (*server)->Shutdown();
      return Fail("cluster mode: the owners' group: " + joined.message());
    }
  }
  std::unique_ptr<tidewater::connectors::KafkaPublisher> publisher;
  if (publish) {
    tidewater::connectors::KafkaPublisherOptions kafka;
    kafka.brokers = flags.kafka_brokers;
    kafka.topic_prefix = flags.kafka_topic_prefix;
    kafka.format = kafka_format;
    kafka.properties = std::move(kafka_properties);
    kafka.watermark_interval = std::chrono::milliseconds(flags.kafka_watermark_interval_ms);
    kafka.registry = &kafka_metrics;
    auto started = tidewater::connectors::KafkaPublisher::Start((*server)->engine(), kafka);
    if (!started.ok()) {
      if (catalog) catalog->Stop();
      (*server)->Shutdown();
      return Fail(started.status().message());
    }
    publisher = std::move(*started);
    spdlog::info("event=kafka_publishing brokers={} topic_prefix={} format={}", kafka.brokers,
                 kafka.topic_prefix, tidewater::connectors::KafkaFormatName(kafka.format));
  }

  int received = 0;
  sigwait(&stop_signals, &received);
  spdlog::info("event=stopping signal={}", received == SIGTERM ? "SIGTERM" : "SIGINT");
  // The publisher first: it saves its positions while the engine is open.
  if (publisher) publisher->Stop();
  if (catalog) catalog->Stop();  // its thread applies changes through the server's engine
  // The shards go to the other nodes before the engine closes (their appends in flight end).
  if (cluster_log) cluster_log->LeaveOwnersGroup();
  (*server)->Shutdown();
  catalog_read.store(nullptr, std::memory_order_release);
  catalog.reset();
  return 0;
}
