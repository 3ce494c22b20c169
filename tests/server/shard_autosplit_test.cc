// Automatic shard splits: the policy (estimated bytes per shard, write rates sustained
// over time, closed shards left alone) on given table descriptions, then the splitter
// against a real engine driven by a ManualClock.
#include "shard_autosplit.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "support/test_engine.h"

namespace tidewater::server {
namespace {

constexpr int64_t kSecond = 1'000'000;

// A table of `count` equal shards, each with `last_sequence` records, `bytes` in all.
TableDescription Table(uint32_t count, uint64_t last_sequence, uint64_t bytes) {
  TableDescription table;
  table.name = "orders";
  table.table_id = 7;
  table.approximate_size_bytes = bytes;
  for (uint32_t i = 0; i < count; ++i) {
    ShardDescription shard;
    shard.index = ShardIndex(i);
    shard.hash_begin = i == 0 ? 0 : (UINT64_MAX / count) * i + 1;
    shard.hash_end = i + 1 == count ? UINT64_MAX : (UINT64_MAX / count) * (i + 1);
    shard.last_sequence = SequenceNumber(last_sequence);
    table.shards.push_back(shard);
  }
  return table;
}

std::vector<uint32_t> Shards(const std::vector<SplitDecision>& decisions, SplitReason reason) {
  std::vector<uint32_t> shards;
  for (const SplitDecision& d : decisions) {
    EXPECT_EQ(d.reason, reason);
    EXPECT_EQ(d.table, "orders");
    EXPECT_EQ(d.table_id, 7u);
    shards.push_back(d.shard.value());
  }
  return shards;
}

TEST(SplitPolicyTest, AShardWhoseShareOfTheTablePassesTheSizeSplits) {
  SplitPolicy policy({/*max_shard_bytes=*/900, /*writes=*/0, std::chrono::seconds(60)});
  // 4 shards of about 1000 bytes each: all four pass.
  EXPECT_EQ(Shards(policy.Observe({Table(4, 10, 4000)}, 0), SplitReason::kBytes),
            (std::vector<uint32_t>{0, 1, 2, 3}));
  // 4 shards of about 850 bytes: none does.
  EXPECT_TRUE(policy.Observe({Table(4, 10, 3400)}, kSecond).empty());
  // A shard of an eighth of the hash space (a child) holds an eighth of the table.
  TableDescription split = Table(8, 10, 8000);
  for (ShardDescription& shard : split.shards) {
    if (shard.index.value() != 5) shard.closed = true;
  }
  EXPECT_EQ(Shards(policy.Observe({split}, 2 * kSecond), SplitReason::kBytes),
            (std::vector<uint32_t>{5}));
  split.approximate_size_bytes = 7000;  // 875 bytes in shard 5
  EXPECT_TRUE(policy.Observe({split}, 3 * kSecond).empty());
}

TEST(SplitPolicyTest, OnlyAWriteRateSustainedForTheWholeWindowSplits) {
  SplitPolicy policy({/*bytes=*/0, /*max_shard_writes_per_second=*/100, std::chrono::seconds(10)});
  TableDescription table = Table(2, 0, 1ULL << 40);  // size rule off: never by bytes
  const auto look = [&](int64_t seconds, uint64_t shard0, uint64_t shard1) {
    table.shards[0].last_sequence = SequenceNumber(shard0);
    table.shards[1].last_sequence = SequenceNumber(shard1);
    return Shards(policy.Observe({table}, seconds * kSecond), SplitReason::kWrites);
  };
  EXPECT_TRUE(look(0, 0, 0).empty());  // the baseline
  // Shard 0 at 200/s, shard 1 at 100/s (not above).
  EXPECT_TRUE(look(5, 1000, 500).empty());
  EXPECT_EQ(look(10, 2000, 1000), (std::vector<uint32_t>{0}));
  // Shard 0 is split (closed): never again, whatever its numbers say. Shard 1: a burst,
  // a pause (the window starts again), then 10 s above the rate.
  table.shards[0].closed = true;
  EXPECT_TRUE(look(15, 90000, 2000).empty());
  EXPECT_TRUE(look(20, 190000, 2100).empty());
  EXPECT_TRUE(look(25, 290000, 3100).empty());
  EXPECT_EQ(look(30, 390000, 4100), (std::vector<uint32_t>{1}));
}

TEST(SplitPolicyTest, ZeroThresholdsNeverSplit) {
  SplitPolicy policy({0, 0, std::chrono::seconds(0)});
  EXPECT_TRUE(policy.Observe({Table(1, 0, 1ULL << 50)}, 0).empty());
  EXPECT_TRUE(policy.Observe({Table(1, 1'000'000, 1ULL << 50)}, kSecond).empty());
}

// The splitter against a real engine: a table written faster than the threshold for the
// whole window has each shard split once; the children start their own watch.
TEST(ShardAutoSplitterTest, SplitsTheShardsOfATableWrittenPastTheRate) {
  testing::TempDir dir;
  ManualClock clock;
  EngineOptions engine_options = testing::TestEngineOptions(dir.Sub("data"));
  engine_options.clock = &clock;
  auto engine = Engine::Open(engine_options);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  CreateTableRequest request;
  request.name = "orders";
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewImage};
  request.shard_count = 2;
  ASSERT_TRUE((*engine)->CreateTable(request).ok());
  int next_key = 0;
  const auto write = [&](int count) {
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE((*engine)
                      ->PutItem("orders", {{"pk", AttributeValue::S(std::to_string(next_key++))}})
                      .ok());
    }
  };

  prometheus::Registry registry;
  // The thread's interval is never reached: the test looks with CheckNow.
  ShardAutoSplitter splitter(**engine, &clock, {0, 50, std::chrono::seconds(2)},
                             std::chrono::hours(1), registry);
  write(400);  // about 200 per shard in the first second
  clock.AdvanceSeconds(1);
  EXPECT_TRUE(splitter.CheckNow().empty()) << "one second is not the two-second window";
  write(400);
  clock.AdvanceSeconds(1);
  const std::vector<SplitDecision> splits = splitter.CheckNow();
  ASSERT_EQ(splits.size(), 2u);
  auto table = (*engine)->DescribeTable("orders");
  ASSERT_TRUE(table.ok());
  ASSERT_EQ(table->shards.size(), 6u);
  for (const ShardDescription& shard : table->shards) {
    EXPECT_EQ(shard.closed, shard.index.value() < 2) << shard.index.value();
    EXPECT_EQ(shard.parent.has_value(), shard.index.value() >= 2) << shard.index.value();
  }
  double counted = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != "tidewater_shard_splits_total") continue;
    for (const auto& metric : family.metric) counted += metric.counter.value;
  }
  EXPECT_EQ(counted, 2);
  // Quiet again: the children are not split.
  clock.AdvanceSeconds(5);
  EXPECT_TRUE(splitter.CheckNow().empty());
  EXPECT_EQ((*engine)->DescribeTable("orders")->shards.size(), 6u);
}

}  // namespace
}  // namespace tidewater::server
