// UpdateTable's BillingMode and ProvisionedThroughput changes, with DynamoDB's rules:
//  * to PROVISIONED at any time; ProvisionedThroughput is then required;
//  * from PROVISIONED to PAY_PER_REQUEST at most 4 times in a rolling 24 hours
//    (LimitExceededException);
//  * ProvisionedThroughput only while (or when becoming) PROVISIONED, and not the values
//    the table already has (ValidationException);
//  * OnDemandThroughput only while (or when becoming) PAY_PER_REQUEST; each maximum given
//    replaces the table's (-1 removes it); a switch to PROVISIONED drops both maximums;
//  * increases at any time; decreases 4 times in a UTC day, then once an hour after the
//    last decrease (LimitExceededException);
// recording in the settings' CapacityHistory what DescribeTable reports
// (LastIncreaseDateTime, LastDecreaseDateTime, NumberOfDecreasesToday,
// LastUpdateToPayPerRequestDateTime). A global index's throughput follows the same rules
// for a change, with a history of its own. Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "tidewater/core/status.h"
#include "tidewater/core/table.h"

namespace tidewater::server {

struct BillingChange {
  std::optional<BillingMode> mode;  // BillingMode, when given
  std::optional<ProvisionedThroughput> throughput;
  // OnDemandThroughput's members, each when given (-1: no maximum).
  std::optional<int64_t> max_read_request_units;
  std::optional<int64_t> max_write_request_units;
  bool on_demand_given() const { return max_read_request_units || max_write_request_units; }
};

// The ValidationException for OnDemandThroughput on a table that is not PAY_PER_REQUEST.
Status OnDemandThroughputNotAllowed();

// Applies `change` to `settings` at `now_micros`, or refuses it (settings unchanged).
Status ApplyBillingChange(const BillingChange& change, int64_t now_micros, TableSettings& settings);

// UpdateTable's Update of a global index's ProvisionedThroughput to `requested` at
// `now_micros`, with the table's rules for a change (not the values it has; decreases 4 times
// a UTC day, then once an hour) counted per index in `index.capacity`; refused: `index`
// unchanged.
Status ChangeIndexThroughput(const ProvisionedThroughput& requested, int64_t now_micros,
                             SecondaryIndex& index);

// NumberOfDecreasesToday: the decreases during the UTC day of `now_micros`.
uint32_t DecreasesToday(const CapacityHistory& capacity, int64_t now_micros);

}  // namespace tidewater::server
