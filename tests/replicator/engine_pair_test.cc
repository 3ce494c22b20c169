// TableReplicator between two engines in this process (regions us-east-1 and eu-west-1),
// through the engines' own replication operations: last-writer-wins conflicts, deletes
// that stay deleted, catch-up of a new replica while it is written to. The same flows
// run between tidewaterd processes in two_region_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/core/record_codec.h"
#include "tidewater/replicator/table_replicator.h"

namespace tidewater::replicator {
namespace {

using std::chrono::milliseconds;
constexpr char kTable[] = "orders";

// What a target's ApplyReplicationBatch answered, summed over a test.
struct ApplyCounts {
  std::atomic<uint64_t> applied{0};
  std::atomic<uint64_t> skipped{0};
  std::atomic<uint64_t> duplicates{0};
};

// ReplicationApi over an engine in this process (what tidewaterd's operations do); sums
// its applies into `counts` when given.
class EngineReplicationApi final : public ReplicationApi {
 public:
  explicit EngineReplicationApi(Engine& engine, ApplyCounts* counts = nullptr)
      : engine_(engine), counts_(counts) {}

  Result<ShardPositions> GetCheckpoints(const TableName& table,
                                        const std::string& source_region) override {
    TW_ASSIGN_OR_RETURN(auto stored, engine_.LoadReplicationCheckpoints(table, source_region));
    return ShardPositions(stored.begin(), stored.end());
  }

  Result<v1::ReplicationApplyResult> Apply(const v1::ReplicationBatch& batch) override {
    ReplicationBatch request{TableName(batch.table()),
                             batch.source_region(),
                             {batch.changes().begin(), batch.changes().end()},
                             std::nullopt};
    if (batch.has_checkpoint()) {
      request.checkpoint =
          ReplicationCheckpoint{ShardIndex(batch.checkpoint().shard()),
                                SequenceNumber(batch.checkpoint().next_sequence())};
    }
    TW_ASSIGN_OR_RETURN(ReplicationApplyResult result, engine_.ApplyReplicationBatch(request));
    if (counts_ != nullptr) {
      counts_->applied += result.applied;
      counts_->skipped += result.skipped;
      counts_->duplicates += result.duplicates;
    }
    v1::ReplicationApplyResult answer;
    answer.set_applied(result.applied);
    answer.set_skipped(result.skipped);
    answer.set_duplicates(result.duplicates);
    return answer;
  }

  Result<SnapshotPage> SnapshotScan(const TableName& table,
                                    const std::string& page_token) override {
    SnapshotScanRequest request{.table = table.value(), .limit = 100, .include_tombstones = true};
    if (!page_token.empty()) {
      v1::MapValue start;
      start.ParseFromString(page_token);
      TW_ASSIGN_OR_RETURN(request.exclusive_start_key, FromProto(start));
    }
    TW_ASSIGN_OR_RETURN(auto scanned, engine_.SnapshotScan(request));
    SnapshotPage page;
    for (const VersionedItem& versioned : scanned.items) {
      ChangeRecord& change = page.items.emplace_back();
      change.set_table(table.value());
      change.set_event(versioned.deleted ? v1::REMOVE : v1::MODIFY);
      change.set_origin_region(versioned.version.region());
      *change.mutable_version() = versioned.version;
      ToProto(Item{{"pk", versioned.item.at("pk")}}, change.mutable_keys());
      if (!versioned.deleted) ToProto(versioned.item, change.mutable_new_image());
    }
    for (size_t shard = 0; shard < scanned.shard_last_sequences.size(); ++shard) {
      page.positions[ShardIndex(static_cast<uint32_t>(shard))] =
          scanned.shard_last_sequences[shard].Next();
    }
    if (scanned.last_evaluated_key) {
      v1::MapValue key;
      ToProto(*scanned.last_evaluated_key, &key);
      page.next_page_token = key.SerializeAsString();
    }
    return page;
  }

  Result<std::string> Region(const TableName&) override { return engine_.options().region; }
  Result<uint64_t> ApproximateItemCount(const TableName& table) override {
    TW_ASSIGN_OR_RETURN(TableDescription description, engine_.DescribeTable(table.value()));
    return description.approximate_item_count;
  }
  Status ReportProgress(const v1::ReplicatorProgress&) override { return Status::Ok(); }

 private:
  Engine& engine_;
  ApplyCounts* const counts_;
};

class EnginePairTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> OpenRegion(const std::string& region) {
    EngineOptions options = testing::TestEngineOptions(dir_.Sub(region), &clock_);
    options.region = region;
    auto engine = Engine::Open(options);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    CreateTableRequest table;
    table.name = kTable;
    table.key_schema.partition_key = {"pk", AttributeType::kS};
    table.stream.enabled = true;
    EXPECT_TRUE((*engine)->CreateTable(table).ok());
    return std::move(*engine);
  }

  // The reader's source is the source engine (leases in this process); it is kept until
  // the end of the test, after the replicators.
  std::unique_ptr<TableReplicator> Replicate(Engine& source, Engine& target,
                                             ApplyCounts* counts = nullptr) {
    connectors::StreamSourceConfig config;
    config.engine = &source;
    config.lease_table = "";
    auto opened = connectors::StreamSource::Open(config);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    stream_sources_.push_back(std::move(opened).value());
    TableReplicatorOptions options;
    options.table = kTable;
    options.initial_backoff = milliseconds(5);
    options.shard_refresh_interval = milliseconds(50);
    return TableReplicator::Start(options, *stream_sources_.back(),
                                  std::make_unique<EngineReplicationApi>(source),
                                  std::make_unique<EngineReplicationApi>(target, counts));
  }

  static void Put(Engine& engine, const std::string& key, const std::string& value) {
    ASSERT_TRUE(
        engine.PutItem(kTable, {{"pk", AttributeValue::S(key)}, {"v", AttributeValue::S(value)}})
            .ok());
  }
  static void Delete(Engine& engine, const std::string& key) {
    ASSERT_TRUE(engine.DeleteItem(kTable, {{"pk", AttributeValue::S(key)}}).ok());
  }
  static std::map<std::string, std::string> Contents(Engine& engine) {
    std::map<std::string, std::string> contents;
    ScanRequest request;
    request.table = kTable;
    while (true) {
      auto page = engine.Scan(request);
      EXPECT_TRUE(page.ok());
      for (const Item& item : page->items) {
        contents[item.at("pk").s()] = item.at("v").s();
      }
      if (!page->last_evaluated_key) return contents;
      request.exclusive_start_key = page->last_evaluated_key;
    }
  }
  // Waits up to 10 s for equal contents (and equal digests); the contents.
  static std::map<std::string, std::string> Converged(Engine& a, Engine& b) {
    std::map<std::string, std::string> contents;
    const auto same = [&] {
      auto in_a = Contents(a);
      if (in_a != Contents(b)) return false;
      auto digests_a = a.ComputeDigests(kTable, 0);
      auto digests_b = b.ComputeDigests(kTable, 0);
      EXPECT_TRUE(digests_a.ok() && digests_b.ok());
      if (digests_a->size() != digests_b->size()) return false;
      for (size_t i = 0; i < digests_a->size(); ++i) {
        if ((*digests_a)[i].digest != (*digests_b)[i].digest) return false;
      }
      contents = std::move(in_a);
      return true;
    };
    EXPECT_TRUE(testing::WaitFor(same, std::chrono::seconds(10), milliseconds(20)))
        << "the regions did not converge";
    return contents;
  }

  tidewater::testing::TempDir dir_;
  // Both regions' wall time: versions (last writer wins) follow it.
  ManualClock clock_;
  std::vector<std::unique_ptr<connectors::StreamSource>> stream_sources_;
};

TEST_F(EnginePairTest, TwoWayConvergesAndTheLastWriterWins) {
  auto east = OpenRegion("us-east-1");
  auto west = OpenRegion("eu-west-1");
  // Conflicts written before replication runs: the later write must win in both.
  for (int i = 0; i < 10; ++i) {
    const std::string key = "conflict-" + std::to_string(i);
    Put(i % 2 ? *east : *west, key, "loser");
    clock_.Advance(milliseconds(2));
    Put(i % 2 ? *west : *east, key, "winner");
  }
  auto east_to_west = Replicate(*east, *west);
  auto west_to_east = Replicate(*west, *east);
  std::thread east_writer([&] {
    for (int i = 0; i < 300; ++i)
      Put(*east, "east-" + std::to_string(i % 60), "e" + std::to_string(i));
    for (int i = 0; i < 60; i += 4) Delete(*east, "east-" + std::to_string(i));
  });
  std::thread west_writer([&] {
    for (int i = 0; i < 300; ++i)
      Put(*west, "west-" + std::to_string(i % 60), "w" + std::to_string(i));
  });
  east_writer.join();
  west_writer.join();
  auto contents = Converged(*east, *west);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(contents["conflict-" + std::to_string(i)], "winner");
  for (int i = 0; i < 60; ++i) {
    const std::string key = "east-" + std::to_string(i);
    if (i % 4 == 0) {
      EXPECT_FALSE(contents.contains(key)) << key << " was deleted";
    } else {
      EXPECT_EQ(contents[key], "e" + std::to_string(240 + i));
    }
    EXPECT_EQ(contents["west-" + std::to_string(i)], "w" + std::to_string(240 + i));
  }
  EXPECT_EQ(contents.size(), 10u + 45u + 60u);
  east_to_west->Stop();
  west_to_east->Stop();
}

TEST_F(EnginePairTest, NewReplicaCatchesUpWhileTheSourceIsWritten) {
  auto east = OpenRegion("us-east-1");
  for (int i = 0; i < 450; ++i) Put(*east, "before-" + std::to_string(i), "b");
  for (int i = 0; i < 450; i += 9) Delete(*east, "before-" + std::to_string(i));
  auto south = OpenRegion("ap-south-1");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop && i < 2000; ++i) {
      Put(*east, "during-" + std::to_string(i % 300), std::to_string(i));
      if (i % 10 == 0) Put(*east, "before-" + std::to_string(i % 450), "updated");
    }
  });
  auto east_to_south = Replicate(*east, *south);
  // The writer goes on until the replica has begun to receive.
  EXPECT_TRUE(testing::WaitFor([&] { return !Contents(*south).empty(); }));
  stop = true;
  writer.join();
  auto contents = Converged(*east, *south);
  EXPECT_GE(contents.size(), 400u);
  east_to_south->Stop();
  // A restarted replicator resumes from the stored checkpoints: no second copy.
  Put(*east, "after", "restart");
  auto again = Replicate(*east, *south);
  contents = Converged(*east, *south);
  EXPECT_EQ(contents["after"], "restart");
}

// Shards of the source split while it is written and replicated: the replica receives
// every change once and each key's changes in order along the shards' lineage (a child's
// record applied before its parent's last would make that last one "not newer": skipped).
TEST_F(EnginePairTest, SplitsOnTheSourceKeepEachKeysOrderOnTheReplica) {
  auto east = OpenRegion("us-east-1");
  auto west = OpenRegion("eu-west-1");
  ApplyCounts counts;
  // One item copied by the replicator's catch-up; once it is in, the replicator follows
  // the stream, and each later change is applied from its record.
  Put(*east, "ready", "0");
  auto east_to_west = Replicate(*east, *west, &counts);
  ASSERT_TRUE(testing::WaitFor([&] { return Contents(*west).contains("ready"); }));
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      Put(*east, "k" + std::to_string(i % 50), std::to_string(i));
      if (i % 7 == 0) Delete(*east, "k" + std::to_string((i + 3) % 50));
      written = i + 1;
    }
  });
  int splits = 0;
  for (int round = 1; round <= 8; ++round) {
    // Each split lands while the writer is at a later point of its run.
    ASSERT_TRUE(testing::WaitFor([&] { return written >= round * 200; }));
    auto description = east->DescribeTable(kTable);
    ASSERT_TRUE(description.ok());
    std::vector<ShardIndex> open;
    for (const auto& shard : description->shards) {
      if (!shard.closed) open.push_back(shard.index);
    }
    ASSERT_TRUE(east->SplitShard(kTable, open[static_cast<size_t>(round) % open.size()]).ok());
    ++splits;
  }
  writer.join();
  ASSERT_EQ(splits, 8);
  auto description = east->DescribeTable(kTable);
  ASSERT_TRUE(description.ok());
  uint64_t records = 0;
  for (const auto& shard : description->shards) records += shard.last_sequence.value();
  EXPECT_TRUE(testing::WaitFor([&] { return counts.applied + counts.skipped >= records; },
                               std::chrono::seconds(20)))
      << counts.applied << " of " << records << " changes applied";
  EXPECT_EQ(Contents(*east), Contents(*west));
  EXPECT_EQ(counts.applied, records);
  EXPECT_EQ(counts.skipped, 0u) << "a change reached the replica after a newer one of its key";
  EXPECT_EQ(counts.duplicates, 0u);
  east_to_west->Stop();
}

}  // namespace
}  // namespace tidewater::replicator
