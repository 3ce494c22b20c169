// Cluster mode's durable step on a node (docs/CLUSTER.md, "The commit path on the owner"):
// the engine's ReplicatedCommitLog over the shard logs this node owns. A commit's changes
// are appended to their shards' Kafka partitions and read back valid before the engine
// writes them locally; a node restarting after a crash takes its shards over again, which
// first applies whatever its logs hold beyond its storage.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tidewater/cluster/cluster_topics.h"
#include "tidewater/cluster/owner_directory.h"
#include "tidewater/cluster/partition_ownership.h"
#include "tidewater/cluster/shard_follower.h"
#include "tidewater/core/shard_log_target.h"

namespace prometheus {
class Registry;
}

namespace tidewater::cluster {

class ClusterMetrics;
class ShardMetrics;

// Which shards a node takes over (docs/CLUSTER.md, "Ownership").
enum class ShardOwnership {
  // The owners' consumer group assigns each shard-log partition to one node; a node takes
  // over what it is assigned and hands off what a rebalance or its leaving takes away.
  kGroup,
  // This node takes every shard of every table over when it opens the table, whoever owned
  // it: a one-node cluster, or an operator moving every shard here. The logs' fencing keeps
  // another node's later appends out, but two such nodes would take turns.
  kEveryShard,
};

struct ClusterCommitLogOptions {
  std::string brokers;       // bootstrap.servers
  std::string cluster_name;  // names the topics (ShardLogTopic)
  std::string node_id;
  std::string advertised;  // HOST:PORT this node serves on
  std::map<std::string, std::string> kafka_properties;
  std::chrono::milliseconds timeout{10000};                // of one append (produce and read back)
  ShardOwnership ownership = ShardOwnership::kEveryShard;  // tidewaterd's default is kGroup
  // kGroup: a node silent this long loses its shards to the others.
  std::chrono::milliseconds session_timeout{10000};
  // Where the node's cluster metrics go (served on /metrics); null: a private registry.
  // Not owned; must outlive the log.
  prometheus::Registry* registry = nullptr;
  // Where take-overs are announced and other nodes' looked up (RemoteOwner); null: none.
  // Not owned; must outlive the log.
  OwnerDirectory* directory = nullptr;
};

// [Ownership] Owns a ShardFollower per shard taken over; the engine given to TakeOver must
// outlive it (and the engine holds it as EngineOptions::replicated_log: destroy the engine
// first).
// [Threading] Every method may run concurrently; Append for different shards in parallel.
// TakeOver runs while the engine is not writing to that shard (Admit refuses writes to a
// shard not taken over, or being taken over again).
// [Guarantees] A commit is acknowledged (Append ok) only once its entries are read back
// valid in every shard's log. After an append whose outcome is unknown the shard refuses
// writes (Admit) until it is taken over again (Recover), which applies what the log holds.
// A shard another node took over is never taken back by Recover: only a restart, or the
// owners' group assigning it here again, takes it over again.
// With ShardOwnership::kGroup a shard is served only while the group assigns its partition
// to this node (JoinOwnersGroup); a hand-off waits for the shard's append in flight.
class ClusterCommitLog final : public ReplicatedCommitLog {
 public:
  explicit ClusterCommitLog(ClusterCommitLogOptions options);
  // Leaves the owners' group first (LeaveOwnersGroup).
  ~ClusterCommitLog() override;

  // kGroup: joins the owners' group (tidewater.<cluster>.owners, over every shard-log
  // topic of the cluster). Assigned shards of the tables opened so far, and of those opened
  // later, are taken over as they come; a take-over that fails is tried again by Recover.
  // Call once, after the engine has opened its tables. Errors: PartitionOwnership::Join's.
  Status JoinOwnersGroup();
  // Hands every shard off and leaves the group (a no-op when not joined). Call before the
  // engine given to OpenTable is closed: the group's thread takes shards over on it.
  void LeaveOwnersGroup();

  // Takes `table`'s `shard` over on `engine`: follows its log from the engine's stored
  // position, starts a term and applies everything valid before it. From then on this
  // node appends the shard's commits. Errors: the follower's or the take-over's.
  Status TakeOver(ShardLogTarget& engine, const TableName& table, uint64_t table_id,
                  ShardIndex shard);

  Status Append(std::vector<ShardCommit> commits, std::vector<std::string>& positions) override;
  // Ok for a shard taken over whose last append did not fail; else ServiceUnavailable.
  Status Admit(const TableName& table, ShardIndex shard) override;
  // Ok for a shard taken over (recovering included); ServiceUnavailable once it is lost.
  Status AdmitRead(const TableName& table, ShardIndex shard) override;
  // Checks that the table's topic has a partition per shard (creating it if the brokers
  // allow), then takes every shard over.
  Status OpenTable(ShardLogTarget& engine, const TableName& table, uint64_t table_id,
                   uint32_t shards) override;
  void CloseTable(const TableName& table) override;
  void MarkForRecovery(const TableName& table, ShardIndex shard) override;
  // Takes every failed shard over again, unless another node took it meanwhile: then only
  // applies its log up to there, and refuses its writes from then on. The first error,
  // after trying them all.
  Status Recover(ShardLogTarget& engine) override;
  // The HOST:PORT of the node that serves `shard` of `table` when this node does not: the
  // owner the directory knows with the highest term. nullopt when this node serves it (or
  // is recovering it), when the directory names this node (a hand-off not announced yet)
  // or nobody, and without a directory.
  std::optional<std::string> RemoteOwner(const TableName& table, ShardIndex shard);
  // Unavailable, naming them, while shards are recovering, or assigned by the group but not
  // taken over yet (a failed take-over, retried by Recover); lost shards are another node's.
  Status Health() override;

 private:
  class GroupListener;
  // A table the engine opened: what a later assignment of its partitions takes over.
  struct OpenedTable {
    TableName table;
    uint64_t table_id = 0;
    uint32_t shards = 0;
    ShardLogTarget* engine = nullptr;
  };
  struct OwnedShard {
    uint64_t table_id = 0;
    std::shared_ptr<ShardMetrics> metrics;  // the shard's series, kept across take-overs
    std::mutex mu;  // one append at a time (the engine's ordering already ensures it)
    std::unique_ptr<ShardFollower> follower;
    // An append's outcome was unknown, or its local write failed: take the shard over again.
    std::atomic<bool> failed{false};
    // Another node started a newer term: this node applied the log up to it and no longer
    // takes writes to the shard.
    std::atomic<bool> lost{false};
    // The group took the shard away (set under `mu`): an append that found the shard
    // before the hand-off and waited for `mu` appends nothing.
    bool handed_off = false;
  };
  using Key = std::pair<std::string, uint32_t>;  // table name, shard

  std::shared_ptr<OwnedShard> Find(const TableName& table, ShardIndex shard);
  // Ok when `owned` (Find's answer) is a shard this node serves: taken over and not lost.
  Status Serving(const OwnedShard* owned, const TableName& table, ShardIndex shard) const;
  Result<std::unique_ptr<ShardFollower>> OpenFollower(ShardLogTarget& engine,
                                                      const TableName& table, uint64_t table_id,
                                                      ShardIndex shard);
  // Takes the shard over with `follower` (opened at `started`) and serves it.
  Status Install(const TableName& table, uint64_t table_id, ShardIndex shard,
                 std::unique_ptr<ShardFollower> follower,
                 std::chrono::steady_clock::time_point started);
  // Brings the failed `owned` back: taken over again, or caught up and marked lost.
  Status RecoverShard(ShardLogTarget& engine, const Key& key, OwnedShard& owned);
  // Takes `shards` of `table` over in parallel (each waits about a round trip for its
  // producer's id, then appends). The first error, after trying them all. Requires
  // ownership_mu_.
  Status TakeOverAll(const OpenedTable& table, const std::vector<uint32_t>& shards);
  // The opened table whose shard `partition` is; null for another topic or partition.
  // Requires ownership_mu_.
  const OpenedTable* TableOf(const PartitionRef& partition) const;
  // The group's changes (GroupListener). Each holds ownership_mu_.
  void Assigned(const std::vector<PartitionRef>& partitions);
  void Revoked(const std::vector<PartitionRef>& partitions, bool lost);
  // Assigned shards of opened tables that this node does not serve: take-overs that failed.
  // Requires ownership_mu_.
  std::vector<std::pair<OpenedTable, std::vector<uint32_t>>> UnservedAssignments();
  // Records UnservedAssignments for Health. Requires ownership_mu_.
  void NoteUnserved();

  // The shard's series for `table_id`, created on first use. Requires mu_.
  std::shared_ptr<ShardMetrics> MetricsOf(const Key& key, uint64_t table_id);

  const ClusterCommitLogOptions options_;
  std::unique_ptr<prometheus::Registry> own_registry_;  // when options_.registry is null
  std::unique_ptr<ClusterMetrics> metrics_;
  // One take-over, hand-off or Recover at a time; taken before mu_.
  std::mutex ownership_mu_;
  std::map<std::string, OpenedTable> tables_by_topic_;  // guarded by ownership_mu_
  std::set<PartitionRef> assigned_;                     // kGroup; guarded by ownership_mu_
  std::unique_ptr<GroupListener> listener_;
  std::unique_ptr<PartitionOwnership> ownership_;  // kGroup, once joined
  std::mutex mu_;  // guards shards_ (the map; each shard has its own mutex)
  std::map<Key, std::shared_ptr<OwnedShard>> shards_;
  std::map<Key, std::shared_ptr<ShardMetrics>> shard_metrics_;  // guarded by mu_
  std::map<std::string, uint64_t> table_ids_;  // of the opened tables, by name; guarded by mu_
  std::string unserved_;                       // NoteUnserved's shard names; guarded by mu_
};

}  // namespace tidewater::cluster
