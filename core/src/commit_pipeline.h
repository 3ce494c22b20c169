// Private: the engine's commit pipeline. Every change to items and change logs (user
// writes, transactions, replication applies, TTL deletes, tombstone purges) is committed
// here, in each shard's commit order, through one durable step (WriteAheadLog).
//
// Two ways in:
//  * ShardWriter: one write to one shard (PutItem, UpdateItem, DeleteItem). Without group
//    commit the batch is written under the shard lock; with group commit it joins the
//    open CommitGroup and one leader writes the group for every shard in it.
//  * LockedShards: a multi-shard writer (TransactWrite, ApplyReplicationBatch, tombstone
//    purge) or a reader that needs a quiescent state (the replication snapshot, a stream
//    configuration change). It locks its shards in (table id, shard) order, waits until
//    none has a queued write, and wakes the waiting writers when it goes.
//
// Lock order: a shard's commit_mu (shards in (table id, index) order), then group_mu_,
// then notify_mu_. See docs/ARCHITECTURE.md "The commit path".
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tidewater/core/status.h"
#include "tidewater/core/thread_annotations.h"
#include "write_ahead_log.h"

namespace tidewater {

// One stream shard: a hash range with its own commit order and sequence counter.
//
// A writer takes commit_mu, reads the current item (from `overlay` when a queued, not yet
// durable write changed it, else from storage), assigns the next sequence and record time
// and commits or queues its change before releasing commit_mu. A record is visible to
// readers (committed_sequence) and acknowledged only once durable.
//
// Record times never decrease in sequence order: a writer's time is the clock raised to
// `last_micros`, which also holds the resolved watermarks given (Watermark), so that no
// later record falls below one.
struct Shard {
  using PendingValue = std::pair<uint64_t, std::optional<std::string>>;  // tag, stored item

  uint64_t table_id = 0;
  uint32_t index = 0;
  uint64_t hash_begin = 0;         // inclusive
  uint64_t hash_end = 0;           // inclusive
  std::optional<uint32_t> parent;  // the shard this one was split from
  // Set by a split, under commit_mu with the shard drained: no record lands here after.
  // A writer that finds it set under commit_mu routes its write again.
  std::atomic<bool> closed{false};
  Mutex commit_mu;
  CondVar commit_cv;  // pending reached 0, or exclusive_waiters dropped
  // newest sequence assigned (durable or queued)
  uint64_t last_sequence TW_GUARDED_BY(commit_mu) = 0;
  uint64_t last_tag TW_GUARDED_BY(commit_mu) = 0;     // newest write tag assigned
  uint64_t durable_tag TW_GUARDED_BY(commit_mu) = 0;  // newest write tag known durable
  // Writes queued in commit groups, not yet durable.
  size_t pending TW_GUARDED_BY(commit_mu) = 0;
  // LockedShards waiting for this shard to drain.
  int exclusive_waiters TW_GUARDED_BY(commit_mu) = 0;
  // Item key -> queued state.
  std::unordered_map<std::string, PendingValue> overlay TW_GUARDED_BY(commit_mu);
  // The newest record time assigned or resolved watermark given (microseconds).
  int64_t last_micros TW_GUARDED_BY(commit_mu) = 0;
  // (sequence, time) of the records queued in commit groups and not yet published, in
  // sequence order: the oldest holds the resolved watermark back.
  std::deque<std::pair<uint64_t, int64_t>> queued_records TW_GUARDED_BY(commit_mu);

  // The newest sequence whose record is committed; readers never look past it.
  std::atomic<uint64_t> committed_sequence{0};
  // The oldest sequence retention has not trimmed.
  std::atomic<uint64_t> first_sequence{1};

  // The time for a record assigned now, `now_micros` being the clock's reading: never
  // below an earlier record's time or a given watermark. Records it as assigned.
  int64_t AssignTime(int64_t now_micros) TW_REQUIRES(commit_mu) {
    last_micros = std::max(last_micros, now_micros);
    return last_micros;
  }
  // The resolved watermark at `now_micros` (see ChangeLog::ResolvedWatermark): the time of
  // the oldest queued record, or else `now_micros` (raised to last_micros, which it then
  // becomes), with the committed sequence it covers. A split shard's stops where it
  // closed: the later changes of its keys are its children's, and a reader that has
  // not reached them must not be told they are all emitted.
  std::pair<int64_t, uint64_t> Watermark(int64_t now_micros) TW_REQUIRES(commit_mu) {
    const uint64_t committed = committed_sequence.load(std::memory_order_acquire);
    if (!queued_records.empty()) return {queued_records.front().second, committed};
    if (closed.load()) return {last_micros, committed};
    return {AssignTime(now_micros), committed};
  }
};

// An item change and its change record, encoded, ready to go into a WriteBatch.
struct PreparedChange {
  rocksdb::ColumnFamilyHandle* items = nullptr;
  std::string key;
  std::optional<std::string> stored;  // nullopt: delete
  rocksdb::ColumnFamilyHandle* log = nullptr;
  std::string log_key;  // empty: no record (stream off)
  std::string record;
  rocksdb::ColumnFamilyHandle* index = nullptr;
  std::string tombstone_index_key;  // empty: the change leaves no tombstone
  // The item's secondary index entries that change with it: (entry key, stored entry or
  // nullopt to delete), in `index_entries`.
  rocksdb::ColumnFamilyHandle* index_entries = nullptr;
  std::vector<std::pair<std::string, std::optional<std::string>>> index_writes;
  // The change's global index work (a GlobalIndexWork) queued at `index_work_key` in
  // `index_entries`, numbered `index_work_number` (TableState::StartIndexWork); empty: none.
  std::string index_work_key;
  std::string index_work;
  uint64_t index_work_number = 0;
  // Point-in-time recovery's history entry of the change (storage::HistoryKey) in
  // `index_entries`: the item as the change left it (a tombstone for a delete); empty: the
  // table keeps no history.
  std::string history_key;
  std::string history;
  // In cluster mode, the change as its shard's log carries it (CommitManifest).
  std::optional<ManifestEntry> committed;

  void AddTo(rocksdb::WriteBatch& batch) const;
};

class CommitPipeline;
struct CommitGroup;

// One write to one shard, holding the shard's commit lock (a scoped capability over
// `shard.commit_mu`) from construction until AwaitDurable or Commit, which release it, or
// destruction. Waits at construction while a LockedShards is draining the shard. Not
// thread-safe; use on the writing thread only.
class TW_SCOPED_CAPABILITY ShardWriter {
 public:
  ShardWriter(CommitPipeline& pipeline, Shard& shard) TW_ACQUIRE(shard.commit_mu);
  ~ShardWriter() TW_RELEASE();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // The sequence the next record of this shard gets. Before a release.
  uint64_t NextSequence() const;
  // The time of the record this writer commits (Shard::AssignTime). Before a release.
  int64_t AssignTime(int64_t now_micros);
  // For an answer that rests on queued state (the write tagged `depends_on_tag`, 0: none):
  // releases the lock and returns once that state is durable (or the pipeline failed).
  Status AwaitDurable(uint64_t depends_on_tag) TW_RELEASE();
  // Commits `change` (its record, if any, has `sequence`; 0: none), releases the lock and
  // returns once the change is durable (or failed).
  Status Commit(PreparedChange change, uint64_t sequence) TW_RELEASE();

 private:
  void Unlock();

  CommitPipeline& pipeline_;
  Shard& shard_;
  bool locked_ = true;
  int64_t record_micros_ = 0;  // from AssignTime
};

// A set of shards, possibly of several tables, locked in (table id, shard) order and
// drained of queued writes, for one multi-shard commit or a quiescent read. Destroying it
// wakes the writers that waited. Not thread-safe; use on the owning thread only.
// The set is known at run time only, so the analysis cannot see these locks: code that
// touches a locked shard's guarded state says so with `shard.commit_mu.AssertHeld()`.
class LockedShards {
 public:
  // `shards` may repeat and come in any order.
  LockedShards(CommitPipeline& pipeline, std::vector<Shard*> shards);
  ~LockedShards();
  LockedShards(const LockedShards&) = delete;
  LockedShards& operator=(const LockedShards&) = delete;

  // The sequence of the next record of `shard` (one of the locked shards) in this commit.
  uint64_t AssignSequence(Shard& shard);
  // Takes `sequence`, decided elsewhere (a replicated log's owner), as the next record's of
  // `shard`; false, and nothing taken, unless it is the one after the shard's last (so
  // that a lost or repeated change is refused, never a gap or a duplicate).
  bool AdoptSequence(Shard& shard, uint64_t sequence);
  // One time for every record of this commit: `now_micros` raised to each locked shard's
  // last assigned time, and recorded as every locked shard's (Shard::AssignTime).
  int64_t AssignTime(int64_t now_micros);
  // Writes `batch` (which `manifest` describes: CommitManifest) through the durable step,
  // then publishes the assigned sequences. Call at most once. On error nothing is
  // published and the pipeline stops accepting writes.
  Status Commit(rocksdb::WriteBatch& batch, CommitManifest manifest = {});

 private:
  CommitPipeline& pipeline_;
  std::vector<Shard*> shards_;                         // sorted, unique; each one's commit_mu held
  std::vector<std::pair<Shard*, uint64_t>> assigned_;  // shard -> last assigned sequence
};

// The commit pipeline of one engine: the durable step, group commit, the write-failure
// state, and commit notifications for log followers. Thread-safe.
class CommitPipeline {
 public:
  // `group_commit`: queue writes into shared commit groups (worth it when every write
  // syncs) instead of writing each under its shard lock.
  CommitPipeline(std::unique_ptr<WriteAheadLog> wal, bool group_commit);
  ~CommitPipeline();

  // Ok while writes are accepted; otherwise why not: the failure of a durable step, or
  // the durable step's refusal (a full disk).
  Status WriteHealth();
  // Ok unless a durable step failed; then the error that stopped writes until recovery.
  Status WriteFailure();
  // Accepts writes again after a failure. The caller has recovered the storage and reset
  // every shard's counters and overlay while holding every shard (LockedShards).
  void ClearWriteFailure();
  // Waits until a change record is committed after epoch `seen`, or `timeout` passes.
  uint64_t WaitForCommit(uint64_t seen, std::chrono::milliseconds timeout);
  // Wakes WaitForCommit callers (a record was committed).
  void NotifyCommit();

 private:
  friend class ShardWriter;
  friend class LockedShards;

  // The open commit group to join; fails once a write has failed.
  Result<std::shared_ptr<CommitGroup>> OpenGroup() TW_REQUIRES(group_mu_);
  // Leads or waits until `group` is durable (or failed). No shard lock held.
  Status AwaitGroup(const std::shared_ptr<CommitGroup>& group) TW_EXCLUDES(group_mu_);
  // The durable step for a batch written outside commit groups; records a failure.
  Status WriteNow(rocksdb::WriteBatch& batch, CommitManifest& manifest) TW_EXCLUDES(group_mu_);
  // Records `failure` as the reason writes stop; returns it.
  Status FailWrites(Status failure) TW_REQUIRES(group_mu_);
  // Takes `writes` of a finished group off `shard`'s pending count and wakes its waiters.
  static void FinishPending(Shard& shard, size_t writes) TW_REQUIRES(shard.commit_mu);

  std::unique_ptr<WriteAheadLog> wal_;
  const bool group_commit_;

  Mutex group_mu_;  // after any shard's commit_mu
  CondVar group_cv_;
  bool leader_active_ TW_GUARDED_BY(group_mu_) = false;
  std::shared_ptr<CommitGroup> open_group_ TW_GUARDED_BY(group_mu_);
  Status write_failure_ TW_GUARDED_BY(group_mu_);
  std::atomic<bool> failed_{false};  // write_failure_ is set (lock-free check)

  std::atomic<uint64_t> commit_epoch_{0};
  std::atomic<int> commit_waiters_{0};
  Mutex notify_mu_;  // last in the lock order
  CondVar notify_cv_;
};

}  // namespace tidewater
