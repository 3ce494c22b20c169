// A node following a shard's log into its engine, on a real Kafka-protocol cluster
// (librdkafka's mock): the follower ends with the owner's items and change records, resumes
// after a restart from the position stored with what it applied, and never applies what
// a fenced owner appended after a newer owner took the shard over.
#include "tidewater/cluster/shard_follower.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/kafka_cluster.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/record_codec.h"

namespace tidewater::cluster {
namespace {

using google::protobuf::util::MessageDifferencer;
using tidewater::testing::MockKafkaCluster;
using tidewater::testing::TempDir;

constexpr char kTopic[] = "tidewater.test.t.1.g0";
constexpr char kTable[] = "tbl";

std::unique_ptr<Engine> OpenEngine(const std::string& dir) {
  auto engine = Engine::Open(tidewater::testing::TestEngineOptions(dir));
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(*engine) : nullptr;
}

void CreateTable(Engine& engine) {
  CreateTableRequest request;
  request.name = kTable;
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.shard_count = 1;
  auto created = engine.CreateTable(request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
}

std::vector<ChangeRecord> Records(Engine& engine) {
  auto read = engine.ReadShard({TableName(kTable), ShardIndex(0), SequenceNumber(1), 100000});
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  return read.ok() ? read->records : std::vector<ChangeRecord>{};
}

std::vector<Item> Items(Engine& engine) {
  auto page = engine.Scan({kTable});
  EXPECT_TRUE(page.ok());
  return page.ok() ? page->items : std::vector<Item>{};
}

// The owner engine's writes as the shard log's change entries, from sequence `from` on.
std::vector<v1::ShardLogEntry> Entries(Engine& owner, uint64_t from = 1) {
  std::vector<v1::ShardLogEntry> entries;
  for (const ChangeRecord& record : Records(owner)) {
    if (record.sequence() < from) continue;
    v1::ShardLogEntry entry;
    v1::CommittedChange* change = entry.mutable_change();
    *change->mutable_record() = record;
    if (record.event() != v1::REMOVE) {
      *change->mutable_item()->mutable_attributes() = record.new_image();
      *change->mutable_item()->mutable_version() = record.version();
    }
    entries.push_back(std::move(entry));
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
    EXPECT_TRUE(MessageDifferencer::Equals(want[i], got[i])) << "record " << i;
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

  MockKafkaCluster kafka_;
  TempDir owner_dir_, follower_dir_;
  std::unique_ptr<Engine> owner_engine_, follower_engine_;
};

TEST_F(ShardFollowerTest, FollowerEndsWithTheOwnersItemsAndRecords) {
  auto owner = OwnerLog();
  ASSERT_TRUE(owner);
  Write(*owner_engine_, 0, 60);
  auto entries = Entries(*owner_engine_);
  ASSERT_TRUE(owner->Append(entries).ok());

  auto follower = Follow(*follower_engine_, "standby");
  ASSERT_TRUE(follower);
  ASSERT_TRUE(follower->CatchUp().ok());
  ExpectSameShard(*owner_engine_, *follower_engine_);
}

TEST_F(ShardFollowerTest, RestartedFollowerResumesFromItsStoredPosition) {
  auto owner = OwnerLog();
  ASSERT_TRUE(owner);
  Write(*owner_engine_, 0, 30);
  auto first = Entries(*owner_engine_);
  ASSERT_TRUE(owner->Append(first).ok());
  {
    auto follower = Follow(*follower_engine_, "standby");
    ASSERT_TRUE(follower && follower->CatchUp().ok());
  }
  // The node stops (its engine closes with the log applied so far) and starts again.
  follower_engine_.reset();
  const uint64_t applied = first.back().change().record().sequence();
  Write(*owner_engine_, 30, 70);
  auto second = Entries(*owner_engine_, applied + 1);
  ASSERT_TRUE(owner->Append(second).ok());

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
  Write(*owner_engine_, 0, 20);
  auto entries = Entries(*owner_engine_);
  ASSERT_TRUE(old_owner->Append(entries).ok());

  // The follower takes the shard over (caught up through its own TermStart).
  auto follower = Follow(*follower_engine_, "new");
  ASSERT_TRUE(follower);
  ASSERT_TRUE(follower->log().TakeOver().ok());
  ExpectSameShard(*owner_engine_, *follower_engine_);
  const auto items = Items(*follower_engine_);

  // The old owner, not knowing, appends more: refused by the log's rule, not applied.
  Write(*owner_engine_, 20, 30);
  auto late = Entries(*owner_engine_, entries.back().change().record().sequence() + 1);
  EXPECT_FALSE(old_owner->Append(late).ok());
  ASSERT_TRUE(follower->CatchUp().ok());
  EXPECT_EQ(Items(*follower_engine_), items);
  EXPECT_EQ(Records(*follower_engine_).size(), entries.size());
}

}  // namespace
}  // namespace tidewater::cluster
