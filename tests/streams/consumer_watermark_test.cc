// The consumer SDK's resolved time over the in-process engine: per shard and per table in
// Progress(), on_resolved_time called as the table's advances (never back), never ahead
// of a record the handler has not accepted, and advancing on idle shards with the clock.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"

namespace tidewater::streams {
namespace {

using std::chrono::milliseconds;
using testing::WaitFor;

constexpr char kTable[] = "orders";
constexpr uint32_t kShards = 4;

class ConsumerWatermarkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = Engine::Open(testing::TestEngineOptions(dir_.path(), &clock_));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    CreateTableRequest request;
    request.name = kTable;
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.stream = {true, StreamViewType::kKeysOnly};
    request.shard_count = kShards;
    ASSERT_TRUE(engine_->CreateTable(request).ok());
    source_ = MakeEngineChangeSource(*engine_, TableName(kTable));
    leases_ = MakeMemoryLeaseStore();
  }

  // Puts items `from`..`to`-1, the clock a microsecond further before each.
  void Write(int from, int to) {
    for (int i = from; i < to; ++i) {
      clock_.AdvanceMicros(1);
      ASSERT_TRUE(engine_->PutItem(kTable, {{"pk", AttributeValue::S(std::to_string(i))}}).ok());
    }
  }

  // Called with a table resolved time: every record of the log below it was accepted.
  void CheckCovered(int64_t resolved_micros) {
    std::lock_guard lock(mu_);
    if (!reports_.empty() && resolved_micros <= reports_.back()) {
      violations_.push_back("resolved time did not advance: " + std::to_string(resolved_micros));
    }
    reports_.push_back(resolved_micros);
    for (uint32_t shard = 0; shard < kShards; ++shard) {
      ShardReadRequest read;
      read.table = TableName(kTable);
      read.shard = ShardIndex(shard);
      read.limit = 100'000;
      auto log = engine_->ReadShard(read);
      if (!log.ok()) {
        violations_.push_back(log.status().ToString());
        continue;
      }
      for (const ChangeRecord& record : log->records) {
        if (record.approximate_creation_time_micros() >= resolved_micros) break;
        if (!accepted_.contains({shard, record.sequence()})) {
          violations_.push_back("shard " + std::to_string(shard) + " sequence " +
                                std::to_string(record.sequence()) + " below resolved time " +
                                std::to_string(resolved_micros) + " not yet accepted");
        }
      }
    }
  }

  std::unique_ptr<StreamConsumer> StartConsumer() {
    ConsumerOptions options;
    options.table = kTable;
    options.application = "app";
    options.worker_id = "w1";
    options.max_batch_records = 7;  // several batches per shard: reads stop short
    options.on_resolved_time = [this](int64_t resolved) { CheckCovered(resolved); };
    auto consumer = StreamConsumer::Create(
        std::move(options), *source_, *leases_, [this](const ShardBatch& batch) {
          std::lock_guard lock(mu_);
          for (const ChangeRecord& record : batch.records) {
            accepted_.emplace(batch.shard.value(), record.sequence());
          }
          return Status::Ok();
        });
    EXPECT_TRUE(consumer.ok()) << consumer.status().ToString();
    if (!consumer.ok()) return nullptr;
    EXPECT_TRUE((*consumer)->Start().ok());
    return std::move(*consumer);
  }

  int64_t LastReport() {
    std::lock_guard lock(mu_);
    return reports_.empty() ? 0 : reports_.back();
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ChangeSource> source_;
  std::unique_ptr<LeaseStore> leases_;

  std::mutex mu_;
  std::set<std::pair<uint32_t, uint64_t>> accepted_;
  std::vector<int64_t> reports_;
  std::vector<std::string> violations_;
};

TEST_F(ConsumerWatermarkTest, AdvancesAsRecordsAreAcceptedAndOnIdleShards) {
  Write(0, 100);
  auto consumer = StartConsumer();
  ASSERT_NE(consumer, nullptr);
  // Writes while it reads: the resolved time must stay behind the unaccepted ones.
  std::thread writer([&] { Write(100, 300); });
  writer.join();
  const int64_t written = clock_.NowMicros();
  ASSERT_TRUE(WaitFor([&] { return LastReport() >= written; }))
      << "the table's resolved time did not reach the last write's time";

  // Idle: no writes, the clock moves on, and so does the resolved time.
  clock_.AdvanceSeconds(30);
  const int64_t idle_until = clock_.NowMicros();
  ASSERT_TRUE(WaitFor([&] { return LastReport() >= idle_until; }))
      << "the resolved time did not follow the clock on idle shards";

  const std::vector<ConsumerShardStatus> progress = consumer->Progress();
  ASSERT_EQ(progress.size(), kShards);
  for (const ConsumerShardStatus& shard : progress) {
    ASSERT_TRUE(shard.resolved_time_micros.has_value()) << "shard " << shard.shard.value();
    EXPECT_GE(*shard.resolved_time_micros, idle_until);
    EXPECT_LE(*shard.resolved_time_micros, clock_.NowMicros());
  }
  const std::optional<int64_t> table = TableResolvedTime(progress);
  ASSERT_TRUE(table.has_value());
  EXPECT_GE(*table, idle_until);
  consumer->Stop();
  EXPECT_FALSE(TableResolvedTime(consumer->Progress()).has_value()) << "no shard is held";

  std::lock_guard lock(mu_);
  EXPECT_EQ(accepted_.size(), 300u);
  EXPECT_TRUE(violations_.empty()) << violations_.front();
}

TEST(TableResolvedTimeTest, IsTheLowestOfTheHeldShards) {
  std::vector<ConsumerShardStatus> progress(3);
  progress[0].held = true;
  progress[0].resolved_time_micros = 50;
  progress[1].held = true;
  progress[1].resolved_time_micros = 20;
  progress[2].held = false;  // another worker's: not this worker's to tell
  progress[2].resolved_time_micros = 10;
  EXPECT_EQ(TableResolvedTime(progress), 20);
  progress[1].resolved_time_micros.reset();
  EXPECT_EQ(TableResolvedTime(progress), std::nullopt) << "a held shard's time is unknown";
  EXPECT_EQ(TableResolvedTime({}), std::nullopt);
}

}  // namespace
}  // namespace tidewater::streams
