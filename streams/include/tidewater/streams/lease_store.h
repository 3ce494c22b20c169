// Leases and checkpoints of stream consumers, kept in a Tidewater table (as the Kinesis
// Client Library keeps them in a DynamoDB table), or in memory for a lone worker.
//
// One item per (application, table, shard), partition key "leaseKey" (S) =
// "<application>/<table>/<shard>". Attributes:
//   application (S), tableName (S), shard (N), parentShard (N, when the shard has one),
//   owner (S, absent while nobody holds the lease), leaseCounter (N: bumped by every
//   write, so that other workers see a live owner), checkpoint (N: the first sequence not
//   yet processed, absent before the first checkpoint), checkpointTime (N: when the
//   worker last saved its progress, epoch milliseconds), finished (BOOL: every record of
//   the closed shard was processed).
//
// Every write is conditional on the counter (and owner) the writer last saw, so exactly
// one worker owns a shard and a worker whose lease was taken learns it on its next write.
// Expiry does not compare clocks across processes: a worker deems a lease expired when
// it has seen the same counter for a whole lease duration (KCL's rule).
//
// Thread safety: implementations are safe to call from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tidewater/core/engine.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::streams {

struct Lease {
  std::string application;
  TableName table;
  ShardIndex shard;
  std::optional<ShardIndex> parent;
  std::string owner;  // "" when free
  uint64_t counter = 0;
  std::optional<SequenceNumber> checkpoint;
  int64_t checkpoint_millis = 0;  // wall time of the last progress saved (0: none yet)
  bool finished = false;

  // "<application>/<table>/<shard>": the item's partition key.
  std::string Key() const;
  friend bool operator==(const Lease&, const Lease&) = default;
};

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;

  // Every lease in the store, of every application and table (what `tidewater lag`
  // shows).
  virtual Result<std::vector<Lease>> ListAllLeases() = 0;
  // Every lease of `application` on `table`, in shard order.
  Result<std::vector<Lease>> ListLeases(const std::string& application, const TableName& table);
  // Writes a new lease. ConditionalCheckFailed when one exists for its key.
  virtual Status CreateLease(const Lease& lease) = 0;
  // Replaces the lease `expected` with `updated` (same key) if the stored lease still has
  // expected's owner and counter. ConditionalCheckFailed otherwise, also when the lease
  // is gone (someone else wrote it: the caller no longer holds what it thought).
  virtual Status UpdateLease(const Lease& expected, const Lease& updated) = 0;
};

// The lease table's default name.
inline constexpr char kDefaultLeaseTable[] = "tidewater_leases";

// Leases in table `table` of an engine in this process (created when missing). The
// engine must outlive the store.
Result<std::unique_ptr<LeaseStore>> MakeEngineLeaseStore(Engine& engine,
                                                         std::string table = kDefaultLeaseTable);

// Leases in this process's memory, for a worker that is alone in its application (e.g.
// the replicator, whose positions are its target's checkpoints): nothing survives the
// process. Never fails.
std::unique_ptr<LeaseStore> MakeMemoryLeaseStore();

// Leases in table `table` of a remote tidewaterd (or DynamoDB-compatible endpoint, e.g.
// "http://127.0.0.1:8000"), through its DynamoDB API with conditional PutItem. The table
// is created when missing. Requests are signed with ResolveClientIdentity()'s identity
// (service_client.h), whose errors are this function's too.
Result<std::unique_ptr<LeaseStore>> MakeRemoteLeaseStore(
    std::string endpoint_url, std::string table = kDefaultLeaseTable,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
// The same, calling the endpoint as `client` says (timeout, identity).
Result<std::unique_ptr<LeaseStore>> MakeRemoteLeaseStore(std::string endpoint_url,
                                                         std::string table,
                                                         ServiceClientOptions client);

}  // namespace tidewater::streams
