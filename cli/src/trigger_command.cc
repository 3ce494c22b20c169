// `tidewater trigger --config FILE`: runs the configured triggers (docs/TRIGGERS.md) until
// SIGINT or SIGTERM, then stops them gracefully (the batches in progress finish and are
// checkpointed, leases are released).
//
// Each trigger is a consumer (streams/consumer.h) of its table under the application name
// "<application>.<trigger name>", whose batch handler is a TriggerProcessor calling an exec
// or webhook handler (connectors/trigger_handlers.h).
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "commands.h"
#include "tidewater/connectors/trigger_handlers.h"
#include "tidewater/core/engine.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"
#include "tidewater/streams/trigger.h"
#include "trigger_config.h"
#include "trigger_metrics.h"

namespace tidewater::cli {
namespace {

// What a running trigger owns. Destroyed consumer first (it calls the processor, which
// calls the function and the destination).
struct RunningTrigger {
  std::string name;
  std::unique_ptr<streams::FailureDestination> destination;
  std::unique_ptr<streams::TriggerProcessor> processor;
  std::unique_ptr<streams::ChangeSource> source;
  std::unique_ptr<streams::StreamConsumer> consumer;
};

// How events name the table: its id, creation time and partition key.
struct TableFacts {
  uint64_t table_id = 0;
  int64_t creation_micros = 0;
  std::string partition_key;
};

Result<TableFacts> LocalTableFacts(Engine& engine, const std::string& table) {
  TW_ASSIGN_OR_RETURN(TableDescription description, engine.DescribeTable(table));
  return TableFacts{description.table_id, description.creation_time_micros,
                    description.key_schema.partition_key.name};
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

int RunTriggers(const std::string& config_path) {
  auto text = ReadFile(config_path);
  if (!text.ok()) return Fail(text.status());
  auto parsed = ParseTriggerConfig(*text);
  if (!parsed.ok()) return Fail(parsed.status());
  const TriggerRunConfig& config = *parsed;

  // SIGINT/SIGTERM are taken with sigtimedwait below: block them before any thread starts
  // so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  EngineOptions engine_options;
  engine_options.data_dir = config.data_dir;
  engine_options.region = config.region;
  auto opened = Engine::Open(engine_options);
  if (!opened.ok()) return Fail(opened.status());
  std::unique_ptr<Engine> engine = std::move(opened).value();
  auto store = streams::MakeEngineLeaseStore(*engine);
  if (!store.ok()) return Fail(store.status());
  std::unique_ptr<streams::LeaseStore> leases = std::move(store).value();

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
    auto facts = LocalTableFacts(*engine, trigger.table);
    if (!facts.ok()) return Fail(facts.status());
    options.table_id = facts->table_id;
    options.table_creation_micros = facts->creation_micros;
    if (options.partition_key_attribute.empty())
      options.partition_key_attribute = facts->partition_key;
    if (trigger.on_failure.configured()) {
      auto destination = MakeDestination(trigger.on_failure);
      if (!destination.ok()) return Fail(destination.status());
      run.destination = std::move(destination).value();
      options.on_failure = run.destination.get();
    }
    options.listener = metrics.ListenerFor(trigger.name);
    auto function = MakeFunction(trigger);
    if (!function.ok()) return Fail(function.status());
    auto processor = streams::TriggerProcessor::Create(options, std::move(function).value());
    if (!processor.ok()) return Fail(processor.status());
    run.processor = std::move(processor).value();
    run.source = streams::MakeEngineChangeSource(*engine, trigger.table);
    auto consumer = streams::StreamConsumer::Create(
        streams::ConsumerOptionsFor(options, trigger.table,
                                    config.application + "." + trigger.name),
        *run.source, *leases, run.processor->AsBatchHandler());
    if (!consumer.ok()) return Fail(consumer.status());
    run.consumer = std::move(consumer).value();
    Status started = run.consumer->Start();
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
    for (const RunningTrigger& run : running)
      metrics.UpdateProgress(run.name, run.consumer->Progress());
  }
  for (RunningTrigger& run : running) run.consumer->Stop();
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
  command->callback([config_path] { ExitCode() = RunTriggers(*config_path); });
}

}  // namespace tidewater::cli
