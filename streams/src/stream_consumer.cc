// The consumer: one coordinator thread (lease renewal, expiry, taking and balancing)
// and one thread per held shard (read, batch, handle, checkpoint).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "tidewater/core/thread_annotations.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"

namespace tidewater::streams {
namespace {

using std::chrono::milliseconds;
using MonotonicTime = Clock::MonotonicTime;

// How long one Read waits for records: bounds how fast a shard thread notices Stop.
constexpr milliseconds kReadWait{100};

std::string DefaultWorkerId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device random;
  return std::string(host) + ":" + std::to_string(getpid()) + ":" +
         std::to_string(random() % 1'000'000);
}

// Where a shard without a checkpoint starts reading (TRIM_HORIZON).
SequenceNumber OldestRetained(const SourceShard& shard) {
  return shard.first_sequence != SequenceNumber(0) ? shard.first_sequence
                                                   : shard.last_sequence.Next();
}

bool LeaseLost(const Status& status) {
  return status.code() == ErrorCode::kConditionalCheckFailed ||
         status.code() == ErrorCode::kResourceNotFound;
}

class Consumer final : public StreamConsumer {
 public:
  Consumer(ConsumerOptions options, ChangeSource& source, LeaseStore& leases, BatchHandler handler)
      : options_(std::move(options)),
        source_(source),
        leases_(leases),
        handler_(std::move(handler)),
        clock_(options_.clock),
        renew_interval_(options_.lease_duration / 3),
        tick_(std::clamp(options_.lease_duration / 3, milliseconds(5), milliseconds(200))) {}

  ~Consumer() override { Stop(); }

  Status Start() override TW_EXCLUDES(lifecycle_mu_) {
    MutexLock lock(lifecycle_mu_);
    if (started_) return Status::Validation("the consumer was already started");
    TW_RETURN_IF_ERROR(source_.ListShards().status());
    started_ = true;
    coordinator_ = std::thread([this] { Coordinate(); });
    return Status::Ok();
  }

  void Stop() override TW_EXCLUDES(lifecycle_mu_, mu_) {
    MutexLock lock(lifecycle_mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    {
      MutexLock state_lock(mu_);
      stopping_ = true;
    }
    wake_.NotifyAll();
    coordinator_.join();
    // The coordinator no longer touches held_: stop every shard, let each finish its batch,
    // checkpoint and release its lease.
    ThreadRoleScope coordinator(coordinator_thread_);
    for (auto& [index, shard] : held_) shard->stop.request_stop();
    for (auto& [index, shard] : held_) shard->thread.join();
    MutexLock state_lock(mu_);
    for (auto& [index, status] : status_) status.held = false;
  }

  Status LeaseError() const override TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return coordinator_error_;
  }

  std::vector<ConsumerShardStatus> Progress() const override TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    std::vector<ConsumerShardStatus> progress;
    for (const auto& [index, status] : status_) {
      progress.push_back(status);
      progress.back().finished = finished_.contains(index);
    }
    return progress;
  }

 private:
  // A lease this worker holds, and the thread that processes its shard.
  struct HeldShard {
    ShardIndex index;
    Mutex lease_mu;                       // serializes the lease writes of renewal and checkpoint
    Lease lease TW_GUARDED_BY(lease_mu);  // as last written by us
    MonotonicTime last_write TW_GUARDED_BY(lease_mu);  // when our last write succeeded
    bool lost TW_GUARDED_BY(lease_mu) = false;
    std::stop_source stop;  // consumer stopping, or the lease is lost
    std::atomic<bool> done{false};
    std::thread thread;
  };

  // What this worker saw of a lease it does not hold: expiry without shared clocks.
  struct Observation {
    std::string owner;
    uint64_t counter = 0;
    std::optional<MonotonicTime> since;  // when this owner and counter were first seen
  };

  // --- coordinator ---

  void Coordinate() TW_EXCLUDES(mu_) {
    ThreadRoleScope coordinator(coordinator_thread_);
    while (true) {
      {
        MutexLock lock(mu_);
        if (stopping_) return;
      }
      RenewHeld();
      ReapFinished();
      RecordCoordinatorError(TakeLeases());
      MutexLock lock(mu_);
      clock_->WaitFor(wake_, mu_, tick_, [this] {
        mu_.AssertHeld();
        return stopping_ || shard_done_;
      });
      shard_done_ = false;
    }
  }

  void RecordCoordinatorError(const Status& status) TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    coordinator_error_ = status;
  }

  void RenewHeld() TW_REQUIRES(coordinator_thread_) {
    const MonotonicTime now = clock_->MonotonicNow();
    for (auto& [index, shard] : held_) {
      if (shard->done) continue;
      MutexLock lease_lock(shard->lease_mu);
      if (shard->lost || now - shard->last_write < renew_interval_) continue;
      Lease renewed = shard->lease;
      ++renewed.counter;
      (void)WriteLeaseLocked(*shard, renewed);  // a failure is recorded and handled there
    }
  }

  // Writes `updated` over the held lease. A lost lease (or no successful write for a whole
  // lease duration) stops the shard.
  Status WriteLeaseLocked(HeldShard& shard, const Lease& updated) TW_REQUIRES(shard.lease_mu) {
    Status status = leases_.UpdateLease(shard.lease, updated);
    const MonotonicTime now = clock_->MonotonicNow();
    if (status.ok()) {
      shard.lease = updated;
      shard.last_write = now;
      return status;
    }
    if (LeaseLost(status) || now - shard.last_write >= options_.lease_duration) {
      shard.lost = true;
      shard.stop.request_stop();
    }
    SetError(shard.index, status);
    return status;
  }

  void ReapFinished() TW_REQUIRES(coordinator_thread_) {
    for (auto it = held_.begin(); it != held_.end();) {
      if (!it->second->done) {
        ++it;
        continue;
      }
      it->second->thread.join();
      {
        MutexLock lock(mu_);
        status_[it->first].held = false;
      }
      it = held_.erase(it);
    }
  }

  Status TakeLeases() TW_REQUIRES(coordinator_thread_) {
    Result<std::vector<SourceShard>> listed_shards = source_.ListShards();
    if (!listed_shards.ok()) {
      NotifyReadError("list_shards", listed_shards.status());
      return listed_shards.status();
    }
    const std::vector<SourceShard>& shards = *listed_shards;
    NoteShardEnds(shards);
    TW_ASSIGN_OR_RETURN(std::vector<Lease> leases,
                        leases_.ListLeases(options_.application, table_));
    TW_ASSIGN_OR_RETURN(bool created, CreateMissingLeases(shards, leases));
    if (created) {
      TW_ASSIGN_OR_RETURN(leases, leases_.ListLeases(options_.application, table_));
    }
    std::map<ShardIndex, const Lease*> by_shard;
    for (const Lease& lease : leases) by_shard[lease.shard] = &lease;
    std::set<ShardIndex> listed;
    for (const SourceShard& shard : shards) listed.insert(shard.index);

    const MonotonicTime now = clock_->MonotonicNow();
    // Leases that need a worker now: unfinished, parent finished (or gone).
    std::vector<const Lease*> eligible;
    std::vector<const Lease*> available;                        // free or expired
    std::map<std::string, std::vector<const Lease*>> by_owner;  // live owners but us
    for (const Lease& lease : leases) {
      UpdateStatusFromLease(lease);
      if (lease.finished) continue;
      if (lease.parent && listed.count(*lease.parent) != 0) {
        auto parent = by_shard.find(*lease.parent);
        if (parent == by_shard.end() || !parent->second->finished) continue;
      }
      eligible.push_back(&lease);
      if (held_.count(lease.shard) != 0) continue;
      Observation& seen = observed_[lease.shard];
      if (seen.owner != lease.owner || seen.counter != lease.counter || !seen.since) {
        seen = Observation{lease.owner, lease.counter, now};
      }
      // A lease in our name that no thread of ours works on (a write of ours failed) is
      // ours to take again at once.
      if (lease.owner.empty() || lease.owner == options_.worker_id ||
          now - *seen.since >= options_.lease_duration) {
        available.push_back(&lease);
      } else {
        by_owner[lease.owner].push_back(&lease);
      }
    }
    if (eligible.empty()) return Status::Ok();
    const size_t workers = by_owner.size() + 1;
    const size_t target = (eligible.size() + workers - 1) / workers;
    size_t mine = 0;
    for (auto& [index, shard] : held_) mine += shard->done ? 0 : 1;
    if (mine >= target) return Status::Ok();

    std::vector<const Lease*> wanted(available.begin(), available.end());
    // Workers that start together would otherwise all race for the same first shards.
    std::shuffle(wanted.begin(), wanted.end(), random_);
    if (wanted.size() > target - mine) wanted.resize(target - mine);
    if (wanted.empty() && options_.steal_leases) {
      auto busiest = std::max_element(by_owner.begin(), by_owner.end(), [](auto& a, auto& b) {
        return a.second.size() < b.second.size();
      });
      if (busiest != by_owner.end() && busiest->second.size() > target) {
        wanted.push_back(busiest->second.back());
      }
    }
    for (const Lease* lease : wanted) {
      Lease taken = *lease;
      taken.owner = options_.worker_id;
      ++taken.counter;
      Status status = leases_.UpdateLease(*lease, taken);
      if (status.ok()) {
        StartShard(taken, shards);
      } else if (!LeaseLost(status)) {
        return status;  // another worker won the race for it: fine; anything else is not
      }
    }
    return Status::Ok();
  }

  // Creates leases for shards that have none. Returns whether it tried to create any. Shards
  // present when the application first sees the table start at the starting position
  // (LATEST and AT_TIMESTAMP are resolved now and written into the leases); later ones
  // (children of splits) start at their beginning.
  Result<bool> CreateMissingLeases(const std::vector<SourceShard>& shards,
                                   const std::vector<Lease>& leases) {
    std::set<ShardIndex> existing;
    for (const Lease& lease : leases) existing.insert(lease.shard);
    const bool first_sight = leases.empty();
    // Every shard's time position before any lease: a failed lookup creates none, so the
    // next round still sees the table for the first time.
    std::map<ShardIndex, TimePosition> at_time;
    if (first_sight && options_.starting_position == StartingPosition::kAtTimestamp) {
      for (const SourceShard& shard : shards) {
        if (existing.count(shard.index) != 0) continue;
        TW_ASSIGN_OR_RETURN(at_time[shard.index],
                            source_.PositionAtTime(shard.index, options_.starting_time_micros));
      }
    }
    bool created = false;
    for (const SourceShard& shard : shards) {
      if (existing.count(shard.index) != 0) continue;
      Lease lease;
      lease.application = options_.application;
      lease.table = table_;
      lease.shard = shard.index;
      lease.parent = shard.parent;
      if (first_sight && options_.starting_position == StartingPosition::kLatest) {
        lease.checkpoint = shard.last_sequence.Next();
        lease.finished = shard.closed;
      }
      // At the trim horizon no checkpoint: the shard starts wherever retention has moved it.
      if (auto found = at_time.find(shard.index);
          found != at_time.end() && !found->second.at_trim_horizon) {
        lease.checkpoint = found->second.sequence;
        lease.finished = shard.closed && found->second.sequence > shard.last_sequence;
      }
      Status status = leases_.CreateLease(lease);
      if (!status.ok() && status.code() != ErrorCode::kConditionalCheckFailed) return status;
      created = true;
    }
    return created;
  }

  void StartShard(const Lease& lease, const std::vector<SourceShard>& shards)
      TW_REQUIRES(coordinator_thread_) {
    auto shard = std::make_unique<HeldShard>();
    shard->index = lease.shard;
    {
      MutexLock lease_lock(shard->lease_mu);  // the shard's thread does not exist yet
      shard->lease = lease;
      shard->last_write = clock_->MonotonicNow();
    }
    SourceShard described{.index = lease.shard};
    for (const SourceShard& s : shards) {
      if (s.index == lease.shard) described = s;
    }
    {
      MutexLock lock(mu_);
      ConsumerShardStatus& status = status_[lease.shard];
      status.shard = lease.shard;
      status.held = true;
    }
    observed_.erase(lease.shard);
    HeldShard* raw = shard.get();
    shard->thread = std::thread([this, raw, described] {
      ProcessShard(*raw, described);
      raw->done = true;
      // The coordinator looks now: a finished parent's children are ready to be taken.
      MutexLock lock(mu_);
      shard_done_ = true;
      wake_.NotifyAll();
    });
    held_[lease.shard] = std::move(shard);
  }

  void UpdateStatusFromLease(const Lease& lease) {
    MutexLock lock(mu_);
    ConsumerShardStatus& status = status_[lease.shard];
    status.shard = lease.shard;
    if (!status.held && lease.checkpoint) status.next_sequence = *lease.checkpoint;
    if (lease.finished) finished_.insert(lease.shard);
  }

  // --- shard threads ---

  void ProcessShard(HeldShard& shard, SourceShard described) {
    const std::stop_token stop = shard.stop.get_token();
    std::optional<SequenceNumber> position = LoadPosition(shard, stop);
    if (!position) {
      ReleaseLease(shard, std::nullopt, false);
      return;
    }
    // Without a checkpoint the shard starts at its trim horizon, wherever trimming has
    // moved it by the time of the read.
    bool at_horizon = *position == SequenceNumber(0);
    if (at_horizon) position = OldestRetained(described);
    SetNextSequence(shard.index, *position);
    milliseconds backoff = options_.retry_backoff_initial;
    while (!stop.stop_requested()) {
      Result<ChangeBatch> batch = ReadBatch(shard.index, *position, stop);
      if (!batch.ok()) {
        if (batch.status().code() == ErrorCode::kTrimmedDataAccess &&
            (at_horizon || options_.skip_trimmed)) {
          auto oldest = Oldest(shard.index);
          if (oldest.ok() && *oldest > *position) {
            if (!at_horizon) {
              CountTrimmed(shard.index, SequenceDistance(*position, *oldest), batch.status());
            }
            position = *oldest;
            continue;
          }
        }
        NotifyReadError("read", batch.status());
        SetError(shard.index, batch.status());
        clock_->SleepFor(backoff, stop);
        backoff = std::min(backoff * 2, options_.retry_backoff_max);
        continue;
      }
      backoff = options_.retry_backoff_initial;
      if (!batch->records.empty()) {
        at_horizon = false;
        if (!Deliver(shard, batch->records, stop)) break;
        position = SequenceNumber(batch->records.back().sequence()).Next();
        if (!Checkpoint(shard, *position, false)) return;
      } else {
        ClearIteratorAge(shard.index);
        position = std::max(*position, batch->next_sequence);
      }
      // Every record below the watermark is handled now.
      if (batch->resolved_micros) NoteResolvedTime(shard.index, *batch->resolved_micros);
      if (batch->end_of_shard) {
        if (!Settle(shard)) break;
        ReleaseLease(shard, *position, true);
        return;
      }
    }
    ReleaseLease(shard, std::nullopt, false);
  }

  // The checkpointed position; 0 when there is none (start at the trim horizon); nullopt
  // when stopping before it could be read.
  std::optional<SequenceNumber> LoadPosition(HeldShard& shard, const std::stop_token& stop) {
    milliseconds backoff = options_.retry_backoff_initial;
    while (!stop.stop_requested()) {
      if (options_.checkpoints == nullptr) {
        MutexLock lease_lock(shard.lease_mu);
        return shard.lease.checkpoint.value_or(SequenceNumber(0));
      }
      auto loaded = options_.checkpoints->Load(table_, shard.index);
      if (loaded.ok()) {
        if (*loaded) return **loaded;
        MutexLock lease_lock(shard.lease_mu);
        return shard.lease.checkpoint.value_or(SequenceNumber(0));
      }
      SetError(shard.index, loaded.status());
      clock_->SleepFor(backoff, stop);
      backoff = std::min(backoff * 2, options_.retry_backoff_max);
    }
    return std::nullopt;
  }

  Result<SequenceNumber> Oldest(ShardIndex index) {
    TW_ASSIGN_OR_RETURN(std::vector<SourceShard> shards, source_.ListShards());
    for (const SourceShard& shard : shards) {
      if (shard.index == index) return OldestRetained(shard);
    }
    return Status::NotFound("shard " + std::to_string(index.value()) + " is gone");
  }

  // Up to max_batch_records, waiting up to the batching window to fill the batch.
  Result<ChangeBatch> ReadBatch(ShardIndex index, SequenceNumber from,
                                const std::stop_token& stop) {
    TW_ASSIGN_OR_RETURN(ChangeBatch batch,
                        source_.Read(index, from, options_.max_batch_records, kReadWait));
    if (batch.records.empty()) return batch;
    NoteRecordsWaiting(index, batch.records);
    const MonotonicTime deadline = clock_->DeadlineAfter(options_.max_batching_window);
    while (batch.records.size() < options_.max_batch_records && !batch.end_of_shard &&
           !stop.stop_requested()) {
      const MonotonicTime now = clock_->MonotonicNow();
      if (now >= deadline) break;
      const milliseconds wait =
          std::min(kReadWait, std::chrono::ceil<milliseconds>(deadline - now));
      TW_ASSIGN_OR_RETURN(ChangeBatch more,
                          source_.Read(index, batch.next_sequence,
                                       options_.max_batch_records - batch.records.size(), wait));
      for (ChangeRecord& record : more.records) batch.records.push_back(std::move(record));
      batch.next_sequence = more.next_sequence;
      batch.end_of_shard = more.end_of_shard;
      batch.resolved_micros = more.resolved_micros;
    }
    return batch;
  }

  // Calls the handler until it accepts the records. False when stopping first.
  bool Deliver(HeldShard& shard, std::vector<ChangeRecord>& records, const std::stop_token& stop) {
    ShardBatch batch;
    batch.table = table_;
    batch.shard = shard.index;
    batch.records = std::move(records);
    batch.stop = stop;
    milliseconds backoff = options_.retry_backoff_initial;
    while (true) {
      Status status = handler_(batch);
      if (status.ok()) {
        MutexLock lock(mu_);
        ConsumerShardStatus& progress = status_[shard.index];
        progress.records_processed += batch.records.size();
        progress.last_record_time_micros = batch.records.back().approximate_creation_time_micros();
        records = std::move(batch.records);
        return true;
      }
      {
        MutexLock lock(mu_);
        ConsumerShardStatus& progress = status_[shard.index];
        ++progress.handler_errors;
        progress.last_error = status.ToString();
      }
      if (!clock_->SleepFor(backoff, stop)) return false;
      backoff = std::min(backoff * 2, options_.retry_backoff_max);
    }
  }

  // Has the checkpoint store commit what it accepted of the shard (CheckpointStore::Settle).
  // False when it failed: the shard is not finished, and its lease is given up so that it
  // is read again from the store's position (a failed commit may have dropped its tail).
  bool Settle(HeldShard& shard) {
    if (options_.checkpoints == nullptr) return true;
    const Status settled = options_.checkpoints->Settle(table_, shard.index);
    if (!settled.ok()) SetError(shard.index, settled);
    return settled.ok();
  }

  // Saves the position. False when the lease is lost (the shard thread ends).
  bool Checkpoint(HeldShard& shard, SequenceNumber next_sequence, bool finished) {
    MutexLock lease_lock(shard.lease_mu);
    if (shard.lost) return false;
    Lease updated = shard.lease;
    ++updated.counter;
    updated.finished = finished;
    updated.checkpoint_millis = clock_->NowMicros() / 1000;
    if (options_.checkpoints != nullptr) {
      Status saved = options_.checkpoints->Save(table_, shard.index, next_sequence);
      if (!saved.ok()) SetError(shard.index, saved);
    } else {
      updated.checkpoint = next_sequence;
    }
    if (finished) updated.owner.clear();
    const Status written = WriteLeaseLocked(shard, updated);
    if (written.ok() || options_.checkpoints != nullptr)
      SetNextSequence(shard.index, next_sequence);
    return !shard.lost;
  }

  // Gives the lease up: with a final checkpoint when `position` is set (finished: the
  // shard's end was processed). Nothing is written when the lease was lost.
  void ReleaseLease(HeldShard& shard, std::optional<SequenceNumber> position, bool finished) {
    if (position) {
      Checkpoint(shard, *position, finished);
      if (finished) {
        MutexLock lock(mu_);
        finished_.insert(shard.index);
        return;
      }
    }
    MutexLock lease_lock(shard.lease_mu);
    if (shard.lost) return;
    Lease released = shard.lease;
    ++released.counter;
    released.owner.clear();
    (void)WriteLeaseLocked(shard, released);
  }

  // --- progress ---

  void NotifyReadError(std::string_view operation, const Status& status) {
    if (options_.on_read_error) options_.on_read_error(operation, status);
  }

  void NoteShardEnds(const std::vector<SourceShard>& shards) {
    MutexLock lock(mu_);
    for (const SourceShard& shard : shards) {
      ConsumerShardStatus& status = status_[shard.index];
      status.shard = shard.index;
      status.last_sequence = shard.last_sequence;
    }
  }

  void SetError(ShardIndex index, const Status& status) {
    MutexLock lock(mu_);
    status_[index].last_error = status.ToString();
  }

  void SetNextSequence(ShardIndex index, SequenceNumber next_sequence) {
    MutexLock lock(mu_);
    status_[index].next_sequence = next_sequence;
  }

  void CountTrimmed(ShardIndex index, uint64_t lost, const Status& status) {
    MutexLock lock(mu_);
    status_[index].trimmed_records_skipped += lost;
    status_[index].last_error = status.ToString();
  }

  void NoteRecordsWaiting(ShardIndex index, const std::vector<ChangeRecord>& records) {
    const int64_t now = clock_->NowMicros();
    MutexLock lock(mu_);
    status_[index].iterator_age_millis =
        std::max<int64_t>(0, (now - records.front().approximate_creation_time_micros()) / 1000);
  }

  // Raises the shard's resolved time to `micros`; tells on_resolved_time when the table's
  // advances. One report at a time, so that they come in increasing order.
  void NoteResolvedTime(ShardIndex index, int64_t micros) TW_EXCLUDES(mu_, resolved_report_mu_) {
    MutexLock report_lock(resolved_report_mu_);
    std::optional<int64_t> table_resolved;
    {
      MutexLock lock(mu_);
      std::optional<int64_t>& shard_resolved = status_[index].resolved_time_micros;
      shard_resolved = std::max(shard_resolved.value_or(micros), micros);
      // The table's time needs every shard: one not held here (not taken yet, or another
      // worker's) and not finished leaves it unknown.
      for (const auto& [index_seen, status] : status_) {
        if (!status.held) {
          if (finished_.count(index_seen) != 0) continue;
          return;
        }
        if (!status.resolved_time_micros) return;
        table_resolved = std::min(table_resolved.value_or(*status.resolved_time_micros),
                                  *status.resolved_time_micros);
      }
    }
    if (!table_resolved || (reported_resolved_ && *table_resolved <= *reported_resolved_)) return;
    reported_resolved_ = table_resolved;
    if (options_.on_resolved_time) options_.on_resolved_time(*table_resolved);
  }

  void ClearIteratorAge(ShardIndex index) {
    MutexLock lock(mu_);
    status_[index].iterator_age_millis = 0;
  }

  const ConsumerOptions options_;
  const TableName table_{options_.table};
  ChangeSource& source_;
  LeaseStore& leases_;
  const BatchHandler handler_;
  Clock* const clock_;
  const milliseconds renew_interval_;
  const milliseconds tick_;

  Mutex lifecycle_mu_;  // Start/Stop
  bool started_ TW_GUARDED_BY(lifecycle_mu_) = false;
  bool stopped_ TW_GUARDED_BY(lifecycle_mu_) = false;
  std::thread coordinator_ TW_GUARDED_BY(lifecycle_mu_);

  // The coordinator thread, and Stop after joining it.
  ThreadRole coordinator_thread_;
  std::map<ShardIndex, std::unique_ptr<HeldShard>> held_ TW_GUARDED_BY(coordinator_thread_);
  std::map<ShardIndex, Observation> observed_ TW_GUARDED_BY(coordinator_thread_);
  std::mt19937 random_ TW_GUARDED_BY(coordinator_thread_){std::random_device{}()};

  mutable Mutex mu_;
  CondVar wake_;  // the coordinator waits on it (through clock_)
  bool stopping_ TW_GUARDED_BY(mu_) = false;
  bool shard_done_ TW_GUARDED_BY(mu_) = false;  // a shard thread ended since the last look
  std::map<ShardIndex, ConsumerShardStatus> status_ TW_GUARDED_BY(mu_);
  std::set<ShardIndex> finished_ TW_GUARDED_BY(mu_);  // read to their end (leases finished)
  // Before mu_: on_resolved_time is called holding it, and not mu_.
  Mutex resolved_report_mu_;
  std::optional<int64_t> reported_resolved_ TW_GUARDED_BY(resolved_report_mu_);
  Status coordinator_error_ TW_GUARDED_BY(mu_);
};

}  // namespace

Result<std::unique_ptr<StreamConsumer>> StreamConsumer::Create(ConsumerOptions options,
                                                               ChangeSource& source,
                                                               LeaseStore& leases,
                                                               BatchHandler handler) {
  if (options.table.empty()) return Status::Validation("ConsumerOptions.table is required");
  if (options.application.empty()) {
    return Status::Validation("ConsumerOptions.application is required");
  }
  if (options.max_batch_records == 0) {
    return Status::Validation("ConsumerOptions.max_batch_records must be at least 1");
  }
  if (options.lease_duration <= milliseconds(0) ||
      options.retry_backoff_initial < milliseconds(0) ||
      options.retry_backoff_max < options.retry_backoff_initial ||
      options.max_batching_window < milliseconds(0)) {
    return Status::Validation("ConsumerOptions durations must be positive and ordered");
  }
  if (!handler) return Status::Validation("a handler is required");
  if (options.clock == nullptr) return Status::Validation("ConsumerOptions.clock is required");
  if (options.worker_id.empty()) options.worker_id = DefaultWorkerId();
  return std::unique_ptr<StreamConsumer>(
      std::make_unique<Consumer>(std::move(options), source, leases, std::move(handler)));
}

}  // namespace tidewater::streams
