#include "tidewater/cluster/cluster_topics.h"

#include <librdkafka/rdkafka.h>

#include <memory>

#include "kafka_client.h"

namespace tidewater::cluster {
namespace {

int TimeoutMs(const ClusterKafka& kafka) { return static_cast<int>(kafka.timeout.count()); }

Result<KafkaHandle> MetadataClient(const ClusterKafka& kafka) {
  // A producer sends nothing until asked; it only reads metadata and sends admin requests.
  return NewKafkaClient(RD_KAFKA_PRODUCER, kafka.brokers, kafka.kafka_properties, {});
}

}  // namespace

std::string ShardLogTopic(const std::string& cluster_name, uint64_t table_id) {
  return "tidewater." + cluster_name + ".t." + std::to_string(table_id) + ".g0";
}

std::string ShardLogTopicPattern(const std::string& cluster_name) {
  // Cluster names are of [A-Za-z0-9._-] (ValidateClusterName): only '.' needs escaping.
  std::string escaped;
  for (char c : cluster_name) {
    if (c == '.') escaped += '\\';
    escaped += c;
  }
  return "^tidewater\\." + escaped + "\\.t\\..*";
}

std::string OwnersGroup(const std::string& cluster_name) {
  return "tidewater." + cluster_name + ".owners";
}

std::string NodesTopic(const std::string& cluster_name) {
  return "tidewater." + cluster_name + ".nodes";
}

std::string CatalogTopic(const std::string& cluster_name) {
  return "tidewater." + cluster_name + ".catalog";
}

Result<std::map<std::string, int32_t>> ReadTopicPartitions(const ClusterKafka& kafka) {
  TW_ASSIGN_OR_RETURN(KafkaHandle client, MetadataClient(kafka));
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t code =
      rd_kafka_metadata(client.get(), /*all_topics=*/1, nullptr, &metadata, TimeoutMs(kafka));
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Internal("Kafka brokers " + kafka.brokers + " did not answer within " +
                            std::to_string(kafka.timeout.count()) +
                            " ms: " + rd_kafka_err2str(code));
  }
  std::map<std::string, int32_t> topics;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& topic = metadata->topics[i];
    if (topic.err == RD_KAFKA_RESP_ERR_NO_ERROR) topics[topic.topic] = topic.partition_cnt;
  }
  rd_kafka_metadata_destroy(metadata);
  return topics;
}

Status EnsureTopic(const ClusterKafka& kafka, const TopicRequirement& requirement) {
  TW_ASSIGN_OR_RETURN(KafkaHandle client, MetadataClient(kafka));
  return EnsureTopic(client.get(), requirement, kafka.timeout);
}

}  // namespace tidewater::cluster
