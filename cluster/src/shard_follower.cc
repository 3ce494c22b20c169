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
  // The log's rule already admitted the entry: its position is the one after it. A
  // TermStart changes no item, but the position moves past it all the same.
  const FencePosition& fence = log_->position();
  v1::ShardLogPosition position;
  position.set_next_offset(offset + 1);
  position.set_term(fence.term);
  position.set_term_owner(fence.term_owner);
  position.set_last_sequence(fence.last_sequence);
  CommittedBatch batch{options_.table, options_.shard, {}, position.SerializeAsString()};
  if (entry.has_change()) batch.changes.push_back(entry.change());
  return engine_->ApplyCommittedChanges(batch);
}

}  // namespace tidewater::cluster
