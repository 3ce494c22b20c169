// What every StreamReader shares: the table's resolved time from its progress.
#include "tidewater/streams/stream_reader.h"

#include <algorithm>

namespace tidewater::streams {

std::optional<int64_t> TableResolvedTime(const std::vector<ConsumerShardStatus>& progress) {
  std::optional<int64_t> resolved;
  for (const ConsumerShardStatus& shard : progress) {
    if (!shard.held) continue;
    if (!shard.resolved_time_micros) return std::nullopt;
    resolved =
        std::min(resolved.value_or(*shard.resolved_time_micros), *shard.resolved_time_micros);
  }
  return resolved;
}

}  // namespace tidewater::streams
