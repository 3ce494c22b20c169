// One direction of one global table: the changes of `table` that originated in the source
// region, from the source's change stream (its Streams API, or the Kafka topic its
// publisher writes) into the target.
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
//  * From Kafka: the same, exactly-once too. The consumer's position of each partition
//    (= source shard) is the target's checkpoint (read when the partition is assigned;
//    the group's committed offsets only save re-reading), each batch is applied with the
//    checkpoint after its last record, and a batch that was not applied is delivered
//    again. The copy for catch-up still needs the source's API (`source_api`).
//
// Threads: one supervisor thread, plus one thread per shard being followed (Streams) or
// the Kafka consumer's thread.
// Thread safety: Stop and the destructor may be called from any one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "tidewater/core/clock.h"
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
  // How often the shard list is refreshed (new shards, lag in records); with Kafka, how
  // often the lag gauges are updated.
  std::chrono::milliseconds shard_refresh_interval{1'000};
  // A shard whose records were all skipped (not originated in the source region) stores
  // its position at most this often: re-reading skipped records after a restart is
  // harmless, and this keeps the target from writing a checkpoint per read.
  std::chrono::milliseconds skipped_checkpoint_interval{1'000};
  ReplicatorMetrics* metrics = nullptr;  // optional; not owned, must outlive the replicator
  // Times backoff, refresh and checkpoint intervals (its monotonic reading) and replication
  // latency and lag (its wall time). Not owned; must outlive the replicator.
  Clock* clock = Clock::System();
  // Optional: called after each successful apply with the changes it carried (from the
  // shard's thread). Benchmarks measure replication latency with it.
  std::function<void(const v1::ReplicationBatch& batch)> on_applied;
};

// A source region's Kafka topics, as its tidewaterd's publisher writes them
// (connectors/kafka_publisher.h) in the Protobuf format: the JSON format carries no item
// versions and cannot be replicated.
struct KafkaSourceOptions {
  std::string brokers;                      // bootstrap servers, "HOST:PORT,..."; required
  std::string topic_prefix = "tidewater.";  // the table's topic is prefix + table
  // The consumer group is "<group_id>.<table>". Empty: "tidewater-replicator.<source
  // region>.to.<target region>" (the target's region from its DescribeTable), so that
  // replicators into different targets never share a group.
  std::string group_id;
  std::map<std::string, std::string> properties;  // librdkafka properties passed through
};

class TableReplicator {
 public:
  // Starts the threads and returns at once. `source` reads the source's stream of the
  // table, `source_api` scans it for catch-up, `target` receives the changes.
  static std::unique_ptr<TableReplicator> Start(TableReplicatorOptions options,
                                                std::unique_ptr<streams::ChangeSource> source,
                                                std::unique_ptr<ReplicationApi> source_api,
                                                std::unique_ptr<ReplicationApi> target);
  // The same, reading the source's changes from its Kafka topic. `source_api` (optional)
  // copies the table when the target holds no checkpoint of the source region, and names
  // the source region when the options do not; without it, options.source_region is
  // required and a target without checkpoints is not replicated into (logged as an error).
  static std::unique_ptr<TableReplicator> StartFromKafka(TableReplicatorOptions options,
                                                         KafkaSourceOptions kafka,
                                                         std::unique_ptr<ReplicationApi> source_api,
                                                         std::unique_ptr<ReplicationApi> target);
  virtual ~TableReplicator() = default;

  // Stops every thread and returns when they are done. Positions of skipped records not
  // yet stored are stored first (when the target answers). Idempotent.
  virtual void Stop() = 0;
};

}  // namespace tidewater::replicator
