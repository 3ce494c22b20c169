// Private: the RocksDB-backed Engine. It composes the catalog (tables), the commit
// pipeline (every commit, its durable step, notifications) and the hybrid-logical clock;
// item logic (engine_write.cc, engine_replication.cc) resolves, evaluates and encodes
// changes and hands them to the pipeline. See engine.h for the public contract and
// docs/ARCHITECTURE.md for the commit path.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "backup_file.h"
#include "catalog.h"
#include "commit_pipeline.h"
#include "hybrid_clock.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/item_cache.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater {

struct Target;  // commit_support.h

// One entry of an item's point-in-time recovery history: the item as a change left it (a
// tombstone for a deletion), at the change's commit time.
struct HistoryEntry {
  int64_t commit_micros = 0;
  v1::StoredItem state;
};

class EngineImpl final : public Engine {
 public:
  ~EngineImpl() override;
  static Result<std::unique_ptr<Engine>> OpenImpl(const EngineOptions& options);

  const EngineOptions& options() const override { return options_; }
  const ItemCache* item_cache() const override { return cache_.get(); }

  // In cluster mode the replicated log opens the new table's shards, or it is not created.
  Result<TableDescription> CreateTable(const CreateTableRequest& request) override;
  // With point-in-time recovery on, a SYSTEM backup is kept first (engine_backups.cc).
  Result<TableDescription> DeleteTable(const std::string& name) override;
  Result<TableDescription> DescribeTable(const std::string& name) override;
  Result<ListTablesPage> ListTables(const std::optional<std::string>& exclusive_start,
                                    size_t limit) override {
    return catalog_->List(exclusive_start, limit);
  }
  Result<std::vector<StreamDescription>> ListStreams(
      const std::optional<std::string>& table) override {
    return catalog_->ListStreams(table);
  }
  Result<StreamDescription> DescribeStream(const std::string& table,
                                           const std::string& label) override {
    return catalog_->DescribeStream(table, label);
  }
  Result<TableDescription> UpdateStream(const std::string& table,
                                        const StreamSpecification& spec) override {
    return catalog_->UpdateStream(table, spec);
  }
  Result<TableDescription> UpdateTableSettings(const std::string& table,
                                               const TableSettingsUpdater& update) override {
    return catalog_->UpdateSettings(table, update);
  }
  Result<TableDescription> UpdateGlobalIndexes(const std::string& table,
                                               const GlobalIndexUpdate& update) override;
  Status UpdateTimeToLive(const std::string& table,
                          const std::optional<std::string>& attribute) override {
    return catalog_->UpdateTimeToLive(table, attribute);
  }
  Result<ShardSplit> SplitShard(const std::string& table, ShardIndex shard) override {
    TW_RETURN_IF_ERROR(RefuseInClusterMode("Splitting a shard"));
    return catalog_->SplitShard(table, shard.value());
  }

  Result<WriteResult> PutItem(const std::string& table, Item item, const WriteCondition& condition,
                              const WriteOrigin& origin) override;
  Result<WriteResult> DeleteItem(const std::string& table, const Item& key,
                                 const WriteCondition& condition,
                                 const WriteOrigin& origin) override;
  Result<WriteResult> UpdateItem(const std::string& table, const Item& key,
                                 const ItemUpdater& updater, const WriteCondition& condition,
                                 const WriteOrigin& origin) override;
  Result<std::optional<Item>> GetItem(const std::string& table, const Item& key) override;
  Result<std::shared_ptr<const Item>> ReadItem(const std::string& table, const Item& key,
                                               ReadConsistency consistency) override;
  Result<std::vector<WriteResult>> TransactWrite(std::vector<Mutation> mutations,
                                                 const WriteOrigin& origin) override;
  Result<ItemPage> Query(const QueryRequest& request) override;
  Result<ItemPage> Scan(const ScanRequest& request) override;
  Result<uint64_t> ItemCollectionBytes(const std::string& table,
                                       const AttributeValue& partition_key) override;

  Result<ShardReadResult> ReadShard(const ShardReadRequest& request) override;
  Result<ShardWatermark> ResolvedWatermark(const TableName& table, ShardIndex shard) override;
  uint64_t WaitForCommit(uint64_t seen, std::chrono::milliseconds timeout) override {
    return pipeline_->WaitForCommit(seen, timeout);
  }
  Status SaveCheckpoint(const std::string& consumer, const TableName& table, ShardIndex shard,
                        SequenceNumber next_sequence, bool retain) override;
  Result<std::optional<SequenceNumber>> LoadCheckpoint(const std::string& consumer,
                                                       const TableName& table,
                                                       ShardIndex shard) override;
  Result<size_t> RunTtlSweep() override;
  Result<size_t> TrimStreams() override;
  Result<size_t> PurgeTombstones() override;
  Status WriteHealth() override { return pipeline_->WriteHealth(); }
  Status RecoverStorage() override;

  Result<ReplicationApplyResult> ApplyReplicationBatch(const ReplicationBatch& batch) override;
  Result<std::map<ShardIndex, SequenceNumber>> LoadReplicationCheckpoints(
      const TableName& table, const std::string& source_region) override;
  // ShardLogTarget (engine_shard_log.cc).
  Status ApplyCommittedChanges(const CommittedBatch& batch) override;
  Result<std::optional<std::string>> LoadShardLogPosition(const TableName& table,
                                                          ShardIndex shard) override;
  Result<SnapshotPage> SnapshotScan(const SnapshotScanRequest& request) override;
  Result<std::vector<RangeDigest>> ComputeDigests(const std::string& table,
                                                  uint32_t ranges) override;
  Result<RangeEntriesPage> ListRangeEntries(const RangeEntriesRequest& request) override;
  Status ValidateKey(const std::string& table, const Item& key) override;

  // TableBackups (engine_backups.cc).
  Result<BackupDescription> CreateBackup(const std::string& table,
                                         const std::string& backup_name) override;
  Result<BackupDescription> DescribeBackup(const std::string& backup_id) override;
  Result<ListBackupsPage> ListBackups(const ListBackupsRequest& request) override;
  Result<BackupDescription> DeleteBackup(const std::string& backup_id) override;
  Result<TableDescription> RestoreTableFromBackup(const std::string& backup_id,
                                                  const CreateTableRequest& table) override;
  Result<ContinuousBackupsDescription> UpdateContinuousBackups(
      const std::string& table, bool enabled,
      std::optional<uint32_t> recovery_period_days) override;
  Result<ContinuousBackupsDescription> DescribeContinuousBackups(const std::string& table) override;
  Result<TableDescription> RestoreTableToPointInTime(const std::string& source,
                                                     std::optional<int64_t> restore_time_micros,
                                                     const CreateTableRequest& table) override;
  Result<size_t> RunBackupMaintenance() override;
  Status ReadTableAt(const std::string& table, int64_t time_micros,
                     const std::function<Status(const Item& item)>& visit) override;
  Status ReadChangesBetween(
      const std::string& table, int64_t from_micros, int64_t to_micros,
      const std::function<Status(const ItemChangeOverWindow& change)>& visit) override;
  // Imports (engine_imports.cc).
  Result<TableDescription> BeginImport(const CreateTableRequest& table,
                                       const std::string& import_id) override;
  Result<ImportBatchResult> LoadImportedItems(const std::string& table,
                                              std::vector<Item> items) override;
  Status FinishImport(const std::string& table) override;
  Status AbandonImport(const std::string& table) override;
  // Backup copies (engine_backup_copy.cc).
  Result<std::string> ReadBackupMeta(const std::string& backup_id) override;
  Result<std::string> ReadBackupItems(const std::string& backup_id, uint64_t offset,
                                      size_t length) override;
  Result<std::string> BeginBackupCopy(const std::string& meta) override;
  Status AppendBackupCopy(const std::string& copy_id, uint64_t offset,
                          std::string_view data) override;
  Result<BackupDescription> FinishBackupCopy(const std::string& copy_id) override;
  Result<ShardIndex> ShardForKey(const std::string& table, const Item& key) override;

 private:
  explicit EngineImpl(const EngineOptions& options);
  Status OpenDatabase();
  Result<TablePtr> FindTable(const std::string& name) const { return catalog_->Find(name); }
  std::vector<TablePtr> AllTables() const { return catalog_->All(); }

  // Cluster mode (engine_shard_log.cc). A Validation error naming `what` in cluster mode;
  // Ok in the embedded default.
  Status RefuseInClusterMode(const std::string& what) const;
  // Has the replicated log open `table`'s shards (ReplicatedCommitLog::OpenTable).
  Status OpenReplicatedTable(const TablePtr& table);
  // Every table's, at open; Ok in the embedded default.
  Status OpenReplicatedTables();
  // Under the shard's commit lock, before a user write is prepared: whether this node may
  // commit to it (ReplicatedCommitLog::Admit); Ok in the embedded default.
  Status AdmitReplicatedWrite(const TableState& table, ShardIndex shard);
  // Before a read is served: whether this node's copy of the shard holding `key` (an encoded
  // item key or partition prefix; none: of every shard of the table) may answer it
  // (ReplicatedCommitLog::AdmitRead). Ok in the embedded default, which computes nothing.
  Status AdmitReplicatedRead(const TableState& table, std::optional<std::string_view> key);

  // One put, delete or update through its shard's ShardWriter (engine_write.cc).
  Result<WriteResult> WriteOne(Mutation mutation, const WriteOrigin& origin);
  // Where deletes index their tombstones (nullptr: tombstones are off).
  rocksdb::ColumnFamilyHandle* TombstoneIndex() const;

  // Where a Query or Scan reads: the table's items, or one secondary index's entries.
  struct ReadSource {
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    std::string prefix;               // before every key read ("" for the table)
    const KeySchema* keys = nullptr;  // the key schema read (the index's or the table's)
    std::shared_ptr<const SecondaryIndex> index;  // null: the table
    bool fetch_items = false;                     // IndexRead::fetch_items
  };
  Result<ReadSource> SourceOf(TableState& table, const IndexRead& read);
  uint64_t CollectionBytes(TableState& table, const AttributeValue& partition_key);
  // CollectionBytes of the partition `t` writes to when the write may add to its item
  // collection (a put or update on a table with local indexes), else 0.
  uint64_t CollectionBytesFor(const Target& t);
  // ItemCollectionSizeLimitExceeded when `t` adds to or grows an item of a table with
  // local indexes whose collection (estimated `collection_bytes`) is at the limit.
  Status CheckCollectionLimit(const Target& t, uint64_t collection_bytes) const;
  // The stored key an ExclusiveStartKey names in `source`.
  Result<std::string> StartKeyOf(TableState& table, const ReadSource& source, const Item& start);
  // The key range and limits of one Query or Scan page.
  struct PageRange {
    std::string begin;
    std::string end;  // "": no upper bound
    bool forward = true;
    size_t limit = 0;
    size_t max_page_bytes = 0;
  };
  // ReadRange, answered from the read cache when `consistency` allows it and the source is
  // the table itself. `partition_hash`: a Query's partition (nullopt: a Scan).
  Result<ItemPage> ReadPage(TableState& table, const ReadSource& source, const PageRange& range,
                            ReadConsistency consistency, std::optional<uint64_t> partition_hash);
  Result<ItemPage> ReadRange(TableState& table, const ReadSource& source, const std::string& begin,
                             const std::string& end, bool forward, size_t limit,
                             size_t max_page_bytes);
  Result<size_t> TrimShard(TableState& table, Shard& shard, int64_t cutoff_micros);

  void BackgroundLoop() TW_EXCLUDES(background_mu_);

  // --- Backups (engine_backups.cc) ---
  std::string BackupDir() const;
  // The filesystem backups' items files go through: EngineOptions::file_system, else the
  // machine's (encrypted with the RocksDB files when encryption at rest is on).
  rocksdb::FileSystem& BackupFiles() const;
  // At open: the backups in BackupDir (leftovers of interrupted ones removed), then the
  // restores and history copies a crash interrupted, started again.
  Status OpenBackups();
  // Writes a backup of `table`'s items as of one instant (every shard drained, one
  // snapshot) and registers it.
  Result<v1::BackupMeta> BackupTable(TableState& table, v1::BackupMeta::Type type,
                                     const std::string& name, int64_t expiry_micros);
  // Writes a RESTORE backup of `table`'s state at `time_micros` from its history.
  // InvalidRestoreTimeException when that time is not yet past.
  Result<v1::BackupMeta> BackupHistoryAt(TableState& table, int64_t time_micros);
  using HistoryVisitor = std::function<Status(const std::vector<HistoryEntry>& entries)>;
  // Calls `visit` with each item's history entries, oldest first, read at one snapshot
  // taken with the shards drained; `too_early` unless `until_micros` has passed by then.
  Status ForEachItemHistory(TableState& table, int64_t until_micros, const Status& too_early,
                            const HistoryVisitor& visit);
  // The table an export of (from, to] reads: recovery on and covering both times.
  Result<TablePtr> ExportableTable(const std::string& table, int64_t from_micros,
                                   int64_t to_micros);
  // The new backup directory's contents from `fill` (which writes the items), published by
  // one rename, registered.
  Result<v1::BackupMeta> PublishBackup(
      v1::BackupMeta meta, const std::function<Status(backup_file::ItemsWriter&)>& fill);
  Status RemoveBackup(const std::string& backup_id) TW_EXCLUDES(backups_mu_);
  // Creates the restored table and starts filling it from backup `load` in the background.
  Result<TableDescription> StartRestore(const v1::BackupMeta& load, const CreateTableRequest& table,
                                        v1::RestoreMeta restore) TW_EXCLUDES(backups_mu_);
  void RunRestore(const std::string& table) TW_EXCLUDES(backups_mu_);
  // Writes one batch of restored items into `table` (indexes maintained).
  Status WriteRestoredItems(TableState& table, std::vector<v1::StoredItem>& items);
  // Writes whole items (unique keys, valid for the table) into a table being filled, a
  // restore's or an import's: no condition; stream records only for a backfill
  // (CreateTableRequest::backfill_stream), provenance RESTORE. `versions` (one per item)
  // keeps a restore's versions, so that writing an item again after a restart changes
  // nothing; none: new local versions.
  Status WriteLoadedItems(TableState& table, std::vector<Item> items,
                          const std::vector<v1::Version>* versions);
  // Copies the items of `start`'s snapshot into `table`'s history; then recovery is
  // available from start_micros.
  Status CopyIntoHistory(TableState& table, HistoryStart start);
  ContinuousBackupsDescription ContinuousBackupsOf(const v1::TableMeta& meta) const;
  // Forgets `table`'s history entries no restore may need any more; how many went.
  Result<size_t> CompactHistory(TableState& table, int64_t cutoff_micros);
  // The global index maintainer (global_index_maintainer.cc): applies the tables' queued
  // global index work, woken by commits that queue some.
  void GlobalIndexLoop() TW_EXCLUDES(index_mu_);
  // One turn of the maintainer for `table`: removes the entries of deleted indexes, then
  // backfills one batch of items into a backfilling index (the queue waits meanwhile) or
  // applies the queued work. Returns whether more work is left at once.
  Result<bool> MaintainGlobalIndexes(TableState& table);
  // Applies `table`'s queued global index work in queue order, a batch at a time, each
  // batch deleting the queue entries it applies; until the queue is empty or a write fails.
  // Writes of indexes not in `indexes` (deleted since they were queued) are skipped.
  Status ApplyGlobalIndexWork(TableState& table, const std::vector<SecondaryIndex>& indexes);
  // Writes the entries of the items after table.backfill_after, a batch of them, into the
  // `backfilling` indexes; once every item is written, the indexes become readable.
  // Returns whether items are left.
  Result<bool> BackfillGlobalIndexes(TableState& table,
                                     const std::vector<SecondaryIndex>& backfilling);
  // Wakes the global index maintainer (after a commit that queued work, or a catalog
  // change that gave it some).
  void NotifyGlobalIndexWork() TW_EXCLUDES(index_mu_);
  // When destroyed (after the change's commit returned, or on a way out without it),
  // finishes the change's global index work number, if it has one, and wakes the
  // maintainer. Movable, so that a transaction keeps one per change.
  class IndexWorkDone {
   public:
    IndexWorkDone(EngineImpl& engine, TableState& table, const PreparedChange& change);
    IndexWorkDone(IndexWorkDone&& other) noexcept;
    IndexWorkDone(const IndexWorkDone&) = delete;
    IndexWorkDone& operator=(const IndexWorkDone&) = delete;
    IndexWorkDone& operator=(IndexWorkDone&&) = delete;
    ~IndexWorkDone();

   private:
    EngineImpl* engine_;
    TableState* table_;
    std::optional<uint64_t> number_;
  };
  // The lowest sequence a retaining checkpoint still needs in `shard` (UINT64_MAX: none).
  uint64_t RetentionPin(TableState& table, uint32_t shard);

  EngineOptions options_;
  std::unique_ptr<rocksdb::Env> env_;  // over options_.file_system (null: the default Env)
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::WriteOptions write_options_;  // for writes outside the pipeline (checkpoints)
  std::unique_ptr<ItemCache> cache_;     // null: no cache; outlives the pipeline that feeds it
  std::unique_ptr<CommitPipeline> pipeline_;
  std::unique_ptr<Catalog> catalog_;
  HybridClock hlc_;

  // Serializes replication batches of one (table, source region, source shard) stripe, so
  // that checking and storing a checkpoint cannot interleave.
  std::array<std::mutex, 16> replication_stripes_;
  std::atomic<uint64_t> next_transaction_{1};

  Mutex backups_mu_;
  std::map<std::string, v1::BackupMeta> backups_ TW_GUARDED_BY(backups_mu_);
  // Backups a restore is loading, with how many restores load each.
  std::map<std::string, int> backups_in_use_ TW_GUARDED_BY(backups_mu_);
  std::vector<std::thread> restores_ TW_GUARDED_BY(backups_mu_);
  // Backup copies being received (BeginBackupCopy ... FinishBackupCopy), by copy id: the
  // source's description and how many items bytes are staged so far.
  struct BackupCopyInProgress {
    v1::BackupMeta meta;
    uint64_t received = 0;
  };
  std::map<std::string, BackupCopyInProgress> backup_copies_ TW_GUARDED_BY(backups_mu_);
  std::atomic<bool> restores_stopping_{false};

  Mutex background_mu_;
  CondVar background_cv_;
  bool stopping_ TW_GUARDED_BY(background_mu_) = false;
  std::thread background_;

  Mutex index_mu_;
  CondVar index_cv_;
  bool index_work_ TW_GUARDED_BY(index_mu_) = false;
  bool index_stopping_ TW_GUARDED_BY(index_mu_) = false;
  std::thread index_maintainer_;
};

}  // namespace tidewater
