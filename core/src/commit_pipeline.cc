// The commit pipeline: single-shard writes (direct or group commit), multi-shard commits
// under LockedShards, the write-failure state and commit notifications.
#include "commit_pipeline.h"

#include <algorithm>

#include "tidewater/core/failure_point.h"

namespace tidewater {

// Writes committed together by one durable step (group commit), across shards.
struct CommitGroup {
  // How far the group takes one shard.
  struct ShardProgress {
    Shard* shard;
    uint64_t last_sequence;  // newest record sequence (0: none)
    uint64_t last_tag;       // newest write tag
    size_t writes;
  };
  rocksdb::WriteBatch batch;
  CommitManifest manifest;
  std::vector<ShardProgress> shards;
  bool done = false;
  Status status;

  void Add(Shard* shard, uint64_t sequence, uint64_t tag) {
    for (auto& progress : shards) {
      if (progress.shard == shard) {
        progress.last_sequence = std::max(progress.last_sequence, sequence);
        progress.last_tag = std::max(progress.last_tag, tag);
        ++progress.writes;
        return;
      }
    }
    shards.push_back({shard, sequence, tag, 1});
  }
};

void PreparedChange::AddTo(rocksdb::WriteBatch& batch) const {
  if (stored) {
    batch.Put(items, key, *stored);
  } else {
    batch.Delete(items, key);
  }
  if (!log_key.empty()) batch.Put(log, log_key, record);
  if (!tombstone_index_key.empty()) batch.Put(index, tombstone_index_key, rocksdb::Slice());
  for (const auto& [entry_key, entry] : index_writes) {
    if (entry) {
      batch.Put(index_entries, entry_key, *entry);
    } else {
      batch.Delete(index_entries, entry_key);
    }
  }
  if (!index_work_key.empty()) batch.Put(index_entries, index_work_key, index_work);
  if (!history_key.empty()) batch.Put(index_entries, history_key, history);
}

// --- CommitPipeline ---

CommitPipeline::CommitPipeline(std::unique_ptr<WriteAheadLog> wal, bool group_commit)
    : wal_(std::move(wal)), group_commit_(group_commit) {}

CommitPipeline::~CommitPipeline() = default;

Status CommitPipeline::WriteHealth() {
  TW_RETURN_IF_ERROR(WriteFailure());
  return wal_->Admit();
}

Status CommitPipeline::WriteFailure() {
  if (!failed_.load(std::memory_order_acquire)) return Status::Ok();
  MutexLock lock(group_mu_);
  return write_failure_;
}

void CommitPipeline::ClearWriteFailure() {
  MutexLock lock(group_mu_);
  write_failure_ = Status::Ok();
  failed_.store(false, std::memory_order_release);
}

Status CommitPipeline::FailWrites(Status failure) {
  // What is queued behind a failed write was prepared on top of it: the pipeline stops
  // accepting writes (RocksDB too is read-only after a failed write) until the engine
  // recovers the storage and re-reads every shard's counters from the log.
  write_failure_ = std::move(failure);
  failed_.store(true, std::memory_order_release);
  return write_failure_;
}

Status CommitPipeline::WriteNow(rocksdb::WriteBatch& batch, CommitManifest& manifest) {
  if (batch.Count() == 0) return WriteFailure();
  TW_RETURN_IF_ERROR(WriteHealth());
  TW_FAILURE_POINT("commit.before_durable");
  Status s = wal_->Commit(batch, manifest);
  TW_FAILURE_POINT("commit.after_durable");
  if (!s.ok()) {
    MutexLock lock(group_mu_);
    return FailWrites(std::move(s));
  }
  return Status::Ok();
}

Result<std::shared_ptr<CommitGroup>> CommitPipeline::OpenGroup() {
  if (!write_failure_.ok()) return write_failure_;
  if (!open_group_) open_group_ = std::make_shared<CommitGroup>();
  return open_group_;
}

void CommitPipeline::FinishPending(Shard& shard, size_t writes) {
  shard.pending -= writes;
  shard.commit_cv.NotifyAll();
}

Status CommitPipeline::AwaitGroup(const std::shared_ptr<CommitGroup>& group) {
  group_mu_.lock();
  while (!group->done) {
    if (leader_active_) {
      group_cv_.Wait(group_mu_);
      continue;
    }
    // Lead. Groups are written in order and ours is not done, so it is the open one.
    leader_active_ = true;
    std::shared_ptr<CommitGroup> writing = std::move(open_group_);
    group_mu_.unlock();
    TW_FAILURE_POINT("commit.before_durable");
    Status s =
        writing->batch.Count() > 0 ? wal_->Commit(writing->batch, writing->manifest) : Status::Ok();
    TW_FAILURE_POINT("commit.after_durable");
    // Make each shard's progress visible before the next group can be written, so that
    // committed sequences only grow.
    bool published = false;
    for (const auto& progress : writing->shards) {
      Shard& shard = *progress.shard;
      MutexLock shard_lock(shard.commit_mu);
      if (s.ok()) {
        shard.durable_tag = std::max(shard.durable_tag, progress.last_tag);
        std::erase_if(shard.overlay,
                      [&](const auto& entry) { return entry.second.first <= progress.last_tag; });
        if (progress.last_sequence != 0) {
          shard.committed_sequence.store(progress.last_sequence, std::memory_order_release);
          while (!shard.queued_records.empty() &&
                 shard.queued_records.front().first <= progress.last_sequence) {
            shard.queued_records.pop_front();
          }
          published = true;
        }
      }
      FinishPending(shard, progress.writes);
    }
    if (published) NotifyCommit();
    group_mu_.lock();
    leader_active_ = false;
    writing->done = true;
    std::shared_ptr<CommitGroup> abandoned;  // queued behind the failed group: fails too
    if (!s.ok()) {
      writing->status = FailWrites(std::move(s));
      if (open_group_) {
        open_group_->done = true;
        open_group_->status = write_failure_;
        abandoned = std::move(open_group_);
      }
    }
    group_cv_.NotifyAll();
    if (abandoned) {
      // Its writes are no longer pending: a LockedShards (recovery) must not wait for them.
      group_mu_.unlock();
      for (const auto& progress : abandoned->shards) {
        MutexLock shard_lock(progress.shard->commit_mu);
        FinishPending(*progress.shard, progress.writes);
      }
      group_mu_.lock();
    }
  }
  Status status = group->status;
  group_mu_.unlock();
  return status;
}

void CommitPipeline::NotifyCommit() {
  commit_epoch_.fetch_add(1, std::memory_order_release);
  if (commit_waiters_.load(std::memory_order_acquire) > 0) {
    MutexLock lock(notify_mu_);
    notify_cv_.NotifyAll();
  }
}

uint64_t CommitPipeline::WaitForCommit(uint64_t seen, std::chrono::milliseconds timeout) {
  uint64_t epoch = commit_epoch_.load(std::memory_order_acquire);
  if (epoch != seen) return epoch;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(notify_mu_);
  commit_waiters_.fetch_add(1, std::memory_order_acq_rel);
  while (commit_epoch_.load(std::memory_order_acquire) == seen &&
         notify_cv_.WaitUntil(notify_mu_, deadline)) {
  }
  commit_waiters_.fetch_sub(1, std::memory_order_acq_rel);
  return commit_epoch_.load(std::memory_order_acquire);
}

// --- ShardWriter ---

ShardWriter::ShardWriter(CommitPipeline& pipeline, Shard& shard)
    : pipeline_(pipeline), shard_(shard) {
  shard_.commit_mu.lock();
  while (shard_.exclusive_waiters != 0) shard_.commit_cv.Wait(shard_.commit_mu);
}

ShardWriter::~ShardWriter() {
  if (locked_) Unlock();
}

void ShardWriter::Unlock() TW_NO_THREAD_SAFETY_ANALYSIS {
  // Held since construction (locked_): the analysis does not follow a lock held by an
  // object across member functions.
  locked_ = false;
  shard_.commit_mu.unlock();
}

uint64_t ShardWriter::NextSequence() const {
  shard_.commit_mu.AssertHeld();  // held from construction until a release
  return shard_.last_sequence + 1;
}

int64_t ShardWriter::AssignTime(int64_t now_micros) {
  shard_.commit_mu.AssertHeld();  // held from construction until a release
  record_micros_ = shard_.AssignTime(now_micros);
  return record_micros_;
}

Status ShardWriter::AwaitDurable(uint64_t depends_on_tag) {
  shard_.commit_mu.AssertHeld();
  const bool durable = depends_on_tag <= shard_.durable_tag;
  Unlock();
  if (durable) return Status::Ok();
  // Join the open group: it is written after the one holding that write.
  std::shared_ptr<CommitGroup> group;
  {
    MutexLock group_lock(pipeline_.group_mu_);
    TW_ASSIGN_OR_RETURN(group, pipeline_.OpenGroup());
  }
  return pipeline_.AwaitGroup(group);
}

Status ShardWriter::Commit(PreparedChange change, uint64_t sequence) {
  shard_.commit_mu.AssertHeld();
  const uint64_t tag = shard_.last_tag + 1;
  if (!pipeline_.group_commit_) {
    // A write without fsync costs microseconds: writing under the shard lock is cheaper
    // than handing it to a group leader (a thread wake-up per write). WriteNow admits it.
    rocksdb::WriteBatch batch;
    change.AddTo(batch);
    CommitManifest manifest;
    if (change.committed) manifest.push_back(std::move(*change.committed));
    Status written = pipeline_.WriteNow(batch, manifest);
    if (written.ok()) {
      shard_.last_tag = shard_.durable_tag = tag;
      if (sequence != 0) {
        shard_.last_sequence = sequence;
        shard_.committed_sequence.store(sequence, std::memory_order_release);
        pipeline_.NotifyCommit();
      }
    }
    Unlock();
    return written;
  }
  if (Status admitted = pipeline_.wal_->Admit(); !admitted.ok()) {
    Unlock();
    return admitted;
  }
  std::shared_ptr<CommitGroup> group;
  {
    MutexLock group_lock(pipeline_.group_mu_);
    Result<std::shared_ptr<CommitGroup>> opened = pipeline_.OpenGroup();
    if (!opened.ok()) {
      Unlock();
      return opened.status();
    }
    group = std::move(*opened);
    change.AddTo(group->batch);
    if (change.committed) group->manifest.push_back(std::move(*change.committed));
    group->Add(&shard_, sequence, tag);
  }
  if (sequence != 0) {
    shard_.last_sequence = sequence;
    shard_.queued_records.emplace_back(sequence, record_micros_);
  }
  shard_.last_tag = tag;
  ++shard_.pending;
  shard_.overlay[change.key] = {tag, std::move(change.stored)};
  Unlock();
  return pipeline_.AwaitGroup(group);
}

// --- LockedShards ---

// The locks are a run-time set the analysis cannot follow (see the class comment).
LockedShards::LockedShards(CommitPipeline& pipeline,
                           std::vector<Shard*> shards) TW_NO_THREAD_SAFETY_ANALYSIS
    : pipeline_(pipeline),
      shards_(std::move(shards)) {
  const auto order = [](const Shard* a, const Shard* b) {
    return std::pair(a->table_id, a->index) < std::pair(b->table_id, b->index);
  };
  std::sort(shards_.begin(), shards_.end(), order);
  shards_.erase(std::unique(shards_.begin(), shards_.end()), shards_.end());
  for (Shard* shard : shards_) {
    shard->commit_mu.lock();
    ++shard->exclusive_waiters;
    while (shard->pending != 0) shard->commit_cv.Wait(shard->commit_mu);
    --shard->exclusive_waiters;
  }
}

LockedShards::~LockedShards() TW_NO_THREAD_SAFETY_ANALYSIS {
  for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) {
    (*it)->commit_cv.NotifyAll();
    (*it)->commit_mu.unlock();
  }
}

uint64_t LockedShards::AssignSequence(Shard& shard) {
  for (auto& [assigned_shard, sequence] : assigned_) {
    if (assigned_shard == &shard) return ++sequence;
  }
  shard.commit_mu.AssertHeld();  // one of ours
  assigned_.emplace_back(&shard, shard.last_sequence + 1);
  return assigned_.back().second;
}

bool LockedShards::AdoptSequence(Shard& shard, uint64_t sequence) {
  for (auto& [assigned_shard, assigned] : assigned_) {
    if (assigned_shard != &shard) continue;
    if (sequence != assigned + 1) return false;
    assigned = sequence;
    return true;
  }
  shard.commit_mu.AssertHeld();  // one of ours
  if (sequence != shard.last_sequence + 1) return false;
  assigned_.emplace_back(&shard, sequence);
  return true;
}

int64_t LockedShards::AssignTime(int64_t now_micros) {
  int64_t micros = now_micros;
  for (Shard* shard : shards_) {
    shard->commit_mu.AssertHeld();  // one of ours
    micros = std::max(micros, shard->last_micros);
  }
  for (Shard* shard : shards_) {
    shard->commit_mu.AssertHeld();
    shard->AssignTime(micros);
  }
  return micros;
}

Status LockedShards::Commit(rocksdb::WriteBatch& batch, CommitManifest manifest) {
  TW_RETURN_IF_ERROR(pipeline_.WriteNow(batch, manifest));
  for (const auto& [shard, sequence] : assigned_) {
    shard->commit_mu.AssertHeld();
    shard->last_sequence = sequence;
    shard->committed_sequence.store(sequence, std::memory_order_release);
  }
  if (!assigned_.empty()) pipeline_.NotifyCommit();
  return Status::Ok();
}

}  // namespace tidewater
