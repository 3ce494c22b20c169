// Consumer SDK throughput: records/s handed to a handler that only counts them.
//
//  1. Local engine: a backlog of N change records (a 4-shard table, items of about
//     200 bytes) is written first; then a StreamConsumer (engine source, engine leases,
//     batches of up to --batch records) drains it.
//  2. Kafka: the same backlog published by the KafkaPublisher (Protobuf values) to
//     librdkafka's mock cluster (3 brokers on loopback, in this process); then a
//     KafkaStreamConsumer drains the topic (decoding, dedupe, one commit per batch).
// Each is timed from the first record handed over to the last (start-up and the Kafka
// group join do not count).
//
//   build/bench/tw_consumer_bench [--records N] [--batch B] [--timeout SECONDS]
// (TW_KAFKA_DEBUG=cgrp,fetch,... passes librdkafka's debug contexts to the consumer.)
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "support/kafka_cluster.h"
#include "support/temp_dir.h"
#include "tidewater/connectors/kafka_consumer.h"
#include "tidewater/connectors/kafka_publisher.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"

namespace {

using namespace tidewater;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Counts records; notes when the first and the last arrive.
class Counter {
 public:
  explicit Counter(uint64_t expected) : expected_(expected) {}
  Status Add(const streams::ShardBatch& batch) {
    const uint64_t before = count_.fetch_add(batch.records.size());
    if (before == 0) first_ = SteadyClock::now();
    if (before + batch.records.size() >= expected_) last_ = SteadyClock::now();
    return Status::Ok();
  }
  bool Done() const { return count_.load() >= expected_; }
  double RecordsPerSecond() const {
    return static_cast<double>(expected_) / std::chrono::duration<double>(last_ - first_).count();
  }

 private:
  const uint64_t expected_;
  std::atomic<uint64_t> count_{0};
  SteadyClock::time_point first_, last_;
};

bool WaitFor(const Counter& counter, std::chrono::seconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!counter.Done() && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  return counter.Done();
}

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // The mock cluster keeps only about 12,000 messages per partition (its log start moves
  // past older ones), so larger backlogs would not all reach the Kafka consumer.
  uint64_t records = 40'000;
  size_t batch = 1000;
  int timeout_seconds = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--records") == 0) records = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--batch") == 0) batch = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--timeout") == 0) timeout_seconds = std::stoi(argv[i + 1]);
  }
  spdlog::set_level(spdlog::level::warn);
  testing::TempDir dir;
  EngineOptions engine_options;
  engine_options.data_dir = dir.Sub("data");
  auto engine = Engine::Open(engine_options);
  if (!engine.ok()) return Fail("engine", engine.status());
  CreateTableRequest create;
  create.name = "orders";
  create.key_schema.partition_key = {"pk", AttributeType::kS};
  create.stream = {true, StreamViewType::kNewImage};
  create.shard_count = 4;
  if (auto created = (*engine)->CreateTable(create); !created.ok()) {
    return Fail("create", created.status());
  }
  const std::string payload(160, 'x');
  for (uint64_t i = 0; i < records; ++i) {
    Item item{{"pk", AttributeValue::S("item-" + std::to_string(i))},
              {"payload", AttributeValue::S(payload)},
              {"n", AttributeValue::N(Number::FromInt64(static_cast<int64_t>(i)))}};
    if (auto put = (*engine)->PutItem("orders", std::move(item)); !put.ok()) {
      return Fail("put", put.status());
    }
  }
  std::printf("backlog: %llu records in 4 shards, batches of up to %zu\n",
              static_cast<unsigned long long>(records), batch);

  // 1. Local engine.
  {
    auto source = streams::MakeEngineChangeSource(**engine, TableName("orders"));
    auto leases = streams::MakeEngineLeaseStore(**engine);
    if (!leases.ok()) return Fail("leases", leases.status());
    Counter counter(records);
    streams::ConsumerOptions options;
    options.table = "orders";
    options.application = "bench";
    options.max_batch_records = batch;
    auto consumer = streams::StreamConsumer::Create(
        options, *source, **leases, [&](const streams::ShardBatch& b) { return counter.Add(b); });
    if (!consumer.ok()) return Fail("consumer", consumer.status());
    if (Status started = (*consumer)->Start(); !started.ok()) return Fail("start", started);
    if (!WaitFor(counter, std::chrono::seconds(timeout_seconds)))
      return Fail("engine", Status::Internal("timed out"));
    (*consumer)->Stop();
    std::printf("local engine: %.0f records/s\n", counter.RecordsPerSecond());
  }

  // 2. Kafka.
  {
    testing::MockKafkaCluster cluster;
    cluster.CreateTopic("tidewater.orders", 4);
    connectors::KafkaPublisherOptions publisher_options;
    publisher_options.brokers = cluster.bootstraps();
    auto publisher = connectors::KafkaPublisher::Start(**engine, publisher_options);
    if (!publisher.ok()) return Fail("publisher", publisher.status());
    Counter counter(records);
    connectors::KafkaConsumerOptions options;
    options.brokers = cluster.bootstraps();
    options.topic = "tidewater.orders";
    options.group_id = "bench";
    if (std::getenv("TW_KAFKA_DEBUG")) options.properties["debug"] = std::getenv("TW_KAFKA_DEBUG");
    options.max_batch_records = batch;
    // Wait until everything is in Kafka, so that only consuming is timed.
    const auto deadline = SteadyClock::now() + std::chrono::seconds(300);
    while (SteadyClock::now() < deadline) {
      uint64_t published = 0;
      for (const auto& table : (*publisher)->Snapshot()) {
        for (const auto& shard : table.shards) published += shard.published_next.value() - 1;
      }
      if (published >= records) break;
      std::this_thread::sleep_for(milliseconds(20));
    }
    (*publisher)->Stop();
    auto consumer = connectors::KafkaStreamConsumer::Create(
        options, [&](const streams::ShardBatch& b) { return counter.Add(b); });
    if (!consumer.ok()) return Fail("kafka consumer", consumer.status());
    if (Status started = (*consumer)->Start(); !started.ok()) return Fail("start", started);
    if (!WaitFor(counter, std::chrono::seconds(timeout_seconds)))
      return Fail("kafka", Status::Internal("timed out"));
    (*consumer)->Stop();
    std::printf("kafka (protobuf, mock cluster): %.0f records/s\n", counter.RecordsPerSecond());
  }
  return 0;
}
