// Private: the durable step of the commit pipeline, behind an interface so that what
// makes a commit durable can change without touching item logic.
//
// Embedded default (LocalWriteAheadLog): RocksDB's own WAL; a commit is durable once
// DB::Write returns (synced per EngineOptions::sync). Cluster mode puts a replicated log
// under the same interface: a batch's change records are the log-column-family puts in
// it (one per record, key = shard ‖ sequence), which such an implementation appends to
// the shard's replicated log before applying the batch locally.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <memory>

#include "disk_space_guard.h"
#include "tidewater/core/status.h"

namespace tidewater {

// Makes commits durable and applies them to local storage.
//
// [Contract] Commit is all or nothing: after ok, a crash keeps every entry of the batch;
// after an error, the caller treats the outcome as unknown and stops writing until the
// storage recovers (the pipeline's write-failure state).
// [Ordering] Batches are committed in the order Commit is called; the pipeline never
// calls it concurrently for batches that share a shard.
// [Admission] Admit says whether a commit may be attempted now; a refusal (a full disk)
// is not a failure: nothing was written, and writes are admitted again once it passes.
// [Threading] Commit and Admit may be called from several threads at once.
class WriteAheadLog {
 public:
  virtual ~WriteAheadLog() = default;
  virtual Status Admit() = 0;
  virtual Status Commit(rocksdb::WriteBatch& batch) = 0;
};

// RocksDB's write-ahead log, admitting writes while the disk has its reserve of free
// space. The DB must outlive it.
class LocalWriteAheadLog final : public WriteAheadLog {
 public:
  LocalWriteAheadLog(rocksdb::DB& db, bool sync, std::unique_ptr<DiskSpaceGuard> disk_space)
      : db_(db), disk_space_(std::move(disk_space)) {
    options_.sync = sync;
  }
  Status Admit() override { return disk_space_->Admit(); }
  Status Commit(rocksdb::WriteBatch& batch) override {
    rocksdb::Status s = db_.Write(options_, &batch);
    return s.ok() ? Status::Ok() : Status::IOError("storage: " + s.ToString());
  }

 private:
  rocksdb::DB& db_;
  const std::unique_ptr<DiskSpaceGuard> disk_space_;
  rocksdb::WriteOptions options_;
};

}  // namespace tidewater
