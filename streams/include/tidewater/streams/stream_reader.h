// A reader: runs an application's BatchHandler over one table's change stream, shard by
// shard, wherever the stream is read from. Two implementations:
//  * StreamConsumer (consumer.h): a ChangeSource (the engine in this process, a remote
//    tidewaterd's Streams API) with leases shared by the workers of one application;
//  * connectors::KafkaStreamConsumer (connectors/kafka_consumer.h): the topics the Kafka
//    publisher writes, with a consumer group in place of the leases.
// connectors::StreamSource (connectors/stream_source.h) opens the right one for a source
// configuration; code that only runs a handler works with this interface.
//
// Guarantees every reader gives:
//  * At-least-once: every record is handed to the handler at least once; after a crash or
//    a take-over by another worker, records after the last saved position may come again.
//  * Order: within a shard, never out of order, one batch of a shard at a time; a parent
//    shard is finished before its children start.
//  * A batch the handler fails is delivered again (same first record) after a backoff;
//    a position is saved only after the handler accepted the batch.
//  * Stop() is graceful: the batch in progress finishes (its handler sees the stop
//    request through ShardBatch::stop), accepted batches are saved, the worker leaves
//    (leases released, consumer group left).
//
// Thread safety: Start, Stop and Progress may be called from any thread; the handler is
// called from the reader's threads (concurrently across shards for StreamConsumer).
// Ownership: destroying a reader stops it (gracefully) if it runs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/engine.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"

namespace tidewater::streams {

// Records of one shard, consecutive in sequence order (non-empty).
struct ShardBatch {
  TableName table;
  ShardIndex shard;
  std::vector<ChangeRecord> records;
  // Set when the reader is stopping or lost the shard: finish quickly; a handler that
  // returns an error then is not retried here (another worker, or the next run, is).
  std::stop_token stop;
};

// Ok: the whole batch is done; its position is saved. An error: nothing of it is; the
// same records come again after a backoff.
using BatchHandler = std::function<Status(const ShardBatch& batch)>;

// Where a shard without a saved position starts: its oldest retained record, after its
// newest record, or its first record created at or after a time (the reader options'
// starting time; a time after the newest record reads what is written from then on).
enum class StartingPosition { kTrimHorizon, kLatest, kAtTimestamp };

// Durable per-shard positions of one reader. By default a reader keeps them itself (with
// the leases, or in the Kafka group's commits); a handler that commits its output and its
// position together (exactly-once, e.g. in one PostgreSQL transaction) supplies its own
// store whose Save is where its handler already wrote. A reader reads a shard's position
// from the store when it takes the shard, and the store's position wins.
// Thread safety: called from several reader threads at once.
class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // The first sequence of `shard` not yet processed; nullopt when never checkpointed.
  virtual Result<std::optional<SequenceNumber>> Load(const TableName& table, ShardIndex shard) = 0;
  // Called by StreamConsumer after each accepted batch and at a shard's end (the
  // KafkaStreamConsumer never calls it: its handler stores positions).
  virtual Status Save(const TableName& table, ShardIndex shard, SequenceNumber next_sequence) = 0;
  // Called by StreamConsumer when `shard` was read to its end (closed by a split or a
  // disabled stream), before it is marked finished and its children are read: after ok,
  // Load returns the position after its last record. A store that stages what it accepted
  // (files) commits the shard's staged output now; one whose Save is durable does nothing.
  // A finished shard is never read again, so what is not committed by then would be lost.
  virtual Status Settle(const TableName&, ShardIndex) { return Status::Ok(); }
};

// Told of each failure a reader retries by itself while reading its source: `operation`
// is "read" (a shard's records; with Kafka a message error, an undecodable message or a
// gap in the sequences) or "list_shards" (the table's shards). For logs and metrics:
// called from the reader's threads, it must be quick and thread-safe.
using ReadErrorListener = std::function<void(std::string_view operation, const Status& status)>;

// Where a reader stands in one shard (a Kafka partition), for metrics and progress lines.
struct ConsumerShardStatus {
  ShardIndex shard;
  bool held = false;  // this worker holds the shard (lease, assignment)
  // The shard was read to its end (closed by a split or a disabled stream) and processed:
  // it will have no more records. Its resolved time is not the table's concern any more.
  bool finished = false;
  SequenceNumber next_sequence;         // saved position: the first sequence not processed
  int64_t last_record_time_micros = 0;  // creation time of the last record handed over
  int64_t iterator_age_millis = 0;      // now minus that, while records are waiting; else 0
  uint64_t records_processed = 0;       // accepted by the handler, this process
  uint64_t handler_errors = 0;
  uint64_t trimmed_records_skipped = 0;
  // The newest sequence written to the shard, as last listed; nullopt when the source
  // does not tell (Kafka: offsets also count the publisher's resent records).
  std::optional<SequenceNumber> last_sequence;
  std::string last_error;  // the last read/handler/checkpoint error ("" when none yet)
  // The shard's resolved time (microseconds since the Unix epoch): every change of the
  // shard committed before it has been handed to the handler and accepted, by this worker
  // or, before it took the shard, by the position it started from. It advances while the
  // shard is idle (the source's watermark heartbeats) and never goes back. nullopt: not
  // known yet (nothing read to the shard's end yet, or a source without watermarks).
  std::optional<int64_t> resolved_time_micros;

  // Records written to the shard and not yet processed; nullopt when not known.
  std::optional<uint64_t> RecordsBehind() const {
    if (!last_sequence) return std::nullopt;
    return SequenceDistance(next_sequence, last_sequence->Next());
  }
};

// The table's resolved time as `progress` (StreamReader::Progress) tells it: the lowest
// resolved time of the shards held there. nullopt when no shard is held or a held one's is
// not known. With every open shard held by this worker (one worker), every change of the
// table committed before it has been processed.
std::optional<int64_t> TableResolvedTime(const std::vector<ConsumerShardStatus>& progress);

class StreamReader {
 public:
  virtual ~StreamReader() = default;

  // Starts reading in the background. Errors: the source cannot be reached or has no
  // such table (StreamConsumer lists the shards first), or the reader was started before.
  virtual Status Start() = 0;
  // Graceful stop: see the file comment. Idempotent.
  virtual void Stop() = 0;
  // Per shard this worker has seen (held or not), in shard order.
  virtual std::vector<ConsumerShardStatus> Progress() const = 0;
};

}  // namespace tidewater::streams
