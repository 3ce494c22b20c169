#include "tidewater/cluster/kafka_topics.h"

#include <memory>
#include <optional>
#include <thread>

namespace tidewater::cluster {
namespace {

// The topic's partition count, nullopt when the cluster does not know the topic.
// Asks for all topics: a request naming the topic could auto-create it with the broker's
// default partition count.
Result<std::optional<int>> PartitionCount(rd_kafka_t* handle, const std::string& topic,
                                          std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t error =
      rd_kafka_metadata(handle, 1, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Internal("Kafka metadata request failed (is the cluster reachable?): " +
                            std::string(rd_kafka_err2str(error)));
  }
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> owned(
      metadata, &rd_kafka_metadata_destroy);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = metadata->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return std::optional<int>();
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Internal("Kafka topic '" + topic + "': " + rd_kafka_err2str(t.err));
    }
    return std::optional<int>(t.partition_cnt);
  }
  return std::optional<int>();
}

Status CreateTopic(rd_kafka_t* handle, const TopicRequirement& requirement,
                   std::chrono::milliseconds timeout) {
  const std::string what = "cannot create Kafka topic '" + requirement.topic + "' with " +
                           std::to_string(requirement.partitions) + " partitions: ";
  char error[512];
  std::unique_ptr<rd_kafka_NewTopic_t, void (*)(rd_kafka_NewTopic_t*)> new_topic(
      rd_kafka_NewTopic_new(requirement.topic.c_str(), requirement.partitions,
                            requirement.replication_factor, error, sizeof(error)),
      &rd_kafka_NewTopic_destroy);
  if (!new_topic) return Status::Internal(what + error);
  std::unique_ptr<rd_kafka_AdminOptions_t, void (*)(rd_kafka_AdminOptions_t*)> options(
      rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS),
      &rd_kafka_AdminOptions_destroy);
  const int timeout_ms = static_cast<int>(timeout.count());
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, error, sizeof(error)) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, error,
                                                  sizeof(error)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Internal(what + error);
  }
  std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue(rd_kafka_queue_new(handle),
                                                                       &rd_kafka_queue_destroy);
  rd_kafka_NewTopic_t* topics[] = {new_topic.get()};
  rd_kafka_CreateTopics(handle, topics, 1, options.get(), queue.get());
  // The admin request times out by itself; the extra second covers its own bookkeeping.
  std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)> event(
      rd_kafka_queue_poll(queue.get(), timeout_ms + 1000), &rd_kafka_event_destroy);
  if (!event) return Status::Internal(what + "no answer from the cluster");
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Internal(what + rd_kafka_event_error_string(event.get()));
  }
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t result = rd_kafka_topic_result_error(results[i]);
    // Someone else created it meanwhile: the partition check that follows decides.
    if (result == RD_KAFKA_RESP_ERR_NO_ERROR || result == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      continue;
    }
    const char* message = rd_kafka_topic_result_error_string(results[i]);
    return Status::Internal(what + (message ? message : rd_kafka_err2str(result)));
  }
  return Status::Ok();
}

}  // namespace

Status EnsureTopic(rd_kafka_t* handle, const TopicRequirement& requirement,
                   std::chrono::milliseconds timeout) {
  TW_ASSIGN_OR_RETURN(std::optional<int> partitions,
                      PartitionCount(handle, requirement.topic, timeout));
  if (!partitions) {
    TW_RETURN_IF_ERROR(CreateTopic(handle, requirement, timeout));
    // Metadata can trail the creation for a moment.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!partitions) {
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Internal("Kafka topic '" + requirement.topic +
                                "' was created but does not appear in the cluster's metadata");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      TW_ASSIGN_OR_RETURN(partitions, PartitionCount(handle, requirement.topic, timeout));
    }
  }
  if (*partitions < requirement.partitions) {
    return Status::Validation(
        "Kafka topic '" + requirement.topic + "' has " + std::to_string(*partitions) +
        " partitions but table '" + requirement.table + "' has " +
        std::to_string(requirement.partitions) + " shards; " + requirement.needed_by +
        " needs one partition per shard: add partitions to the topic "
        "(kafka-topics.sh --alter --topic " +
        requirement.topic + " --partitions " + std::to_string(requirement.partitions) +
        ") or delete it");
  }
  return Status::Ok();
}

}  // namespace tidewater::cluster
