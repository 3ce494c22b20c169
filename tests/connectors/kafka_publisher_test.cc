// The Kafka publisher against librdkafka's mock cluster (3 brokers on loopback).
//
// Every test ends by reading the whole topic with a separate consumer and comparing it
// with the table's change log: every record is there, per partition in strictly
// increasing tw-seq once duplicates are dropped by (tw-shard, tw-seq), and every
// duplicate is byte-identical to the first copy. Tests with faults print the number of
// duplicates they saw.
#include "tidewater/connectors/kafka_publisher.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "support/child_process.h"
#include "support/kafka_cluster.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/failure_point.h"
#include "tidewater/streams/stream_record_json.h"

namespace tidewater::connectors {
namespace {

using std::chrono::milliseconds;
using testing::ConsumedMessage;
using testing::MockKafkaCluster;

constexpr int kShards = 4;
constexpr int16_t kProduceApiKey = 0;  // the Kafka protocol's ProduceRequest

Status CreateStreamTable(Engine& engine, const std::string& name, AttributeType key_type,
                         uint32_t shards = kShards) {
  CreateTableRequest request;
  request.name = name;
  request.key_schema.partition_key = {"pk", key_type};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = shards;
  return engine.CreateTable(request).status();
}

Item MakeItem(const std::string& key, const std::string& token, size_t pad = 100) {
  return Item{{"pk", AttributeValue::S(key)},
              {"tok", AttributeValue::S(token)},
              {"pad", AttributeValue::S(std::string(pad, 'x'))}};
}

// Puts `count` items over 50 keys (so there are INSERTs and MODIFYs) and deletes every
// tenth key once (REMOVEs). Tokens are "<prefix>/<i>".
void WriteItems(Engine& engine, const std::string& table, const std::string& prefix, int count,
                std::chrono::microseconds pause = std::chrono::microseconds(0)) {
  for (int i = 0; i < count; ++i) {
    const std::string key = prefix + "-k" + std::to_string(i % 50);
    ASSERT_TRUE(engine.PutItem(table, MakeItem(key, prefix + "/" + std::to_string(i))).ok());
    if (i % 10 == 9 && i < 500) {
      ASSERT_TRUE(engine.DeleteItem(table, {{"pk", AttributeValue::S(key)}}).ok());
    }
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
  }
}

KafkaPublisherOptions Options(const MockKafkaCluster& cluster) {
  KafkaPublisherOptions options;
  options.brokers = cluster.bootstraps();
  options.checkpoint_interval = milliseconds(50);
  options.table_refresh_interval = milliseconds(100);
  options.admin_timeout = milliseconds(3000);
  options.restart_backoff = milliseconds(50);
  return options;
}

// Waits until Kafka acknowledged every record the tables' logs hold now.
::testing::AssertionResult WaitPublished(Engine& engine, const KafkaPublisher& publisher,
                                         const std::vector<std::string>& tables) {
  return testing::WaitFor([&] {
    const auto states = publisher.Snapshot();
    for (const std::string& name : tables) {
      auto description = engine.DescribeTable(name);
      auto state = std::find_if(states.begin(), states.end(), [&](const TablePublishState& s) {
        return s.table == TableName(name);
      });
      if (!description.ok() || state == states.end() ||
          state->shards.size() != description->shards.size()) {
        return false;
      }
      for (const ShardPublishState& shard : state->shards) {
        if (shard.published_next != description->shards[shard.shard.value()].last_sequence.Next()) {
          return false;
        }
      }
    }
    return true;
  });
}

// How many records `table`'s log holds: the writer's progress.
uint64_t LogRecords(Engine& engine, const std::string& table) {
  auto description = engine.DescribeTable(table);
  uint64_t records = 0;
  if (description.ok()) {
    for (const ShardDescription& shard : description->shards) {
      records += shard.last_sequence.value();
    }
  }
  return records;
}

std::vector<ChangeRecord> ReadLog(Engine& engine, const std::string& table, ShardIndex shard) {
  std::vector<ChangeRecord> records;
  SequenceNumber next(1);
  while (true) {
    auto read = engine.ReadShard({TableName(table), shard, next, 1000});
    EXPECT_TRUE(read.ok());
    if (!read.ok() || read->records.empty()) return records;
    next = read->next_sequence;
    for (auto& record : read->records) records.push_back(std::move(record));
  }
}

std::string ExpectedKey(const ChangeRecord& record) {
  for (const auto& attribute : record.keys().attributes()) {
    if (attribute.name() != "pk") continue;
    const auto& v = attribute.value();
    return v.has_s() ? v.s() : v.has_n() ? v.n() : v.b();
  }
  return "<no pk>";
}

std::string_view EventText(v1::EventName event) {
  return event == v1::INSERT ? "INSERT" : event == v1::MODIFY ? "MODIFY" : "REMOVE";
}

struct TopicCheck {
  size_t messages = 0;
  size_t duplicates = 0;
  std::set<std::string> tokens;  // "tok" of every new image in the topic
};

// Compares `table`'s topic with its change log (see the file comment); values are
// compared as Protobuf records. Watermark messages are skipped (their own test checks them).
TopicCheck ExpectTopicMatchesLog(Engine& engine, const std::string& table,
                                 const std::vector<ConsumedMessage>& messages,
                                 const std::string& region = "local") {
  TopicCheck check;
  std::map<std::pair<uint32_t, uint64_t>, const ConsumedMessage*> first_copy;
  std::map<int32_t, uint64_t> last_sequence;
  std::vector<std::string> problems;
  const auto problem = [&](const std::string& text) {
    if (problems.size() < 10) problems.push_back(text);
  };
  for (const ConsumedMessage& m : messages) {
    if (!last_sequence.contains(m.partition) && m.offset != 0) {
      problem("partition " + std::to_string(m.partition) + " starts at offset " +
              std::to_string(m.offset) +
              ": the mock cluster dropped its head (it keeps 5 MB per partition)");
    }
    if (m.headers.contains(std::string(kWatermarkHeader))) {
      last_sequence.try_emplace(m.partition, 0);  // a watermark may precede the first record
      continue;
    }
    ++check.messages;
    const uint32_t shard = static_cast<uint32_t>(std::stoul(m.headers.at("tw-shard")));
    const uint64_t sequence = std::stoull(m.headers.at("tw-seq"));
    const std::string where = "partition " + std::to_string(m.partition) + " offset " +
                              std::to_string(m.offset) + " seq " + std::to_string(sequence);
    if (m.partition != static_cast<int32_t>(shard)) problem(where + ": tw-shard differs");
    if (m.headers.at("tw-table") != table) problem(where + ": tw-table differs");
    if (m.headers.at("tw-origin") != region) problem(where + ": tw-origin differs");
    auto [it, first] = first_copy.emplace(std::make_pair(shard, sequence), &m);
    if (!first) {
      ++check.duplicates;
      if (it->second->value != m.value || it->second->key != m.key) {
        problem(where + ": a duplicate differs from its first copy");
      }
      continue;
    }
    if (sequence <= last_sequence[m.partition]) {
      problem(where + ": after seq " + std::to_string(last_sequence[m.partition]));
    }
    last_sequence[m.partition] = sequence;
  }
  auto description = engine.DescribeTable(table);
  EXPECT_TRUE(description.ok());
  size_t records = 0;
  for (const ShardDescription& shard : description->shards) {
    for (const ChangeRecord& record : ReadLog(engine, table, shard.index)) {
      ++records;
      auto it = first_copy.find({shard.index.value(), record.sequence()});
      const std::string where =
          "record " + std::to_string(shard.index.value()) + "/" + std::to_string(record.sequence());
      if (it == first_copy.end()) {
        problem(where + " is missing from Kafka");
        continue;
      }
      const ConsumedMessage& m = *it->second;
      ChangeRecord published;
      if (!published.ParseFromString(m.value) ||
          published.SerializeAsString() != record.SerializeAsString()) {
        problem(where + ": the message value is not the record");
      }
      if (m.key != ExpectedKey(record)) problem(where + ": key '" + m.key + "'");
      if (m.headers.at("tw-event") != EventText(record.event())) problem(where + ": tw-event");
      if (m.timestamp_ms != record.approximate_creation_time_micros() / 1000) {
        problem(where + ": timestamp");
      }
      for (const auto& attribute : published.new_image().attributes()) {
        if (attribute.name() == "tok") check.tokens.insert(attribute.value().s());
      }
    }
  }
  if (first_copy.size() != records) {
    problem("Kafka holds " + std::to_string(first_copy.size()) + " distinct records, the log " +
            std::to_string(records));
  }
  for (const std::string& text : problems) ADD_FAILURE() << table << ": " << text;
  return check;
}

double Metric(prometheus::Registry& registry, const std::string& name,
              const std::map<std::string, std::string>& labels = {}) {
  double sum = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      bool match = true;
      for (const auto& wanted : labels) {
        match &= std::any_of(metric.label.begin(), metric.label.end(), [&](const auto& l) {
          return l.name == wanted.first && l.value == wanted.second;
        });
      }
      if (!match) continue;
      sum += family.type == prometheus::MetricType::Counter ? metric.counter.value
             : family.type == prometheus::MetricType::Gauge ? metric.gauge.value
                                                            : metric.histogram.sample_count;
    }
  }
  return sum;
}

void ReportDuplicates(const std::string& test, size_t duplicates) {
  std::cout << "[ duplicates ] " << test << ": " << duplicates << std::endl;
  ::testing::Test::RecordProperty("duplicates", static_cast<int>(duplicates));
}

class KafkaPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Engine::Open(testing::TestEngineOptions(dir_.Sub("data"), &clock_));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(*opened);
  }

  std::unique_ptr<KafkaPublisher> StartPublisher(KafkaPublisherOptions options) {
    options.registry = &registry_;
    auto publisher = KafkaPublisher::Start(*engine_, std::move(options));
    EXPECT_TRUE(publisher.ok()) << publisher.status().ToString();
    return publisher.ok() ? std::move(*publisher) : nullptr;
  }

  // Keeps writing to `table` on another thread until the returned function is called.
  std::function<void()> WriteInBackground(const std::string& table, int count,
                                          std::chrono::microseconds pause) {
    auto thread = std::make_shared<std::thread>(
        [this, table, count, pause] { WriteItems(*engine_, table, "bg", count, pause); });
    return [thread] { thread->join(); };
  }

  ::tidewater::testing::TempDir dir_;
  ManualClock clock_{1'700'000'000'000'000};
  std::unique_ptr<Engine> engine_;
  prometheus::Registry registry_;
  MockKafkaCluster cluster_;
};

TEST_F(KafkaPublisherTest, EveryRecordOncePerPartitionInOrder) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "orders", AttributeType::kS).ok());
  ASSERT_TRUE(CreateStreamTable(*engine_, "counters", AttributeType::kN, 2).ok());
  ASSERT_TRUE(CreateStreamTable(*engine_, "blobs", AttributeType::kB, 2).ok());
  cluster_.CreateTopic("tidewater.orders", 6);  // more partitions than shards is fine
  cluster_.CreateTopic("tidewater.counters", 2);
  cluster_.CreateTopic("tidewater.blobs", 2);
  cluster_.CreateTopic("tidewater.late", kShards);
  WriteItems(*engine_, "orders", "before", 300);  // a backlog before the start
  auto publisher = StartPublisher(Options(cluster_));
  ASSERT_NE(publisher, nullptr);

  auto join = WriteInBackground("orders", 1500, std::chrono::microseconds(0));
  // Canonical key bytes: N as canonical decimal text, B raw.
  const std::vector<std::pair<std::string, std::string>> numbers = {
      {"1.50", "1.5"}, {"-0.0010", "-0.001"}, {"1E3", "1000"}, {"7", "7"}};
  for (const auto& [text, canonical] : numbers) {
    ASSERT_TRUE(
        engine_->PutItem("counters", {{"pk", AttributeValue::N(*Number::Parse(text))}}).ok());
  }
  const std::string binary_key("\x00\x01\xff", 3);
  ASSERT_TRUE(engine_->PutItem("blobs", {{"pk", AttributeValue::B(binary_key)}}).ok());
  // A table created while publishing is picked up.
  ASSERT_TRUE(CreateStreamTable(*engine_, "late", AttributeType::kS).ok());
  WriteItems(*engine_, "late", "late", 200);
  join();

  const std::vector<std::string> tables = {"orders", "counters", "blobs", "late"};
  ASSERT_TRUE(WaitPublished(*engine_, *publisher, tables));
  for (const std::string& table : tables) {
    const int partitions = table == "orders" ? 6 : table == "late" ? kShards : 2;
    auto messages = testing::ReadTopic(cluster_.bootstraps(), "tidewater." + table, partitions);
    const TopicCheck check = ExpectTopicMatchesLog(*engine_, table, messages);
    EXPECT_EQ(check.duplicates, 0u) << table << ": no faults, no duplicates";
    EXPECT_EQ(Metric(registry_, "tidewater_kafka_published_records_total", {{"table", table}}),
              static_cast<double>(check.messages));
    if (table == "counters") {
      std::set<std::string> keys;
      for (const auto& m : messages) keys.insert(m.key);
      EXPECT_EQ(keys, (std::set<std::string>{"1.5", "-0.001", "1000", "7"}));
    }
    if (table == "blobs") {
      ASSERT_EQ(messages.size(), 1u);
      EXPECT_EQ(messages[0].key, binary_key);
    }
  }
  EXPECT_EQ(publisher->producer_restarts(), 0u);
  EXPECT_EQ(Metric(registry_, "tidewater_kafka_delivery_errors_total"), 0);

  // Stop saves the positions: the checkpoint of every shard is past its last record.
  publisher->Stop();
  auto description = engine_->DescribeTable("orders");
  for (const ShardDescription& shard : description->shards) {
    auto saved = engine_->LoadCheckpoint("kafka-publisher", TableName("orders"), shard.index);
    ASSERT_TRUE(saved.ok() && saved->has_value());
    EXPECT_EQ(**saved, shard.last_sequence.Next());
  }
}

TEST_F(KafkaPublisherTest, TopicWithFewerPartitionsThanShardsIsAnError) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "orders", AttributeType::kS).ok());
  cluster_.CreateTopic("tidewater.orders", 2);
  KafkaPublisherOptions options = Options(cluster_);
  auto publisher = KafkaPublisher::Start(*engine_, options);
  ASSERT_FALSE(publisher.ok());
  EXPECT_EQ(publisher.status().code(), ErrorCode::kValidation);
  EXPECT_EQ(publisher.status().message(),
            "Kafka topic 'tidewater.orders' has 2 partitions but table 'orders' has 4 shards; "
            "the publisher needs one partition per shard: add partitions to the topic "
            "(kafka-topics.sh --alter --topic tidewater.orders --partitions 4) or delete it");
}

// The mock cluster has no controller, so CreateTopics cannot succeed there: what is
// checked is that a topic that can be neither found nor created stops the start with a
// message naming it.
TEST_F(KafkaPublisherTest, TopicThatCannotBeCreatedIsAnError) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "fresh", AttributeType::kS).ok());
  KafkaPublisherOptions options = Options(cluster_);
  options.admin_timeout = milliseconds(300);
  options.topic_prefix = "cdc-";
  auto publisher = KafkaPublisher::Start(*engine_, options);
  ASSERT_FALSE(publisher.ok());
  EXPECT_EQ(publisher.status().code(), ErrorCode::kInternal);
  EXPECT_TRUE(publisher.status().message().starts_with(
      "cannot create Kafka topic 'cdc-fresh' with 4 partitions: "))
      << publisher.status().message();
}

TEST_F(KafkaPublisherTest, OptionsThatBreakTheGuaranteesAreRejected) {
  struct Case {
    std::map<std::string, std::string> properties;
    std::string error;  // "" = accepted
  };
  const Case cases[] = {
      {{{"enable.idempotence", "false"}},
       "Kafka property enable.idempotence=false is not allowed: the publisher needs an "
       "idempotent producer"},
      {{{"acks", "1"}}, "Kafka property acks=1 is not allowed: the publisher needs acks=all"},
      {{{"delivery.timeout.ms", "30000"}},
       "Kafka property delivery.timeout.ms=30000 is not allowed: a timed-out message would "
       "leave a gap"},
      {{{"enable.gapless.guarantee", "false"}},
       "Kafka property enable.gapless.guarantee=false is not allowed: a gap would reorder "
       "records when resent"},
      {{{"transactional.id", "x"}},
       "Kafka property transactional.id=x is not allowed: the publisher does not use "
       "transactions"},
      {{{"bootstrap.servers", "elsewhere:9092"}},
       "Kafka property bootstrap.servers=elsewhere:9092 is not allowed: set the brokers with "
       "--kafka-brokers"},
      {{{"no.such.property", "1"}},
       "Kafka property no.such.property=1: No such configuration property: "
       "\"no.such.property\""},
      {{{"acks", "all"}, {"compression.type", "lz4"}, {"enable.idempotence", "true"}}, ""},
  };
  for (const Case& c : cases) {
    KafkaPublisherOptions options = Options(cluster_);
    options.properties = c.properties;
    auto publisher = KafkaPublisher::Start(*engine_, options);
    if (c.error.empty()) {
      EXPECT_TRUE(publisher.ok()) << publisher.status().ToString();
    } else {
      ASSERT_FALSE(publisher.ok()) << c.error;
      EXPECT_EQ(publisher.status().code(), ErrorCode::kValidation);
      EXPECT_EQ(publisher.status().message(), c.error);
    }
  }
  KafkaPublisherOptions bad_prefix = Options(cluster_);
  bad_prefix.topic_prefix = "tide water/";
  EXPECT_EQ(KafkaPublisher::Start(*engine_, bad_prefix).status().code(), ErrorCode::kValidation);
  KafkaPublisherOptions no_brokers;
  EXPECT_EQ(KafkaPublisher::Start(*engine_, no_brokers).status().message(),
            "Kafka brokers are required (HOST:PORT,...)");

  KafkaFormat format;
  EXPECT_TRUE(ParseKafkaFormat("json", &format));
  EXPECT_EQ(format, KafkaFormat::kJson);
  EXPECT_TRUE(ParseKafkaFormat("protobuf", &format));
  EXPECT_EQ(format, KafkaFormat::kProtobuf);
  EXPECT_FALSE(ParseKafkaFormat("avro", &format));
}

// A clean stop saves the positions: the next start sends only what is new. Records not yet
// published outlive retention.
TEST_F(KafkaPublisherTest, RestartResumesFromCheckpointAndRetentionKeepsUnpublished) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "orders", AttributeType::kS).ok());
  cluster_.CreateTopic("tidewater.orders", kShards);
  auto publisher = StartPublisher(Options(cluster_));
  WriteItems(*engine_, "orders", "first", 200);
  ASSERT_TRUE(WaitPublished(*engine_, *publisher, {"orders"}));
  publisher->Stop();
  publisher.reset();

  WriteItems(*engine_, "orders", "second", 200);
  clock_.AdvanceSeconds(48 * 3600);  // every record is past the 24 h retention
  auto trimmed = engine_->TrimStreams();
  ASSERT_TRUE(trimmed.ok());
  size_t published_before = 0;
  auto description = engine_->DescribeTable("orders");
  for (const ShardDescription& shard : description->shards) {
    auto saved = engine_->LoadCheckpoint("kafka-publisher", TableName("orders"), shard.index);
    published_before += (*saved)->value() - 1;
  }
  EXPECT_EQ(*trimmed, published_before) << "only published records may be trimmed";

  publisher = StartPublisher(Options(cluster_));
  ASSERT_TRUE(WaitPublished(*engine_, *publisher, {"orders"}));
  auto messages = testing::ReadTopic(cluster_.bootstraps(), "tidewater.orders", kShards);
  // The log now holds only the unpublished records; Kafka holds both runs, once each.
  size_t in_log = 0;
  description = engine_->DescribeTable("orders");
  for (const ShardDescription& shard : description->shards) {
    in_log += ReadLog(*engine_, "orders", shard.index).size();
  }
  EXPECT_EQ(messages.size(), published_before + in_log);
  std::set<std::pair<std::string, std::string>> distinct;
  for (const auto& m : messages) distinct.emplace(m.headers.at("tw-shard"), m.headers.at("tw-seq"));
  EXPECT_EQ(distinct.size(), messages.size()) << "a clean restart sends nothing twice";
}

// All brokers down: the publisher stops at max_in_flight_records, the log holds the rest,
// and the lag metrics show it; when the brokers return, everything arrives in order.
TEST_F(KafkaPublisherTest, BackpressureBoundsInFlightAndLagShows) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "orders", AttributeType::kS).ok());
  cluster_.CreateTopic("tidewater.orders", kShards);
  KafkaPublisherOptions options = Options(cluster_);
  options.max_in_flight_records = 64;
  options.properties = {{"reconnect.backoff.max.ms", "100"}};
  options.clock = &clock_;  // the lag refresh (every second) waits for the test's clock
  auto publisher = StartPublisher(options);
  for (int broker = 1; broker <= 3; ++broker) {
    rd_kafka_mock_broker_set_down(cluster_.mock(), broker);
  }
  const auto in_flight = [&] { return Metric(registry_, "tidewater_kafka_in_flight_records"); };
  WriteItems(*engine_, "orders", "held", 1000);
  const double records = static_cast<double>(LogRecords(*engine_, "orders"));
  const auto lag_records = [&] {
    return Metric(registry_, "tidewater_kafka_publisher_lag_records", {{"table", "orders"}});
  };
  ASSERT_TRUE(testing::WaitFor([&] { return in_flight() == 64; }));
  clock_.AdvanceSeconds(30);
  ASSERT_TRUE(testing::WaitFor([&] { return lag_records() == records; })) << lag_records();
  EXPECT_GE(Metric(registry_, "tidewater_kafka_publisher_lag_seconds",
                   {{"table", "orders"}, {"shard", "0"}}),
            30);
  EXPECT_EQ(in_flight(), 64);

  for (int broker = 1; broker <= 3; ++broker) {
    rd_kafka_mock_broker_set_up(cluster_.mock(), broker);
  }
  ASSERT_TRUE(WaitPublished(*engine_, *publisher, {"orders"}));
  auto messages = testing::ReadTopic(cluster_.bootstraps(), "tidewater.orders", kShards);
  ReportDuplicates("all brokers down",
                   ExpectTopicMatchesLog(*engine_, "orders", messages).duplicates);
  EXPECT_EQ(lag_records(), records) << "the lag was refreshed before its interval passed";
  clock_.AdvanceSeconds(1);
  EXPECT_TRUE(testing::WaitFor([&] { return lag_records() == 0; })) << lag_records();
}

// librdkafka 2.0's mock broker does not check idempotent sequence numbers, and the tests
// that fail produce requests must not depend on the broker doing so:
// - a batch sent after a rejected one is appended ahead of the resend, where a real broker
//   refuses it (OUT_OF_ORDER_SEQUENCE_NUMBER) and the gap-less producer stops;
// - a batch whose outcome is uncertain (REQUEST_TIMED_OUT) is taken as persisted by the
//   producer once a later batch succeeds, which only a sequence-checking broker makes true.
// One request in flight keeps such a test about what it checks (retries, restarts and
// resends without loss) rather than about that mock limitation.
KafkaPublisherOptions OneRequestInFlight(KafkaPublisherOptions options) {
  options.properties["max.in.flight.requests.per.connection"] = "1";
  return options;
}

// The leader of every partition goes down mid-stream; leadership moves to another broker,
// then the old leader comes back and takes over again.
TEST_F(KafkaPublisherTest, PartitionLeaderDownAndBackMidStream) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "orders", AttributeType::kS).ok());
  cluster_.CreateTopic("tidewater.orders", kShards);
  for (int p = 0; p < kShards; ++p) {
    rd_kafka_mock_partition_set_leader(cluster_.mock(), "tidewater.orders", p, 1);
  }
  // A broker going down fails the produce requests in flight to it (see above).
  KafkaPublisherOptions options = OneRequestInFlight(Options(cluster_));
  options.properties["reconnect.backoff.max.ms"] = "100";
  auto publisher = StartPublisher(options);
  // The faults follow the writer's progress through its 3050 records.
  const auto written = [&](uint64_t records) {
    return testing::WaitFor([&] { return LogRecords(*engine_, "orders") >= records; });
  };
  auto join = WriteInBackground("orders", 3000, std::chrono::microseconds(300));
  ASSERT_TRUE(written(750));
  rd_kafka_mock_broker_set_down(cluster_.mock(), 1);
  ASSERT_TRUE(written(1500));
  for (int p = 0; p < kShards; ++p) {
    rd_kafka_mock_partition_set_leader(cluster_.mock(), "tidewater.orders", p, 2);
  }
  ASSERT_TRUE(written(2250));
  rd_kafka_mock_broker_set_up(cluster_.mock(), 1);
  for (int p = 0; p < kShards; ++p) {
    rd_kafka_mock_partition_set_leader(cluster_.mock(), "tidewater.orders", p, 1);
  }
  join();
  ASSERT_TRUE(WaitPublished(*engine_, *publisher, {"orders"}));
  auto messages = testing::ReadTopic(cluster_.bootstraps(), "tidewater.orders", kShards);
  const TopicCheck check = ExpectTopicMatchesLog(*engine_, "orders", messages);
  ReportDuplicates("leader down and back", check.duplicates);
}

// Retriable produce errors are retried by the idempotent producer itself: no restart,
// no duplicate.
TEST_F(KafkaPublisherTest, RetriableProduceErrorsAreRetried) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "orders", AttributeType::kS).ok());
  cluster_.CreateTopic("tidewater.orders", kShards);
  auto publisher = StartPublisher(OneRequestInFlight(Options(cluster_)));
  auto join = WriteInBackground("orders", 2000, std::chrono::microseconds(200));
  const auto published = [&] {
    return Metric(registry_, "tidewater_kafka_published_records_total", {{"table", "orders"}});
  };
  ASSERT_TRUE(testing::WaitFor([&] { return published() > 0; }));  // mid-stream
  rd_kafka_mock_push_request_errors(
      cluster_.mock(), kProduceApiKey, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
      RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
  join();
  ASSERT_TRUE(WaitPublished(*engine_, *publisher, {"orders"}));
  auto messages = testing::ReadTopic(cluster_.bootstraps(), "tidewater.orders", kShards);
  const TopicCheck check = ExpectTopicMatchesLog(*engine_, "orders", messages);
  ReportDuplicates("retriable errors", check.duplicates);
  EXPECT_EQ(check.duplicates, 0u);
  EXPECT_EQ(publisher->producer_restarts(), 0u);
}

// A non-retriable produce error fails the batch: the producer is replaced and publishing
// resumes from the acknowledged positions, without a gap or a reordering.
TEST_F(KafkaPublisherTest, NonRetriableProduceErrorsRestartTheProducerWithoutLoss) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "orders", AttributeType::kS).ok());
  cluster_.CreateTopic("tidewater.orders", kShards);
  auto publisher = StartPublisher(OneRequestInFlight(Options(cluster_)));
  auto join = WriteInBackground("orders", 3000, std::chrono::microseconds(200));
  ASSERT_TRUE(testing::WaitFor([&] {
    return Metric(registry_, "tidewater_kafka_published_records_total", {{"table", "orders"}}) > 0;
  }));  // mid-stream
  rd_kafka_mock_push_request_errors(cluster_.mock(), kProduceApiKey, 1,
                                    RD_KAFKA_RESP_ERR_INVALID_RECORD);
  ASSERT_TRUE(testing::WaitFor([&] { return publisher->producer_restarts() >= 1; }));
  rd_kafka_mock_push_request_errors(cluster_.mock(), kProduceApiKey, 1,
                                    RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  join();
  ASSERT_TRUE(WaitPublished(*engine_, *publisher, {"orders"}));
  auto messages = testing::ReadTopic(cluster_.bootstraps(), "tidewater.orders", kShards);
  const TopicCheck check = ExpectTopicMatchesLog(*engine_, "orders", messages);
  ReportDuplicates("non-retriable errors", check.duplicates);
  EXPECT_GE(publisher->producer_restarts(), 2u);
  EXPECT_GE(Metric(registry_, "tidewater_kafka_delivery_errors_total", {{"table", "orders"}}), 2);
  EXPECT_EQ(Metric(registry_, "tidewater_kafka_producer_restarts_total"),
            static_cast<double>(publisher->producer_restarts()));
}

TEST_F(KafkaPublisherTest, DeletedTableIsDropped) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "orders", AttributeType::kS).ok());
  ASSERT_TRUE(CreateStreamTable(*engine_, "gone", AttributeType::kS).ok());
  cluster_.CreateTopic("tidewater.orders", kShards);
  cluster_.CreateTopic("tidewater.gone", kShards);
  KafkaPublisherOptions options = Options(cluster_);
  options.clock = &clock_;  // table refreshes wait for the test's clock
  auto publisher = StartPublisher(options);
  WriteItems(*engine_, "gone", "g", 300);
  ASSERT_TRUE(engine_->DeleteTable("gone").ok());
  WriteItems(*engine_, "orders", "o", 300);
  ASSERT_TRUE(WaitPublished(*engine_, *publisher, {"orders"}));
  EXPECT_EQ(publisher->Snapshot().size(), 2u) << "a table refresh came before its interval";
  clock_.Advance(options.table_refresh_interval);
  ASSERT_TRUE(testing::WaitFor([&] { return publisher->Snapshot().size() == 1; }));
  const auto states = publisher->Snapshot();
  EXPECT_EQ(states[0].table, TableName("orders"));
  EXPECT_TRUE(testing::WaitFor([&] {
    return Metric(registry_, "tidewater_kafka_publisher_lag_records", {{"table", "gone"}}) == 0;
  }));
}

// A table deleted with records not yet in Kafka: they are still published (read from its
// disabled stream), and a table created again under its name, sharing the topic, follows
// them, so that every partition holds the shard's sequences in order, each once.
TEST_F(KafkaPublisherTest, DeletedTablesUnsentRecordsArePublishedBeforeTheNewTables) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "orders", AttributeType::kS).ok());
  cluster_.CreateTopic("tidewater.orders", kShards);
  // Slow acknowledgements and a small in-flight budget keep most records unsent.
  for (int broker = 1; broker <= 3; ++broker) {
    rd_kafka_mock_broker_set_rtt(cluster_.mock(), broker, 100);
  }
  KafkaPublisherOptions options = Options(cluster_);
  options.clock = &clock_;  // the table refresh that sees the delete waits for the test
  options.max_in_flight_records = 4;
  auto publisher = StartPublisher(options);
  ASSERT_NE(publisher, nullptr);
  WriteItems(*engine_, "orders", "old", 300);
  const uint64_t old_records = LogRecords(*engine_, "orders");
  ASSERT_TRUE(engine_->DeleteTable("orders").ok());
  uint64_t published = 0;
  const auto states = publisher->Snapshot();
  for (const ShardPublishState& shard : states.at(0).shards) {
    published += shard.published_next.value() - 1;
  }
  ASSERT_LT(published, old_records) << "the deleted table had nothing left to send";

  ASSERT_TRUE(CreateStreamTable(*engine_, "orders", AttributeType::kS).ok());
  clock_.Advance(options.table_refresh_interval);
  WriteItems(*engine_, "orders", "new", 100);
  // The new table's sequences go on after the deleted table's: this counts both.
  const uint64_t all_records = LogRecords(*engine_, "orders");
  ASSERT_GT(all_records, old_records);
  for (int broker = 1; broker <= 3; ++broker) {
    rd_kafka_mock_broker_set_rtt(cluster_.mock(), broker, 0);
  }
  ASSERT_TRUE(WaitPublished(*engine_, *publisher, {"orders"}));

  auto messages = testing::ReadTopic(cluster_.bootstraps(), "tidewater.orders", kShards);
  std::map<int32_t, std::vector<uint64_t>> sequences;  // per partition, in offset order
  std::sort(messages.begin(), messages.end(), [](const auto& a, const auto& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  for (const ConsumedMessage& message : messages) {
    ChangeRecord record;
    ASSERT_TRUE(record.ParseFromString(message.value));
    sequences[message.partition].push_back(record.sequence());
  }
  uint64_t total = 0;
  for (const auto& [partition, list] : sequences) {
    for (size_t i = 0; i < list.size(); ++i) {
      ASSERT_EQ(list[i], i + 1) << "partition " << partition << " offset " << i;
    }
    total += list.size();
  }
  EXPECT_EQ(total, all_records);
}

// The JSON format, read with kcat: each message's payload is the DynamoDB Streams record,
// its key the partition key and its headers those of every format.
TEST_F(KafkaPublisherTest, JsonFormatReadsWithKcat) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "people", AttributeType::kS, 2).ok());
  cluster_.CreateTopic("tidewater.people", 2);
  KafkaPublisherOptions options = Options(cluster_);
  options.format = KafkaFormat::kJson;
  auto publisher = StartPublisher(options);
  ASSERT_TRUE(engine_->PutItem("people", MakeItem("ada", "t1", 3)).ok());
  ASSERT_TRUE(engine_->PutItem("people", MakeItem("ada", "t2", 3)).ok());
  ASSERT_TRUE(engine_->PutItem("people", MakeItem("grace", "t3", 3)).ok());
  ASSERT_TRUE(engine_->DeleteItem("people", {{"pk", AttributeValue::S("grace")}}).ok());
  ASSERT_TRUE(WaitPublished(*engine_, *publisher, {"people"}));
  const uint64_t table_id = engine_->DescribeTable("people")->table_id;

  const std::string command =
      "kcat -b " + cluster_.bootstraps() + " -C -t tidewater.people -e -J -q 2>/dev/null";
  FILE* kcat = popen(command.c_str(), "r");
  ASSERT_NE(kcat, nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), kcat)) output.append(buffer, n);
  ASSERT_EQ(pclose(kcat), 0) << output;

  std::vector<std::string> events;
  std::map<int, uint64_t> last_sequence;
  size_t start = 0;
  for (size_t end; (end = output.find('\n', start)) != std::string::npos; start = end + 1) {
    rapidjson::Document line;
    line.Parse(output.data() + start, end - start);
    ASSERT_FALSE(line.HasParseError()) << output.substr(start, end - start);
    std::map<std::string, std::string> headers;
    const auto& list = line["headers"].GetArray();
    for (rapidjson::SizeType i = 0; i + 1 < list.Size(); i += 2) {
      headers[list[i].GetString()] = list[i + 1].GetString();
    }
    const int partition = line["partition"].GetInt();
    const uint64_t sequence = std::stoull(headers.at("tw-seq"));
    EXPECT_EQ(headers.at("tw-shard"), std::to_string(partition));
    EXPECT_EQ(headers.at("tw-table"), "people");
    EXPECT_GT(sequence, last_sequence[partition]);
    last_sequence[partition] = sequence;

    rapidjson::Document record;
    record.Parse(line["payload"].GetString());
    ASSERT_FALSE(record.HasParseError()) << line["payload"].GetString();
    EXPECT_STREQ(record["eventName"].GetString(), headers.at("tw-event").c_str());
    EXPECT_STREQ(record["eventSource"].GetString(), "aws:dynamodb");
    EXPECT_STREQ(record["eventVersion"].GetString(), "1.1");
    EXPECT_STREQ(record["awsRegion"].GetString(), "local");
    EXPECT_EQ(record["eventID"].GetString(),
              streams::EventId(table_id, ShardIndex(static_cast<uint32_t>(partition)),
                               SequenceNumber(sequence)));
    const auto& dynamodb = record["dynamodb"];
    EXPECT_STREQ(dynamodb["Keys"]["pk"]["S"].GetString(), line["key"].GetString());
    EXPECT_EQ(dynamodb["SequenceNumber"].GetString(),
              streams::SequenceNumberText(SequenceNumber(sequence)));
    EXPECT_STREQ(dynamodb["StreamViewType"].GetString(), "NEW_AND_OLD_IMAGES");
    const std::string event = headers.at("tw-event");
    EXPECT_EQ(dynamodb.HasMember("NewImage"), event != "REMOVE");
    EXPECT_EQ(dynamodb.HasMember("OldImage"), event != "INSERT");
    events.push_back(
        std::string(line["key"].GetString()) + ":" + event +
        (event == "REMOVE" ? "" : std::string(":") + dynamodb["NewImage"]["tok"]["S"].GetString()));
  }
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (std::vector<std::string>{"ada:INSERT:t1", "ada:MODIFY:t2", "grace:INSERT:t3",
                                              "grace:REMOVE"}));
}

// --- kill -9 ---

struct ChildRun {
  std::vector<std::string> written;  // tokens of acknowledged writes
  bool done = false;                 // printed DONE (the final run)
  int status = 0;
};

// Runs the publishing child (with `env` added to its environment); kills it with SIGKILL
// `kill_after` after its first acknowledged write (or after 60 s without one) unless
// `kill_after` is zero, else waits for it to end. Counting from the first write, not from
// the start, keeps a slow start (a sanitizer build, a loaded machine) from leaving an
// incarnation nothing to be killed in the middle of.
ChildRun RunChild(const std::vector<std::string>& args, milliseconds kill_after,
                  std::vector<std::string> env = {}) {
  int pipe_fds[2];
  EXPECT_EQ(pipe(pipe_fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::vector<std::string> owned = {TW_KAFKA_PUBLISH_CHILD};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp = testing::EnvironmentWith(env);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, owned[0].c_str(), &actions, nullptr, argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);

  ChildRun run;
  std::atomic<bool> wrote{false};
  std::thread reader([&] {
    std::string pending;
    char buffer[65536];
    ssize_t n;
    while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0) {
      pending.append(buffer, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
        const std::string line = pending.substr(start, end - start);
        if (line == "DONE") {
          run.done = true;
        } else if (line.starts_with("W ")) {
          run.written.push_back(line.substr(2));
          wrote = true;
        }
      }
      pending.erase(0, start);  // a line cut by the kill was not acknowledged to us
    }
  });
  if (kill_after.count() > 0) {
    (void)::tidewater::testing::WaitFor([&] { return wrote.load(); }, std::chrono::seconds(60));
    std::this_thread::sleep_for(kill_after);
    kill(pid, SIGKILL);
  }
  waitpid(pid, &run.status, 0);
  reader.join();
  close(pipe_fds[0]);
  return run;
}

// The engine options the child opens its data directory with.
EngineOptions ChildEngineOptions(const std::string& data_dir) {
  EngineOptions options;
  options.data_dir = data_dir;
  options.ttl_sweep_interval_micros = 0;
  options.retention_interval_micros = 0;
  return options;
}

// tidewaterd-with-publisher (a child process) is killed with SIGKILL mid-publish and
// restarted, four times; the mock cluster lives on in this process. Afterwards every
// acknowledged write is in Kafka, each partition is in order, and the duplicates are
// exactly the resent records that dedupe by (tw-shard, tw-seq) removes.
TEST(KafkaPublisherKillTest, KillNineMidPublishLosesNothing) {
  MockKafkaCluster cluster;
  cluster.CreateTopic("tidewater.killed", kShards);
  ::tidewater::testing::TempDir dir;
  const std::string data_dir = dir.Sub("data");
  std::mt19937 rng(std::random_device{}());
  std::set<std::string> acknowledged;
  for (int incarnation = 0; incarnation < 4; ++incarnation) {
    const ChildRun run = RunChild({data_dir, cluster.bootstraps(), std::to_string(incarnation)},
                                  milliseconds(400 + rng() % 400));
    ASSERT_TRUE(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGKILL)
        << "the child ended on its own, status " << run.status;
    EXPECT_GT(run.written.size(), 0u);
    acknowledged.insert(run.written.begin(), run.written.end());
  }
  const ChildRun last = RunChild({data_dir, cluster.bootstraps(), "final", "500"}, milliseconds(0));
  ASSERT_TRUE(WIFEXITED(last.status) && WEXITSTATUS(last.status) == 0) << last.status;
  ASSERT_TRUE(last.done);
  acknowledged.insert(last.written.begin(), last.written.end());

  auto engine = Engine::Open(ChildEngineOptions(data_dir));
  ASSERT_TRUE(engine.ok());
  auto messages = testing::ReadTopic(cluster.bootstraps(), "tidewater.killed", kShards);
  const TopicCheck check = ExpectTopicMatchesLog(**engine, "killed", messages);
  size_t missing = 0;
  for (const std::string& token : acknowledged) missing += check.tokens.contains(token) ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged writes";
  ReportDuplicates("kill -9 (4 kills, " + std::to_string(check.messages) + " messages)",
                   check.duplicates);
}

// The child is stopped by the failure point `point`, armed to kill on its `hit`-th hit,
// then run to the end. The restart resends each shard from its saved checkpoint, so
// afterwards nothing acknowledged is missing and the duplicates are exactly the messages
// the killed run had put in Kafka at or after their shard's checkpoint. Returns that number.
size_t KillAtFailurePointThenRestart(const std::string& point, int hit) {
  MockKafkaCluster cluster;
  cluster.CreateTopic("tidewater.killed", kShards);
  ::tidewater::testing::TempDir dir;
  const std::string data_dir = dir.Sub("data");
  const ChildRun killed =
      RunChild({data_dir, cluster.bootstraps(), "killed"}, milliseconds(0),
               {"TIDEWATER_FAILURE_POINTS=" + point + "=kill@" + std::to_string(hit)});
  EXPECT_TRUE(WIFSIGNALED(killed.status) && WTERMSIG(killed.status) == SIGKILL)
      << "the child was not killed at " << point << ", status " << killed.status;
  EXPECT_GT(killed.written.size(), 0u);

  std::map<uint32_t, uint64_t> saved;  // each shard's checkpoint when the child died
  {
    auto engine = Engine::Open(ChildEngineOptions(data_dir));
    EXPECT_TRUE(engine.ok());
    if (!engine.ok()) return 0;
    for (uint32_t shard = 0; shard < kShards; ++shard) {
      auto checkpoint =
          (*engine)->LoadCheckpoint("kafka-publisher", TableName("killed"), ShardIndex(shard));
      EXPECT_TRUE(checkpoint.ok() && checkpoint->has_value()) << "shard " << shard;
      saved[shard] = checkpoint.ok() ? checkpoint->value_or(SequenceNumber(1)).value() : 1;
    }
  }
  size_t to_resend = 0;
  for (const ConsumedMessage& m :
       testing::ReadTopic(cluster.bootstraps(), "tidewater.killed", kShards)) {
    const auto shard = static_cast<uint32_t>(std::stoul(m.headers.at("tw-shard")));
    to_resend += std::stoull(m.headers.at("tw-seq")) >= saved[shard] ? 1 : 0;
  }

  const ChildRun last = RunChild({data_dir, cluster.bootstraps(), "final", "500"}, milliseconds(0));
  EXPECT_TRUE(WIFEXITED(last.status) && WEXITSTATUS(last.status) == 0) << last.status;
  EXPECT_TRUE(last.done);
  auto engine = Engine::Open(ChildEngineOptions(data_dir));
  EXPECT_TRUE(engine.ok());
  if (!engine.ok()) return 0;
  const TopicCheck check = ExpectTopicMatchesLog(
      **engine, "killed", testing::ReadTopic(cluster.bootstraps(), "tidewater.killed", kShards));
  size_t missing = 0;
  for (const ChildRun* run : {&killed, &last}) {
    for (const std::string& token : run->written) missing += check.tokens.contains(token) ? 0 : 1;
  }
  EXPECT_EQ(missing, 0u) << "acknowledged writes missing from Kafka";
  EXPECT_EQ(check.duplicates, to_resend) << "killed at " << point;
  ReportDuplicates("killed at " + point, check.duplicates);
  return to_resend;
}

// Killed after a delivery report and before the checkpoint that would cover it: that
// record (at least) is sent again, as a droppable duplicate.
TEST(KafkaPublisherKillTest, KilledAfterAckBeforeCheckpointResendsTheUnsavedRecords) {
  if (!kFailurePointsCompiledIn) GTEST_SKIP() << "failure points are compiled out";
  EXPECT_GT(KillAtFailurePointThenRestart("publisher.after_ack", 300), 0u);
}

// Killed right after a checkpoint was saved: the restart starts there.
TEST(KafkaPublisherKillTest, KilledAfterCheckpointResumesFromIt) {
  if (!kFailurePointsCompiledIn) GTEST_SKIP() << "failure points are compiled out";
  KillAtFailurePointThenRestart("publisher.after_checkpoint", 3);
}

// With watermark_interval, each partition gets watermark messages (no key, no value,
// tw-watermark) after every record they cover: each record of the shard created before a
// watermark's time is earlier in the partition. Idle shards get them as the clock moves;
// the change records are exactly the log's, as without them.
TEST_F(KafkaPublisherTest, WatermarkMessagesFollowTheRecordsTheyCover) {
  ASSERT_TRUE(CreateStreamTable(*engine_, "orders", AttributeType::kS).ok());
  cluster_.CreateTopic("tidewater.orders", kShards);
  KafkaPublisherOptions options = Options(cluster_);
  options.watermark_interval = milliseconds(5);
  auto publisher = StartPublisher(options);
  ASSERT_NE(publisher, nullptr);
  for (int round = 0; round < 40; ++round) {  // the clock moves while records are published
    clock_.AdvanceMicros(1000);
    WriteItems(*engine_, "orders", "r" + std::to_string(round), 20);
  }
  ASSERT_TRUE(WaitPublished(*engine_, *publisher, {"orders"}));
  clock_.AdvanceSeconds(1);  // idle from here
  const int64_t idle_ms = clock_.NowMicros() / 1000;
  std::vector<ConsumedMessage> messages;
  ASSERT_TRUE(testing::WaitFor([&] {
    messages = testing::ReadTopic(cluster_.bootstraps(), "tidewater.orders", kShards);
    std::set<int32_t> reached;
    for (const ConsumedMessage& m : messages) {
      auto w = m.headers.find(std::string(kWatermarkHeader));
      if (w != m.headers.end() && std::stoll(w->second) >= idle_ms) reached.insert(m.partition);
    }
    return reached.size() == static_cast<size_t>(kShards);
  })) << "not every idle partition got a watermark at the clock's time";
  publisher->Stop();

  size_t watermarks = 0;
  for (int32_t partition = 0; partition < kShards; ++partition) {
    const std::vector<ChangeRecord> log = ReadLog(*engine_, "orders", ShardIndex(partition));
    std::set<uint64_t> seen;
    int64_t last_watermark = 0;
    for (const ConsumedMessage& m : messages) {
      if (m.partition != partition) continue;
      auto w = m.headers.find(std::string(kWatermarkHeader));
      if (w == m.headers.end()) {
        seen.insert(std::stoull(m.headers.at(std::string(kSequenceHeader))));
        continue;
      }
      ++watermarks;
      const int64_t watermark_ms = std::stoll(w->second);
      EXPECT_TRUE(m.key.empty() && m.value.empty());
      EXPECT_EQ(m.headers.at(std::string(kShardHeader)), std::to_string(partition));
      EXPECT_EQ(m.headers.count(std::string(kSequenceHeader)), 0u);
      EXPECT_EQ(m.timestamp_ms, watermark_ms);
      EXPECT_GT(watermark_ms, last_watermark) << "partition " << partition;
      last_watermark = watermark_ms;
      for (const ChangeRecord& record : log) {
        if (record.approximate_creation_time_micros() >= watermark_ms * 1000) break;
        ASSERT_TRUE(seen.contains(record.sequence()))
            << "partition " << partition << ": record " << record.sequence() << " (created "
            << record.approximate_creation_time_micros() << ") is after watermark " << watermark_ms;
      }
    }
  }
  EXPECT_GT(watermarks, static_cast<size_t>(kShards));
  const TopicCheck check = ExpectTopicMatchesLog(*engine_, "orders", messages);
  EXPECT_EQ(check.duplicates, 0u);
}

}  // namespace
}  // namespace tidewater::connectors
