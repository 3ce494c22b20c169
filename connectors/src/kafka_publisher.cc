// The publisher thread: discovers tables, reads each shard from its position, produces,
// advances positions on delivery reports and saves them as checkpoints. See
// kafka_publisher.h for the contract and publish_cursor.h for the positions.
#include "tidewater/connectors/kafka_publisher.h"

#include <prometheus/registry.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "change_message.h"
#include "kafka_producer.h"
#include "publish_cursor.h"
#include "publisher_metrics.h"
#include "shard_reader.h"
#include "tidewater/cluster/kafka_topics.h"
#include "tidewater/core/failure_point.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::connectors {
namespace {

using std::chrono::milliseconds;
using MonotonicTime = Clock::MonotonicTime;
// The bounds on waits for the cluster: real time, as librdkafka's.
using Steady = std::chrono::steady_clock;

// Records read from one shard per turn: about kReadBatchBytes, at most kMaxReadBatch.
// Shards take turns, so that one busy shard does not hold back the others.
constexpr size_t kReadBatchBytes = 1 << 20;
constexpr size_t kMaxReadBatch = 1000;
// Shards that may have a batch read ahead at once (each holds up to kReadBatchBytes).
constexpr int kMaxReadAheads = 4;
constexpr milliseconds kMaxRestartBackoff{10'000};
constexpr milliseconds kLagInterval{1'000};
// How long the publisher sleeps when idle (it wakes on every commit), and when idle with
// records in flight (so that their reports advance the positions soon).
constexpr milliseconds kIdleWait{100};
constexpr milliseconds kInFlightWait{10};
constexpr milliseconds kBackpressureWait{50};

Status ValidateOptions(const KafkaPublisherOptions& options) {
  if (!IsKafkaTopicText(options.topic_prefix)) {
    return Status::Validation("Kafka topic prefix '" + options.topic_prefix +
                              "' may only contain ASCII letters, digits, '.', '_' and '-'");
  }
  if (options.max_in_flight_records == 0 || options.max_in_flight_bytes == 0) {
    return Status::Validation("Kafka publisher in-flight limits must be positive");
  }
  if (options.checkpoint_consumer.empty()) {
    return Status::Validation("Kafka publisher checkpoint consumer name must not be empty");
  }
  if (options.clock == nullptr) return Status::Validation("Kafka publisher clock is required");
  return CheckOwnedProperties(options.properties);
}

}  // namespace

class KafkaPublisher::Impl final : public DeliveryListener {
 public:
  Impl(Engine& engine, KafkaPublisherOptions options)
      : engine_(engine),
        options_(std::move(options)),
        own_registry_(options_.registry ? nullptr : std::make_unique<prometheus::Registry>()),
        metrics_(options_.registry ? *options_.registry : *own_registry_),
        encoder_(options_.format, engine.options().region),
        backoff_(options_.restart_backoff) {}

  ~Impl() override {
    Stop();
    ThreadRoleScope publisher(publisher_thread_);  // the thread is gone
    for (auto& [name, table] : tables()) RemoveMetrics(*table);
    for (auto& table : retired_) RemoveMetrics(*table);
  }

  Status Start() TW_EXCLUDES(join_mu_) {
    TW_RETURN_IF_ERROR(ValidateOptions(options_));
    {
      ThreadRoleScope publisher(publisher_thread_);  // the thread does not exist yet
      TW_ASSIGN_OR_RETURN(producer_, KafkaProducer::Create(options_, this));
      TW_RETURN_IF_ERROR(RefreshTables());
    }
    MutexLock join_lock(join_mu_);
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "tw-kafka-pub");
      Run();
    });
    return Status::Ok();
  }

  void Stop() TW_EXCLUDES(stop_mu_, join_mu_) {
    {
      MutexLock lock(stop_mu_);
      stop_requested_ = true;
    }
    stop_cv_.NotifyAll();
    MutexLock join_lock(join_mu_);  // a second caller waits for the first
    if (thread_.joinable()) thread_.join();
  }

  std::vector<TablePublishState> Snapshot() const TW_EXCLUDES(snapshot_mu_) {
    MutexLock lock(snapshot_mu_);
    std::vector<TablePublishState> states;
    for (const auto& [name, table] : tables_) {
      TablePublishState& state = states.emplace_back();
      state.table = TableName(name);
      state.topic = table->topic;
      state.error = table->error;
      for (const auto& shard : table->shards) {
        state.shards.push_back({ShardIndex(shard->index()), SequenceNumber(shard->published_next()),
                                SequenceNumber(shard->persisted_next())});
      }
    }
    return states;
  }

  uint64_t producer_restarts() const { return restarts_.load(); }

  // Runs on the publisher thread, inside KafkaProducer::Poll.
  void OnDelivery(const rd_kafka_message_t& message) override TW_REQUIRES(publisher_thread_) {
    if (message._private == nullptr) {  // a watermark message: nothing to acknowledge
      if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR &&
          message.err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
          message.err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        if (!producer_failed_ && !purging_) {
          failure_ = std::string("delivery of a watermark message failed: ") +
                     rd_kafka_err2str(message.err);
        }
        producer_failed_ = true;
      }
      return;
    }
    auto& record = *static_cast<InFlightRecord*>(message._private);
    --in_flight_records_;
    in_flight_bytes_ -= record.bytes;
    std::string().swap(record.value);  // librdkafka is done with it
    TableCursor& table = record.shard->table();
    if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Our own purge (RestartProducer): resent by the next producer.
      if (message.err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
          message.err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        return;
      }
      PublisherMetrics::DeliveryFailed(table.metrics);
      if (!producer_failed_ && !purging_) {
        failure_ = "delivery of " + table.name + "/" + std::to_string(record.shard->index()) + "/" +
                   std::to_string(record.sequence) + " failed: " + rd_kafka_err2str(message.err);
      }
      producer_failed_ = true;
      return;
    }
    queue_full_ = false;
    backoff_ = options_.restart_backoff;
    const double latency =
        static_cast<double>(engine_.options().clock->NowMicros() - record.created_micros) / 1e6;
    PublisherMetrics::Published(table.metrics, record.bytes, std::max(latency, 0.0));
    record.shard->Acknowledge(record);  // may free `record`
    // Acknowledged, not saved as a checkpoint yet: a restart resends it (a duplicate).
    TW_FAILURE_POINT("publisher.after_ack");
  }

 private:
  bool stop_requested() TW_EXCLUDES(stop_mu_) {
    MutexLock lock(stop_mu_);
    return stop_requested_;
  }

  // The publisher thread reads tables_ without snapshot_mu_: it is the only writer.
  const std::map<std::string, std::unique_ptr<TableCursor>>& tables() const
      TW_REQUIRES(publisher_thread_) TW_NO_THREAD_SAFETY_ANALYSIS {
    return tables_;
  }

  bool BudgetLeft() const TW_REQUIRES(publisher_thread_) {
    return !queue_full_ && in_flight_records_ < options_.max_in_flight_records &&
           in_flight_bytes_ < options_.max_in_flight_bytes;
  }

  void Run() {
    ThreadRoleScope publisher(publisher_thread_);
    uint64_t epoch = 0;
    Clock& clock = *options_.clock;
    MonotonicTime next_refresh = clock.MonotonicNow() + options_.table_refresh_interval;
    MonotonicTime next_checkpoint = clock.MonotonicNow() + options_.checkpoint_interval;
    MonotonicTime next_lag = clock.MonotonicNow();
    MonotonicTime next_watermark = clock.MonotonicNow() + options_.watermark_interval;
    while (!stop_requested()) {
      if (producer_failed_ || !producer_ || producer_->FatalError()) {
        RestartProducer();
        continue;
      }
      const MonotonicTime now = clock.MonotonicNow();
      if (now >= next_refresh) {
        (void)RefreshTables();  // topic errors are logged inside and retried next time
        next_refresh = now + options_.table_refresh_interval;
      }
      // The epoch before reading: a commit after it ends the wait below at once.
      epoch = engine_.WaitForCommit(epoch, milliseconds(0));
      const bool produced = ProduceAvailable();
      producer_->Poll(milliseconds(0));
      if (now >= next_checkpoint) {
        PersistCheckpoints();
        next_checkpoint = now + options_.checkpoint_interval;
      }
      if (now >= next_lag) {
        UpdateLag();
        next_lag = now + kLagInterval;
      }
      if (options_.watermark_interval > milliseconds(0) && now >= next_watermark) {
        ProduceWatermarks();
        next_watermark = now + options_.watermark_interval;
      }
      DropDrainedRetired();
      if (produced) continue;
      if (!BudgetLeft()) {
        producer_->Poll(kBackpressureWait);
        continue;
      }
      epoch = engine_.WaitForCommit(epoch, in_flight_records_ > 0 ? kInFlightWait : kIdleWait);
    }
    // Stopping: let what is in flight be acknowledged, then save the positions.
    const auto deadline = Steady::now() + options_.stop_timeout;
    while (producer_ && in_flight_records_ > 0 && !producer_failed_ && Steady::now() < deadline) {
      producer_->Poll(kInFlightWait);
    }
    PersistCheckpoints();
    producer_.reset();
  }

  // --- Tables ---

  // Tracks new stream-enabled tables, retires deleted ones and verifies topics. Returns
  // the first topic error (Start fails with it; later they are logged and retried).
  Status RefreshTables() TW_REQUIRES(publisher_thread_) {
    std::vector<std::string> names;
    std::optional<std::string> start;
    do {
      auto page = engine_.ListTables(start, 100);
      if (!page.ok()) return page.status();
      names.insert(names.end(), page->names.begin(), page->names.end());
      start = page->last_evaluated_table_name;
    } while (start);

    Status first_error;
    std::set<std::string> present;
    for (const std::string& name : names) {
      auto description = engine_.DescribeTable(name);
      if (!description.ok()) continue;  // deleted meanwhile
      auto it = tables().find(name);
      if (it != tables().end() && it->second->table_id != description->table_id) {
        Retire(name);  // deleted and created again
        it = tables().end();
      }
      if (it == tables().end() && !description->stream.enabled) continue;
      present.insert(name);
      TableCursor& table = it != tables().end() ? *it->second : Track(*description);
      AddShards(table, *description);
      if (!table.ready()) {
        Status verified = VerifyTopic(table);
        if (first_error.ok()) first_error = verified;
      }
    }
    std::vector<std::string> gone;
    for (const auto& [name, table] : tables()) {
      if (!present.contains(name)) gone.push_back(name);
    }
    for (const std::string& name : gone) Retire(name);
    return first_error;
  }

  TableCursor& Track(const TableDescription& description) TW_REQUIRES(publisher_thread_)
      TW_EXCLUDES(snapshot_mu_) {
    auto table = std::make_unique<TableCursor>();
    table->name = description.name;
    table->table_id = description.table_id;
    table->partition_key = description.key_schema.partition_key.name;
    table->topic = KafkaTopicName(options_.topic_prefix, description.name);
    table->metrics = metrics_.AddTable(description.name);
    MutexLock lock(snapshot_mu_);
    return *tables_.emplace(description.name, std::move(table)).first->second;
  }

  // Cursors for shards the table has and the publisher does not track yet (shards split
  // from a tracked one included), starting at the saved checkpoint or, for a shard never
  // published, at its oldest retained record (then pinned at once with a checkpoint so
  // that retention keeps it). Shards split since the last look get their final sequence.
  void AddShards(TableCursor& table, const TableDescription& description)
      TW_EXCLUDES(snapshot_mu_) {
    for (const ShardDescription& shard : description.shards) {
      ShardCursor* tracked = table.Find(shard.index.value());
      if (tracked != nullptr) {
        if (shard.closed) tracked->final_sequence = shard.last_sequence.value();
        continue;
      }
      ShardCursor* parent = shard.parent ? table.Find(shard.parent->value()) : nullptr;
      if (shard.parent && parent == nullptr) {
        // The engine lists every shard, parents before their children: without the
        // parent the child's partition is unknown, and guessing could break key order.
        MutexLock lock(snapshot_mu_);
        table.topic_partitions = 0;
        table.error = "shard " + std::to_string(shard.index.value()) + " was split from shard " +
                      std::to_string(shard.parent->value()) + ", which the table does not list";
        spdlog::error("event=kafka_shard_lineage_broken table={} error=\"{}\"", table.name,
                      table.error);
        return;
      }
      const ShardIndex index = shard.index;
      const TableName table_name(table.name);
      auto saved = engine_.LoadCheckpoint(options_.checkpoint_consumer, table_name, index);
      SequenceNumber start;
      if (saved.ok() && saved->has_value()) {
        start = **saved;
      } else {
        start = shard.first_sequence != SequenceNumber(0) ? shard.first_sequence
                                                          : shard.last_sequence.Next();
        Status pinned =
            engine_.SaveCheckpoint(options_.checkpoint_consumer, table_name, index, start, true);
        if (!pinned.ok()) {
          spdlog::warn("event=kafka_checkpoint_failed table={} shard={} error=\"{}\"", table.name,
                       index.value(), pinned.ToString());
        }
      }
      auto cursor = std::make_unique<ShardCursor>(&table, index.value(), parent, start.value());
      if (shard.closed) cursor->final_sequence = shard.last_sequence.value();
      cursor->metrics = metrics_.AddShard(table.name, index.value());
      MutexLock lock(snapshot_mu_);
      if (!shard.parent) ++table.partitions_needed;
      table.shards.push_back(std::move(cursor));
    }
  }

  Status VerifyTopic(TableCursor& table) TW_REQUIRES(publisher_thread_) TW_EXCLUDES(snapshot_mu_) {
    const int partitions = table.partitions_needed;
    Status status;
    if (table.topic.size() > kMaxTopicName) {
      status = Status::Validation("Kafka topic name '" + table.topic + "' is longer than " +
                                  std::to_string(kMaxTopicName) + " characters");
    } else {
      status = cluster::EnsureTopic(
          producer_->handle(),
          {table.topic, table.name, partitions, options_.topic_replication_factor},
          options_.admin_timeout);
    }
    MutexLock lock(snapshot_mu_);
    if (status.ok()) {
      if (!table.error.empty()) {
        spdlog::info("event=kafka_topic_ready table={} topic={}", table.name, table.topic);
      }
      table.topic_partitions = partitions;
      table.error.clear();
    } else if (table.error != status.message()) {
      spdlog::error("event=kafka_topic_error table={} topic={} error=\"{}\"", table.name,
                    table.topic, status.message());
      table.error = status.message();
    }
    return status;
  }

  // The table is gone from the engine: its cursor moves to retired_, where the records
  // it has not sent yet are still sent (read by table id: a deleted table's stream stays
  // readable), until all are acknowledged. A table whose topic was never usable has
  // nowhere to send them: it is dropped as it stands.
  void Retire(const std::string& name) TW_REQUIRES(publisher_thread_) TW_EXCLUDES(snapshot_mu_) {
    TableCursor& table = *tables().at(name);
    for (auto& shard : table.shards) {
      DropReadAhead(*shard);
      if (!table.ready()) shard->read_to_end = true;
    }
    if (!table.ready()) {
      spdlog::warn("event=kafka_deleted_table_unpublished table={} error=\"{}\"", name,
                   table.error);
    }
    MutexLock lock(snapshot_mu_);
    auto it = tables_.find(name);
    it->second->deleted = true;
    retired_.push_back(std::move(it->second));
    tables_.erase(it);
  }

  void DropDrainedRetired() TW_REQUIRES(publisher_thread_) {
    for (auto it = retired_.begin(); it != retired_.end();) {
      if (!(*it)->drained()) {
        ++it;
        continue;
      }
      spdlog::info("event=kafka_deleted_table_drained table={} table_id={}", (*it)->name,
                   (*it)->table_id);
      RemoveRetiredMetrics(**it);
      it = retired_.erase(it);
    }
  }

  // A deleted table's metrics, unless a table created again under its name shares them
  // (the same labels are the same series).
  void RemoveRetiredMetrics(TableCursor& table) TW_REQUIRES(publisher_thread_) {
    if (tables().count(table.name) == 0) RemoveMetrics(table);
  }

  void RemoveMetrics(TableCursor& table) {
    metrics_.RemoveTable(table.metrics);
    for (const auto& shard : table.shards) metrics_.RemoveShard(shard->metrics);
  }

  // --- Producing ---

  // Reads every ready shard from its send position and produces what it finds, while the
  // in-flight budget lasts: first what is left of deleted tables, then the live tables. A
  // table created again under a deleted one's name shares its topic: it waits until the
  // deleted table's records are all sent, so that each partition keeps sequence order.
  // Returns whether anything was produced.
  bool ProduceAvailable() TW_REQUIRES(publisher_thread_) {
    bool produced = false;
    std::set<std::string> draining;
    for (auto& table : retired_) {
      if (table->drained()) continue;
      draining.insert(table->name);
      if (!table->ready()) continue;
      for (auto& shard : table->shards) {
        if (shard->read_to_end) continue;
        if (!BudgetLeft() || producer_failed_) return produced;
        produced |= ProduceShard(*table, *shard);
      }
    }
    for (auto& [name, table] : tables()) {
      if (!table->ready() || draining.contains(name)) continue;
      for (auto& shard : table->shards) {
        if (shard->finished()) continue;  // a split parent all in Kafka: no read needed
        if (!BudgetLeft() || producer_failed_) return produced;
        produced |= ProduceShard(*table, *shard);
      }
    }
    return produced;
  }

  ShardSource Source(const TableCursor& table, const ShardCursor& shard) const {
    std::optional<uint32_t> parent;
    if (shard.parent() != nullptr) parent = shard.parent()->index();
    return {table.name, table.table_id, shard.index(), parent, table.partition_key};
  }

  // Makes the shard's next records pending: the batch read ahead if it starts where the
  // shard stands, else a batch read now. A full batch starts reading the next one ahead.
  void FillPending(TableCursor& table, ShardCursor& shard) TW_REQUIRES(publisher_thread_)
      TW_EXCLUDES(snapshot_mu_) {
    EncodedBatch batch;
    bool have = false;
    if (shard.read_ahead.valid()) {
      batch = shard.read_ahead.get();
      --read_aheads_;
      have = batch.from == shard.send_next();
    }
    if (!have) {
      batch =
          ReadBatch(engine_, encoder_, Source(table, shard), shard.send_next(), shard.read_limit);
    }
    if (batch.first_available > shard.send_next() && !shard.has_in_flight()) {
      spdlog::warn("event=kafka_records_trimmed table={} shard={} from={} to={}", table.name,
                   shard.index(), shard.send_next(), batch.first_available - 1);
      shard.SkipTo(batch.first_available);
    }
    if (batch.records.empty()) {
      // A deleted table's log is final: an empty read (or one after its stream expired)
      // is its end.
      const bool gone = batch.error.ok() || batch.error.code() == ErrorCode::kResourceNotFound;
      if (table.deleted && gone) shard.read_to_end = true;
      if (!batch.error.ok() && batch.error.code() != ErrorCode::kResourceNotFound) {
        // A record that cannot be encoded is never skipped: the table stops here.
        MutexLock lock(snapshot_mu_);
        table.topic_partitions = 0;
        table.error = batch.error.message();
        spdlog::error("event=kafka_encode_failed table={} error=\"{}\"", table.name, table.error);
      }
      return;
    }
    size_t bytes = 0;
    for (const EncodedRecord& record : batch.records) {
      bytes += record.message.key.size() + record.message.value.size();
    }
    const size_t limit = shard.read_limit;
    shard.read_limit =
        std::clamp<size_t>(kReadBatchBytes * batch.records.size() / bytes, 1, kMaxReadBatch);
    if (batch.records.size() == limit && batch.error.ok() && read_aheads_ < kMaxReadAheads) {
      ++read_aheads_;
      shard.read_ahead = read_ahead_.Submit(Source(table, shard), batch.records.back().sequence + 1,
                                            shard.read_limit);
    }
    shard.SetPending(std::move(batch.records));
  }

  bool ProduceShard(TableCursor& table, ShardCursor& shard) TW_REQUIRES(publisher_thread_) {
    if (!shard.may_send()) return false;
    if (!shard.has_pending()) FillPending(table, shard);
    size_t sent = 0;
    for (; shard.has_pending() && BudgetLeft(); shard.PendingSent()) {
      EncodedRecord& record = shard.next_pending();
      InFlightRecord* in_flight = shard.Sent(record);
      const rd_kafka_resp_err_t error = producer_->Produce(
          table.topic, shard.partition(), record.message, in_flight->value, in_flight);
      if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
        shard.Unsend(record);
        if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          queue_full_ = true;
        } else {
          PublisherMetrics::DeliveryFailed(table.metrics);
          failure_ = "produce to " + table.topic + " [" + std::to_string(shard.partition()) +
                     "] failed: " + rd_kafka_err2str(error);
          producer_failed_ = true;
        }
        break;
      }
      ++in_flight_records_;
      in_flight_bytes_ += in_flight->bytes;
      ++sent;
    }
    metrics_.SetInFlight(in_flight_records_);
    return sent > 0;
  }

  // A watermark message per partition whose resolved time advanced, after the records it
  // covers. A shard's time is its watermark when every record it covers was handed over,
  // else the creation time of the last record handed over; a partition's is the earliest
  // of its unfinished shards' (a split parent still sending, and its children, which wait
  // for it). A partition whose shards are all finished gets none until their children
  // are known.
  void ProduceWatermarks() TW_REQUIRES(publisher_thread_) {
    // While a deleted table's last records are still being sent to a topic, a new table
    // of its name gets no watermark there: they would not cover those records.
    std::set<std::string> draining;
    for (const auto& table : retired_) draining.insert(table->name);
    for (auto& [name, table] : tables()) {
      if (!table->ready() || draining.contains(name)) continue;
      std::map<int32_t, int64_t> partition_micros;
      bool complete = true;
      for (auto& shard : table->shards) {
        if (shard->finished()) continue;
        Result<ShardWatermark> watermark =
            engine_.ResolvedWatermark(TableName(table->name), ShardIndex(shard->index()));
        if (!watermark.ok()) {
          complete = false;  // deleted meanwhile: the next refresh retires it
          break;
        }
        const int64_t micros = shard->send_next() > watermark->last_sequence.value()
                                   ? watermark->resolved_micros
                                   : shard->sent_created_micros();
        auto [it, first] = partition_micros.emplace(shard->partition(), micros);
        if (!first) it->second = std::min(it->second, micros);
      }
      if (!complete) continue;
      for (const auto& [partition, micros] : partition_micros) {
        if (producer_failed_ || queue_full_) return;
        ShardCursor& root = *table->Find(static_cast<uint32_t>(partition));
        const int64_t resolved_ms = micros / 1000;
        if (resolved_ms <= root.watermark_sent_ms) continue;
        KafkaMessage message =
            WatermarkMessage(table->name, static_cast<uint32_t>(partition), resolved_ms);
        const rd_kafka_resp_err_t error =
            producer_->Produce(table->topic, partition, message, {}, nullptr);
        if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          queue_full_ = true;
        } else if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
          failure_ = "produce to " + table->topic + " [" + std::to_string(partition) +
                     "] failed: " + rd_kafka_err2str(error);
          producer_failed_ = true;
        } else {
          root.watermark_sent_ms = resolved_ms;
        }
      }
    }
  }

  void DropReadAhead(ShardCursor& shard) TW_REQUIRES(publisher_thread_) {
    if (!shard.read_ahead.valid()) return;
    shard.read_ahead = {};
    --read_aheads_;
  }

  // After a failed delivery or a fatal producer error: drop the producer (and whatever it
  // still holds), wait, and start a new one from the acknowledged positions. Records that
  // reached Kafka without being acknowledged are sent again (duplicates, in order).
  void RestartProducer() TW_REQUIRES(publisher_thread_) TW_EXCLUDES(stop_mu_) {
    std::string reason = failure_;
    if (producer_) {
      reason = producer_->FatalError().value_or(failure_);
      purging_ = true;
      producer_->PurgeAll();
      const auto deadline = Steady::now() + options_.stop_timeout;
      while (producer_->OutstandingMessages() > 0 && Steady::now() < deadline) {
        producer_->Poll(kInFlightWait);
      }
      purging_ = false;
      producer_.reset();
    }
    for (auto& [name, table] : tables()) {
      for (auto& shard : table->shards) shard->Rewind();
    }
    for (auto& table : retired_) {
      for (auto& shard : table->shards) shard->Rewind();
    }
    in_flight_records_ = 0;
    in_flight_bytes_ = 0;
    queue_full_ = false;
    producer_failed_ = false;
    restarts_.fetch_add(1);
    metrics_.ProducerRestarted();
    metrics_.SetInFlight(0);
    spdlog::warn("event=kafka_producer_restart reason=\"{}\" backoff_ms={}", reason,
                 backoff_.count());
    {
      MutexLock lock(stop_mu_);
      options_.clock->WaitFor(stop_cv_, stop_mu_, backoff_, [this] {
        stop_mu_.AssertHeld();
        return stop_requested_;
      });
    }
    backoff_ = std::min(backoff_ * 2, kMaxRestartBackoff);
    auto producer = KafkaProducer::Create(options_, this);
    // The options were accepted at Start, so this fails only on resource exhaustion;
    // the next turn tries again.
    if (!producer.ok()) {
      spdlog::error("event=kafka_producer_failed error=\"{}\"", producer.status().ToString());
      producer_failed_ = true;
      return;
    }
    producer_ = std::move(*producer);
  }

  // --- Positions and lag ---

  void PersistCheckpoints() TW_REQUIRES(publisher_thread_) {
    for (auto& [name, table] : tables()) {
      for (auto& shard : table->shards) {
        const uint64_t next = shard->published_next();
        if (next == shard->persisted_next()) continue;
        Status saved =
            engine_.SaveCheckpoint(options_.checkpoint_consumer, TableName(name),
                                   ShardIndex(shard->index()), SequenceNumber(next), true);
        if (saved.ok()) {
          shard->Persisted(next);
          TW_FAILURE_POINT("publisher.after_checkpoint");
        } else if (saved.code() != ErrorCode::kResourceNotFound) {
          spdlog::warn("event=kafka_checkpoint_failed table={} shard={} error=\"{}\"", name,
                       shard->index(), saved.ToString());
        }
      }
    }
  }

  void UpdateLag() TW_REQUIRES(publisher_thread_) {
    const int64_t now_micros = engine_.options().clock->NowMicros();
    for (auto& [name, table] : tables()) {
      auto description = engine_.DescribeTable(name);
      if (!description.ok() || description->table_id != table->table_id) continue;
      for (auto& shard : table->shards) {
        if (shard->index() >= description->shards.size()) continue;
        const uint64_t last = description->shards[shard->index()].last_sequence.value();
        const uint64_t next = shard->published_next();
        const uint64_t lag = last >= next ? last - next + 1 : 0;
        int64_t oldest_micros = now_micros;
        if (lag > 0 && shard->has_in_flight()) {
          oldest_micros = shard->oldest_in_flight().created_micros;
        } else if (lag > 0) {
          auto oldest = engine_.ReadShard(
              {TableName(name), ShardIndex(shard->index()), SequenceNumber(next), 1});
          if (oldest.ok() && !oldest->records.empty()) {
            oldest_micros = oldest->records.front().approximate_creation_time_micros();
          }
        }
        PublisherMetrics::SetLag(
            shard->metrics, lag,
            static_cast<double>(std::max<int64_t>(now_micros - oldest_micros, 0)) / 1e6);
      }
    }
  }

  Engine& engine_;
  const KafkaPublisherOptions options_;
  std::unique_ptr<prometheus::Registry> own_registry_;
  PublisherMetrics metrics_;
  const ChangeMessageEncoder encoder_;
  ReadAhead read_ahead_{engine_, encoder_};
  // The publisher thread (Run), and Start before it exists, the destructor after it ended.
  ThreadRole publisher_thread_;
  std::unique_ptr<KafkaProducer> producer_ TW_GUARDED_BY(publisher_thread_);

  // Changed by the publisher thread with snapshot_mu_ held; read by Snapshot with it held
  // and by the publisher thread through tables(). The cursors' fields Snapshot reads
  // (error, topic, shards) change under snapshot_mu_ too.
  mutable Mutex snapshot_mu_;
  std::map<std::string, std::unique_ptr<TableCursor>> tables_ TW_GUARDED_BY(snapshot_mu_);
  // Deleted tables with records in flight.
  std::vector<std::unique_ptr<TableCursor>> retired_ TW_GUARDED_BY(publisher_thread_);

  size_t in_flight_records_ TW_GUARDED_BY(publisher_thread_) = 0;
  size_t in_flight_bytes_ TW_GUARDED_BY(publisher_thread_) = 0;
  bool queue_full_ TW_GUARDED_BY(publisher_thread_) = false;
  int read_aheads_ TW_GUARDED_BY(publisher_thread_) = 0;  // shards with a valid read_ahead
  bool producer_failed_ TW_GUARDED_BY(publisher_thread_) = false;
  bool purging_ TW_GUARDED_BY(publisher_thread_) = false;
  std::string failure_ TW_GUARDED_BY(publisher_thread_);
  milliseconds backoff_ TW_GUARDED_BY(publisher_thread_);

  std::atomic<uint64_t> restarts_{0};
  Mutex stop_mu_;
  CondVar stop_cv_;  // waited on through options_.clock
  bool stop_requested_ TW_GUARDED_BY(stop_mu_) = false;
  Mutex join_mu_;
  std::thread thread_ TW_GUARDED_BY(join_mu_);
};

Result<std::unique_ptr<KafkaPublisher>> KafkaPublisher::Start(Engine& engine,
                                                              KafkaPublisherOptions options) {
  auto impl = std::make_unique<Impl>(engine, std::move(options));
  TW_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<KafkaPublisher>(new KafkaPublisher(std::move(impl)));
}

KafkaPublisher::KafkaPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaPublisher::~KafkaPublisher() = default;
void KafkaPublisher::Stop() { impl_->Stop(); }
std::vector<TablePublishState> KafkaPublisher::Snapshot() const { return impl_->Snapshot(); }
uint64_t KafkaPublisher::producer_restarts() const { return impl_->producer_restarts(); }

}  // namespace tidewater::connectors
