// Resolved watermarks: record times never decrease per shard (also when the wall clock steps
// back, and across a reopen), a shard's watermark never passes a record not yet readable
// (under concurrent group-committed writers), and it follows the clock on an idle shard.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"

namespace tidewater {
namespace {

constexpr uint32_t kShards = 4;
constexpr int64_t kSecond = 1'000'000;

class WatermarkTest : public ::testing::Test {
 protected:
  void Open(Clock* clock, bool sync = false) {
    EngineOptions options = testing::TestEngineOptions(dir_.path(), clock);
    options.sync = sync;  // group commit
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  void Create() {
    CreateTableRequest request;
    request.name = "orders";
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.stream = {true, StreamViewType::kKeysOnly};
    request.shard_count = kShards;
    auto created = engine_->CreateTable(request);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void Put(const std::string& key) {
    auto put = engine_->PutItem("orders", {{"pk", AttributeValue::S(key)}});
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  ShardWatermark Watermark(uint32_t shard) {
    auto watermark = engine_->ResolvedWatermark(TableName("orders"), ShardIndex(shard));
    EXPECT_TRUE(watermark.ok()) << watermark.status().ToString();
    return watermark.ok() ? *watermark : ShardWatermark{};
  }

  // Every record of `shard`, in sequence order.
  std::vector<ChangeRecord> Log(uint32_t shard) {
    std::vector<ChangeRecord> records;
    ShardReadRequest read;
    read.table = TableName("orders");
    read.shard = ShardIndex(shard);
    while (true) {
      auto result = engine_->ReadShard(read);
      EXPECT_TRUE(result.ok()) << result.status().ToString();
      if (!result.ok() || result->records.empty()) return records;
      for (ChangeRecord& record : result->records) records.push_back(std::move(record));
      read.from_sequence = result->next_sequence;
    }
  }

  void ExpectTimesNonDecreasing() {
    for (uint32_t shard = 0; shard < kShards; ++shard) {
      const std::vector<ChangeRecord> records = Log(shard);
      for (size_t i = 1; i < records.size(); ++i) {
        EXPECT_GE(records[i].approximate_creation_time_micros(),
                  records[i - 1].approximate_creation_time_micros())
            << "shard " << shard << " sequence " << records[i].sequence();
      }
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(WatermarkTest, RecordTimesNeverDecreaseWhenTheClockStepsBack) {
  ManualClock clock;
  Open(&clock);
  Create();
  for (int i = 0; i < 20; ++i) Put("a" + std::to_string(i));
  const int64_t before_step = clock.NowMicros();
  clock.AdvanceMicros(-60 * kSecond);
  for (int i = 0; i < 20; ++i) Put("b" + std::to_string(i));
  // A transaction over several shards gets one time, not below any of theirs.
  std::vector<Mutation> mutations;
  for (int i = 0; i < 6; ++i) {
    mutations.push_back(
        {Mutation::Kind::kPut, "orders", {{"pk", AttributeValue::S("t" + std::to_string(i))}}});
  }
  ASSERT_TRUE(engine_->TransactWrite(std::move(mutations), WriteOrigin{}).ok());
  ExpectTimesNonDecreasing();
  for (uint32_t shard = 0; shard < kShards; ++shard) {
    EXPECT_GE(Watermark(shard).resolved_micros, before_step) << "shard " << shard;
  }

  // After a reopen, times continue from the last record's even with the clock still back.
  engine_.reset();
  clock.AdvanceMicros(-60 * kSecond);
  Open(&clock);
  for (int i = 0; i < 20; ++i) Put("c" + std::to_string(i));
  ExpectTimesNonDecreasing();
  for (uint32_t shard = 0; shard < kShards; ++shard) {
    for (const ChangeRecord& record : Log(shard)) {
      EXPECT_GE(record.approximate_creation_time_micros(), before_step - kSecond);
    }
  }
}

TEST_F(WatermarkTest, AWatermarkGivenHoldsWhenTheClockStepsBack) {
  ManualClock clock;
  Open(&clock);
  Create();
  const ShardWatermark given = Watermark(0);
  clock.AdvanceMicros(-10 * kSecond);
  EXPECT_GE(Watermark(0).resolved_micros, given.resolved_micros) << "went back with the clock";
  for (int i = 0; i < 40; ++i) Put("k" + std::to_string(i));
  for (const ChangeRecord& record : Log(0)) {
    EXPECT_GE(record.approximate_creation_time_micros(), given.resolved_micros)
        << "a record committed after watermark " << given.resolved_micros << " fell below it";
  }
}

TEST_F(WatermarkTest, AdvancesOnAnIdleShardWithTheClock) {
  ManualClock clock;
  Open(&clock);
  Create();
  for (int i = 0; i < 20; ++i) Put("k" + std::to_string(i));
  const std::vector<ChangeRecord> records = Log(1);
  ASSERT_FALSE(records.empty());
  const ShardWatermark first = Watermark(1);
  EXPECT_EQ(first.resolved_micros, clock.NowMicros());
  EXPECT_EQ(first.last_sequence.value(), records.back().sequence());
  clock.AdvanceSeconds(5);
  const ShardWatermark later = Watermark(1);
  EXPECT_EQ(later.resolved_micros, first.resolved_micros + 5 * kSecond);
  EXPECT_EQ(later.last_sequence, first.last_sequence);
  // A shard that never had a record advances too.
  EXPECT_EQ(Watermark(3).resolved_micros, clock.NowMicros());
  EXPECT_FALSE(engine_->ResolvedWatermark(TableName("orders"), ShardIndex(kShards)).ok());
  EXPECT_FALSE(engine_->ResolvedWatermark(TableName("missing"), ShardIndex(0)).ok());
}

// A split shard's watermark stops at its closing: the later changes of its keys are its
// children's, whose own watermarks go on (never below the parent's).
TEST_F(WatermarkTest, StopsWhereASplitShardClosed) {
  ManualClock clock;
  Open(&clock);
  Create();
  for (int i = 0; i < 20; ++i) Put("k" + std::to_string(i));
  auto split = engine_->SplitShard("orders", ShardIndex(1));
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  const int64_t closed_at = clock.NowMicros();
  clock.AdvanceSeconds(5);
  for (int i = 20; i < 60; ++i) Put("k" + std::to_string(i));
  const ShardWatermark parent = Watermark(1);
  EXPECT_EQ(parent.resolved_micros, closed_at);
  EXPECT_EQ(parent.last_sequence, split->parent.last_sequence);
  const uint32_t child = split->lower_child.index.value();
  EXPECT_EQ(Watermark(child).resolved_micros, clock.NowMicros());
  EXPECT_EQ(Watermark(0).resolved_micros, clock.NowMicros());
}

// Samples the watermarks while writers commit through group commit, then checks each
// sample against the whole log: no record below a sample's time has a sequence above the
// sample's (so none was still queued, or committed later), and the sample's sequence was
// readable when it was taken.
TEST_F(WatermarkTest, NeverAheadOfARecordNotYetReadable) {
  Open(Clock::System(), /*sync=*/true);
  Create();
  struct Sample {
    uint32_t shard;
    ShardWatermark watermark;
  };
  std::vector<Sample> samples;
  std::atomic<bool> writing{true};
  std::thread sampler([&] {
    std::vector<int64_t> last(kShards, 0);
    while (writing.load()) {
      for (uint32_t shard = 0; shard < kShards; ++shard) {
        const ShardWatermark watermark = Watermark(shard);
        EXPECT_GE(watermark.resolved_micros, last[shard]) << "went back in shard " << shard;
        last[shard] = watermark.resolved_micros;
        ShardReadRequest read;
        read.table = TableName("orders");
        read.shard = ShardIndex(shard);
        read.limit = 0;
        auto readable = engine_->ReadShard(read);
        ASSERT_TRUE(readable.ok());
        EXPECT_GE(readable->last_written, watermark.last_sequence) << "not yet readable";
        samples.push_back({shard, watermark});
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 300; ++i) Put(std::to_string(w) + "-" + std::to_string(i));
      // One transaction per writer too (a LockedShards commit).
      std::vector<Mutation> mutations;
      for (int i = 0; i < 3; ++i) {
        mutations.push_back({Mutation::Kind::kPut,
                             "orders",
                             {{"pk", AttributeValue::S("tx" + std::to_string(w * 10 + i))}}});
      }
      EXPECT_TRUE(engine_->TransactWrite(std::move(mutations), WriteOrigin{}).ok());
    });
  }
  for (auto& writer : writers) writer.join();
  writing.store(false);
  sampler.join();

  ExpectTimesNonDecreasing();
  std::map<uint32_t, std::vector<ChangeRecord>> logs;
  for (uint32_t shard = 0; shard < kShards; ++shard) logs[shard] = Log(shard);
  size_t checked = 0;
  for (const Sample& sample : samples) {
    // Times follow sequence order: the records below the watermark are a prefix.
    const std::vector<ChangeRecord>& log = logs[sample.shard];
    const auto below = std::partition_point(log.begin(), log.end(), [&](const ChangeRecord& r) {
      return r.approximate_creation_time_micros() < sample.watermark.resolved_micros;
    });
    if (below == log.begin()) continue;
    ASSERT_LE(std::prev(below)->sequence(), sample.watermark.last_sequence.value())
        << "shard " << sample.shard << ": record at "
        << std::prev(below)->approximate_creation_time_micros() << " is below watermark "
        << sample.watermark.resolved_micros << " but was not covered by it";
    ++checked;
  }
  EXPECT_GT(samples.size(), 0u);
  EXPECT_GT(checked, 0u);
}

}  // namespace
}  // namespace tidewater
