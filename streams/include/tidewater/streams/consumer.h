// The consumer SDK: a StreamReader (stream_reader.h, for the guarantees every reader
// gives) over a ChangeSource, with leases.
//
// The consumer reads each shard it holds a lease on, calls the handler with batches of
// that shard's records in sequence order, and checkpoints after each batch the handler
// accepts (in the CheckpointStore when one is given, else in the lease).
//  * Leases (as the Kinesis Client Library): workers with the same `application` share
//    a table's shards. Leases live in a LeaseStore (lease_store.h: a Tidewater table, or
//    this process's memory for a single worker); a worker that stops renewing loses its
//    leases after `lease_duration` and another worker takes over from the last checkpoint.
//  * Stop() also releases the leases.
// Thread safety: Start/Stop/Progress may be called from any thread; the handler is called
// from one thread per held shard, concurrently across shards.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tidewater/core/clock.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/stream_reader.h"

namespace tidewater::streams {

class ChangeSource;

// What a reader reads and how. connectors::StreamSource takes these for every kind of
// source; the lease fields (worker_id, lease_duration, steal_leases) and
// skip_trimmed matter only to StreamConsumer (a Kafka consumer group does its own).
struct ConsumerOptions {
  std::string table;
  // The consumer's name: workers with the same application share the shards; leases and
  // checkpoints are kept per application.
  std::string application;
  std::string worker_id;  // default: host name, process id and a random suffix
  StartingPosition starting_position = StartingPosition::kTrimHorizon;
  // With kAtTimestamp: the time, in micro-seconds since the epoch, compared with each
  // record's approximate_creation_time_micros.
  int64_t starting_time_micros = 0;
  size_t max_batch_records = 100;  // Lambda BatchSize
  // Wait up to this long to fill a batch (Lambda MaximumBatchingWindowInSeconds); 0:
  // deliver what is there as soon as there is something.
  std::chrono::milliseconds max_batching_window{0};
  std::chrono::milliseconds lease_duration{10'000};
  std::chrono::milliseconds retry_backoff_initial{100};
  std::chrono::milliseconds retry_backoff_max{10'000};
  // Where positions are kept; nullptr: with the leases (with Kafka: in the group's
  // commits). Not owned; must outlive the consumer.
  CheckpointStore* checkpoints = nullptr;
  // Times lease renewal and expiry (its monotonic reading), retry backoff and the batching
  // window, for every kind of reader; iterator ages are measured against its wall time. Not
  // owned; must outlive the reader. Tests pass a ManualClock to expire leases and end waits
  // without sleeping.
  Clock* clock = Clock::System();
  // Take leases from a worker that holds more than its fair share (as the KCL does), so
  // that a worker that joins gets shards without waiting for another to die.
  bool steal_leases = true;
  // A checkpoint below the shard's trim horizon (records lost to retention): false: the
  // shard stops with TrimmedDataAccess in ConsumerShardStatus::last_error, retried with
  // backoff, until an operator acts; true: continue at the oldest retained record and
  // count the lost records in ConsumerShardStatus::trimmed_records_skipped.
  bool skip_trimmed = false;
  // Told of each failed read or shard listing, which the consumer retries by itself.
  // Optional.
  ReadErrorListener on_read_error;
  // Told each time the table's resolved time (TableResolvedTime over Progress()) advances,
  // with the new value, in increasing order, while this worker holds every shard of the
  // table that is not finished (one worker; with several, none is told). Called from the
  // reader's threads, one call at a time; it must be quick and may call Progress().
  // Optional.
  std::function<void(int64_t resolved_micros)> on_resolved_time;
};

class LeaseStore;  // lease_store.h: where leases live (a Tidewater table)

class StreamConsumer : public StreamReader {
 public:
  // `source` and `leases` are not owned and must outlive the consumer.
  static Result<std::unique_ptr<StreamConsumer>> Create(ConsumerOptions options,
                                                        ChangeSource& source, LeaseStore& leases,
                                                        BatchHandler handler);
  // The last lease-coordination outcome (listing shards and leases, taking leases): ok,
  // or why this worker cannot take shards right now (e.g. the lease table is unreachable).
  virtual Status LeaseError() const = 0;
};

}  // namespace tidewater::streams
