// The cluster-mode role of the engine (docs/CLUSTER.md): applying the committed changes a
// shard's replicated log holds, as the node that follows the log (a standby, a new owner,
// a node restarting after the log acknowledged writes it had not applied) builds its
// storage from it. Every node that applies the same changes ends with the same items,
// the same change records (byte for byte, with the owner's sequences) and the same index
// entries; its global index work and history are its own, derived the same way.
//
// Thread safety: every method is safe to call concurrently. Exceptions never escape.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"
#include "tidewater/v1/cluster.pb.h"

namespace tidewater {

// Changes of ONE shard, in the log's order, and where the log's reader stands after them.
//
// Each change carries its record and, for an INSERT or MODIFY, the item as stored
// (attributes and version). The record supplies the keys, the version, the time
// (approximate_creation_time_micros: the commit's record time, also the time of the
// tombstone and history entry it leaves), provenance, origin region and transaction
// fields. A record's sequence is the stream's: 0 when the table's stream was off at the
// commit (no record is logged), else the one after the shard's last.
struct CommittedBatch {
  TableName table;
  ShardIndex shard;
  std::vector<v1::CommittedChange> changes;
  // The log reader's position after these changes (opaque to the engine: the cluster
  // module's encoding), stored in the same WriteBatch as the changes.
  std::string position;
};

class ShardLogTarget {
 public:
  virtual ~ShardLogTarget() = default;

  // Applies the changes and stores the position, all in one WriteBatch: after a crash,
  // either all of them and the position are there, or none. Unconditional: the log
  // decided; no version comparison, no condition. Errors: ValidationException for a
  // change that is malformed, belongs to another shard, or carries a sequence that is not
  // the shard's next (a change applied twice, or one missing before it); nothing is
  // written then. NotFound for an unknown table or shard.
  virtual Status ApplyCommittedChanges(const CommittedBatch& batch) = 0;
  // The position stored by the last ApplyCommittedChanges of the shard; nullopt: none.
  virtual Result<std::optional<std::string>> LoadShardLogPosition(const TableName& table,
                                                                  ShardIndex shard) = 0;
};

// One shard's part of an owner's commit: the changes it appends to the shard's log.
struct ShardCommit {
  TableName table;
  ShardIndex shard;
  std::vector<v1::CommittedChange> changes;
};

// Cluster mode's durable step (EngineOptions::replicated_log): the owner's commits go to
// their shards' replicated logs before they are applied locally.
//
// [Contract] Append returns ok only once every shard's changes are in its log for good
// (for cluster mode: appended, acknowledged and read back valid), with `positions` then
// holding, for each commit in order, the log reader's position after its changes (stored
// in the same WriteBatch as the local apply; ShardLogTarget reads it back). An error means
// the outcome is unknown: some of the changes may be in their logs. The engine then
// stops writing until RecoverStorage, which calls Recover to bring the logs' changes into
// storage.
// [Lifecycle] The engine tells the log of every table it opens, creates and deletes
// (OpenTable, CloseTable), with no engine lock held, so that the log may apply what the
// table's shards' logs hold through the engine (ShardLogTarget) before it serves them.
// [Ordering] Append is never called concurrently for commits that share a shard.
// [Threading] Every method may be called from several threads at once.
class ReplicatedCommitLog {
 public:
  virtual ~ReplicatedCommitLog() = default;
  virtual Status Append(std::vector<ShardCommit> commits, std::vector<std::string>& positions) = 0;
  // Whether this node may commit to `shard` of `table` now. Asked under the shard's commit
  // lock before a write to it is prepared; an error (ServiceUnavailable: retry, perhaps on
  // another node) refuses the write with nothing done.
  virtual Status Admit(const TableName& table, ShardIndex shard) = 0;
  // Whether this node's copy of `shard` of `table` may answer reads: Ok while it follows
  // the shard's log (served or recovering here). An error (ServiceUnavailable) once
  // another node took the shard over: the copy here stopped at that take-over and would
  // answer stale.
  virtual Status AdmitRead(const TableName& table, ShardIndex shard) = 0;
  // `table` (id `table_id`, shards 0..shards-1) is open on `engine`, at its start or just
  // created. An error means its shards cannot be served: a table being created is then
  // deleted again and CreateTable fails with it; at start, the engine does not open.
  virtual Status OpenTable(ShardLogTarget& engine, const TableName& table, uint64_t table_id,
                           uint32_t shards) = 0;
  // `table` was deleted: its shards are no longer served.
  virtual void CloseTable(const TableName& table) = 0;
  // The shard's changes are in its log but its local write failed: its storage may lack
  // what its log holds. Writes to it are refused (Admit) until Recover.
  virtual void MarkForRecovery(const TableName& table, ShardIndex shard) = 0;
  // After a write failure, once the engine accepts writes again: every shard whose
  // append's outcome was unknown, or marked for recovery, applies what its log holds and
  // is admitted again.
  virtual Status Recover(ShardLogTarget& engine) = 0;
  // Ok while every shard this node should serve takes writes; else why not (tidewaterd's
  // /healthz answers 503 with it).
  virtual Status Health() = 0;
};

}  // namespace tidewater
