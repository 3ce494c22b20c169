#include "billing_changes.h"

#include <algorithm>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace tidewater::server {
namespace {

constexpr int64_t kHourMicros = 3600LL * 1'000'000;
constexpr int64_t kDayMicros = 24 * kHourMicros;
constexpr uint32_t kFreeDecreasesPerDay = 4;
constexpr size_t kPayPerRequestSwitchesPerDay = 4;

int64_t UtcDay(int64_t micros) { return micros / kDayMicros; }

// "Wednesday, July 25, 2018 8:48:14 PM UTC", as DynamoDB writes times in these messages.
std::string LimitTime(int64_t micros) {
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[96];
  std::strftime(buffer, sizeof(buffer), "%A, %B %-d, %Y %-I:%M:%S %p UTC", &tm);
  return buffer;
}

// Changes `current` (the throughput of `subject`: "table" or "index <name>") to
// `requested` under DynamoDB's limit on decreases, recording the change in `capacity`.
Status ChangeThroughputOf(std::string_view subject, const ProvisionedThroughput& requested,
                          int64_t now_micros, ProvisionedThroughput& current,
                          CapacityHistory& capacity) {
  if (requested == current) {
    const std::string read = std::to_string(current.read_capacity_units);
    const std::string write = std::to_string(current.write_capacity_units);
    const std::string of = "for the " + std::string(subject);
    return Status::Validation(
        "The provisioned throughput " + of +
        " will not change. The requested value equals the current value. Current "
        "ReadCapacityUnits provisioned " +
        of + ": " + read + ". Requested ReadCapacityUnits: " + read +
        ". Current WriteCapacityUnits provisioned " + of + ": " + write +
        ". Requested WriteCapacityUnits: " + write +
        ". Refer to the Amazon DynamoDB Developer Guide for current limits and how to request "
        "higher limits.");
  }
  const bool decrease = requested.read_capacity_units < current.read_capacity_units ||
                        requested.write_capacity_units < current.write_capacity_units;
  const bool increase = requested.read_capacity_units > current.read_capacity_units ||
                        requested.write_capacity_units > current.write_capacity_units;
  if (decrease) {
    const uint32_t today = DecreasesToday(capacity, now_micros);
    const int64_t next = capacity.last_decrease_micros + kHourMicros;
    if (today >= kFreeDecreasesPerDay && now_micros < next) {
      return Status(ErrorCode::kLimitExceeded,
                    "Subscriber limit exceeded: Provisioned throughput decreases are limited "
                    "within a given UTC day. After the first 4 decreases, each subsequent "
                    "decrease in the same UTC day can be performed at most once every 3600 "
                    "seconds. Number of decreases today: " +
                        std::to_string(today) + ". Last decrease at " +
                        LimitTime(capacity.last_decrease_micros) +
                        ". Next decrease can be made at " + LimitTime(next));
    }
    capacity.decreases_on_last_decrease_day = today + 1;
    capacity.last_decrease_micros = now_micros;
  }
  if (increase) capacity.last_increase_micros = now_micros;
  current = requested;
  return Status::Ok();
}

Status SwitchToPayPerRequest(int64_t now_micros, TableSettings& settings) {
  CapacityHistory& capacity = settings.capacity;
  std::vector<int64_t>& switches = capacity.pay_per_request_switch_micros;
  std::erase_if(switches, [&](int64_t at) { return at <= now_micros - kDayMicros; });
  if (switches.size() >= kPayPerRequestSwitchesPerDay) {
    return Status(ErrorCode::kLimitExceeded,
                  "Subscriber limit exceeded: Update to PayPerRequest mode are limited to 4 "
                  "times in 1 day(s). Last update at " +
                      LimitTime(switches.back()) + ". Next update can be made at " +
                      LimitTime(switches.front() + kDayMicros));
  }
  switches.push_back(now_micros);
  capacity.last_pay_per_request_micros = now_micros;
  // The previous peak of a table switched to on demand: half its provisioned throughput
  // (in write units; a read unit is a third), or its own earlier peak when that was higher.
  const ProvisionedThroughput& provisioned = settings.provisioned;
  capacity.on_demand_peak_units = std::max(
      capacity.on_demand_peak_units, (static_cast<double>(provisioned.write_capacity_units) +
                                      static_cast<double>(provisioned.read_capacity_units) / 3) /
                                         2);
  settings.billing_mode = BillingMode::kPayPerRequest;
  settings.provisioned = ProvisionedThroughput();
  return Status::Ok();
}

}  // namespace

uint32_t DecreasesToday(const CapacityHistory& capacity, int64_t now_micros) {
  if (capacity.last_decrease_micros == 0 ||
      UtcDay(capacity.last_decrease_micros) != UtcDay(now_micros)) {
    return 0;
  }
  return capacity.decreases_on_last_decrease_day;
}

Status OnDemandThroughputNotAllowed() {
  return Status::Validation(
      "One or more parameter values were invalid: OnDemandThroughput can only be specified "
      "when BillingMode is PAY_PER_REQUEST");
}

Status ApplyBillingChange(const BillingChange& change, int64_t now_micros,
                          TableSettings& settings) {
  const BillingMode mode = change.mode.value_or(settings.billing_mode);
  TableSettings updated = settings;
  if (mode == BillingMode::kPayPerRequest) {
    if (change.throughput) {
      return Status::Validation(
          "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
          "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    }
    if (updated.billing_mode == BillingMode::kProvisioned) {
      TW_RETURN_IF_ERROR(SwitchToPayPerRequest(now_micros, updated));
    }
    if (change.max_read_request_units) {
      updated.on_demand.max_read_request_units = *change.max_read_request_units;
    }
    if (change.max_write_request_units) {
      updated.on_demand.max_write_request_units = *change.max_write_request_units;
    }
  } else if (change.on_demand_given()) {
    return OnDemandThroughputNotAllowed();
  } else if (updated.billing_mode == BillingMode::kPayPerRequest) {
    if (!change.throughput) {
      return Status::Validation(
          "One or more parameter values were invalid: ProvisionedThroughput must be specified "
          "when BillingMode is PROVISIONED");
    }
    updated.billing_mode = BillingMode::kProvisioned;
    updated.provisioned = *change.throughput;
    updated.on_demand = OnDemandThroughput();
  } else if (change.throughput) {
    TW_RETURN_IF_ERROR(ChangeThroughputOf("table", *change.throughput, now_micros,
                                          updated.provisioned, updated.capacity));
  }
  settings = std::move(updated);
  return Status::Ok();
}

Status ChangeIndexThroughput(const ProvisionedThroughput& requested, int64_t now_micros,
                             SecondaryIndex& index) {
  ProvisionedThroughput current{static_cast<int64_t>(index.read_capacity_units),
                                static_cast<int64_t>(index.write_capacity_units)};
  TW_RETURN_IF_ERROR(
      ChangeThroughputOf("index " + index.name, requested, now_micros, current, index.capacity));
  index.read_capacity_units = static_cast<uint64_t>(current.read_capacity_units);
  index.write_capacity_units = static_cast<uint64_t>(current.write_capacity_units);
  return Status::Ok();
}

}  // namespace tidewater::server
