// Throttling of PROVISIONED tables, with DynamoDB's rules:
//  * each table has a token bucket for reads and one for writes, refilled at the provisioned
//    units per second; unused capacity is kept for up to 300 seconds (burst capacity);
//  * a request is admitted while its bucket is not empty, and afterwards charged the units it
//    actually consumed (its item sizes are only known then), so the bucket may go into debt
//    that later refills repay, as DynamoDB does;
//  * PAY_PER_REQUEST tables are never throttled here (their units are still counted);
//  * UpdateTable resizes the buckets at once (Configure).
// A new table's buckets start with one second of its capacity.
//
// It also counts, per table, what CloudWatch reports (docs/OPERATIONS.md has the mapping):
//   tidewater_consumed_read_capacity_units_total{table}     ConsumedReadCapacityUnits
//   tidewater_consumed_write_capacity_units_total{table}    ConsumedWriteCapacityUnits
//   tidewater_provisioned_read_capacity_units{table}        ProvisionedReadCapacityUnits
//   tidewater_provisioned_write_capacity_units{table}       ProvisionedWriteCapacityUnits
//   tidewater_read_throttle_events_total{table}             ReadThrottleEvents
//   tidewater_write_throttle_events_total{table}            WriteThrottleEvents
//   tidewater_throttled_requests_total{table,operation}     ThrottledRequests
// Every table the engine holds has these series (at 0 until used).
//
// Thread safety: every method is safe for concurrent use. The hot path takes a shared lock
// of the table map and the table's own mutex.
#pragma once

#include <prometheus/collectable.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "api_error.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"

namespace tidewater::server {

// Capacity units refilled at `rate` per second, holding at most kBurstSeconds of them.
// The balance may go negative (debt) when charges exceed it. Not thread-safe.
class TokenBucket {
 public:
  static constexpr double kBurstSeconds = 300;

  // An empty bucket until Reset.
  TokenBucket() = default;
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

  double rate_ = 0;
  double balance_ = 0;
  Clock::MonotonicTime refilled_at_{};
};

enum class CapacityKind { kRead, kWrite };

// DynamoDB's message for a request its table's provisioned throughput refused.
inline constexpr std::string_view kThroughputExceededMessage =
    "The level of configured provisioned throughput for the table was exceeded. Consider "
    "increasing your provisioning level with the UpdateTable API.";

class ThroughputLimiter final : public prometheus::Collectable {
 public:
  // `engine` and `clock` are not owned. With `enabled` false nothing is throttled (units
  // are still counted).
  ThroughputLimiter(Engine* engine, const Clock* clock, std::string region, bool enabled);
  ~ThroughputLimiter() override;

  // Ok when `table` may serve a `kind` request of `operation` now; otherwise
  // ProvisionedThroughputExceededException with its ThrottlingReasons in `details`, counted
  // as a throttle event and a throttled request. Unknown tables are admitted (the
  // operation then answers ResourceNotFoundException).
  Status Admit(const std::string& table, CapacityKind kind, std::string_view operation,
               ErrorDetails& details);
  // For one item of a batch: whether it may run now; a refusal counts one throttle event.
  bool AdmitItem(const std::string& table, CapacityKind kind);
  // A batch or transaction `operation` had items throttled on `table` (ThrottledRequests).
  void CountThrottledRequest(const std::string& table, std::string_view operation);
  // The answer for a request of which nothing could run, with `details` filled as Admit does.
  Status Throttled(const std::string& table, CapacityKind kind, ErrorDetails& details) const;
  // Charges `units` consumed by `table` (counted even when it is not PROVISIONED).
  void Charge(const std::string& table, CapacityKind kind, double units);

  // The units `table` consumed since it was first seen (or last forgotten), as
  // {read, write}; nullopt when it does not exist. Application Auto Scaling samples it.
  std::optional<std::pair<double, double>> ConsumedTotals(const std::string& table) const;

  // The table was created or its billing changed: the buckets follow `settings` at once.
  void Configure(const std::string& table, const TableSettings& settings);
  // The table was deleted.
  void Forget(const std::string& table);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct TableState;
  // The state of `table`, read from the engine on first use; nullptr when it does not exist.
  std::shared_ptr<TableState> StateOf(const std::string& table) const;

  Engine* engine_;
  const Clock* clock_;
  std::string region_;
  bool enabled_;
  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<TableState>> tables_;
};

}  // namespace tidewater::server
