// TableReplicator: catch-up (ReplicationCore), then a reader of the source's stream whose
// handler applies the source region's changes to the target and whose positions are the
// target's checkpoints.
#include "tidewater/replicator/table_replicator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "replication_core.h"
#include "tidewater/streams/resource_names.h"

namespace tidewater::replicator {
namespace {

using MonotonicTime = Clock::MonotonicTime;
using std::chrono::milliseconds;

// What this replicator knows of the target's position in one source shard.
struct ShardPosition {
  std::mutex mu;             // held while a batch or a position of the shard is applied
  SequenceNumber stored;     // the target's checkpoint, as read or last written
  SequenceNumber skipped;    // a later position over skipped records, not yet stored; 0: none
  MonotonicTime stored_at;   // when `stored` was read or written
  MonotonicTime skipped_at;  // when `skipped` last moved
};

// The reader's CheckpointStore (the target's checkpoints of the source region) and the
// handler that applies batches with their checkpoint. Thread-safe: the reader calls it
// from its threads, the supervisor stores skipped positions.
class TargetPositions final : public streams::CheckpointStore {
 public:
  // `skipped_interval` 0: every batch stores its position.
  TargetPositions(ReplicationCore& core, milliseconds skipped_interval)
      : core_(core), skipped_interval_(skipped_interval) {}

  Result<std::optional<SequenceNumber>> Load(const TableName& table, ShardIndex shard) override {
    auto stored = core_.target().GetCheckpoints(table, core_.source_region());
    if (!stored.ok()) {
      core_.Error("get_checkpoints", stored.status());
      return stored.status();
    }
    // A shard the target has no position of (one the catch-up did not see) is read from
    // its first record: trimmed records are an error, never skipped silently.
    const auto found = stored->find(shard);
    const SequenceNumber position = found == stored->end() ? SequenceNumber(1) : found->second;
    ShardPosition& state = Shard(shard);
    std::lock_guard lock(state.mu);
    state.stored = position;
    state.stored_at = Now();
    state.skipped = SequenceNumber(0);
    return std::optional<SequenceNumber>(position);
  }

  // The reader's position after an accepted batch or at a shard's end: stored already
  // when the batch had changes, else a skipped position to store later.
  Status Save(const TableName&, ShardIndex shard, SequenceNumber next_sequence) override {
    ShardPosition& state = Shard(shard);
    std::lock_guard lock(state.mu);
    NoteSkipped(state, next_sequence);
    return Status::Ok();
  }

  // The handler: applies the batch's changes of the source region with the checkpoint
  // after its last record (records of other origins included), retrying until applied. An
  // error (only when stopping) makes the reader keep the batch: it is read again later.
  Status Handle(const streams::ShardBatch& batch) {
    ShardPosition& state = Shard(batch.shard);
    std::lock_guard lock(state.mu);
    v1::ReplicationBatch out = core_.OriginBatch(batch.records);
    const SequenceNumber next = SequenceNumber(batch.records.back().sequence()).Next();
    if (out.changes_size() == 0 && Now() - state.stored_at < skipped_interval_) {
      NoteSkipped(state, next);
      return Status::Ok();
    }
    out.mutable_checkpoint()->set_shard(batch.shard.value());
    out.mutable_checkpoint()->set_next_sequence(next.value());
    if (!core_.ApplyWithRetry(out)) {
      return Status::Internal("replicator stopping: batch not applied");
    }
    MarkStored(state, next);
    return Status::Ok();
  }

  // Stores the skipped positions of shards that got no batch for `idle`: one attempt
  // each; a shard busy applying is left to its batch.
  void StoreIdleSkipped(milliseconds idle) {
    for (auto& [index, state] : Shards()) {
      std::unique_lock lock(state->mu, std::try_to_lock);
      if (!lock.owns_lock() || Now() - state->skipped_at < idle) continue;
      const Status stored = StoreSkippedLocked(index, *state);
      if (!stored.ok()) core_.Error("apply", stored);
    }
  }

  // After the reader stopped: stores every skipped position, one attempt each (a failure
  // is logged: the records are read and skipped again after a restart).
  void StoreAllSkipped() {
    for (auto& [index, state] : Shards()) {
      std::lock_guard lock(state->mu);
      if (!StoreSkippedLocked(index, *state).ok()) {
        spdlog::info("event=checkpoint_not_stored table={} shard={}", core_.table(), index.value());
      }
    }
  }

 private:
  MonotonicTime Now() const { return core_.options().clock->MonotonicNow(); }

  ShardPosition& Shard(ShardIndex shard) {
    std::lock_guard lock(mu_);
    std::unique_ptr<ShardPosition>& state = shards_[shard];
    if (state == nullptr) state = std::make_unique<ShardPosition>();
    return *state;
  }

  std::vector<std::pair<ShardIndex, ShardPosition*>> Shards() {
    std::lock_guard lock(mu_);
    std::vector<std::pair<ShardIndex, ShardPosition*>> shards;
    for (auto& [index, state] : shards_) shards.emplace_back(index, state.get());
    return shards;
  }

  // Caller holds state.mu.
  Status StoreSkippedLocked(ShardIndex shard, ShardPosition& state) {
    if (state.skipped <= state.stored) return Status::Ok();
    v1::ReplicationBatch batch = core_.NewBatch();
    batch.mutable_checkpoint()->set_shard(shard.value());
    batch.mutable_checkpoint()->set_next_sequence(state.skipped.value());
    TW_RETURN_IF_ERROR(core_.target().Apply(batch).status());
    MarkStored(state, state.skipped);
    return Status::Ok();
  }

  // Caller holds state.mu.
  void NoteSkipped(ShardPosition& state, SequenceNumber next_sequence) const {
    if (next_sequence <= std::max(state.stored, state.skipped)) return;
    state.skipped = next_sequence;
    state.skipped_at = Now();
  }

  // Caller holds state.mu.
  void MarkStored(ShardPosition& state, SequenceNumber next_sequence) const {
    state.stored = next_sequence;
    state.stored_at = Now();
    if (state.skipped <= next_sequence) state.skipped = SequenceNumber(0);
  }

  ReplicationCore& core_;
  const milliseconds skipped_interval_;
  std::mutex mu_;
  std::map<ShardIndex, std::unique_ptr<ShardPosition>> shards_;  // guarded by mu_
};

class StreamTableReplicator final : public TableReplicator {
 public:
  StreamTableReplicator(TableReplicatorOptions options, connectors::StreamSource& source,
                        std::unique_ptr<ReplicationApi> source_api,
                        std::unique_ptr<ReplicationApi> target)
      : core_(std::move(options), std::move(source_api), std::move(target)),
        source_(source),
        // A Kafka reader commits its offsets after each batch; a target position behind
        // the commit makes it read the partition again from the start: store every batch.
        positions_(core_, source.kind() == connectors::StreamSource::Kind::kKafka
                              ? milliseconds(0)
                              : core_.options().skipped_checkpoint_interval) {
    supervisor_ = std::thread([this] { Supervise(); });
  }

  ~StreamTableReplicator() override { Stop(); }

  void Stop() override {
    core_.stop().Stop();  // first: a handler retrying an apply gives up
    if (supervisor_.joinable()) supervisor_.join();
  }

 private:
  const std::string& table() const { return core_.table(); }

  // "<group_id>.<table>", or from the two regions; "" when stopped first.
  std::string ReaderName() {
    const TableReplicatorOptions& options = core_.options();
    if (!options.group_id.empty()) return options.group_id + "." + table();
    std::string target_region;
    if (!core_.Retry("describe_table", [&] {
          auto region = core_.target().Region(TableName(table()));
          if (region.ok()) target_region = *region;
          return region.status();
        })) {
      return "";
    }
    return "tidewater-replicator." + core_.source_region() + ".to." + target_region + "." + table();
  }

  void Supervise() {
    if (!core_.Begin()) return;  // the reader reads the positions from the target
    const TableReplicatorOptions& options = core_.options();
    streams::ConsumerOptions reader_options;
    reader_options.table = table();
    reader_options.application = ReaderName();
    if (reader_options.application.empty()) return;  // stopped
    reader_options.starting_position = streams::StartingPosition::kTrimHorizon;
    reader_options.max_batch_records = options.max_batch_records;
    reader_options.retry_backoff_initial = options.initial_backoff;
    reader_options.retry_backoff_max = options.max_backoff;
    reader_options.checkpoints = &positions_;
    reader_options.clock = options.clock;
    reader_options.on_read_error = [this](std::string_view operation, const Status& status) {
      core_.Error(operation, status);
    };
    const bool kafka = source_.kind() == connectors::StreamSource::Kind::kKafka;
    std::unique_ptr<streams::StreamReader> reader;
    // Starting a Streams reader lists the shards first.
    if (!core_.Retry(kafka ? "kafka_consumer" : "list_shards", [&] {
          auto opened = source_.OpenReader(
              reader_options,
              [this](const streams::ShardBatch& batch) { return positions_.Handle(batch); });
          if (!opened.ok()) return opened.status();
          TW_RETURN_IF_ERROR((*opened)->Start());
          reader = std::move(*opened);
          return Status::Ok();
        })) {
      return;
    }
    spdlog::info("event=reader_started table={} source={} reader={}", table(),
                 connectors::StreamSource::KindName(source_.kind()), reader_options.application);
    const ProgressReport report{reader_options.application, SourceCreationMicros()};
    while (core_.stop().SleepFor(options.shard_refresh_interval)) {
      positions_.StoreIdleSkipped(options.shard_refresh_interval);
      const std::vector<streams::ConsumerShardStatus> progress = reader->Progress();
      ReportLag(progress);
      ReportProgress(report, progress);
    }
    reader->Stop();
    positions_.StoreAllSkipped();
  }

  // What the progress reports name: this reader, and the source table's creation time
  // (0: not known), from which the source shards' ids follow.
  struct ProgressReport {
    std::string replicator;
    int64_t source_creation_micros = 0;
  };

  int64_t SourceCreationMicros() {
    auto identity = source_.DescribeTable(table());
    return identity.ok() && identity->has_value() ? (*identity)->creation_time_micros : 0;
  }

  // Tells the target how far this replicator is (for `tidewater lag` there). Best effort:
  // a report that fails is only logged, the next one follows a refresh interval later.
  void ReportProgress(const ProgressReport& report,
                      const std::vector<streams::ConsumerShardStatus>& progress) {
    v1::ReplicatorProgress message;
    message.set_table(table());
    message.set_source_region(core_.source_region());
    message.set_replicator(report.replicator);
    for (const streams::ConsumerShardStatus& shard : progress) {
      if (!shard.held) continue;
      v1::ReplicatorShardProgress* out = message.add_shards();
      out->set_shard(shard.shard.value());
      if (report.source_creation_micros != 0) {
        out->set_shard_id(streams::ShardId(report.source_creation_micros, shard.shard));
      }
      out->set_next_sequence(shard.next_sequence.value());
      out->set_last_sequence_known(shard.last_sequence.has_value());
      if (shard.last_sequence) out->set_last_sequence(shard.last_sequence->value());
      out->set_iterator_age_millis(shard.iterator_age_millis);
    }
    if (message.shards_size() == 0) return;
    if (Status sent = core_.target().ReportProgress(message); !sent.ok()) {
      spdlog::debug("event=progress_report_failed table={} error={}", table(), sent.ToString());
    }
  }

  void ReportLag(const std::vector<streams::ConsumerShardStatus>& progress) {
    ReplicatorMetrics* metrics = core_.options().metrics;
    if (metrics == nullptr) return;
    for (const streams::ConsumerShardStatus& shard : progress) {
      if (!shard.held) continue;
      const double age = static_cast<double>(shard.iterator_age_millis);
      if (const std::optional<uint64_t> behind = shard.RecordsBehind()) {
        metrics->SetLag(table(), shard.shard, *behind, age);
      } else {
        metrics->SetLagMilliseconds(table(), shard.shard, age);  // Kafka: ends not known
      }
    }
  }

  ReplicationCore core_;
  connectors::StreamSource& source_;
  TargetPositions positions_;
  std::thread supervisor_;
};

}  // namespace

std::unique_ptr<TableReplicator> TableReplicator::Start(TableReplicatorOptions options,
                                                        connectors::StreamSource& source,
                                                        std::unique_ptr<ReplicationApi> source_api,
                                                        std::unique_ptr<ReplicationApi> target) {
  return std::make_unique<StreamTableReplicator>(std::move(options), source, std::move(source_api),
                                                 std::move(target));
}

}  // namespace tidewater::replicator
