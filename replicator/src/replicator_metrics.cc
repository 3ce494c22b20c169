#include "tidewater/replicator/replicator_metrics.h"

namespace tidewater::replicator {

ReplicatorMetrics::ReplicatorMetrics(prometheus::Registry& registry)
    : lag_records_(prometheus::BuildGauge()
                       .Name("tidewater_replication_lag_records")
                       .Help("Records of the source shard not yet replicated")
                       .Register(registry)),
      lag_milliseconds_(prometheus::BuildGauge()
                            .Name("tidewater_replication_lag_milliseconds")
                            .Help("Age of the oldest source record not yet replicated (0: "
                                  "caught up), from the source's commit time")
                            .Register(registry)),
      applied_(prometheus::BuildCounter()
                   .Name("tidewater_replication_applied_total")
                   .Help("Changes written in the target")
                   .Register(registry)),
      skipped_(prometheus::BuildCounter()
                   .Name("tidewater_replication_skipped_total")
                   .Help("Changes not written: older than the target's version, or not "
                         "originated in the source region")
                   .Register(registry)),
      snapshot_items_(prometheus::BuildCounter()
                          .Name("tidewater_replication_snapshot_items_total")
                          .Help("Items copied by catch-up scans")
                          .Register(registry)),
      errors_(prometheus::BuildCounter()
                  .Name("tidewater_replication_errors_total")
                  .Help("Failed calls to the source or the target (each one retried)")
                  .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("tidewater_replication_latency_seconds")
                   .Help("From the source's commit of a change to its apply in the target")
                   .Register(registry)) {}

void ReplicatorMetrics::SetLag(const std::string& table, ShardIndex shard, uint64_t records,
                               double milliseconds) {
  const prometheus::Labels labels{{"table", table}, {"shard", std::to_string(shard.value())}};
  lag_records_.Add(labels).Set(static_cast<double>(records));
  lag_milliseconds_.Add(labels).Set(milliseconds);
}

void ReplicatorMetrics::SetLagMilliseconds(const std::string& table, ShardIndex shard,
                                           double milliseconds) {
  lag_milliseconds_.Add({{"table", table}, {"shard", std::to_string(shard.value())}})
      .Set(milliseconds);
}

void ReplicatorMetrics::Applied(const std::string& table, uint64_t applied, uint64_t skipped_older,
                                uint64_t duplicates) {
  applied_.Add({{"table", table}}).Increment(static_cast<double>(applied));
  skipped_.Add({{"table", table}, {"reason", "older"}})
      .Increment(static_cast<double>(skipped_older));
  skipped_.Add({{"table", table}, {"reason", "duplicate"}})
      .Increment(static_cast<double>(duplicates));
}

void ReplicatorMetrics::SkippedNotOrigin(const std::string& table, uint64_t count) {
  skipped_.Add({{"table", table}, {"reason", "not_origin"}}).Increment(static_cast<double>(count));
}

void ReplicatorMetrics::SnapshotItems(const std::string& table, uint64_t count) {
  snapshot_items_.Add({{"table", table}}).Increment(static_cast<double>(count));
}

void ReplicatorMetrics::Error(const std::string& table, const std::string& operation) {
  errors_.Add({{"table", table}, {"operation", operation}}).Increment();
}

void ReplicatorMetrics::Latency(const std::string& table, double seconds) {
  prometheus::Histogram* histogram;
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = latency_by_table_.try_emplace(table, nullptr);
    if (inserted) {
      it->second = &latency_.Add({{"table", table}}, prometheus::Histogram::BucketBoundaries{
                                                         0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                         0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    }
    histogram = it->second;
  }
  histogram->Observe(seconds);
}

}  // namespace tidewater::replicator
