// One direction of one global table: the changes of `table` that originated in the source
// region, from the source's change stream into the target.
//
// Guarantees:
//  * Stateless: positions live in the target (ApplyReplicationBatch stores the checkpoint
//    with the changes in one WriteBatch), and a new TableReplicator resumes from them.
//  * Nothing skipped: a failed read or apply is retried with backoff (capped) until it
//    succeeds or Stop is called; a shard never moves past a record that was not applied
//    or, for changes of another origin, deliberately skipped.
//  * Per source shard, changes reach the target in sequence order; a child shard is read
//    only after its parent ended.
//  * Catch-up: when the target holds no checkpoint of the source region for the table,
//    the table is first copied with a consistent scan of the source, then each shard is
//    followed from the scan's position, so nothing written during the copy is lost.
//    Re-running an interrupted copy is safe (each item carries its version).
//
// Threads: one supervisor thread and one thread per shard being followed.
// Thread safety: Stop and the destructor may be called from any one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tidewater/replicator/replication_api.h"
#include "tidewater/replicator/replicator_metrics.h"
#include "tidewater/streams/change_source.h"

namespace tidewater::replicator {

struct TableReplicatorOptions {
  std::string table;
  // Forward only changes whose origin is this region. Empty: the source's own region
  // (ReplicationApi::Region of the source).
  std::string source_region;
  size_t max_batch_records = 500;
  // How long a shard read waits for new records before returning empty.
  std::chrono::milliseconds read_wait{100};
  std::chrono::milliseconds initial_backoff{50};
  std::chrono::milliseconds max_backoff{2'000};
  // How often the shard list is refreshed (new shards, lag in records).
  std::chrono::milliseconds shard_refresh_interval{1'000};
  // A shard whose records were all skipped (not originated in the source region) stores
  // its position at most this often: re-reading skipped records after a restart is
  // harmless, and this keeps the target from writing a checkpoint per read.
  std::chrono::milliseconds skipped_checkpoint_interval{1'000};
  ReplicatorMetrics* metrics = nullptr;  // optional; not owned, must outlive the replicator
  // Optional: called after each successful apply with the changes it carried (from the
  // shard's thread). Benchmarks measure replication latency with it.
  std::function<void(const v1::ReplicationBatch& batch)> on_applied;
};

class TableReplicator {
 public:
  // Starts the threads and returns at once. `source` reads the source's stream of the
  // table, `source_api` scans it for catch-up, `target` receives the changes.
  static std::unique_ptr<TableReplicator> Start(TableReplicatorOptions options,
                                                std::unique_ptr<streams::ChangeSource> source,
                                                std::unique_ptr<ReplicationApi> source_api,
                                                std::unique_ptr<ReplicationApi> target);
  virtual ~TableReplicator() = default;

  // Stops every thread and returns when they are done. Positions of skipped records not
  // yet stored are stored first (when the target answers). Idempotent.
  virtual void Stop() = 0;
};

}  // namespace tidewater::replicator
