// The replicator's Prometheus metrics. The replication code calls these methods; this
// class owns the prometheus-cpp families, registered in a registry it is given.
//
//   tidewater_replication_lag_records{table,shard}       records written in the source shard
//                                                        and not yet applied (or skipped)
//   tidewater_replication_lag_milliseconds{table,shard}  age (from the source's commit time)
//                                                        of the oldest record of the latest
//                                                        batch read; 0 when a read found
//                                                        nothing new (Kafka: of the oldest
//                                                        record received and not yet
//                                                        applied; lag_records is not set)
//   tidewater_replication_applied_total{table}           changes written in the target
//   tidewater_replication_skipped_total{table,reason}    reason="older": the target held a
//                                                        newer version (last writer wins);
//                                                        reason="not_origin": the change came
//                                                        to the source from another region;
//                                                        reason="duplicate": already applied
//                                                        (below the target's checkpoint)
//   tidewater_replication_snapshot_items_total{table}    items copied by catch-up scans
//   tidewater_replication_errors_total{table,operation}  failed calls (each one retried)
//   tidewater_replication_latency_seconds{table}         source commit -> applied in target
//
// Thread safety: every method is safe to call concurrently.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "tidewater/core/identifiers.h"

namespace tidewater::replicator {

class ReplicatorMetrics {
 public:
  // `registry` must outlive this object.
  explicit ReplicatorMetrics(prometheus::Registry& registry);

  void SetLag(const std::string& table, ShardIndex shard, uint64_t records, double milliseconds);
  // Only the age (a Kafka source does not tell the records behind).
  void SetLagMilliseconds(const std::string& table, ShardIndex shard, double milliseconds);
  void Applied(const std::string& table, uint64_t applied, uint64_t skipped_older,
               uint64_t duplicates);
  void SkippedNotOrigin(const std::string& table, uint64_t count);
  void SnapshotItems(const std::string& table, uint64_t count);
  void Error(const std::string& table, const std::string& operation);
  void Latency(const std::string& table, double seconds);

 private:
  prometheus::Family<prometheus::Gauge>& lag_records_;
  prometheus::Family<prometheus::Gauge>& lag_milliseconds_;
  prometheus::Family<prometheus::Counter>& applied_;
  prometheus::Family<prometheus::Counter>& skipped_;
  prometheus::Family<prometheus::Counter>& snapshot_items_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Histogram>& latency_;
  std::mutex mu_;  // Family::Add is thread-safe; mu_ guards the histogram lookups below
  std::map<std::string, prometheus::Histogram*> latency_by_table_;
};

}  // namespace tidewater::replicator
