// Many threads write and delete across shards at once. Afterwards every acknowledged
// write's record is in the log exactly once, per-shard sequences have no gaps, each item's
// records are in commit order, and rejected writes left no record.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <thread>

#include "support/change_chain.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"

namespace tidewater {
namespace {

// Without fsync writes commit under their shard's lock; with fsync they go through group
// commit (a leader writes many writers' changes at once). Both must keep the log exact.
class ConcurrencyTest : public ::testing::TestWithParam<bool> {};

TEST_P(ConcurrencyTest, ConcurrentWritersKeepTheLogExact) {
  const bool sync = GetParam();
  testing::TempDir dir;
  EngineOptions options = testing::TestEngineOptions(dir.path());
  options.sync = sync;
  auto opened = Engine::Open(options);
  ASSERT_TRUE(opened.ok());
  auto& engine = **opened;
  CreateTableRequest request;
  request.name = "race";
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = 8;
  ASSERT_TRUE(engine.CreateTable(request).ok());

  constexpr int kThreads = 8;
  const int kOpsPerThread = sync ? 150 : 1500;
  constexpr int kKeys = 64;  // few keys: many writers collide on the same items
  struct Acks {
    std::set<std::string> written;
    std::set<std::string> removed;
    std::set<std::string> rejected;
  };
  std::vector<Acks> acks(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int op = 0; op < kOpsPerThread; ++op) {
        const Item key{{"pk", AttributeValue::S("key" + std::to_string(rng() % kKeys))}};
        const std::string token = std::to_string(t) + "/" + std::to_string(op);
        const int kind = static_cast<int>(rng() % 10);
        if (kind < 6) {
          const ItemUpdater set_token = [&](const Item* current) -> Result<std::optional<Item>> {
            Item next = current ? *current : key;
            next["tok"] = AttributeValue::S(token);
            return std::make_optional(std::move(next));
          };
          auto result = engine.UpdateItem("race", key, set_token);
          ASSERT_TRUE(result.ok()) << result.status().ToString();
          acks[t].written.insert(token);
        } else if (kind < 9) {
          auto result = engine.DeleteItem("race", key);
          ASSERT_TRUE(result.ok()) << result.status().ToString();
          if (result->old_item) acks[t].removed.insert(result->old_item->at("tok").s());
        } else if (op % 2 == 0) {
          // A transaction over three distinct items, some of them in other shards.
          std::vector<Mutation> actions;
          std::set<std::string> keys;
          while (keys.size() < 3) keys.insert("key" + std::to_string(rng() % kKeys));
          int n = 0;
          for (const auto& k : keys) {
            const std::string action_token = token + "#" + std::to_string(n++);
            const Item action_key{{"pk", AttributeValue::S(k)}};
            actions.push_back(
                {Mutation::Kind::kUpdate,
                 "race",
                 action_key,
                 {},
                 [action_key, action_token](const Item* current) -> Result<std::optional<Item>> {
                   Item next = current ? *current : action_key;
                   next["tok"] = AttributeValue::S(action_token);
                   return std::make_optional(std::move(next));
                 }});
          }
          auto result = engine.TransactWrite(std::move(actions));
          ASSERT_TRUE(result.ok()) << result.status().ToString();
          for (int i = 0; i < 3; ++i) acks[t].written.insert(token + "#" + std::to_string(i));
        } else {
          Item item = key;
          item["tok"] = AttributeValue::S(token);
          const WriteCondition fails = [](const Item*) { return Status::ConditionFailed(); };
          EXPECT_EQ(engine.PutItem("race", item, fails).status().code(),
                    ErrorCode::kConditionalCheckFailed);
          acks[t].rejected.insert(token);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  const auto summary = testing::CheckChains(engine, "race");
  std::set<std::string> written;
  std::set<std::string> removed;
  for (const auto& a : acks) {
    written.insert(a.written.begin(), a.written.end());
    removed.insert(a.removed.begin(), a.removed.end());
    for (const auto& token : a.rejected) {
      EXPECT_EQ(summary.written_tokens.count(token), 0u) << "rejected write logged: " << token;
    }
  }
  EXPECT_EQ(summary.written_tokens, written);
  EXPECT_EQ(summary.removed_tokens, removed);
  testing::ExpectContentsMatchChains(engine, "race", summary);
}

INSTANTIATE_TEST_SUITE_P(CommitModes, ConcurrencyTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Fsync" : "NoFsync"; });

}  // namespace
}  // namespace tidewater
