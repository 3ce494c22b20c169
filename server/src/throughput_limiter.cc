#include "throughput_limiter.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <algorithm>
#include <array>
#include <map>

#include "server_metrics.h"
#include "tidewater/streams/resource_names.h"

namespace tidewater::server {
namespace {

// The operations that consume capacity: each table has a ThrottledRequests series for each.
constexpr std::array<std::string_view, 10> kCapacityOperations = {
    "GetItem", "PutItem",      "UpdateItem",     "DeleteItem",       "Query",
    "Scan",    "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems"};

double Seconds(Clock::MonotonicTime::duration elapsed) {
  return std::chrono::duration<double>(elapsed).count();
}

}  // namespace

void TokenBucket::Reset(double rate, Clock::MonotonicTime now) {
  rate_ = rate;
  balance_ = rate;
  refilled_at_ = now;
}

void TokenBucket::Refill(Clock::MonotonicTime now) {
  if (now > refilled_at_) {
    balance_ = std::min(balance_ + rate_ * Seconds(now - refilled_at_), rate_ * burst_seconds_);
    refilled_at_ = now;
  }
}

void TokenBucket::Resize(double rate, Clock::MonotonicTime now) {
  Refill(now);
  rate_ = rate;
  balance_ = std::min(balance_, rate_ * burst_seconds_);
}

bool TokenBucket::HasCapacity(Clock::MonotonicTime now) {
  Refill(now);
  return balance_ > 0;
}

void TokenBucket::Charge(double units, Clock::MonotonicTime now) {
  Refill(now);
  balance_ -= units;
}

double TokenBucket::Balance(Clock::MonotonicTime now) {
  Refill(now);
  return balance_;
}

void OnDemandScaling::Reset(double previous_peak, Clock::MonotonicTime now) {
  previous_peak_ = std::max(previous_peak, kInitialWriteUnits / 2);
  bucket_.Reset(2 * previous_peak_, now);
  second_start_ = now;
  second_units_ = 0;
  rising_peak_ = 0;
}

void OnDemandScaling::Advance(Clock::MonotonicTime now) {
  if (now - second_start_ >= std::chrono::seconds(1)) {
    // The measured second is over: traffic above the previous peak starts (or raises) a
    // rising peak.
    if (second_units_ > previous_peak_) {
      if (rising_peak_ == 0) rising_since_ = second_start_;
      rising_peak_ = std::max(rising_peak_, second_units_);
    }
    second_start_ = now;
    second_units_ = 0;
  }
  if (rising_peak_ > 0 && now - rising_since_ >= kPeakWindow) {
    previous_peak_ = rising_peak_;
    rising_peak_ = 0;
    // The new rate holds from the moment the peak counted (the refill before it is at the
    // old rate).
    bucket_.Resize(2 * previous_peak_, rising_since_ + kPeakWindow);
  }
}

bool OnDemandScaling::HasCapacity(Clock::MonotonicTime now) {
  Advance(now);
  return bucket_.HasCapacity(now);
}

void OnDemandScaling::Charge(double units, Clock::MonotonicTime now) {
  Advance(now);
  second_units_ += units;
  bucket_.Charge(units, now);
}

double OnDemandScaling::Capacity(Clock::MonotonicTime now) {
  Advance(now);
  return 2 * previous_peak_;
}

namespace {

// Why a request was refused: DynamoDB's ThrottlingReason is Table + Read|Write + this.
enum class Limit { kProvisioned, kKeyRange, kMaxOnDemand, kAccountLimit };

// Units in the write request units that per-shard and on-demand scaling limits count (a
// read unit is a third: 3,000 read or 1,000 write units per shard per second).
double WriteEquivalent(CapacityKind kind, double units) {
  return kind == CapacityKind::kRead ? units / 3 : units;
}

}  // namespace

struct LimitedTable {
  std::mutex mutex;
  bool provisioned = false;
  ProvisionedThroughput throughput;
  OnDemandThroughput on_demand;
  TokenBucket read;   // PROVISIONED
  TokenBucket write;  // PROVISIONED
  OnDemandScaling scaling;
  TokenBucket max_read{1};          // PAY_PER_REQUEST: the quota or MaxReadRequestUnits
  TokenBucket max_write{1};         // PAY_PER_REQUEST: the quota or MaxWriteRequestUnits
  std::vector<TokenBucket> shards;  // by shard index; write-equivalent units
  double consumed_read = 0;
  double consumed_write = 0;
  Clock::MonotonicTime counted_since{};  // when consumed_read/write started at 0
  uint64_t read_throttle_events = 0;
  uint64_t write_throttle_events = 0;
  std::map<std::string, uint64_t, std::less<>> throttled_requests;  // by operation

  void Apply(const TableSettings& settings, Clock::MonotonicTime now, bool fresh) {
    const bool was_provisioned = provisioned;
    const ProvisionedThroughput previous = throughput;
    const OnDemandThroughput previous_maximums = on_demand;
    provisioned = settings.billing_mode == BillingMode::kProvisioned;
    throughput = settings.provisioned;
    on_demand = settings.on_demand;
    auto rcu = static_cast<double>(throughput.read_capacity_units);
    auto wcu = static_cast<double>(throughput.write_capacity_units);
    if (fresh) {
      read.Reset(rcu, now);
      write.Reset(wcu, now);
      max_read.Reset(MaximumOf(on_demand.max_read_request_units), now);
      max_write.Reset(MaximumOf(on_demand.max_write_request_units), now);
      scaling.Reset(0, now);
    } else {
      read.Resize(rcu, now);
      write.Resize(wcu, now);
      // A changed maximum applies at once, starting with one second of its capacity.
      if (on_demand.max_read_request_units != previous_maximums.max_read_request_units) {
        max_read.Reset(MaximumOf(on_demand.max_read_request_units), now);
      }
      if (on_demand.max_write_request_units != previous_maximums.max_write_request_units) {
        max_write.Reset(MaximumOf(on_demand.max_write_request_units), now);
      }
      if (was_provisioned && !provisioned) {
        // Switched to PAY_PER_REQUEST: the previous peak is half the provisioned units.
        scaling.Reset((static_cast<double>(previous.write_capacity_units) +
                       static_cast<double>(previous.read_capacity_units) / 3) /
                          2,
                      now);
      }
    }
  }
  static double MaximumOf(int64_t max_request_units) {
    return max_request_units > 0
               ? std::min(static_cast<double>(max_request_units), kTableQuotaUnits)
               : kTableQuotaUnits;
  }
  TokenBucket& Provisioned(CapacityKind kind) { return kind == CapacityKind::kRead ? read : write; }
  TokenBucket& Maximum(CapacityKind kind) {
    return kind == CapacityKind::kRead ? max_read : max_write;
  }
  // The bucket of shard `index`, made (full) when the shard is new to the limiter.
  TokenBucket& Shard(uint32_t index, Clock::MonotonicTime now) {
    if (index >= shards.size()) shards.resize(index + 1, TokenBucket(1));
    TokenBucket& bucket = shards[index];
    if (bucket.rate() == 0) bucket.Reset(kShardWriteUnits, now);
    return bucket;
  }
  // The limit that refuses a `kind` request on `shard` now, or nullopt to admit it.
  std::optional<Limit> Refusing(CapacityKind kind, std::optional<uint32_t> shard,
                                Clock::MonotonicTime now) {
    if (provisioned) {
      if (!Provisioned(kind).HasCapacity(now)) return Limit::kProvisioned;
    } else {
      if (!Maximum(kind).HasCapacity(now)) {
        int64_t maximum = kind == CapacityKind::kRead ? on_demand.max_read_request_units
                                                      : on_demand.max_write_request_units;
        return maximum > 0 && static_cast<double>(maximum) <= kTableQuotaUnits
                   ? Limit::kMaxOnDemand
                   : Limit::kAccountLimit;
      }
      if (!scaling.HasCapacity(now)) return Limit::kKeyRange;
    }
    if (shard && !Shard(*shard, now).HasCapacity(now)) return Limit::kKeyRange;
    return std::nullopt;
  }
  void Charge(CapacityKind kind, std::optional<uint32_t> shard, double units,
              Clock::MonotonicTime now) {
    (kind == CapacityKind::kRead ? consumed_read : consumed_write) += units;
    if (provisioned) {
      Provisioned(kind).Charge(units, now);
    } else {
      Maximum(kind).Charge(units, now);
      scaling.Charge(WriteEquivalent(kind, units), now);
    }
    if (shard) Shard(*shard, now).Charge(WriteEquivalent(kind, units), now);
  }
  void CountThrottleEvent(CapacityKind kind) {
    ++(kind == CapacityKind::kRead ? read_throttle_events : write_throttle_events);
  }
  void CountThrottledRequest(std::string_view operation) {
    auto it = throttled_requests.find(operation);
    if (it == throttled_requests.end()) {
      throttled_requests.emplace(std::string(operation), 1);
    } else {
      ++it->second;
    }
  }
};

namespace {

// ProvisionedThroughputExceededException for `limit`, its reason in `details`.
Status Refusal(const std::string& arn, CapacityKind kind, Limit limit, ErrorDetails& details) {
  std::string reason = kind == CapacityKind::kRead ? "TableRead" : "TableWrite";
  std::string_view message;
  switch (limit) {
    case Limit::kProvisioned:
      reason += "ProvisionedThroughputExceeded";
      message = kThroughputExceededMessage;
      break;
    case Limit::kKeyRange:
      reason += "KeyRangeThroughputExceeded";
      message = kKeyRangeExceededMessage;
      break;
    case Limit::kMaxOnDemand:
      reason += "MaxOnDemandThroughputExceeded";
      message = kMaxOnDemandExceededMessage;
      break;
    case Limit::kAccountLimit:
      reason += "AccountLimitExceeded";
      message = kAccountLimitExceededMessage;
      break;
  }
  details.throttling_reasons.push_back({std::move(reason), arn});
  return Status(ErrorCode::kProvisionedThroughputExceeded, std::string(message));
}

}  // namespace

ThroughputLimiter::ThroughputLimiter(Engine* engine, const Clock* clock, std::string region,
                                     bool enabled)
    : engine_(engine), clock_(clock), region_(std::move(region)), enabled_(enabled) {}

ThroughputLimiter::~ThroughputLimiter() = default;

std::shared_ptr<LimitedTable> ThroughputLimiter::StateOf(const std::string& table) const {
  {
    std::shared_lock lock(mutex_);
    auto it = tables_.find(table);
    if (it != tables_.end()) return it->second;
  }
  auto description = engine_->DescribeTable(table);
  if (!description.ok()) return nullptr;
  auto state = std::make_shared<LimitedTable>();
  for (std::string_view operation : kCapacityOperations) {
    state->throttled_requests.emplace(std::string(operation), 0);
  }
  state->counted_since = clock_->MonotonicNow();
  state->Apply(description->settings, state->counted_since, true);
  std::unique_lock lock(mutex_);
  return tables_.emplace(table, std::move(state)).first->second;
}

Result<CapacityTicket> ThroughputLimiter::AdmitKey(const std::string& table, CapacityKind kind,
                                                   const Item* key,
                                                   std::optional<std::string_view> operation,
                                                   ErrorDetails& details) {
  CapacityTicket ticket;
  ticket.table_ = StateOf(table);
  if (ticket.table_ == nullptr || !enabled_) return ticket;
  if (key != nullptr) {
    // A key without the partition key routes nowhere: the operation refuses it anyway.
    auto shard = engine_->ShardForKey(table, *key);
    if (shard.ok()) ticket.shard_ = shard->value();
  }
  LimitedTable& state = *ticket.table_;
  std::optional<Limit> limit;
  {
    std::lock_guard lock(state.mutex);
    limit = state.Refusing(kind, ticket.shard_, clock_->MonotonicNow());
    if (!limit) return ticket;
    state.CountThrottleEvent(kind);
    if (operation) state.CountThrottledRequest(*operation);
  }
  return Refusal(streams::TableArn(region_, table), kind, *limit, details);
}

Result<CapacityTicket> ThroughputLimiter::Admit(const std::string& table, CapacityKind kind,
                                                std::string_view operation, const Item* key,
                                                ErrorDetails& details) {
  return AdmitKey(table, kind, key, operation, details);
}

Result<CapacityTicket> ThroughputLimiter::AdmitItem(const std::string& table, CapacityKind kind,
                                                    const Item& key, ErrorDetails& details) {
  return AdmitKey(table, kind, &key, std::nullopt, details);
}

void ThroughputLimiter::CountThrottledRequest(const std::string& table,
                                              std::string_view operation) {
  std::shared_ptr<LimitedTable> state = StateOf(table);
  if (state == nullptr) return;
  std::lock_guard lock(state->mutex);
  state->CountThrottledRequest(operation);
}

void ThroughputLimiter::Charge(const CapacityTicket& ticket, CapacityKind kind, double units) {
  if (ticket.table_ == nullptr) return;
  std::lock_guard lock(ticket.table_->mutex);
  ticket.table_->Charge(kind, ticket.shard_, units, clock_->MonotonicNow());
}

std::optional<std::pair<double, double>> ThroughputLimiter::ConsumedTotals(
    const std::string& table) const {
  std::shared_ptr<LimitedTable> state = StateOf(table);
  if (state == nullptr) return std::nullopt;
  std::lock_guard lock(state->mutex);
  return std::make_pair(state->consumed_read, state->consumed_write);
}

std::optional<ThroughputLimiter::ConsumedUnits> ThroughputLimiter::Consumed(
    const std::string& table) const {
  std::shared_ptr<LimitedTable> state = StateOf(table);
  if (state == nullptr) return std::nullopt;
  std::lock_guard lock(state->mutex);
  return ConsumedUnits{state->consumed_read, state->consumed_write, state->counted_since};
}

void ThroughputLimiter::Configure(const std::string& table, const TableSettings& settings) {
  std::shared_ptr<LimitedTable> state = StateOf(table);
  if (state == nullptr) return;
  std::lock_guard lock(state->mutex);
  state->Apply(settings, clock_->MonotonicNow(), false);
}

void ThroughputLimiter::Forget(const std::string& table) {
  std::unique_lock lock(mutex_);
  tables_.erase(table);
}

std::vector<prometheus::MetricFamily> ThroughputLimiter::Collect() const {
  using prometheus::MetricType;
  prometheus::MetricFamily consumed_read{"tidewater_consumed_read_capacity_units_total",
                                         "Read capacity units consumed (ConsumedReadCapacityUnits)",
                                         MetricType::Counter,
                                         {}};
  prometheus::MetricFamily consumed_write{
      "tidewater_consumed_write_capacity_units_total",
      "Write capacity units consumed (ConsumedWriteCapacityUnits)",
      MetricType::Counter,
      {}};
  prometheus::MetricFamily provisioned_read{
      "tidewater_provisioned_read_capacity_units",
      "Provisioned read capacity units; 0 for PAY_PER_REQUEST (ProvisionedReadCapacityUnits)",
      MetricType::Gauge,
      {}};
  prometheus::MetricFamily provisioned_write{
      "tidewater_provisioned_write_capacity_units",
      "Provisioned write capacity units; 0 for PAY_PER_REQUEST (ProvisionedWriteCapacityUnits)",
      MetricType::Gauge,
      {}};
  prometheus::MetricFamily read_events{
      "tidewater_read_throttle_events_total",
      "Read requests and batch items refused for lack of capacity (ReadThrottleEvents)",
      MetricType::Counter,
      {}};
  prometheus::MetricFamily write_events{
      "tidewater_write_throttle_events_total",
      "Write requests and batch items refused for lack of capacity (WriteThrottleEvents)",
      MetricType::Counter,
      {}};
  prometheus::MetricFamily throttled{
      "tidewater_throttled_requests_total",
      "Requests with at least one throttle event, by operation (ThrottledRequests)",
      MetricType::Counter,
      {}};
  std::optional<std::string> start;
  do {
    auto page = engine_->ListTables(start, 100);
    if (!page.ok()) break;
    for (const std::string& name : page->names) {
      std::shared_ptr<LimitedTable> state = StateOf(name);
      if (state == nullptr) continue;
      std::lock_guard lock(state->mutex);
      consumed_read.metric.push_back(TableSample(name, state->consumed_read, true));
      consumed_write.metric.push_back(TableSample(name, state->consumed_write, true));
      double provisioned = state->provisioned ? 1 : 0;
      provisioned_read.metric.push_back(TableSample(
          name, provisioned * static_cast<double>(state->throughput.read_capacity_units), false));
      provisioned_write.metric.push_back(TableSample(
          name, provisioned * static_cast<double>(state->throughput.write_capacity_units), false));
      read_events.metric.push_back(
          TableSample(name, static_cast<double>(state->read_throttle_events), true));
      write_events.metric.push_back(
          TableSample(name, static_cast<double>(state->write_throttle_events), true));
      for (const auto& [operation, count] : state->throttled_requests) {
        prometheus::ClientMetric metric = TableSample(name, static_cast<double>(count), true);
        metric.label.push_back({"operation", operation});
        throttled.metric.push_back(std::move(metric));
      }
    }
    start = page->last_evaluated_table_name;
  } while (start);
  return {std::move(consumed_read),     std::move(consumed_write), std::move(provisioned_read),
          std::move(provisioned_write), std::move(read_events),    std::move(write_events),
          std::move(throttled)};
}

}  // namespace tidewater::server
