// `tidewater trigger --config FILE`: runs the configured triggers (docs/TRIGGERS.md) until
// SIGINT or SIGTERM, then stops them gracefully (the batches in progress finish and are
// checkpointed, leases are released).
//
// Each trigger is a reader of its table (connectors/stream_source.h) under the name
// "<application>.<trigger name>" (consumer SDK leases for a local engine or a remote
// tidewaterd, a Kafka consumer group for the publisher's topics), whose batch handler is a
// TriggerProcessor calling an exec or webhook handler (connectors/trigger_handlers.h).
// Requests to a source endpoint are signed as --profile and --region say (signing_flags.h).
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "commands.h"
#include "signing_flags.h"
#include "tidewater/connectors/stream_source.h"
#include "tidewater/connectors/trigger_handlers.h"
#include "tidewater/streams/stream_reader.h"
#include "tidewater/streams/trigger.h"
#include "trigger_config.h"
#include "trigger_metrics.h"

namespace tidewater::cli {
namespace {

// What a running trigger owns. Members are destroyed bottom up: the reader first (it
// calls the processor, which calls the function and the destination).
struct RunningTrigger {
  std::string name;
  std::unique_ptr<streams::FailureDestination> destination;
  std::unique_ptr<streams::QuarantineStore> quarantine;
  std::unique_ptr<streams::TriggerProcessor> processor;
  std::unique_ptr<streams::StreamReader> reader;
};

connectors::StreamSourceConfig SourceConfigOf(const TriggerRunConfig& config,
                                              const SigningFlags& signing) {
  connectors::StreamSourceConfig source;
  source.data_dir = config.data_dir;
  source.region = config.region;
  source.endpoint = config.endpoint;
  source.profile = signing.profile;
  source.endpoint_region = signing.region;
  source.tls = signing.Tls();
  source.kafka = config.kafka;
  return source;
}

Result<std::unique_ptr<streams::FailureDestination>> MakeDestination(
    const OnFailureConfig& on_failure) {
  if (!on_failure.file.empty()) return connectors::MakeJsonLinesDestination(on_failure.file);
  return connectors::MakeKafkaDestination(
      {on_failure.kafka_brokers, on_failure.kafka_topic, {}, std::chrono::milliseconds(30'000)});
}

Result<streams::TriggerFunction> MakeFunction(const TriggerConfig& trigger) {
  if (trigger.handler.type == "exec") {
    return connectors::MakeExecFunction(
        {trigger.handler.command, trigger.handler.timeout, "trigger " + trigger.name});
  }
  return connectors::MakeWebhookFunction(
      {trigger.handler.url, trigger.handler.timeout, trigger.handler.headers});
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int Fail(const Status& status) {
  spdlog::error("event=trigger_failed error=\"{}\"", status.message());
  return 1;
}

int RunTriggers(const std::string& config_path, const SigningFlags& signing) {
  auto text = ReadFile(config_path);
  if (!text.ok()) return Fail(text.status());
  auto parsed = ParseTriggerConfig(*text);
  if (!parsed.ok()) return Fail(parsed.status());
  const TriggerRunConfig& config = *parsed;

  // SIGINT/SIGTERM are taken with sigtimedwait below: block them before any thread starts
  // so that every thread inherits the mask.
  sigset_t stop_signals = BlockStopSignals();

  // The source: a local engine, a remote tidewaterd (leases in either), or Kafka (leases
  // are the consumer group's assignment).
  auto source = connectors::StreamSource::Open(SourceConfigOf(config, signing));
  if (!source.ok()) return Fail(source.status());

  auto registry = std::make_shared<prometheus::Registry>();
  TriggerMetrics metrics(*registry);
  std::unique_ptr<prometheus::Exposer> exposer;
  if (!config.metrics_listen.empty()) {
    try {
      exposer = std::make_unique<prometheus::Exposer>(config.metrics_listen);
    } catch (const std::exception& error) {
      return Fail(
          Status::Validation("metrics.listen " + config.metrics_listen + ": " + error.what()));
    }
    exposer->RegisterCollectable(registry);
  }

  std::vector<RunningTrigger> running;
  running.reserve(config.triggers.size());
  for (const TriggerConfig& trigger : config.triggers) {
    RunningTrigger& run = running.emplace_back();
    run.name = trigger.name;
    streams::TriggerOptions options = trigger.options;
    // How events name the table; a Kafka source cannot tell: the configured region.
    auto identity = (*source)->DescribeTable(trigger.table);
    if (!identity.ok()) return Fail(identity.status());
    const connectors::StreamTableIdentity facts =
        identity->value_or(connectors::StreamTableIdentity{config.region});
    options.region = facts.region;
    options.table_id = facts.table_id;
    options.table_creation_micros = facts.creation_time_micros;
    if (options.partition_key_attribute.empty()) {
      options.partition_key_attribute = facts.partition_key;
    }
    if (trigger.on_failure.configured()) {
      auto destination = MakeDestination(trigger.on_failure);
      if (!destination.ok()) return Fail(destination.status());
      run.destination = std::move(destination).value();
      options.on_failure = run.destination.get();
    }
    const std::string consumer_name = config.application + "." + trigger.name;
    if (options.poison_record_handling == streams::PoisonRecordHandling::kQuarantineKey) {
      auto quarantine = (*source)->OpenQuarantineStore(trigger.quarantine_table);
      if (!quarantine.ok()) return Fail(quarantine.status());
      run.quarantine = std::move(quarantine).value();
      options.quarantine = run.quarantine.get();
      options.quarantine_consumer = consumer_name;
    }
    options.listener = metrics.ListenerFor(trigger.name);
    auto function = MakeFunction(trigger);
    if (!function.ok()) return Fail(function.status());
    auto processor = streams::TriggerProcessor::Create(options, std::move(function).value());
    if (!processor.ok()) return Fail(processor.status());
    run.processor = std::move(processor).value();
    auto reader =
        (*source)->OpenReader(streams::ConsumerOptionsFor(options, trigger.table, consumer_name),
                              run.processor->AsBatchHandler());
    if (!reader.ok()) return Fail(reader.status());
    run.reader = std::move(reader).value();
    const Status started = run.reader->Start();
    if (!started.ok()) return Fail(started);
    spdlog::info("event=trigger_started trigger={} table={} handler={}", trigger.name,
                 trigger.table, trigger.handler.type);
  }

  for (;;) {
    timespec second{1, 0};
    int signal_number = sigtimedwait(&stop_signals, nullptr, &second);
    if (signal_number == SIGINT || signal_number == SIGTERM) {
      spdlog::info("event=trigger_stopping signal={}", signal_number);
      break;
    }
    for (const RunningTrigger& run : running) {
      metrics.UpdateProgress(run.name, run.reader->Progress());
    }
  }
  for (RunningTrigger& run : running) run.reader->Stop();
  running.clear();
  spdlog::info("event=trigger_stopped");
  return 0;
}

}  // namespace

void AddTriggerCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "trigger",
      "Run Lambda-style triggers (exec, webhook) over table streams; see docs/TRIGGERS.md");
  auto config_path = std::make_shared<std::string>();
  command->add_option("--config", *config_path, "YAML configuration file")->required();
  auto signing = std::make_shared<SigningFlags>();
  AddSigningFlags(command, signing.get(),
                  "The region of source.endpoint's tidewaterd (its --region), which requests "
                  "to it are signed for (default: the profile's)");
  command->callback([config_path, signing] { ExitCode() = RunTriggers(*config_path, *signing); });
}

}  // namespace tidewater::cli
