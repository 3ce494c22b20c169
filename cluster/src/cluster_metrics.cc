#include "cluster_metrics.h"

namespace tidewater::cluster {
namespace {

const char* RoleName(ClusterMetrics::Role role) {
  switch (role) {
    case ClusterMetrics::Role::kOwner:
      return "owner";
    case ClusterMetrics::Role::kRecovering:
      return "recovering";
    case ClusterMetrics::Role::kLost:
      return "lost";
  }
  return "unknown";
}

// From 100 µs (an append on loopback) to 30 s (a take-over waiting out a timeout).
prometheus::Histogram::BucketBoundaries SecondsBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
}

}  // namespace

ClusterMetrics::ClusterMetrics(prometheus::Registry& registry)
    : role_(prometheus::BuildGauge()
                .Name("tidewater_cluster_shard_role")
                .Help("1 for each shard's role on this node: owner, recovering, lost")
                .Register(registry)),
      term_(prometheus::BuildGauge()
                .Name("tidewater_cluster_shard_term")
                .Help("The term this node started last in the shard's log")
                .Register(registry)),
      applied_offset_(prometheus::BuildGauge()
                          .Name("tidewater_cluster_shard_applied_offset")
                          .Help("The shard log's offset after the last entry this node applied")
                          .Register(registry)),
      ownership_changes_(prometheus::BuildCounter()
                             .Name("tidewater_cluster_ownership_changes_total")
                             .Help("Shards this node took over or lost")
                             .Register(registry)
                             .Add({})),
      takeover_seconds_(prometheus::BuildHistogram()
                            .Name("tidewater_cluster_takeover_seconds")
                            .Help("Time to take one shard over: its log applied, a term started")
                            .Register(registry)
                            .Add({}, SecondsBuckets())),
      append_seconds_(prometheus::BuildHistogram()
                          .Name("tidewater_cluster_append_seconds")
                          .Help("Time of one shard's append, from produce to read back valid")
                          .Register(registry)
                          .Add({}, SecondsBuckets())),
      append_failures_(prometheus::BuildCounter()
                           .Name("tidewater_cluster_append_failures_total")
                           .Help("Appends whose outcome was unknown (the shard then recovers)")
                           .Register(registry)
                           .Add({})) {}

ShardMetrics::ShardMetrics(ClusterMetrics& metrics, const std::string& table, uint64_t table_id,
                           uint32_t shard)
    : metrics_(metrics),
      table_id_(table_id),
      labels_{{"table", table},
              {"table_id", std::to_string(table_id)},
              {"shard", std::to_string(shard)}},
      term_(&metrics.term_.Add(labels_)),
      applied_offset_(&metrics.applied_offset_.Add(labels_)) {}

ShardMetrics::~ShardMetrics() {
  if (role_ != nullptr) metrics_.role_.Remove(role_);
  metrics_.term_.Remove(term_);
  metrics_.applied_offset_.Remove(applied_offset_);
}

void ShardMetrics::SetRole(ClusterMetrics::Role role) {
  std::lock_guard lock(role_mu_);
  if (role_ != nullptr) metrics_.role_.Remove(role_);
  std::map<std::string, std::string> labels = labels_;
  labels["role"] = RoleName(role);
  role_ = &metrics_.role_.Add(labels);
  role_->Set(1);
}

}  // namespace tidewater::cluster
