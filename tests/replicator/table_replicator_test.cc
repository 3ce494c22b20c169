// TableReplicator against an in-memory source stream (read through the StreamSource's
// change_sources) and an in-memory target that applies
// batches as the engine does (last writer wins, checkpoint with the changes): filtering by
// origin, positions, retries, restarts, catch-up and shard lineage.
#include "tidewater/replicator/table_replicator.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace tidewater::replicator {
namespace {

using std::chrono::milliseconds;

constexpr char kTable[] = "orders";
constexpr char kSource[] = "us-east-1";
constexpr char kOther[] = "eu-west-1";

// A put of item {pk: key} with version (hlc, origin).
ChangeRecord Put(const std::string& key, uint64_t hlc, const std::string& origin) {
  ChangeRecord record;
  record.set_table(kTable);
  record.set_event(v1::MODIFY);
  v1::NamedValue* pk = record.mutable_keys()->add_attributes();
  pk->set_name("pk");
  pk->mutable_value()->set_s(key);
  *record.mutable_new_image() = record.keys();
  record.set_origin_region(origin);
  record.mutable_version()->set_hlc_micros(hlc);
  record.mutable_version()->set_region(origin);
  record.set_approximate_creation_time_micros(static_cast<int64_t>(hlc));
  return record;
}

std::string KeyOf(const ChangeRecord& record) { return record.keys().attributes(0).value().s(); }

// Positions as the test writes them: shard index -> next sequence.
using RawPositions = std::map<uint32_t, uint64_t>;

ShardPositions Typed(const RawPositions& raw) {
  ShardPositions positions;
  for (const auto& [shard, next] : raw) positions[ShardIndex(shard)] = SequenceNumber(next);
  return positions;
}

// The source region's stream: shards of records, appended by the test.
class FakeSource final : public streams::ChangeSource {
 public:
  struct Shard {
    std::vector<ChangeRecord> records;  // records[i] has sequence i + 1
    std::optional<uint32_t> parent;
    bool closed = false;
  };

  explicit FakeSource(uint32_t shards) : shards_(shards) {}

  void Append(uint32_t shard, ChangeRecord record) {
    std::lock_guard lock(mu_);
    record.set_shard(shard);
    record.set_sequence(shards_[shard].records.size() + 1);
    shards_[shard].records.push_back(std::move(record));
    cv_.notify_all();
  }
  void SetLineage(uint32_t shard, std::optional<uint32_t> parent, bool closed) {
    std::lock_guard lock(mu_);
    shards_[shard].parent = parent;
    shards_[shard].closed = closed;
  }

  Result<std::vector<streams::SourceShard>> ListShards() override {
    std::lock_guard lock(mu_);
    std::vector<streams::SourceShard> shards;
    for (uint32_t i = 0; i < shards_.size(); ++i) {
      std::optional<ShardIndex> parent;
      if (shards_[i].parent) parent = ShardIndex(*shards_[i].parent);
      shards.push_back({.index = ShardIndex(i),
                        .parent = parent,
                        .closed = shards_[i].closed,
                        .first_sequence = SequenceNumber(shards_[i].records.empty() ? 0u : 1u),
                        .last_sequence = SequenceNumber(shards_[i].records.size())});
    }
    return shards;
  }

  Result<streams::ChangeBatch> Read(ShardIndex shard_index, SequenceNumber from, size_t max_records,
                                    milliseconds wait) override {
    const uint32_t shard = shard_index.value();
    const uint64_t from_sequence = from.value();
    std::unique_lock lock(mu_);
    read_from_[shard] = std::max(read_from_[shard], from_sequence);
    cv_.notify_all();
    const Shard& s = shards_[shard];
    cv_.wait_for(lock, wait, [&] { return s.records.size() >= from_sequence; });
    streams::ChangeBatch batch;
    for (uint64_t seq = from_sequence;
         seq <= s.records.size() && batch.records.size() < max_records; ++seq) {
      batch.records.push_back(s.records[seq - 1]);
    }
    batch.next_sequence = SequenceNumber(from_sequence + batch.records.size());
    batch.end_of_shard = s.closed && batch.next_sequence > SequenceNumber(s.records.size());
    return batch;
  }

  // The replicator always starts at the trim horizon; a linear search serves the contract.
  Result<streams::TimePosition> PositionAtTime(ShardIndex shard, int64_t time_micros) override {
    std::lock_guard lock(mu_);
    const std::vector<ChangeRecord>& records = shards_[shard.value()].records;
    for (const ChangeRecord& record : records) {
      if (record.approximate_creation_time_micros() >= time_micros) {
        return streams::TimePosition{.sequence = SequenceNumber(record.sequence()),
                                     .at_trim_horizon = record.sequence() == 1};
      }
    }
    return streams::TimePosition{.sequence = SequenceNumber(records.size() + 1)};
  }

  // Waits until `shard` was read from `sequence` on (the records before it were handled);
  // false after 5 s.
  bool WaitForReadFrom(uint32_t shard, uint64_t sequence) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5),
                        [&] { return read_from_[shard] >= sequence; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Shard> shards_;
  std::map<uint32_t, uint64_t> read_from_;  // the highest from_sequence read per shard
};

// A region's replication API in memory: Apply as the engine's contract says (last writer
// wins per key, the checkpoint stored with the changes), failures on demand, and a
// snapshot made of fixed pages.
class FakeRegion {
 public:
  struct Applied {
    ChangeRecord record;
    int times = 0;
  };

  Result<ShardPositions> GetCheckpoints(const TableName& table, const std::string& region) {
    std::lock_guard lock(mu_);
    EXPECT_EQ(table, TableName(kTable));
    EXPECT_EQ(region, kSource);
    if (down_) return Status::Internal("region down");
    return Typed(checkpoints_);
  }

  Result<v1::ReplicationApplyResult> Apply(const v1::ReplicationBatch& batch) {
    std::lock_guard lock(mu_);
    ++apply_calls_;
    if (down_ || failures_ > 0) {
      if (failures_ > 0) --failures_;
      return Status::Internal("injected failure");
    }
    EXPECT_EQ(batch.source_region(), kSource);
    v1::ReplicationApplyResult result;
    for (const ChangeRecord& change : batch.changes()) {
      ++applied_times_[{change.shard(), change.sequence()}];
      apply_order_.push_back(change.shard());
      auto [it, inserted] = items_.try_emplace(KeyOf(change), change);
      const auto& held = it->second.version();
      const auto& incoming = change.version();
      if (inserted || std::make_pair(incoming.hlc_micros(), incoming.region()) >
                          std::make_pair(held.hlc_micros(), held.region())) {
        it->second = change;
        result.set_applied(result.applied() + 1);
      } else {
        result.set_skipped(result.skipped() + 1);
      }
    }
    if (batch.has_checkpoint()) {
      checkpoints_[batch.checkpoint().shard()] = batch.checkpoint().next_sequence();
    }
    cv_.notify_all();
    return result;
  }

  Result<SnapshotPage> SnapshotScan(const TableName& table, const std::string& token) {
    std::lock_guard lock(mu_);
    EXPECT_EQ(table, TableName(kTable));
    const size_t index = token.empty() ? 0 : std::stoul(token);
    SnapshotPage page;
    page.items = pages_.at(index);
    if (index == 0) page.positions = Typed(snapshot_positions_);
    if (index + 1 < pages_.size()) page.next_page_token = std::to_string(index + 1);
    return page;
  }

  // Waits until the checkpoints equal `expected`; false after 5 s.
  bool WaitForCheckpoints(const RawPositions& expected) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return checkpoints_ == expected; });
  }

  void SetCheckpoints(RawPositions positions) {
    std::lock_guard lock(mu_);
    checkpoints_ = std::move(positions);
  }
  void SetSnapshot(std::vector<std::vector<ChangeRecord>> pages, RawPositions positions) {
    std::lock_guard lock(mu_);
    pages_ = std::move(pages);
    snapshot_positions_ = std::move(positions);
  }
  void FailNext(int count) {
    std::lock_guard lock(mu_);
    failures_ = count;
  }
  void SetDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }
  std::map<std::string, uint64_t> ItemVersions() {
    std::lock_guard lock(mu_);
    std::map<std::string, uint64_t> versions;
    for (const auto& [key, record] : items_) versions[key] = record.version().hlc_micros();
    return versions;
  }
  std::map<std::pair<uint32_t, uint64_t>, int> AppliedTimes() {
    std::lock_guard lock(mu_);
    return applied_times_;
  }
  std::vector<uint32_t> ApplyOrder() {
    std::lock_guard lock(mu_);
    return apply_order_;
  }
  int apply_calls() {
    std::lock_guard lock(mu_);
    return apply_calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  RawPositions checkpoints_;
  std::map<std::string, ChangeRecord> items_;
  std::map<std::pair<uint32_t, uint64_t>, int> applied_times_;
  std::vector<uint32_t> apply_order_;
  std::vector<std::vector<ChangeRecord>> pages_;
  RawPositions snapshot_positions_;
  int failures_ = 0;
  int apply_calls_ = 0;
  bool down_ = false;
};

// ReplicationApi over a FakeRegion the test keeps (so that it outlives a replicator).
class RegionApi final : public ReplicationApi {
 public:
  explicit RegionApi(FakeRegion& region) : region_(region) {}
  Result<ShardPositions> GetCheckpoints(const TableName& table,
                                        const std::string& source_region) override {
    return region_.GetCheckpoints(table, source_region);
  }
  Result<v1::ReplicationApplyResult> Apply(const v1::ReplicationBatch& batch) override {
    return region_.Apply(batch);
  }
  Result<SnapshotPage> SnapshotScan(const TableName& table, const std::string& token) override {
    return region_.SnapshotScan(table, token);
  }
  Result<std::string> Region(const TableName&) override { return std::string(kSource); }
  Result<uint64_t> ApproximateItemCount(const TableName&) override {
    return Status::Internal("the fake region does not count its items");
  }
  Status ReportProgress(const v1::ReplicatorProgress&) override { return Status::Ok(); }

 private:
  FakeRegion& region_;
};

// ChangeSource over a FakeSource the test keeps.
class SourceView final : public streams::ChangeSource {
 public:
  explicit SourceView(FakeSource& source) : source_(source) {}
  Result<std::vector<streams::SourceShard>> ListShards() override { return source_.ListShards(); }
  Result<streams::ChangeBatch> Read(ShardIndex shard, SequenceNumber from, size_t max,
                                    milliseconds wait) override {
    return source_.Read(shard, from, max, wait);
  }
  Result<streams::TimePosition> PositionAtTime(ShardIndex shard, int64_t time_micros) override {
    return source_.PositionAtTime(shard, time_micros);
  }

 private:
  FakeSource& source_;
};

class TableReplicatorTest : public ::testing::Test {
 protected:
  std::unique_ptr<TableReplicator> StartReplicator(size_t max_batch_records = 500,
                                                   std::string source_region = kSource,
                                                   milliseconds refresh = milliseconds(20),
                                                   Clock* clock = Clock::System()) {
    TableReplicatorOptions options;
    options.clock = clock;
    options.table = kTable;
    options.source_region = std::move(source_region);
    options.max_batch_records = max_batch_records;
    options.initial_backoff = milliseconds(5);
    options.max_backoff = milliseconds(20);
    options.shard_refresh_interval = refresh;
    return TableReplicator::Start(options, *stream_source_,
                                  std::make_unique<RegionApi>(source_region_),
                                  std::make_unique<RegionApi>(target_));
  }

  // The reader's source: source_ through a SourceView, leases in this process.
  static std::unique_ptr<connectors::StreamSource> OpenStreamSource(FakeSource& source) {
    connectors::StreamSourceConfig config;
    config.change_sources =
        [&source](const TableName&) -> Result<std::unique_ptr<streams::ChangeSource>> {
      return std::unique_ptr<streams::ChangeSource>(std::make_unique<SourceView>(source));
    };
    config.lease_table = "";
    auto opened = connectors::StreamSource::Open(std::move(config));
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return std::move(opened).value();
  }

  FakeSource source_{2};
  const std::unique_ptr<connectors::StreamSource> stream_source_ = OpenStreamSource(source_);
  FakeRegion source_region_;  // answers SnapshotScan
  FakeRegion target_;
};

TEST_F(TableReplicatorTest, ForwardsOnlySourceOriginChangesAndAdvancesPastTheOthers) {
  target_.SetCheckpoints({{0, 1}, {1, 1}});
  source_.Append(0, Put("a", 10, kSource));
  source_.Append(0, Put("b", 11, kOther));  // came to the source by replication
  source_.Append(0, Put("c", 12, kSource));
  source_.Append(1, Put("d", 13, kOther));
  source_.Append(1, Put("e", 14, kOther));
  auto replicator = StartReplicator();
  // Shard 1 holds only skipped records: its position still advances.
  ASSERT_TRUE(target_.WaitForCheckpoints({{0, 4}, {1, 3}}));
  replicator->Stop();
  EXPECT_EQ(target_.ItemVersions(), (std::map<std::string, uint64_t>{{"a", 10}, {"c", 12}}));
}

TEST_F(TableReplicatorTest, StopStoresThePositionOfSkippedRecords) {
  target_.SetCheckpoints({{0, 1}, {1, 1}});
  source_.Append(1, Put("d", 13, kOther));
  source_.Append(1, Put("e", 14, kOther));
  // No refresh comes before the stop: only the stop stores the skipped position.
  auto replicator = StartReplicator(500, kSource, /*refresh=*/milliseconds(60'000));
  ASSERT_TRUE(source_.WaitForReadFrom(1, 3));  // the batch of both records was handled
  replicator->Stop();
  EXPECT_TRUE(target_.WaitForCheckpoints({{0, 1}, {1, 3}}));
  EXPECT_TRUE(target_.ItemVersions().empty());
}

TEST_F(TableReplicatorTest, TakesTheSourceRegionFromTheSourceWhenNotGiven) {
  target_.SetCheckpoints({{0, 1}, {1, 1}});
  source_.Append(0, Put("mine", 10, kSource));
  source_.Append(0, Put("theirs", 11, kOther));
  auto replicator = StartReplicator(500, /*source_region=*/"");
  ASSERT_TRUE(target_.WaitForCheckpoints({{0, 3}, {1, 1}}));
  replicator->Stop();
  EXPECT_EQ(target_.ItemVersions(), (std::map<std::string, uint64_t>{{"mine", 10}}));
}

TEST_F(TableReplicatorTest, RetriesWhileTheTargetFailsAndLosesNothing) {
  target_.SetCheckpoints({{0, 1}, {1, 1}});
  target_.FailNext(6);
  std::map<std::string, uint64_t> expected;
  for (int i = 0; i < 300; ++i) {
    const std::string key = "k" + std::to_string(i % 40);  // keys written several times
    const uint32_t shard = static_cast<uint32_t>(i % 40) % 2;
    source_.Append(shard, Put(key, 100 + i, kSource));
    expected[key] = 100 + i;
  }
  auto replicator = StartReplicator(/*max_batch_records=*/16);
  ASSERT_TRUE(target_.WaitForCheckpoints({{0, 151}, {1, 151}}));
  replicator->Stop();
  EXPECT_EQ(target_.ItemVersions(), expected);
  EXPECT_GT(target_.apply_calls(), 6 + 300 / 16);
  for (const auto& [position, times] : target_.AppliedTimes()) {
    EXPECT_EQ(times, 1) << "shard " << position.first << " sequence " << position.second;
  }
  EXPECT_EQ(target_.AppliedTimes().size(), 300u);
}

TEST_F(TableReplicatorTest, ResumesFromTheCheckpointStoredInTheTarget) {
  target_.SetCheckpoints({{0, 1}, {1, 1}});
  for (int i = 0; i < 20; ++i) source_.Append(0, Put("x" + std::to_string(i), 100 + i, kSource));
  auto first = StartReplicator();
  ASSERT_TRUE(target_.WaitForCheckpoints({{0, 21}, {1, 1}}));
  first->Stop();
  for (int i = 20; i < 30; ++i) source_.Append(0, Put("x" + std::to_string(i), 100 + i, kSource));
  auto second = StartReplicator();
  ASSERT_TRUE(target_.WaitForCheckpoints({{0, 31}, {1, 1}}));
  second->Stop();
  // Each change was sent exactly once across the two runs.
  EXPECT_EQ(target_.AppliedTimes().size(), 30u);
  for (const auto& [position, times] : target_.AppliedTimes()) EXPECT_EQ(times, 1);
}

TEST_F(TableReplicatorTest, CatchesUpWithASnapshotThenFollowsFromItsPositions) {
  // Records 1-2 of shard 0 are in the snapshot already; records after the positions are not.
  source_.Append(0, Put("before-1", 1, kSource));
  source_.Append(0, Put("before-2", 2, kSource));
  source_.Append(0, Put("after-1", 30, kSource));
  source_.Append(1, Put("after-2", 31, kSource));
  source_region_.SetSnapshot(
      {{Put("s1", 1, kSource), Put("s2", 2, kOther)}, {Put("s3", 3, kSource)}}, {{0, 3}, {1, 1}});
  auto replicator = StartReplicator();
  ASSERT_TRUE(target_.WaitForCheckpoints({{0, 4}, {1, 2}}));
  replicator->Stop();
  // The snapshot's items of every origin, then the changes after its positions only.
  EXPECT_EQ(target_.ItemVersions(),
            (std::map<std::string, uint64_t>{
                {"after-1", 30}, {"after-2", 31}, {"s1", 1}, {"s2", 2}, {"s3", 3}}));
}

TEST_F(TableReplicatorTest, ChildShardFollowsOnlyAfterItsParentEnded) {
  target_.SetCheckpoints({{0, 1}, {1, 1}});
  source_.SetLineage(0, std::nullopt, /*closed=*/true);
  source_.SetLineage(1, 0, /*closed=*/false);
  for (int i = 0; i < 5; ++i) source_.Append(1, Put("child" + std::to_string(i), 50 + i, kSource));
  for (int i = 0; i < 5; ++i) source_.Append(0, Put("parent" + std::to_string(i), 10 + i, kSource));
  auto replicator = StartReplicator(/*max_batch_records=*/2);
  ASSERT_TRUE(target_.WaitForCheckpoints({{0, 6}, {1, 6}}));
  replicator->Stop();
  const std::vector<uint32_t> order = target_.ApplyOrder();
  EXPECT_EQ(order, (std::vector<uint32_t>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}));
}

// Stop ends a backoff at once: here one that only Stop can end, as the replicator's clock
// stands still.
TEST_F(TableReplicatorTest, StopsPromptlyWhileTheTargetIsDown) {
  target_.SetCheckpoints({{0, 1}, {1, 1}});
  source_.Append(0, Put("a", 1, kSource));
  target_.SetDown(true);
  ManualClock clock;
  auto replicator = StartReplicator(500, kSource, milliseconds(20), &clock);
  // The target refused the checkpoints read: the replicator waits to retry.
  ASSERT_TRUE(clock.AwaitWaiters(1, std::chrono::seconds(10)));
  auto stopped = std::async(std::launch::async, [&] { replicator->Stop(); });
  const bool prompt = stopped.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!prompt) clock.AdvanceSeconds(3600);  // end the backoff, so that the test can end
  ASSERT_TRUE(prompt) << "Stop did not end the backoff";
  target_.SetDown(false);
  // Nothing was skipped while the target was down: a new replicator delivers the change.
  auto again = StartReplicator();
  ASSERT_TRUE(target_.WaitForCheckpoints({{0, 2}, {1, 1}}));
  EXPECT_EQ(target_.ItemVersions(), (std::map<std::string, uint64_t>{{"a", 1}}));
}

}  // namespace
}  // namespace tidewater::replicator
