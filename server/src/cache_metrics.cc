#include "cache_metrics.h"

#include <string>
#include <utility>

#include "tidewater/core/item_cache.h"

namespace tidewater::server {
namespace {

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {}};
}

void AddCounter(prometheus::MetricFamily& family, double value,
                std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric& metric = family.metric.emplace_back();
  metric.label = std::move(labels);
  metric.counter.value = value;
}

void AddGauge(prometheus::MetricFamily& family, double value) {
  family.metric.emplace_back().gauge.value = value;
}

}  // namespace

std::vector<prometheus::MetricFamily> CacheMetrics::Collect() const {
  const ItemCache* cache = engine_->item_cache();
  if (cache == nullptr) return {};
  const ItemCacheStats stats = cache->Stats();
  using prometheus::MetricType;
  const auto d = [](uint64_t n) { return static_cast<double>(n); };
  std::vector<prometheus::MetricFamily> families;

  auto hits = Family("tidewater_cache_hits_total",
                     "Eventually consistent reads answered from the read cache (item: GetItem "
                     "and BatchGetItem keys; page: Query and Scan pages)",
                     MetricType::Counter);
  AddCounter(hits, d(stats.item_hits), {{"kind", "item"}});
  AddCounter(hits, d(stats.page_hits), {{"kind", "page"}});
  families.push_back(std::move(hits));
  auto misses =
      Family("tidewater_cache_misses_total",
             "Eventually consistent reads the read cache could not answer", MetricType::Counter);
  AddCounter(misses, d(stats.item_misses), {{"kind", "item"}});
  AddCounter(misses, d(stats.page_misses), {{"kind", "page"}});
  families.push_back(std::move(misses));

  const std::pair<const char*, std::pair<const char*, uint64_t>> counters[] = {
      {"tidewater_cache_evictions_total",
       {"Cache entries dropped to stay within the capacity", stats.evictions}},
      {"tidewater_cache_invalidations_total",
       {"Cache entries dropped because an item they hold or depend on changed",
        stats.invalidations}},
      {"tidewater_cache_fills_refused_total",
       {"Storage reads not cached because a change to the entry committed meanwhile",
        stats.fills_refused}},
  };
  for (const auto& [name, help_value] : counters) {
    auto family = Family(name, help_value.first, MetricType::Counter);
    AddCounter(family, d(help_value.second));
    families.push_back(std::move(family));
  }
  const std::pair<const char*, std::pair<const char*, double>> gauges[] = {
      {"tidewater_cache_entries", {"Entries in the read cache", d(stats.entries)}},
      {"tidewater_cache_bytes", {"Bytes charged to the read cache", d(stats.bytes)}},
      {"tidewater_cache_capacity_bytes",
       {"The read cache's bound in bytes (--cache-mb)", d(stats.capacity_bytes)}},
      {"tidewater_cache_staleness_seconds_max",
       {"Longest time from a batch's durable write to the end of its cache invalidations",
        d(stats.apply_delay_nanos_max) / 1e9}},
  };
  for (const auto& [name, help_value] : gauges) {
    auto family = Family(name, help_value.first, MetricType::Gauge);
    AddGauge(family, help_value.second);
    families.push_back(std::move(family));
  }
  auto staleness_sum =
      Family("tidewater_cache_staleness_seconds_sum",
             "Total time from batches' durable writes to the end of their cache invalidations",
             MetricType::Counter);
  AddCounter(staleness_sum, d(stats.apply_delay_nanos_sum) / 1e9);
  families.push_back(std::move(staleness_sum));
  auto staleness_count = Family("tidewater_cache_staleness_seconds_count",
                                "Batches whose writes the cache applied", MetricType::Counter);
  AddCounter(staleness_count, d(stats.applied_batches));
  families.push_back(std::move(staleness_count));
  return families;
}

}  // namespace tidewater::server
