// The Kafka topics cluster mode writes to (docs/CLUSTER.md, "Processes, names, topics"):
// their names, and the checks a node makes before it relies on them, so that a missing
// topic or broker is a clear error at start or at CreateTable, never a node that silently
// writes nowhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "tidewater/cluster/kafka_topics.h"
#include "tidewater/core/status.h"

namespace tidewater::cluster {

// The cluster's brokers and how to reach them.
struct ClusterKafka {
  std::string brokers;                                  // bootstrap.servers
  std::map<std::string, std::string> kafka_properties;  // TLS, SASL: passed to librdkafka
  std::chrono::milliseconds timeout{10000};             // of one metadata or admin request
};

// The topic of a table's shard logs: one partition per shard.
std::string ShardLogTopic(const std::string& cluster_name, uint64_t table_id);
// A regular expression (librdkafka's '^' form) matching every ShardLogTopic of the cluster.
std::string ShardLogTopicPattern(const std::string& cluster_name);
// The consumer group whose assignment decides which node owns which shard.
std::string OwnersGroup(const std::string& cluster_name);
// The topic where nodes announce the shards they take over (OwnerDirectory): one partition.
std::string NodesTopic(const std::string& cluster_name);
// The topic of the cluster's DDL (CatalogLog): one partition.
std::string CatalogTopic(const std::string& cluster_name);

// Every topic the brokers know, with its partition count. Errors: Internal when the
// brokers do not answer within the timeout (unreachable, wrong address, TLS or SASL
// refused); Validation for a Kafka property librdkafka refuses.
Result<std::map<std::string, int32_t>> ReadTopicPartitions(const ClusterKafka& kafka);

// EnsureTopic (kafka_topics.h) through a client of its own on the cluster's brokers.
Status EnsureTopic(const ClusterKafka& kafka, const TopicRequirement& requirement);

}  // namespace tidewater::cluster
