// Where a reader gets a table's change records from, shard by shard: the engine in this
// process, or a remote tidewaterd's Streams API. The consumer SDK, the replicator and the
// sinks read through this interface so that each works with every source.
//
// Contract for every implementation:
//  * Read returns records of ONE shard in increasing sequence order, each once, starting
//    at the first retained record whose sequence is >= from_sequence. Records carry all
//    ChangeRecord fields the log holds (origin region, version, provenance, transaction).
//  * A position below the shard's trim horizon is an error (TrimmedDataAccessException),
//    never a silent skip: a reader that fell behind retention must know it lost records.
//  * Read waits up to `wait` for the first record when none is available, then returns
//    an empty batch (not an error).
//  * PositionAtTime finds where a time falls in a shard (record creation times do not
//    decrease within a shard), as FindShardPositionAtTime describes.
//
// Thread safety: implementations are safe to call from several threads (one reader
// thread per shard is the usual pattern).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tidewater/core/change_log.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"

namespace tidewater::streams {

// One shard of a table's stream as a source describes it.
struct SourceShard {
  ShardIndex index;
  std::optional<ShardIndex> parent;  // shard lineage: finish the parent before this one
  bool closed = false;               // no record will follow last_sequence
  SequenceNumber first_sequence;     // oldest retained record (0: none retained)
  SequenceNumber last_sequence;      // newest record written (0: none written)
};

// Where reading a shard from a point in time starts (Kinesis's AT_TIMESTAMP).
struct TimePosition {
  // The first record whose creation time (ChangeRecord::approximate_creation_time_micros)
  // is at or after the time; when no record is, one past the newest record: reading
  // there gets the records written from then on (LATEST at the time of the lookup).
  SequenceNumber sequence{1};
  // The time is at or before the oldest retained record: `sequence` is the trim horizon,
  // and a reader should start at the oldest retained record wherever retention has moved
  // it by the time it reads (TRIM_HORIZON), not fail on records trimmed meanwhile.
  bool at_trim_horizon = false;
  friend bool operator==(const TimePosition&, const TimePosition&) = default;
};

// What Read returns.
struct ChangeBatch {
  std::vector<ChangeRecord> records;
  SequenceNumber next_sequence{1};  // the from_sequence of the next Read
  // The shard is closed and every record of it has been returned.
  bool end_of_shard = false;
  // The shard's resolved watermark when this read reached the sequence it covers: every
  // record of the shard with a creation time (approximate_creation_time_micros) below it
  // has a sequence below next_sequence. nullopt: not known (a source without watermarks,
  // or a read that stopped short of it).
  std::optional<int64_t> resolved_micros;
};

class ChangeSource {
 public:
  virtual ~ChangeSource() = default;

  // The table's shards, parents before children. NotFound (ResourceNotFoundException)
  // when the table does not exist or has no stream.
  virtual Result<std::vector<SourceShard>> ListShards() = 0;

  virtual Result<ChangeBatch> Read(ShardIndex shard, SequenceNumber from_sequence,
                                   size_t max_records, std::chrono::milliseconds wait) = 0;

  // Where reading `shard` from `time_micros` (micro-seconds since the epoch) starts.
  // NotFound when the table, its stream or the shard does not exist.
  virtual Result<TimePosition> PositionAtTime(ShardIndex shard, int64_t time_micros) = 0;
};

// The one lookup of a time in a shard of the change log, for every reader in this
// process (the engine source) and the Streams API's AT_TIMESTAMP iterators: a binary
// search with ReadShard(limit 1) between the shard's oldest retained and newest record,
// relying on record times never decreasing within a shard. `shard` names the table
// (`table`, and `table_id` for a stream of a deleted or re-created table) and the shard;
// its other members are ignored. `last_sequence`: the newest record that counts (a
// disabled stream's closed shard ends there though the log may go on); nullopt: the
// shard's newest record. Records trimmed while it searches may make the answer a position
// below the trim horizon; reading there then reports TrimmedDataAccess.
Result<TimePosition> FindShardPositionAtTime(
    ChangeLog& log, const ShardReadRequest& shard, int64_t time_micros,
    std::optional<SequenceNumber> last_sequence = std::nullopt);

// Reads `table` from the change log of an engine in this process (an Engine is one). The
// log must outlive the source.
std::unique_ptr<ChangeSource> MakeEngineChangeSource(ChangeLog& log, TableName table);

}  // namespace tidewater::streams
