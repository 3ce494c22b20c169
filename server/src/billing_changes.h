// UpdateTable's BillingMode and ProvisionedThroughput changes, with DynamoDB's rules:
//  * to PROVISIONED at any time; ProvisionedThroughput is then required;
//  * from PROVISIONED to PAY_PER_REQUEST at most 4 times in a rolling 24 hours
//    (LimitExceededException);
//  * ProvisionedThroughput only while (or when becoming) PROVISIONED, and not the values
//    the table already has (ValidationException);
//  * increases at any time; decreases 4 times in a UTC day, then once an hour after the
//    last decrease (LimitExceededException);
// recording in the settings' CapacityHistory what DescribeTable reports
// (LastIncreaseDateTime, LastDecreaseDateTime, NumberOfDecreasesToday,
// LastUpdateToPayPerRequestDateTime). Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "tidewater/core/status.h"
#include "tidewater/core/table.h"

namespace tidewater::server {

struct BillingChange {
  std::optional<BillingMode> mode;  // BillingMode, when given
  std::optional<ProvisionedThroughput> throughput;
};

// Applies `change` to `settings` at `now_micros`, or refuses it (settings unchanged).
Status ApplyBillingChange(const BillingChange& change, int64_t now_micros, TableSettings& settings);

// NumberOfDecreasesToday: the decreases during the UTC day of `now_micros`.
uint32_t DecreasesToday(const CapacityHistory& capacity, int64_t now_micros);

}  // namespace tidewater::server
