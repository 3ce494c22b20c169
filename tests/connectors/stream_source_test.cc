// connectors::StreamSource, the one factory of readers: a config names exactly one source,
// and each kind (an engine in this process, a data directory, a tidewaterd process, the
// Kafka publisher's topics in librdkafka's mock cluster, the caller's ChangeSource) opens a
// reader that delivers every record of a small table, per shard in sequence order.
#include "tidewater/connectors/stream_source.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "support/kafka_cluster.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/connectors/kafka_publisher.h"

namespace tidewater::connectors {
namespace {

using std::chrono::milliseconds;

constexpr char kTable[] = "orders";
constexpr char kRegion[] = "us-east-1";
constexpr uint32_t kShards = 4;
constexpr int kItems = 40;

using PerShard = std::map<uint32_t, std::vector<uint64_t>>;

class StreamSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options = testing::TestEngineOptions(dir_.Sub("data"));
    options.region = kRegion;
    auto opened = Engine::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(*opened);
    CreateTableRequest request;
    request.name = kTable;
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.stream = {true, StreamViewType::kNewAndOldImages};
    request.shard_count = kShards;
    ASSERT_TRUE(engine_->CreateTable(request).ok());
    for (int i = 0; i < kItems; ++i) {
      ASSERT_TRUE(engine_
                      ->PutItem(kTable, {{"pk", AttributeValue::S("k" + std::to_string(i))},
                                         {"n", AttributeValue::N(Number::FromInt64(i))}})
                      .ok());
    }
    auto description = engine_->DescribeTable(kTable);
    ASSERT_TRUE(description.ok());
    table_id_ = description->table_id;
    for (const ShardDescription& shard : description->shards) {
      for (uint64_t s = 1; s <= shard.last_sequence.value(); ++s) {
        expected_[shard.index.value()].push_back(s);
      }
    }
  }

  // Opens a reader of the table from `source` and collects what it delivers until every
  // record came (or 20 s passed); `progress`: the reader's progress at that point.
  PerShard ReadAll(StreamSource& source, std::vector<streams::ConsumerShardStatus>* progress) {
    std::mutex mu;
    PerShard seen;
    size_t count = 0;
    streams::ConsumerOptions options;
    options.table = kTable;
    options.application = "factory-test";
    options.max_batch_records = 7;
    options.retry_backoff_initial = milliseconds(5);
    options.retry_backoff_max = milliseconds(50);
    auto reader = source.OpenReader(options, [&](const streams::ShardBatch& batch) {
      std::lock_guard lock(mu);
      for (const ChangeRecord& record : batch.records) {
        EXPECT_EQ(ShardIndex(record.shard()), batch.shard);
        EXPECT_EQ(record.table(), kTable);
        seen[batch.shard.value()].push_back(record.sequence());
        ++count;
      }
      return Status::Ok();
    });
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return seen;
    const Status started = (*reader)->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    EXPECT_TRUE(testing::WaitFor([&] {
      std::lock_guard lock(mu);
      return count >= static_cast<size_t>(kItems);
    }));
    (*reader)->Stop();  // the accepted batches are saved: the progress is final
    *progress = (*reader)->Progress();
    std::lock_guard lock(mu);
    return seen;
  }

  // The identity DescribeTable tells for a source of the engine's data.
  void ExpectIdentity(StreamSource& source) {
    auto identity = source.DescribeTable(kTable);
    ASSERT_TRUE(identity.ok()) << identity.status().ToString();
    ASSERT_TRUE(identity->has_value());
    EXPECT_EQ((*identity)->region, kRegion);
    EXPECT_EQ((*identity)->table_id, table_id_);
    EXPECT_EQ((*identity)->partition_key, "pk");
    EXPECT_GT((*identity)->creation_time_micros, 0);
    EXPECT_EQ(source.DescribeTable("missing").status().code(), ErrorCode::kResourceNotFound);
  }

  // Each shard's end is known (the engine or the Streams API tells it) and the reader
  // is at it.
  void ExpectShardEndsKnown(const std::vector<streams::ConsumerShardStatus>& progress) {
    ASSERT_EQ(progress.size(), kShards);
    for (const streams::ConsumerShardStatus& shard : progress) {
      ASSERT_TRUE(shard.last_sequence.has_value()) << shard.shard;
      EXPECT_EQ(*shard.last_sequence, SequenceNumber(expected_[shard.shard.value()].size()))
          << shard.shard;
      EXPECT_EQ(shard.RecordsBehind(), 0u) << shard.shard;
    }
  }

  static std::unique_ptr<StreamSource> Open(StreamSourceConfig config) {
    auto source = StreamSource::Open(std::move(config));
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    return source.ok() ? std::move(*source) : nullptr;
  }

  testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
  uint64_t table_id_ = 0;
  PerShard expected_;
};

TEST_F(StreamSourceTest, RefusesAConfigWithoutExactlyOneSource) {
  auto none = StreamSource::Open({});
  EXPECT_EQ(none.status().code(), ErrorCode::kValidation);
  EXPECT_NE(none.status().message().find("exactly one of"), std::string::npos)
      << none.status().message();
  EXPECT_NE(none.status().message().find("none is set"), std::string::npos)
      << none.status().message();

  StreamSourceConfig two;
  two.engine = engine_.get();
  two.kafka.brokers = "127.0.0.1:9";
  auto both = StreamSource::Open(two);
  EXPECT_EQ(both.status().code(), ErrorCode::kValidation);
  EXPECT_NE(both.status().message().find("engine and kafka.brokers are set"), std::string::npos)
      << both.status().message();

  // A caller's ChangeSource has no table to keep leases in.
  StreamSourceConfig custom;
  custom.change_sources = [this](const TableName& table) {
    return Result<std::unique_ptr<streams::ChangeSource>>(
        streams::MakeEngineChangeSource(*engine_, table));
  };
  auto shared_leases = StreamSource::Open(custom);
  EXPECT_EQ(shared_leases.status().code(), ErrorCode::kValidation);
  EXPECT_NE(shared_leases.status().message().find("lease_table"), std::string::npos)
      << shared_leases.status().message();
}

TEST_F(StreamSourceTest, EngineInThisProcess) {
  StreamSourceConfig config;
  config.engine = engine_.get();
  auto source = Open(config);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->kind(), StreamSource::Kind::kEngine);
  std::vector<streams::ConsumerShardStatus> progress;
  EXPECT_EQ(ReadAll(*source, &progress), expected_);
  ExpectShardEndsKnown(progress);
  ExpectIdentity(*source);
  // The leases are in the engine's lease table.
  auto leases = engine_->DescribeTable(streams::kDefaultLeaseTable);
  EXPECT_TRUE(leases.ok()) << leases.status().ToString();
}

TEST_F(StreamSourceTest, DataDirectory) {
  engine_.reset();
  StreamSourceConfig config;
  config.data_dir = dir_.Sub("data");
  config.region = kRegion;
  auto source = Open(config);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->kind(), StreamSource::Kind::kEngine);
  std::vector<streams::ConsumerShardStatus> progress;
  EXPECT_EQ(ReadAll(*source, &progress), expected_);
  ExpectShardEndsKnown(progress);
  ExpectIdentity(*source);
}

TEST_F(StreamSourceTest, TidewaterdEndpoint) {
  engine_.reset();
  testing::TidewaterdProcess tidewaterd(TW_TIDEWATERD, dir_.Sub("data"), kRegion);
  ASSERT_TRUE(tidewaterd.Start()) << tidewaterd.log();
  StreamSourceConfig config;
  config.endpoint = tidewaterd.url();
  config.lease_table = "factory_leases";
  auto source = Open(config);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->kind(), StreamSource::Kind::kEndpoint);
  std::vector<streams::ConsumerShardStatus> progress;
  EXPECT_EQ(ReadAll(*source, &progress), expected_);
  ExpectShardEndsKnown(progress);
  ExpectIdentity(*source);
}

TEST_F(StreamSourceTest, KafkaTopics) {
  testing::MockKafkaCluster cluster;
  cluster.CreateTopic(KafkaTopicName(kDefaultTopicPrefix, kTable), kShards);
  KafkaPublisherOptions publishing;
  publishing.brokers = cluster.bootstraps();
  publishing.format = KafkaFormat::kJson;  // the consumer takes shard and table from headers
  publishing.admin_timeout = milliseconds(3000);
  auto publisher = KafkaPublisher::Start(*engine_, publishing);
  ASSERT_TRUE(publisher.ok()) << publisher.status().ToString();

  StreamSourceConfig config;
  config.kafka.brokers = cluster.bootstraps();
  config.kafka.format = KafkaFormat::kJson;
  config.kafka.properties["session.timeout.ms"] = "6000";
  auto source = Open(config);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->kind(), StreamSource::Kind::kKafka);
  std::vector<streams::ConsumerShardStatus> progress;
  EXPECT_EQ(ReadAll(*source, &progress), expected_);
  ASSERT_FALSE(progress.empty());
  for (const streams::ConsumerShardStatus& shard : progress) {
    EXPECT_FALSE(shard.last_sequence.has_value()) << "Kafka does not tell a shard's end";
  }
  auto identity = source->DescribeTable(kTable);
  ASSERT_TRUE(identity.ok());
  EXPECT_FALSE(identity->has_value());
  (*publisher)->Stop();
}

TEST_F(StreamSourceTest, CallersChangeSourcesWithLeasesInThisProcess) {
  StreamSourceConfig config;
  config.change_sources = [this](const TableName& table) {
    return Result<std::unique_ptr<streams::ChangeSource>>(
        streams::MakeEngineChangeSource(*engine_, table));
  };
  config.lease_table = "";
  auto source = Open(config);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->kind(), StreamSource::Kind::kChangeSources);
  std::vector<streams::ConsumerShardStatus> progress;
  EXPECT_EQ(ReadAll(*source, &progress), expected_);
  ExpectShardEndsKnown(progress);
  auto identity = source->DescribeTable(kTable);
  ASSERT_TRUE(identity.ok());
  EXPECT_FALSE(identity->has_value());
  // Nothing was written to a lease table.
  EXPECT_EQ(engine_->DescribeTable(streams::kDefaultLeaseTable).status().code(),
            ErrorCode::kResourceNotFound);
}

}  // namespace
}  // namespace tidewater::connectors
