#include "tidewater/connectors/kafka_consumer.h"

#include <librdkafka/rdkafka.h>
#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "change_message.h"
#include "tidewater/core/thread_annotations.h"
#include "tidewater/streams/stream_record_json.h"

namespace tidewater::connectors {

using std::chrono::milliseconds;

namespace {

constexpr milliseconds kPollWait{20};
constexpr int kCommittedTimeoutMs = 10'000;
// Messages taken from librdkafka in one go before batches are handed over.
constexpr int kMaxDrain = 10'000;

std::optional<std::string_view> Header(rd_kafka_message_t* message, std::string_view name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, std::string(name).c_str(), &value, &size) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return std::string_view(static_cast<const char*>(value), size);
}

// Each shard's next expected sequence in a partition (a partition carries a shard and the
// shards split from it: kafka_wire.h).
using ShardPositions = std::map<uint32_t, uint64_t>;

// The committed offset's metadata: the partition's positions as "shard:next,..." in
// decimal text, or the next sequence alone when the partition's own shard is the only one
// (what consumers wrote before shards could split, still read).
std::string CommitMetadata(const ShardPositions& positions, int32_t partition) {
  if (positions.size() == 1 && positions.begin()->first == static_cast<uint32_t>(partition)) {
    return std::to_string(positions.begin()->second);
  }
  std::string text;
  for (const auto& [shard, next] : positions) {
    if (!text.empty()) text += ',';
    text += std::to_string(shard) + ':' + std::to_string(next);
  }
  return text;
}

// Metadata CommitMetadata did not write (another tool's commit) names no position.
ShardPositions ParseCommitMetadata(std::string_view text, int32_t partition) {
  ShardPositions positions;
  if (text.find(':') == std::string_view::npos) {
    if (std::optional<uint64_t> next = ParseHeaderNumber(text)) {
      positions[static_cast<uint32_t>(partition)] = *next;
    }
    return positions;
  }
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view entry = text.substr(0, comma);
    const size_t colon = entry.find(':');
    const std::optional<uint64_t> shard =
        colon == std::string_view::npos ? std::nullopt : ParseHeaderNumber(entry.substr(0, colon));
    const std::optional<uint64_t> next =
        shard ? ParseHeaderNumber(entry.substr(colon + 1)) : std::nullopt;
    if (!next || *shard > UINT32_MAX) return {};
    positions[static_cast<uint32_t>(*shard)] = *next;
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return positions;
}

}  // namespace

class KafkaStreamConsumer::Impl {
 public:
  Impl(KafkaConsumerOptions options, streams::BatchHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {}

  ~Impl() {
    Stop();
    if (kafka_ != nullptr) rd_kafka_destroy(kafka_);
  }

  Status Configure() {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const std::string& name, const std::string& value) {
      if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
          RD_KAFKA_CONF_OK) {
        return Status::Validation("Kafka property " + name + ": " + error);
      }
      return Status::Ok();
    };
    Status status;
    for (const auto& [name, value] : options_.properties) {
      if (name == "group.id" || name == "enable.auto.commit" ||
          name == "enable.auto.offset.store" || name == "bootstrap.servers") {
        status = Status::Validation("Kafka property " + name + " is set by the consumer");
      }
      if (status.ok()) status = set(name, value);
    }
    if (status.ok()) status = set("bootstrap.servers", options_.brokers);
    if (status.ok()) status = set("group.id", options_.group_id);
    if (status.ok()) status = set("enable.auto.commit", "false");
    if (status.ok()) status = set("enable.auto.offset.store", "false");
    if (status.ok()) {
      status = set(
          "auto.offset.reset",
          options_.starting_position == streams::StartingPosition::kLatest ? "latest" : "earliest");
    }
    if (!status.ok()) {
      rd_kafka_conf_destroy(conf);
      return status;
    }
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_rebalance_cb(conf, &Impl::OnRebalance);
    kafka_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
    if (kafka_ == nullptr) return Status::Validation(std::string("Kafka consumer: ") + error);
    rd_kafka_poll_set_consumer(kafka_);
    return Status::Ok();
  }

  Status Start() TW_EXCLUDES(lifecycle_mu_) {
    MutexLock lock(lifecycle_mu_);
    if (started_) return Status::Validation("the consumer was already started");
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, options_.topic.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t err = rd_kafka_subscribe(kafka_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Internal(std::string("Kafka subscribe: ") + rd_kafka_err2str(err));
    }
    started_ = true;
    thread_ = std::thread([this] { Run(); });
    return Status::Ok();
  }

  void Stop() TW_EXCLUDES(lifecycle_mu_) {
    MutexLock lock(lifecycle_mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    stop_.request_stop();
    thread_.join();
  }

  std::vector<streams::ConsumerShardStatus> Progress() const TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    std::vector<streams::ConsumerShardStatus> progress;
    for (const auto& [partition, status] : status_) progress.push_back(status);
    return progress;
  }

 private:
  struct Pending {
    ChangeRecord record;
    int64_t offset = 0;
  };

  // What the poll thread knows of one assigned partition.
  struct Partition {
    ShardPositions next_expected;        // per shard: records below it are duplicates
    ShardPositions committed_next;       // per shard: where the accepted records end
    std::set<uint32_t> looked_up;        // shards whose stored position was read
    std::deque<Pending> pending;         // received, not yet accepted by the handler
    Clock::MonotonicTime first_pending;  // when the oldest pending record arrived
    // AT_TIMESTAMP: records created before this time are dropped until one is not.
    std::optional<int64_t> drop_created_before;
    // Watermark messages received (offset, resolved time in microseconds): each holds
    // once the pending records before it are accepted.
    std::deque<std::pair<int64_t, int64_t>> watermarks;
  };

  // librdkafka calls it inside rd_kafka_consumer_poll and rd_kafka_consumer_close: on the
  // poll thread.
  static void OnRebalance(rd_kafka_t* kafka, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* impl = static_cast<Impl*>(opaque);
    ThreadRoleScope poll_thread(impl->poll_thread_);
    impl->Rebalance(kafka, err, partitions);
  }

  void Rebalance(rd_kafka_t* kafka, rd_kafka_resp_err_t err,
                 rd_kafka_topic_partition_list_t* partitions) TW_REQUIRES(poll_thread_) {
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(kafka), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      // Where each shard stands: the metadata of the committed offset, unless the
      // handler's own store says otherwise.
      rd_kafka_committed(kafka, partitions, kCommittedTimeoutMs);
      for (int i = 0; i < partitions->cnt; ++i) {
        rd_kafka_topic_partition_t& p = partitions->elems[i];
        Partition& state = partitions_[p.partition];
        state = Partition{};
        const bool committed = p.offset >= 0;
        bool stored_position = false;
        if (p.offset >= 0 && p.metadata != nullptr && p.metadata_size > 0) {
          state.next_expected = ParseCommitMetadata(
              std::string_view(static_cast<const char*>(p.metadata), p.metadata_size), p.partition);
          state.committed_next = state.next_expected;
        }
        if (options_.checkpoints != nullptr) {
          if (std::optional<ShardPositions> stored = LoadCommittedShards(p.partition, state)) {
            stored_position = !stored->empty();
            // The store is at or past the commit when it is, in every shard the commit names.
            bool store_at_or_past_commit = !state.next_expected.empty();
            for (const auto& [shard, next] : state.next_expected) {
              auto it = stored->find(shard);
              store_at_or_past_commit &= it != stored->end() && it->second >= next;
            }
            if (!store_at_or_past_commit &&
                (stored_position ||
                 options_.starting_position == streams::StartingPosition::kTrimHorizon)) {
              p.offset = RD_KAFKA_OFFSET_BEGINNING;
            }
            state.next_expected = *stored;
            state.committed_next = *stored;
            spdlog::info(
                "event=kafka_consumer_position group={} topic={} partition={} stored={} start={}",
                options_.group_id, options_.topic, p.partition,
                stored_position ? CommitMetadata(*stored, p.partition) : "none",
                p.offset == RD_KAFKA_OFFSET_BEGINNING ? "earliest"
                : p.offset >= 0                       ? "offset " + std::to_string(p.offset)
                                                      : "starting_position");
          }
        }
        if (options_.starting_position == streams::StartingPosition::kAtTimestamp && !committed &&
            !stored_position) {
          // From the earliest offset, dropping what was created before the time. Kafka's
          // offset-for-time lookup would shorten the read but answers from message
          // timestamps, which a topic may set at append (LogAppendTime), not creation.
          p.offset = RD_KAFKA_OFFSET_BEGINNING;
          state.drop_created_before = options_.starting_time_micros;
          spdlog::info(
              "event=kafka_consumer_position group={} topic={} partition={} start=earliest "
              "created_from_micros={}",
              options_.group_id, options_.topic, p.partition, options_.starting_time_micros);
        }
        MutexLock lock(mu_);
        streams::ConsumerShardStatus& status = status_[p.partition];
        status.shard = ShardIndex(static_cast<uint32_t>(p.partition));
        status.held = true;
        auto own = state.next_expected.find(static_cast<uint32_t>(p.partition));
        if (own != state.next_expected.end()) status.next_sequence = SequenceNumber(own->second);
      }
      if (cooperative) {
        rd_kafka_error_t* error = rd_kafka_incremental_assign(kafka, partitions);
        if (error != nullptr) rd_kafka_error_destroy(error);
      } else {
        rd_kafka_assign(kafka, partitions);
      }
      return;
    }
    // Revoked (or a rebalance error): what was not accepted is another worker's now.
    for (int i = 0; i < partitions->cnt; ++i) {
      partitions_.erase(partitions->elems[i].partition);
      MutexLock lock(mu_);
      status_[partitions->elems[i].partition].held = false;
    }
    if (cooperative) {
      rd_kafka_error_t* error = rd_kafka_incremental_unassign(kafka, partitions);
      if (error != nullptr) rd_kafka_error_destroy(error);
    } else {
      rd_kafka_assign(kafka, nullptr);
    }
  }

  // The store's positions of the shards the commit names (the partition's own shard when
  // it names none), which count as looked up; nullopt when the consumer stops first.
  std::optional<ShardPositions> LoadCommittedShards(int32_t partition, Partition& state) {
    std::set<uint32_t> shards{static_cast<uint32_t>(partition)};
    for (const auto& [shard, next] : state.next_expected) shards.insert(shard);
    ShardPositions stored;
    for (uint32_t shard : shards) {
      std::optional<std::optional<uint64_t>> position = LoadStored(partition, shard);
      if (!position) return std::nullopt;
      if (position->has_value()) stored[shard] = **position;
      state.looked_up.insert(shard);
    }
    return stored;
  }

  // The store's position of `shard` (carried by `partition`), retried with backoff until
  // read; nullopt when the consumer stops first (nothing is delivered then).
  std::optional<std::optional<uint64_t>> LoadStored(int32_t partition, uint32_t shard) {
    const std::stop_token stop = stop_.get_token();
    milliseconds backoff = options_.retry_backoff_initial;
    while (true) {
      Result<std::optional<SequenceNumber>> stored =
          options_.checkpoints->Load(TableName(options_.table), ShardIndex(shard));
      if (stored.ok()) {
        if (!stored->has_value()) return std::optional<uint64_t>();
        return std::optional<uint64_t>((*stored)->value());
      }
      spdlog::warn(
          "event=kafka_consumer_load_failed group={} topic={} partition={} shard={} "
          "retry_in_ms={} error=\"{}\"",
          options_.group_id, options_.topic, partition, shard, backoff.count(),
          stored.status().message());
      {
        MutexLock lock(mu_);
        streams::ConsumerShardStatus& status = status_[partition];
        ++status.handler_errors;
        status.last_error = "checkpoint store: " + stored.status().ToString();
      }
      if (!options_.clock->SleepFor(backoff, stop)) return std::nullopt;
      backoff = std::min(backoff * 2, options_.retry_backoff_max);
    }
  }

  void Run() {
    ThreadRoleScope poll_thread(poll_thread_);
    const std::stop_token stop = stop_.get_token();
    while (!stop.stop_requested()) {
      rd_kafka_message_t* message =
          rd_kafka_consumer_poll(kafka_, static_cast<int>(kPollWait.count()));
      for (int drained = 0; message != nullptr && drained < kMaxDrain; ++drained) {
        Receive(message);
        rd_kafka_message_destroy(message);
        message = rd_kafka_consumer_poll(kafka_, 0);
      }
      if (message != nullptr) {
        Receive(message);
        rd_kafka_message_destroy(message);
      }
      DeliverReady(stop);
    }
    rd_kafka_consumer_close(kafka_);  // leaves the group (revoking serves OnRebalance)
    MutexLock lock(mu_);
    for (auto& [partition, status] : status_) status.held = false;
  }

  void Receive(rd_kafka_message_t* message) TW_REQUIRES(poll_thread_) {
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        ReadError(message->partition,
                  Status::Internal(std::string("Kafka: ") + rd_kafka_message_errstr(message)));
      }
      return;
    }
    auto it = partitions_.find(message->partition);
    if (it == partitions_.end()) return;  // revoked meanwhile
    if (const auto watermark = Header(message, kWatermarkHeader)) {
      // Progress, not a record: it holds once what came before it is accepted.
      if (const std::optional<uint64_t> ms = ParseHeaderNumber(*watermark)) {
        it->second.watermarks.emplace_back(message->offset, static_cast<int64_t>(*ms) * 1000);
      }
      return;
    }
    Result<ChangeRecord> record = Decode(message);
    if (!record.ok()) {
      // Not a change record the publisher wrote: it cannot be handed over; say so.
      std::string skipped =
          "offset " + std::to_string(message->offset) + " skipped: " + record.status().ToString();
      if (options_.on_read_error) options_.on_read_error("read", Status::Serialization(skipped));
      MutexLock lock(mu_);
      streams::ConsumerShardStatus& status = status_[message->partition];
      ++status.handler_errors;
      status.last_error = std::move(skipped);
      return;
    }
    Partition& partition = it->second;
    if (partition.drop_created_before) {
      if (record->approximate_creation_time_micros() < *partition.drop_created_before) return;
      partition.drop_created_before.reset();
    }
    const uint32_t shard = record->shard();
    if (options_.checkpoints != nullptr && !partition.looked_up.contains(shard)) {
      // A shard split from one this partition carries: where the store has it.
      std::optional<std::optional<uint64_t>> stored = LoadStored(message->partition, shard);
      if (!stored) return;  // stopping: the record is read again by whoever goes on
      partition.looked_up.insert(shard);
      if (stored->has_value()) {
        partition.next_expected[shard] = **stored;
        partition.committed_next[shard] = **stored;
      }
    }
    auto expected = partition.next_expected.find(shard);
    if (expected != partition.next_expected.end()) {
      if (record->sequence() < expected->second) return;
      if (record->sequence() > expected->second) {
        // The records in between are not in the topic (retention): never silently.
        const std::string gap =
            "shard " + std::to_string(shard) + " records " + std::to_string(expected->second) +
            ".." + std::to_string(record->sequence() - 1) + " are missing from the topic (offset " +
            std::to_string(message->offset) + ")";
        spdlog::error("event=kafka_consumer_gap group={} topic={} partition={} {}",
                      options_.group_id, options_.topic, message->partition, gap);
        ReadError(message->partition, Status::Internal(gap));
      }
    }
    partition.next_expected[shard] = record->sequence() + 1;
    if (partition.pending.empty()) partition.first_pending = options_.clock->MonotonicNow();
    partition.pending.push_back(Pending{std::move(record).value(), message->offset});
  }

  Result<ChangeRecord> Decode(rd_kafka_message_t* message) {
    const auto shard = Header(message, kShardHeader);
    const auto table = Header(message, kTableHeader);
    const char* payload = static_cast<const char*>(message->payload);
    if (options_.format == KafkaFormat::kProtobuf) {
      ChangeRecord record;
      if (payload == nullptr || !record.ParseFromArray(payload, static_cast<int>(message->len))) {
        return Status::Serialization("not a tidewater.v1.ChangeRecord");
      }
      return record;
    }
    const std::optional<uint64_t> shard_index = shard ? ParseHeaderNumber(*shard) : std::nullopt;
    if (!shard_index || !table) return Status::Serialization("no tw-shard or tw-table header");
    rapidjson::Document json;
    json.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
        payload, message->len);
    if (json.HasParseError()) return Status::Serialization("malformed JSON value");
    return streams::ParseStreamRecord(json, *table,
                                      ShardIndex(static_cast<uint32_t>(*shard_index)));
  }

  void DeliverReady(const std::stop_token& stop) TW_REQUIRES(poll_thread_) {
    const Clock::MonotonicTime now = options_.clock->MonotonicNow();
    for (auto& [index, partition] : partitions_) {
      while (!partition.pending.empty() && !stop.stop_requested()) {
        const bool full = partition.pending.size() >= options_.max_batch_records;
        if (!full && now - partition.first_pending < options_.max_batching_window) break;
        if (!Deliver(index, partition, stop)) return;
        partition.first_pending = now;
      }
      ApplyWatermarks(index, partition);
      UpdateIteratorAge(index, partition);
    }
  }

  // Hands the partition's first batch (records of one shard) to the handler until accepted
  // (then commits), or until stopping (false).
  bool Deliver(int32_t index, Partition& partition, const std::stop_token& stop) {
    streams::ShardBatch batch;
    const uint32_t shard = partition.pending.front().record.shard();
    const size_t most = std::min(partition.pending.size(), options_.max_batch_records);
    size_t count = 1;
    while (count < most && partition.pending[count].record.shard() == shard) ++count;
    batch.shard = ShardIndex(shard);
    batch.stop = stop;
    for (size_t i = 0; i < count; ++i) batch.records.push_back(partition.pending[i].record);
    batch.table = TableName(batch.records.front().table());
    const int64_t last_offset = partition.pending[count - 1].offset;
    milliseconds backoff = options_.retry_backoff_initial;
    while (true) {
      Status status = handler_(batch);
      if (status.ok()) break;
      {
        MutexLock lock(mu_);
        streams::ConsumerShardStatus& progress = status_[index];
        ++progress.handler_errors;
        progress.last_error = status.ToString();
      }
      if (!options_.clock->SleepFor(backoff, stop)) return false;
      backoff = std::min(backoff * 2, options_.retry_backoff_max);
    }
    const uint64_t next_sequence = batch.records.back().sequence() + 1;
    partition.pending.erase(partition.pending.begin(),
                            partition.pending.begin() + static_cast<std::ptrdiff_t>(count));
    partition.committed_next[shard] = next_sequence;
    Commit(index, last_offset + 1, partition.committed_next);
    MutexLock lock(mu_);
    streams::ConsumerShardStatus& progress = status_[index];
    progress.records_processed += count;
    progress.next_sequence = SequenceNumber(next_sequence);
    progress.last_record_time_micros = batch.records.back().approximate_creation_time_micros();
    return true;
  }

  // Commits `offset` with the shards' next expected sequences as metadata.
  void Commit(int32_t index, int64_t offset, const ShardPositions& positions) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t* p =
        rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), index);
    p->offset = offset;
    const std::string metadata = CommitMetadata(positions, index);
    p->metadata = std::malloc(metadata.size());  // freed with the list
    std::memcpy(p->metadata, metadata.data(), metadata.size());
    p->metadata_size = metadata.size();
    const rd_kafka_resp_err_t err = rd_kafka_commit(kafka_, list, /*async=*/0);
    rd_kafka_topic_partition_list_destroy(list);
    // A failed commit is not fatal: the records come again after a rebalance and the
    // handler sees them twice (at-least-once).
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      SetError(index, Status::Internal(std::string("Kafka commit: ") + rd_kafka_err2str(err)));
    }
  }

  // Takes the watermarks whose preceding records are all accepted as the shard's resolved
  // time; tells on_resolved_time when the table's (over the held shards) advances.
  void ApplyWatermarks(int32_t index, Partition& partition) TW_REQUIRES(poll_thread_) {
    std::optional<int64_t> resolved;
    while (!partition.watermarks.empty() &&
           (partition.pending.empty() ||
            partition.watermarks.front().first < partition.pending.front().offset)) {
      resolved = partition.watermarks.front().second;
      partition.watermarks.pop_front();
    }
    if (!resolved) return;
    std::vector<streams::ConsumerShardStatus> progress;
    {
      MutexLock lock(mu_);
      std::optional<int64_t>& shard_resolved = status_[index].resolved_time_micros;
      shard_resolved = std::max(shard_resolved.value_or(*resolved), *resolved);
      if (!options_.on_resolved_time) return;
      for (const auto& [shard, status] : status_) progress.push_back(status);
    }
    // Only the poll thread gets here: the reports come in order.
    const std::optional<int64_t> table = streams::TableResolvedTime(progress);
    if (!table || (reported_resolved_ && *table <= *reported_resolved_)) return;
    reported_resolved_ = table;
    options_.on_resolved_time(*table);
  }

  void UpdateIteratorAge(int32_t index, const Partition& partition) {
    const int64_t now = options_.clock->NowMicros();
    MutexLock lock(mu_);
    status_[index].iterator_age_millis =
        partition.pending.empty()
            ? 0
            : std::max<int64_t>(
                  0, (now - partition.pending.front().record.approximate_creation_time_micros()) /
                         1000);
  }

  void ReadError(int32_t index, const Status& status) {
    if (options_.on_read_error) options_.on_read_error("read", status);
    SetError(index, status);
  }

  void SetError(int32_t index, const Status& status) {
    MutexLock lock(mu_);
    status_[index].last_error = status.ToString();
  }

  const KafkaConsumerOptions options_;
  const streams::BatchHandler handler_;
  rd_kafka_t* kafka_ = nullptr;

  Mutex lifecycle_mu_;
  bool started_ TW_GUARDED_BY(lifecycle_mu_) = false;
  bool stopped_ TW_GUARDED_BY(lifecycle_mu_) = false;
  std::stop_source stop_;
  std::thread thread_ TW_GUARDED_BY(lifecycle_mu_);

  ThreadRole poll_thread_;  // Run, and the rebalances it serves
  std::map<int32_t, Partition> partitions_ TW_GUARDED_BY(poll_thread_);
  std::optional<int64_t> reported_resolved_ TW_GUARDED_BY(poll_thread_);

  mutable Mutex mu_;
  std::map<int32_t, streams::ConsumerShardStatus> status_ TW_GUARDED_BY(mu_);
};

Result<std::unique_ptr<KafkaStreamConsumer>> KafkaStreamConsumer::Create(
    KafkaConsumerOptions options, streams::BatchHandler handler) {
  if (options.brokers.empty())
    return Status::Validation("KafkaConsumerOptions.brokers is required");
  if (options.topic.empty()) return Status::Validation("KafkaConsumerOptions.topic is required");
  if (options.group_id.empty()) {
    return Status::Validation("KafkaConsumerOptions.group_id is required");
  }
  if (options.max_batch_records == 0) {
    return Status::Validation("KafkaConsumerOptions.max_batch_records must be at least 1");
  }
  if (!handler) return Status::Validation("a handler is required");
  if (options.clock == nullptr) return Status::Validation("KafkaConsumerOptions.clock is required");
  if (options.checkpoints != nullptr && options.table.empty()) {
    return Status::Validation("KafkaConsumerOptions.table is required with checkpoints");
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  TW_RETURN_IF_ERROR(impl->Configure());
  return std::unique_ptr<KafkaStreamConsumer>(new KafkaStreamConsumer(std::move(impl)));
}

KafkaStreamConsumer::KafkaStreamConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaStreamConsumer::~KafkaStreamConsumer() = default;
Status KafkaStreamConsumer::Start() { return impl_->Start(); }
void KafkaStreamConsumer::Stop() { impl_->Stop(); }
std::vector<streams::ConsumerShardStatus> KafkaStreamConsumer::Progress() const {
  return impl_->Progress();
}

}  // namespace tidewater::connectors
