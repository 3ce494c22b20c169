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

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tidewater/core/status.h"
#include "write_ahead_log.h"

namespace tidewater {

// One stream shard: a hash range with its own commit order and sequence counter.
//
// A writer takes commit_mu, reads the current item (from `overlay` when a queued, not yet
// durable write changed it, else from storage), assigns the next sequence and commits or
// queues its change before releasing commit_mu. A record is visible to readers
// (committed_sequence) and acknowledged only once durable.
struct Shard {
  using PendingValue = std::pair<uint64_t, std::optional<std::string>>;  // tag, stored item

  uint64_t table_id = 0;
  uint32_t index = 0;
  uint64_t hash_begin = 0;
  uint64_t hash_end = 0;
  std::mutex commit_mu;
  std::condition_variable commit_cv;  // pending reached 0, or exclusive_waiters dropped
  // All below guarded by commit_mu.
  uint64_t last_sequence = 0;  // newest sequence assigned (durable or queued)
  uint64_t last_tag = 0;       // newest write tag assigned
  uint64_t durable_tag = 0;    // newest write tag known durable
  size_t pending = 0;          // writes queued in commit groups, not yet durable
  int exclusive_waiters = 0;   // LockedShards waiting for this shard to drain
  std::unordered_map<std::string, PendingValue> overlay;  // item key -> queued state

  // The newest sequence whose record is committed; readers never look past it.
  std::atomic<uint64_t> committed_sequence{0};
  // The oldest sequence retention has not trimmed.
  std::atomic<uint64_t> first_sequence{1};
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

  void AddTo(rocksdb::WriteBatch& batch) const;
};

class CommitPipeline;
struct CommitGroup;

// One write to one shard, holding the shard's commit lock from construction until it
// commits, awaits, or is destroyed. Waits at construction while a LockedShards is
// draining the shard. Not thread-safe; use on the writing thread only.
class ShardWriter {
 public:
  ShardWriter(CommitPipeline& pipeline, Shard& shard);
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  Shard& shard() { return shard_; }
  // The sequence the next record of this shard gets.
  uint64_t NextSequence() const { return shard_.last_sequence + 1; }
  // For an answer that rests on queued state (the write tagged `depends_on_tag`, 0: none):
  // releases the lock and returns once that state is durable (or the pipeline failed).
  Status AwaitDurable(uint64_t depends_on_tag);
  // Commits `change` (its record, if any, has `sequence`; 0: none) and returns once it is
  // durable. Releases the lock.
  Status Commit(PreparedChange change, uint64_t sequence);

 private:
  CommitPipeline& pipeline_;
  Shard& shard_;
  std::unique_lock<std::mutex> lock_;
};

// A set of shards, possibly of several tables, locked in (table id, shard) order and
// drained of queued writes, for one multi-shard commit or a quiescent read. Destroying it
// wakes the writers that waited. Not thread-safe; use on the owning thread only.
class LockedShards {
 public:
  // `shards` may repeat and come in any order.
  LockedShards(CommitPipeline& pipeline, std::vector<Shard*> shards);
  ~LockedShards();
  LockedShards(const LockedShards&) = delete;
  LockedShards& operator=(const LockedShards&) = delete;

  // The sequence of the next record of `shard` (one of the locked shards) in this commit.
  uint64_t AssignSequence(Shard& shard);
  // Writes `batch` through the durable step, then publishes the assigned sequences. Call
  // at most once. On error nothing is published and the pipeline stops accepting writes.
  Status Commit(rocksdb::WriteBatch& batch);

 private:
  CommitPipeline& pipeline_;
  std::vector<Shard*> shards_;  // sorted, unique
  std::vector<std::unique_lock<std::mutex>> locks_;
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

  // Ok while writes are accepted; after a failed durable step, the error that stopped them.
  Status WriteHealth();
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

  // The open commit group to join; fails once a write has failed. group_mu_ held.
  Result<std::shared_ptr<CommitGroup>> OpenGroup();
  // Leads or waits until `group` is durable (or failed). No shard lock held.
  Status AwaitGroup(const std::shared_ptr<CommitGroup>& group);
  // The durable step for a batch written outside commit groups; records a failure.
  Status WriteNow(rocksdb::WriteBatch& batch);
  // Records `failure` as the reason writes stop; returns it. group_mu_ held.
  Status FailWrites(Status failure);

  std::unique_ptr<WriteAheadLog> wal_;
  const bool group_commit_;

  std::mutex group_mu_;
  std::condition_variable group_cv_;
  bool leader_active_ = false;               // guarded by group_mu_
  std::shared_ptr<CommitGroup> open_group_;  // guarded by group_mu_
  Status write_failure_;                     // guarded by group_mu_
  std::atomic<bool> failed_{false};          // write_failure_ is set (lock-free check)

  std::atomic<uint64_t> commit_epoch_{0};
  std::atomic<int> commit_waiters_{0};
  std::mutex notify_mu_;
  std::condition_variable notify_cv_;
};

}  // namespace tidewater
