// Cluster mode's durable step on a node (docs/CLUSTER.md, "The commit path on the owner"):
// the engine's ReplicatedCommitLog over the shard logs this node owns. A commit's changes
// are appended to their shards' Kafka partitions and read back valid before the engine
// writes them locally; a node restarting after a crash takes its shards over again, which
// first applies whatever its logs hold beyond its storage.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tidewater/cluster/shard_follower.h"
#include "tidewater/core/shard_log_target.h"

namespace tidewater::cluster {

struct ClusterCommitLogOptions {
  std::string brokers;       // bootstrap.servers
  std::string cluster_name;  // names the topics (ShardLogTopic)
  std::string node_id;
  std::string advertised;  // HOST:PORT this node serves on
  std::map<std::string, std::string> kafka_properties;
  std::chrono::milliseconds timeout{10000};  // of one append (produce and read back)
};

// The topic of a table's shard logs: one partition per shard.
std::string ShardLogTopic(const std::string& cluster_name, uint64_t table_id);

// [Ownership] Owns a ShardFollower per shard taken over; the engine given to TakeOver must
// outlive it (and the engine holds it as EngineOptions::replicated_log: destroy the engine
// first).
// [Threading] Append may run concurrently for different shards; TakeOver runs while the
// engine is not writing to that shard.
// [Guarantees] A commit is acknowledged (Append ok) only once its entries are read back
// valid in every shard's log. After an append whose outcome is unknown the shard refuses
// appends until it is taken over again (TakeOver), which applies what the log holds.
class ClusterCommitLog final : public ReplicatedCommitLog {
 public:
  explicit ClusterCommitLog(ClusterCommitLogOptions options) : options_(std::move(options)) {}

  // Takes `table`'s `shard` over on `engine`: follows its log from the engine's stored
  // position, starts a term and applies everything valid before it. From then on this
  // node appends the shard's commits. Errors: the follower's or the take-over's.
  Status TakeOver(ShardLogTarget& engine, const TableName& table, uint64_t table_id,
                  ShardIndex shard);

  Status Append(std::vector<ShardCommit> commits, std::vector<std::string>& positions) override;

 private:
  struct OwnedShard {
    std::mutex mu;  // one append at a time (the engine's ordering already ensures it)
    std::unique_ptr<ShardFollower> follower;
    bool failed = false;  // an append's outcome was unknown: take the shard over again
  };
  using Key = std::pair<std::string, uint32_t>;  // table name, shard

  const ClusterCommitLogOptions options_;
  std::mutex mu_;  // guards shards_ (the map; each shard has its own mutex)
  std::map<Key, std::shared_ptr<OwnedShard>> shards_;
};

}  // namespace tidewater::cluster
