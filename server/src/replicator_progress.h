// What replicators writing into this tidewaterd report about themselves
// (ReportReplicatorProgress), kept in memory for `tidewater lag` (ListReplicatorProgress).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "tidewater/core/thread_annotations.h"
#include "tidewater/v1/replication.pb.h"

namespace tidewater::server {

// The newest report per (table, source region, replicator, source shard), with when it
// arrived and when that shard's position last advanced. Reports not renewed for a day are
// dropped (a replicator that was taken down for good). Thread-safe.
class ReplicatorProgressBoard {
 public:
  void Report(const v1::ReplicatorProgress& progress, int64_t now_millis);
  std::vector<v1::ReplicatorShardReport> List(int64_t now_millis);

 private:
  using Key = std::tuple<std::string, std::string, std::string, uint32_t>;

  Mutex mutex_;
  std::map<Key, v1::ReplicatorShardReport> reports_ TW_GUARDED_BY(mutex_);
};

}  // namespace tidewater::server
