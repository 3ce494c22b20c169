// A node following one shard's log into its engine (docs/CLUSTER.md): a standby, or a node
// catching up before it takes the shard over. Every valid change entry is applied through
// the engine's apply path (ShardLogTarget) with the reader's position in the same
// WriteBatch, so a node that stops at any moment, kill -9 included, resumes where its
// storage stands: nothing applied twice, nothing skipped.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tidewater/cluster/shard_log.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/shard_log_target.h"
#include "tidewater/core/status.h"

namespace tidewater::cluster {

struct ShardFollowerOptions {
  // The shard's log; its start offset and position are the engine's stored ones (Open
  // overrides what is set here).
  ShardLogOptions log;
  TableName table;
  ShardIndex shard;
};

// [Ownership] Owns its ShardLog; the engine must outlive it.
// [Threading] Not thread-safe: one thread at a time.
// [Guarantees] The engine holds exactly the valid changes of the log up to the stored
// position, in log order.
class ShardFollower {
 public:
  // Opens the shard's log at the position the engine stored (the log's start if none).
  // Errors: the engine's (an unknown table or shard, storage), Internal for a stored
  // position that does not parse, or the log's (Validation for bad Kafka settings).
  static Result<std::unique_ptr<ShardFollower>> Open(ShardFollowerOptions options,
                                                     ShardLogTarget& engine);

  // Applies what the log holds now. Errors: the log's (Internal), or the engine's refusal
  // of a change (the read stops there; the next call reads it again).
  Status CatchUp() { return log_->CatchUp(); }

  // The shard's log, to take the shard over; what it reads is applied to the engine as
  // well. Call only while the engine is not writing to the shard.
  ShardLog& log() { return *log_; }

  // Appends the owner's own commit (ShardLog::Append), from inside the engine's commit of
  // it: the entries it reads back are not applied (the commit's own WriteBatch applies
  // them), and reading anything else valid (another node's term) fails the append, since
  // the engine cannot apply it in the middle of a commit. Ok: `position` is where the
  // log's reader stands after the entries, for the commit's WriteBatch.
  Status AppendOwn(std::vector<v1::ShardLogEntry>& entries, std::string& position);

 private:
  ShardFollower() = default;
  Status Apply(int64_t offset, const v1::ShardLogEntry& entry);
  std::string EncodedPosition(int64_t next_offset) const;

  ShardFollowerOptions options_;
  ShardLogTarget* engine_ = nullptr;
  std::unique_ptr<ShardLog> log_;
  bool appending_own_ = false;
};

}  // namespace tidewater::cluster
