// Private: cluster mode's Prometheus metrics on a node (docs/CLUSTER.md, "Metrics and
// health"). ClusterCommitLog calls these methods; the families are registered here, in the
// injected registry.
//
// Shard series are labelled {table, table_id, shard}: a table deleted and created again under
// its name has series of its own.
//
//   tidewater_cluster_shard_role{...,role}           1 for the shard's role on this node:
//                                                    owner, recovering (an append's outcome
//                                                    was unknown) or lost (another node
//                                                    took it over)
//   tidewater_cluster_shard_term{...}                the term this node started last
//   tidewater_cluster_shard_applied_offset{...}      the partition offset after the
//                                                    last entry this node applied
//   tidewater_cluster_ownership_changes_total        shards taken over or lost
//   tidewater_cluster_takeover_seconds               one shard's take-over (histogram)
//   tidewater_cluster_append_seconds                 one shard's append, produce to read
//                                                    back (histogram)
//   tidewater_cluster_append_failures_total          appends whose outcome was unknown
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

namespace tidewater::cluster {

class ShardMetrics;

// Thread safety: every method may be called from any thread (prometheus-cpp's metrics and
// families are thread-safe).
class ClusterMetrics {
 public:
  enum class Role { kOwner, kRecovering, kLost };

  explicit ClusterMetrics(prometheus::Registry& registry);

  void TookOver(double seconds) {
    ownership_changes_.Increment();
    takeover_seconds_.Observe(seconds);
  }
  void Lost() { ownership_changes_.Increment(); }
  void Appended(double seconds) { append_seconds_.Observe(seconds); }
  void AppendFailed() { append_failures_.Increment(); }

 private:
  friend class ShardMetrics;
  prometheus::Family<prometheus::Gauge>& role_;
  prometheus::Family<prometheus::Gauge>& term_;
  prometheus::Family<prometheus::Gauge>& applied_offset_;
  prometheus::Counter& ownership_changes_;
  prometheus::Histogram& takeover_seconds_;
  prometheus::Histogram& append_seconds_;
  prometheus::Counter& append_failures_;
};

// One shard's series, removed with it. At most one may exist per table id and shard (the
// series are shared by their labels). Thread-safe.
class ShardMetrics {
 public:
  ShardMetrics(ClusterMetrics& metrics, const std::string& table, uint64_t table_id,
               uint32_t shard);
  ~ShardMetrics();
  ShardMetrics(const ShardMetrics&) = delete;
  ShardMetrics& operator=(const ShardMetrics&) = delete;

  uint64_t table_id() const { return table_id_; }
  void SetRole(ClusterMetrics::Role role);
  void SetTerm(uint64_t term) { term_->Set(static_cast<double>(term)); }
  void SetAppliedOffset(int64_t offset) { applied_offset_->Set(static_cast<double>(offset)); }

 private:
  ClusterMetrics& metrics_;
  const uint64_t table_id_;
  const std::map<std::string, std::string> labels_;
  std::mutex role_mu_;  // guards role_ (one series at a time)
  prometheus::Gauge* role_ = nullptr;
  prometheus::Gauge* term_;
  prometheus::Gauge* applied_offset_;
};

}  // namespace tidewater::cluster
