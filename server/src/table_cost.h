// What a table would cost per month on DynamoDB, at each table class (docs/OPERATIONS.md
// "Cost estimate"), so that an operator sees what switching class would save.
//
// EstimateMonthlyCost is the pure arithmetic: storage (GB-month of the table's approximate
// size), reads and writes (PROVISIONED: the provisioned units for every hour of the month;
// PAY_PER_REQUEST: the request units consumed at the observed rate for the whole month).
// Prices are DynamoDB's us-east-1 list prices for the Standard class; Standard-IA's are
// derived from them by DynamoDB's documented relation (storage 60% lower, reads and
// writes 25% higher). A month is 30 days (720 hours); a GB is 2^30 bytes. Free tiers,
// indexes, streams, backups and data transfer are not counted.
//
// TableCostEstimator measures the consumed rates and answers estimates for EstimateCost and
// /metrics:
//   tidewater_table_estimated_monthly_cost_dollars{table,table_class,component}
//       component storage|reads|writes, table_class STANDARD|STANDARD_INFREQUENT_ACCESS
//   tidewater_table_class_info{table,table_class}   1 for the class the table is in now
//
// Thread safety: the functions are pure; TableCostEstimator's methods are safe for
// concurrent use.
#pragma once

#include <prometheus/collectable.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "throughput_limiter.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table.h"

namespace tidewater::server {

inline constexpr double kHoursPerMonth = 30 * 24;
inline constexpr double kSecondsPerMonth = kHoursPerMonth * 3600;
inline constexpr double kBytesPerGb = 1024.0 * 1024.0 * 1024.0;

// The prices of one table class, in US dollars.
struct ClassPrices {
  double storage_per_gb_month = 0;
  double per_million_read_request_units = 0;   // PAY_PER_REQUEST
  double per_million_write_request_units = 0;  // PAY_PER_REQUEST
  double per_read_capacity_unit_hour = 0;      // PROVISIONED
  double per_write_capacity_unit_hour = 0;     // PROVISIONED
};

// DynamoDB's us-east-1 list prices of the Standard class (docs/OPERATIONS.md gives their
// date), and Standard-IA's derived from them.
ClassPrices PricesOf(TableClass table_class);

// What the estimate is computed from: the table's with its indexes' (storage, global
// indexes' provisioned and consumed units).
struct TableUsage {
  uint64_t size_bytes = 0;
  BillingMode billing_mode = BillingMode::kPayPerRequest;
  ProvisionedThroughput provisioned;  // PROVISIONED
  double read_units_per_second = 0;   // consumed; PAY_PER_REQUEST
  double write_units_per_second = 0;  // consumed; PAY_PER_REQUEST
};

// Dollars per month, by component.
struct MonthlyCost {
  double storage = 0;
  double reads = 0;
  double writes = 0;
  double total() const { return storage + reads + writes; }
};

// What `usage` costs per month at `prices`.
MonthlyCost EstimateMonthlyCost(const TableUsage& usage, const ClassPrices& prices);

// A table's estimate at both classes.
struct TableCostEstimate {
  std::string table;
  TableClass table_class = TableClass::kStandard;  // the class it is in now
  TableUsage usage;
  MonthlyCost standard;
  MonthlyCost infrequent_access;
  const MonthlyCost& At(TableClass cost_class) const {
    return cost_class == TableClass::kStandard ? standard : infrequent_access;
  }
};

// Estimates tables' monthly costs. A PAY_PER_REQUEST table's consumed rate is measured over
// a sliding window of about the last hour: each estimate notes the limiter's consumed
// totals (at most one note a minute is kept), and the rate is the units consumed since the
// oldest note of the window divided by the time since it. Until a table has been counted
// for an hour, the window starts when the limiter started counting it (its first request
// or estimate since the server started, or since it was created). `engine`, `clock` and
// `throughput` are not owned and must outlive it.
class TableCostEstimator final : public prometheus::Collectable {
 public:
  static constexpr std::chrono::minutes kWindow{60};
  static constexpr std::chrono::minutes kNoteSpacing{1};

  TableCostEstimator(Engine* engine, const Clock* clock, const ThroughputLimiter* throughput);

  // The estimate of `table` now; NotFound when it does not exist.
  Result<TableCostEstimate> Estimate(const std::string& table) const;
  // The estimates of every table, by name.
  Result<std::vector<TableCostEstimate>> EstimateAll() const;

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Note {
    Clock::MonotonicTime time;
    double read = 0;
    double write = 0;
  };
  struct Window {
    Clock::MonotonicTime counted_since;  // the limiter's, to notice it counting afresh
    std::deque<Note> notes;              // oldest first
  };

  TableCostEstimate EstimateOf(const TableDescription& table) const;
  // Notes the consumed totals of `table` and answers its {read, write} units per second.
  std::pair<double, double> ConsumedRates(const std::string& table) const;

  Engine* engine_;
  const Clock* clock_;
  const ThroughputLimiter* throughput_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, Window> windows_;  // by table name
};

}  // namespace tidewater::server
