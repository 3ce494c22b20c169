// `tidewater trigger --config FILE`: runs the configured triggers (docs/TRIGGERS.md) until
// SIGINT or SIGTERM, then stops them gracefully (the batches in progress finish and are
// checkpointed, leases are released).
//
// Each trigger is a consumer of its table under the name "<application>.<trigger name>"
// (consumer SDK leases for a local engine or a remote tidewaterd, a Kafka consumer group
// for the publisher's topics), whose batch handler is a TriggerProcessor calling an exec
// or webhook handler (connectors/trigger_handlers.h).
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "tidewater/connectors/kafka_consumer.h"
#include "tidewater/connectors/trigger_handlers.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"
#include "tidewater/streams/remote_source.h"
#include "tidewater/streams/service_client.h"
#include "tidewater/streams/trigger.h"
#include "trigger_config.h"
#include "trigger_metrics.h"

namespace tidewater::cli {
namespace {

// What a running trigger owns. Members are destroyed bottom up: the consumer first (it
// calls the processor, which calls the function and the destination).
struct RunningTrigger {
  std::string name;
  std::unique_ptr<streams::FailureDestination> destination;
  std::unique_ptr<streams::TriggerProcessor> processor;
  std::unique_ptr<streams::ChangeSource> source;
  std::unique_ptr<streams::StreamConsumer> consumer;                // engine or endpoint
  std::unique_ptr<connectors::KafkaStreamConsumer> kafka_consumer;  // kafka

  std::vector<streams::ConsumerShardStatus> Progress() const {
    return consumer ? consumer->Progress() : kafka_consumer->Progress();
  }
  void Stop() {
    if (consumer) consumer->Stop();
    if (kafka_consumer) kafka_consumer->Stop();
  }
};

// How events name the table: region, table id, creation time, partition key.
struct TableFacts {
  std::string region;
  uint64_t table_id = 0;
  int64_t creation_micros = 0;
  std::string partition_key;
};

Result<TableFacts> LocalTableFacts(Engine& engine, const std::string& table) {
  TW_ASSIGN_OR_RETURN(TableDescription description, engine.DescribeTable(table));
  return TableFacts{engine.options().region, description.table_id, description.creation_time_micros,
                    description.key_schema.partition_key.name};
}

// The same from a remote tidewaterd's DescribeTable: the region from TableArn, the engine's
// table id from TableId (tidewaterd shows it as the last 12 hex digits), the creation time
// and the HASH key.
Result<TableFacts> RemoteTableFacts(const std::string& endpoint, const std::string& table) {
  TW_ASSIGN_OR_RETURN(auto client, streams::ServiceClient::Create(endpoint));
  rapidjson::StringBuffer request;
  json::Writer writer(request);
  writer.StartObject();
  writer.Key("TableName");
  writer.String(table.data(), static_cast<rapidjson::SizeType>(table.size()));
  writer.EndObject();
  TW_ASSIGN_OR_RETURN(std::string answer,
                      client->CallJson("DynamoDB_20120810.DescribeTable", request.GetString()));
  rapidjson::Document document;
  document.Parse(answer.c_str());
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("Table") ||
      !document["Table"].IsObject()) {
    return Status::Internal("DescribeTable " + table + ": not a table description");
  }
  const rapidjson::Value& description = document["Table"];
  TableFacts facts;
  if (description.HasMember("TableArn") && description["TableArn"].IsString()) {
    std::string_view arn = description["TableArn"].GetString();  // arn:aws:dynamodb:REGION:...
    constexpr std::string_view kPrefix = "arn:aws:dynamodb:";
    if (arn.starts_with(kPrefix)) {
      arn.remove_prefix(kPrefix.size());
      facts.region = std::string(arn.substr(0, arn.find(':')));
    }
  }
  if (description.HasMember("TableId") && description["TableId"].IsString()) {
    std::string id = description["TableId"].GetString();
    facts.table_id = std::strtoull(id.substr(id.rfind('-') + 1).c_str(), nullptr, 16);
  }
  if (description.HasMember("CreationDateTime") && description["CreationDateTime"].IsNumber()) {
    facts.creation_micros = std::llround(description["CreationDateTime"].GetDouble() * 1e6);
  }
  if (description.HasMember("KeySchema") && description["KeySchema"].IsArray()) {
    for (const auto& key : description["KeySchema"].GetArray()) {
      if (key.IsObject() && key.HasMember("KeyType") && key["KeyType"] == "HASH" &&
          key.HasMember("AttributeName") && key["AttributeName"].IsString()) {
        facts.partition_key = key["AttributeName"].GetString();
      }
    }
  }
  return facts;
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

  // The source: a local engine (and leases in it), a remote tidewaterd (and leases in
  // it), or Kafka (leases are the consumer group's assignment).
  std::unique_ptr<Engine> engine;
  std::unique_ptr<streams::LeaseStore> leases;
  if (!config.data_dir.empty()) {
    EngineOptions engine_options;
    engine_options.data_dir = config.data_dir;
    engine_options.region = config.region;
    auto opened = Engine::Open(engine_options);
    if (!opened.ok()) return Fail(opened.status());
    engine = std::move(opened).value();
    auto store = streams::MakeEngineLeaseStore(*engine);
    if (!store.ok()) return Fail(store.status());
    leases = std::move(store).value();
  } else if (!config.endpoint.empty()) {
    auto store = streams::MakeRemoteLeaseStore(config.endpoint);
    if (!store.ok()) return Fail(store.status());
    leases = std::move(store).value();
  }

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
    TableFacts facts{config.region};
    if (engine) {
      auto local = LocalTableFacts(*engine, trigger.table);
      if (!local.ok()) return Fail(local.status());
      facts = std::move(local).value();
    } else if (!config.endpoint.empty()) {
      auto remote = RemoteTableFacts(config.endpoint, trigger.table);
      if (!remote.ok()) return Fail(remote.status());
      facts = std::move(remote).value();
    }
    options.region = facts.region;
    options.table_id = facts.table_id;
    options.table_creation_micros = facts.creation_micros;
    if (options.partition_key_attribute.empty()) {
      options.partition_key_attribute = facts.partition_key;
    }
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
    const std::string consumer_name = config.application + "." + trigger.name;
    Status started;
    if (leases) {
      if (engine) {
        run.source = streams::MakeEngineChangeSource(*engine, trigger.table);
      } else {
        auto source = streams::MakeRemoteStreamsSource(config.endpoint, trigger.table);
        if (!source.ok()) return Fail(source.status());
        run.source = std::move(source).value();
      }
      auto consumer = streams::StreamConsumer::Create(
          streams::ConsumerOptionsFor(options, trigger.table, consumer_name), *run.source, *leases,
          run.processor->AsBatchHandler());
      if (!consumer.ok()) return Fail(consumer.status());
      run.consumer = std::move(consumer).value();
      started = run.consumer->Start();
    } else {
      connectors::KafkaConsumerOptions kafka;
      kafka.brokers = config.kafka.brokers;
      kafka.topic = config.kafka.topic_prefix + trigger.table;
      kafka.group_id = consumer_name;
      kafka.format = config.kafka.format;
      kafka.starting_position = options.starting_position;
      kafka.max_batch_records = options.batch_size;
      kafka.max_batching_window = options.maximum_batching_window;
      kafka.retry_backoff_initial = options.retry_backoff_initial;
      kafka.retry_backoff_max = options.retry_backoff_max;
      kafka.properties = config.kafka.properties;
      auto consumer = connectors::KafkaStreamConsumer::Create(std::move(kafka),
                                                              run.processor->AsBatchHandler());
      if (!consumer.ok()) return Fail(consumer.status());
      run.kafka_consumer = std::move(consumer).value();
      started = run.kafka_consumer->Start();
    }
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
    for (const RunningTrigger& run : running) metrics.UpdateProgress(run.name, run.Progress());
  }
  for (RunningTrigger& run : running) run.Stop();
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
