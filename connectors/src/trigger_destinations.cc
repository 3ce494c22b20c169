// On-failure destinations: a JSON Lines file and a Kafka topic.
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "tidewater/connectors/trigger_handlers.h"

namespace tidewater::connectors {
namespace {

class JsonLinesDestination final : public streams::FailureDestination {
 public:
  JsonLinesDestination(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~JsonLinesDestination() override { ::close(fd_); }

  Status Send(std::string_view record_json) override {
    std::string line(record_json);
    line += '\n';
    std::lock_guard lock(mutex_);
    std::string_view rest = line;
    while (!rest.empty()) {
      ssize_t written = ::write(fd_, rest.data(), rest.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        return Status::IOError("cannot append to " + path_ + ": " + strerror(errno));
      }
      rest.remove_prefix(static_cast<size_t>(written));
    }
    if (::fsync(fd_) != 0) return Status::IOError("cannot fsync " + path_ + ": " + strerror(errno));
    return Status::Ok();
  }

 private:
  const std::string path_;
  const int fd_;
  std::mutex mutex_;
};

// One Send's delivery report.
struct Delivery {
  std::atomic<bool> done{false};
  std::atomic<rd_kafka_resp_err_t> error{RD_KAFKA_RESP_ERR_NO_ERROR};
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* delivery = static_cast<Delivery*>(message->_private);
  delivery->error.store(message->err);
  delivery->done.store(true);
}

class KafkaDestination final : public streams::FailureDestination {
 public:
  KafkaDestination(rd_kafka_t* producer, std::string topic)
      : producer_(producer), topic_(std::move(topic)) {}
  ~KafkaDestination() override {
    rd_kafka_flush(producer_, 5000);
    rd_kafka_destroy(producer_);
  }

  Status Send(std::string_view record_json) override {
    Delivery delivery;
    rd_kafka_resp_err_t error = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(topic_.c_str()),
        RD_KAFKA_V_VALUE(const_cast<char*>(record_json.data()), record_json.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&delivery), RD_KAFKA_V_END);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::IOError("Kafka destination " + topic_ + ": " + rd_kafka_err2str(error));
    }
    // librdkafka reports every message within message.timeout.ms: wait for ours (any
    // thread's poll may serve it).
    while (!delivery.done.load()) rd_kafka_poll(producer_, 50);
    if (delivery.error.load() != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::IOError("Kafka destination " + topic_ + ": " +
                             rd_kafka_err2str(delivery.error.load()));
    }
    return Status::Ok();
  }

 private:
  rd_kafka_t* const producer_;
  const std::string topic_;
};

}  // namespace

Result<std::unique_ptr<streams::FailureDestination>> MakeJsonLinesDestination(
    const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot open " + path + ": " + strerror(errno));
  std::unique_ptr<streams::FailureDestination> destination =
      std::make_unique<JsonLinesDestination>(path, fd);
  return destination;
}

Result<std::unique_ptr<streams::FailureDestination>> MakeKafkaDestination(
    KafkaDestinationOptions options) {
  if (options.brokers.empty() || options.topic.empty()) {
    return Status::Validation("Kafka destination: brokers and topic are required");
  }
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> properties = options.properties;
  properties["bootstrap.servers"] = options.brokers;
  properties["enable.idempotence"] = "true";
  properties["acks"] = "all";
  properties["message.timeout.ms"] = std::to_string(options.delivery_timeout.count());
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::Validation("Kafka destination: " + std::string(error));
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (producer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::Validation("Kafka destination: " + std::string(error));
  }
  std::unique_ptr<streams::FailureDestination> destination =
      std::make_unique<KafkaDestination>(producer, std::move(options.topic));
  return destination;
}

}  // namespace tidewater::connectors
