// A topic with a partition per shard of a table: found through the Kafka cluster's
// metadata, created through the admin API when missing, checked to have enough partitions.
// Used by the Kafka publisher (its table topics) and by cluster mode (the shard logs).
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <string>

#include "tidewater/core/status.h"

namespace tidewater::cluster {

struct TopicRequirement {
  std::string topic;
  std::string table;
  int partitions = 1;                       // the table's shard count
  int replication_factor = -1;              // for creation; -1: the broker's default
  std::string needed_by = "the publisher";  // who needs a partition per shard (in errors)
};

// Makes sure the topic exists with at least `partitions` partitions, creating it when it
// is missing. Waits up to `timeout` for each request. Errors: Validation when the topic
// exists with fewer partitions; Internal when the cluster does not answer or refuses to
// create the topic. Thread safety: as librdkafka's handle (thread-safe).
Status EnsureTopic(rd_kafka_t* handle, const TopicRequirement& requirement,
                   std::chrono::milliseconds timeout);

}  // namespace tidewater::cluster
