// Throttling with DynamoDB's rules (docs/OPERATIONS.md "Capacity and throttling"):
//  * PROVISIONED tables: a token bucket for reads and one for writes, refilled at the
//    provisioned units per second; unused capacity is kept for up to 300 seconds (burst
//    capacity); a new table's buckets start with one second of its capacity; UpdateTable
//    resizes them at once (Configure). Refusal: TableRead/WriteProvisionedThroughputExceeded.
//    Each global secondary index has buckets of its own at its provisioned units: a Query
//    or Scan of the index draws on its read bucket only (IndexReadProvisionedThroughput-
//    Exceeded), and a write to the table needs write capacity in the table and in every
//    global index (IndexWriteProvisionedThroughputExceeded names the index that refused).
//    Each index is charged its own entry writes; local indexes share the table's capacity.
//  * PAY_PER_REQUEST tables (OnDemandScaling): a new table serves 4,000 write or 12,000 read
//    request units per second (or a linear combination) at once; traffic may reach double
//    the previous peak, and a higher peak counts as the previous one 30 minutes after
//    traffic first went above it (refusal: TableRead/WriteKeyRangeThroughputExceeded, as
//    DynamoDB scales on-demand tables by splitting partitions). Read and write request units
//    are also capped per table by OnDemandThroughput's MaxRead/WriteRequestUnits
//    (TableRead/WriteMaxOnDemandThroughputExceeded) and by DynamoDB's default per-table
//    quota of 40,000 each (TableRead/WriteAccountLimitExceeded).
//  * every table, either mode: each shard (DynamoDB's partition) serves at most 3,000 read
//    or 1,000 write units per second, or a linear combination (refusal:
//    TableRead/WriteKeyRangeThroughputExceeded). The shard is the engine's shard the
//    request's key routes to; after a split each new shard has a bucket of its own.
//  * a request is admitted while every bucket it draws on is not empty, and afterwards
//    charged the units it actually consumed (its item sizes are only known then), so a
//    bucket may go into debt that later refills repay, as DynamoDB does.
// The on-demand and per-shard buckets hold at most one second of capacity. An on-demand
// table's previous peak is kept in its settings (CapacityHistory::on_demand_peak_units,
// written when a higher peak counts), so a restart keeps its scaling; the buckets' balances
// are in memory (after a restart every bucket starts with one second of its capacity).
//
// It also counts, per table, what CloudWatch reports (docs/OPERATIONS.md has the mapping):
//   tidewater_consumed_read_capacity_units_total{table}     ConsumedReadCapacityUnits
//   tidewater_consumed_write_capacity_units_total{table}    ConsumedWriteCapacityUnits
//   tidewater_provisioned_read_capacity_units{table}        ProvisionedReadCapacityUnits
//   tidewater_provisioned_write_capacity_units{table}       ProvisionedWriteCapacityUnits
//   tidewater_read_throttle_events_total{table}             ReadThrottleEvents
//   tidewater_write_throttle_events_total{table}            WriteThrottleEvents
//   tidewater_throttled_requests_total{table,operation}     ThrottledRequests
// Every table the engine holds has these series (at 0 until used). Each global secondary
// index has the same series but ThrottledRequests, labelled {table,global_secondary_index}
// (CloudWatch's GlobalSecondaryIndexName dimension); the table's own exclude its indexes'.
//
// Thread safety: every method is safe for concurrent use. The hot path takes a shared lock
// of the table map once per request (Admit), the engine's routing of the key, and the
// table's own mutex on Admit and Charge.
#pragma once

#include <prometheus/collectable.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api_error.h"
#include "capacity.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/item_store.h"

namespace tidewater::server {

// Capacity units refilled at `rate` per second, holding at most `burst_seconds` of them.
// The balance may go negative (debt) when charges exceed it. Not thread-safe.
class TokenBucket {
 public:
  static constexpr double kBurstSeconds = 300;  // PROVISIONED tables' burst capacity

  // An empty bucket until Reset.
  explicit TokenBucket(double burst_seconds = kBurstSeconds) : burst_seconds_(burst_seconds) {}
  // Refills at `rate` from `now`, holding one second of capacity.
  void Reset(double rate, Clock::MonotonicTime now);
  // Changes the rate from `now` on; the balance is kept, up to the new burst maximum.
  void Resize(double rate, Clock::MonotonicTime now);
  // Whether a request may start at `now`: the balance is above zero.
  bool HasCapacity(Clock::MonotonicTime now);
  // Takes `units` at `now` (the balance may become negative).
  void Charge(double units, Clock::MonotonicTime now);
  // The balance at `now`.
  double Balance(Clock::MonotonicTime now);
  double rate() const { return rate_; }

 private:
  void Refill(Clock::MonotonicTime now);

  double burst_seconds_;
  double rate_ = 0;
  double balance_ = 0;
  Clock::MonotonicTime refilled_at_{};
};

// DynamoDB's on-demand scaling of one table, in write request units (a read request unit
// counts a third): it serves up to double its previous peak per second at once; traffic
// above the previous peak becomes the new previous peak (its highest second) 30 minutes
// after it first went above it. A new table's previous peak is half of 4,000 WRU/12,000 RRU.
// The peak never decreases. Not thread-safe.
class OnDemandScaling {
 public:
  static constexpr double kInitialWriteUnits = 4000;  // or 12,000 read request units
  static constexpr std::chrono::minutes kPeakWindow{30};

  // Starts with `previous_peak` units per second (at least half the initial throughput).
  void Reset(double previous_peak, Clock::MonotonicTime now);
  bool HasCapacity(Clock::MonotonicTime now);
  void Charge(double units, Clock::MonotonicTime now);
  // The units per second served at once now: double the previous peak.
  double Capacity(Clock::MonotonicTime now);
  // The previous peak as of the last call (at least half the initial throughput).
  double previous_peak() const { return previous_peak_; }

 private:
  void Advance(Clock::MonotonicTime now);

  TokenBucket bucket_{1};
  double previous_peak_ = 0;
  Clock::MonotonicTime second_start_{};  // the second being measured
  double second_units_ = 0;
  double rising_peak_ = 0;  // the highest second above the previous peak (0: none)
  Clock::MonotonicTime rising_since_{};
};

enum class CapacityKind { kRead, kWrite };

// Why a request was refused: DynamoDB's ThrottlingReason is Table|Index + Read|Write + this.
enum class Limit { kProvisioned, kKeyRange, kMaxOnDemand, kAccountLimit };

struct LimitedTable;

// What Admit hands back for Charge: the table's limiter state, the shard the request's key
// routes to and, for a read of a global index, the index, so that charging looks nothing up
// again. Cheap to copy; empty for a table the limiter does not know (the operation then
// fails with ResourceNotFoundException).
class CapacityTicket {
 public:
  CapacityTicket() = default;

 private:
  friend class ThroughputLimiter;
  std::shared_ptr<LimitedTable> table_;
  std::optional<uint32_t> shard_;
  std::string index_;  // AdmitIndexRead's index; empty for the table
};

// DynamoDB's message for a request its table's provisioned throughput refused.
inline constexpr std::string_view kThroughputExceededMessage =
    "The level of configured provisioned throughput for the table was exceeded. Consider "
    "increasing your provisioning level with the UpdateTable API.";
// DynamoDB's message for a write refused because a global index of the table had no write
// capacity left.
inline constexpr std::string_view kIndexThroughputExceededMessage =
    "The level of configured provisioned throughput for one or more global secondary indexes "
    "of the table was exceeded. Consider increasing your provisioning level for the "
    "under-provisioned global secondary indexes with the UpdateTable API";
// DynamoDB's message for a request a hot shard or on-demand scaling refused.
inline constexpr std::string_view kKeyRangeExceededMessage =
    "Throughput exceeds the current capacity of your table or index. DynamoDB is "
    "automatically scaling your table or index so please try again shortly. If exceptions "
    "persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html";
// For a request above the table's OnDemandThroughput maximum.
inline constexpr std::string_view kMaxOnDemandExceededMessage =
    "Throughput exceeds the maximum OnDemandThroughput configured on table or index";
// For a request above the default per-table quota (40,000 units per second).
inline constexpr std::string_view kAccountLimitExceededMessage =
    "Throughput exceeds the current throughput limit for your account. Please contact AWS "
    "Support at https://aws.amazon.com/support request a limit increase";

// DynamoDB's per-table and per-partition limits.
inline constexpr double kTableQuotaUnits = 40000;  // read and write, each (DescribeLimits)
inline constexpr double kShardReadUnits = 3000;
inline constexpr double kShardWriteUnits = 1000;

class ThroughputLimiter final : public prometheus::Collectable {
 public:
  // `engine` and `clock` are not owned. With `enabled` false nothing is throttled (units
  // are still counted).
  ThroughputLimiter(Engine* engine, const Clock* clock, std::string region, bool enabled);
  ~ThroughputLimiter() override;

  // A ticket when `table` may serve a `kind` request of `operation` on the item with key
  // `key` (nullptr: no single key, as Scan) now; otherwise ProvisionedThroughputExceeded-
  // Exception with its ThrottlingReasons in `details`, counted as a throttle event and a
  // throttled request. Unknown tables are admitted (the operation then answers
  // ResourceNotFoundException).
  Result<CapacityTicket> Admit(const std::string& table, CapacityKind kind,
                               std::string_view operation, const Item* key, ErrorDetails& details);
  // For one item of a batch or transaction: as Admit, but a refusal counts only a throttle
  // event (the handler counts the throttled request once, CountThrottledRequest).
  Result<CapacityTicket> AdmitItem(const std::string& table, CapacityKind kind, const Item& key,
                                   ErrorDetails& details);
  // A batch or transaction `operation` had items throttled on `table` (ThrottledRequests).
  void CountThrottledRequest(const std::string& table, std::string_view operation);
  // For a Query or Scan of `table`'s global secondary index `index`: as Admit, against the
  // index's own read capacity (a global index of a PROVISIONED table has its own; the
  // table's is not drawn on). The ticket charges the index.
  Result<CapacityTicket> AdmitIndexRead(const std::string& table, const std::string& index,
                                        std::string_view operation, ErrorDetails& details);
  // Charges `units` consumed by the request `ticket` admitted (counted in every mode): the
  // table's, or the global index's for an AdmitIndexRead ticket.
  void Charge(const CapacityTicket& ticket, CapacityKind kind, double units);
  // Charges a write's `cost`: its own and its local indexes' units to the table, each
  // global index's units to that index.
  void Charge(const CapacityTicket& ticket, const WriteCost& cost);

  // The units `table` (or, with `index`, that global secondary index of it) consumed since
  // it was first seen (or last forgotten, or the index was created), as {read, write};
  // nullopt when it does not exist. Application Auto Scaling samples it.
  std::optional<std::pair<double, double>> ConsumedTotals(const std::string& table,
                                                          std::string_view index = {}) const;
  // What the table is billed for, its global indexes' units included, with the time they
  // are counted from (cost estimates extrapolate a rate).
  struct ConsumedUnits {
    double read = 0;
    double write = 0;
    Clock::MonotonicTime since{};
  };
  std::optional<ConsumedUnits> Consumed(const std::string& table) const;

  // The table was created, or its billing or global indexes changed: the buckets follow
  // `table`'s settings and index throughputs at once.
  void Configure(const TableDescription& table);
  // The table was deleted.
  void Forget(const std::string& table);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  // The state of `table`, read from the engine on first use; nullptr when it does not exist.
  std::shared_ptr<LimitedTable> StateOf(const std::string& table) const;
  // ProvisionedThroughputExceededException for a refusal of `table` (or its global index
  // `index`), its ThrottlingReason in `details`.
  Status Refusal(const std::string& table, const std::string& index, CapacityKind kind, Limit limit,
                 ErrorDetails& details) const;
  // Stores `table`'s new on-demand previous peak in its settings.
  void PersistPeak(const std::string& table, double peak);
  Result<CapacityTicket> AdmitKey(const std::string& table, CapacityKind kind, const Item* key,
                                  std::optional<std::string_view> operation, ErrorDetails& details);

  Engine* engine_;
  const Clock* clock_;
  std::string region_;
  bool enabled_;
  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<LimitedTable>> tables_;
};

}  // namespace tidewater::server
