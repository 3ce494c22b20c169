#include "tidewater/replicator/table_replicator.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <thread>
#include <utility>

#include "stop_signal.h"

namespace tidewater::replicator {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the supervisor and a shard's thread share.
struct ShardState {
  std::atomic<uint64_t> last_written{0};  // from the latest shard listing
  std::atomic<bool> finished{false};      // the shard ended and every record was handled
  std::thread thread;
};

class TableReplicatorImpl final : public TableReplicator {
 public:
  TableReplicatorImpl(TableReplicatorOptions options, std::unique_ptr<streams::ChangeSource> source,
                      std::unique_ptr<ReplicationApi> source_api,
                      std::unique_ptr<ReplicationApi> target)
      : options_(std::move(options)),
        source_(std::move(source)),
        source_api_(std::move(source_api)),
        target_(std::move(target)) {
    supervisor_ = std::thread([this] { Supervise(); });
  }

  ~TableReplicatorImpl() override { Stop(); }

  void Stop() override {
    stop_.Stop();
    if (supervisor_.joinable()) supervisor_.join();
  }

 private:
  const std::string& table() const { return options_.table; }

  void Error(const char* operation, const Status& status) {
    if (options_.metrics != nullptr) options_.metrics->Error(table(), operation);
    spdlog::warn("event=replication_error table={} source_region={} operation={} error=\"{}\"",
                 table(), source_region_, operation, status.ToString());
  }

  // Calls `attempt` until it returns ok; false when stopped first.
  template <typename Attempt>
  bool Retry(const char* operation, Attempt&& attempt) {
    Backoff backoff(options_.initial_backoff, options_.max_backoff);
    while (!stop_.stopped()) {
      const Status status = attempt();
      if (status.ok()) return true;
      Error(operation, status);
      if (!stop_.SleepFor(backoff.Next())) return false;
    }
    return false;
  }

  bool ApplyWithRetry(const v1::ReplicationBatch& batch) {
    v1::ReplicationApplyResult result;
    const bool applied = Retry("apply", [&] {
      auto answer = target_->Apply(batch);
      if (answer.ok()) result = *answer;
      return answer.status();
    });
    if (!applied) return false;
    if (options_.metrics != nullptr) {
      options_.metrics->Applied(table(), result.applied(), result.skipped());
      const int64_t now = NowMicros();
      for (const ChangeRecord& change : batch.changes()) {
        if (change.approximate_creation_time_micros() > 0) {
          options_.metrics->Latency(
              table(), static_cast<double>(now - change.approximate_creation_time_micros()) / 1e6);
        }
      }
    }
    if (options_.on_applied) options_.on_applied(batch);
    return true;
  }

  v1::ReplicationBatch NewBatch() const {
    v1::ReplicationBatch batch;
    batch.set_table(table());
    batch.set_source_region(source_region_);
    return batch;
  }

  void Supervise() {
    source_region_ = options_.source_region;
    if (source_region_.empty() && !Retry("describe_table", [&] {
          auto region = source_api_->Region(table());
          if (region.ok()) source_region_ = *region;
          return region.status();
        })) {
      return;
    }
    ShardPositions positions;
    if (!Retry("get_checkpoints", [&] {
          auto stored = target_->GetCheckpoints(table(), source_region_);
          if (stored.ok()) positions = std::move(*stored);
          return stored.status();
        })) {
      return;
    }
    if (positions.empty()) {
      spdlog::info("event=catch_up_started table={} source_region={}", table(), source_region_);
      if (!CatchUp(&positions)) return;
    }
    spdlog::info("event=following table={} source_region={} shards={}", table(), source_region_,
                 positions.size());

    std::map<uint32_t, std::unique_ptr<ShardState>> shards;
    Backoff backoff(options_.initial_backoff, options_.max_backoff);
    while (!stop_.stopped()) {
      auto listed = source_->ListShards();
      if (!listed.ok()) {
        Error("list_shards", listed.status());
        stop_.SleepFor(backoff.Next());
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
      stop_.SleepFor(options_.shard_refresh_interval);
    }
    for (auto& [index, state] : shards) {
      if (state->thread.joinable()) state->thread.join();
    }
  }

  // Copies the table with a consistent scan; on success `positions` holds the scan's
  // per-shard positions, also stored in the target.
  bool CatchUp(ShardPositions* positions) {
    std::string token;
    ShardPositions start;
    uint64_t copied = 0;
    do {
      SnapshotPage page;
      if (!Retry("snapshot_scan", [&] {
            auto answer = source_api_->SnapshotScan(table(), token);
            if (answer.ok()) {
              page = std::move(*answer);
            } else if (!token.empty() && answer.status().code() == ErrorCode::kValidation) {
              // The scan's page token expired (the target was down for long): start over.
              // Items already copied carry their versions, so copying them again is safe.
              token.clear();
              start.clear();
            }
            return answer.status();
          })) {
        return false;
      }
      if (token.empty()) start = page.positions;
      for (size_t begin = 0; begin < page.items.size(); begin += options_.max_batch_records) {
        const size_t end = std::min(page.items.size(), begin + options_.max_batch_records);
        v1::ReplicationBatch batch = NewBatch();
        for (size_t i = begin; i < end; ++i) *batch.add_changes() = std::move(page.items[i]);
        if (!ApplyWithRetry(batch)) return false;
      }
      copied += page.items.size();
      if (options_.metrics != nullptr) options_.metrics->SnapshotItems(table(), page.items.size());
      token = std::move(page.next_page_token);
    } while (!token.empty());
    // The copy is complete: only now store the positions (a copy interrupted before this
    // point starts over on restart).
    for (const auto& [shard, next_sequence] : start) {
      v1::ReplicationBatch batch = NewBatch();
      batch.mutable_checkpoint()->set_shard(shard);
      batch.mutable_checkpoint()->set_next_sequence(next_sequence);
      if (!ApplyWithRetry(batch)) return false;
    }
    spdlog::info("event=catch_up_done table={} source_region={} items={}", table(), source_region_,
                 copied);
    *positions = std::move(start);
    return true;
  }

  void ReportLag(uint32_t shard, uint64_t position, const ShardState& state,
                 const streams::ChangeBatch& batch) {
    if (options_.metrics == nullptr) return;
    const uint64_t last = std::max(state.last_written.load(), position - 1);
    double age_ms = 0;
    if (!batch.records.empty()) {
      age_ms = static_cast<double>(NowMicros() -
                                   batch.records.back().approximate_creation_time_micros()) /
               1e3;
    }
    options_.metrics->SetLag(table(), shard, last - (position - 1), std::max(0.0, age_ms));
  }

  void Follow(uint32_t shard, uint64_t position, ShardState& state) {
    uint64_t stored = position;  // the position the target holds
    Clock::time_point stored_at = Clock::now();
    Backoff backoff(options_.initial_backoff, options_.max_backoff);
    while (!stop_.stopped()) {
      auto read = source_->Read(shard, position, options_.max_batch_records, options_.read_wait);
      if (!read.ok()) {
        // Includes TrimmedDataAccess: the shard's records before the trim horizon are
        // gone and the replica misses them. Never skip silently: report and retry.
        Error("read", read.status());
        stop_.SleepFor(backoff.Next());
        continue;
      }
      backoff.Reset();
      v1::ReplicationBatch batch = NewBatch();
      uint64_t not_origin = 0;
      for (ChangeRecord& record : read->records) {
        if (record.origin_region() == source_region_) {
          *batch.add_changes() = record;
        } else {
          ++not_origin;
        }
      }
      if (not_origin > 0 && options_.metrics != nullptr) {
        options_.metrics->SkippedNotOrigin(table(), not_origin);
      }
      const uint64_t next = read->next_sequence;
      const bool store =
          batch.changes_size() > 0 ||
          (next != stored && (read->records.empty() || read->end_of_shard ||
                              Clock::now() - stored_at >= options_.skipped_checkpoint_interval));
      if (store) {
        batch.mutable_checkpoint()->set_shard(shard);
        batch.mutable_checkpoint()->set_next_sequence(next);
        if (!ApplyWithRetry(batch)) break;  // stopped
        stored = next;
        stored_at = Clock::now();
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
      v1::ReplicationBatch batch = NewBatch();
      batch.mutable_checkpoint()->set_shard(shard);
      batch.mutable_checkpoint()->set_next_sequence(position);
      if (!target_->Apply(batch).ok()) {
        spdlog::info("event=checkpoint_not_stored table={} shard={}", table(), shard);
      }
    }
  }

  const TableReplicatorOptions options_;
  const std::unique_ptr<streams::ChangeSource> source_;
  const std::unique_ptr<ReplicationApi> source_api_;
  const std::unique_ptr<ReplicationApi> target_;
  std::string source_region_;  // set by the supervisor before the shard threads start
  StopSignal stop_;
  std::thread supervisor_;
};

}  // namespace

std::unique_ptr<TableReplicator> TableReplicator::Start(
    TableReplicatorOptions options, std::unique_ptr<streams::ChangeSource> source,
    std::unique_ptr<ReplicationApi> source_api, std::unique_ptr<ReplicationApi> target) {
  return std::make_unique<TableReplicatorImpl>(std::move(options), std::move(source),
                                               std::move(source_api), std::move(target));
}

}  // namespace tidewater::replicator
