#include "tidewater/replicator/table_replicator.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <thread>
#include <utility>

#include "replication_core.h"

namespace tidewater::replicator {
namespace {

// What the supervisor and a shard's thread share.
struct ShardState {
  std::atomic<uint64_t> last_written{0};  // from the latest shard listing
  std::atomic<bool> finished{false};      // the shard ended and every record was handled
  std::thread thread;
};

class StreamsTableReplicator final : public TableReplicator {
 public:
  StreamsTableReplicator(TableReplicatorOptions options,
                         std::unique_ptr<streams::ChangeSource> source,
                         std::unique_ptr<ReplicationApi> source_api,
                         std::unique_ptr<ReplicationApi> target)
      : core_(std::move(options), std::move(source_api), std::move(target)),
        options_(core_.options()),
        source_(std::move(source)) {
    supervisor_ = std::thread([this] { Supervise(); });
  }

  ~StreamsTableReplicator() override { Stop(); }

  void Stop() override {
    core_.stop().Stop();
    if (supervisor_.joinable()) supervisor_.join();
  }

 private:
  const std::string& table() const { return core_.table(); }

  void Supervise() {
    std::optional<ShardPositions> begun = core_.Begin();
    if (!begun) return;
    const ShardPositions positions = std::move(*begun);
    StopSignal& stop = core_.stop();
    std::map<uint32_t, std::unique_ptr<ShardState>> shards;
    Backoff backoff(options_.initial_backoff, options_.max_backoff);
    while (!stop.stopped()) {
      auto listed = source_->ListShards();
      if (!listed.ok()) {
        core_.Error("list_shards", listed.status());
        stop.SleepFor(backoff.Next());
        continue;
      }
      backoff.Reset();
      for (const streams::SourceShard& shard : *listed) {
        auto& state = shards[shard.index];
        if (state == nullptr) state = std::make_unique<ShardState>();
        state->last_written = shard.last_sequence;
        if (state->thread.joinable()) continue;
        // A child waits until its parent ended (a parent no longer listed was trimmed).
        if (shard.parent) {
          auto parent = shards.find(*shard.parent);
          if (parent != shards.end() && !parent->second->finished) continue;
        }
        const auto stored = positions.find(shard.index);
        const uint64_t from = stored == positions.end() ? 1 : stored->second;
        state->thread = std::thread(
            [this, index = shard.index, from, raw = state.get()] { Follow(index, from, *raw); });
      }
      stop.SleepFor(options_.shard_refresh_interval);
    }
    for (auto& [index, state] : shards) {
      if (state->thread.joinable()) state->thread.join();
    }
  }

  void ReportLag(uint32_t shard, uint64_t position, const ShardState& state,
                 const streams::ChangeBatch& batch) {
    if (options_.metrics == nullptr) return;
    const uint64_t last = std::max(state.last_written.load(), position - 1);
    double age_ms = 0;
    if (!batch.records.empty()) {
      age_ms = static_cast<double>(options_.clock->NowMicros() -
                                   batch.records.back().approximate_creation_time_micros()) /
               1e3;
    }
    options_.metrics->SetLag(table(), shard, last - (position - 1), std::max(0.0, age_ms));
  }

  void Follow(uint32_t shard, uint64_t position, ShardState& state) {
    uint64_t stored = position;  // the position the target holds
    Clock& clock = *options_.clock;
    Clock::MonotonicTime stored_at = clock.MonotonicNow();
    Backoff backoff(options_.initial_backoff, options_.max_backoff);
    StopSignal& stop = core_.stop();
    while (!stop.stopped()) {
      auto read = source_->Read(shard, position, options_.max_batch_records, options_.read_wait);
      if (!read.ok()) {
        // Includes TrimmedDataAccess: the shard's records before the trim horizon are
        // gone and the replica misses them. Never skip silently: report and retry.
        core_.Error("read", read.status());
        stop.SleepFor(backoff.Next());
        continue;
      }
      backoff.Reset();
      v1::ReplicationBatch batch = core_.OriginBatch(read->records);
      const uint64_t next = read->next_sequence;
      const bool store = batch.changes_size() > 0 ||
                         (next != stored && (read->records.empty() || read->end_of_shard ||
                                             clock.MonotonicNow() - stored_at >=
                                                 options_.skipped_checkpoint_interval));
      if (store) {
        batch.mutable_checkpoint()->set_shard(shard);
        batch.mutable_checkpoint()->set_next_sequence(next);
        if (!core_.ApplyWithRetry(batch)) break;  // stopped
        stored = next;
        stored_at = clock.MonotonicNow();
      }
      position = next;
      ReportLag(shard, position, state, *read);
      if (read->end_of_shard && stored == position) {
        state.finished = true;
        spdlog::info("event=shard_finished table={} shard={}", table(), shard);
        return;
      }
    }
    if (stored != position) {
      // Skipped records' position, stored once if the target answers (else they are
      // read and skipped again after a restart).
      v1::ReplicationBatch batch = core_.NewBatch();
      batch.mutable_checkpoint()->set_shard(shard);
      batch.mutable_checkpoint()->set_next_sequence(position);
      if (!core_.target().Apply(batch).ok()) {
        spdlog::info("event=checkpoint_not_stored table={} shard={}", table(), shard);
      }
    }
  }

  ReplicationCore core_;
  const TableReplicatorOptions& options_;  // core_'s
  const std::unique_ptr<streams::ChangeSource> source_;
  std::thread supervisor_;
};

}  // namespace

std::unique_ptr<TableReplicator> TableReplicator::Start(
    TableReplicatorOptions options, std::unique_ptr<streams::ChangeSource> source,
    std::unique_ptr<ReplicationApi> source_api, std::unique_ptr<ReplicationApi> target) {
  return std::make_unique<StreamsTableReplicator>(std::move(options), std::move(source),
                                                  std::move(source_api), std::move(target));
}

}  // namespace tidewater::replicator
