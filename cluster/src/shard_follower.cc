#include "tidewater/cluster/shard_follower.h"

#include <utility>

namespace tidewater::cluster {

Result<std::unique_ptr<ShardFollower>> ShardFollower::Open(ShardFollowerOptions options,
                                                           ShardLogTarget& engine) {
  TW_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                      engine.LoadShardLogPosition(options.table, options.shard));
  options.log.start_offset = 0;
  options.log.start_position = {};
  if (stored) {
    v1::ShardLogPosition position;
    if (!position.ParseFromString(*stored) || position.next_offset() < 0) {
      return Status::Internal("the stored position of shard " +
                              std::to_string(options.shard.value()) + " of " +
                              options.table.value() + " does not parse");
    }
    options.log.start_offset = position.next_offset();
    options.log.start_position = {position.term(), position.term_owner(), position.last_sequence()};
  }
  std::unique_ptr<ShardFollower> follower(new ShardFollower());
  ShardFollower* raw = follower.get();
  raw->engine_ = &engine;
  raw->options_ = options;
  TW_ASSIGN_OR_RETURN(
      raw->log_,
      ShardLog::Open(std::move(options.log), [raw](int64_t offset, const v1::ShardLogEntry& entry) {
        return raw->Apply(offset, entry);
      }));
  return follower;
}

Status ShardFollower::Apply(int64_t offset, const v1::ShardLogEntry& entry) {
  if (appending_own_) {
    // Inside the engine's commit of these entries: the commit applies them.
    if (entry.has_change() && log_->owner() && entry.term() == log_->owned_term() &&
        entry.node_id() == log_->options().node_id) {
      return Status::Ok();
    }
    return Status::Internal("shard log " + log_->options().topic + ": entry at offset " +
                            std::to_string(offset) + " of term " + std::to_string(entry.term()) +
                            " from node " + entry.node_id() + " came before this node's own");
  }
  // The log's rule already admitted the entry: its position is the one after it. A
  // TermStart changes no item, but the position moves past it all the same.
  CommittedBatch batch{options_.table, options_.shard, {}, EncodedPosition(offset + 1)};
  if (entry.has_change()) batch.changes.push_back(entry.change());
  return engine_->ApplyCommittedChanges(batch);
}

std::string ShardFollower::EncodedPosition(int64_t next_offset) const {
  const FencePosition& fence = log_->position();
  v1::ShardLogPosition position;
  position.set_next_offset(next_offset);
  position.set_term(fence.term);
  position.set_term_owner(fence.term_owner);
  position.set_last_sequence(fence.last_sequence);
  return position.SerializeAsString();
}

Status ShardFollower::AppendOwn(std::vector<v1::ShardLogEntry>& entries, std::string& position) {
  appending_own_ = true;
  Status appended = log_->Append(entries);
  appending_own_ = false;
  TW_RETURN_IF_ERROR(appended);
  position = EncodedPosition(log_->next_offset());
  return Status::Ok();
}

}  // namespace tidewater::cluster
