// Cluster mode's apply path (ShardLogTarget): a follower that applies the committed changes
// of an owner's shard logs ends with the owner's items, change records (same sequences)
// and index entries, with the log position stored in the same WriteBatch; a change
// applied twice, one missing, or a bad one is refused and writes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/index_check.h"
#include "support/log_table.h"
#include "support/temp_dir.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {
namespace {

using testing::TempDir;

constexpr char kTable[] = "tbl";
constexpr uint32_t kShards = 2;

AttributeValue S(std::string s) { return AttributeValue::S(std::move(s)); }
AttributeValue N(int64_t n) { return AttributeValue::N(Number::FromInt64(n)); }

// pk S, sk S, a stream with both images, and a local index "by_rank" (pk, rank N).
void CreateTable(Engine& engine) {
  CreateTableRequest request = testing::StreamTableRequest(kTable, kShards);
  request.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kS};
  SecondaryIndex by_rank;
  by_rank.name = "by_rank";
  by_rank.key_schema.partition_key = {"pk", AttributeType::kS};
  by_rank.key_schema.sort_key = KeyAttribute{"rank", AttributeType::kN};
  by_rank.projection = {ProjectionType::kAll, {}};
  request.local_indexes = {by_rank};
  auto created = engine.CreateTable(request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
}

Item Row(int pk, int sk, int rank) {
  return {{"pk", S("p" + std::to_string(pk))},
          {"sk", S("s" + std::to_string(sk))},
          {"rank", N(rank)},
          {"data", S(std::string(40, static_cast<char>('a' + rank % 26)))}};
}
Item Key(int pk, int sk) {
  return {{"pk", S("p" + std::to_string(pk))}, {"sk", S("s" + std::to_string(sk))}};
}

// The owner's writes: puts, overwrites that move index entries, updates, deletes and a
// transaction.
void Write(Engine& owner) {
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(owner.PutItem(kTable, Row(i % 7, i, i), {}, {}).ok());
  }
  for (int i = 0; i < 40; i += 3) {
    ASSERT_TRUE(owner.PutItem(kTable, Row(i % 7, i, 100 + i), {}, {}).ok());
  }
  for (int i = 0; i < 40; i += 5) ASSERT_TRUE(owner.DeleteItem(kTable, Key(i % 7, i), {}, {}).ok());
  std::vector<Mutation> transaction(2);
  transaction[0].table = kTable;
  transaction[0].item = Row(1, 100, 7);
  transaction[1].table = kTable;
  transaction[1].item = Row(2, 101, 8);
  ASSERT_TRUE(owner.TransactWrite(std::move(transaction), {}).ok());
}

std::vector<ChangeRecord> Records(Engine& engine, uint32_t shard) {
  return testing::ShardRecords(engine, kTable, shard);
}

std::vector<v1::CommittedChange> Committed(Engine& owner, uint32_t shard) {
  return testing::CommittedChanges(owner, kTable, shard);
}

CommittedBatch Batch(uint32_t shard, std::vector<v1::CommittedChange> changes,
                     std::string position) {
  return {TableName(kTable), ShardIndex(shard), std::move(changes), std::move(position)};
}

std::vector<Item> Items(Engine& engine) {
  auto page = engine.Scan({kTable});
  EXPECT_TRUE(page.ok());
  std::vector<Item> items = page.ok() ? page->items : std::vector<Item>{};
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::pair(a.at("pk").s(), a.at("sk").s()) < std::pair(b.at("pk").s(), b.at("sk").s());
  });
  return items;
}

void ExpectSameRecords(const std::vector<ChangeRecord>& expected,
                       const std::vector<ChangeRecord>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(tidewater::testing::SameChange(expected[i], actual[i]))
        << "record " << i << ":\n"
        << expected[i].DebugString() << "vs\n"
        << actual[i].DebugString();
  }
}

class ShardLogApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    owner_ = testing::OpenTestEngine(owner_dir_.path());
    follower_ = testing::OpenTestEngine(follower_dir_.path());
    ASSERT_TRUE(owner_ && follower_);
    CreateTable(*owner_);
    CreateTable(*follower_);
  }

  // Applies every shard's log to the follower in batches of `size`, each with its position.
  void ApplyAll(size_t size) {
    for (uint32_t shard = 0; shard < kShards; ++shard) {
      const auto changes = Committed(*owner_, shard);
      for (size_t from = 0; from < changes.size(); from += size) {
        const size_t to = std::min(changes.size(), from + size);
        Status applied = follower_->ApplyCommittedChanges(
            Batch(shard, {changes.begin() + from, changes.begin() + to}, std::to_string(to)));
        ASSERT_TRUE(applied.ok()) << applied.ToString();
      }
    }
  }

  TempDir owner_dir_, follower_dir_;
  std::unique_ptr<Engine> owner_, follower_;
};

TEST_F(ShardLogApplyTest, FollowerBuildsTheOwnersItemsRecordsAndIndexes) {
  Write(*owner_);
  ApplyAll(7);

  EXPECT_EQ(Items(*follower_), Items(*owner_));
  for (uint32_t shard = 0; shard < kShards; ++shard) {
    ExpectSameRecords(Records(*owner_, shard), Records(*follower_, shard));
    auto position = follower_->LoadShardLogPosition(TableName(kTable), ShardIndex(shard));
    ASSERT_TRUE(position.ok());
    EXPECT_EQ(*position, std::to_string(Records(*owner_, shard).size()));
  }
  EXPECT_GT(testing::ExpectIndexesMatchTable(*follower_, kTable), 0u);
}

TEST_F(ShardLogApplyTest, AChangeAppliedTwiceOrMissingIsRefusedAndWritesNothing) {
  Write(*owner_);
  const auto changes = Committed(*owner_, 0);
  ASSERT_GE(changes.size(), 6u);
  const std::vector<v1::CommittedChange> first(changes.begin(), changes.begin() + 3);
  const std::vector<v1::CommittedChange> second(changes.begin() + 3, changes.begin() + 6);
  ASSERT_TRUE(follower_->ApplyCommittedChanges(Batch(0, first, "3")).ok());
  const auto items = Items(*follower_);

  Status twice = follower_->ApplyCommittedChanges(Batch(0, first, "3 again"));
  EXPECT_EQ(twice.code(), ErrorCode::kValidation) << twice.ToString();
  // A batch whose first change is new but whose last repeats one is refused whole.
  std::vector<v1::CommittedChange> overlapping(changes.begin() + 3, changes.begin() + 5);
  overlapping.push_back(changes[4]);
  EXPECT_EQ(follower_->ApplyCommittedChanges(Batch(0, overlapping, "5")).code(),
            ErrorCode::kValidation);
  // A gap: the change after the next.
  EXPECT_EQ(
      follower_->ApplyCommittedChanges(Batch(0, {second.begin() + 1, second.end()}, "6 with a gap"))
          .code(),
      ErrorCode::kValidation);

  EXPECT_EQ(Items(*follower_), items);
  EXPECT_EQ(Records(*follower_, 0).size(), 3u);
  EXPECT_EQ(*follower_->LoadShardLogPosition(TableName(kTable), ShardIndex(0)), "3");
  // The refusals left the shard where it was: the next changes still apply.
  ASSERT_TRUE(follower_->ApplyCommittedChanges(Batch(0, second, "6")).ok());
  EXPECT_EQ(Records(*follower_, 0).size(), 6u);
}

TEST_F(ShardLogApplyTest, BadChangesAreRefusedWithTheirBatch) {
  Write(*owner_);
  const auto changes = Committed(*owner_, 0);
  ASSERT_FALSE(changes.empty());
  ASSERT_FALSE(Committed(*owner_, 1).empty());

  // A change of shard 1 in shard 0's batch, after a valid one.
  std::vector<v1::CommittedChange> wrong_shard = {changes[0], Committed(*owner_, 1)[0]};
  wrong_shard[1].mutable_record()->set_sequence(2);
  EXPECT_EQ(follower_->ApplyCommittedChanges(Batch(0, wrong_shard, "x")).code(),
            ErrorCode::kValidation);
  // An INSERT without its item; a REMOVE with one; no version; an unknown event.
  v1::CommittedChange without_item = changes[0];
  without_item.clear_item();
  v1::CommittedChange remove_with_item = changes[0];
  remove_with_item.mutable_record()->set_event(v1::REMOVE);
  v1::CommittedChange no_version = changes[0];
  no_version.mutable_record()->clear_version();
  v1::CommittedChange unknown_event = changes[0];
  unknown_event.mutable_record()->set_event(static_cast<v1::EventName>(99));
  v1::CommittedChange missing_key = changes[0];
  auto* attributes = missing_key.mutable_item()->mutable_attributes()->mutable_attributes();
  attributes->erase(std::remove_if(attributes->begin(), attributes->end(),
                                   [](const v1::NamedValue& a) { return a.name() == "sk"; }),
                    attributes->end());
  for (const auto& bad : {without_item, remove_with_item, no_version, unknown_event, missing_key}) {
    EXPECT_EQ(follower_->ApplyCommittedChanges(Batch(0, {bad}, "x")).code(), ErrorCode::kValidation)
        << bad.DebugString();
  }
  // A REMOVE of an item the follower does not hold: its storage is not the log's.
  v1::CommittedChange remove = changes[0];
  remove.mutable_record()->set_event(v1::REMOVE);
  remove.clear_item();
  EXPECT_EQ(follower_->ApplyCommittedChanges(Batch(0, {remove}, "x")).code(), ErrorCode::kInternal);
  EXPECT_EQ(
      follower_->ApplyCommittedChanges({TableName("missing"), ShardIndex(0), {changes[0]}, "x"})
          .code(),
      ErrorCode::kResourceNotFound);
  EXPECT_EQ(follower_->ApplyCommittedChanges(Batch(kShards, {changes[0]}, "x")).code(),
            ErrorCode::kResourceNotFound);

  EXPECT_TRUE(Items(*follower_).empty());
  EXPECT_TRUE(Records(*follower_, 0).empty());
  EXPECT_EQ(*follower_->LoadShardLogPosition(TableName(kTable), ShardIndex(0)), std::nullopt);
}

TEST_F(ShardLogApplyTest, AppliedStateSurvivesReopenAndLocalWritesContinueTheSequences) {
  Write(*owner_);
  ApplyAll(5);
  const auto items = Items(*follower_);
  follower_.reset();
  follower_ = testing::OpenTestEngine(follower_dir_.path());
  ASSERT_TRUE(follower_);
  EXPECT_EQ(Items(*follower_), items);
  for (uint32_t shard = 0; shard < kShards; ++shard) {
    EXPECT_EQ(*follower_->LoadShardLogPosition(TableName(kTable), ShardIndex(shard)),
              std::to_string(Records(*owner_, shard).size()));
  }
  // The follower takes over: its own write continues the owner's sequence with no gap
  // and supersedes the owner's version of the item.
  const auto before = owner_->GetItem(kTable, Key(3, 3));
  ASSERT_TRUE(before.ok() && before->has_value());
  ASSERT_TRUE(follower_->PutItem(kTable, Row(3, 3, 999), {}, {}).ok());
  bool found = false;
  for (uint32_t shard = 0; shard < kShards; ++shard) {
    const auto records = Records(*follower_, shard);
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(records[i].sequence(), i + 1) << "shard " << shard;
    }
    if (!records.empty() && FromProto(records.back().keys())->at("sk") == S("s3") &&
        records.back().event() == v1::MODIFY) {
      found = true;
      const auto owner_records = Records(*owner_, shard);
      EXPECT_EQ(records.size(), owner_records.size() + 1);
      const v1::Version& owners = owner_records.back().version();
      EXPECT_GE(records.back().version().hlc_micros(), owners.hlc_micros());
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace tidewater
