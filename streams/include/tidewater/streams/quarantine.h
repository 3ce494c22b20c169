// Per-key poison quarantine: where a trigger parks the records of an item key whose record
// kept failing, so that the other keys of the shard move on while this key's records wait,
// in order, for an operator (docs/TRIGGERS.md, "Poison records").
//
// The quarantine table (a Tidewater table, readable with the AWS CLI) holds one item per
// parked record, partition key "quarantineKey" (S) = "<consumer>/<table>", sort key
// "position" (S) = QuarantinePosition(shard, sequence). Attributes: consumer (S),
// tableName (S), shard (N), sequence (N), key (S: the record's
// Keys as DynamoDB JSON, attribute names in order), reason (S: "RetryAttemptsExhausted" for
// the record that failed, "KeyQuarantined" for a later record of the same key parked behind
// it), parkedTime (N: epoch milliseconds), record (S: the Lambda event record JSON).
// A key is quarantined while the table holds at least one parked record of it for the
// consumer and table, whichever shard parked it: after a shard split the key's records
// come from a child shard and are still parked behind those of the parent. An operator
// releases the key by deleting those items (after handling them). Records of the key that
// arrive while any remains are parked behind them.
//
// Thread safety: implementations are safe to call from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tidewater/core/engine.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::streams {

inline constexpr char kQuarantineReasonFailed[] = "RetryAttemptsExhausted";
inline constexpr char kQuarantineReasonKeyQuarantined[] = "KeyQuarantined";

// One parked record.
struct QuarantinedRecord {
  std::string consumer;  // the trigger's consumer name ("<application>.<trigger>")
  TableName table;
  ShardIndex shard;
  SequenceNumber sequence;
  std::string key;     // the record's Keys as DynamoDB JSON
  std::string reason;  // kQuarantineReasonFailed or kQuarantineReasonKeyQuarantined
  int64_t parked_millis = 0;
  std::string record_json;  // the Lambda event record
  friend bool operator==(const QuarantinedRecord&, const QuarantinedRecord&) = default;
};

// The item's partition key: "<consumer>/<table>".
std::string QuarantinePartition(const std::string& consumer, const TableName& table);
// The item's sort key: shard and sequence as zero-padded decimal, "0000000003/
// 00000000000000000042", so that a key's parked records sort parent shard first (a child
// has a higher index than its parent), then in sequence order.
std::string QuarantinePosition(ShardIndex shard, SequenceNumber sequence);
// The item key of a parked record (to delete it, releasing its key).
Item QuarantineItemKey(const QuarantinedRecord& record);

class QuarantineStore {
 public:
  virtual ~QuarantineStore() = default;

  // Stores the record durably. Parking a record that is already parked (same consumer,
  // table, shard and sequence) keeps the stored one and returns ok.
  virtual Status Park(const QuarantinedRecord& record) = 0;

  // The parked records of one consumer's table, in (shard, sequence) order.
  virtual Result<std::vector<QuarantinedRecord>> List(const std::string& consumer,
                                                      const TableName& table) = 0;

  // The keys (QuarantinedRecord::key) quarantined for one consumer's table.
  Result<std::set<std::string>> QuarantinedKeys(const std::string& consumer,
                                                const TableName& table);
};

// The quarantine table's default name.
inline constexpr char kDefaultQuarantineTable[] = "tidewater_quarantine";

// Parked records in table `table` of an engine in this process (created when missing).
// The engine must outlive the store.
Result<std::unique_ptr<QuarantineStore>> MakeEngineQuarantineStore(
    Engine& engine, std::string table = kDefaultQuarantineTable);

// Parked records in table `table` of a remote tidewaterd (or a DynamoDB-compatible
// endpoint) through its DynamoDB API. The table is created when missing. Requests are
// signed with ResolveClientIdentity()'s identity (service_client.h), whose errors are this
// function's too.
Result<std::unique_ptr<QuarantineStore>> MakeRemoteQuarantineStore(
    std::string endpoint_url, std::string table = kDefaultQuarantineTable,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
// The same, calling the endpoint as `client` says (timeout, identity).
Result<std::unique_ptr<QuarantineStore>> MakeRemoteQuarantineStore(std::string endpoint_url,
                                                                   std::string table,
                                                                   ServiceClientOptions client);

}  // namespace tidewater::streams
