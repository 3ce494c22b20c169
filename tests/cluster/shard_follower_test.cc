// A node following a shard's log into its engine, on a real Kafka-protocol cluster
// (librdkafka's mock): the follower ends with the owner's items and change records, resumes
// after a restart from the position stored with what it applied, and never applies what
// a fenced owner appended after a newer owner took the shard over.
#include "tidewater/cluster/shard_follower.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/kafka_cluster.h"
#include "support/log_table.h"
#include "support/temp_dir.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/record_codec.h"

namespace tidewater::cluster {
namespace {

using tidewater::testing::ChildProcess;
using tidewater::testing::MockKafkaCluster;
using tidewater::testing::TempDir;

constexpr char kTopic[] = "tidewater.test.t.1.g0";
constexpr char kTable[] = "tbl";

std::unique_ptr<Engine> OpenEngine(const std::string& dir) {
  return tidewater::testing::OpenTestEngine(dir);
}

void CreateTable(Engine& engine) {
  auto created = engine.CreateTable(tidewater::testing::StreamTableRequest(kTable, 1));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
}

std::vector<ChangeRecord> Records(Engine& engine) {
  return tidewater::testing::ShardRecords(engine, kTable, 0);
}

std::vector<Item> Items(Engine& engine) {
  auto page = engine.Scan({kTable});
  EXPECT_TRUE(page.ok());
  return page.ok() ? page->items : std::vector<Item>{};
}

// The owner engine's writes as the shard log's change entries, from sequence `from` on.
std::vector<v1::ShardLogEntry> Entries(Engine& owner, uint64_t from = 1) {
  std::vector<v1::ShardLogEntry> entries;
  for (auto& change : tidewater::testing::CommittedChanges(owner, kTable, 0, from)) {
    *entries.emplace_back().mutable_change() = std::move(change);
  }
  return entries;
}

void Write(Engine& owner, int from, int to) {
  for (int i = from; i < to; ++i) {
    Item item = {{"pk", AttributeValue::S("k" + std::to_string(i % 13))},
                 {"n", AttributeValue::N(Number::FromInt64(i))}};
    ASSERT_TRUE(owner.PutItem(kTable, std::move(item), {}, {}).ok());
    if (i % 5 == 4) {
      ASSERT_TRUE(
          owner
              .DeleteItem(kTable, {{"pk", AttributeValue::S("k" + std::to_string(i % 13))}}, {}, {})
              .ok());
    }
  }
}

void ExpectSameShard(Engine& expected, Engine& actual) {
  auto sorted = [](std::vector<Item> items) {
    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return a.at("pk").s() < b.at("pk").s(); });
    return items;
  };
  EXPECT_EQ(sorted(Items(actual)), sorted(Items(expected)));
  const auto want = Records(expected);
  const auto got = Records(actual);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(tidewater::testing::SameChange(want[i], got[i])) << "record " << i;
  }
}

class ShardFollowerTest : public ::testing::Test {
 protected:
  ShardFollowerTest() : kafka_(3) { kafka_.CreateTopic(kTopic, 1); }

  void SetUp() override {
    owner_engine_ = OpenEngine(owner_dir_.path());
    follower_engine_ = OpenEngine(follower_dir_.path());
    ASSERT_TRUE(owner_engine_ && follower_engine_);
    CreateTable(*owner_engine_);
    CreateTable(*follower_engine_);
  }

  ShardLogOptions LogOptions(const std::string& node) {
    ShardLogOptions options;
    options.brokers = kafka_.bootstraps();
    options.node_id = node;
    options.advertised = "127.0.0.1:8000";
    options.topic = kTopic;
    options.message_key = "1/0";
    return options;
  }

  std::unique_ptr<ShardFollower> Follow(Engine& engine, const std::string& node) {
    auto follower =
        ShardFollower::Open({LogOptions(node), TableName(kTable), ShardIndex(0)}, engine);
    EXPECT_TRUE(follower.ok()) << follower.status().ToString();
    return follower.ok() ? std::move(*follower) : nullptr;
  }

  // The owner's log: a ShardLog that applies nothing (the owner engine already holds its
  // writes), taken over by node "owner".
  std::unique_ptr<ShardLog> OwnerLog(const std::string& node = "owner") {
    auto log = ShardLog::Open(LogOptions(node), [](int64_t, const auto&) { return Status::Ok(); });
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) return nullptr;
    Status took = (*log)->TakeOver();
    EXPECT_TRUE(took.ok()) << took.ToString();
    return std::move(*log);
  }

  // The owner engine writes items `from` to `to`, and `owner` appends the changes they
  // made as its log's entries. The append's outcome; `appended` gets the entries.
  Status WriteAndAppend(ShardLog& owner, int from, int to,
                        std::vector<v1::ShardLogEntry>* appended = nullptr) {
    const uint64_t next = Records(*owner_engine_).size() + 1;
    Write(*owner_engine_, from, to);
    std::vector<v1::ShardLogEntry> entries = Entries(*owner_engine_, next);
    Status status = owner.Append(entries);
    if (appended != nullptr) *appended = std::move(entries);
    return status;
  }

  MockKafkaCluster kafka_;
  TempDir owner_dir_, follower_dir_;
  std::unique_ptr<Engine> owner_engine_, follower_engine_;
};

TEST_F(ShardFollowerTest, FollowerEndsWithTheOwnersItemsAndRecords) {
  auto owner = OwnerLog();
  ASSERT_TRUE(owner);
  ASSERT_TRUE(WriteAndAppend(*owner, 0, 60).ok());

  auto follower = Follow(*follower_engine_, "standby");
  ASSERT_TRUE(follower);
  ASSERT_TRUE(follower->CatchUp().ok());
  ExpectSameShard(*owner_engine_, *follower_engine_);
}

TEST_F(ShardFollowerTest, RestartedFollowerResumesFromItsStoredPosition) {
  auto owner = OwnerLog();
  ASSERT_TRUE(owner);
  ASSERT_TRUE(WriteAndAppend(*owner, 0, 30).ok());
  {
    auto follower = Follow(*follower_engine_, "standby");
    ASSERT_TRUE(follower && follower->CatchUp().ok());
  }
  // The node stops (its engine closes with the log applied so far) and starts again.
  follower_engine_.reset();
  ASSERT_TRUE(WriteAndAppend(*owner, 30, 70).ok());

  follower_engine_ = OpenEngine(follower_dir_.path());
  ASSERT_TRUE(follower_engine_);
  auto follower = Follow(*follower_engine_, "standby");
  ASSERT_TRUE(follower);
  // Reading from the start again would offer changes applied already, which the engine
  // refuses: catching up succeeds only from the stored position.
  Status caught_up = follower->CatchUp();
  ASSERT_TRUE(caught_up.ok()) << caught_up.ToString();
  ExpectSameShard(*owner_engine_, *follower_engine_);
}

TEST_F(ShardFollowerTest, FencedOwnersLateAppendsAreNeverApplied) {
  auto old_owner = OwnerLog("old");
  ASSERT_TRUE(old_owner);
  std::vector<v1::ShardLogEntry> entries;
  ASSERT_TRUE(WriteAndAppend(*old_owner, 0, 20, &entries).ok());

  // The follower takes the shard over (caught up through its own TermStart).
  auto follower = Follow(*follower_engine_, "new");
  ASSERT_TRUE(follower);
  ASSERT_TRUE(follower->log().TakeOver().ok());
  ExpectSameShard(*owner_engine_, *follower_engine_);
  const auto items = Items(*follower_engine_);

  // The old owner, not knowing, appends more: refused by the log's rule, not applied.
  EXPECT_FALSE(WriteAndAppend(*old_owner, 20, 30).ok());
  ASSERT_TRUE(follower->CatchUp().ok());
  EXPECT_EQ(Items(*follower_engine_), items);
  EXPECT_EQ(Records(*follower_engine_).size(), entries.size());
}

// The follower run as a child process by the kill test (disabled: it runs only there):
// follows the shard's log into the engine in TW_FOLLOWER_DIR, printing the position it
// reached after each catch-up, until it is killed; with TW_FOLLOWER_ONCE, catches up once
// and exits.
TEST(ShardFollowerChild, DISABLED_FollowUntilKilled) {
  const char* brokers = std::getenv("TW_FOLLOWER_BROKERS");
  const char* dir = std::getenv("TW_FOLLOWER_DIR");
  ASSERT_TRUE(brokers != nullptr && dir != nullptr) << "run by the kill test only";
  auto engine = OpenEngine(dir);
  ASSERT_TRUE(engine);
  if (!engine->DescribeTable(kTable).ok()) CreateTable(*engine);
  ShardLogOptions options;
  options.brokers = brokers;
  options.node_id = "standby";
  options.topic = kTopic;
  auto follower = ShardFollower::Open({options, TableName(kTable), ShardIndex(0)}, *engine);
  ASSERT_TRUE(follower.ok()) << follower.status().ToString();
  std::cout << "following" << std::endl;
  do {
    Status caught_up = (*follower)->CatchUp();
    ASSERT_TRUE(caught_up.ok()) << caught_up.ToString();
    std::cout << "at " << (*follower)->log().next_offset() << std::endl;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } while (std::getenv("TW_FOLLOWER_ONCE") == nullptr);
}

// kill -9 of the follower at random moments while the owner appends: every restart
// resumes from what its storage holds, and in the end the follower has every change once.
TEST_F(ShardFollowerTest, FollowerKilledAtRandomMomentsEndsWithEveryChangeOnce) {
  auto owner = OwnerLog();
  ASSERT_TRUE(owner);
  Write(*owner_engine_, 0, 6000);
  const auto entries = Entries(*owner_engine_);
  follower_engine_.reset();  // the child process owns the follower's data directory
  const std::string dir = follower_dir_.path() + "/child";
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::vector<std::string> args = {
      "--gtest_also_run_disabled_tests",
      "--gtest_filter=ShardFollowerChild.DISABLED_FollowUntilKilled"};
  const std::vector<std::string> env = {"TW_FOLLOWER_BROKERS=" + kafka_.bootstraps(),
                                        "TW_FOLLOWER_DIR=" + dir};
  std::mt19937 random(20261207);
  constexpr int kRounds = 6;
  size_t appended = 0;
  for (int round = 0; round < kRounds; ++round) {
    const size_t until = entries.size() * (round + 1) / kRounds;
    std::vector<v1::ShardLogEntry> chunk(entries.begin() + appended, entries.begin() + until);
    ASSERT_TRUE(owner->Append(chunk).ok());
    appended = until;
    ChildProcess child(self, args, env);
    ASSERT_TRUE(child.WaitForLog("\\nfollowing\\n", std::chrono::seconds(30))) << child.log();
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 5000));
    child.Signal(SIGKILL);
    child.Wait();
    ASSERT_EQ(child.log().find("Failure"), std::string::npos) << child.log();
    // Where the killed follower's storage stands (for the log of the test: most kills land
    // in the middle of a catch-up).
    auto engine = OpenEngine(dir);
    ASSERT_TRUE(engine);
    auto position = engine->LoadShardLogPosition(TableName(kTable), ShardIndex(0));
    ASSERT_TRUE(position.ok());
    v1::ShardLogPosition stored;
    if (*position) stored.ParseFromString(**position);
    std::cout << "round " << round << ": killed at offset " << stored.next_offset() << " of "
              << owner->next_offset() << std::endl;
  }
  std::vector<std::string> once = env;
  once.push_back("TW_FOLLOWER_ONCE=1");
  ChildProcess last(self, args, once);
  const int status = last.Wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << last.log();

  follower_engine_ = OpenEngine(dir);
  ASSERT_TRUE(follower_engine_);
  ExpectSameShard(*owner_engine_, *follower_engine_);
}

}  // namespace
}  // namespace tidewater::cluster
