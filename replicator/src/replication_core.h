// What a TableReplicator does besides reading the source's changes: resolve the source
// region, read the target's checkpoints, copy the table when there are none (catch-up),
// turn source records into batches of the source region's changes, and apply them with
// retries and metrics.
//
// Thread safety: Apply/Retry/MakeBatch/Error may be called from several threads once
// Begin returned; Begin is called once, from one thread, before them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stop_signal.h"
#include "tidewater/replicator/replication_api.h"
#include "tidewater/replicator/table_replicator.h"

namespace tidewater::replicator {

class ReplicationCore {
 public:
  // `source_api` may be null (a Kafka source without the source's URL): then the source
  // region must be in the options, and a target without checkpoints cannot be caught up.
  ReplicationCore(TableReplicatorOptions options, std::unique_ptr<ReplicationApi> source_api,
                  std::unique_ptr<ReplicationApi> target);

  const TableReplicatorOptions& options() const { return options_; }
  const std::string& table() const { return options_.table; }
  // Set by Begin.
  const std::string& source_region() const { return source_region_; }
  ReplicationApi& target() { return *target_; }
  StopSignal& stop() { return stop_; }

  // Resolves the source region, reads the target's checkpoints and, when it holds none,
  // copies the table (which stores the positions to follow from). False when stopped
  // first, or when a copy is needed and there is no source API (logged as an error).
  bool Begin();

  // Logs a failed call and counts it in the errors metric.
  void Error(std::string_view operation, const Status& status);

  // Calls `attempt` until it returns ok, with capped exponential backoff; false when
  // stopped first.
  template <typename Attempt>
  bool Retry(std::string_view operation, Attempt&& attempt) {
    Backoff backoff(options_.initial_backoff, options_.max_backoff);
    while (!stop_.stopped()) {
      const Status status = attempt();
      if (status.ok()) return true;
      Error(operation, status);
      if (!stop_.SleepFor(backoff.Next())) return false;
    }
    return false;
  }

  // Applies `batch` to the target until it succeeds (metrics, on_applied); false when
  // stopped first (the batch may or may not be applied: it is sent again later).
  bool ApplyWithRetry(const v1::ReplicationBatch& batch);

  // An empty batch of the table from the source region.
  v1::ReplicationBatch NewBatch() const;

  // A batch of the records that originated in the source region (in order), counting
  // the others as skipped (not_origin). No checkpoint set.
  v1::ReplicationBatch OriginBatch(const std::vector<ChangeRecord>& records);

 private:
  bool CatchUp(ShardPositions* positions);

  const TableReplicatorOptions options_;
  const std::unique_ptr<ReplicationApi> source_api_;
  const std::unique_ptr<ReplicationApi> target_;
  std::string source_region_;
  StopSignal stop_{options_.clock};
};

}  // namespace tidewater::replicator
