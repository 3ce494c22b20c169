// The time of an AT_TIMESTAMP starting position as the CLI configurations take it
// (trigger StartingPositionTimestamp, sink starting_timestamp).
#pragma once

#include <cstdint>
#include <string_view>

#include "tidewater/core/status.h"

namespace tidewater::cli {

// `text` is either seconds since the epoch, a fraction allowed ("1733356800",
// "1733356800.25"), or an ISO-8601 date and time with its offset
// ("2024-12-04T23:10:00Z", "2024-12-04T23:10:00.123456+01:00"; fractions below a
// micro-second are dropped). Returns micro-seconds since the epoch. Errors: Validation.
Result<int64_t> ParseStartingTime(std::string_view text);

}  // namespace tidewater::cli
