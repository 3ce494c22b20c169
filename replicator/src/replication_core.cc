#include "replication_core.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "tidewater/core/failure_point.h"
#include "tidewater/core/progress_meter.h"

namespace tidewater::replicator {

ReplicationCore::ReplicationCore(TableReplicatorOptions options,
                                 std::unique_ptr<ReplicationApi> source_api,
                                 std::unique_ptr<ReplicationApi> target)
    : options_(std::move(options)),
      source_api_(std::move(source_api)),
      target_(std::move(target)) {}

void ReplicationCore::Error(std::string_view operation, const Status& status) {
  if (options_.metrics != nullptr) options_.metrics->Error(table(), std::string(operation));
  spdlog::warn("event=replication_error table={} source_region={} operation={} error=\"{}\"",
               table(), source_region_, operation, status.ToString());
}

bool ReplicationCore::ApplyWithRetry(const v1::ReplicationBatch& batch) {
  v1::ReplicationApplyResult result;
  TW_FAILURE_POINT("replicator.before_apply");
  const bool applied = Retry("apply", [&] {
    auto answer = target_->Apply(batch);
    if (answer.ok()) result = *answer;
    return answer.status();
  });
  if (!applied) return false;
  // The target holds the batch and its checkpoint; nothing else of it is done yet.
  TW_FAILURE_POINT("replicator.after_apply");
  if (options_.metrics != nullptr) {
    options_.metrics->Applied(table(), result.applied(), result.skipped(), result.duplicates());
    const int64_t now = options_.clock->NowMicros();
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

v1::ReplicationBatch ReplicationCore::NewBatch() const {
  v1::ReplicationBatch batch;
  batch.set_table(table());
  batch.set_source_region(source_region_);
  return batch;
}

v1::ReplicationBatch ReplicationCore::OriginBatch(const std::vector<ChangeRecord>& records) {
  v1::ReplicationBatch batch = NewBatch();
  uint64_t not_origin = 0;
  for (const ChangeRecord& record : records) {
    if (record.origin_region() == source_region_) {
      *batch.add_changes() = record;
    } else {
      ++not_origin;
    }
  }
  if (not_origin > 0 && options_.metrics != nullptr) {
    options_.metrics->SkippedNotOrigin(table(), not_origin);
  }
  return batch;
}

bool ReplicationCore::Begin() {
  source_region_ = options_.source_region;
  if (source_region_.empty()) {
    if (source_api_ == nullptr) {
      spdlog::error("event=replication_not_started table={} error=\"no source region given\"",
                    table());
      return false;
    }
    if (!Retry("describe_table", [&] {
          auto region = source_api_->Region(TableName(table()));
          if (region.ok()) source_region_ = *region;
          return region.status();
        })) {
      return false;
    }
  }
  ShardPositions positions;
  if (!Retry("get_checkpoints", [&] {
        auto stored = target_->GetCheckpoints(TableName(table()), source_region_);
        if (stored.ok()) positions = std::move(*stored);
        return stored.status();
      })) {
    return false;
  }
  if (positions.empty()) {
    if (source_api_ == nullptr) {
      spdlog::error(
          "event=catch_up_impossible table={} source_region={} error=\"the target holds no "
          "checkpoint of the source region: the table must first be copied from the source's "
          "tidewaterd (give its URL with --source)\"",
          table(), source_region_);
      return false;
    }
    spdlog::info("event=catch_up_started table={} source_region={}", table(), source_region_);
    if (!CatchUp(&positions)) return false;
  }
  spdlog::info("event=following table={} source_region={} shards={}", table(), source_region_,
               positions.size());
  return true;
}

bool ReplicationCore::CatchUp(ShardPositions* positions) {
  std::string token;
  ShardPositions start;
  ProgressMeter progress = ProgressMeter::ForLines(
      {.unit = "items", .clock = options_.clock}, [this](const std::string& line) {
        spdlog::info("event=catch_up_progress table={} source_region={} progress=\"{}\"", table(),
                     source_region_, line);
      });
  if (auto count = source_api_->ApproximateItemCount(TableName(table())); count.ok()) {
    progress.SetTotal(*count);
  }
  do {
    SnapshotPage page;
    if (!Retry("snapshot_scan", [&] {
          auto answer = source_api_->SnapshotScan(TableName(table()), token);
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
    progress.Advance(page.items.size());
    if (options_.metrics != nullptr) options_.metrics->SnapshotItems(table(), page.items.size());
    token = std::move(page.next_page_token);
  } while (!token.empty());
  // The copy is complete: only now store the positions (a copy interrupted before this
  // point starts over on restart).
  for (const auto& [shard, next_sequence] : start) {
    v1::ReplicationBatch batch = NewBatch();
    batch.mutable_checkpoint()->set_shard(shard.value());
    batch.mutable_checkpoint()->set_next_sequence(next_sequence.value());
    if (!ApplyWithRetry(batch)) return false;
  }
  progress.Finish();
  spdlog::info("event=catch_up_done table={} source_region={} items={}", table(), source_region_,
               progress.done());
  *positions = std::move(start);
  return true;
}

}  // namespace tidewater::replicator
