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
#include <string>
#include <vector>

#include "disk_space_guard.h"
#include "tidewater/core/status.h"
#include "tidewater/v1/cluster.pb.h"

namespace tidewater {

// One committed change of a commit, for a replicated durable step: its table and shard.
struct ManifestEntry {
  uint64_t table_id = 0;
  std::string table;
  uint32_t shard = 0;
  v1::CommittedChange change;
};
// What a commit's batch changes, as its shards' logs carry it. Built only in cluster mode
// (EngineOptions::replicated_log); empty otherwise, and for writes that stay local (the
// apply of a shard log, purges of derived state).
using CommitManifest = std::vector<ManifestEntry>;

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
  // `manifest` describes `batch` for a replicated durable step (see CommitManifest), which
  // may take its changes.
  virtual Status Commit(rocksdb::WriteBatch& batch, CommitManifest& manifest) = 0;
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
  Status Commit(rocksdb::WriteBatch& batch, CommitManifest&) override {
    rocksdb::Status s = db_.Write(options_, &batch);
    return s.ok() ? Status::Ok() : Status::IOError("storage: " + s.ToString());
  }

 private:
  rocksdb::DB& db_;
  const std::unique_ptr<DiskSpaceGuard> disk_space_;
  rocksdb::WriteOptions options_;
};

}  // namespace tidewater
