// FindShardPositionAtTime: where a time falls in one shard of the change log.
#include <algorithm>

#include "tidewater/streams/change_source.h"

namespace tidewater::streams {

Result<TimePosition> FindShardPositionAtTime(ChangeLog& log, const ShardReadRequest& shard,
                                             int64_t time_micros,
                                             std::optional<SequenceNumber> last_sequence) {
  ShardReadRequest probe;
  probe.table = shard.table;
  probe.table_id = shard.table_id;
  probe.shard = shard.shard;
  probe.limit = 1;
  // The first retained record tells the shard's range and whether the time is before it.
  probe.from_sequence = SequenceNumber(1);
  TW_ASSIGN_OR_RETURN(ShardReadResult first, log.ReadShard(probe));
  SequenceNumber last = first.last_written;
  if (last_sequence) last = std::min(last, *last_sequence);
  // One past the newest record that counts: the answer when no record is at or after the
  // time. Never below the trim horizon (when every record was trimmed).
  SequenceNumber end = std::max(last.Next(), first.first_available);
  if (first.records.empty() || SequenceNumber(first.records.front().sequence()) >= end) {
    return TimePosition{.sequence = end};
  }
  const ChangeRecord& oldest = first.records.front();
  if (oldest.approximate_creation_time_micros() >= time_micros) {
    return TimePosition{.sequence = SequenceNumber(oldest.sequence()), .at_trim_horizon = true};
  }
  // Invariant: every record below `low` was created before the time (or is trimmed), and
  // `high` is the first record at or after it, or `end`.
  SequenceNumber low = SequenceNumber(oldest.sequence()).Next();
  SequenceNumber high = end;
  while (low < high) {
    probe.from_sequence = SequenceNumber(low.value() + (high.value() - low.value()) / 2);
    TW_ASSIGN_OR_RETURN(ShardReadResult read, log.ReadShard(probe));
    // Nothing at or after the probe below `high`: what lies there was trimmed meanwhile.
    if (read.records.empty() || SequenceNumber(read.records.front().sequence()) >= high ||
        read.records.front().approximate_creation_time_micros() >= time_micros) {
      high = probe.from_sequence;
    } else {
      low = SequenceNumber(read.records.front().sequence()).Next();
    }
  }
  return TimePosition{.sequence = low};
}

}  // namespace tidewater::streams
