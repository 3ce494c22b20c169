#include "tidewater/cluster/catalog_log.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "kafka_client.h"

namespace tidewater::cluster {
namespace {

constexpr char kPositionFile[] = "CLUSTER_CATALOG";
constexpr char kSubmissionHeader[] = "tw-submission";

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
};

}  // namespace

struct CatalogLog::State {
  std::string topic;
  std::string position_path;
  CatalogApplier applier;
  std::string submission_prefix;  // node id and a nonce of this run
  std::atomic<uint64_t> submissions{0};
  KafkaHandle producer;
  KafkaHandle consumer;
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> consumed;
  std::atomic<bool> stopping{false};
  std::thread reader;
  std::mutex mu;
  std::condition_variable changed;
  std::map<std::string, CatalogOutcome> outcomes;  // of this run's submissions; guarded by mu
  std::set<std::string> refused;                   // submissions Kafka did not take; by mu
  int64_t next_offset = 0;                         // the next to apply

  Status StorePosition(int64_t offset) const {
    const std::string temporary = position_path + ".tmp";
    {
      std::ofstream out(temporary, std::ios::trunc);
      out << offset << "\n";
      out.flush();
      if (!out) return Status::Internal("cannot write " + temporary);
    }
    std::error_code error;
    std::filesystem::rename(temporary, position_path, error);
    if (error) return Status::Internal("cannot write " + position_path + ": " + error.message());
    return Status::Ok();
  }

  // Reads and applies one message if one comes within `wait_ms` (read errors and the
  // partition's end are skipped: the next read tries again).
  void ReadOne(int wait_ms) {
    rd_kafka_message_t* message = rd_kafka_consume(consumed.get(), 0, wait_ms);
    if (message == nullptr) return;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) Apply(*message);
    rd_kafka_message_destroy(message);
  }

  void Apply(const rd_kafka_message_t& message) {
    const std::string operation(static_cast<const char*>(message.key), message.key_len);
    const std::string request(static_cast<const char*>(message.payload), message.len);
    CatalogOutcome outcome = applier(operation, request);
    spdlog::info("event=catalog_applied offset={} operation={} status={}", message.offset,
                 operation, outcome.http_status);
    if (Status stored = StorePosition(message.offset + 1); !stored.ok()) {
      spdlog::error("event=catalog_position_not_stored error=\"{}\"", stored.message());
    }
    std::string submission;
    rd_kafka_headers_t* headers = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(headers, kSubmissionHeader, &value, &size) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
      submission.assign(static_cast<const char*>(value), size);
    }
    std::lock_guard lock(mu);
    next_offset = message.offset + 1;
    if (submission.starts_with(submission_prefix)) outcomes[submission] = std::move(outcome);
    changed.notify_all();
  }

  void Read() {
    while (!stopping.load(std::memory_order_acquire)) {
      rd_kafka_poll(producer.get(), 0);
      ReadOne(100);
    }
  }
};

namespace {

void OnDelivered(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* state = static_cast<CatalogLog::State*>(opaque);
  std::unique_ptr<std::string> submission(static_cast<std::string*>(message->_private));
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  spdlog::warn("event=catalog_append_failed error=\"{}\"", rd_kafka_err2str(message->err));
  std::lock_guard lock(state->mu);
  state->refused.insert(*submission);
  state->changed.notify_all();
}

}  // namespace

Result<std::unique_ptr<CatalogLog>> CatalogLog::Start(const ClusterKafka& kafka,
                                                      const std::string& cluster_name,
                                                      const std::string& node_id,
                                                      const std::string& data_dir,
                                                      CatalogApplier applier) {
  auto state = std::make_unique<State>();
  state->topic = CatalogTopic(cluster_name);
  state->position_path = (std::filesystem::path(data_dir) / kPositionFile).string();
  state->applier = std::move(applier);
  state->submission_prefix = node_id + "/" + std::to_string(std::random_device{}()) + "/";
  TopicRequirement requirement;
  requirement.topic = state->topic;
  requirement.table = "(the cluster's catalog)";
  requirement.needed_by = "the catalog";
  TW_RETURN_IF_ERROR(EnsureTopic(kafka, requirement));
  if (std::ifstream in(state->position_path); in) {
    if (!(in >> state->next_offset) || state->next_offset < 0) {
      return Status::Internal(state->position_path + " does not hold an offset");
    }
  }
  State* raw = state.get();
  TW_ASSIGN_OR_RETURN(state->producer,
                      NewKafkaClient(RD_KAFKA_PRODUCER, kafka.brokers, kafka.kafka_properties,
                                     {{"acks", "all"},
                                      {"enable.idempotence", "true"},
                                      {"linger.ms", "0"},
                                      {"message.timeout.ms", "30000"}},
                                     [raw](rd_kafka_conf_t* conf) {
                                       rd_kafka_conf_set_dr_msg_cb(conf, OnDelivered);
                                       rd_kafka_conf_set_opaque(conf, raw);
                                     }));
  TW_ASSIGN_OR_RETURN(state->consumer,
                      NewKafkaClient(RD_KAFKA_CONSUMER, kafka.brokers, kafka.kafka_properties,
                                     {{"enable.auto.commit", "false"},
                                      {"enable.auto.offset.store", "false"},
                                      {"auto.offset.reset", "error"},
                                      {"fetch.wait.max.ms", "50"},
                                      {"fetch.error.backoff.ms", "100"}}));
  state->consumed.reset(rd_kafka_topic_new(state->consumer.get(), state->topic.c_str(), nullptr));
  if (state->consumed == nullptr ||
      rd_kafka_consume_start(state->consumed.get(), 0, state->next_offset) != 0) {
    return Status::Internal("cannot read Kafka topic '" + state->topic +
                            "': " + rd_kafka_err2str(rd_kafka_last_error()));
  }
  // Up to the topic's end before serving: every table created so far exists here.
  int64_t low = 0;
  int64_t high = 0;
  const rd_kafka_resp_err_t queried =
      rd_kafka_query_watermark_offsets(state->consumer.get(), state->topic.c_str(), 0, &low, &high,
                                       static_cast<int>(kafka.timeout.count()));
  if (queried != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_consume_stop(state->consumed.get(), 0);
    return Status::Internal("Kafka topic '" + state->topic +
                            "': its end is unknown: " + rd_kafka_err2str(queried));
  }
  const auto deadline = std::chrono::steady_clock::now() + kafka.timeout;
  while (true) {
    {
      std::lock_guard lock(state->mu);
      if (state->next_offset >= high) break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      rd_kafka_consume_stop(state->consumed.get(), 0);
      return Status::Internal("Kafka topic '" + state->topic + "' was not read to its end (" +
                              std::to_string(high) + ") within " +
                              std::to_string(kafka.timeout.count()) + " ms");
    }
    state->ReadOne(100);
  }
  spdlog::info("event=catalog_read topic={} next_offset={}", state->topic, high);
  state->reader = std::thread([raw] { raw->Read(); });
  return std::unique_ptr<CatalogLog>(new CatalogLog(std::move(state)));
}

CatalogLog::CatalogLog(std::unique_ptr<State> state) : state_(std::move(state)) {}

CatalogLog::~CatalogLog() {
  Stop();
  rd_kafka_consume_stop(state_->consumed.get(), 0);
  rd_kafka_flush(state_->producer.get(), 2000);
}

void CatalogLog::Stop() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping.store(true, std::memory_order_release);
    state_->changed.notify_all();
  }
  if (state_->reader.joinable()) state_->reader.join();
}

Result<CatalogOutcome> CatalogLog::Submit(const std::string& operation, const std::string& request,
                                          std::chrono::milliseconds timeout) {
  const std::string submission =
      state_->submission_prefix + std::to_string(state_->submissions.fetch_add(1));
  auto opaque = std::make_unique<std::string>(submission);
  const rd_kafka_resp_err_t error = rd_kafka_producev(
      state_->producer.get(), RD_KAFKA_V_TOPIC(state_->topic.c_str()), RD_KAFKA_V_PARTITION(0),
      RD_KAFKA_V_KEY(operation.data(), operation.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(request.data()), request.size()),
      RD_KAFKA_V_HEADER(kSubmissionHeader, submission.data(),
                        static_cast<ssize_t>(submission.size())),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(opaque.get()), RD_KAFKA_V_END);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("the cluster's catalog cannot take " + operation + ": " +
                               rd_kafka_err2str(error));
  }
  opaque.release();  // the delivery report frees it
  std::unique_lock lock(state_->mu);
  const bool done = state_->changed.wait_for(lock, timeout, [&] {
    return state_->outcomes.contains(submission) || state_->refused.contains(submission) ||
           state_->stopping.load(std::memory_order_acquire);
  });
  if (!done) {
    return Status::Internal(operation +
                            " was sent to the cluster's catalog but not applied on "
                            "this node within " +
                            std::to_string(timeout.count()) + " ms");
  }
  if (!state_->outcomes.contains(submission) && !state_->refused.contains(submission)) {
    return Status::Unavailable("the node is stopping; " + operation +
                               " may still be applied by the cluster");
  }
  if (state_->refused.erase(submission) > 0) {
    return Status::Unavailable("the cluster's catalog did not take " + operation +
                               " (Kafka refused it); nothing was done");
  }
  CatalogOutcome outcome = std::move(state_->outcomes[submission]);
  state_->outcomes.erase(submission);
  return outcome;
}

}  // namespace tidewater::cluster
