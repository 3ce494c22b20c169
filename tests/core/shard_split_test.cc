// Online shard splits: writers never fail while shards split under them, every
// acknowledged write is logged once across parents and children, each record lies in the
// shard whose hash range holds its key, a closed parent takes nothing after its final
// sequence, per-key order holds when parents are read before children, and the layout
// survives reopening the engine.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "support/change_chain.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/key_codec.h"

namespace tidewater {
namespace {

std::unique_ptr<Engine> OpenEngine(const std::string& dir, bool sync = false) {
  EngineOptions options = testing::TestEngineOptions(dir);
  options.sync = sync;
  auto opened = Engine::Open(options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(*opened) : nullptr;
}

void CreateTable(Engine& engine, const std::string& name, uint32_t shards) {
  CreateTableRequest request;
  request.name = name;
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = shards;
  ASSERT_TRUE(engine.CreateTable(request).ok());
}

Item KeyItem(const std::string& pk) { return {{"pk", AttributeValue::S(pk)}}; }

uint64_t HashOf(const std::string& pk) { return keycodec::PartitionHash(AttributeValue::S(pk)); }

// The open shards' ranges cover every hash exactly once.
void ExpectOpenShardsCoverTheHashSpace(const std::vector<ShardDescription>& shards) {
  std::map<uint64_t, uint64_t> open;  // begin -> end
  for (const auto& shard : shards) {
    if (!shard.closed) open[shard.hash_begin] = shard.hash_end;
  }
  ASSERT_FALSE(open.empty());
  uint64_t next = 0;
  bool wrapped = false;
  for (const auto& [begin, end] : open) {
    ASSERT_FALSE(wrapped) << "a range after the end of the hash space";
    EXPECT_EQ(begin, next) << "open ranges leave a gap or overlap";
    wrapped = end == UINT64_MAX;
    next = end + 1;
  }
  EXPECT_TRUE(wrapped) << "open ranges stop short of the end of the hash space";
}

// Writers (updates of shared keys, deletes, cross-shard transactions) run while shards
// split repeatedly, children too. Without fsync writes commit under the shard lock; with
// fsync they queue in commit groups, which the split must drain before closing the parent.
class ShardSplitTest : public ::testing::TestWithParam<bool> {};

TEST_P(ShardSplitTest, SplitsUnderConcurrentWritersKeepEveryWriteOnceInItsShard) {
  const bool sync = GetParam();
  testing::TempDir dir;
  auto engine = OpenEngine(dir.path(), sync);
  ASSERT_TRUE(engine);
  CreateTable(*engine, "splits", 2);

  constexpr int kThreads = 8;
  const int kOpsPerThread = sync ? 200 : 1500;
  constexpr int kKeys = 200;
  constexpr int kSplits = 30;
  std::atomic<int> acknowledged{0};
  std::atomic<int> writers_done{0};
  struct Acks {
    std::set<std::string> written;
    std::set<std::string> removed;
  };
  std::vector<Acks> acks(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int op = 0; op < kOpsPerThread; ++op) {
        const std::string pk = "key" + std::to_string(rng() % kKeys);
        const std::string token = std::to_string(t) + "/" + std::to_string(op);
        const int kind = static_cast<int>(rng() % 10);
        if (kind < 6) {
          const Item key = KeyItem(pk);
          const ItemUpdater set_token = [&](const Item* current) -> Result<std::optional<Item>> {
            Item next = current ? *current : key;
            next["tok"] = AttributeValue::S(token);
            return std::make_optional(std::move(next));
          };
          auto result = engine->UpdateItem("splits", key, set_token);
          ASSERT_TRUE(result.ok()) << result.status().ToString();
          acks[t].written.insert(token);
        } else if (kind < 8) {
          auto result = engine->DeleteItem("splits", KeyItem(pk));
          ASSERT_TRUE(result.ok()) << result.status().ToString();
          if (result->old_item) acks[t].removed.insert(result->old_item->at("tok").s());
        } else {
          // A transaction over three distinct items, mostly in different shards.
          std::set<std::string> keys;
          while (keys.size() < 3) keys.insert("key" + std::to_string(rng() % kKeys));
          std::vector<Mutation> actions;
          int n = 0;
          for (const auto& k : keys) {
            const std::string action_token = token + "#" + std::to_string(n++);
            const Item action_key = KeyItem(k);
            actions.push_back(
                {Mutation::Kind::kUpdate,
                 "splits",
                 action_key,
                 {},
                 [action_key, action_token](const Item* current) -> Result<std::optional<Item>> {
                   Item next = current ? *current : action_key;
                   next["tok"] = AttributeValue::S(action_token);
                   return std::make_optional(std::move(next));
                 }});
          }
          auto result = engine->TransactWrite(std::move(actions));
          ASSERT_TRUE(result.ok()) << result.status().ToString();
          for (int i = 0; i < 3; ++i) acks[t].written.insert(token + "#" + std::to_string(i));
        }
        acknowledged.fetch_add(1);
      }
      writers_done.fetch_add(1);
    });
  }

  // Split while the writers run: each split waits for more writes to land first, and
  // takes the newest open shard, so that children split again.
  std::map<uint32_t, uint64_t> closed_at;  // parent -> its final sequence
  const int total_ops = kThreads * kOpsPerThread;
  for (int split = 0; split < kSplits; ++split) {
    const int wanted = total_ops * (split + 1) / (kSplits + 2);
    ASSERT_TRUE(testing::WaitFor([&] { return acknowledged.load() >= wanted; }));
    auto table = engine->DescribeTable("splits");
    ASSERT_TRUE(table.ok());
    uint32_t newest_open = 0;
    for (const auto& shard : table->shards) {
      if (!shard.closed) newest_open = shard.index.value();
    }
    auto done = engine->SplitShard("splits", ShardIndex(newest_open));
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->parent.index, ShardIndex(newest_open));
    EXPECT_TRUE(done->parent.closed);
    EXPECT_EQ(done->lower_child.parent, ShardIndex(newest_open));
    EXPECT_EQ(done->upper_child.parent, ShardIndex(newest_open));
    EXPECT_EQ(done->lower_child.hash_begin, done->parent.hash_begin);
    EXPECT_EQ(done->lower_child.hash_end + 1, done->upper_child.hash_begin);
    EXPECT_EQ(done->upper_child.hash_end, done->parent.hash_end);
    closed_at[newest_open] = done->parent.last_sequence.value();
  }
  EXPECT_LT(writers_done.load(), kThreads) << "the splits did not overlap the writers";
  for (auto& thread : threads) thread.join();

  // Reads every shard in index order, parents (lower indices) before their children:
  // each key's records form one unbroken chain, no token twice, no gap in a shard.
  const auto summary = testing::CheckChains(*engine, "splits");
  std::set<std::string> written;
  std::set<std::string> removed;
  for (const auto& a : acks) {
    written.insert(a.written.begin(), a.written.end());
    removed.insert(a.removed.begin(), a.removed.end());
  }
  EXPECT_EQ(summary.written_tokens, written);
  EXPECT_EQ(summary.removed_tokens, removed);
  testing::ExpectContentsMatchChains(*engine, "splits", summary);

  auto table = engine->DescribeTable("splits");
  ASSERT_TRUE(table.ok());
  ASSERT_EQ(table->shards.size(), 2u + 2u * kSplits);
  ExpectOpenShardsCoverTheHashSpace(table->shards);
  size_t children_with_records = 0;
  for (const auto& shard : table->shards) {
    auto read = engine->ReadShard({TableName("splits"), shard.index, SequenceNumber(1), 100000});
    ASSERT_TRUE(read.ok());
    for (const auto& record : read->records) {
      const uint64_t hash = HashOf(record.keys().attributes(0).value().s());
      EXPECT_GE(hash, shard.hash_begin) << "record outside its shard's range";
      EXPECT_LE(hash, shard.hash_end) << "record outside its shard's range";
      EXPECT_EQ(record.shard(), shard.index.value());
    }
    if (shard.parent && !read->records.empty()) {
      ++children_with_records;
      EXPECT_EQ(read->records.front().sequence(), 1u) << "a child numbers from 1";
    }
    auto closed = closed_at.find(shard.index.value());
    EXPECT_EQ(shard.closed, closed != closed_at.end());
    if (closed != closed_at.end()) {
      EXPECT_EQ(shard.last_sequence.value(), closed->second)
          << "shard " << shard.index << " took records after it was closed";
    }
  }
  EXPECT_GT(children_with_records, 0u);

  // The layout is durable: after reopening, the same shards, and writes go to open ones.
  const std::vector<ShardDescription> before = table->shards;
  engine.reset();
  engine = OpenEngine(dir.path(), sync);
  ASSERT_TRUE(engine);
  auto reopened = engine->DescribeTable("splits");
  ASSERT_TRUE(reopened.ok());
  ASSERT_EQ(reopened->shards.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(reopened->shards[i].index, before[i].index);
    EXPECT_EQ(reopened->shards[i].hash_begin, before[i].hash_begin);
    EXPECT_EQ(reopened->shards[i].hash_end, before[i].hash_end);
    EXPECT_EQ(reopened->shards[i].parent, before[i].parent);
    EXPECT_EQ(reopened->shards[i].closed, before[i].closed);
    EXPECT_EQ(reopened->shards[i].last_sequence, before[i].last_sequence);
  }
  for (int k = 0; k < kKeys; ++k) {
    Item item = KeyItem("key" + std::to_string(k));
    item["tok"] = AttributeValue::S("after-reopen-" + std::to_string(k));
    ASSERT_TRUE(engine->PutItem("splits", item).ok());
  }
  auto after = engine->DescribeTable("splits");
  ASSERT_TRUE(after.ok());
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i].closed) {
      EXPECT_EQ(after->shards[i].last_sequence, before[i].last_sequence)
          << "a write reached closed shard " << before[i].index << " after reopening";
    }
  }
  testing::CheckChains(*engine, "splits");
}

INSTANTIATE_TEST_SUITE_P(CommitModes, ShardSplitTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Fsync" : "NoFsync"; });

TEST(ShardSplitRefusalTest, RefusesWhatCannotBeSplit) {
  testing::TempDir dir;
  auto engine = OpenEngine(dir.path());
  ASSERT_TRUE(engine);
  CreateTable(*engine, "one", 1);
  EXPECT_EQ(engine->SplitShard("missing", ShardIndex(0)).status().code(),
            ErrorCode::kResourceNotFound);
  EXPECT_EQ(engine->SplitShard("one", ShardIndex(1)).status().code(), ErrorCode::kResourceNotFound);
  ASSERT_TRUE(engine->SplitShard("one", ShardIndex(0)).ok());
  EXPECT_EQ(engine->SplitShard("one", ShardIndex(0)).status().code(), ErrorCode::kValidation)
      << "a closed shard split again";
  // Halving the lowest range 63 more times leaves a range of one hash: [0, 0].
  uint32_t lowest = 1;
  for (int i = 0; i < 63; ++i) {
    auto split = engine->SplitShard("one", ShardIndex(lowest));
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    lowest = split->lower_child.index.value();
  }
  auto table = engine->DescribeTable("one");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->shards[lowest].hash_begin, 0u);
  EXPECT_EQ(table->shards[lowest].hash_end, 0u);
  EXPECT_EQ(engine->SplitShard("one", ShardIndex(lowest)).status().code(), ErrorCode::kValidation);
  ExpectOpenShardsCoverTheHashSpace(table->shards);
}

// Record times never go back across a split, also when the clock steps back and the
// engine reopens before a child has a record: a reader following lineage sees them in
// order.
TEST(ShardSplitTimeTest, ChildRecordTimesGoOnFromTheParentsAfterReopening) {
  testing::TempDir dir;
  ManualClock clock;
  const int64_t parent_time = clock.NowMicros();
  {
    auto opened = Engine::Open(testing::TestEngineOptions(dir.path(), &clock));
    ASSERT_TRUE(opened.ok());
    CreateTable(**opened, "times", 1);
    ASSERT_TRUE((*opened)->PutItem("times", KeyItem("a")).ok());
    ASSERT_TRUE((*opened)->SplitShard("times", ShardIndex(0)).ok());
  }
  clock.SetMicros(parent_time - 60'000'000);  // a minute back
  auto opened = Engine::Open(testing::TestEngineOptions(dir.path(), &clock));
  ASSERT_TRUE(opened.ok());
  Item changed = KeyItem("a");
  changed["v"] = AttributeValue::S("after the split");
  ASSERT_TRUE((*opened)->PutItem("times", changed).ok());
  const uint32_t child =
      HashOf("a") <= (*opened)->DescribeTable("times")->shards[1].hash_end ? 1 : 2;
  auto read = (*opened)->ReadShard({TableName("times"), ShardIndex(child), SequenceNumber(1), 10});
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->records.size(), 1u);
  EXPECT_GE(read->records[0].approximate_creation_time_micros(), parent_time);
}

// DescribeStream shows lineage; a stream disabled before a split keeps the shards it had,
// and a table created again under the name continues its children's sequences.
TEST(ShardSplitStreamTest, StreamsShowLineageAndKeepTheirShards) {
  testing::TempDir dir;
  auto engine = OpenEngine(dir.path());
  ASSERT_TRUE(engine);
  CreateTable(*engine, "lineage", 1);
  for (int k = 0; k < 20; ++k)
    ASSERT_TRUE(engine->PutItem("lineage", KeyItem(std::to_string(k))).ok());
  ASSERT_TRUE(engine->SplitShard("lineage", ShardIndex(0)).ok());
  for (int k = 0; k < 20; ++k)
    ASSERT_TRUE(engine->DeleteItem("lineage", KeyItem(std::to_string(k))).ok());

  auto streams = engine->ListStreams("lineage");
  ASSERT_TRUE(streams.ok());
  ASSERT_EQ(streams->size(), 1u);
  const StreamDescription first_stream = streams->front();
  ASSERT_EQ(first_stream.shards.size(), 3u);
  EXPECT_TRUE(first_stream.shards[0].closed);
  EXPECT_EQ(first_stream.shards[0].last_sequence, SequenceNumber(20));
  uint64_t child_records = 0;
  for (int i : {1, 2}) {
    EXPECT_EQ(first_stream.shards[i].parent, ShardIndex(0));
    EXPECT_FALSE(first_stream.shards[i].closed);
    child_records += first_stream.shards[i].last_sequence.value();
  }
  EXPECT_EQ(child_records, 20u);

  // Disabled, then split again: the disabled stream keeps its three shards.
  ASSERT_TRUE(engine->UpdateStream("lineage", {false, StreamViewType::kNewAndOldImages}).ok());
  ASSERT_TRUE(engine->SplitShard("lineage", ShardIndex(1)).ok());
  auto disabled = engine->DescribeStream("lineage", first_stream.label);
  ASSERT_TRUE(disabled.ok());
  EXPECT_EQ(disabled->shards.size(), 3u);

  // Deleted and created again: the new table's children continue after the old ones.
  ASSERT_TRUE(engine->DeleteTable("lineage").ok());
  CreateTable(*engine, "lineage", 1);
  ASSERT_TRUE(engine->SplitShard("lineage", ShardIndex(0)).ok());
  for (int k = 0; k < 20; ++k)
    ASSERT_TRUE(engine->PutItem("lineage", KeyItem(std::to_string(k))).ok());
  auto table = engine->DescribeTable("lineage");
  ASSERT_TRUE(table.ok());
  for (int i : {1, 2}) {
    auto read = engine->ReadShard({TableName("lineage"), ShardIndex(i), SequenceNumber(1), 100});
    ASSERT_TRUE(read.ok());
    ASSERT_FALSE(read->records.empty());
    EXPECT_GT(read->records.front().sequence(), first_stream.shards[i].last_sequence.value())
        << "child " << i << " of the new table reuses the deleted table's sequences";
  }
}

}  // namespace
}  // namespace tidewater
