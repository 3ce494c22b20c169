#include "tidewater/cluster/partition_ownership.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>
#include <thread>
#include <utility>

#include "kafka_client.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::cluster {
namespace {

std::vector<PartitionRef> ToRefs(const rd_kafka_topic_partition_list_t* partitions) {
  std::vector<PartitionRef> refs;
  refs.reserve(partitions->cnt);
  for (int i = 0; i < partitions->cnt; ++i) {
    refs.push_back({partitions->elems[i].topic, partitions->elems[i].partition});
  }
  std::sort(refs.begin(), refs.end());
  return refs;
}

std::string Describe(const std::vector<PartitionRef>& refs) {
  std::string text;
  for (const auto& ref : refs) {
    if (!text.empty()) text += ',';
    text += ref.topic + "/" + std::to_string(ref.partition);
  }
  return text;
}

}  // namespace

struct PartitionOwnership::Member {
  Member(OwnershipOptions options, OwnershipListener& listener)
      : options(std::move(options)), listener(listener) {}

  // Serves the group until `stopping`: heartbeats run on librdkafka's threads, rebalances
  // and errors come through the poll.
  void Serve() {
    while (!stopping.load()) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer.get(), 100);
      if (message == nullptr) continue;
      // Partitions are paused, so a message is an error report: the client retries and
      // rejoins on its own; a lost session comes back as a revocation with `lost`.
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::warn("event=cluster_ownership_error node={} group={} error=\"{}\"", options.node_id,
                     options.group_id, rd_kafka_message_errstr(message));
      }
      rd_kafka_message_destroy(message);
    }
  }

  static void OnRebalance(rd_kafka_t* consumer, rd_kafka_resp_err_t reason,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    static_cast<Member*>(opaque)->Rebalance(consumer, reason, partitions);
  }

  void Rebalance(rd_kafka_t* consumer, rd_kafka_resp_err_t reason,
                 rd_kafka_topic_partition_list_t* partitions) {
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(consumer), "COOPERATIVE") == 0;
    const std::vector<PartitionRef> refs = ToRefs(partitions);
    if (reason == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      ReportError("assign", cooperative ? rd_kafka_incremental_assign(consumer, partitions)
                                        : Wrap(rd_kafka_assign(consumer, partitions)));
      // Membership only: the shard logs are read by their own clients.
      rd_kafka_pause_partitions(consumer, partitions);
      if (refs.empty()) return;
      {
        MutexLock lock(mu);
        owned.insert(refs.begin(), refs.end());
      }
      spdlog::info("event=cluster_partitions_assigned node={} partitions={}", options.node_id,
                   Describe(refs));
      listener.Assigned(refs);
      return;
    }
    // Revoked, or a rebalance error: either way this node no longer owns them.
    const bool lost = rd_kafka_assignment_lost(consumer) != 0;
    if (!refs.empty()) {
      spdlog::info("event=cluster_partitions_revoked node={} partitions={} lost={}",
                   options.node_id, Describe(refs), lost);
      listener.Revoked(refs, lost);
      MutexLock lock(mu);
      for (const auto& ref : refs) owned.erase(ref);
    }
    ReportError("unassign", cooperative ? rd_kafka_incremental_unassign(consumer, partitions)
                                        : Wrap(rd_kafka_assign(consumer, nullptr)));
  }

  static rd_kafka_error_t* Wrap(rd_kafka_resp_err_t error) {
    return error == RD_KAFKA_RESP_ERR_NO_ERROR ? nullptr : rd_kafka_error_new(error, "%s", "");
  }

  void ReportError(const char* what, rd_kafka_error_t* error) {
    if (error == nullptr) return;
    spdlog::error("event=cluster_ownership_error node={} step={} error=\"{}\"", options.node_id,
                  what, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }

  const OwnershipOptions options;
  OwnershipListener& listener;
  KafkaHandle consumer;
  std::atomic<bool> stopping{false};
  std::thread thread;
  mutable Mutex mu;
  std::set<PartitionRef> owned TW_GUARDED_BY(mu);
};

Result<std::unique_ptr<PartitionOwnership>> PartitionOwnership::Join(OwnershipOptions options,
                                                                     OwnershipListener& listener) {
  if (options.group_id.empty() || options.node_id.empty() || options.topics.empty()) {
    return Status::Validation("ownership needs a group id, a node id and topics");
  }
  const std::string session = std::to_string(options.session_timeout.count());
  const std::string heartbeat =
      std::to_string(std::max<int64_t>(options.session_timeout.count() / 3, 100));
  auto member = std::make_unique<Member>(std::move(options), listener);
  Member* raw = member.get();
  TW_ASSIGN_OR_RETURN(
      member->consumer,
      NewKafkaClient(RD_KAFKA_CONSUMER, raw->options.brokers, raw->options.kafka_properties,
                     {{"group.id", raw->options.group_id},
                      {"client.id", raw->options.node_id},
                      {"partition.assignment.strategy", "cooperative-sticky"},
                      {"session.timeout.ms", session},
                      {"heartbeat.interval.ms", heartbeat},
                      {"enable.auto.commit", "false"},
                      {"auto.offset.reset", "latest"},
                      // A pattern's new topics (a table created) join the assignment soon.
                      {"topic.metadata.refresh.interval.ms", "2000"}},
                     [raw](rd_kafka_conf_t* conf) {
                       rd_kafka_conf_set_opaque(conf, raw);
                       rd_kafka_conf_set_rebalance_cb(conf, &Member::OnRebalance);
                     }));
  rd_kafka_poll_set_consumer(member->consumer.get());
  rd_kafka_topic_partition_list_t* topics =
      rd_kafka_topic_partition_list_new(static_cast<int>(raw->options.topics.size()));
  for (const auto& topic : raw->options.topics) {
    rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const rd_kafka_resp_err_t subscribed = rd_kafka_subscribe(member->consumer.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (subscribed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Internal(std::string("Kafka subscribe: ") + rd_kafka_err2str(subscribed));
  }
  member->thread = std::thread([raw] { raw->Serve(); });
  return std::unique_ptr<PartitionOwnership>(new PartitionOwnership(std::move(member)));
}

PartitionOwnership::PartitionOwnership(std::unique_ptr<Member> member)
    : member_(std::move(member)) {}

PartitionOwnership::~PartitionOwnership() {
  member_->stopping.store(true);
  member_->thread.join();
  // Leaving the group revokes what this node owns (the listener hands it off) here.
  rd_kafka_consumer_close(member_->consumer.get());
}

std::vector<PartitionRef> PartitionOwnership::Owned() const {
  MutexLock lock(member_->mu);
  return {member_->owned.begin(), member_->owned.end()};
}

}  // namespace tidewater::cluster
