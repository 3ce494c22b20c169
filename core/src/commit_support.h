// Private: the pieces of the commit path shared by local writes (engine_write.cc) and
// replication (engine_replication.cc): resolving a write against its table, loading the
// item it replaces and encoding the new item with its change record.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalog.h"
#include "commit_pipeline.h"

namespace tidewater {

// One mutation resolved against its table, with the item before and after.
struct Target {
  TablePtr table;
  Mutation mutation;
  std::string key;  // encoded item key
  uint32_t shard = 0;
  std::optional<Item> current;
  // The version of `current`, or of the tombstone in its place (empty: neither).
  v1::Version current_version;
  uint64_t depends_on_tag = 0;  // the queued write `current` came from (0: durable state)
  std::optional<Item> next;
  bool changes = false;
};

// What a record carries beyond the change itself.
struct RecordContext {
  const std::string* origin_region;
  const WriteOrigin* origin;
  int64_t now_micros;
  const std::string* transaction_id;  // empty: not in a transaction
  uint32_t shard_participants;
  // Where a delete's tombstone is indexed for purging (nullptr: deletes leave none).
  rocksdb::ColumnFamilyHandle* tombstone_index;
  // Cluster mode: the change goes to its shard's log too (PreparedChange::committed), with
  // a record even when the stream is off. False for the apply of a shard's log.
  bool replicated = false;
};

Status StorageError(const rocksdb::Status& s);

// Locks into `locked` the shards of the targets `locks` accepts (every target when null),
// each drained of queued groups. A target whose shard was split (closed) before the locks
// were taken goes to the child now holding its hash, and the locks are taken again; a
// closed shard never reopens, so this ends.
void LockTargetShards(CommitPipeline& pipeline, std::vector<Target>& targets,
                      std::optional<LockedShards>& locked,
                      const std::function<bool(size_t)>& locks = nullptr);

// The item change a logged record describes (a change replicated from another region, an
// entry of a shard's log): a put of `*image` for an INSERT or MODIFY (null: the log lacks
// the item, an error), a delete of the record's keys for a REMOVE. Validated against
// `table`'s key schema, with the record's version required, and the item key encoded; the
// shard is the caller's to set. Errors: Validation, saying what is wrong.
Result<Target> LoggedChangeTarget(const TablePtr& table, const v1::ChangeRecord& record,
                                  const v1::MapValue* image);

// Loads the current item (or tombstone version) of `target`, from the shard's overlay of
// queued writes or else from RocksDB. The caller holds the shard's commit lock (a
// ShardWriter or LockedShards).
Status LoadCurrent(rocksdb::DB& db, const Shard& shard, Target& target);

// Parses a stored item into `target` (current, current_version).
Status ParseStored(std::string_view value, Target& target);

// Encodes `t.next` (a tombstone when it is a delete and the context keeps tombstones) with
// `version` and, with `sequence` != 0, its change record.
PreparedChange PrepareChange(const Target& t, const v1::Version& version, uint64_t sequence,
                             const TableConfig& config, const RecordContext& context);

// The key attributes of `item` (which has them) under `schema`.
Item KeyOf(const KeySchema& schema, const Item& item);

// (hlc_micros, region) order: true when `a` is newer than `b` (an empty `b` is older than
// every version).
bool NewerVersion(const v1::Version& a, const v1::Version& b);

}  // namespace tidewater
