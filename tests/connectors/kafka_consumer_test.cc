// The Kafka consumer over topics the real KafkaPublisher writes (librdkafka's mock
// cluster): order per shard, retries, duplicates from publisher resends dropped (also
// across a restart, through the commit metadata), both value formats.
#include "tidewater/connectors/kafka_consumer.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "support/kafka_cluster.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/connectors/kafka_publisher.h"

namespace tidewater::connectors {
namespace {

using std::chrono::milliseconds;

constexpr uint32_t kShards = 4;

// Every record a handler accepted, per shard, in order.
class Recorder {
 public:
  void Add(const streams::ShardBatch& batch) {
    std::lock_guard lock(mu_);
    for (const ChangeRecord& record : batch.records) {
      EXPECT_EQ(ShardIndex(record.shard()), batch.shard);
      seen_[batch.shard.value()].push_back(record.sequence());
      keys_.push_back(record.keys().attributes(0).value().s());
    }
  }
  std::map<uint32_t, std::vector<uint64_t>> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  size_t Count() const {
    std::lock_guard lock(mu_);
    return keys_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<uint32_t, std::vector<uint64_t>> seen_;
  std::vector<std::string> keys_;
};

class KafkaConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Engine::Open(testing::TestEngineOptions(dir_.Sub("data")));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(*opened);
    ASSERT_TRUE(CreateOrders().ok());
    cluster_.CreateTopic("tidewater.orders", kShards);
  }

  Status CreateOrders() {
    CreateTableRequest request;
    request.name = "orders";
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.stream = {true, StreamViewType::kNewAndOldImages};
    request.shard_count = kShards;
    return engine_->CreateTable(request).status();
  }

  void Write(int from, int to) {
    for (int i = from; i < to; ++i) {
      ASSERT_TRUE(engine_
                      ->PutItem("orders", {{"pk", AttributeValue::S("k" + std::to_string(i))},
                                           {"n", AttributeValue::N(Number::FromInt64(i))}})
                      .ok());
    }
  }

  std::unique_ptr<KafkaPublisher> Publish(KafkaFormat format,
                                          milliseconds watermark_interval = milliseconds(0)) {
    KafkaPublisherOptions options;
    options.watermark_interval = watermark_interval;
    options.brokers = cluster_.bootstraps();
    options.format = format;
    options.checkpoint_interval = milliseconds(50);
    options.table_refresh_interval = milliseconds(100);
    options.admin_timeout = milliseconds(3000);
    options.registry = &registry_;
    auto publisher = KafkaPublisher::Start(*engine_, options);
    EXPECT_TRUE(publisher.ok()) << publisher.status().ToString();
    return publisher.ok() ? std::move(*publisher) : nullptr;
  }

  std::unique_ptr<KafkaStreamConsumer> Consume(
      KafkaFormat format, streams::BatchHandler handler,
      std::optional<int64_t> starting_time_micros = std::nullopt,
      std::function<void(int64_t)> on_resolved_time = nullptr) {
    KafkaConsumerOptions options;
    if (starting_time_micros) {
      options.starting_position = streams::StartingPosition::kAtTimestamp;
      options.starting_time_micros = *starting_time_micros;
    }
    options.on_resolved_time = std::move(on_resolved_time);
    options.brokers = cluster_.bootstraps();
    options.topic = "tidewater.orders";
    options.group_id = "readers";
    options.format = format;
    options.max_batch_records = 9;
    options.retry_backoff_initial = milliseconds(1);
    options.retry_backoff_max = milliseconds(4);
    options.properties["session.timeout.ms"] = "6000";
    auto consumer = KafkaStreamConsumer::Create(options, std::move(handler));
    EXPECT_TRUE(consumer.ok()) << consumer.status().ToString();
    if (!consumer.ok()) return nullptr;
    EXPECT_TRUE((*consumer)->Start().ok());
    return std::move(*consumer);
  }

  // Per shard, 1..last sequence.
  std::map<uint32_t, std::vector<uint64_t>> Expected() {
    std::map<uint32_t, std::vector<uint64_t>> expected;
    auto table = engine_->DescribeTable("orders");
    for (const ShardDescription& shard : table->shards) {
      for (uint64_t s = 1; s <= shard.last_sequence.value(); ++s) {
        expected[shard.index.value()].push_back(s);
      }
    }
    return expected;
  }

  // Makes the publisher resend everything, as after a crash before its checkpoint.
  void ResendFromTheStart() {
    auto table = engine_->DescribeTable("orders");
    ASSERT_TRUE(table.ok());
    for (const ShardDescription& shard : table->shards) {
      ASSERT_TRUE(engine_
                      ->SaveCheckpoint("kafka-publisher", TableName("orders"), shard.index,
                                       SequenceNumber(1), true)
                      .ok());
    }
  }

  // Per shard, the number of records written (its last sequence).
  std::map<uint32_t, size_t> Written() {
    std::map<uint32_t, size_t> written;
    for (const auto& [shard, sequences] : Expected()) written[shard] = sequences.size();
    return written;
  }

  // Whether every shard got records since `before` (from Written()). Then, a partition being
  // in order, records resent before those were read by the time the newest record of every
  // shard was handed over: what the handler got then is all it gets.
  bool EveryShardWrittenSince(const std::map<uint32_t, size_t>& before) {
    for (const auto& [shard, count] : Written()) {
      if (count <= before.at(shard)) return false;
    }
    return true;
  }

  void InOrderOncePerShardDespiteFailuresAndResends(KafkaFormat format) {
    auto publisher = Publish(format);
    ASSERT_NE(publisher, nullptr);
    Write(0, 100);
    Recorder accepted;
    std::atomic<int> calls{0};
    auto consumer = Consume(format, [&](const streams::ShardBatch& batch) {
      if (++calls % 4 == 0) return Status::Internal("flaky handler");
      accepted.Add(batch);
      return Status::Ok();
    });
    ASSERT_TRUE(testing::WaitFor([&] { return accepted.Count() == 100; })) << accepted.Count();
    // A publisher resend repeats every record: none reaches the handler again.
    publisher->Stop();
    publisher.reset();
    ResendFromTheStart();
    publisher = Publish(format);
    const auto before = Written();
    Write(100, 150);
    ASSERT_TRUE(EveryShardWrittenSince(before));
    ASSERT_TRUE(testing::WaitFor([&] { return accepted.seen() == Expected(); }))
        << accepted.Count() << " records accepted; 150 written";
    uint64_t errors = 0;
    for (const auto& status : consumer->Progress()) errors += status.handler_errors;
    EXPECT_GT(errors, 0u);
    consumer->Stop();
    publisher->Stop();
  }

  // Commits, for `group`, each partition's offset after its last message with the next
  // sequence (tw-seq + 1) as metadata, as the consumer does after accepting it.
  void CommitForGroup(const std::string& group,
                      const std::vector<::tidewater::testing::ConsumedMessage>& messages) {
    std::map<int32_t, const ::tidewater::testing::ConsumedMessage*> last;
    for (const auto& message : messages) last[message.partition] = &message;
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", cluster_.bootstraps().c_str(), error,
                      sizeof(error));
    rd_kafka_conf_set(conf, "group.id", group.c_str(), error, sizeof(error));
    rd_kafka_t* kafka = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
    ASSERT_NE(kafka, nullptr) << error;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(4);
    for (const auto& [partition, message] : last) {
      rd_kafka_topic_partition_t* p =
          rd_kafka_topic_partition_list_add(list, "tidewater.orders", partition);
      p->offset = message->offset + 1;
      const std::string next = std::to_string(std::stoull(message->headers.at("tw-seq")) + 1);
      p->metadata = std::malloc(next.size());  // freed with the list
      std::memcpy(p->metadata, next.data(), next.size());
      p->metadata_size = next.size();
    }
    EXPECT_EQ(rd_kafka_commit(kafka, list, /*async=*/0), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(kafka);
  }

  ::tidewater::testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
  prometheus::Registry registry_;
  ::tidewater::testing::MockKafkaCluster cluster_;
};

TEST_F(KafkaConsumerTest, ProtobufInOrderOncePerShardDespiteFailuresAndResends) {
  InOrderOncePerShardDespiteFailuresAndResends(KafkaFormat::kProtobuf);
}

TEST_F(KafkaConsumerTest, JsonInOrderOncePerShardDespiteFailuresAndResends) {
  InOrderOncePerShardDespiteFailuresAndResends(KafkaFormat::kJson);
}

// AT_TIMESTAMP: a group without commits starts at the first record created at or after
// the time (its Kafka timestamp is the creation time in milli-seconds).
TEST_F(KafkaConsumerTest, StartsAtATime) {
  auto publisher = Publish(KafkaFormat::kProtobuf);
  ASSERT_NE(publisher, nullptr);
  Write(0, 40);
  const auto before = Written();
  const int64_t time = Clock::System()->NowMicros() + 1;
  ASSERT_TRUE(testing::WaitFor([&] { return Clock::System()->NowMicros() > time; }));
  Write(40, 80);
  Recorder accepted;
  auto consumer = Consume(
      KafkaFormat::kProtobuf,
      [&](const streams::ShardBatch& batch) {
        accepted.Add(batch);
        return Status::Ok();
      },
      time);
  Write(80, 100);
  std::map<uint32_t, std::vector<uint64_t>> expected;
  for (const auto& [shard, sequences] : Expected()) {
    if (sequences.size() > before.at(shard)) {
      expected[shard].assign(sequences.begin() + static_cast<ptrdiff_t>(before.at(shard)),
                             sequences.end());
    }
  }
  ASSERT_TRUE(testing::WaitFor([&] { return accepted.seen() == expected; }))
      << accepted.Count() << " records accepted; 60 wanted";
  consumer->Stop();
  publisher->Stop();
}

TEST_F(KafkaConsumerTest, RestartedConsumerDropsResentRecordsThroughTheCommitMetadata) {
  auto publisher = Publish(KafkaFormat::kProtobuf);
  Write(0, 80);
  Recorder first;
  auto consumer = Consume(KafkaFormat::kProtobuf, [&](const streams::ShardBatch& batch) {
    first.Add(batch);
    return Status::Ok();
  });
  ASSERT_TRUE(testing::WaitFor([&] { return first.Count() == 80; }));
  consumer->Stop();  // graceful: commits what was accepted
  consumer.reset();

  // While no consumer runs, the publisher resends everything, then new records follow.
  publisher->Stop();
  publisher.reset();
  ResendFromTheStart();
  publisher = Publish(KafkaFormat::kProtobuf);
  const auto before = Written();
  Write(80, 120);
  ASSERT_TRUE(EveryShardWrittenSince(before));

  Recorder second;
  consumer = Consume(KafkaFormat::kProtobuf, [&](const streams::ShardBatch& batch) {
    second.Add(batch);
    return Status::Ok();
  });
  ASSERT_TRUE(testing::WaitFor([&] {
    auto seen = second.seen();
    for (const auto& [shard, count] : Written()) {
      if (seen[shard].empty() || seen[shard].back() != count) return false;
    }
    return true;
  }));
  EXPECT_EQ(second.Count(), 40u) << "resent records were delivered again";
  // The topic did hold the resent records: the consumer dropped them.
  EXPECT_EQ(
      ::tidewater::testing::ReadTopic(cluster_.bootstraps(), "tidewater.orders", kShards).size(),
      80u + 80u + 40u);
  // Together: every record once, in order.
  auto all = first.seen();
  for (const auto& [shard, sequences] : second.seen()) {
    all[shard].insert(all[shard].end(), sequences.begin(), sequences.end());
  }
  EXPECT_EQ(all, Expected());
}

// The handler's own positions (as a sink keeps them); the first Loads fail.
class FakeStore : public streams::CheckpointStore {
 public:
  explicit FakeStore(std::map<uint32_t, uint64_t> positions, int failures)
      : positions_(std::move(positions)), failures_(failures) {}
  Result<std::optional<SequenceNumber>> Load(const TableName& table, ShardIndex shard) override {
    EXPECT_EQ(table, TableName("orders"));
    std::lock_guard lock(mu_);
    if (failures_-- > 0) return Status::Internal("store unreachable");
    auto it = positions_.find(shard.value());
    if (it == positions_.end()) return std::optional<SequenceNumber>();
    return std::optional(SequenceNumber(it->second));
  }
  Status Save(const TableName&, ShardIndex, SequenceNumber) override {
    ADD_FAILURE() << "the consumer must not save into the handler's store";
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::map<uint32_t, uint64_t> positions_;
  int failures_;
};

TEST_F(KafkaConsumerTest, TheStoresPositionWinsOverTheCommittedOffsets) {
  auto publisher = Publish(KafkaFormat::kProtobuf);
  Write(0, 120);
  // The group committed every record, as a consumer without a store leaves it: the end
  // offset of each partition, with the next sequence as metadata.
  std::vector<::tidewater::testing::ConsumedMessage> messages;
  ASSERT_TRUE(testing::WaitFor([&] {
    messages = ::tidewater::testing::ReadTopic(cluster_.bootstraps(), "tidewater.orders", kShards);
    return messages.size() == 120;
  }));
  CommitForGroup("readers", messages);

  // The store: shard 0 behind the commit (staged output lost), shard 1 without a
  // position (trim_horizon: everything again), shard 2 at the commit, shard 3 ahead of it
  // (the commit after the handler's own was lost).
  const std::map<uint32_t, std::vector<uint64_t>> written = Expected();
  for (uint32_t shard = 0; shard < kShards; ++shard) ASSERT_GE(written.at(shard).size(), 10u);
  const std::map<uint32_t, uint64_t> positions = {
      {0, 4}, {2, written.at(2).size() + 1}, {3, written.at(3).size() + 3}};
  FakeStore store(positions, /*failures=*/3);
  Recorder second;
  KafkaConsumerOptions options;
  options.brokers = cluster_.bootstraps();
  options.topic = "tidewater.orders";
  options.group_id = "readers";
  options.max_batch_records = 9;
  options.retry_backoff_initial = milliseconds(1);
  options.retry_backoff_max = milliseconds(4);
  options.properties["session.timeout.ms"] = "6000";
  options.checkpoints = &store;
  options.table = "orders";
  auto created = KafkaStreamConsumer::Create(options, [&](const streams::ShardBatch& batch) {
    second.Add(batch);
    return Status::Ok();
  });
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto consumer = std::move(*created);
  ASSERT_TRUE(consumer->Start().ok());
  const auto before = Written();
  Write(120, 160);
  ASSERT_TRUE(EveryShardWrittenSince(before));

  // Per shard: from the store's position (1 without one) to the end, each once.
  auto expected = Expected();
  size_t expected_count = 0;
  for (auto& [shard, sequences] : expected) {
    const uint64_t from = positions.contains(shard) ? positions.at(shard) : 1;
    std::erase_if(sequences, [&](uint64_t s) { return s < from; });
    expected_count += sequences.size();
  }
  ASSERT_TRUE(testing::WaitFor([&] { return second.seen() == expected; }))
      << second.Count() << " of " << expected_count;
  // The failed Loads were counted and retried; no gap was reported.
  uint64_t errors = 0;
  for (const auto& status : consumer->Progress()) {
    errors += status.handler_errors;
    EXPECT_EQ(status.last_error.find("missing"), std::string::npos) << status.last_error;
  }
  EXPECT_EQ(errors, 3u);
  consumer->Stop();
  publisher->Stop();
}

// Shards split while the table is written, the publisher restarts and resends, and the
// handler fails now and then: every record reaches the handler once, each shard in
// order, and each key's changes in the order they were made. In Kafka each child shard
// is in its lineage's first partition, after every record of its parent.
TEST_F(KafkaConsumerTest, SplitShardsKeepEveryKeysOrderThroughKafka) {
  auto publisher = Publish(KafkaFormat::kProtobuf);
  ASSERT_NE(publisher, nullptr);
  struct Accepted {
    uint32_t shard;
    std::string key;
    int64_t n;
  };
  std::mutex mu;
  std::vector<Accepted> accepted;
  Recorder recorder;
  std::atomic<int> calls{0};
  auto consumer = Consume(KafkaFormat::kProtobuf, [&](const streams::ShardBatch& batch) {
    if (++calls % 5 == 0) return Status::Internal("flaky handler");
    recorder.Add(batch);
    std::lock_guard lock(mu);
    for (const ChangeRecord& record : batch.records) {
      int64_t n = -1;
      for (const auto& attribute : record.new_image().attributes()) {
        if (attribute.name() == "n") n = std::stoll(attribute.value().n());
      }
      accepted.push_back({record.shard(), record.keys().attributes(0).value().s(), n});
    }
    return Status::Ok();
  });
  ASSERT_NE(consumer, nullptr);

  constexpr int kKeys = 24;
  constexpr int kRounds = 60;
  std::atomic<int> rounds_done{0};
  std::thread writer([&] {
    for (int round = 0; round < kRounds; ++round) {
      for (int k = 0; k < kKeys; ++k) {
        ASSERT_TRUE(engine_
                        ->PutItem("orders", {{"pk", AttributeValue::S("k" + std::to_string(k))},
                                             {"n", AttributeValue::N(Number::FromInt64(round))}})
                        .ok());
      }
      ++rounds_done;
    }
  });
  const auto after_round = [&](int round) {
    ASSERT_TRUE(testing::WaitFor([&] { return rounds_done >= round; }));
  };
  after_round(10);
  auto first = engine_->SplitShard("orders", ShardIndex(0));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  after_round(20);
  ASSERT_TRUE(engine_->SplitShard("orders", ShardIndex(1)).ok());
  after_round(30);
  // The publisher restarts from the start: the parents' records follow their children's
  // again in Kafka, and the consumer drops them.
  publisher->Stop();
  publisher.reset();
  ResendFromTheStart();
  publisher = Publish(KafkaFormat::kProtobuf);
  ASSERT_TRUE(engine_->SplitShard("orders", first->lower_child.index).ok());
  writer.join();

  ASSERT_TRUE(testing::WaitFor([&] { return recorder.seen() == Expected(); }))
      << recorder.Count() << " records accepted, " << kKeys * kRounds << " written";
  std::map<std::string, std::vector<int64_t>> per_key;
  {
    std::lock_guard lock(mu);
    for (const Accepted& a : accepted) per_key[a.key].push_back(a.n);
  }
  ASSERT_EQ(per_key.size(), static_cast<size_t>(kKeys));
  for (const auto& [key, ns] : per_key) {
    ASSERT_EQ(ns.size(), static_cast<size_t>(kRounds)) << key;
    for (int round = 0; round < kRounds; ++round) EXPECT_EQ(ns[round], round) << key;
  }

  // In the topic (first copies): a child in its root's partition, after its parent.
  auto table = engine_->DescribeTable("orders");
  ASSERT_TRUE(table.ok());
  ASSERT_EQ(table->shards.size(), kShards + 6);
  std::map<uint32_t, const ShardDescription*> shards;
  for (const ShardDescription& shard : table->shards) shards[shard.index.value()] = &shard;
  const auto root = [&](uint32_t index) {
    while (shards.at(index)->parent) index = shards.at(index)->parent->value();
    return index;
  };
  std::set<std::pair<uint32_t, uint64_t>> seen;
  std::map<uint32_t, int64_t> first_offset, last_offset;  // per shard, first copies
  for (const auto& m :
       ::tidewater::testing::ReadTopic(cluster_.bootstraps(), "tidewater.orders", kShards)) {
    const uint32_t shard = static_cast<uint32_t>(std::stoul(m.headers.at("tw-shard")));
    if (!seen.insert({shard, std::stoull(m.headers.at("tw-seq"))}).second) continue;
    EXPECT_EQ(static_cast<uint32_t>(m.partition), root(shard)) << "shard " << shard;
    const auto parent = shards.at(shard)->parent;
    EXPECT_EQ(m.headers.contains("tw-parent-shard"), parent.has_value());
    if (parent) {
      EXPECT_EQ(m.headers.at("tw-parent-shard"), std::to_string(parent->value()));
    }
    first_offset.emplace(shard, m.offset);
    last_offset[shard] = m.offset;
  }
  for (const auto& [index, shard] : shards) {
    if (!shard->parent || !first_offset.contains(index)) continue;
    EXPECT_GT(first_offset.at(index), last_offset.at(shard->parent->value()))
        << "shard " << index << " began before its parent " << shard->parent->value() << " ended";
  }
  consumer->Stop();
  publisher->Stop();
}

// A table deleted and created again under its name keeps its topic; its sequence numbers
// go on after the deleted table's, so the consumer (dropping what is below the next
// expected sequence of a partition) takes every record of the new table.
TEST_F(KafkaConsumerTest, TableCreatedAgainLosesNothingToDeduplication) {
  auto publisher = Publish(KafkaFormat::kProtobuf);
  ASSERT_NE(publisher, nullptr);
  Write(0, 40);
  Recorder accepted;
  auto consumer = Consume(KafkaFormat::kProtobuf, [&](const streams::ShardBatch& batch) {
    accepted.Add(batch);
    return Status::Ok();
  });
  ASSERT_TRUE(testing::WaitFor([&] { return accepted.Count() == 40; })) << accepted.Count();

  ASSERT_TRUE(engine_->DeleteTable("orders").ok());
  ASSERT_TRUE(CreateOrders().ok());
  Write(100, 140);
  ASSERT_TRUE(testing::WaitFor([&] { return accepted.Count() == 80; }))
      << accepted.Count() << " records accepted; 80 written";
  // Per shard: the old table's records, then the new one's, each once, in order.
  for (const auto& [shard, sequences] : accepted.seen()) {
    for (size_t i = 1; i < sequences.size(); ++i) {
      EXPECT_EQ(sequences[i], sequences[i - 1] + 1) << "shard " << shard;
    }
  }
  consumer->Stop();
  publisher->Stop();
}

// With watermark messages the consumer hands over the same records, and reports a table
// resolved time that advances (also while idle) and never passes a record the handler has
// not accepted.
TEST_F(KafkaConsumerTest, WatermarkMessagesAreProgressNotRecords) {
  Write(0, 200);
  std::mutex mu;
  std::set<std::pair<uint32_t, uint64_t>> accepted;
  std::vector<int64_t> reports;
  std::vector<std::string> violations;
  const auto on_resolved = [&](int64_t resolved) {
    std::lock_guard lock(mu);
    if (!reports.empty() && resolved <= reports.back()) violations.push_back("went back");
    reports.push_back(resolved);
    for (uint32_t shard = 0; shard < kShards; ++shard) {
      auto log =
          engine_->ReadShard({TableName("orders"), ShardIndex(shard), SequenceNumber(1), 100'000});
      ASSERT_TRUE(log.ok());
      for (const ChangeRecord& record : log->records) {
        if (record.approximate_creation_time_micros() >= resolved) break;
        if (!accepted.contains({shard, record.sequence()})) {
          violations.push_back("shard " + std::to_string(shard) + " sequence " +
                               std::to_string(record.sequence()) + " not accepted below " +
                               std::to_string(resolved));
        }
      }
    }
  };
  auto publisher = Publish(KafkaFormat::kProtobuf, milliseconds(20));
  ASSERT_NE(publisher, nullptr);
  auto consumer = Consume(
      KafkaFormat::kProtobuf,
      [&](const streams::ShardBatch& batch) {
        std::lock_guard lock(mu);
        for (const ChangeRecord& record : batch.records) {
          accepted.emplace(batch.shard.value(), record.sequence());
        }
        return Status::Ok();
      },
      std::nullopt, on_resolved);
  ASSERT_NE(consumer, nullptr);
  Write(200, 1200);  // while the publisher sends watermarks and the consumer reads
  const int64_t written = Clock::System()->NowMicros();
  const auto last_report = [&] {
    std::lock_guard lock(mu);
    return reports.empty() ? 0 : reports.back();
  };
  ASSERT_TRUE(testing::WaitFor([&] { return last_report() > written; }))
      << "the resolved time did not pass the last write";
  const int64_t idle_since = Clock::System()->NowMicros();
  ASSERT_TRUE(testing::WaitFor([&] { return last_report() > idle_since; }))
      << "the resolved time did not advance while idle";
  for (const streams::ConsumerShardStatus& shard : consumer->Progress()) {
    EXPECT_TRUE(shard.resolved_time_micros.has_value()) << "shard " << shard.shard.value();
    EXPECT_EQ(shard.handler_errors, 0u) << shard.last_error;  // no watermark taken as a record
  }
  consumer->Stop();
  publisher->Stop();
  std::lock_guard lock(mu);
  size_t expected = 0;
  for (const auto& [shard, sequences] : Expected()) expected += sequences.size();
  EXPECT_EQ(accepted.size(), expected);
  EXPECT_TRUE(violations.empty()) << violations.front();
}

TEST_F(KafkaConsumerTest, BadOptionsAreRejected) {
  KafkaConsumerOptions options;
  auto handler = [](const streams::ShardBatch&) { return Status::Ok(); };
  EXPECT_EQ(KafkaStreamConsumer::Create(options, handler).status().code(), ErrorCode::kValidation);
  options.brokers = cluster_.bootstraps();
  options.topic = "tidewater.orders";
  options.group_id = "g";
  options.properties["enable.auto.commit"] = "true";
  EXPECT_EQ(KafkaStreamConsumer::Create(options, handler).status().code(), ErrorCode::kValidation);
  options.properties = {{"no.such.property", "1"}};
  EXPECT_EQ(KafkaStreamConsumer::Create(options, handler).status().code(), ErrorCode::kValidation);
  options.properties.clear();
  FakeStore store({}, 0);
  options.checkpoints = &store;  // without options.table
  EXPECT_EQ(KafkaStreamConsumer::Create(options, handler).status().code(), ErrorCode::kValidation);
}

}  // namespace
}  // namespace tidewater::connectors
