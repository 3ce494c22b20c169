// The engine side of replication: last-writer-wins apply with the checkpoint in the same
// WriteBatch, versioned tombstones, the catch-up snapshot scan and content digests.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "support/change_chain.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/record_codec.h"
#include "tidewater/core/shard_log_target.h"

namespace tidewater {
namespace {

using testing::TempDir;

constexpr int64_t kHour = 3600LL * 1'000'000;
constexpr char kTable[] = "global";

AttributeValue S(const std::string& s) { return AttributeValue::S(s); }

Item Key(const std::string& pk) { return {{"pk", S(pk)}}; }
Item Row(const std::string& pk, const std::string& data) {
  return {{"pk", S(pk)}, {"data", S(data)}};
}

v1::Version Version(uint64_t hlc, const std::string& region) {
  v1::Version version;
  version.set_hlc_micros(hlc);
  version.set_region(region);
  return version;
}

// A change as a source region's log would carry it (shard and sequence 0: not from a log).
ChangeRecord PutChange(const Item& item, uint64_t hlc, const std::string& region) {
  ChangeRecord change;
  change.set_table(kTable);
  change.set_event(v1::INSERT);
  Item key = {{"pk", item.at("pk")}};
  ToProto(key, change.mutable_keys());
  ToProto(item, change.mutable_new_image());
  *change.mutable_version() = Version(hlc, region);
  change.set_origin_region(region);
  return change;
}

ChangeRecord RemoveChange(const std::string& pk, uint64_t hlc, const std::string& region) {
  ChangeRecord change;
  change.set_table(kTable);
  change.set_event(v1::REMOVE);
  ToProto(Key(pk), change.mutable_keys());
  *change.mutable_version() = Version(hlc, region);
  change.set_origin_region(region);
  return change;
}

ChangeRecord FromLog(ChangeRecord change, uint32_t shard, uint64_t sequence) {
  change.set_shard(shard);
  change.set_sequence(sequence);
  return change;
}

std::unique_ptr<Engine> OpenEngine(const std::string& dir, const std::string& region,
                                   Clock* clock) {
  EngineOptions options = testing::TestEngineOptions(dir, clock);
  options.region = region;
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(*engine) : nullptr;
}

void CreateGlobalTable(Engine& engine, uint32_t shards) {
  CreateTableRequest request;
  request.name = kTable;
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = shards;
  auto created = engine.CreateTable(request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
}

std::vector<ChangeRecord> AllRecords(Engine& engine) {
  std::vector<ChangeRecord> records;
  auto description = engine.DescribeTable(kTable);
  EXPECT_TRUE(description.ok());
  for (const auto& shard : description->shards) {
    auto read = engine.ReadShard({TableName(kTable), shard.index, SequenceNumber(1), 100000});
    EXPECT_TRUE(read.ok());
    for (auto& record : read->records) records.push_back(std::move(record));
  }
  return records;
}

std::vector<Item> AllItems(Engine& engine) {
  auto page = engine.Scan({kTable});
  EXPECT_TRUE(page.ok());
  return page.ok() ? page->items : std::vector<Item>{};
}

// The stored version of `pk` (tombstones included), from the snapshot scan.
std::optional<VersionedItem> Stored(Engine& engine, const std::string& pk) {
  SnapshotScanRequest request;
  request.table = kTable;
  request.include_tombstones = true;
  request.limit = 100000;
  auto page = engine.SnapshotScan(request);
  EXPECT_TRUE(page.ok());
  for (auto& entry : page->items) {
    if (entry.item.at("pk") == S(pk)) return entry;
  }
  return std::nullopt;
}

class ReplicationApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = OpenEngine(dir_.path(), "eu-test-1", &clock_);
    ASSERT_NE(engine_, nullptr);
    CreateGlobalTable(*engine_, 4);
  }

  Result<ReplicationApplyResult> Apply(std::vector<ChangeRecord> changes,
                                       std::optional<ReplicationCheckpoint> checkpoint = {},
                                       const std::string& source = "us-test-1") {
    return engine_->ApplyReplicationBatch(
        {TableName(kTable), source, std::move(changes), checkpoint});
  }

  std::optional<Item> Get(const std::string& pk) {
    auto item = engine_->GetItem(kTable, Key(pk));
    EXPECT_TRUE(item.ok()) << item.status().ToString();
    return item.ok() ? *item : std::nullopt;
  }

  int64_t Now() const { return clock_.NowMicros(); }
  uint64_t Later(int64_t micros) const { return static_cast<uint64_t>(Now() + micros); }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(ReplicationApplyTest, LastWriterWinsWithTiesBrokenByRegion) {
  const uint64_t t = Later(1000);
  struct Step {
    ChangeRecord change;
    bool applied;
    std::string expected_data;
  };
  const Step steps[] = {
      {PutChange(Row("k", "first"), t, "us-test-1"), true, "first"},
      {PutChange(Row("k", "older"), t - 1, "zz-test-9"), false, "first"},
      // Same timestamp: the larger region id wins, the smaller loses.
      {PutChange(Row("k", "tie-larger-region"), t, "zz-test-9"), true, "tie-larger-region"},
      {PutChange(Row("k", "tie-smaller-region"), t, "aa-test-0"), false, "tie-larger-region"},
      {PutChange(Row("k", "same-version-again"), t, "zz-test-9"), false, "tie-larger-region"},
      {PutChange(Row("k", "newer"), t + 1, "aa-test-0"), true, "newer"},
  };
  for (const Step& step : steps) {
    auto result = Apply({step.change});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->applied, step.applied ? 1u : 0u) << step.expected_data;
    EXPECT_EQ(result->skipped, step.applied ? 0u : 1u) << step.expected_data;
    EXPECT_EQ(Get("k"), Row("k", step.expected_data));
  }
}

TEST_F(ReplicationApplyTest, AppliedChangesAreLoggedWithOriginRegionVersionAndProvenance) {
  const uint64_t t = Later(10);
  ASSERT_TRUE(
      Apply({PutChange(Row("a", "1"), t, "us-test-1"), PutChange(Row("a", "2"), t + 1, "ap-test-2"),
             RemoveChange("a", t + 2, "us-test-1"), PutChange(Row("b", "x"), t, "us-test-1")})
          .ok());
  auto records = AllRecords(*engine_);
  ASSERT_EQ(records.size(), 4u);
  std::map<std::string, std::vector<ChangeRecord>> by_key;
  for (auto& record : records) by_key[record.keys().attributes(0).value().s()].push_back(record);
  ASSERT_EQ(by_key["a"].size(), 3u);
  const v1::EventName events[] = {v1::INSERT, v1::MODIFY, v1::REMOVE};
  const char* origins[] = {"us-test-1", "ap-test-2", "us-test-1"};
  for (size_t i = 0; i < 3; ++i) {
    const ChangeRecord& record = by_key["a"][i];
    EXPECT_EQ(record.event(), events[i]);
    EXPECT_EQ(record.provenance(), v1::REPLICATION);
    EXPECT_EQ(record.origin_region(), origins[i]);
    EXPECT_EQ(record.version().hlc_micros(), t + i);
    EXPECT_EQ(record.version().region(), origins[i]);
  }
  EXPECT_TRUE(by_key["a"][1].has_old_image());
  EXPECT_EQ(by_key["b"][0].origin_region(), "us-test-1");
}

TEST_F(ReplicationApplyTest, ReplayingABatchChangesNothing) {
  const uint64_t t = Later(10);
  std::vector<ChangeRecord> changes = {FromLog(PutChange(Row("a", "1"), t, "us-test-1"), 2, 5),
                                       FromLog(PutChange(Row("b", "1"), t + 1, "us-test-1"), 2, 6),
                                       FromLog(RemoveChange("a", t + 2, "us-test-1"), 2, 8)};
  auto first = Apply(changes, ReplicationCheckpoint{ShardIndex(2), SequenceNumber(9)});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->applied, 3u);
  EXPECT_EQ(first->checkpoint_next_sequence, SequenceNumber(9));
  const auto items = AllItems(*engine_);
  const auto records = AllRecords(*engine_);

  auto again = Apply(changes, ReplicationCheckpoint{ShardIndex(2), SequenceNumber(9)});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->applied, 0u);
  EXPECT_EQ(again->duplicates, 3u);
  EXPECT_EQ(AllItems(*engine_), items);
  EXPECT_EQ(AllRecords(*engine_).size(), records.size());
  EXPECT_EQ(*engine_->LoadReplicationCheckpoints(TableName(kTable), "us-test-1"),
            (std::map<ShardIndex, SequenceNumber>{{ShardIndex(2), SequenceNumber(9)}}));

  // A batch overlapping the stored checkpoint applies only what lies beyond it.
  changes.push_back(FromLog(PutChange(Row("c", "1"), t + 3, "us-test-1"), 2, 9));
  auto overlapping = Apply(changes, ReplicationCheckpoint{ShardIndex(2), SequenceNumber(10)});
  ASSERT_TRUE(overlapping.ok());
  EXPECT_EQ(overlapping->duplicates, 3u);
  EXPECT_EQ(overlapping->applied, 1u);
  EXPECT_EQ(AllRecords(*engine_).size(), records.size() + 1);
  EXPECT_EQ(engine_->LoadReplicationCheckpoints(TableName(kTable), "us-test-1")->at(ShardIndex(2)),
            SequenceNumber(10));

  // An older checkpoint never moves the stored one back.
  auto stale = Apply({}, ReplicationCheckpoint{ShardIndex(2), SequenceNumber(4)});
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->checkpoint_next_sequence, SequenceNumber(10));
  EXPECT_EQ(engine_->LoadReplicationCheckpoints(TableName(kTable), "us-test-1")->at(ShardIndex(2)),
            SequenceNumber(10));
  // Checkpoints are per source region.
  EXPECT_TRUE(engine_->LoadReplicationCheckpoints(TableName(kTable), "ap-test-2")->empty());
}

TEST_F(ReplicationApplyTest, AnInvalidBatchWritesNeitherChangesNorCheckpoint) {
  const uint64_t t = Later(10);
  ChangeRecord no_image = FromLog(PutChange(Row("b", "1"), t, "us-test-1"), 0, 2);
  no_image.clear_new_image();
  ChangeRecord no_version = FromLog(PutChange(Row("b", "1"), t, "us-test-1"), 0, 2);
  no_version.clear_version();
  ChangeRecord bad_key =
      FromLog(PutChange({{"pk", AttributeValue::N(*Number::Parse("1"))}}, t, "us-test-1"), 0, 2);
  const ChangeRecord good = FromLog(PutChange(Row("a", "1"), t, "us-test-1"), 0, 1);
  const std::vector<std::pair<std::string, std::vector<ChangeRecord>>> cases = {
      {"no new image", {good, no_image}},
      {"no version", {good, no_version}},
      {"wrong key type", {good, bad_key}},
      {"other shard", {good, FromLog(PutChange(Row("b", "1"), t, "us-test-1"), 1, 2)}},
      {"out of order", {FromLog(good, 0, 2), FromLog(good, 0, 1)}},
      {"not below checkpoint", {FromLog(good, 0, 3)}},
  };
  for (const auto& [name, changes] : cases) {
    auto result = Apply(changes, ReplicationCheckpoint{ShardIndex(0), SequenceNumber(3)});
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.status().code(), ErrorCode::kValidation) << name;
  }
  EXPECT_TRUE(AllItems(*engine_).empty());
  EXPECT_TRUE(AllRecords(*engine_).empty());
  EXPECT_TRUE(engine_->LoadReplicationCheckpoints(TableName(kTable), "us-test-1")->empty());
  EXPECT_EQ(Apply({good}, ReplicationCheckpoint{ShardIndex(0), SequenceNumber(3)}, "bad/region")
                .status()
                .code(),
            ErrorCode::kValidation);
}

TEST_F(ReplicationApplyTest, TombstonePreventsResurrectionUntilItExpires) {
  const uint64_t t = Later(10);
  ASSERT_TRUE(Apply({PutChange(Row("k", "v1"), t, "us-test-1")}).ok());
  ASSERT_TRUE(Apply({RemoveChange("k", t + 10, "us-test-1")}).ok());
  EXPECT_EQ(Get("k"), std::nullopt);

  // A late update older than the delete does not bring the item back.
  auto late = Apply({PutChange(Row("k", "late"), t + 5, "ap-test-2")});
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->skipped, 1u);
  EXPECT_EQ(Get("k"), std::nullopt);
  EXPECT_TRUE(AllItems(*engine_).empty());
  auto tombstone = Stored(*engine_, "k");
  ASSERT_TRUE(tombstone);
  EXPECT_TRUE(tombstone->deleted);
  EXPECT_EQ(tombstone->version.hlc_micros(), t + 10);

  // Within the window the tombstone stays; after it, the purge removes it.
  clock_.AdvanceMicros(24 * kHour - 1);
  EXPECT_EQ(*engine_->PurgeTombstones(), 0u);
  clock_.AdvanceMicros(1);
  EXPECT_EQ(*engine_->PurgeTombstones(), 1u);
  EXPECT_FALSE(Stored(*engine_, "k"));
  // With the tombstone gone, a (very) late older write is indistinguishable from a new one.
  ASSERT_EQ(Apply({PutChange(Row("k", "very-late"), t + 5, "ap-test-2")})->applied, 1u);
  EXPECT_EQ(Get("k"), Row("k", "very-late"));
}

TEST_F(ReplicationApplyTest, NewerPutAfterDeleteWins) {
  const uint64_t t = Later(10);
  ASSERT_TRUE(
      Apply({PutChange(Row("k", "v1"), t, "us-test-1"), RemoveChange("k", t + 1, "us-test-1")})
          .ok());
  auto newer = Apply({PutChange(Row("k", "v2"), t + 2, "ap-test-2")});
  ASSERT_TRUE(newer.ok());
  EXPECT_EQ(newer->applied, 1u);
  EXPECT_EQ(Get("k"), Row("k", "v2"));
  // The tombstone's index entry outlives it harmlessly.
  clock_.AdvanceMicros(25 * kHour);
  EXPECT_EQ(*engine_->PurgeTombstones(), 0u);
  EXPECT_EQ(Get("k"), Row("k", "v2"));
}

TEST_F(ReplicationApplyTest, LocalDeleteLeavesAnInvisibleTombstoneAndLocalPutStillWorks) {
  ASSERT_TRUE(engine_->PutItem(kTable, Row("k", "v1")).ok());
  ASSERT_TRUE(engine_->DeleteItem(kTable, Key("k")).ok());
  auto tombstone = Stored(*engine_, "k");
  ASSERT_TRUE(tombstone);
  EXPECT_TRUE(tombstone->deleted);
  EXPECT_EQ(tombstone->version.region(), "eu-test-1");
  EXPECT_EQ(Get("k"), std::nullopt);
  EXPECT_TRUE(AllItems(*engine_).empty());
  QueryRequest query;
  query.table = kTable;
  query.partition_key = S("k");
  EXPECT_TRUE(engine_->Query(query)->items.empty());
  // Deleting again changes nothing; a replicated older put does not resurrect it.
  const size_t records = AllRecords(*engine_).size();
  auto again = engine_->DeleteItem(kTable, Key("k"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->old_item);
  EXPECT_EQ(AllRecords(*engine_).size(), records);
  EXPECT_EQ(Apply({PutChange(Row("k", "old"), tombstone->version.hlc_micros() - 1, "zz-test-9")})
                ->skipped,
            1u);

  auto put = engine_->PutItem(kTable, Row("k", "v2"));
  ASSERT_TRUE(put.ok());
  EXPECT_FALSE(put->old_item);
  EXPECT_EQ(Get("k"), Row("k", "v2"));
  auto log = AllRecords(*engine_);
  EXPECT_EQ(log.back().event(), v1::INSERT);
  EXPECT_GT(Stored(*engine_, "k")->version.hlc_micros(), tombstone->version.hlc_micros());
}

TEST_F(ReplicationApplyTest, LocalWritesAfterANewerReplicatedVersionStampAHigherVersion) {
  // The other region's clock runs an hour ahead of ours.
  const uint64_t ahead = Later(kHour);
  ASSERT_TRUE(Apply({PutChange(Row("a", "remote"), ahead, "us-test-1"),
                     PutChange(Row("b", "remote"), ahead, "us-test-1"),
                     RemoveChange("b", ahead + 1, "us-test-1")})
                  .ok());
  ASSERT_TRUE(engine_->PutItem(kTable, Row("a", "local")).ok());
  ASSERT_TRUE(engine_->PutItem(kTable, Row("b", "local")).ok());
  ASSERT_TRUE(engine_->PutItem(kTable, Row("c", "local")).ok());
  for (const std::string pk : {"a", "b", "c"}) {
    auto stored = Stored(*engine_, pk);
    ASSERT_TRUE(stored) << pk;
    EXPECT_FALSE(stored->deleted);
    EXPECT_EQ(stored->version.region(), "eu-test-1");
    // Above the replicated versions: another region applying this write lets it win.
    EXPECT_GT(stored->version.hlc_micros(), ahead + 1) << pk;
  }
  EXPECT_EQ(Get("b"), Row("b", "local"));

  // After a restart the item's own version (or tombstone) still bounds the next one.
  engine_.reset();
  engine_ = OpenEngine(dir_.path(), "eu-test-1", &clock_);
  ASSERT_TRUE(Apply({RemoveChange("a", ahead + 100, "us-test-1")}).ok());
  engine_.reset();
  engine_ = OpenEngine(dir_.path(), "eu-test-1", &clock_);
  ASSERT_TRUE(engine_->PutItem(kTable, Row("a", "after-restart")).ok());
  EXPECT_GT(Stored(*engine_, "a")->version.hlc_micros(), ahead + 100);
}

TEST_F(ReplicationApplyTest, ChangesOfOneSourceShardMaySpreadOverTargetShards) {
  const uint64_t t = Later(10);
  std::vector<ChangeRecord> changes;
  for (int i = 0; i < 50; ++i) {
    changes.push_back(FromLog(PutChange(Row("k" + std::to_string(i), "v"), t + i, "us-test-1"), 0,
                              static_cast<uint64_t>(i + 1)));
  }
  auto result = Apply(changes, ReplicationCheckpoint{ShardIndex(0), SequenceNumber(51)});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->applied, 50u);
  EXPECT_EQ(AllItems(*engine_).size(), 50u);
  std::set<uint32_t> shards;
  for (const auto& record : AllRecords(*engine_)) shards.insert(record.shard());
  EXPECT_EQ(shards.size(), 4u);
}

// Cluster mode's admission without Kafka: a replicated log that serves shard 0 only (until
// told to serve all) and keeps nothing, each commit being "in its log" at once.
class ShardZeroLog final : public ReplicatedCommitLog {
 public:
  Status Append(std::vector<ShardCommit> commits, std::vector<std::string>& positions) override {
    appended += commits.size();
    positions.assign(commits.size(), std::string());
    return Status::Ok();
  }
  Status Admit(const TableName& table, ShardIndex shard) override {
    if (serve_all || shard.value() == 0) return Status::Ok();
    return Status::Unavailable(table.value() + " shard " + std::to_string(shard.value()) +
                               " is served by another node");
  }
  Status AdmitRead(const TableName&, ShardIndex) override { return Status::Ok(); }
  Status OpenTable(ShardLogTarget&, const TableName&, uint64_t, uint32_t) override {
    return Status::Ok();
  }
  void CloseTable(const TableName&) override {}
  void MarkForRecovery(const TableName&, ShardIndex) override {}
  Status Recover(ShardLogTarget&) override { return Status::Ok(); }
  Status Health() override { return Status::Ok(); }

  std::atomic<bool> serve_all{false};
  std::atomic<size_t> appended{0};
};

// A replicator's batch reaching a cluster node is admitted shard by shard, like a user's
// write: one shard served elsewhere refuses the whole batch (ServiceUnavailable, which the
// replicator retries) before anything is appended, applied or checkpointed.
TEST(ReplicationClusterModeTest, ABatchTouchingAShardServedElsewhereIsRefusedWhole) {
  TempDir dir;
  ManualClock clock;
  ShardZeroLog log;
  EngineOptions options = testing::TestEngineOptions(dir.path(), &clock);
  options.region = "eu-test-1";
  options.replicated_log = &log;
  auto opened = Engine::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Engine& engine = **opened;
  CreateGlobalTable(engine, 2);

  const uint64_t t = static_cast<uint64_t>(clock.NowMicros() + 10);
  std::vector<ChangeRecord> changes;
  for (int i = 0; i < 20; ++i) {  // over both shards (all 20 in one: odds 2^-19)
    changes.push_back(FromLog(PutChange(Row("k" + std::to_string(i), "v"), t + i, "us-test-1"), 0,
                              static_cast<uint64_t>(i + 1)));
  }
  const ReplicationBatch batch{TableName(kTable), "us-test-1", changes,
                               ReplicationCheckpoint{ShardIndex(0), SequenceNumber(21)}};
  auto refused = engine.ApplyReplicationBatch(batch);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kServiceUnavailable) << refused.status().ToString();
  EXPECT_EQ(log.appended.load(), 0u);
  EXPECT_TRUE(AllItems(engine).empty());
  EXPECT_TRUE(engine.LoadReplicationCheckpoints(TableName(kTable), "us-test-1")->empty());

  log.serve_all = true;  // the retry, once this node serves both shards
  auto applied = engine.ApplyReplicationBatch(batch);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->applied, 20u);
  EXPECT_EQ(AllItems(engine).size(), 20u);
}

// Replication and local writers on the same keys, with group commit (fsync): the log stays
// one gapless, per-item chain in commit order and the contents match its ends.
TEST(ReplicationConcurrencyTest, ApplyAndLocalWritesKeepTheLogExactUnderGroupCommit) {
  TempDir dir;
  ManualClock clock;
  EngineOptions options = testing::TestEngineOptions(dir.path(), &clock);
  options.region = "eu-test-1";
  options.sync = true;
  auto opened = Engine::Open(options);
  ASSERT_TRUE(opened.ok());
  Engine& engine = **opened;
  CreateGlobalTable(engine, 4);
  const auto row = [](int key, const std::string& token) {
    Item item = Row("k" + std::to_string(key), "v");
    item["tok"] = S(token);
    return item;
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 150; ++i) {
        const int key = (i * 7 + w) % 16;
        Status s =
            i % 6 == 5
                ? engine.DeleteItem(kTable, Key("k" + std::to_string(key))).status()
                : engine
                      .PutItem(kTable, row(key, "L" + std::to_string(w) + "-" + std::to_string(i)))
                      .status();
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
    });
  }
  size_t applied = 0;
  threads.emplace_back([&] {
    const uint64_t base = static_cast<uint64_t>(clock.NowMicros());
    uint64_t sequence = 0;
    for (int i = 0; i < 100; ++i) {
      std::vector<ChangeRecord> changes;
      for (int j = 0; j < 3; ++j) {
        const int key = (i * 5 + j) % 16;
        // Some far newer than any local write, some older: both outcomes happen.
        const uint64_t hlc = (i + j) % 3 == 0 ? base - 1000 + i : base + 1000 * (i + 1) + j;
        ChangeRecord change =
            j == 2 && i % 4 == 0
                ? RemoveChange("k" + std::to_string(key), hlc, "us-test-1")
                : PutChange(row(key, "R-" + std::to_string(i) + "-" + std::to_string(j)), hlc,
                            "us-test-1");
        changes.push_back(FromLog(std::move(change), 1, ++sequence));
      }
      auto result = engine.ApplyReplicationBatch(
          {TableName(kTable), "us-test-1", changes,
           ReplicationCheckpoint{ShardIndex(1), SequenceNumber(sequence + 1)}});
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      applied += result->applied;
    }
  });
  for (auto& thread : threads) thread.join();
  EXPECT_GT(applied, 0u);
  EXPECT_LT(applied, 300u);

  const testing::ChainSummary summary = testing::CheckChains(engine, kTable);
  testing::ExpectContentsMatchChains(engine, kTable, summary);
  EXPECT_EQ(engine.LoadReplicationCheckpoints(TableName(kTable), "us-test-1")->at(ShardIndex(1)),
            SequenceNumber(301));
  size_t replicated = 0;
  for (const auto& record : AllRecords(engine)) {
    if (record.provenance() == v1::REPLICATION) ++replicated;
  }
  EXPECT_GT(replicated, 0u);
}

// Converts a snapshot entry into the change a replicator applies for it.
ChangeRecord FromSnapshot(const VersionedItem& entry) {
  ChangeRecord change = entry.deleted
                            ? RemoveChange(entry.item.at("pk").s(), 1, entry.version.region())
                            : PutChange(entry.item, 1, entry.version.region());
  *change.mutable_version() = entry.version;
  return change;
}

TEST(ReplicationCatchUpTest, SnapshotThenLogFromItsPositionsLosesNothingUnderConcurrentWrites) {
  TempDir dir;
  ManualClock clock;
  auto source = OpenEngine(dir.Sub("source"), "us-test-1", &clock);
  auto target = OpenEngine(dir.Sub("target"), "eu-test-1", &clock);
  ASSERT_TRUE(source && target);
  CreateGlobalTable(*source, 4);
  CreateGlobalTable(*target, 3);  // the shard counts need not match
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(source->PutItem(kTable, Row("pre" + std::to_string(i), "v0")).ok());
  }

  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  // Every write touches a key no other write touches, so a lost record cannot be hidden by
  // a later write of the same key.
  std::thread writer([&] {
    for (int i = 0; !stop.load() || i < 300; ++i) {
      const bool pre = i % 5 == 0 && i / 5 < 200;
      const std::string pk = pre ? "pre" + std::to_string(i / 5) : "new" + std::to_string(i);
      Status s = pre && i % 10 == 0
                     ? source->DeleteItem(kTable, Key(pk)).status()
                     : source->PutItem(kTable, Row(pk, "w" + std::to_string(i))).status();
      ASSERT_TRUE(s.ok()) << s.ToString();
      acked.fetch_add(1);
    }
  });

  // Copy the snapshot page by page while the writer runs.
  SnapshotScanRequest request;
  request.table = kTable;
  request.limit = 7;
  request.include_tombstones = true;
  std::vector<SequenceNumber> positions;
  size_t pages = 0;
  while (true) {
    auto page = source->SnapshotScan(request);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (pages++ == 0) {
      positions = page->shard_last_sequences;
    } else {
      EXPECT_TRUE(page->shard_last_sequences.empty());
    }
    std::vector<ChangeRecord> changes;
    for (const auto& entry : page->items) changes.push_back(FromSnapshot(entry));
    ASSERT_TRUE(
        target->ApplyReplicationBatch({TableName(kTable), "us-test-1", changes, std::nullopt})
            .ok());
    if (!page->last_evaluated_key) break;
    request.exclusive_start_key = page->last_evaluated_key;
  }
  stop = true;
  writer.join();
  ASSERT_EQ(positions.size(), 4u);
  EXPECT_GT(pages, 10u);
  EXPECT_GT(acked.load(), 0);

  // Follow each shard's log from its position, with checkpoints.
  for (uint32_t index = 0; index < 4; ++index) {
    const ShardIndex shard(index);
    SequenceNumber next = positions[index].Next();
    while (true) {
      auto read =
          source->ReadShard({TableName(kTable), ShardIndex(shard), SequenceNumber(next), 50});
      ASSERT_TRUE(read.ok());
      if (read->records.empty()) break;
      ASSERT_EQ(SequenceNumber(read->records.front().sequence()), next);
      ReplicationBatch batch{TableName(kTable), "us-test-1", read->records,
                             ReplicationCheckpoint{shard, read->next_sequence}};
      ASSERT_TRUE(target->ApplyReplicationBatch(batch).ok());
      next = read->next_sequence;
    }
  }
  EXPECT_EQ(AllItems(*target), AllItems(*source));
  auto source_digests = source->ComputeDigests(kTable, 4);
  auto target_digests = target->ComputeDigests(kTable, 4);
  ASSERT_TRUE(source_digests.ok() && target_digests.ok());
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*source_digests)[i].digest, (*target_digests)[i].digest);
    EXPECT_EQ((*source_digests)[i].item_count, (*target_digests)[i].item_count);
  }
}

TEST(ReplicationDigestTest, EqualContentsGiveEqualDigestsAndADifferingItemIsListed) {
  TempDir dir;
  ManualClock clock;
  auto a = OpenEngine(dir.Sub("a"), "us-test-1", &clock);
  auto b = OpenEngine(dir.Sub("b"), "eu-test-1", &clock);
  ASSERT_TRUE(a && b);
  CreateGlobalTable(*a, 4);
  CreateGlobalTable(*b, 2);
  // Written independently: in opposite orders, with set members in another order, with
  // overwrites, and a tombstone that counts for nothing.
  const auto row = [](int i, std::vector<std::string> tags) {
    Item item = Row("k" + std::to_string(i), "v");
    item["tags"] = AttributeValue::SS(std::move(tags));
    return item;
  };
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(a->PutItem(kTable, row(i, {"x", "y", "z"})).ok());
    ASSERT_TRUE(b->PutItem(kTable, Row("k" + std::to_string(99 - i), "first")).ok());
    ASSERT_TRUE(b->PutItem(kTable, row(99 - i, {"z", "x", "y"})).ok());
  }
  ASSERT_TRUE(b->PutItem(kTable, Row("gone", "v")).ok());
  ASSERT_TRUE(b->DeleteItem(kTable, Key("gone")).ok());

  const auto digests = [](Engine& engine, uint32_t ranges) {
    auto result = engine.ComputeDigests(kTable, ranges);
    EXPECT_TRUE(result.ok());
    return *result;
  };
  for (uint32_t ranges : {1u, 4u, 16u}) {
    auto da = digests(*a, ranges);
    auto db = digests(*b, ranges);
    ASSERT_EQ(da.size(), ranges);
    for (uint32_t i = 0; i < ranges; ++i) {
      EXPECT_EQ(da[i].digest, db[i].digest) << ranges << "/" << i;
      EXPECT_EQ(da[i].item_count, db[i].item_count);
      EXPECT_EQ(da[i].digest.size(), 16u);
    }
  }
  EXPECT_EQ(digests(*a, 0).size(), 4u);  // default: the table's shard count

  // One item differs in one attribute: exactly one range's digest differs, and listing that
  // range in both regions shows the key.
  ASSERT_TRUE(b->PutItem(kTable, Row("k42", "changed")).ok());
  auto da = digests(*a, 8);
  auto db = digests(*b, 8);
  std::vector<uint32_t> differing;
  for (uint32_t i = 0; i < 8; ++i) {
    if (da[i].digest != db[i].digest) differing.push_back(i);
  }
  ASSERT_EQ(differing.size(), 1u);
  const auto list = [&](Engine& engine) {
    std::map<std::string, std::string> entries;
    RangeEntriesRequest request{kTable, 8, differing[0], std::nullopt, 3};
    while (true) {
      auto page = engine.ListRangeEntries(request);
      EXPECT_TRUE(page.ok());
      for (const auto& entry : page->entries) entries[entry.key.at("pk").s()] = entry.hash;
      if (!page->last_evaluated_key) break;
      request.exclusive_start_key = page->last_evaluated_key;
    }
    return entries;
  };
  auto la = list(*a);
  auto lb = list(*b);
  ASSERT_EQ(la.size(), lb.size());
  std::vector<std::string> keys_differing;
  for (const auto& [key, hash] : la) {
    if (lb.at(key) != hash) keys_differing.push_back(key);
  }
  EXPECT_EQ(keys_differing, std::vector<std::string>{"k42"});
}

}  // namespace
}  // namespace tidewater
