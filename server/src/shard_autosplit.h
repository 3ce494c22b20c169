// Automatic shard splits: a shard that grows past a size, or stays past a write rate, is
// split in two (TableCatalog::SplitShard), so that, as in DynamoDB, a table's partitions
// follow its data and its load without anyone asking.
//
// SplitPolicy decides from successive looks at the tables (DescribeTable: each shard's
// hash range and last sequence, the table's approximate size):
//  * size: a shard's stored bytes are estimated as the table's approximate size times the
//    share of the hash space the shard covers (item keys are placed by a hash, so a shard
//    holds that share of the items on average); past `max_shard_bytes` it splits;
//  * writes: a shard's change records per second between two looks; above
//    `max_shard_writes_per_second` at every look for `sustain`, it splits (one burst
//    does not).
// A zero threshold turns that rule off. Closed shards are never split again.
//
// ShardAutoSplitter runs the policy on a thread of its own every `interval` (measured by
// the given Clock: a ManualClock drives it in tests) and splits what it decides, counting
// splits in tidewater_shard_splits_total{table,reason}. A split the engine refuses (the
// table's shard limit, a storage error) is logged once and not retried for that shard
// while the server runs.
//
// Thread safety: SplitPolicy is not thread-safe (one runner uses it). ShardAutoSplitter's
// constructor starts the thread, its destructor stops and joins it; CheckNow may be
// called from any thread (tests) and serializes with the thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::server {

struct AutoSplitThresholds {
  uint64_t max_shard_bytes = 10ULL << 30;     // DynamoDB's partition size (10 GB); 0: off
  double max_shard_writes_per_second = 1000;  // DynamoDB's per-partition write rate; 0: off
  std::chrono::microseconds sustain = std::chrono::seconds(60);
};

enum class SplitReason { kBytes, kWrites };
std::string_view SplitReasonName(SplitReason reason);  // "bytes", "writes"

struct SplitDecision {
  std::string table;
  uint64_t table_id = 0;
  ShardIndex shard;
  SplitReason reason = SplitReason::kBytes;
};

class SplitPolicy {
 public:
  explicit SplitPolicy(AutoSplitThresholds thresholds) : thresholds_(thresholds) {}

  // One look at `tables` at `now_micros` (later than the previous look): the open shards
  // to split now. What it knows of shards and tables not in `tables` is dropped.
  std::vector<SplitDecision> Observe(const std::vector<TableDescription>& tables,
                                     int64_t now_micros);

 private:
  struct ShardWatch {
    uint64_t last_sequence = 0;
    int64_t seen_micros = 0;
    std::optional<int64_t> hot_since_micros;  // above the write rate since then
  };

  AutoSplitThresholds thresholds_;
  std::map<std::pair<uint64_t, uint32_t>, ShardWatch> watches_;  // (table id, shard)
};

class ShardAutoSplitter {
 public:
  ShardAutoSplitter(Engine& engine, Clock* clock, AutoSplitThresholds thresholds,
                    std::chrono::milliseconds interval, prometheus::Registry& registry);
  ~ShardAutoSplitter();
  ShardAutoSplitter(const ShardAutoSplitter&) = delete;
  ShardAutoSplitter& operator=(const ShardAutoSplitter&) = delete;

  // One look and its splits, now; returns the splits made.
  std::vector<SplitDecision> CheckNow() TW_EXCLUDES(mu_);

 private:
  std::vector<TableDescription> DescribeAll();

  Engine& engine_;
  Clock* clock_;
  const std::chrono::milliseconds interval_;
  prometheus::Family<prometheus::Counter>& splits_;
  Mutex mu_;
  SplitPolicy policy_ TW_GUARDED_BY(mu_);
  std::set<std::pair<uint64_t, uint32_t>> refused_ TW_GUARDED_BY(mu_);  // not retried
  std::stop_source stop_;
  std::thread thread_;
};

}  // namespace tidewater::server
