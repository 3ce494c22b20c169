#include "tidewater/cluster/shard_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <utility>

#include "kafka_client.h"

namespace tidewater::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// What became of one produced entry (the message's opaque).
struct Delivery {
  bool done = false;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
  int64_t offset = -1;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* delivery = static_cast<Delivery*>(message->_private);
  delivery->done = true;
  delivery->error = message->err;
  delivery->offset = message->offset;
}

// A client configured with the caller's properties, then the log's own on top.
Result<KafkaHandle> NewClient(rd_kafka_type_t type, const ShardLogOptions& options,
                              const std::map<std::string, std::string>& own) {
  return NewKafkaClient(type, options.brokers, options.kafka_properties, own,
                        [type](rd_kafka_conf_t* conf) {
                          if (type == RD_KAFKA_PRODUCER) {
                            rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
                          }
                        });
}

std::string Milliseconds(std::chrono::milliseconds duration) {
  return std::to_string(duration.count());
}

// Idempotent, acks=all, and one request in flight: order holds through retries even on a
// broker that does not check producer sequences (librdkafka's mock). A message not
// acknowledged within the timeout fails.
Result<KafkaHandle> NewProducer(const ShardLogOptions& options) {
  return NewClient(RD_KAFKA_PRODUCER, options,
                   {{"enable.idempotence", "true"},
                    {"acks", "all"},
                    {"linger.ms", "0"},
                    {"max.in.flight.requests.per.connection", "1"},
                    {"message.timeout.ms", Milliseconds(options.timeout)}});
}

}  // namespace

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
};

// The consumer reads one partition through librdkafka's simple consumer (no group, no
// committed offsets).
struct ShardLog::Clients {
  KafkaHandle producer;
  KafkaHandle consumer;
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> consumed_topic;
  int32_t partition = 0;
  bool consuming = false;

  ~Clients() {
    if (consuming) rd_kafka_consume_stop(consumed_topic.get(), partition);
  }
};

Result<std::unique_ptr<ShardLog>> ShardLog::Open(ShardLogOptions options, EntryApplier applier) {
  if (options.node_id.empty()) return Status::Validation("a shard log needs the node's id");
  auto clients = std::make_unique<Clients>();
  TW_ASSIGN_OR_RETURN(clients->producer, NewProducer(options));
  // Reads one partition (no group membership, no offsets committed: the applied offset is
  // stored with the applied state). Read uncommitted: the validity rule,
  // not Kafka transactions, decides what counts. An offset out of range is an error, never
  // a silent jump: entries deleted by retention need a snapshot.
  TW_ASSIGN_OR_RETURN(clients->consumer, NewClient(RD_KAFKA_CONSUMER, options,
                                                   {{"enable.auto.commit", "false"},
                                                    {"enable.auto.offset.store", "false"},
                                                    {"enable.partition.eof", "true"},
                                                    {"auto.offset.reset", "error"},
                                                    {"isolation.level", "read_uncommitted"},
                                                    {"fetch.wait.max.ms", "0"},
                                                    {"fetch.error.backoff.ms", "50"}}));
  clients->partition = options.partition;
  clients->consumed_topic.reset(
      rd_kafka_topic_new(clients->consumer.get(), options.topic.c_str(), nullptr));
  if (clients->consumed_topic == nullptr) {
    return Status::Validation("shard log " + options.topic + ": " +
                              rd_kafka_err2str(rd_kafka_last_error()));
  }
  std::unique_ptr<ShardLog> log(
      new ShardLog(std::move(options), std::move(applier), std::move(clients)));
  return log;
}

ShardLog::ShardLog(ShardLogOptions options, EntryApplier applier, std::unique_ptr<Clients> clients)
    : options_(std::move(options)),
      applier_(std::move(applier)),
      clients_(std::move(clients)),
      fence_(options_.start_position),
      next_offset_(options_.start_offset) {}

ShardLog::~ShardLog() = default;

Status ShardLog::StartReading() {
  clients_->consuming =
      rd_kafka_consume_start(clients_->consumed_topic.get(), options_.partition, next_offset_) == 0;
  if (!clients_->consuming) {
    return Status::Internal("shard log " + options_.topic + ": cannot read from offset " +
                            std::to_string(next_offset_) + ": " +
                            rd_kafka_err2str(rd_kafka_last_error()));
  }
  return Status::Ok();
}

void ShardLog::StopReading() {
  if (clients_->consuming)
    rd_kafka_consume_stop(clients_->consumed_topic.get(), options_.partition);
  clients_->consuming = false;
}

Status ShardLog::CatchUp() {
  int64_t low = 0;
  int64_t high = 0;
  const rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
      clients_->consumer.get(), options_.topic.c_str(), options_.partition, &low, &high,
      static_cast<int>(options_.timeout.count()));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Internal("shard log " + options_.topic +
                            ": cannot find its end: " + rd_kafka_err2str(error));
  }
  if (low > next_offset_) {
    return Status::Internal("shard log " + options_.topic + ": entries from offset " +
                            std::to_string(next_offset_) + " to " + std::to_string(low) +
                            " were deleted before this node read them");
  }
  if (high > next_offset_) TW_RETURN_IF_ERROR(ReadThrough(high - 1));
  return Status::Ok();
}

Status ShardLog::TakeOver() {
  // A TermStart above the newest term read so far. If it comes after one this node had not
  // read (a term started meanwhile, or before it had read that far), it is stale; the read
  // back has then read that term, and the next attempt starts the one after it.
  constexpr int kAttempts = 3;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    v1::ShardLogEntry term_start;
    term_start.set_term(position().term + 1);
    term_start.set_node_id(options_.node_id);
    term_start.mutable_term_start()->set_advertised(options_.advertised);
    std::vector<int64_t> offsets;
    Status done = Produce({term_start}, offsets);
    if (done.ok()) done = ReadThrough(offsets[0]);
    if (!done.ok()) return done;
    // Read up to it: the term is this TermStart's exactly when the rule accepted it.
    if (position().term == term_start.term() && position().term_owner == options_.node_id) {
      owner_ = true;
      owned_term_ = term_start.term();
      must_start_term_ = false;
      return Status::Ok();
    }
  }
  return Status::Internal("shard log " + options_.topic + ": other nodes started newer terms " +
                          std::to_string(kAttempts) + " times while this one took over");
}

Status ShardLog::Append(std::vector<v1::ShardLogEntry>& entries) {
  if (!owner_) {
    return Status::Internal("shard log " + options_.topic + ": this node does not own the shard");
  }
  // After an unknown outcome, entries of this node's term may still land: a new term makes
  // them invalid, and what the history holds is then exactly what was read up to it.
  if (must_start_term_) TW_RETURN_IF_ERROR(TakeOver());
  uint64_t sequence = position().last_sequence;
  for (v1::ShardLogEntry& entry : entries) {
    entry.set_term(owned_term_);
    entry.set_node_id(options_.node_id);
    entry.set_sequence(++sequence);
  }
  std::vector<int64_t> offsets;
  Status done = Produce(entries, offsets);
  if (done.ok()) done = ReadThrough(*std::max_element(offsets.begin(), offsets.end()));
  if (!done.ok()) {
    must_start_term_ = true;
    return Status::Internal(done.message() + "; the outcome of the write is unknown");
  }
  if (!owner_) {
    return Status::Internal("shard log " + options_.topic + ": another node took the shard over");
  }
  // In this node's term only this node writes, and never two entries with one sequence, so
  // the history holds the appended entries when it reached the last one's sequence. (A
  // retried produce may have landed twice: the offset reported is the last copy's, and the
  // first is the valid one.)
  if (position().last_sequence < sequence) {
    must_start_term_ = true;
    return Status::Internal("shard log " + options_.topic + ": the history ends at sequence " +
                            std::to_string(position().last_sequence) + ", before " +
                            std::to_string(sequence) + "; the outcome of the write is unknown");
  }
  return Status::Ok();
}

Status ShardLog::Produce(const std::vector<v1::ShardLogEntry>& entries,
                         std::vector<int64_t>& offsets) {
  rd_kafka_t* producer = clients_->producer.get();
  std::vector<Delivery> deliveries(entries.size());
  Status status;
  size_t handed_over = 0;
  for (; handed_over < entries.size(); ++handed_over) {
    const v1::ShardLogEntry& entry = entries[handed_over];
    const std::string value = entry.SerializeAsString();
    const std::string term = std::to_string(entry.term());
    const std::string sequence = std::to_string(entry.sequence());
    rd_kafka_headers_t* headers = rd_kafka_headers_new(2);
    rd_kafka_header_add(headers, "tw-term", -1, term.data(), static_cast<ssize_t>(term.size()));
    rd_kafka_header_add(headers, "tw-seq", -1, sequence.data(),
                        static_cast<ssize_t>(sequence.size()));
    const rd_kafka_resp_err_t error =
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(options_.topic.c_str()),
                          RD_KAFKA_V_PARTITION(options_.partition),
                          RD_KAFKA_V_KEY(options_.message_key.data(), options_.message_key.size()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
                          RD_KAFKA_V_OPAQUE(&deliveries[handed_over]), RD_KAFKA_V_END);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(headers);
      status = Status::Internal("shard log " + options_.topic +
                                ": cannot produce: " + rd_kafka_err2str(error));
      break;
    }
  }
  // Every handed-over message reports before `deliveries` goes: wait, then purge what is
  // left and serve the purge's reports.
  const auto deadline = Clock::now() + options_.timeout;
  auto all_done = [&] {
    return std::all_of(deliveries.begin(), deliveries.begin() + static_cast<long>(handed_over),
                       [](const Delivery& d) { return d.done; });
  };
  while (!all_done() && Clock::now() < deadline) rd_kafka_poll(producer, 10);
  if (!all_done()) {
    rd_kafka_purge(producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    while (!all_done()) rd_kafka_poll(producer, 10);
  }
  for (size_t i = 0; i < handed_over && status.ok(); ++i) {
    if (deliveries[i].error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = Status::Internal("shard log " + options_.topic +
                                ": produce failed: " + rd_kafka_err2str(deliveries[i].error));
    }
  }
  char fatal[512];
  if (rd_kafka_fatal_error(producer, fatal, sizeof(fatal)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // An idempotent producer that hit a fatal error is unusable: the next append gets a
    // new one (its sequences start over, which the validity rule does not depend on).
    auto fresh = NewProducer(options_);
    if (fresh.ok()) clients_->producer = std::move(*fresh);
    if (status.ok()) status = Status::Internal(std::string("Kafka producer: ") + fatal);
  }
  if (!status.ok()) return status;
  offsets.clear();
  for (const Delivery& delivery : deliveries) offsets.push_back(delivery.offset);
  return Status::Ok();
}

Status ShardLog::ReadThrough(int64_t last_offset) {
  // The partition is fetched only while it is read, without waiting at the broker for data
  // (fetch.wait.max.ms 0): a fetch already waiting when an append lands would delay its
  // read back by its wait (the mock broker does not answer a waiting fetch early), and an
  // idle shard costs no fetches at all.
  TW_RETURN_IF_ERROR(StartReading());
  struct StopAtExit {
    ShardLog& log;
    ~StopAtExit() { log.StopReading(); }
  } stop_at_exit{*this};
  const auto deadline = Clock::now() + options_.timeout;
  while (next_offset_ <= last_offset) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return Status::Internal("shard log " + options_.topic + ": offset " +
                              std::to_string(last_offset) + " not read within " +
                              Milliseconds(options_.timeout) + " ms");
    }
    rd_kafka_message_t* message =
        rd_kafka_consume(clients_->consumed_topic.get(), options_.partition,
                         static_cast<int>(std::min<int64_t>(left.count(), 100)));
    if (message == nullptr) continue;
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> owned(
        message, rd_kafka_message_destroy);
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Internal("shard log " + options_.topic +
                              ": read failed: " + rd_kafka_message_errstr(message));
    }
    TW_RETURN_IF_ERROR(
        ReadEntry(message->offset,
                  std::string_view(static_cast<const char*>(message->payload), message->len)));
  }
  return Status::Ok();
}

Status ShardLog::ReadEntry(int64_t offset, std::string_view value) {
  const ShardLogFence before = fence_;
  v1::ShardLogEntry entry;
  const EntryVerdict verdict = fence_.AdmitSerialized(value, entry);
  if (verdict == EntryVerdict::kNewTerm || verdict == EntryVerdict::kValid) {
    Status applied = applier_(offset, entry);
    if (!applied.ok()) {
      // Not read: the next read starts at this entry again.
      fence_ = before;
      return applied;
    }
  }
  if (verdict == EntryVerdict::kNewTerm &&
      (entry.node_id() != options_.node_id || entry.term() != owned_term_)) {
    owner_ = false;  // another term started: the shard is no longer this node's
  }
  next_offset_ = offset + 1;
  return Status::Ok();
}

}  // namespace tidewater::cluster
