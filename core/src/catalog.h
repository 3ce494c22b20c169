// Private: the table catalog: the tables of one engine, their column families, shards and
// stream configuration, and their lifecycle (create, describe, list, update, delete).
// Catalog entries live in the default column family (`table/<name>`, TableMeta). A deleted
// table whose stream is still readable is kept as `retired_table/<id>` (its log column
// family with it) until the stream expires; `sequence_base/<name>` keeps where the
// sequences of a name's deleted tables ended, so that a table created again continues.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "commit_pipeline.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"
#include "tidewater/v1/catalog.pb.h"

namespace tidewater {

// The mutable part of a table's definition; replaced whole (copy on write).
struct TableConfig {
  StreamSpecification stream;
  std::string stream_label;
  std::optional<std::string> ttl_attribute;
  // Point-in-time recovery is on: every change also writes its history entry.
  bool keeps_history = false;
};

// An open table. Shared by operations in flight; the column family handles are
// destroyed with the last reference, after DeleteTable dropped them. Thread-safe.
class TableState {
 public:
  // `items` is null for a deleted table kept for its disabled streams; `index_entries` is
  // null for a table without secondary indexes.
  TableState(rocksdb::DB* db, v1::TableMeta meta, rocksdb::ColumnFamilyHandle* items,
             rocksdb::ColumnFamilyHandle* log, rocksdb::ColumnFamilyHandle* index_entries);
  ~TableState();

  // Fixed for the table's life: read without mu_ while set_meta replaces meta_.
  const std::string& name() const { return name_; }
  uint64_t id() const { return id_; }
  const KeySchema& key_schema() const { return key_schema_; }
  rocksdb::ColumnFamilyHandle* items() const { return items_; }
  rocksdb::ColumnFamilyHandle* log() const { return log_; }
  // The entries of the table's secondary indexes (null: it never had one). Set once: at
  // open, or by the first global index created (set_index_entries).
  rocksdb::ColumnFamilyHandle* index_entries() const {
    return index_entries_.load(std::memory_order_acquire);
  }
  // Gives a table that never had an index its index column family (the caller created
  // it and holds every shard's commit lock, so no write is in flight); the TableState
  // owns the handle from now on.
  void set_index_entries(rocksdb::ColumnFamilyHandle* index_entries);
  const std::vector<SecondaryIndex>& local_indexes() const { return local_indexes_; }
  // The global indexes as of now: a snapshot, replaced whole when an index is created,
  // finishes its backfill or is deleted (set_meta). A writer reads it under its shard's
  // commit lock, which the catalog holds over every shard to create an index, so every
  // change committed after the creation writes the new index.
  std::shared_ptr<const std::vector<SecondaryIndex>> global_indexes() const;
  // Ordinals of deleted global indexes whose entries are still stored.
  std::vector<uint32_t> dropped_index_ordinals() const;
  // The local or global index named `name` (null: none). It stays valid as long as the
  // pointer is held (a global one keeps its list snapshot alive), without a copy.
  std::shared_ptr<const SecondaryIndex> FindIndex(std::string_view name) const;
  // Global index work numbers (see storage::IndexWorkKey). A writer takes one under the
  // item's shard commit lock (so one item's entries are numbered in commit order) and
  // finishes it once its commit returned, committed or failed. Every number below
  // LowestUnfinishedIndexWork() is then committed (visible) or never will be: the
  // maintainer need not look below it again once it applied what it saw there.
  uint64_t StartIndexWork();
  void FinishIndexWork(uint64_t number);
  uint64_t LowestUnfinishedIndexWork() const;
  uint64_t PeekNextIndexWork() const { return next_index_work_.load(std::memory_order_relaxed); }
  // Where the maintainer's next pass over the queue starts; the maintainer's own.
  uint64_t index_scan_from = 0;
  // The item key after which the backfill of a backfilling global index goes on; the
  // maintainer's own (a restart starts the backfill again from the first item).
  std::string backfill_after;
  // The global index maintainer's view of the queue after its last pass: entries left and
  // the commit time of the oldest (0: none).
  void set_index_backlog(uint64_t entries, int64_t oldest_micros) {
    index_backlog_.store(entries, std::memory_order_relaxed);
    oldest_index_work_micros_.store(oldest_micros, std::memory_order_relaxed);
  }
  uint64_t index_backlog() const { return index_backlog_.load(std::memory_order_relaxed); }
  int64_t oldest_index_work_micros() const {
    return oldest_index_work_micros_.load(std::memory_order_relaxed);
  }
  // Shards are only ever added (by a split), never removed: a Shard& stays valid for the
  // table's life. `index` < shard_count().
  Shard& shard(uint32_t index) { return *shards_[index]; }
  uint32_t shard_count() const { return shard_count_.load(std::memory_order_acquire); }
  // Every shard, for a LockedShards over the whole table.
  std::vector<Shard*> all_shards();
  // The open shard whose hash range holds `hash`: where a write of that partition key
  // goes. A writer checks, under the shard's commit_mu, that the shard is still open
  // (Shard::closed) and routes again if not.
  uint32_t ShardFor(uint64_t hash) const;
  // Installs a split already persisted in `meta`: appends `children` (their counters set)
  // and closes `parent`, whose commit_mu the caller holds with the shard drained.
  void InstallSplit(v1::TableMeta meta, Shard& parent,
                    std::vector<std::unique_ptr<Shard>> children);
  // How many shards a table may have, split children included.
  static constexpr uint32_t kShardCapacity = 4096;

  std::shared_ptr<const TableConfig> config() const;
  v1::TableMeta meta() const;
  // A restore is filling the table: reads and writes are refused (Catalog::Find).
  bool restoring() const { return restoring_.load(std::memory_order_acquire); }
  // Installs a new definition (already persisted by the caller).
  void set_meta(v1::TableMeta meta);

 private:
  // Takes `meta` as the table's definition, and the config and global indexes it sets.
  // Requires mu_ held.
  void AdoptMetaLocked(v1::TableMeta meta);

  rocksdb::DB* db_;
  const std::string name_;
  const uint64_t id_;
  const std::vector<SecondaryIndex> local_indexes_;
  std::atomic<uint64_t> next_index_work_{0};
  mutable std::mutex index_work_mu_;
  std::set<uint64_t> unfinished_index_work_;  // guarded by index_work_mu_
  std::atomic<uint64_t> index_backlog_{0};
  std::atomic<int64_t> oldest_index_work_micros_{0};
  mutable std::mutex mu_;
  v1::TableMeta meta_;                         // guarded by mu_ (mutable fields)
  std::shared_ptr<const TableConfig> config_;  // guarded by mu_
  std::atomic<bool> restoring_{false};
  std::shared_ptr<const std::vector<SecondaryIndex>> global_indexes_;  // guarded by mu_
  KeySchema key_schema_;
  rocksdb::ColumnFamilyHandle* items_;
  rocksdb::ColumnFamilyHandle* log_;
  std::atomic<rocksdb::ColumnFamilyHandle*> index_entries_;
  // kShardCapacity slots, the first shard_count_ filled; a slot is filled before the count
  // that covers it is published, and never changes after.
  std::unique_ptr<std::unique_ptr<Shard>[]> shards_;
  std::atomic<uint32_t> shard_count_{0};
  // The open shards by first hash (hash_begin -> index), covering every hash once.
  std::map<uint64_t, uint32_t> routes_;  // guarded by mu_
};

using TablePtr = std::shared_ptr<TableState>;

// A table's definition as `meta` holds it: name, id, creation time, key schema, stream,
// TTL, settings and secondary indexes (no shards, no sizes).
TableDescription DefinitionOf(const v1::TableMeta& meta);

// Catalog::EnableHistory's answer: the time history starts at and the snapshot of the
// table's state just before it (released by the caller with DB::ReleaseSnapshot).
struct HistoryStart {
  int64_t start_micros = 0;
  const rocksdb::Snapshot* snapshot = nullptr;
};

// The tables of one engine. Thread-safe: lookups share a lock, lifecycle changes take it
// exclusively. The DB, the default column family and the pipeline must outlive it.
class Catalog {
 public:
  // Disabled streams stay readable for `stream_retention_micros` after they are disabled.
  Catalog(rocksdb::DB& db, rocksdb::ColumnFamilyHandle& default_cf, CommitPipeline& pipeline,
          const Clock& clock, size_t block_cache_bytes, int64_t stream_retention_micros);

  // RocksDB options for a column family named at open (items.<id>, log.<id>, other).
  // `stored`: its options as RocksDB's options file last recorded them (nullptr: unknown),
  // which tell an infrequent-access table's items apart before the catalog is read.
  static rocksdb::ColumnFamilyOptions ColumnFamilyOptions(
      const std::string& name, const std::shared_ptr<rocksdb::Cache>& cache,
      const rocksdb::ColumnFamilyOptions* stored);

  // Opens every table of the catalog from `column_families` (by name, as opened) and
  // recovers each shard's counters from its log; drops column families that no table
  // names (an interrupted create or delete).
  Status Load(std::map<std::string, rocksdb::ColumnFamilyHandle*> column_families);
  // Releases every table (their column family handles) before the DB closes.
  void Close();

  // After a storage failure, with `table`'s shards held (LockedShards): drops the queued
  // state of failed writes and re-reads the counters from the log.
  void ResetShards(TableState& table);

  // The live table `name`; ResourceNotFoundException also while it is being restored.
  Result<TablePtr> Find(const std::string& name) const;
  // The live table `name`, also while it is being restored (DescribeTable, the restore).
  Result<TablePtr> FindIncludingRestoring(const std::string& name) const;
  // The table `id` named `name`: the live one, or a deleted one kept for its streams.
  Result<TablePtr> FindById(const std::string& name, uint64_t id) const;
  std::vector<TablePtr> All() const;
  // The deleted tables kept for their disabled streams (retention trims their logs too).
  std::vector<TablePtr> Retired() const;
  TableDescription Describe(TableState& table) const;
  // The table's local, then global secondary indexes with their estimated sizes.
  std::vector<IndexDescription> DescribeIndexes(TableState& table) const;

  // With `restore`: a table created by a restore (TableAlreadyExistsException when the name
  // is taken), refused to every read and write while restore->in_progress.
  Result<TableDescription> Create(const CreateTableRequest& request,
                                  const v1::RestoreMeta* restore = nullptr);
  // The restore has written every item: the table becomes readable and writable.
  Status FinishRestore(TableState& table);
  // Point-in-time recovery on, kept `recovery_period_days`. When it was off: from now on
  // every change writes its history entry (at a commit time at or after `start`), and the
  // answer's snapshot holds every change before (the caller copies it into the history
  // and releases it). When it was on already: only the period changes (nullopt).
  Result<std::optional<HistoryStart>> EnableHistory(TableState& table,
                                                    uint32_t recovery_period_days);
  // The copy of the items made when recovery was enabled is complete, at `base_micros`.
  Status SetHistoryBase(TableState& table, int64_t base_micros);
  // Point-in-time recovery off; the history is deleted.
  Status DisableHistory(TableState& table);
  // ResourceInUseException while a restore fills the table, unless `failed_restore` (the
  // restore's own clean-up after it failed).
  Result<TableDescription> Delete(const std::string& name, bool failed_restore = false);
  Result<ListTablesPage> List(const std::optional<std::string>& exclusive_start,
                              size_t limit) const;
  Result<TableDescription> UpdateStream(const std::string& name, const StreamSpecification& spec);
  Status UpdateTimeToLive(const std::string& name, const std::optional<std::string>& attribute);
  // TableCatalog::UpdateTableSettings.
  Result<TableDescription> UpdateSettings(const std::string& name,
                                          const TableSettingsUpdater& update);
  // TableCatalog::UpdateGlobalIndexes.
  Result<TableDescription> UpdateGlobalIndexes(const std::string& name,
                                               const GlobalIndexUpdate& update);
  // The global index maintainer's: the backfill of `table`'s index `ordinal` has written
  // every item (its writes already in the DB): the index becomes readable. Nothing
  // happens when the table or index is gone meanwhile.
  Status FinishBackfill(TableState& table, uint32_t ordinal);
  // The global index maintainer's: the entries of the deleted indexes `ordinals` are
  // removed; the table's definition forgets them.
  Status ForgetDroppedIndexes(TableState& table, const std::vector<uint32_t>& ordinals);
  // TableCatalog::SplitShard.
  Result<ShardSplit> SplitShard(const std::string& name, uint32_t index);

  // Streams (TableDirectory::ListStreams, DescribeStream).
  Result<std::vector<StreamDescription>> ListStreams(const std::optional<std::string>& table) const;
  Result<StreamDescription> DescribeStream(const std::string& table,
                                           const std::string& label) const;
  // Forgets disabled streams whose retention has passed, and reclaims the storage of
  // deleted tables left without a readable stream.
  Status ExpireStreams();

 private:
  // The streams of `table` still readable (disabled after `cutoff_micros`), by label.
  std::vector<StreamDescription> StreamsOf(TableState& table, int64_t cutoff_micros) const;
  // When a new stream or table of `name` may be created: `now_micros`, or later if an
  // earlier one of the name already holds that millisecond (labels and shard ids must
  // differ). Requires mu_ held.
  int64_t CreationMicros(const std::string& name, int64_t now_micros) const;
  // Drops the disabled streams whose retention has passed from `meta`; true if any.
  bool PruneStreams(v1::TableMeta& meta) const;
  Status PersistMeta(const v1::TableMeta& meta);
  // A catalog change, synced.
  Status WriteSynced(rocksdb::WriteBatch& batch);
  // Where the sequences of `name`'s deleted tables ended (empty: none was deleted).
  Result<v1::SequenceBase> LoadSequenceBase(const std::string& name) const;
  // UpdateGlobalIndexes' kCreate, `meta` the table's current definition. Requires mu_
  // held exclusively.
  Result<TableDescription> CreateGlobalIndex(TableState& table, v1::TableMeta meta,
                                             SecondaryIndex index);
  // Gives `table` its index column family if it has none, then, with every shard held and
  // drained, persists and installs `meta` and calls `then` (if set) before releasing the
  // shards. A failure to persist drops the column family again and changes nothing.
  // Requires mu_ held exclusively.
  Status InstallWithIndexColumnFamily(TableState& table, v1::TableMeta meta,
                                      const std::function<void(LockedShards&)>& then);
  // Whether `table` is the live table of its name. Requires mu_ held.
  bool IsLive(const TableState& table) const;
  // RecoverShard for every shard of a table not yet shared (at open).
  void RecoverShards(TableState& table);
  // Sets a shard's counters from its log and retention floor.
  void RecoverShard(TableState& table, Shard& shard) TW_REQUIRES(shard.commit_mu);

  rocksdb::DB& db_;
  rocksdb::ColumnFamilyHandle& default_cf_;
  CommitPipeline& pipeline_;
  const Clock& clock_;
  const size_t block_cache_bytes_;
  const int64_t stream_retention_micros_;

  mutable std::shared_mutex mu_;
  std::map<std::string, TablePtr> tables_;  // guarded by mu_
  std::map<uint64_t, TablePtr> retired_;    // guarded by mu_: deleted tables, by id
  uint64_t next_table_id_ = 1;              // guarded by mu_ (exclusive)
};

}  // namespace tidewater
