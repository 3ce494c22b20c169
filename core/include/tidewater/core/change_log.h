// The change log role of the engine: every table's per-shard change streams, read in
// sequence order, with commit notifications and durable consumer checkpoints. What log
// followers (the Kafka publisher, stream sources, sinks) depend on.
//
// Stream semantics (tested in tests/core):
//  * Per shard, sequence numbers start at 1 (a table created again under a deleted
//    table's name: after the deleted table's last) and strictly increase with no gaps; all
//    changes of one item are in one shard, in commit order; an acknowledged write's record
//    is in the log exactly once. This holds after a crash (kill -9) and reopen.
//  * ReadShard never returns a record past the last committed one. A reader that is caught
//    up gets no records: that is not the end of the shard (a closed shard says so).
//  * Per shard, record times (approximate_creation_time_micros) never decrease in sequence
//    order, even when the wall clock steps back: a record's time is the clock's reading,
//    raised to the shard's last assigned time (records, and resolved watermarks given).
//  * To resume, read from the checkpointed next sequence. Records below
//    ShardReadResult::first_available were trimmed by retention: a reader whose position
//    is below it has lost those records and must treat it as such.
//
// Thread safety: every method is safe to call concurrently. Exceptions never escape.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table_catalog.h"
#include "tidewater/v1/change_record.pb.h"

namespace tidewater {

using ChangeRecord = v1::ChangeRecord;

// Reading a shard's change log.
struct ShardReadRequest {
  TableName table;
  ShardIndex shard;
  SequenceNumber from_sequence{1};  // first sequence wanted (inclusive)
  size_t limit = 1000;
  // Return the records as stored (each one's Protobuf serialization) in
  // ShardReadResult::serialized, not parsed in `records`. For readers that forward
  // records (the Kafka publisher): it saves a parse and a serialization per record.
  bool serialized = false;
  // 0: the table now named `table`; else the table with this id, also one deleted whose
  // disabled stream is still readable (TableDirectory::DescribeStream tells the id).
  uint64_t table_id = 0;
};

struct ShardReadResult {
  std::vector<ChangeRecord> records;
  std::vector<std::string> serialized;  // instead of `records` when requested
  // The sequence to ask for next. Records below first_available were trimmed.
  SequenceNumber next_sequence{1};
  SequenceNumber first_available{1};
  SequenceNumber last_written;
};

// A shard's resolved watermark: every record the shard holds or will ever hold with a time
// (approximate_creation_time_micros) below `resolved_micros` has a sequence at most
// `last_sequence` and is readable now. A reader that has read the shard up to
// `last_sequence` has therefore seen every change committed before `resolved_micros`.
struct ShardWatermark {
  int64_t resolved_micros = 0;
  SequenceNumber last_sequence;  // 0: the shard holds no record yet
};

class ChangeLog : public virtual TableDirectory {
 public:
  virtual Result<ShardReadResult> ReadShard(const ShardReadRequest& request) = 0;

  // The resolved watermark of `table`'s `shard` now. On an idle shard it follows the wall
  // clock (never back); a write queued for group commit and not yet durable holds it at
  // that write's time. Giving a watermark raises the shard's last assigned time to it,
  // so later records get a time at or after it. (That floor lives in memory: after a
  // restart, only the last record's time is recovered.)
  virtual Result<ShardWatermark> ResolvedWatermark(const TableName& table, ShardIndex shard) = 0;

  // Waits until a change record is committed to any table after `seen` (a value returned
  // earlier, or 0), or until `timeout` passes. Returns the current commit epoch. Readers
  // that follow the log (publishers, consumers) wait here instead of polling.
  virtual uint64_t WaitForCommit(uint64_t seen, std::chrono::milliseconds timeout) = 0;

  // --- Consumer checkpoints: durable positions of a named consumer in a shard ---
  // `next_sequence` is the first sequence the consumer still needs. With `retain`,
  // retention never trims records at or after it, so a consumer that falls behind sees
  // lag instead of losing records. Deleting the table deletes its checkpoints.
  virtual Status SaveCheckpoint(const std::string& consumer, const TableName& table,
                                ShardIndex shard, SequenceNumber next_sequence, bool retain) = 0;
  virtual Result<std::optional<SequenceNumber>> LoadCheckpoint(const std::string& consumer,
                                                               const TableName& table,
                                                               ShardIndex shard) = 0;
};

}  // namespace tidewater
