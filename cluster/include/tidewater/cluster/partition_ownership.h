// Which node owns which shard-log partition in cluster mode (docs/CLUSTER.md,
// "Ownership"): the assignment of a Kafka consumer group whose members are the nodes.
// Kafka's group coordinator decides; nothing here votes.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tidewater/core/status.h"

namespace tidewater::cluster {

struct PartitionRef {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const PartitionRef&) const = default;
};

struct OwnershipOptions {
  std::string brokers;   // bootstrap.servers
  std::string group_id;  // tidewater.<cluster name>.owners
  std::string node_id;   // the member's client.id
  // Topics whose partitions are owned: names, or regular expressions starting with '^'.
  std::vector<std::string> topics;
  // librdkafka properties (TLS, SASL); the group settings ownership depends on are its own.
  std::map<std::string, std::string> kafka_properties;
  // A member silent this long loses its partitions to the others.
  std::chrono::milliseconds session_timeout{10000};
};

// Told of this node's ownership changes, in the order the group makes them, on the
// membership's own thread (one call at a time).
class OwnershipListener {
 public:
  virtual ~OwnershipListener() = default;
  // This node owns `partitions` from now on. It takes each over (ShardLog::TakeOver)
  // before serving it.
  virtual void Assigned(const std::vector<PartitionRef>& partitions) = 0;
  // A rebalance or this node's leaving takes `partitions` away. The next owner is assigned
  // only after this returns: stop admitting writes and finish the ones in flight first.
  // `lost`: the group already dropped this node (its session expired), so another node
  // may own them already; nothing may be acknowledged for them any more.
  virtual void Revoked(const std::vector<PartitionRef>& partitions, bool lost) = 0;
};

// One node's membership in the owners' group.
// [Ownership] Owns its Kafka consumer and the thread that serves the group; the listener
// must outlive it.
// [Threading] Owned() may be called from any thread.
// [Guarantees] While members keep their sessions, each partition of the topics is owned by
// one member, and a graceful hand-off (Revoked returning) comes before the next owner's
// Assigned. A member that went silent may still believe it owns partitions that others
// own: the shard log's fencing (shard_log.h), not the group, keeps its writes out.
class PartitionOwnership {
 public:
  // Joins the group. Errors: Validation for bad options or Kafka properties; Internal when
  // the subscription is refused.
  static Result<std::unique_ptr<PartitionOwnership>> Join(OwnershipOptions options,
                                                          OwnershipListener& listener);
  // Leaves the group gracefully: the listener gets Revoked for everything it owns.
  ~PartitionOwnership();
  PartitionOwnership(const PartitionOwnership&) = delete;
  PartitionOwnership& operator=(const PartitionOwnership&) = delete;

  // The partitions this node owns now, sorted.
  std::vector<PartitionRef> Owned() const;

 private:
  struct Member;
  explicit PartitionOwnership(std::unique_ptr<Member> member);
  std::unique_ptr<Member> member_;
};

}  // namespace tidewater::cluster
