// tidewater-replicator: one direction of global tables, from a source region's tidewaterd
// to a target region's tidewaterd. Run one per direction for active-active.
//
//   tidewater-replicator --source URL --target URL --table NAME [--table NAME ...]
//                        [--source-region R] [--target-region R] [--profile P]
//                        [--ca-bundle FILE]   (CAs of https:// endpoints)
//                        [--metrics-listen HOST:PORT] [--batch-size N]
//   tidewater-replicator --source-kafka BROKERS --source-region R --target URL --table NAME
//                        [--source URL] [--kafka-topic-prefix P] [--kafka-format protobuf]
//                        [--kafka-group-id G]   (the source's Kafka topics; --source only
//                                                for the catch-up copy of an empty target)
//   tidewater-replicator --config FILE   (YAML; see replicator_config.h, docs/REPLICATION.md)
//
// Requests are signed (AWS SigV4) with the profile's credentials, each for its server's
// region (replicator_config.h).
//
// Holds no state: positions are stored in the target with the changes. Stops cleanly on
// SIGTERM or SIGINT; a SIGKILL loses nothing either (the next start resumes from the
// target's checkpoints).
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "tidewater/connectors/kafka_wire.h"
#include "tidewater/connectors/stream_source.h"
#include "tidewater/replicator/replication_api.h"
#include "tidewater/replicator/replicator_config.h"
#include "tidewater/replicator/replicator_metrics.h"
#include "tidewater/replicator/table_replicator.h"

namespace {

using tidewater::replicator::ChangeSourceOf;
using tidewater::replicator::MakeRemoteReplicationApi;
using tidewater::replicator::ReplicationApi;
using tidewater::replicator::ReplicatorConfig;
using tidewater::replicator::TableReplicator;
using tidewater::streams::ServiceClientOptions;

constexpr std::chrono::milliseconds kCallTimeout{5'000};

int Fail(const std::string& message) {
  spdlog::error("event=startup_failed error=\"{}\"", message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ReplicatorConfig config;
  std::string config_file;
  std::string log_level = "info";
  CLI::App app{"tidewater-replicator: replicates tables from a source region to a target region"};
  app.add_option("--config", config_file, "YAML file (source, target, tables, ...)");
  auto* source_flag = app.add_option("--source", config.source_url, "Source tidewaterd URL");
  auto* target_flag = app.add_option("--target", config.target_url, "Target tidewaterd URL");
  auto* table_flag = app.add_option("--table", config.tables, "Table to replicate (repeatable)");
  auto* region_flag = app.add_option("--source-region", config.source_region,
                                     "Forward changes that originated in this region, the "
                                     "source's (default: the source's; requests to the source "
                                     "are signed for it, default: the profile's region)");
  auto* target_region_flag =
      app.add_option("--target-region", config.target_region,
                     "The target's region (its --region), which requests to it are signed for "
                     "(default: the profile's)");
  auto* profile_flag = app.add_option(
      "--profile", config.profile,
      "The AWS profile whose credentials sign the requests (default: as the AWS CLI)");
  auto* ca_bundle_flag = app.add_option(
      "--ca-bundle", config.ca_bundle,
      "PEM file of the CAs https:// endpoints' certificates are checked with (default: "
      "AWS_CA_BUNDLE, else the system's store)");
  auto* client_cert_flag = app.add_option(
      "--client-cert", config.client_cert,
      "PEM file of the client certificate presented to a tidewaterd that asks for one (its "
      "--tls-client-ca)");
  auto* client_key_flag =
      app.add_option("--client-key", config.client_key, "PEM file of --client-cert's key");
  auto* metrics_flag = app.add_option("--metrics-listen", config.metrics_listen,
                                      "HOST:PORT serving GET /metrics (default: none)");
  auto* batch_flag =
      app.add_option("--batch-size", config.batch_size, "Changes per apply")->capture_default_str();
  auto* kafka_flag = app.add_option("--source-kafka", config.source_kafka,
                                    "Read the source's Kafka topics at these brokers");
  auto* prefix_flag = app.add_option("--kafka-topic-prefix", config.kafka_topic_prefix,
                                     "Topic prefix of the source's publisher")
                          ->capture_default_str();
  std::string kafka_format = "protobuf";
  auto* format_flag = app.add_option("--kafka-format", kafka_format, "protobuf (json: refused)")
                          ->capture_default_str();
  auto* group_flag =
      app.add_option("--kafka-group-id", config.kafka_group_id,
                     "Kafka consumer group prefix (default: from the source and target regions)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  if (!tidewater::connectors::ParseKafkaFormat(kafka_format, &config.kafka_format)) {
    return Fail("--kafka-format must be protobuf or json");
  }

  if (!config_file.empty()) {
    auto file = tidewater::replicator::ReadReplicatorConfig(config_file);
    if (!file.ok()) return Fail(file.status().message());
    // Flags given on the command line win over the file.
    if (source_flag->count() > 0) file->source_url = config.source_url;
    if (target_flag->count() > 0) file->target_url = config.target_url;
    if (table_flag->count() > 0) file->tables = config.tables;
    if (region_flag->count() > 0) file->source_region = config.source_region;
    if (target_region_flag->count() > 0) file->target_region = config.target_region;
    if (profile_flag->count() > 0) file->profile = config.profile;
    if (ca_bundle_flag->count() > 0) file->ca_bundle = config.ca_bundle;
    if (client_cert_flag->count() > 0) file->client_cert = config.client_cert;
    if (client_key_flag->count() > 0) file->client_key = config.client_key;
    if (metrics_flag->count() > 0) file->metrics_listen = config.metrics_listen;
    if (batch_flag->count() > 0) file->batch_size = config.batch_size;
    if (kafka_flag->count() > 0) file->source_kafka = config.source_kafka;
    if (prefix_flag->count() > 0) file->kafka_topic_prefix = config.kafka_topic_prefix;
    if (format_flag->count() > 0) file->kafka_format = config.kafka_format;
    if (group_flag->count() > 0) file->kafka_group_id = config.kafka_group_id;
    config = std::move(*file);
  }
  if (auto valid = tidewater::replicator::ValidateReplicatorConfig(config); !valid.ok()) {
    return Fail(valid.message());
  }
  // One identity for both servers, each request scoped to its server's region.
  auto identity = tidewater::streams::ResolveClientIdentity(config.profile);
  if (!identity.ok()) return Fail(identity.status().ToString());
  const auto client_of = [&](const std::string& region) {
    ServiceClientOptions options{
        kCallTimeout, *identity, {config.ca_bundle, config.client_cert, config.client_key}};
    if (options.identity && !region.empty()) options.identity->region = region;
    return options;
  };
  const ServiceClientOptions source_client = client_of(config.source_region);
  const ServiceClientOptions target_client = client_of(config.target_region);

  const bool from_kafka = !config.source_kafka.empty();
  if (from_kafka && config.source_url.empty()) {
    // Without the source's API an empty target cannot be caught up: say so now, not in a
    // log line later. (A target that does not answer yet is checked by the replicator.)
    auto target = MakeRemoteReplicationApi(config.target_url, target_client);
    for (const std::string& table : config.tables) {
      auto stored = target->GetCheckpoints(tidewater::TableName(table), config.source_region);
      if (stored.ok() && stored->empty()) {
        return Fail("the target holds no checkpoint of " + config.source_region + " for " + table +
                    ": copying the table first needs the source's tidewaterd (--source "
                    "URL); with Kafka the copy still comes from the source's API");
      }
    }
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto registry = std::make_shared<prometheus::Registry>();
  tidewater::replicator::ReplicatorMetrics metrics(*registry);
  std::unique_ptr<prometheus::Exposer> exposer;
  if (!config.metrics_listen.empty()) {
    try {
      exposer = std::make_unique<prometheus::Exposer>(config.metrics_listen, 1);
    } catch (const std::exception& e) {
      return Fail("cannot serve metrics on " + config.metrics_listen + ": " + e.what());
    }
    exposer->RegisterCollectable(registry);
    spdlog::info("event=metrics_listening address={} port={}", config.metrics_listen,
                 exposer->GetListeningPorts().at(0));
  }

  auto source = tidewater::connectors::StreamSource::Open(ChangeSourceOf(config));
  if (!source.ok()) return Fail(source.status().ToString());
  std::vector<std::unique_ptr<TableReplicator>> replicators;
  for (const std::string& table : config.tables) {
    tidewater::replicator::TableReplicatorOptions options;
    options.table = table;
    options.source_region = config.source_region;
    options.max_batch_records = config.batch_size;
    options.group_id = config.kafka_group_id;
    options.metrics = &metrics;
    std::unique_ptr<ReplicationApi> source_api;
    if (!config.source_url.empty()) {
      source_api = MakeRemoteReplicationApi(config.source_url, source_client);
    }
    replicators.push_back(
        TableReplicator::Start(options, **source, std::move(source_api),
                               MakeRemoteReplicationApi(config.target_url, target_client)));
  }
  spdlog::info("event=replicating source={} target={} tables={}",
               from_kafka ? "kafka:" + config.source_kafka : config.source_url, config.target_url,
               config.tables.size());

  int received = 0;
  sigwait(&stop_signals, &received);
  spdlog::info("event=stopping signal={}", received == SIGTERM ? "SIGTERM" : "SIGINT");
  for (auto& replicator : replicators) replicator->Stop();
  spdlog::info("event=stopped");
  return 0;
}
