// The consumer SDK: runs an application's handler over a table's change stream.
//
// The application gives a BatchHandler; the consumer reads each shard it holds a lease
// on, calls the handler with batches of that shard's records in sequence order, and
// checkpoints after each batch the handler accepts. A batch the handler fails is
// delivered again (same first record) after a backoff. Guarantees:
//  * At-least-once: every record is handed to a handler at least once; after a crash or
//    a lease take-over, records after the last checkpoint may be delivered again.
//  * Order: within a shard, never out of order; one batch of a shard at a time. A parent
//    shard is finished before its children start.
//  * Leases (as the Kinesis Client Library): workers with the same `application` share
//    a table's shards. Leases and checkpoints live in a Tidewater table; a worker that
//    stops renewing loses its leases after `lease_duration` and another worker takes
//    over from the last checkpoint.
//  * Stop() is graceful: the batch in progress finishes (its handler sees the stop
//    request through ShardBatch::stop), accepted batches are checkpointed, leases are
//    released.
// Thread safety: Start/Stop/Wait may be called from any thread; the handler is called
// from one thread per held shard, concurrently across shards.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/status.h"

namespace tidewater::streams {

// Records of one shard, consecutive in sequence order (non-empty).
struct ShardBatch {
  std::string table;
  uint32_t shard = 0;
  std::vector<ChangeRecord> records;
  // Set when the consumer is stopping or lost the lease: finish quickly; a handler that
  // returns an error then is not retried here (another worker, or the next run, is).
  std::stop_token stop;
};

// Ok: the whole batch is done; it is checkpointed. An error: nothing of it is; the same
// records come again after a backoff.
using BatchHandler = std::function<Status(const ShardBatch& batch)>;

// Where a shard without a checkpoint starts.
enum class StartingPosition { kTrimHorizon, kLatest };

// Durable per-shard positions of one consumer. The default store keeps them with the
// leases; a sink that commits its output and its position together (exactly-once, e.g.
// in one PostgreSQL transaction) supplies its own store whose Save is where its handler
// already wrote. Thread safety: called from several shard threads at once.
class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // The first sequence of `shard` not yet processed; nullopt when never checkpointed.
  virtual Result<std::optional<uint64_t>> Load(const std::string& table, uint32_t shard) = 0;
  virtual Status Save(const std::string& table, uint32_t shard, uint64_t next_sequence) = 0;
};

class ChangeSource;

struct ConsumerOptions {
  std::string table;
  // The consumer's name: workers with the same application share the shards; leases and
  // checkpoints are kept per application.
  std::string application;
  std::string worker_id;  // default: host name, process id and a random suffix
  StartingPosition starting_position = StartingPosition::kTrimHorizon;
  size_t max_batch_records = 100;  // Lambda BatchSize
  // Wait up to this long to fill a batch (Lambda MaximumBatchingWindowInSeconds); 0:
  // deliver what is there as soon as there is something.
  std::chrono::milliseconds max_batching_window{0};
  std::chrono::milliseconds lease_duration{10'000};
  std::chrono::milliseconds retry_backoff_initial{100};
  std::chrono::milliseconds retry_backoff_max{10'000};
  // Where positions are kept; nullptr: with the leases. Not owned; must outlive the consumer.
  CheckpointStore* checkpoints = nullptr;
  // Times lease renewal and expiry (its monotonic reading), retry backoff and the batching
  // window; iterator ages are measured against its wall time. Not owned; must outlive the
  // consumer. Tests pass a ManualClock to expire leases and end waits without sleeping.
  Clock* clock = Clock::System();
  // Take leases from a worker that holds more than its fair share (as the KCL does), so
  // that a worker that joins gets shards without waiting for another to die.
  bool steal_leases = true;
  // A checkpoint below the shard's trim horizon (records lost to retention): false: the
  // shard stops with TrimmedDataAccess in ConsumerShardStatus::last_error, retried with
  // backoff, until an operator acts; true: continue at the oldest retained record and
  // count the lost records in ConsumerShardStatus::trimmed_records_skipped.
  bool skip_trimmed = false;
};

class LeaseStore;  // lease_store.h: where leases live (a Tidewater table)

// Per-shard progress, for metrics and progress lines.
struct ConsumerShardStatus {
  uint32_t shard = 0;
  bool held = false;                    // this worker holds the lease
  uint64_t next_sequence = 0;           // checkpointed position
  int64_t last_record_time_micros = 0;  // creation time of the last record handed over
  int64_t iterator_age_millis = 0;      // now minus that, while records are waiting; else 0
  uint64_t records_processed = 0;       // accepted by the handler, this process
  uint64_t handler_errors = 0;
  uint64_t trimmed_records_skipped = 0;
  std::string last_error;  // the last read/handler/checkpoint error ("" when none yet)
};

class StreamConsumer {
 public:
  // `source` and `leases` are not owned and must outlive the consumer.
  static Result<std::unique_ptr<StreamConsumer>> Create(ConsumerOptions options,
                                                        ChangeSource& source, LeaseStore& leases,
                                                        BatchHandler handler);
  virtual ~StreamConsumer() = default;  // stops (gracefully) if running

  virtual Status Start() = 0;
  // Graceful stop: see the file comment. Idempotent.
  virtual void Stop() = 0;
  virtual std::vector<ConsumerShardStatus> Progress() const = 0;
  // The last lease-coordination outcome (listing shards and leases, taking leases): ok,
  // or why this worker cannot take shards right now (e.g. the lease table is unreachable).
  virtual Status LeaseError() const = 0;
};

}  // namespace tidewater::streams
