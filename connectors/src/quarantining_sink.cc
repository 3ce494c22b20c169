#include "tidewater/connectors/quarantining_sink.h"

#include <spdlog/spdlog.h>

#include <deque>
#include <set>

#include "sink_metrics.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/record_codec.h"
#include "tidewater/streams/stream_record_json.h"

namespace tidewater::connectors {
namespace {

constexpr int kMaxRetryAttempts = 10'000;

// Records [begin, end) of a batch still to write, and the rejected writes they had.
struct Pending {
  size_t begin = 0;
  size_t end = 0;
  int attempts = 0;
};

class QuarantiningSink final : public Sink {
 public:
  QuarantiningSink(std::unique_ptr<Sink> inner, QuarantiningSinkOptions options)
      : inner_(std::move(inner)),
        options_(std::move(options)),
        metrics_(options_.registry, options_.sink_name) {}

  Result<std::optional<SequenceNumber>> Load(const TableName& table, ShardIndex shard) override {
    return inner_->Load(table, shard);
  }
  Status Save(const TableName& table, ShardIndex shard, SequenceNumber next) override {
    return inner_->Save(table, shard, next);
  }
  Status Settle(const TableName& table, ShardIndex shard) override {
    return inner_->Settle(table, shard);
  }
  Status Tick() override { return inner_->Tick(); }
  Status Flush() override { return inner_->Flush(); }
  Status RecordProgress(const TableName& table,
                        const std::vector<streams::ConsumerShardStatus>& progress) override {
    return inner_->RecordProgress(table, progress);
  }

  Status Write(const streams::ShardBatch& batch) override {
    if (batch.records.empty()) return Status::Ok();
    TW_ASSIGN_OR_RETURN(std::set<std::string> quarantined,
                        options_.store->QuarantinedKeys(options_.consumer, batch.table));
    std::vector<std::string> keys;
    keys.reserve(batch.records.size());
    for (const ChangeRecord& record : batch.records) {
      TW_ASSIGN_OR_RETURN(Item item, FromProto(record.keys()));
      keys.push_back(json::ItemToJson(item));
    }

    std::deque<Pending> todo{Pending{0, batch.records.size()}};
    while (!todo.empty()) {
      Pending pending = todo.front();
      todo.pop_front();
      // Records of quarantined keys are parked in order; the write stops before the next.
      while (pending.begin < pending.end && quarantined.contains(keys[pending.begin])) {
        TW_RETURN_IF_ERROR(Park(batch, pending.begin, keys[pending.begin],
                                streams::kQuarantineReasonKeyQuarantined));
        ++pending.begin;
      }
      if (pending.begin == pending.end) continue;
      for (size_t i = pending.begin + 1; i < pending.end; ++i) {
        if (!quarantined.contains(keys[i])) continue;
        Pending rest = pending;
        rest.begin = i;
        todo.push_front(rest);
        pending.end = i;
        break;
      }

      Status written = inner_->Write(Slice(batch, pending));
      if (written.ok()) continue;
      // Outages are the inner sink's to retry; it returns them only when stopping.
      if (written.code() != ErrorCode::kValidation || batch.stop.stop_requested()) return written;
      ++pending.attempts;
      spdlog::warn(
          "event=sink_record_rejected sink={} table={} shard={} sequences={}..{} attempt={} "
          "error=\"{}\"",
          options_.sink_name, batch.table.value(), batch.shard.value(),
          batch.records[pending.begin].sequence(), batch.records[pending.end - 1].sequence(),
          pending.attempts, written.message());
      if (pending.attempts <= options_.retry_attempts) {
        if (!options_.clock->SleepFor(Backoff(pending.attempts), batch.stop)) return written;
        todo.push_front(pending);
        continue;
      }
      if (pending.end - pending.begin > 1) {
        // Find the rejected record: the halves keep the exhausted count, so each is written
        // once more and bisected again when rejected.
        Pending second = pending;
        second.begin = pending.begin + (pending.end - pending.begin) / 2;
        pending.end = second.begin;
        todo.push_front(second);
        todo.push_front(pending);
        continue;
      }
      TW_RETURN_IF_ERROR(
          Park(batch, pending.begin, keys[pending.begin], streams::kQuarantineReasonFailed));
      quarantined.insert(keys[pending.begin]);
    }
    return Status::Ok();
  }

 private:
  std::chrono::milliseconds Backoff(int attempts) const {
    std::chrono::milliseconds delay = options_.retry_backoff_initial;
    for (int i = 1; i < attempts && delay < options_.retry_backoff_max; ++i) delay *= 2;
    return std::min(delay, options_.retry_backoff_max);
  }

  static streams::ShardBatch Slice(const streams::ShardBatch& batch, const Pending& pending) {
    streams::ShardBatch slice;
    slice.table = batch.table;
    slice.shard = batch.shard;
    slice.stop = batch.stop;
    slice.records.assign(batch.records.begin() + static_cast<std::ptrdiff_t>(pending.begin),
                         batch.records.begin() + static_cast<std::ptrdiff_t>(pending.end));
    return slice;
  }

  // Stores record `index` in the quarantine table (retried until stored, or until the batch
  // stops).
  Status Park(const streams::ShardBatch& batch, size_t index, const std::string& key,
              std::string_view reason) {
    const ChangeRecord& record = batch.records[index];
    streams::QuarantinedRecord parked;
    parked.consumer = options_.consumer;
    parked.table = batch.table;
    parked.shard = batch.shard;
    parked.sequence = SequenceNumber(record.sequence());
    parked.key = key;
    parked.reason = std::string(reason);
    parked.parked_millis = options_.clock->NowMicros() / 1000;
    TW_ASSIGN_OR_RETURN(parked.record_json,
                        streams::StreamRecordJson(record, /*table_id=*/0, options_.region));
    for (int attempt = 1;; ++attempt) {
      Status stored = options_.store->Park(parked);
      if (stored.ok()) break;
      metrics_.Error(batch.table.value());
      if (!options_.clock->SleepFor(Backoff(attempt), batch.stop)) {
        return Status(stored.code(), "quarantine table: " + stored.message());
      }
    }
    metrics_.RecordQuarantined(batch.table.value(), parked.reason);
    spdlog::warn("event=record_quarantined sink={} table={} shard={} sequence={} reason={} key={}",
                 options_.sink_name, batch.table.value(), batch.shard.value(), record.sequence(),
                 parked.reason, key);
    return Status::Ok();
  }

  const std::unique_ptr<Sink> inner_;
  const QuarantiningSinkOptions options_;
  SinkMetrics metrics_;
};

}  // namespace

Result<std::unique_ptr<Sink>> MakeQuarantiningSink(std::unique_ptr<Sink> inner,
                                                   QuarantiningSinkOptions options) {
  if (inner == nullptr) return Status::Validation("quarantine: no sink to wrap");
  if (options.store == nullptr) return Status::Validation("quarantine: no quarantine table");
  if (options.clock == nullptr) return Status::Validation("quarantine: clock is required");
  if (options.retry_attempts < 0 || options.retry_attempts > kMaxRetryAttempts) {
    return Status::Validation("poison_retry_attempts must be between 0 and 10000");
  }
  return std::unique_ptr<Sink>(
      std::make_unique<QuarantiningSink>(std::move(inner), std::move(options)));
}

}  // namespace tidewater::connectors
