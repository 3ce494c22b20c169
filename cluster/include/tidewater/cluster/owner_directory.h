// Where each shard is served (docs/CLUSTER.md, "Forwarding"): every node announces the
// shards it takes over on the cluster's nodes topic (tidewater.<cluster>.nodes), and reads
// that topic from its beginning to know, for any shard, the node that took it over last and
// the HOST:PORT requests for it are forwarded to.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "tidewater/cluster/cluster_topics.h"
#include "tidewater/core/status.h"

namespace tidewater::cluster {

// One take-over of a shard, as announced. A shard's terms only grow, so the announcement
// with the highest term names its current owner whatever order announcements arrive in.
struct ShardOwner {
  uint64_t term = 0;
  std::string node_id;
  std::string advertised;  // HOST:PORT the node serves on
};

// [Ownership] Owns a producer, a reader of the nodes topic and the reader's thread.
// [Threading] Every method may be called from any thread.
// [Guarantees] Find answers from what was read so far: an owner that took a shard over an
// instant ago may not be known yet (the previous one is named, which refuses the request
// with ServiceUnavailable, for the client to retry). Announcements are sent without
// waiting; one lost (a broker down) is logged, and the shard's next take-over announces
// again.
class OwnerDirectory {
 public:
  // Checks that the nodes topic exists (creating it, one partition, where the brokers
  // allow) and starts reading it from its beginning. Errors: Internal when the brokers do
  // not answer or refuse to create the topic, Validation for a Kafka property.
  static Result<std::unique_ptr<OwnerDirectory>> Start(const ClusterKafka& kafka,
                                                       const std::string& cluster_name);
  ~OwnerDirectory();

  // Announces that `owner` took `partition` of the shard-log `topic` over.
  void Announce(const std::string& topic, int32_t partition, const ShardOwner& owner);
  // The shard's owner with the highest term read so far; nullopt when none was announced.
  std::optional<ShardOwner> Find(const std::string& topic, int32_t partition) const;

 private:
  struct State;
  explicit OwnerDirectory(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace tidewater::cluster
