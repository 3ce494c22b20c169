#include "replicator_progress.h"

namespace tidewater::server {
namespace {

constexpr int64_t kForgetAfterMillis = 24LL * 3600 * 1000;

}  // namespace

void ReplicatorProgressBoard::Report(const v1::ReplicatorProgress& progress, int64_t now_millis) {
  MutexLock lock(mutex_);
  for (const v1::ReplicatorShardProgress& shard : progress.shards()) {
    Key key{progress.table(), progress.source_region(), progress.replicator(), shard.shard()};
    auto [it, inserted] = reports_.try_emplace(std::move(key));
    v1::ReplicatorShardReport& report = it->second;
    if (inserted || report.progress().next_sequence() != shard.next_sequence()) {
      report.set_last_progress_millis(now_millis);
    }
    report.set_table(progress.table());
    report.set_source_region(progress.source_region());
    report.set_replicator(progress.replicator());
    *report.mutable_progress() = shard;
    report.set_received_millis(now_millis);
  }
}

std::vector<v1::ReplicatorShardReport> ReplicatorProgressBoard::List(int64_t now_millis) {
  MutexLock lock(mutex_);
  std::vector<v1::ReplicatorShardReport> reports;
  for (auto it = reports_.begin(); it != reports_.end();) {
    if (now_millis - it->second.received_millis() > kForgetAfterMillis) {
      it = reports_.erase(it);
      continue;
    }
    reports.push_back(it->second);
    ++it;
  }
  return reports;
}

}  // namespace tidewater::server
