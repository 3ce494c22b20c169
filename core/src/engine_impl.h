// Private: the RocksDB-backed Engine. See engine.h for the public contract and
// docs/ARCHITECTURE.md for the commit path.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tidewater/core/engine.h"
#include "tidewater/v1/catalog.pb.h"

namespace tidewater {

struct Shard;

// Writes committed together by one RocksDB write (group commit), across shards.
struct CommitGroup {
  // How far the group takes one shard.
  struct ShardProgress {
    Shard* shard;
    uint64_t last_sequence;  // newest record sequence (0: none)
    uint64_t last_tag;       // newest write tag
    size_t writes;
  };
  rocksdb::WriteBatch batch;
  std::vector<ShardProgress> shards;
  bool done = false;
  Status status;

  void Add(Shard* shard, uint64_t sequence, uint64_t tag);
};

// One stream shard: a hash range with its own commit order and sequence counter.
//
// Commit protocol (engine_write.cc): a writer takes commit_mu, reads the current item
// (from `overlay` when a queued, not yet durable write changed it, else from RocksDB),
// assigns the next sequence, adds its entries to the engine's open commit group and only
// then releases commit_mu. One writer at a time leads: it takes the open group, writes it
// to RocksDB, then marks each shard's progress durable. Groups are written in order, so a
// shard's sequence order is its commit order, and a record is visible to readers
// (committed_sequence) and acknowledged only once durable.
struct Shard {
  using PendingValue = std::pair<uint64_t, std::optional<std::string>>;  // tag, stored item

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
  int exclusive_waiters = 0;   // transactions waiting to commit directly
  std::unordered_map<std::string, PendingValue> overlay;  // item key -> queued state

  // The newest sequence whose record is committed; readers never look past it.
  std::atomic<uint64_t> committed_sequence{0};
  // The oldest sequence retention has not trimmed.
  std::atomic<uint64_t> first_sequence{1};
};

// The mutable part of a table's definition; replaced whole (copy on write).
struct TableConfig {
  StreamSpecification stream;
  std::string stream_label;
  std::optional<std::string> ttl_attribute;
};

// An open table. Shared by operations in flight; the column family handles are
// destroyed with the last reference, after DeleteTable dropped them.
class TableState {
 public:
  TableState(rocksdb::DB* db, v1::TableMeta meta, rocksdb::ColumnFamilyHandle* items,
             rocksdb::ColumnFamilyHandle* log);
  ~TableState();

  const std::string& name() const { return meta_.name(); }
  uint64_t id() const { return meta_.table_id(); }
  const KeySchema& key_schema() const { return key_schema_; }
  rocksdb::ColumnFamilyHandle* items() const { return items_; }
  rocksdb::ColumnFamilyHandle* log() const { return log_; }
  Shard& shard(uint32_t index) { return *shards_[index]; }
  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }

  std::shared_ptr<const TableConfig> config() const;
  // Persists and installs a new config (the caller holds the engine's catalog lock).
  v1::TableMeta meta() const;
  void set_meta(v1::TableMeta meta);

 private:
  rocksdb::DB* db_;
  mutable std::mutex mu_;
  v1::TableMeta meta_;                         // guarded by mu_ (mutable fields)
  std::shared_ptr<const TableConfig> config_;  // guarded by mu_
  KeySchema key_schema_;
  rocksdb::ColumnFamilyHandle* items_;
  rocksdb::ColumnFamilyHandle* log_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

using TablePtr = std::shared_ptr<TableState>;

// An encoded item change and its change record (engine_write.cc).
struct PreparedChange;

class EngineImpl final : public Engine {
 public:
  ~EngineImpl() override;
  static Result<std::unique_ptr<Engine>> OpenImpl(const EngineOptions& options);

  const EngineOptions& options() const override { return options_; }

  Result<TableDescription> CreateTable(const CreateTableRequest& request) override;
  Result<TableDescription> DeleteTable(const std::string& name) override;
  Result<TableDescription> DescribeTable(const std::string& name) override;
  Result<ListTablesPage> ListTables(const std::optional<std::string>& exclusive_start,
                                    size_t limit) override;
  Result<TableDescription> UpdateStream(const std::string& table,
                                        const StreamSpecification& spec) override;
  Status UpdateTimeToLive(const std::string& table,
                          const std::optional<std::string>& attribute) override;

  Result<WriteResult> PutItem(const std::string& table, Item item, const WriteCondition& condition,
                              const WriteOrigin& origin) override;
  Result<WriteResult> DeleteItem(const std::string& table, const Item& key,
                                 const WriteCondition& condition,
                                 const WriteOrigin& origin) override;
  Result<WriteResult> UpdateItem(const std::string& table, const Item& key,
                                 const ItemUpdater& updater, const WriteCondition& condition,
                                 const WriteOrigin& origin) override;
  Result<std::optional<Item>> GetItem(const std::string& table, const Item& key) override;
  Result<std::vector<WriteResult>> TransactWrite(std::vector<Mutation> mutations,
                                                 const WriteOrigin& origin) override;
  Result<ItemPage> Query(const QueryRequest& request) override;
  Result<ItemPage> Scan(const ScanRequest& request) override;

  Result<ShardReadResult> ReadShard(const ShardReadRequest& request) override;
  uint64_t WaitForCommit(uint64_t seen, std::chrono::milliseconds timeout) override;
  Status SaveCheckpoint(const std::string& consumer, const std::string& table, uint32_t shard,
                        uint64_t next_sequence, bool retain) override;
  Result<std::optional<uint64_t>> LoadCheckpoint(const std::string& consumer,
                                                 const std::string& table, uint32_t shard) override;
  Result<size_t> RunTtlSweep() override;
  Result<size_t> TrimStreams() override;
  Result<size_t> PurgeTombstones() override;

  Result<ReplicationApplyResult> ApplyReplicationBatch(const ReplicationBatch& batch) override;
  Result<std::map<uint32_t, uint64_t>> LoadReplicationCheckpoints(
      const std::string& table, const std::string& source_region) override;
  Result<SnapshotPage> SnapshotScan(const SnapshotScanRequest& request) override;
  Result<std::vector<RangeDigest>> ComputeDigests(const std::string& table,
                                                  uint32_t ranges) override;
  Result<RangeEntriesPage> ListRangeEntries(const RangeEntriesRequest& request) override;
  Status ValidateKey(const std::string& table, const Item& key) override;

 private:
  explicit EngineImpl(const EngineOptions& options);
  Status OpenDatabase();
  Result<TablePtr> FindTable(const std::string& name) const;
  std::vector<TablePtr> AllTables() const;
  TableDescription Describe(TableState& table) const;
  Status PersistMeta(const v1::TableMeta& meta);
  void RecoverShard(TableState& table, Shard& shard);

  // The commit path (engine_write.cc).
  Result<WriteResult> WriteOne(Mutation mutation, const WriteOrigin& origin);
  // The open commit group to join (group_mu_ held); fails once a write has failed.
  Result<std::shared_ptr<CommitGroup>> OpenGroup();
  // Leads or waits until `group` is durable (or failed). No shard lock held.
  Status AwaitGroup(const std::shared_ptr<CommitGroup>& group);
  // Writes one prepared change at once, under the shard's commit_mu (no fsync mode).
  Status CommitDirect(Shard& shard, const PreparedChange& change, uint64_t sequence, uint64_t tag);
  // Waits until no write of `shard` is queued (for transactions); commit_mu held.
  void DrainShard(Shard& shard, std::unique_lock<std::mutex>& lock);
  // A new local HLC timestamp: above every earlier one and at least `at_least`.
  uint64_t NextVersion(uint64_t at_least);
  // The version of a local write replacing an item (or tombstone) of version `current`.
  v1::Version LocalVersion(const v1::Version& current);
  // Where deletes index their tombstones (nullptr: tombstones are off).
  rocksdb::ColumnFamilyHandle* TombstoneIndex() const;

  Result<ItemPage> ReadRange(TableState& table, const std::string& begin, const std::string& end,
                             bool forward, size_t limit, size_t max_page_bytes);
  Result<size_t> TrimShard(TableState& table, Shard& shard, int64_t cutoff_micros);

  void BackgroundLoop();
  void NotifyCommit();
  // The lowest sequence a retaining checkpoint still needs in `shard` (UINT64_MAX: none).
  uint64_t RetentionPin(TableState& table, uint32_t shard);

  EngineOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::WriteOptions write_options_;

  mutable std::shared_mutex catalog_mu_;
  std::map<std::string, TablePtr> tables_;  // guarded by catalog_mu_
  uint64_t next_table_id_ = 1;              // guarded by catalog_mu_ (exclusive)

  std::atomic<uint64_t> last_version_{0};
  // Serializes replication batches of one (table, source region, source shard) stripe, so
  // that checking and storing a checkpoint cannot interleave.
  std::array<std::mutex, 16> replication_stripes_;
  std::atomic<uint64_t> next_transaction_{1};

  // Group commit (engine_write.cc). Lock order: a shard's commit_mu, then group_mu_.
  std::mutex group_mu_;
  std::condition_variable group_cv_;
  bool leader_active_ = false;               // guarded by group_mu_
  std::shared_ptr<CommitGroup> open_group_;  // guarded by group_mu_
  Status write_failure_;  // guarded by group_mu_; once set, writes fail until reopen

  std::atomic<uint64_t> commit_epoch_{0};
  std::atomic<int> commit_waiters_{0};
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;

  std::mutex background_mu_;
  std::condition_variable background_cv_;
  bool stopping_ = false;  // guarded by background_mu_
  std::thread background_;
};

}  // namespace tidewater
