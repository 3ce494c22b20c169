// The table engine: DynamoDB-style tables on one RocksDB instance, with every change
// written atomically into an ordered per-shard change log.
//
// Contract (tested in tests/core):
//  * An acknowledged write (ok Status) is durable per EngineOptions::sync and its change
//    record is in its shard's log exactly once; a failed or rejected write changes
//    nothing and leaves no record.
//  * Per shard, sequence numbers start at 1 (a table created again under a deleted
//    table's name: after the deleted table's last) and strictly increase with no gaps; all
//    changes of one item are in one shard, in commit order. This holds after a crash
//    (kill -9) and reopen.
//  * Item and change record are committed in ONE RocksDB WriteBatch.
//
// The engine plays six roles, each its own interface, so that a component depends only
// on what it uses: TableCatalog (table_catalog.h), ItemStore (item_store.h), ChangeLog
// (change_log.h: what log followers read), ReplicationTarget (replication_target.h),
// ShardLogTarget (shard_log_target.h: cluster mode's log followers) and TableBackups
// (table_backups.h).
//
// Thread safety: every method is safe to call concurrently. Writes to one shard are
// serialized in commit order; writes to different shards proceed in parallel.
// Ownership: the Engine owns its RocksDB instance and background threads; destroy it
// to stop them. Exceptions never escape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tidewater/core/change_log.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/item_store.h"
#include "tidewater/core/replication_target.h"
#include "tidewater/core/shard_log_target.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table_backups.h"
#include "tidewater/core/table_catalog.h"

namespace rocksdb {
class FileSystem;
}  // namespace rocksdb

namespace tidewater {

struct EngineOptions {
  std::string data_dir = "./data";
  std::string region = "local";
  Clock* clock = Clock::System();  // not owned; must outlive the engine
  // fsync the WAL on every write (RocksDB WriteOptions::sync). Concurrent writers share
  // fsyncs (group commit).
  bool sync = false;
  int64_t stream_retention_micros = 24LL * 3600 * 1'000'000;
  // How long a deleted item's versioned tombstone is kept (by the injected clock), so that
  // an older replicated write arriving late cannot bring it back. 0: no tombstones.
  int64_t tombstone_retention_micros = 24LL * 3600 * 1'000'000;
  // DynamoDB's item collection limit for tables with local secondary indexes: a write that
  // adds to or grows an item of a partition whose items and index entries are estimated at
  // this size or more fails with ItemCollectionSizeLimitExceededException.
  uint64_t item_collection_limit_bytes = 10ULL << 30;
  // Background work. 0 disables the thread; tests call RunTtlSweep/TrimStreams directly.
  int64_t ttl_sweep_interval_micros = 1'000'000;
  int64_t retention_interval_micros = 60'000'000;
  size_t block_cache_bytes = 64 << 20;
  // The item and page cache (item_cache.h) that eventually consistent reads
  // (ReadConsistency::kEventual) may be answered from, in bytes. 0: no cache.
  size_t item_cache_bytes = 0;
  // The filesystem RocksDB works through (null: the machine's). Tests inject faults here.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // Cluster mode (shard_log_target.h): every commit's changes go to their shards'
  // replicated logs before the local write. Not owned; must outlive the engine. Null: the
  // embedded default, where RocksDB's own WAL makes a commit durable.
  ReplicatedCommitLog* replicated_log = nullptr;
  // While writes are refused after a storage error, how often the background loop tries
  // to recover (RocksDB's Resume, then the shards' counters re-read from the log).
  int64_t storage_recovery_interval_micros = 1'000'000;
  // Writes are refused, before they reach storage, while the data directory's filesystem
  // has less free space than this (checked at most every 100 ms): RocksDB is kept from
  // ever writing to a full disk, and writes resume by themselves once space is freed.
  // WriteHealth reports the refusal. 0: no reserve.
  uint64_t min_free_disk_bytes = 0;
  // Where backups are kept (table_backups.h), apart from the RocksDB files; empty:
  // `<data_dir>/backups`.
  std::string backup_dir;
};

class ItemCache;

class Engine : public TableCatalog,
               public ItemStore,
               public ChangeLog,
               public ReplicationTarget,
               public ShardLogTarget,
               public TableBackups {
 public:
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine() override = default;

  virtual const EngineOptions& options() const = 0;
  // The read cache, or nullptr when EngineOptions::item_cache_bytes is 0. Owned by the
  // engine; for its statistics.
  virtual const ItemCache* item_cache() const = 0;

  // --- Background work, also callable directly (tests, tools) ---
  // Deletes every item whose TTL has passed; returns how many were deleted.
  virtual Result<size_t> RunTtlSweep() = 0;
  // Trims change records older than the retention period; returns how many went.
  virtual Result<size_t> TrimStreams() = 0;
  // Deletes tombstones older than tombstone_retention_micros; returns how many went.
  virtual Result<size_t> PurgeTombstones() = 0;

  // --- Storage health ---
  // Ok while writes are accepted. While free space is below min_free_disk_bytes, or after
  // a storage error (a full disk, a failed write or fsync), writes fail with that error
  // until space is freed or the engine has recovered; reads go on.
  virtual Status WriteHealth() = 0;
  // Tries to recover from a storage error now (the background loop also tries every
  // storage_recovery_interval_micros): RocksDB resumes, and every shard's counters are
  // re-read from the log. Ok when writes are accepted again.
  virtual Status RecoverStorage() = 0;
};

}  // namespace tidewater
