// `tidewater sink --config FILE`: runs analytics sinks (docs/SINKS.md). One reader per
// sink and table (connectors/stream_source.h), the sink as its handler and checkpoint
// store: the consumer SDK over a tidewaterd or a data directory, or the Kafka consumer
// over the publisher's topics. SIGINT/SIGTERM stop it
// gracefully (batches in progress finish, staged files complete). Requests to a source
// endpoint are signed as --profile and --region say (signing_flags.h).
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "commands.h"
#include "signing_flags.h"
#include "sink_config.h"
#include "tidewater/connectors/file_sink.h"
#include "tidewater/connectors/postgres_sink.h"
#include "tidewater/connectors/quarantining_sink.h"
#include "tidewater/connectors/stream_source.h"
#include "tidewater/streams/stream_reader.h"

namespace tidewater::cli {
namespace {

connectors::StreamSourceConfig SourceConfigOf(const SinkSourceConfig& config,
                                              const SigningFlags& signing) {
  connectors::StreamSourceConfig source;
  source.data_dir = config.data_dir;
  source.region = config.region;
  source.endpoint = config.endpoint;
  source.profile = signing.profile;
  source.endpoint_region = signing.region;
  source.tls = signing.Tls();
  source.kafka.brokers = config.kafka.brokers;
  source.kafka.topic_prefix = config.kafka.topic_prefix;
  source.kafka.format = config.kafka.format;
  source.kafka.properties = config.kafka.properties;
  return source;
}

// Members are destroyed bottom up: the readers first (they call the sink, which parks
// records in the quarantine table).
struct RunningSink {
  std::string name;
  std::unique_ptr<streams::QuarantineStore> quarantine;  // poison_records: quarantine_key
  std::unique_ptr<connectors::Sink> sink;
  std::map<std::string, std::unique_ptr<streams::StreamReader>> readers;  // per table
};

// Starts `sink`'s reader of `table`: the sink is its handler and its checkpoint store.
Result<std::unique_ptr<streams::StreamReader>> StartReader(const SinkConfig& config,
                                                           connectors::StreamSource& source,
                                                           const std::string& sink_name,
                                                           connectors::Sink* sink,
                                                           const std::string& table) {
  auto write = [sink](const streams::ShardBatch& batch) { return sink->Write(batch); };
  streams::ConsumerOptions options;
  options.table = table;
  options.application = config.application + "." + sink_name;
  options.starting_position = config.starting_position;
  options.starting_time_micros = config.starting_time_micros;
  options.max_batch_records = config.max_batch_records;
  options.max_batching_window = config.max_batching_window;
  options.lease_duration = config.lease_duration;
  options.checkpoints = sink;  // with Kafka, the sink's position wins over the group's offsets
  const SinkKafkaConfig& kafka = config.source.kafka;
  std::string kafka_group = (kafka.group_id.empty() ? config.application : kafka.group_id) + "." +
                            sink_name + "." + table;
  TW_ASSIGN_OR_RETURN(auto reader,
                      source.OpenReader(std::move(options), write, std::move(kafka_group)));
  TW_RETURN_IF_ERROR(reader->Start());
  return reader;
}

// The sink of `target`; with poison_records: quarantine_key wrapped in the quarantine, whose
// table `running.quarantine` is opened where the source keeps its data.
Result<std::unique_ptr<connectors::Sink>> MakeSink(SinkTargetConfig target,
                                                   const SinkConfig& config,
                                                   connectors::StreamSource& source,
                                                   prometheus::Registry& registry,
                                                   RunningSink& running) {
  if (target.type == SinkTargetConfig::Type::kPostgres) {
    target.postgres.registry = &registry;
    target.postgres.return_record_errors = target.quarantine_key;
    TW_ASSIGN_OR_RETURN(auto sink, connectors::PostgresSink::Create(target.postgres));
    if (!target.quarantine_key) return std::unique_ptr<connectors::Sink>(std::move(sink));
    TW_ASSIGN_OR_RETURN(running.quarantine, source.OpenQuarantineStore(target.quarantine_table));
    connectors::QuarantiningSinkOptions quarantine;
    quarantine.store = running.quarantine.get();
    quarantine.consumer = config.application + "." + target.name;
    quarantine.sink_name = target.name;
    quarantine.retry_attempts = target.poison_retry_attempts;
    quarantine.region = config.source.region;
    quarantine.registry = &registry;
    return connectors::MakeQuarantiningSink(std::move(sink), std::move(quarantine));
  }
  target.files.registry = &registry;
  TW_ASSIGN_OR_RETURN(auto sink, connectors::FileSink::Create(target.files));
  return std::unique_ptr<connectors::Sink>(std::move(sink));
}

// Lag per shard, on /metrics and on the progress line.
class LagMetrics {
 public:
  explicit LagMetrics(prometheus::Registry& registry)
      : records_(prometheus::BuildGauge()
                     .Name("tidewater_sink_lag_records")
                     .Help("Records written to the shard that the sink has not yet accepted")
                     .Register(registry)),
        seconds_(prometheus::BuildGauge()
                     .Name("tidewater_sink_lag_seconds")
                     .Help("Age of the newest record handed to the sink while more wait")
                     .Register(registry)) {}

  // `records` nullopt: not known (a Kafka source).
  void Set(const std::string& sink, const std::string& table, uint32_t shard,
           std::optional<double> records, double seconds) {
    const prometheus::Labels labels{
        {"sink", sink}, {"table", table}, {"shard", std::to_string(shard)}};
    if (records) records_.Add(labels).Set(*records);
    seconds_.Add(labels).Set(seconds);
  }

 private:
  prometheus::Family<prometheus::Gauge>& records_;
  prometheus::Family<prometheus::Gauge>& seconds_;
};

struct Totals {
  uint64_t rows = 0;
  std::optional<uint64_t> lag_records;  // not known for a Kafka source
  double lag_seconds = 0;
  uint64_t errors = 0;
};

// Updates the lag gauges; returns the totals of one sink.
Totals Observe(RunningSink& running, LagMetrics& lag) {
  Totals totals;
  for (auto& [table, reader] : running.readers) {
    const std::vector<streams::ConsumerShardStatus> progress = reader->Progress();
    if (Status recorded = running.sink->RecordProgress(TableName(table), progress);
        !recorded.ok()) {
      spdlog::warn("sink {} table {}: {}", running.name, table, recorded.message());
    }
    for (const streams::ConsumerShardStatus& shard : progress) {
      totals.rows += shard.records_processed;
      totals.errors += shard.handler_errors;
      if (!shard.held) continue;
      const double seconds = static_cast<double>(shard.iterator_age_millis) / 1000.0;
      totals.lag_seconds = std::max(totals.lag_seconds, seconds);
      // Records behind: the source's shard ends (the Streams API); a Kafka source does not
      // know them.
      const std::optional<uint64_t> behind = shard.RecordsBehind();
      lag.Set(running.name, table, shard.shard.value(),
              behind ? std::optional<double>(static_cast<double>(*behind)) : std::nullopt, seconds);
      if (behind) totals.lag_records = totals.lag_records.value_or(0) + *behind;
    }
  }
  return totals;
}

int RunSink(const std::string& config_path, const SigningFlags& signing) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("tidewater-sink"));
  std::ifstream file(config_path);
  if (!file) {
    spdlog::error("cannot read {}", config_path);
    return 2;
  }
  std::stringstream text;
  text << file.rdbuf();
  Result<SinkConfig> config = ParseSinkConfig(text.str());
  if (!config.ok()) {
    spdlog::error("{}: {}", config_path, config.status().message());
    return 2;
  }

  // Signals are taken by sigtimedwait below; every thread started later inherits the mask.
  sigset_t signals = BlockStopSignals();

  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  if (!config->metrics_listen.empty()) {
    try {
      exposer = std::make_unique<prometheus::Exposer>(config->metrics_listen);
    } catch (const std::exception& error) {
      spdlog::error("metrics: cannot listen on {}: {}", config->metrics_listen, error.what());
      return 1;
    }
    exposer->RegisterCollectable(registry);
  }
  LagMetrics lag(*registry);

  auto source = connectors::StreamSource::Open(SourceConfigOf(config->source, signing));
  if (!source.ok()) {
    spdlog::error("source: {}", source.status().ToString());
    return 1;
  }
  std::vector<RunningSink> sinks;
  sinks.reserve(config->sinks.size());
  for (const SinkTargetConfig& target : config->sinks) {
    RunningSink& running = sinks.emplace_back();
    running.name = target.name;
    auto sink = MakeSink(target, *config, **source, *registry, running);
    if (!sink.ok()) {
      spdlog::error("sink {}: {}", target.name, sink.status().message());
      return 1;
    }
    running.sink = std::move(*sink);
  }
  for (RunningSink& running : sinks) {
    for (const std::string& table : config->tables) {
      auto reader = StartReader(*config, **source, running.name, running.sink.get(), table);
      if (!reader.ok()) {
        spdlog::error("sink {} table {}: {}", running.name, table, reader.status().ToString());
        return 1;
      }
      running.readers[table] = std::move(*reader);
    }
    spdlog::info("event=sink_started sink={} tables={}", running.name, config->tables.size());
  }

  const bool terminal = isatty(STDOUT_FILENO) == 1;
  timespec tick{1, 0};
  int received = 0;
  while (received <= 0) {
    received = sigtimedwait(&signals, nullptr, &tick);
    std::string line;
    for (RunningSink& running : sinks) {
      Status ticked = running.sink->Tick();
      if (!ticked.ok()) spdlog::warn("sink {}: {}", running.name, ticked.message());
      const Totals totals = Observe(running, lag);
      if (terminal) {
        const std::string records =
            totals.lag_records ? std::to_string(*totals.lag_records) + " records " : "";
        char part[200];
        snprintf(part, sizeof(part), "%s%s: %llu rows, lag %s%.1f s", line.empty() ? "" : " | ",
                 running.name.c_str(), static_cast<unsigned long long>(totals.rows),
                 records.c_str(), totals.lag_seconds);
        line += part;
      }
    }
    if (terminal) {
      std::printf("\r\033[K%s", line.c_str());
      std::fflush(stdout);
    }
  }
  if (terminal) std::printf("\n");
  spdlog::info("event=sink_stopping signal={}", received);
  for (RunningSink& running : sinks) {
    for (auto& [table, reader] : running.readers) reader->Stop();
  }
  int code = 0;
  for (RunningSink& running : sinks) {
    Status flushed = running.sink->Flush();
    if (!flushed.ok()) {
      spdlog::error("sink {}: final flush: {}", running.name, flushed.message());
      code = 1;
    }
  }
  spdlog::info("event=sink_stopped");
  return code;
}

}  // namespace

void AddSinkCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "sink", "Run analytics sinks (files, PostgreSQL) from a YAML configuration");
  auto config_path = std::make_shared<std::string>();
  command->add_option("--config", *config_path, "The YAML configuration (see docs/SINKS.md)")
      ->required();
  auto signing = std::make_shared<SigningFlags>();
  AddSigningFlags(command, signing.get(),
                  "The region of source.endpoint's tidewaterd (its --region), which requests "
                  "to it are signed for (default: the profile's)");
  command->callback([config_path, signing] { ExitCode() = RunSink(*config_path, *signing); });
}

}  // namespace tidewater::cli
