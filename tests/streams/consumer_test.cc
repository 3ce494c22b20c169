// The consumer SDK over the in-process engine: order, retries, checkpoints, starting
// positions, trimmed data, shard lineage, and leases shared between workers.
#include "tidewater/streams/consumer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/lease_store.h"

namespace tidewater::streams {
namespace {

using std::chrono::milliseconds;
using testing::TempDir;
using testing::WaitFor;

constexpr char kTable[] = "orders";
constexpr uint32_t kShards = 4;

// What a handler saw: per shard, every sequence in delivery order (accepted or not).
class Recorder {
 public:
  void Add(const ShardBatch& batch) {
    std::lock_guard lock(mu_);
    for (const ChangeRecord& record : batch.records) {
      seen_[batch.shard.value()].push_back(record.sequence());
    }
  }
  std::map<uint32_t, std::vector<uint64_t>> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  size_t Count() const {
    std::lock_guard lock(mu_);
    size_t count = 0;
    for (const auto& [shard, sequences] : seen_) count += sequences.size();
    return count;
  }

 private:
  mutable std::mutex mu_;
  std::map<uint32_t, std::vector<uint64_t>> seen_;
};

// Counts the records a source hands out.
class CountingSource final : public ChangeSource {
 public:
  explicit CountingSource(ChangeSource& source) : source_(source) {}
  Result<std::vector<SourceShard>> ListShards() override { return source_.ListShards(); }
  Result<ChangeBatch> Read(ShardIndex shard, SequenceNumber from_sequence, size_t max_records,
                           milliseconds wait) override {
    auto batch = source_.Read(shard, from_sequence, max_records, wait);
    if (batch.ok()) records_ += batch->records.size();
    return batch;
  }
  Result<TimePosition> PositionAtTime(ShardIndex shard, int64_t time_micros) override {
    return source_.PositionAtTime(shard, time_micros);
  }
  size_t records() const { return records_; }

 private:
  ChangeSource& source_;
  std::atomic<size_t> records_{0};
};

// Forwards to a store until frozen; frozen, every write fails as if the store were
// unreachable (a worker that can no longer renew).
class FreezableLeaseStore final : public LeaseStore {
 public:
  explicit FreezableLeaseStore(LeaseStore& store) : store_(store) {}
  void Freeze() { frozen_ = true; }
  Result<std::vector<Lease>> ListAllLeases() override {
    if (frozen_) return Status::IOError("frozen");
    return store_.ListAllLeases();
  }
  Status CreateLease(const Lease& lease) override {
    return frozen_ ? Status::IOError("frozen") : store_.CreateLease(lease);
  }
  Status UpdateLease(const Lease& expected, const Lease& updated) override {
    return frozen_ ? Status::IOError("frozen") : store_.UpdateLease(expected, updated);
  }

 private:
  LeaseStore& store_;
  std::atomic<bool> frozen_{false};
};

class ConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options = testing::TestEngineOptions(dir_.path(), &engine_clock_);
    options.stream_retention_micros = 3600LL * 1'000'000;
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    CreateTableRequest request;
    request.name = kTable;
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.stream = {true, StreamViewType::kNewAndOldImages};
    request.shard_count = kShards;
    ASSERT_TRUE(engine_->CreateTable(request).ok());
    source_ = MakeEngineChangeSource(*engine_, TableName(kTable));
    auto leases = MakeEngineLeaseStore(*engine_);
    ASSERT_TRUE(leases.ok()) << leases.status().ToString();
    leases_ = std::move(*leases);
  }

  void Write(int from, int to) {
    for (int i = from; i < to; ++i) {
      Item item{{"pk", AttributeValue::S("item-" + std::to_string(i))},
                {"n", AttributeValue::N(Number::FromInt64(i))}};
      ASSERT_TRUE(engine_->PutItem(kTable, item).ok());
    }
  }

  // Per shard, every sequence written so far.
  std::map<uint32_t, uint64_t> LastSequences() {
    std::map<uint32_t, uint64_t> last;
    auto table = engine_->DescribeTable(kTable);
    EXPECT_TRUE(table.ok());
    for (const auto& shard : table->shards) {
      last[shard.index.value()] = shard.last_sequence.value();
    }
    return last;
  }

  ConsumerOptions Options(const std::string& worker = "w1") {
    ConsumerOptions options;
    options.table = kTable;
    options.application = "app";
    options.worker_id = worker;
    options.max_batch_records = 7;
    options.lease_duration = milliseconds(300);
    options.retry_backoff_initial = milliseconds(1);
    options.retry_backoff_max = milliseconds(4);
    return options;
  }

  std::unique_ptr<StreamConsumer> Consumer(ConsumerOptions options, BatchHandler handler,
                                           LeaseStore* leases = nullptr,
                                           ChangeSource* source = nullptr) {
    auto consumer = StreamConsumer::Create(std::move(options), source ? *source : *source_,
                                           leases ? *leases : *leases_, std::move(handler));
    EXPECT_TRUE(consumer.ok()) << consumer.status().ToString();
    if (!consumer.ok()) return nullptr;
    Status started = (*consumer)->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return std::move(*consumer);
  }

  std::map<uint32_t, Lease> Leases(const std::string& application = "app") {
    auto leases = leases_->ListLeases(application, TableName(kTable));
    EXPECT_TRUE(leases.ok()) << leases.status().ToString();
    std::map<uint32_t, Lease> by_shard;
    if (leases.ok()) {
      for (const Lease& lease : *leases) by_shard[lease.shard.value()] = lease;
    }
    return by_shard;
  }

  // Every shard's lease is checkpointed at its last sequence + 1.
  bool AllCheckpointed() {
    auto last = LastSequences();
    auto leases = Leases();
    if (leases.size() != kShards) return false;
    for (const auto& [shard, lease] : leases) {
      if (lease.checkpoint.value_or(SequenceNumber(1)) != SequenceNumber(last[shard] + 1)) {
        return false;
      }
    }
    return true;
  }

  size_t HeldShards(const StreamConsumer& consumer) {
    size_t held = 0;
    for (const ConsumerShardStatus& status : consumer.Progress()) held += status.held ? 1 : 0;
    return held;
  }

  TempDir dir_;
  ManualClock engine_clock_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ChangeSource> source_;
  std::unique_ptr<LeaseStore> leases_;
};

// Each shard's sequences are 1..last, each once, in order.
void ExpectExactlyOnceInOrder(const std::map<uint32_t, std::vector<uint64_t>>& seen,
                              const std::map<uint32_t, uint64_t>& last) {
  for (const auto& [shard, last_sequence] : last) {
    std::vector<uint64_t> expected;
    for (uint64_t s = 1; s <= last_sequence; ++s) expected.push_back(s);
    auto it = seen.find(shard);
    EXPECT_EQ(it == seen.end() ? std::vector<uint64_t>{} : it->second, expected)
        << "shard " << shard;
  }
}

TEST_F(ConsumerTest, DeliversEveryShardInOrderAndCheckpoints) {
  Write(0, 100);
  Recorder recorder;
  size_t largest_batch = 0;
  std::mutex mu;
  auto consumer = Consumer(Options(), [&](const ShardBatch& batch) {
    EXPECT_EQ(batch.table, TableName(kTable));
    for (const ChangeRecord& record : batch.records)
      EXPECT_EQ(ShardIndex(record.shard()), batch.shard);
    std::lock_guard lock(mu);
    largest_batch = std::max(largest_batch, batch.records.size());
    recorder.Add(batch);
    return Status::Ok();
  });
  Write(100, 200);
  ASSERT_TRUE(WaitFor([&] { return recorder.Count() == 200 && AllCheckpointed(); }));
  ExpectExactlyOnceInOrder(recorder.seen(), LastSequences());
  EXPECT_LE(largest_batch, 7u);
  uint64_t processed = 0;
  for (const ConsumerShardStatus& status : consumer->Progress()) {
    processed += status.records_processed;
    EXPECT_TRUE(status.held);
    EXPECT_EQ(status.next_sequence, SequenceNumber(LastSequences()[status.shard.value()] + 1));
  }
  EXPECT_EQ(processed, 200u);
  EXPECT_TRUE(consumer->LeaseError().ok()) << consumer->LeaseError().ToString();
}

// The window is timed by the consumer's clock: while it stands still, records that trickle
// in join their shard's open batch and nothing is delivered; when it has passed, each
// shard's records come in one batch.
TEST_F(ConsumerTest, BatchingWindowGathersRecordsThatTrickleIn) {
  ManualClock clock;
  CountingSource counting(*source_);
  std::mutex mu;
  std::vector<size_t> sizes;
  auto options = Options();
  options.max_batch_records = 1000;
  options.max_batching_window = milliseconds(400);
  options.clock = &clock;
  auto consumer = Consumer(
      options,
      [&](const ShardBatch& batch) {
        std::lock_guard lock(mu);
        sizes.push_back(batch.records.size());
        return Status::Ok();
      },
      nullptr, &counting);
  ASSERT_TRUE(WaitFor([&] { return HeldShards(*consumer) == kShards; }));
  // One record at a time: each shard's first record opens its window.
  for (int i = 0; i < 40; ++i) Write(i, i + 1);
  ASSERT_TRUE(WaitFor([&] { return counting.records() == 40; }));
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(sizes.empty()) << "a batch was delivered before its window passed";
  }
  clock.Advance(milliseconds(400));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    size_t total = 0;
    for (size_t size : sizes) total += size;
    return total == 40;
  }));
  size_t shards_written = 0;
  for (const auto& [shard, last] : LastSequences()) shards_written += last > 0 ? 1 : 0;
  std::lock_guard lock(mu);
  EXPECT_EQ(sizes.size(), shards_written);
}

TEST_F(ConsumerTest, FailedBatchesComeBackWithTheSameRecordsInOrder) {
  Write(0, 120);
  Recorder attempts;  // every delivery, failed or not
  Recorder accepted;
  std::atomic<int> calls{0};
  std::atomic<uint64_t> failures{0};
  auto consumer = Consumer(Options(), [&](const ShardBatch& batch) {
    attempts.Add(batch);
    // Every third call fails: each shard sees failures and retries.
    if (++calls % 3 == 0) {
      ++failures;
      return Status::Internal("handler failed");
    }
    accepted.Add(batch);
    return Status::Ok();
  });
  ASSERT_TRUE(WaitFor([&] { return accepted.Count() == 120 && AllCheckpointed(); }));
  ExpectExactlyOnceInOrder(accepted.seen(), LastSequences());
  // A retry starts where the failed batch started: per shard, a delivery either
  // continues the previous one or repeats from an earlier record; it never skips.
  for (const auto& [shard, sequences] : attempts.seen()) {
    uint64_t highest = 0;
    for (uint64_t sequence : sequences) {
      EXPECT_LE(sequence, highest + 1) << "shard " << shard << " skipped to " << sequence;
      highest = std::max(highest, sequence);
    }
  }
  uint64_t errors = 0;
  for (const ConsumerShardStatus& status : consumer->Progress()) errors += status.handler_errors;
  EXPECT_EQ(errors, failures.load());
  EXPECT_GT(errors, 0u);
}

TEST_F(ConsumerTest, CheckpointsOnlyWhatTheHandlerAccepted) {
  Write(0, 40);
  // Find the record of item-13 and fail on it forever.
  std::atomic<uint64_t> poison_sequence{0};
  std::atomic<uint32_t> poison_shard{0};
  auto consumer = Consumer(Options(), [&](const ShardBatch& batch) {
    for (const ChangeRecord& record : batch.records) {
      if (record.new_image().attributes_size() > 0 &&
          record.keys().attributes(0).value().s() == "item-13") {
        poison_shard = batch.shard.value();
        poison_sequence = record.sequence();
        return Status::Internal("poison");
      }
    }
    return Status::Ok();
  });
  ASSERT_TRUE(WaitFor([&] {
    if (poison_sequence == 0) return false;
    auto leases = Leases();
    return leases.size() == kShards &&
           std::all_of(leases.begin(), leases.end(), [&](const auto& entry) {
             return entry.first == poison_shard ||
                    entry.second.checkpoint.value_or(SequenceNumber(0)) ==
                        SequenceNumber(LastSequences()[entry.first] + 1);
           });
  }));
  consumer->Stop();
  // The poison record's batch was never accepted: its shard's checkpoint is below it.
  auto leases = Leases();
  EXPECT_LE(leases[poison_shard].checkpoint.value_or(SequenceNumber(1)),
            SequenceNumber(poison_sequence.load()));
  // The next run starts there and sees the poison record first or in its first batch.
  Recorder recorder;
  auto second = Consumer(Options(), [&](const ShardBatch& batch) {
    recorder.Add(batch);
    return Status::Ok();
  });
  ASSERT_TRUE(WaitFor([&] { return AllCheckpointed(); }));
  auto seen = recorder.seen();
  ASSERT_FALSE(seen[poison_shard].empty());
  EXPECT_EQ(SequenceNumber(seen[poison_shard].front()),
            leases[poison_shard].checkpoint.value_or(SequenceNumber(1)));
  EXPECT_LE(seen[poison_shard].front(), poison_sequence.load());
}

TEST_F(ConsumerTest, GracefulStopFinishesTheBatchCheckpointsAndReleases) {
  Write(0, 30);
  std::atomic<bool> in_handler{false};
  Recorder recorder;
  auto options = Options();
  options.max_batch_records = 1000;
  auto consumer = Consumer(options, [&](const ShardBatch& batch) {
    in_handler = true;
    // A long handler that honours the stop request.
    std::mutex mu;
    std::condition_variable_any stopped;
    std::unique_lock lock(mu);
    stopped.wait(lock, batch.stop, [] { return false; });
    recorder.Add(batch);
    return Status::Ok();
  });
  ASSERT_TRUE(WaitFor([&] { return in_handler.load() && HeldShards(*consumer) == kShards; }));
  consumer->Stop();
  consumer->Stop();  // idempotent
  const auto seen = recorder.seen();
  ASSERT_FALSE(seen.empty());
  for (const auto& [shard, lease] : Leases()) {
    EXPECT_EQ(lease.owner, "") << "shard " << shard << " not released";
    auto it = seen.find(shard);
    if (it != seen.end()) {
      EXPECT_EQ(lease.checkpoint, SequenceNumber(it->second.back() + 1)) << "shard " << shard;
    } else {
      EXPECT_FALSE(lease.checkpoint.has_value()) << "shard " << shard;
    }
  }
  for (const ConsumerShardStatus& status : consumer->Progress()) EXPECT_FALSE(status.held);
}

TEST_F(ConsumerTest, StartingPositions) {
  struct Case {
    StartingPosition position;
    std::string application;
    int first_item;  // items written before and after the consumer starts
  };
  for (const Case& c : {Case{StartingPosition::kTrimHorizon, "from-horizon", 0},
                        Case{StartingPosition::kLatest, "from-latest", 100}}) {
    SCOPED_TRACE(c.application);
    const int start = c.first_item;
    const auto initial = LastSequences();
    Write(start, start + 20);
    const auto before = LastSequences();
    auto options = Options();
    options.application = c.application;
    options.starting_position = c.position;
    Recorder recorder;
    auto handler = [&](const ShardBatch& batch) {
      recorder.Add(batch);
      return Status::Ok();
    };
    auto consumer = Consumer(options, handler);
    ASSERT_TRUE(WaitFor([&] { return Leases(c.application).size() == kShards; }));
    ASSERT_TRUE(WaitFor([&] { return HeldShards(*consumer) == kShards; }));
    if (c.position == StartingPosition::kLatest) {
      // LATEST is fixed when the leases are created: a restart does not skip.
      consumer->Stop();
      Write(start + 20, start + 30);
      consumer = Consumer(options, handler);
    } else {
      Write(start + 20, start + 30);
    }
    const auto after = LastSequences();
    std::map<uint32_t, std::vector<uint64_t>> expected;
    for (const auto& [shard, last] : after) {
      const uint64_t first =
          (c.position == StartingPosition::kLatest ? before : initial).at(shard) + 1;
      for (uint64_t s = first; s <= last; ++s) expected[shard].push_back(s);  // none: no entry
    }
    const size_t wanted = c.position == StartingPosition::kLatest ? 10 : 30;
    // Everything read and checkpointed, then stopped: what was delivered is all there is.
    ASSERT_TRUE(WaitFor([&] {
      auto leases = Leases(c.application);
      return recorder.Count() == wanted &&
             std::all_of(after.begin(), after.end(), [&](const auto& entry) {
               return leases[entry.first].checkpoint.value_or(SequenceNumber(1)) ==
                      SequenceNumber(entry.second + 1);
             });
    }));
    consumer->Stop();
    EXPECT_EQ(recorder.seen(), expected);
  }
}

// AT_TIMESTAMP: a shard without a checkpoint starts at its first record created at or
// after the time; a time before every record is the trim horizon, one after every record
// reads what is written from the leases' creation on.
TEST_F(ConsumerTest, StartsAtATime) {
  const int64_t early = engine_clock_.NowMicros();
  Write(0, 20);
  const auto before_middle = LastSequences();
  engine_clock_.AdvanceSeconds(10);
  const int64_t middle = engine_clock_.NowMicros();
  Write(20, 40);
  struct Case {
    const char* application;
    int64_t time_micros;
  };
  int next_item = 40;
  for (const Case& c : {Case{"from-middle", middle}, Case{"from-before", early - 1},
                        Case{"from-future", middle + 3'600'000'000LL}}) {
    SCOPED_TRACE(c.application);
    const auto at_creation = LastSequences();
    auto options = Options();
    options.application = c.application;
    options.starting_position = StartingPosition::kAtTimestamp;
    options.starting_time_micros = c.time_micros;
    Recorder recorder;
    std::atomic<int64_t> oldest_time{INT64_MAX};
    auto handler = [&](const ShardBatch& batch) {
      recorder.Add(batch);
      for (const ChangeRecord& record : batch.records) {
        int64_t seen = oldest_time.load();
        while (
            record.approximate_creation_time_micros() < seen &&
            !oldest_time.compare_exchange_weak(seen, record.approximate_creation_time_micros())) {
        }
      }
      return Status::Ok();
    };
    auto consumer = Consumer(options, handler);
    ASSERT_TRUE(WaitFor([&] { return Leases(c.application).size() == kShards; }));
    ASSERT_TRUE(WaitFor([&] { return HeldShards(*consumer) == kShards; }));
    Write(next_item, next_item + 10);  // written after the position was fixed: read
    next_item += 10;
    const auto after = LastSequences();
    std::map<uint32_t, std::vector<uint64_t>> expected;
    size_t wanted = 0;
    for (const auto& [shard, last] : after) {
      uint64_t first = 1;
      if (c.time_micros == middle) first = before_middle.at(shard) + 1;
      if (c.time_micros > middle) first = at_creation.at(shard) + 1;
      for (uint64_t s = first; s <= last; ++s) {
        expected[shard].push_back(s);
        ++wanted;
      }
    }
    ASSERT_TRUE(WaitFor([&] {
      auto leases = Leases(c.application);
      return recorder.Count() == wanted &&
             std::all_of(after.begin(), after.end(), [&](const auto& entry) {
               return leases[entry.first].checkpoint.value_or(SequenceNumber(1)) ==
                      SequenceNumber(entry.second + 1);
             });
    }));
    consumer->Stop();
    EXPECT_EQ(recorder.seen(), expected);
    if (c.time_micros == middle) {
      EXPECT_EQ(oldest_time.load(), middle);
    }
  }
}

TEST_F(ConsumerTest, TrimmedDataIsSurfacedOrSkippedOnRequest) {
  Write(0, 40);
  // Checkpoints at 1 that retention then trims away.
  for (uint32_t shard = 0; shard < kShards; ++shard) {
    for (const char* application : {"strict", "skipping"}) {
      Lease lease{.application = application,
                  .table = TableName(kTable),
                  .shard = ShardIndex(shard),
                  .checkpoint = SequenceNumber(1)};
      ASSERT_TRUE(leases_->CreateLease(lease).ok());
    }
  }
  engine_clock_.AdvanceSeconds(7200);
  Write(40, 60);
  auto trimmed = engine_->TrimStreams();
  ASSERT_TRUE(trimmed.ok());
  ASSERT_GT(*trimmed, 0u);

  auto strict_options = Options();
  strict_options.application = "strict";
  Recorder strict_seen;
  auto strict = Consumer(strict_options, [&](const ShardBatch& batch) {
    strict_seen.Add(batch);
    return Status::Ok();
  });
  auto skipping_options = Options("w2");
  skipping_options.application = "skipping";
  skipping_options.skip_trimmed = true;
  Recorder skipping_seen;
  auto skipping = Consumer(skipping_options, [&](const ShardBatch& batch) {
    skipping_seen.Add(batch);
    return Status::Ok();
  });
  ASSERT_TRUE(WaitFor([&] {
    auto progress = strict->Progress();
    return progress.size() == kShards &&
           std::all_of(progress.begin(), progress.end(), [](const ConsumerShardStatus& s) {
             return s.last_error.find("TrimmedDataAccess") != std::string::npos;
           });
  }));
  EXPECT_EQ(strict_seen.Count(), 0u);  // never a silent skip
  ASSERT_TRUE(WaitFor([&] { return skipping_seen.Count() == 20; }));
  uint64_t skipped = 0;
  for (const ConsumerShardStatus& status : skipping->Progress()) {
    skipped += status.trimmed_records_skipped;
  }
  EXPECT_EQ(skipped, 40u);
}

// A source with two shards: 0 (closed, the parent) and 1 (its child), to check lineage.
class SplitSource final : public ChangeSource {
 public:
  Result<std::vector<SourceShard>> ListShards() override {
    return std::vector<SourceShard>{{.index = ShardIndex(0),
                                     .closed = true,
                                     .first_sequence = SequenceNumber(1),
                                     .last_sequence = SequenceNumber(5)},
                                    {.index = ShardIndex(1),
                                     .parent = ShardIndex(0),
                                     .first_sequence = SequenceNumber(1),
                                     .last_sequence = SequenceNumber(5)}};
  }
  Result<ChangeBatch> Read(ShardIndex shard, SequenceNumber from_sequence, size_t max_records,
                           milliseconds wait) override {
    ChangeBatch batch;
    batch.next_sequence = from_sequence;
    for (uint64_t s = from_sequence.value(); s <= 5 && batch.records.size() < max_records; ++s) {
      ChangeRecord record;
      record.set_shard(shard.value());
      record.set_sequence(s);
      batch.records.push_back(record);
      batch.next_sequence = SequenceNumber(s + 1);
    }
    batch.end_of_shard = shard == ShardIndex(0) && batch.next_sequence > SequenceNumber(5);
    if (batch.records.empty()) std::this_thread::sleep_for(wait);
    return batch;
  }
  // Its records carry no times: every time is after them.
  Result<TimePosition> PositionAtTime(ShardIndex, int64_t) override {
    return TimePosition{.sequence = SequenceNumber(6)};
  }
};

TEST_F(ConsumerTest, ParentShardIsFinishedBeforeItsChild) {
  SplitSource source;
  std::mutex mu;
  std::vector<std::pair<uint32_t, uint64_t>> order;
  auto options = Options();
  options.max_batch_records = 2;
  auto consumer = Consumer(
      options,
      [&](const ShardBatch& batch) {
        std::lock_guard lock(mu);
        for (const ChangeRecord& r : batch.records)
          order.emplace_back(batch.shard.value(), r.sequence());
        return Status::Ok();
      },
      nullptr, &source);
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return order.size() == 10;
  }));
  std::vector<std::pair<uint32_t, uint64_t>> expected;
  for (uint32_t shard : {0u, 1u}) {
    for (uint64_t s = 1; s <= 5; ++s) expected.emplace_back(shard, s);
  }
  EXPECT_EQ(order, expected);
  auto leases = Leases();
  EXPECT_TRUE(leases[0].finished);
  EXPECT_EQ(leases[0].owner, "");
  EXPECT_FALSE(leases[1].finished);
}

TEST_F(ConsumerTest, TwoWorkersShareTheShards) {
  Recorder recorder;
  auto handler = [&](const ShardBatch& batch) {
    recorder.Add(batch);
    return Status::Ok();
  };
  auto first = Consumer(Options("w1"), handler);
  ASSERT_TRUE(WaitFor([&] { return HeldShards(*first) == kShards; }));
  auto second = Consumer(Options("w2"), handler);
  // The newcomer takes its fair share from the first worker.
  ASSERT_TRUE(WaitFor([&] { return HeldShards(*first) == 2 && HeldShards(*second) == 2; }));
  Write(0, 100);
  ASSERT_TRUE(WaitFor([&] { return recorder.Count() == 100 && AllCheckpointed(); }));
  ExpectExactlyOnceInOrder(recorder.seen(), LastSequences());
  std::set<std::string> owners;
  for (const auto& [shard, lease] : Leases()) owners.insert(lease.owner);
  EXPECT_EQ(owners, (std::set<std::string>{"w1", "w2"}));
}

// Lease time is the workers' clock: a worker sees another's lease expire only when the
// clock has passed the lease duration since the lease last changed.
TEST_F(ConsumerTest, AWorkerThatStopsRenewingLosesItsLeasesToAnother) {
  ManualClock clock;
  FreezableLeaseStore first_store(*leases_);
  Recorder first_seen;
  auto first_options = Options("w1");
  first_options.clock = &clock;
  first_options.lease_duration = milliseconds(10'000);
  auto first = Consumer(
      first_options,
      [&](const ShardBatch& batch) {
        first_seen.Add(batch);
        return Status::Ok();
      },
      &first_store);
  Write(0, 40);
  ASSERT_TRUE(WaitFor([&] { return first_seen.Count() == 40 && AllCheckpointed(); }));
  const auto checkpoints = Leases();

  // The first worker can no longer write its leases; the second does not steal, so only
  // expiry can give it the shards.
  first_store.Freeze();
  Write(40, 80);
  Recorder second_seen;
  auto second_options = Options("w2");
  second_options.clock = &clock;
  second_options.lease_duration = milliseconds(10'000);
  second_options.steal_leases = false;
  auto second = Consumer(second_options, [&](const ShardBatch& batch) {
    second_seen.Add(batch);
    return Status::Ok();
  });
  // Both coordinators made their rounds and wait for the clock.
  ASSERT_TRUE(clock.AwaitWaiters(2, std::chrono::seconds(10)));
  EXPECT_EQ(HeldShards(*second), 0u);  // live leases (as far as anyone can tell) stay put
  clock.AdvanceSeconds(11);
  ASSERT_TRUE(WaitFor([&] { return HeldShards(*second) == kShards; }));
  // The first worker's coordinator notices its shards ended on its next rounds.
  ASSERT_TRUE(WaitFor([&] {
    clock.Advance(milliseconds(200));
    return HeldShards(*first) == 0;
  }));
  ASSERT_TRUE(WaitFor([&] { return AllCheckpointed(); }));
  // The second worker went on from the first one's checkpoints, and all records arrived.
  auto seen = second_seen.seen();
  for (const auto& [shard, lease] : checkpoints) {
    ASSERT_FALSE(seen[shard].empty()) << "shard " << shard;
    EXPECT_EQ(SequenceNumber(seen[shard].front()), *lease.checkpoint) << "shard " << shard;
  }
  for (const auto& [shard, last] : LastSequences()) {
    const std::vector<uint64_t> by_first = first_seen.seen()[shard];
    std::set<uint64_t> all(by_first.begin(), by_first.end());
    all.insert(seen[shard].begin(), seen[shard].end());
    EXPECT_EQ(all.size(), last) << "shard " << shard;
  }
}

}  // namespace
}  // namespace tidewater::streams
