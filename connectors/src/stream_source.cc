#include "tidewater/connectors/stream_source.h"

#include <rapidjson/document.h>

#include <cmath>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include "tidewater/connectors/kafka_consumer.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/remote_source.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::connectors {
namespace {

// A StreamConsumer together with the ChangeSource it reads (destroyed after it).
class ChangeSourceReader final : public streams::StreamReader {
 public:
  static Result<std::unique_ptr<streams::StreamReader>> Create(
      streams::ConsumerOptions options, std::unique_ptr<streams::ChangeSource> source,
      streams::LeaseStore& leases, streams::BatchHandler handler) {
    auto reader = std::unique_ptr<ChangeSourceReader>(new ChangeSourceReader(std::move(source)));
    TW_ASSIGN_OR_RETURN(reader->consumer_,
                        streams::StreamConsumer::Create(std::move(options), *reader->source_,
                                                        leases, std::move(handler)));
    return std::unique_ptr<streams::StreamReader>(std::move(reader));
  }

  Status Start() override { return consumer_->Start(); }
  void Stop() override { consumer_->Stop(); }
  std::vector<streams::ConsumerShardStatus> Progress() const override {
    return consumer_->Progress();
  }

 private:
  explicit ChangeSourceReader(std::unique_ptr<streams::ChangeSource> source)
      : source_(std::move(source)) {}

  const std::unique_ptr<streams::ChangeSource> source_;
  std::unique_ptr<streams::StreamConsumer> consumer_;
};

StreamTableIdentity LocalIdentity(const Engine& engine, const TableDescription& description) {
  return StreamTableIdentity{engine.options().region, description.table_id,
                             description.creation_time_micros,
                             description.key_schema.partition_key.name};
}

// The same from a remote tidewaterd's DescribeTable: the region from TableArn, the engine's
// table id from TableId (tidewaterd shows it as the last 12 hex digits), the creation time
// and the HASH key.
Result<StreamTableIdentity> RemoteIdentity(const std::string& endpoint,
                                           const streams::ServiceClientOptions& client_options,
                                           const std::string& table) {
  TW_ASSIGN_OR_RETURN(auto client, streams::ServiceClient::Create(endpoint, client_options));
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
  StreamTableIdentity identity;
  if (description.HasMember("TableArn") && description["TableArn"].IsString()) {
    std::string_view arn = description["TableArn"].GetString();  // arn:aws:dynamodb:REGION:...
    constexpr std::string_view kPrefix = "arn:aws:dynamodb:";
    if (arn.starts_with(kPrefix)) {
      arn.remove_prefix(kPrefix.size());
      identity.region = std::string(arn.substr(0, arn.find(':')));
    }
  }
  if (description.HasMember("TableId") && description["TableId"].IsString()) {
    std::string id = description["TableId"].GetString();
    identity.table_id = std::strtoull(id.substr(id.rfind('-') + 1).c_str(), nullptr, 16);
  }
  if (description.HasMember("CreationDateTime") && description["CreationDateTime"].IsNumber()) {
    identity.creation_time_micros = std::llround(description["CreationDateTime"].GetDouble() * 1e6);
  }
  if (description.HasMember("KeySchema") && description["KeySchema"].IsArray()) {
    for (const auto& key : description["KeySchema"].GetArray()) {
      if (key.IsObject() && key.HasMember("KeyType") && key["KeyType"] == "HASH" &&
          key.HasMember("AttributeName") && key["AttributeName"].IsString()) {
        identity.partition_key = key["AttributeName"].GetString();
      }
    }
  }
  return identity;
}

using IdentityLookup =
    std::function<Result<std::optional<StreamTableIdentity>>(const std::string& table)>;

// Opens a quarantine table by name.
using QuarantineMaker =
    std::function<Result<std::unique_ptr<streams::QuarantineStore>>(const std::string& table)>;

// Engine, endpoint and change_sources: StreamConsumers over a ChangeSource per table,
// sharing one lease store.
class ChangeSourceStreams final : public StreamSource {
 public:
  ChangeSourceStreams(Kind kind, std::unique_ptr<Engine> owned_engine, ChangeSourceMaker sources,
                      IdentityLookup identity, std::unique_ptr<streams::LeaseStore> leases,
                      QuarantineMaker quarantine)
      : kind_(kind),
        owned_engine_(std::move(owned_engine)),
        sources_(std::move(sources)),
        identity_(std::move(identity)),
        leases_(std::move(leases)),
        quarantine_(std::move(quarantine)) {}

  Kind kind() const override { return kind_; }

  Result<std::unique_ptr<streams::StreamReader>> OpenReader(streams::ConsumerOptions options,
                                                            streams::BatchHandler handler,
                                                            std::string) override {
    TW_ASSIGN_OR_RETURN(std::unique_ptr<streams::ChangeSource> source,
                        sources_(TableName(options.table)));
    return ChangeSourceReader::Create(std::move(options), std::move(source), *leases_,
                                      std::move(handler));
  }

  Result<std::optional<StreamTableIdentity>> DescribeTable(const std::string& table) override {
    return identity_(table);
  }

  Result<std::unique_ptr<streams::QuarantineStore>> OpenQuarantineStore(
      const std::string& table) override {
    if (!quarantine_) return StreamSource::OpenQuarantineStore(table);
    return quarantine_(table);
  }

 private:
  const Kind kind_;
  const std::unique_ptr<Engine> owned_engine_;  // a data_dir's; the makers below use it
  const ChangeSourceMaker sources_;
  const IdentityLookup identity_;
  const std::unique_ptr<streams::LeaseStore> leases_;
  const QuarantineMaker quarantine_;  // null for change_sources
};

// The Kafka publisher's topics: a KafkaStreamConsumer per reader.
class KafkaStreams final : public StreamSource {
 public:
  explicit KafkaStreams(KafkaSourceConfig config) : config_(std::move(config)) {}

  Kind kind() const override { return Kind::kKafka; }

  Result<std::unique_ptr<streams::StreamReader>> OpenReader(streams::ConsumerOptions options,
                                                            streams::BatchHandler handler,
                                                            std::string kafka_group_id) override {
    if (options.table.empty()) return Status::Validation("ConsumerOptions.table is required");
    KafkaConsumerOptions kafka;
    kafka.brokers = config_.brokers;
    kafka.topic = KafkaTopicName(config_.topic_prefix, options.table);
    kafka.group_id = kafka_group_id.empty() ? options.application : std::move(kafka_group_id);
    kafka.format = config_.format;
    kafka.starting_position = options.starting_position;
    kafka.starting_time_micros = options.starting_time_micros;
    kafka.max_batch_records = options.max_batch_records;
    kafka.max_batching_window = options.max_batching_window;
    kafka.retry_backoff_initial = options.retry_backoff_initial;
    kafka.retry_backoff_max = options.retry_backoff_max;
    kafka.clock = options.clock;
    kafka.properties = config_.properties;
    kafka.checkpoints = options.checkpoints;
    kafka.table = options.table;
    kafka.on_read_error = std::move(options.on_read_error);
    kafka.on_resolved_time = std::move(options.on_resolved_time);
    TW_ASSIGN_OR_RETURN(auto consumer,
                        KafkaStreamConsumer::Create(std::move(kafka), std::move(handler)));
    return std::unique_ptr<streams::StreamReader>(std::move(consumer));
  }

  Result<std::optional<StreamTableIdentity>> DescribeTable(const std::string&) override {
    return std::optional<StreamTableIdentity>();
  }

 private:
  const KafkaSourceConfig config_;
};

// The names of the sources `config` sets.
std::vector<std::string> SourcesSet(const StreamSourceConfig& config) {
  std::vector<std::string> set;
  if (!config.data_dir.empty()) set.push_back("data_dir");
  if (config.engine != nullptr) set.push_back("engine");
  if (!config.endpoint.empty()) set.push_back("endpoint");
  if (!config.kafka.brokers.empty()) set.push_back("kafka.brokers");
  if (config.change_sources) set.push_back("change_sources");
  return set;
}

Result<std::unique_ptr<streams::LeaseStore>> EngineLeases(Engine& engine,
                                                          const std::string& lease_table) {
  if (lease_table.empty()) return streams::MakeMemoryLeaseStore();
  return streams::MakeEngineLeaseStore(engine, lease_table);
}

Result<std::unique_ptr<StreamSource>> OpenEngine(Engine& engine,
                                                 std::unique_ptr<Engine> owned_engine,
                                                 const std::string& lease_table) {
  TW_ASSIGN_OR_RETURN(auto leases, EngineLeases(engine, lease_table));
  Engine* const source_engine = &engine;
  auto sources =
      [source_engine](const TableName& table) -> Result<std::unique_ptr<streams::ChangeSource>> {
    return streams::MakeEngineChangeSource(*source_engine, table);
  };
  auto identity =
      [source_engine](const std::string& table) -> Result<std::optional<StreamTableIdentity>> {
    TW_ASSIGN_OR_RETURN(TableDescription description, source_engine->DescribeTable(table));
    return std::optional<StreamTableIdentity>(LocalIdentity(*source_engine, description));
  };
  auto quarantine = [source_engine](const std::string& table) {
    return streams::MakeEngineQuarantineStore(*source_engine, table);
  };
  return std::unique_ptr<StreamSource>(
      std::make_unique<ChangeSourceStreams>(StreamSource::Kind::kEngine, std::move(owned_engine),
                                            sources, identity, std::move(leases), quarantine));
}

Result<std::unique_ptr<StreamSource>> OpenEndpoint(const StreamSourceConfig& config) {
  const std::string& endpoint = config.endpoint;
  // One identity for every client of the source; the timeouts are the remote readers' and
  // stores' defaults.
  TW_ASSIGN_OR_RETURN(std::optional<security::SigningIdentity> signing,
                      streams::ResolveClientIdentity(config.profile, config.endpoint_region));
  const security::TlsClientOptions& tls = config.tls;
  const streams::ServiceClientOptions reads{std::chrono::milliseconds(10'000), signing, tls};
  const streams::ServiceClientOptions stores{std::chrono::milliseconds(5'000), signing, tls};
  TW_RETURN_IF_ERROR(streams::ServiceClient::Create(endpoint, reads).status());
  std::unique_ptr<streams::LeaseStore> leases;
  if (config.lease_table.empty()) {
    leases = streams::MakeMemoryLeaseStore();
  } else {
    TW_ASSIGN_OR_RETURN(leases,
                        streams::MakeRemoteLeaseStore(endpoint, config.lease_table, stores));
  }
  auto sources = [endpoint, reads](const TableName& table) {
    return streams::MakeRemoteStreamsSource(endpoint, table, reads);
  };
  auto identity = [endpoint,
                   reads](const std::string& table) -> Result<std::optional<StreamTableIdentity>> {
    TW_ASSIGN_OR_RETURN(StreamTableIdentity identity, RemoteIdentity(endpoint, reads, table));
    return std::optional<StreamTableIdentity>(std::move(identity));
  };
  auto quarantine = [endpoint, stores](const std::string& table) {
    return streams::MakeRemoteQuarantineStore(endpoint, table, stores);
  };
  return std::unique_ptr<StreamSource>(std::make_unique<ChangeSourceStreams>(
      StreamSource::Kind::kEndpoint, nullptr, sources, identity, std::move(leases), quarantine));
}

}  // namespace

Result<std::unique_ptr<streams::QuarantineStore>> StreamSource::OpenQuarantineStore(
    const std::string&) {
  return Status::Validation(std::string("a ") + std::string(KindName(kind())) +
                            " source has no table to keep quarantined records in: "
                            "PoisonRecordHandling QUARANTINE_KEY needs a data-dir or endpoint "
                            "source");
}

std::string_view StreamSource::KindName(Kind kind) {
  switch (kind) {
    case Kind::kEngine:
      return "engine";
    case Kind::kEndpoint:
      return "endpoint";
    case Kind::kKafka:
      return "kafka";
    case Kind::kChangeSources:
      return "change_sources";
  }
  return "unknown";
}

Result<std::unique_ptr<StreamSource>> StreamSource::Open(StreamSourceConfig config) {
  const std::vector<std::string> set = SourcesSet(config);
  if (set.size() != 1) {
    std::string named;
    for (const std::string& name : set) named += (named.empty() ? "" : " and ") + name;
    return Status::Validation(
        "a stream source needs exactly one of data_dir, engine, endpoint, kafka.brokers and "
        "change_sources; " +
        (set.empty() ? std::string("none is set") : named + " are set"));
  }
  if (!config.data_dir.empty()) {
    EngineOptions options;
    options.data_dir = config.data_dir;
    options.region = config.region;
    TW_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Open(options));
    Engine& opened = *engine;
    return OpenEngine(opened, std::move(engine), config.lease_table);
  }
  if (config.engine != nullptr) return OpenEngine(*config.engine, nullptr, config.lease_table);
  if (!config.endpoint.empty()) return OpenEndpoint(config);
  if (!config.kafka.brokers.empty()) {
    return std::unique_ptr<StreamSource>(std::make_unique<KafkaStreams>(std::move(config.kafka)));
  }
  if (!config.lease_table.empty()) {
    return Status::Validation(
        "a stream source of change_sources keeps its leases in this process: lease_table must "
        "be empty");
  }
  auto identity = [](const std::string&) -> Result<std::optional<StreamTableIdentity>> {
    return std::optional<StreamTableIdentity>();
  };
  return std::unique_ptr<StreamSource>(std::make_unique<ChangeSourceStreams>(
      Kind::kChangeSources, nullptr, std::move(config.change_sources), identity,
      streams::MakeMemoryLeaseStore(), nullptr));
}

}  // namespace tidewater::connectors
