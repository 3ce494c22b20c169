#include "tidewater/cluster/owner_directory.h"

#include <librdkafka/rdkafka.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "kafka_client.h"

namespace tidewater::cluster {
namespace {

void OnAnnounced(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("event=owner_announcement_lost shard={} error=\"{}\"",
                 std::string(static_cast<const char*>(message->key), message->key_len),
                 rd_kafka_err2str(message->err));
  }
}

// An announcement's key: the shard-log partition it is about.
std::string ShardKey(const std::string& topic, int32_t partition) {
  return topic + "/" + std::to_string(partition);
}

// An announcement's value, readable with kcat: {"term":7,"node":"n2","advertised":"h:8002"}.
std::string EncodeOwner(const ShardOwner& owner) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("term");
  writer.Uint64(owner.term);
  writer.Key("node");
  writer.String(owner.node_id.c_str(), static_cast<rapidjson::SizeType>(owner.node_id.size()));
  writer.Key("advertised");
  writer.String(owner.advertised.c_str(),
                static_cast<rapidjson::SizeType>(owner.advertised.size()));
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::optional<ShardOwner> DecodeOwner(const char* data, size_t size) {
  rapidjson::Document parsed;
  parsed.Parse(data, size);
  if (parsed.HasParseError() || !parsed.IsObject()) return std::nullopt;
  const rapidjson::Document& document = parsed;
  auto term = document.FindMember("term");
  auto node = document.FindMember("node");
  auto advertised = document.FindMember("advertised");
  if (term == document.MemberEnd() || !term->value.IsUint64() || node == document.MemberEnd() ||
      !node->value.IsString() || advertised == document.MemberEnd() ||
      !advertised->value.IsString()) {
    return std::nullopt;
  }
  return ShardOwner{term->value.GetUint64(), node->value.GetString(),
                    advertised->value.GetString()};
}

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
};
using TopicHandle = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;

}  // namespace

struct OwnerDirectory::State {
  std::string topic;
  KafkaHandle producer;
  KafkaHandle consumer;
  TopicHandle consumed;
  std::atomic<bool> stopping{false};
  std::thread reader;
  mutable std::mutex mu;
  std::map<std::string, ShardOwner> owners;  // by ShardKey; guarded by mu

  // Reads announcements as they come and serves the producer's delivery reports.
  void Read() {
    while (!stopping.load(std::memory_order_acquire)) {
      rd_kafka_poll(producer.get(), 0);
      rd_kafka_message_t* message = rd_kafka_consume(consumed.get(), 0, 100);
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR && message->key != nullptr) {
        std::string key(static_cast<const char*>(message->key), message->key_len);
        if (auto owner = DecodeOwner(static_cast<const char*>(message->payload), message->len)) {
          std::lock_guard lock(mu);
          ShardOwner& known = owners[key];
          if (owner->term >= known.term) known = std::move(*owner);
        } else {
          spdlog::warn("event=owner_announcement_invalid topic={} offset={}", topic,
                       message->offset);
        }
      } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF &&
                 message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::debug("event=owner_directory_read_error topic={} error=\"{}\"", topic,
                      rd_kafka_message_errstr(message));
      }
      rd_kafka_message_destroy(message);
    }
  }
};

Result<std::unique_ptr<OwnerDirectory>> OwnerDirectory::Start(const ClusterKafka& kafka,
                                                              const std::string& cluster_name) {
  auto state = std::make_unique<State>();
  state->topic = NodesTopic(cluster_name);
  TopicRequirement requirement;
  requirement.topic = state->topic;
  requirement.table = "(the cluster's nodes)";
  requirement.needed_by = "the owners' directory";
  TW_RETURN_IF_ERROR(EnsureTopic(kafka, requirement));
  TW_ASSIGN_OR_RETURN(
      state->producer,
      NewKafkaClient(RD_KAFKA_PRODUCER, kafka.brokers, kafka.kafka_properties,
                     {{"acks", "all"}, {"linger.ms", "0"}}, [](rd_kafka_conf_t* conf) {
                       rd_kafka_conf_set_dr_msg_cb(conf, OnAnnounced);
                     }));
  TW_ASSIGN_OR_RETURN(state->consumer,
                      NewKafkaClient(RD_KAFKA_CONSUMER, kafka.brokers, kafka.kafka_properties,
                                     {{"enable.auto.commit", "false"},
                                      {"enable.auto.offset.store", "false"},
                                      {"fetch.wait.max.ms", "50"},
                                      {"fetch.error.backoff.ms", "100"}}));
  state->consumed.reset(rd_kafka_topic_new(state->consumer.get(), state->topic.c_str(), nullptr));
  if (state->consumed == nullptr ||
      rd_kafka_consume_start(state->consumed.get(), 0, RD_KAFKA_OFFSET_BEGINNING) != 0) {
    return Status::Internal("cannot read Kafka topic '" + state->topic +
                            "': " + rd_kafka_err2str(rd_kafka_last_error()));
  }
  State* reading = state.get();
  state->reader = std::thread([reading] { reading->Read(); });
  return std::unique_ptr<OwnerDirectory>(new OwnerDirectory(std::move(state)));
}

OwnerDirectory::OwnerDirectory(std::unique_ptr<State> state) : state_(std::move(state)) {}

OwnerDirectory::~OwnerDirectory() {
  state_->stopping.store(true, std::memory_order_release);
  state_->reader.join();
  rd_kafka_consume_stop(state_->consumed.get(), 0);
  // Announcements still in flight get a moment; the next take-over announces again.
  rd_kafka_flush(state_->producer.get(), 2000);
}

void OwnerDirectory::Announce(const std::string& topic, int32_t partition,
                              const ShardOwner& owner) {
  const std::string key = ShardKey(topic, partition);
  const std::string value = EncodeOwner(owner);
  const rd_kafka_resp_err_t error =
      rd_kafka_producev(state_->producer.get(), RD_KAFKA_V_TOPIC(state_->topic.c_str()),
                        RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_KEY(key.data(), key.size()),
                        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("event=owner_announcement_lost shard={} error=\"{}\"", key,
                 rd_kafka_err2str(error));
  }
}

std::optional<ShardOwner> OwnerDirectory::Find(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->owners.find(ShardKey(topic, partition));
  if (it == state_->owners.end()) return std::nullopt;
  return it->second;
}

}  // namespace tidewater::cluster
