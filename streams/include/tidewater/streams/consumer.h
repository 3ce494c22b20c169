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
#include <stop_token>
#include <string>
#include <vector>

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

}  // namespace tidewater::streams
