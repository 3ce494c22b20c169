// The table engine: DynamoDB-style tables on one RocksDB instance, with every change
// written atomically into an ordered per-shard change log.
//
// Contract (tested in tests/core):
//  * An acknowledged write (ok Status) is durable per EngineOptions::sync and its change
//    record is in its shard's log exactly once; a failed or rejected write changes
//    nothing and leaves no record.
//  * Per shard, sequence numbers start at 1 and strictly increase with no gaps; all
//    changes of one item are in one shard, in commit order. This holds after a crash
//    (kill -9) and reopen.
//  * Item and change record are committed in ONE RocksDB WriteBatch.
//
// Thread safety: every method is safe to call concurrently. Writes to one shard are
// serialized in commit order; writes to different shards proceed in parallel.
// Ownership: the Engine owns its RocksDB instance and background threads; destroy it
// (or call Close) to stop them. Exceptions never escape.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tidewater/core/attribute_value.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table.h"
#include "tidewater/v1/change_record.pb.h"

namespace tidewater {

using ChangeRecord = v1::ChangeRecord;

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
  // Background work. 0 disables the thread; tests call RunTtlSweep/TrimStreams directly.
  int64_t ttl_sweep_interval_micros = 1'000'000;
  int64_t retention_interval_micros = 60'000'000;
  size_t block_cache_bytes = 64 << 20;
};

// Decides whether a write may proceed, given the item as it is now (nullptr when absent).
// Return ok to proceed, or the error to fail the write with (ConditionalCheckFailed...).
// Called under the shard's commit lock: keep it fast and do not call the engine.
using WriteCondition = std::function<Status(const Item* current)>;

// Computes the new item from the current one (nullptr when absent) for UpdateItem.
// Same calling rules as WriteCondition. The result must keep the key attributes.
// nullopt means "the item stays absent" and is only allowed when `current` is nullptr:
// the write then changes nothing and logs no change record (DynamoDB's UpdateItem that
// only removes attributes of an item that does not exist).
using ItemUpdater = std::function<Result<std::optional<Item>>(const Item* current)>;

// Where a change came from (recorded as the record's provenance).
struct WriteOrigin {
  v1::Provenance provenance = v1::USER_WRITE;
};

// One write of a batch or transaction.
struct Mutation {
  enum class Kind { kPut, kDelete, kUpdate, kConditionCheck };
  Kind kind = Kind::kPut;
  std::string table;
  Item item;                 // kPut: the whole item; others: the key
  WriteCondition condition;  // optional
  ItemUpdater updater;       // kUpdate only
};

// The item before and after a write (absent when there was/is no item).
struct WriteResult {
  std::optional<Item> old_item;
  std::optional<Item> new_item;
};

// The range condition on the sort key of a Query.
struct SortKeyCondition {
  enum class Op { kNone, kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };
  Op op = Op::kNone;
  AttributeValue value;   // the operand (lower bound for BETWEEN)
  AttributeValue value2;  // upper bound for BETWEEN
};

struct QueryRequest {
  std::string table;
  AttributeValue partition_key;
  SortKeyCondition sort_key;
  bool forward = true;
  size_t limit = 0;  // items to evaluate; 0 = no limit (the 1 MB page still applies)
  std::optional<Item> exclusive_start_key;
  size_t max_page_bytes = 1024 * 1024;
};

struct ScanRequest {
  std::string table;
  uint32_t segment = 0;
  uint32_t total_segments = 1;
  size_t limit = 0;
  std::optional<Item> exclusive_start_key;
  size_t max_page_bytes = 1024 * 1024;
};

struct ItemPage {
  std::vector<Item> items;
  std::optional<Item> last_evaluated_key;  // set when more may follow
  size_t scanned_bytes = 0;                // sum of item sizes read (for capacity units)
};

struct ListTablesPage {
  std::vector<std::string> names;
  std::optional<std::string> last_evaluated_table_name;
};

// Reading a shard's change log.
struct ShardReadRequest {
  std::string table;
  uint32_t shard = 0;
  uint64_t from_sequence = 1;  // first sequence wanted (inclusive)
  size_t limit = 1000;
  // Return the records as stored (each one's Protobuf serialization) in
  // ShardReadResult::serialized, not parsed in `records`. For readers that forward
  // records (the Kafka publisher): it saves a parse and a serialization per record.
  bool serialized = false;
};

struct ShardReadResult {
  std::vector<ChangeRecord> records;
  std::vector<std::string> serialized;  // instead of `records` when requested
  // The sequence to ask for next. Records below first_available were trimmed.
  uint64_t next_sequence = 1;
  uint64_t first_available = 1;
  uint64_t last_written = 0;
};

// --- Replication (docs/REPLICATION.md) ---

// A source region's position in one of its shards: the first sequence not yet applied.
struct ReplicationCheckpoint {
  uint32_t shard = 0;
  uint64_t next_sequence = 0;
};

// Changes of ONE source shard, in sequence order, from `source_region`. Each change needs
// keys, version and (INSERT, MODIFY) new_image; origin_region defaults to the version's
// region. With a checkpoint, every change with a sequence (!= 0) must belong to its shard
// and lie below checkpoint.next_sequence, sequences increasing.
struct ReplicationBatch {
  std::string table;
  std::string source_region;
  std::vector<ChangeRecord> changes;
  std::optional<ReplicationCheckpoint> checkpoint;  // none: the catch-up copy
};

struct ReplicationApplyResult {
  uint64_t applied = 0;     // newer than the item's version (or tombstone): written
  uint64_t skipped = 0;     // not newer: last writer wins, nothing written
  uint64_t duplicates = 0;  // below the stored checkpoint: applied by an earlier batch
  // The stored checkpoint of the batch's source shard after the call (0: none).
  uint64_t checkpoint_next_sequence = 0;
};

// An item with its hidden version, or (deleted) a tombstone holding only the key.
struct VersionedItem {
  Item item;
  v1::Version version;
  bool deleted = false;
};

struct SnapshotScanRequest {
  std::string table;
  std::optional<Item> exclusive_start_key;  // none: the first page
  size_t limit = 1000;                      // entries per page (> 0)
  size_t max_page_bytes = 1024 * 1024;
  bool include_tombstones = false;
};

struct SnapshotPage {
  std::vector<VersionedItem> items;
  std::optional<Item> last_evaluated_key;  // set when more may follow
  // First page only: per shard (index = shard), the last sequence contained in the page's
  // snapshot. Follow each shard's log from last_sequence + 1 after copying every page.
  std::vector<uint64_t> shard_last_sequences;
};

// A content digest of the items whose key hash lies in [hash_begin, hash_end].
struct RangeDigest {
  uint32_t range = 0;
  uint64_t hash_begin = 0;
  uint64_t hash_end = 0;
  uint64_t item_count = 0;
  std::string digest;  // 16 bytes, order-independent; versions are not included
};

struct ItemHash {
  Item key;
  std::string hash;  // 16 bytes
};

struct RangeEntriesRequest {
  std::string table;
  uint32_t ranges = 0;  // equal hash ranges; 0: the table's shard count
  uint32_t range = 0;
  std::optional<Item> exclusive_start_key;
  size_t limit = 1000;
};

struct RangeEntriesPage {
  std::vector<ItemHash> entries;  // in storage order (the same in every region)
  std::optional<Item> last_evaluated_key;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  virtual ~Engine() = default;

  virtual const EngineOptions& options() const = 0;

  // --- Tables ---
  virtual Result<TableDescription> CreateTable(const CreateTableRequest& request) = 0;
  virtual Result<TableDescription> DeleteTable(const std::string& name) = 0;
  virtual Result<TableDescription> DescribeTable(const std::string& name) = 0;
  // Table names in ascending order, after exclusive_start (if any), at most limit (0: all).
  virtual Result<ListTablesPage> ListTables(const std::optional<std::string>& exclusive_start,
                                            size_t limit) = 0;
  // Turns the stream on (a new stream label, with spec.view_type) or off. As DynamoDB,
  // enabling an enabled stream is a ValidationException: to change the view type, turn
  // the stream off and on again. Records already in the log stay until retention.
  virtual Result<TableDescription> UpdateStream(const std::string& table,
                                                const StreamSpecification& spec) = 0;
  // Enables TTL on `attribute`, or disables it when nullopt.
  virtual Status UpdateTimeToLive(const std::string& table,
                                  const std::optional<std::string>& attribute) = 0;

  // --- Items ---
  virtual Result<WriteResult> PutItem(const std::string& table, Item item,
                                      const WriteCondition& condition = {},
                                      const WriteOrigin& origin = {}) = 0;
  virtual Result<WriteResult> DeleteItem(const std::string& table, const Item& key,
                                         const WriteCondition& condition = {},
                                         const WriteOrigin& origin = {}) = 0;
  virtual Result<WriteResult> UpdateItem(const std::string& table, const Item& key,
                                         const ItemUpdater& updater,
                                         const WriteCondition& condition = {},
                                         const WriteOrigin& origin = {}) = 0;
  virtual Result<std::optional<Item>> GetItem(const std::string& table, const Item& key) = 0;
  // All mutations or none, across tables and shards, in one WriteBatch. A failed
  // condition or invalid action cancels all: Status::TransactionCanceled with one reason
  // per mutation. Each shard's records carry the transaction id and participant count.
  virtual Result<std::vector<WriteResult>> TransactWrite(std::vector<Mutation> mutations,
                                                         const WriteOrigin& origin = {}) = 0;

  virtual Result<ItemPage> Query(const QueryRequest& request) = 0;
  virtual Result<ItemPage> Scan(const ScanRequest& request) = 0;

  // --- Change log ---
  virtual Result<ShardReadResult> ReadShard(const ShardReadRequest& request) = 0;

  // Waits until a change record is committed to any table after `seen` (a value returned
  // earlier, or 0), or until `timeout` passes. Returns the current commit epoch. Readers
  // that follow the log (publishers, consumers) wait here instead of polling.
  virtual uint64_t WaitForCommit(uint64_t seen, std::chrono::milliseconds timeout) = 0;

  // --- Consumer checkpoints: durable positions of a named consumer in a shard ---
  // `next_sequence` is the first sequence the consumer still needs. With `retain`,
  // retention never trims records at or after it, so a consumer that falls behind sees
  // lag instead of losing records. Deleting the table deletes its checkpoints.
  virtual Status SaveCheckpoint(const std::string& consumer, const std::string& table,
                                uint32_t shard, uint64_t next_sequence, bool retain) = 0;
  virtual Result<std::optional<uint64_t>> LoadCheckpoint(const std::string& consumer,
                                                         const std::string& table,
                                                         uint32_t shard) = 0;

  // --- Background work, also callable directly (tests, tools) ---
  // Deletes every item whose TTL has passed; returns how many were deleted.
  virtual Result<size_t> RunTtlSweep() = 0;
  // Trims change records older than the retention period; returns how many went.
  virtual Result<size_t> TrimStreams() = 0;

  // Deletes tombstones older than tombstone_retention_micros; returns how many went.
  virtual Result<size_t> PurgeTombstones() = 0;

  // --- Replication (docs/REPLICATION.md) ---
  // Applies each change whose version is newer than the item's current version or
  // tombstone (hlc_micros, then region); a REMOVE leaves a tombstone. Applied changes that
  // change an item are logged with provenance REPLICATION, the change's origin region and
  // its version. The checkpoint is stored in the same WriteBatch: a batch whose checkpoint
  // is not beyond the stored one changes nothing, and changes below the stored checkpoint
  // are duplicates. An invalid batch (ValidationException) writes nothing.
  virtual Result<ReplicationApplyResult> ApplyReplicationBatch(const ReplicationBatch& batch) = 0;
  // source shard -> stored next_sequence (absent: nothing applied from that shard).
  virtual Result<std::map<uint32_t, uint64_t>> LoadReplicationCheckpoints(
      const std::string& table, const std::string& source_region) = 0;
  // One page of items with versions in storage order. Each page reads one RocksDB
  // snapshot; the first also returns each shard's last sequence in it. Later pages may
  // show newer states: replaying the logs from the first page's positions converges
  // anyway, since applying is last-writer-wins.
  virtual Result<SnapshotPage> SnapshotScan(const SnapshotScanRequest& request) = 0;
  // Digests of `ranges` equal hash ranges (0: the table's shard count), at one snapshot.
  virtual Result<std::vector<RangeDigest>> ComputeDigests(const std::string& table,
                                                          uint32_t ranges) = 0;
  // The keys and item hashes of one range, paged.
  virtual Result<RangeEntriesPage> ListRangeEntries(const RangeEntriesRequest& request) = 0;

  // Validates that `key` has exactly the table's key attributes with the right types.
  virtual Status ValidateKey(const std::string& table, const Item& key) = 0;
};

}  // namespace tidewater
