// The replication target role of the engine (docs/REPLICATION.md): applying changes
// replicated from another region, last writer wins by version, with the source's
// checkpoint in the same commit; and the consistent reads a replicator and `tidewater
// verify` need (snapshot scan, digests, per-key hashes).
//
// Thread safety: every method is safe to call concurrently. Exceptions never escape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tidewater/core/attribute_value.h"
#include "tidewater/core/change_log.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"

namespace tidewater {

// A source region's position in one of its shards: the first sequence not yet applied.
struct ReplicationCheckpoint {
  ShardIndex shard;
  SequenceNumber next_sequence;
};

// Changes of ONE source shard, in sequence order, from `source_region`. Each change needs
// keys, version and (INSERT, MODIFY) new_image; origin_region defaults to the version's
// region. With a checkpoint, every change with a sequence (!= 0) must belong to its shard
// and lie below checkpoint.next_sequence, sequences increasing.
struct ReplicationBatch {
  TableName table;
  std::string source_region;
  std::vector<ChangeRecord> changes;
  std::optional<ReplicationCheckpoint> checkpoint;  // none: the catch-up copy
};

struct ReplicationApplyResult {
  uint64_t applied = 0;     // newer than the item's version (or tombstone): written
  uint64_t skipped = 0;     // not newer: last writer wins, nothing written
  uint64_t duplicates = 0;  // below the stored checkpoint: applied by an earlier batch
  // The stored checkpoint of the batch's source shard after the call (0: none).
  SequenceNumber checkpoint_next_sequence;
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
  std::vector<SequenceNumber> shard_last_sequences;
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

class ReplicationTarget {
 public:
  virtual ~ReplicationTarget() = default;

  // Applies each change whose version is newer than the item's current version or
  // tombstone (hlc_micros, then region); a REMOVE leaves a tombstone. Applied changes that
  // change an item are logged with provenance REPLICATION, the change's origin region and
  // its version. The checkpoint is stored in the same WriteBatch: a batch whose checkpoint
  // is not beyond the stored one changes nothing, and changes below the stored checkpoint
  // are duplicates. An invalid batch (ValidationException) writes nothing.
  virtual Result<ReplicationApplyResult> ApplyReplicationBatch(const ReplicationBatch& batch) = 0;
  // source shard -> stored next_sequence (absent: nothing applied from that shard).
  virtual Result<std::map<ShardIndex, SequenceNumber>> LoadReplicationCheckpoints(
      const TableName& table, const std::string& source_region) = 0;
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
};

}  // namespace tidewater
