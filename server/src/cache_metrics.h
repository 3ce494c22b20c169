// The read cache's Prometheus metrics, read from the engine's ItemCache at scrape time:
//
//   tidewater_cache_hits_total{kind="item"|"page"}     reads answered from the cache
//   tidewater_cache_misses_total{kind="item"|"page"}   eventually consistent reads that
//                                                      went to storage
//   tidewater_cache_evictions_total                    entries dropped for room
//   tidewater_cache_invalidations_total                entries dropped by a change
//   tidewater_cache_fills_refused_total                reads not cached: a change came first
//   tidewater_cache_entries, tidewater_cache_bytes, tidewater_cache_capacity_bytes
//   tidewater_cache_staleness_seconds_{sum,count,max}  time from a batch's durable write to
//                                                      the end of its invalidations
// Nothing is exported when the engine has no cache. Thread-safe; the engine is not owned
// and must outlive it.
#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <vector>

#include "tidewater/core/engine.h"

namespace tidewater::server {

class CacheMetrics final : public prometheus::Collectable {
 public:
  explicit CacheMetrics(const Engine* engine) : engine_(engine) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Engine* engine_;
};

}  // namespace tidewater::server
