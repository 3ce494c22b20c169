// An analytics sink: where a table's change records are written for analysis (files,
// PostgreSQL). A sink is driven by the consumer SDK (streams/consumer.h): Write is the
// batch handler and the sink itself is the consumer's CheckpointStore, because a sink
// commits its output and its position together.
//
// Contract for every sink:
//  * Exactly-once per committed output. Load returns the position recorded with the last
//    output the sink committed durably; records before it are in the output once, records
//    from it on are not. After a crash the reader resumes at Load's position, so the
//    uncommitted tail is read again and nothing is written twice.
//  * Write receives consecutive records of one shard in sequence order, continuing from
//    the shard's position (records below it are dropped, so a batch delivered again is
//    harmless). An ok Write means the batch is accepted: it is committed, or (files)
//    staged and committed by a later Write, Tick or Flush. Save is a no-op: the position
//    travels with the output.
//  * Failures are retried inside Write with backoff until they succeed or batch.stop is
//    requested; each failure is logged and counted. Nothing is skipped. (Exception: a
//    PostgreSQL sink with return_record_errors returns Status::Validation for a batch whose
//    data the database rejects, for the quarantine of quarantining_sink.h to park.)
//
// Thread safety: Write may be called concurrently for different shards (one caller per
// shard at a time); Load, Tick and Flush from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/consumer.h"

namespace tidewater::connectors {

// How item images (and keys) are written as JSON.
//  kPlain:    plain JSON: S as a string, N as a JSON number with the exact decimal digits
//             (never rounded through a double), B as base64 text, BOOL, NULL as null,
//             L and SS/NS/BS as arrays, M as an object. Convenient for queries; the S/B
//             and list/set distinctions are not kept.
//  kDynamoDb: DynamoDB JSON ({"S":".."}, {"N":"1.5"}, ...): every type kept.
enum class ImageJson { kPlain, kDynamoDb };

// "plain" or "dynamodb".
std::string_view ImageJsonName(ImageJson format);
bool ParseImageJson(std::string_view name, ImageJson* out);

class Sink : public streams::CheckpointStore {
 public:
  ~Sink() override = default;

  // Writes the batch; see the file comment for retries and the stop token.
  virtual Status Write(const streams::ShardBatch& batch) = 0;

  // Time-driven work (file rotation by age). Call every second or so.
  virtual Status Tick() { return Status::Ok(); }

  // Commits everything staged (graceful stop). Positions after Flush cover every record
  // Write accepted.
  virtual Status Flush() { return Status::Ok(); }

  // The consumer's progress over `table`'s shards (StreamReader::Progress), told about
  // once a second. Their resolved times say how complete the output is: a sink whose
  // accepted batches are committed (PostgreSQL) records them; others ignore them.
  virtual Status RecordProgress(const TableName&,
                                const std::vector<streams::ConsumerShardStatus>&) {
    return Status::Ok();
  }

  // The position travels with the output (see the file comment).
  Status Save(const TableName&, ShardIndex, SequenceNumber) override { return Status::Ok(); }
};

}  // namespace tidewater::connectors
