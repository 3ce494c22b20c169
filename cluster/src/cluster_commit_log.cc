#include "tidewater/cluster/cluster_commit_log.h"

namespace tidewater::cluster {

std::string ShardLogTopic(const std::string& cluster_name, uint64_t table_id) {
  return "tidewater." + cluster_name + ".t." + std::to_string(table_id) + ".g0";
}

Status ClusterCommitLog::TakeOver(ShardLogTarget& engine, const TableName& table, uint64_t table_id,
                                  ShardIndex shard) {
  ShardFollowerOptions follower_options;
  ShardLogOptions& log = follower_options.log;
  log.brokers = options_.brokers;
  log.node_id = options_.node_id;
  log.advertised = options_.advertised;
  log.topic = ShardLogTopic(options_.cluster_name, table_id);
  log.partition = static_cast<int32_t>(shard.value());
  log.message_key = std::to_string(table_id) + "/" + std::to_string(shard.value());
  log.kafka_properties = options_.kafka_properties;
  log.timeout = options_.timeout;
  follower_options.table = table;
  follower_options.shard = shard;
  TW_ASSIGN_OR_RETURN(std::unique_ptr<ShardFollower> follower,
                      ShardFollower::Open(std::move(follower_options), engine));
  TW_RETURN_IF_ERROR(follower->log().TakeOver());
  auto owned = std::make_shared<OwnedShard>();
  owned->follower = std::move(follower);
  std::lock_guard lock(mu_);
  shards_[{table.value(), shard.value()}] = std::move(owned);
  return Status::Ok();
}

Status ClusterCommitLog::Append(std::vector<ShardCommit> commits,
                                std::vector<std::string>& positions) {
  positions.assign(commits.size(), std::string());
  for (size_t i = 0; i < commits.size(); ++i) {
    ShardCommit& commit = commits[i];
    const auto shard_name = [&] {
      return "shard " + std::to_string(commit.shard.value()) + " of " + commit.table.value();
    };
    std::shared_ptr<OwnedShard> owned;
    {
      std::lock_guard lock(mu_);
      auto it = shards_.find({commit.table.value(), commit.shard.value()});
      if (it != shards_.end()) owned = it->second;
    }
    if (owned == nullptr) {
      return Status::Internal(shard_name() + " is not owned by node " + options_.node_id);
    }
    std::lock_guard lock(owned->mu);
    if (owned->failed) {
      return Status::Internal(shard_name() +
                              ": an earlier write's outcome is unknown; the shard takes writes "
                              "again once it is taken over");
    }
    std::vector<v1::ShardLogEntry> entries(commit.changes.size());
    for (size_t j = 0; j < entries.size(); ++j) {
      *entries[j].mutable_change() = std::move(commit.changes[j]);
    }
    Status appended = owned->follower->AppendOwn(entries, positions[i]);
    if (!appended.ok()) {
      owned->failed = true;
      return appended;
    }
  }
  return Status::Ok();
}

}  // namespace tidewater::cluster
