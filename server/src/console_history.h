// The last hour of the server's key rates for the web console's charts, kept in memory:
// MetricHistory is a bounded ring of points; HistorySampler fills it from a thread of its
// own at a fixed interval (every 5 s keeps 720 points: one hour).
//
// A point holds the write rate (change records committed per second, over all tables,
// from the engine's shard sequence numbers) and the lags the server knows, each null when
// it has no such reader:
//  * the Kafka publisher's (tidewater_kafka_publisher_lag_records summed over shards, and
//    tidewater_kafka_publisher_lag_seconds, the largest over shards);
//  * the consumer applications' (records behind, summed over the leases in the server's
//    default lease table that have a checkpoint and are not finished);
//  * the replicators' writing into this server (their progress reports: records behind
//    their source summed over shards, and the largest age of an unapplied record).
//
// Thread safety: MetricHistory's methods may be called concurrently. HistorySampler's
// constructor takes the first reading (the rates' baseline) and starts the thread, which
// adds a point each interval; its destructor stops and joins the thread. The interval is
// measured by the given Clock (a ManualClock drives the sampler in tests).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "replicator_progress.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/thread_annotations.h"

namespace prometheus {
class Collectable;
}

namespace tidewater::server {

// What the server's counters read at one moment.
struct MetricReading {
  int64_t time_micros = 0;
  uint64_t records_written = 0;  // all tables' change records ever committed
  std::optional<double> kafka_lag_records;
  std::optional<double> kafka_lag_seconds;
  std::optional<double> consumer_lag_records;
  std::optional<double> replication_lag_records;
  std::optional<double> replication_lag_seconds;
};

class MetricHistory {
 public:
  explicit MetricHistory(size_t capacity) : capacity_(capacity) {}

  // Adds a point made of `reading` and the previous reading (the first reading only sets
  // the baseline of the rate). The oldest point goes once `capacity` are held.
  void Add(const MetricReading& reading);

  // {"points":[{"timeMicros":..,"writesPerSecond":..,"kafkaLagRecords":..|null,
  //   "kafkaLagSeconds":..|null,"consumerLagRecords":..|null,"replicationLagRecords":..|null,
  //   "replicationLagSeconds":..|null},...]}, oldest first.
  std::string Json() const;

 private:
  struct Point {
    int64_t time_micros;
    double writes_per_second;
    MetricReading lags;  // its lag members
  };

  const size_t capacity_;
  mutable Mutex mu_;
  std::optional<MetricReading> previous_ TW_GUARDED_BY(mu_);
  std::deque<Point> points_ TW_GUARDED_BY(mu_);
};

// Reads the engine's record counts, the lag gauges among `extra` (the /metrics
// collectables), the consumers' leases and the replicators' reports. Nothing is owned.
MetricReading ReadMetrics(Engine& engine, const std::vector<const prometheus::Collectable*>& extra,
                          ReplicatorProgressBoard& replicators, const Clock& clock);

class HistorySampler {
 public:
  // `engine`, `extra`, `replicators`, `clock` and `history` are not owned and must outlive
  // the sampler.
  HistorySampler(Engine* engine, std::vector<const prometheus::Collectable*> extra,
                 ReplicatorProgressBoard* replicators, Clock* clock, MetricHistory* history,
                 std::chrono::milliseconds interval);
  HistorySampler(const HistorySampler&) = delete;
  HistorySampler& operator=(const HistorySampler&) = delete;

 private:
  void Run(std::stop_token stop);

  Engine* engine_;
  std::vector<const prometheus::Collectable*> extra_;
  ReplicatorProgressBoard* replicators_;
  Clock* clock_;
  MetricHistory* history_;
  std::chrono::milliseconds interval_;
  Mutex mu_;
  CondVar wake_;
  std::jthread thread_;  // last: stopped and joined before the members above go
};

}  // namespace tidewater::server
