// One direction of one global table: the changes of `table` that originated in the source
// region, read from the source's change stream by a reader (connectors/stream_source.h:
// the source's Streams API, or the Kafka topic its publisher writes), applied to the
// target.
//
// Guarantees:
//  * Stateless: positions live in the target (ApplyReplicationBatch stores the checkpoint
//    with the changes in one WriteBatch), and a new TableReplicator resumes from them: the
//    reader's CheckpointStore is the target's checkpoints of the source region (read when
//    the reader takes a shard; with Kafka the group's committed offsets only save
//    re-reading), and its leases are kept in this process (open the source with
//    lease_table "").
//  * Nothing skipped: a failed read or apply is retried with backoff (capped) until it
//    succeeds or Stop is called; a shard never moves past a record that was not applied
//    or, for changes of another origin, deliberately skipped. A shard the target holds no
//    position of is read from its first record.
//  * Per source shard, changes reach the target in sequence order; a child shard is read
//    only after its parent ended.
//  * Catch-up: when the target holds no checkpoint of the source region for the table,
//    the table is first copied with a consistent scan of the source (`source_api`), then
//    each shard is followed from the scan's position, so nothing written during the copy
//    is lost. Re-running an interrupted copy is safe (each item carries its version).
//  * Each batch of changes is applied with the checkpoint after its last record. A batch
//    whose records all came from other regions stores its position at most every
//    skipped_checkpoint_interval (and when the shard goes idle, and at Stop); from Kafka
//    with every batch, since a target position behind the group's commit makes the reader
//    read the partition again from its start.
//  * A Kafka source must carry the Protobuf format: JSON records have no item versions.
//
// Threads: one supervisor thread (catch-up, then lag metrics and skipped positions), plus
// the reader's threads, which apply the batches.
// Thread safety: Stop and the destructor may be called from any one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tidewater/connectors/stream_source.h"
#include "tidewater/core/clock.h"
#include "tidewater/replicator/replication_api.h"
#include "tidewater/replicator/replicator_metrics.h"

namespace tidewater::replicator {

struct TableReplicatorOptions {
  std::string table;
  // Forward only changes whose origin is this region. Empty: the source's own region
  // (ReplicationApi::Region of the source).
  std::string source_region;
  size_t max_batch_records = 500;
  std::chrono::milliseconds initial_backoff{50};
  std::chrono::milliseconds max_backoff{2'000};
  // How often the lag gauges are updated and idle shards' skipped positions stored.
  std::chrono::milliseconds shard_refresh_interval{1'000};
  // A shard whose records were all skipped (not originated in the source region) stores
  // its position at most this often while records keep coming: re-reading skipped records
  // after a restart is harmless, and this keeps the target from writing a checkpoint per
  // batch. Not used with a Kafka source (see the file comment).
  std::chrono::milliseconds skipped_checkpoint_interval{1'000};
  // The reader's name (the Kafka consumer group) is "<group_id>.<table>". Empty:
  // "tidewater-replicator.<source region>.to.<target region>.<table>" (the target's region
  // from its DescribeTable), so that replicators into different targets never share a group.
  std::string group_id;
  ReplicatorMetrics* metrics = nullptr;  // optional; not owned, must outlive the replicator
  // Times backoff, refresh and checkpoint intervals (its monotonic reading) and replication
  // latency (its wall time); passed on to the reader. Not owned; must outlive the
  // replicator.
  Clock* clock = Clock::System();
  // Optional: called after each successful apply with the changes it carried (from a
  // reader thread). Benchmarks measure replication latency with it.
  std::function<void(const v1::ReplicationBatch& batch)> on_applied;
};

class TableReplicator {
 public:
  // Starts the supervisor and returns at once. `source` gives the reader of the source's
  // stream (not owned; must outlive the replicator); `source_api` (optional) scans the
  // source for catch-up and names the source region when the options do not; without it,
  // options.source_region is required and a target without checkpoints is not replicated
  // into (logged as an error). `target` receives the changes.
  static std::unique_ptr<TableReplicator> Start(TableReplicatorOptions options,
                                                connectors::StreamSource& source,
                                                std::unique_ptr<ReplicationApi> source_api,
                                                std::unique_ptr<ReplicationApi> target);
  virtual ~TableReplicator() = default;

  // Stops every thread and returns when they are done. Positions of skipped records not
  // yet stored are stored first (when the target answers). Idempotent.
  virtual void Stop() = 0;
};

}  // namespace tidewater::replicator
