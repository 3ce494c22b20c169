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
    balance_ = std::min(balance_ + rate_ * Seconds(now - refilled_at_), rate_ * kBurstSeconds);
    refilled_at_ = now;
  }
}

void TokenBucket::Resize(double rate, Clock::MonotonicTime now) {
  Refill(now);
  rate_ = rate;
  balance_ = std::min(balance_, rate_ * kBurstSeconds);
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

struct ThroughputLimiter::TableState {
  std::mutex mutex;
  bool provisioned = false;
  ProvisionedThroughput throughput;
  TokenBucket read;
  TokenBucket write;
  double consumed_read = 0;
  double consumed_write = 0;
  uint64_t read_throttle_events = 0;
  uint64_t write_throttle_events = 0;
  std::map<std::string, uint64_t, std::less<>> throttled_requests;  // by operation

  void Apply(const TableSettings& settings, Clock::MonotonicTime now, bool fresh) {
    provisioned = settings.billing_mode == BillingMode::kProvisioned;
    throughput = settings.provisioned;
    auto rcu = static_cast<double>(throughput.read_capacity_units);
    auto wcu = static_cast<double>(throughput.write_capacity_units);
    if (fresh) {
      read.Reset(rcu, now);
      write.Reset(wcu, now);
    } else {
      read.Resize(rcu, now);
      write.Resize(wcu, now);
    }
  }
  TokenBucket& Bucket(CapacityKind kind) { return kind == CapacityKind::kRead ? read : write; }
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

ThroughputLimiter::ThroughputLimiter(Engine* engine, const Clock* clock, std::string region,
                                     bool enabled)
    : engine_(engine), clock_(clock), region_(std::move(region)), enabled_(enabled) {}

ThroughputLimiter::~ThroughputLimiter() = default;

std::shared_ptr<ThroughputLimiter::TableState> ThroughputLimiter::StateOf(
    const std::string& table) const {
  {
    std::shared_lock lock(mutex_);
    auto it = tables_.find(table);
    if (it != tables_.end()) return it->second;
  }
  auto description = engine_->DescribeTable(table);
  if (!description.ok()) return nullptr;
  auto state = std::make_shared<TableState>();
  for (std::string_view operation : kCapacityOperations) {
    state->throttled_requests.emplace(std::string(operation), 0);
  }
  state->Apply(description->settings, clock_->MonotonicNow(), true);
  std::unique_lock lock(mutex_);
  return tables_.emplace(table, std::move(state)).first->second;
}

Status ThroughputLimiter::Throttled(const std::string& table, CapacityKind kind,
                                    ErrorDetails& details) const {
  details.throttling_reasons.push_back({kind == CapacityKind::kRead
                                            ? "TableReadProvisionedThroughputExceeded"
                                            : "TableWriteProvisionedThroughputExceeded",
                                        streams::TableArn(region_, table)});
  return Status(ErrorCode::kProvisionedThroughputExceeded, std::string(kThroughputExceededMessage));
}

Status ThroughputLimiter::Admit(const std::string& table, CapacityKind kind,
                                std::string_view operation, ErrorDetails& details) {
  if (!enabled_) return Status::Ok();
  std::shared_ptr<TableState> state = StateOf(table);
  if (state == nullptr) return Status::Ok();
  {
    std::lock_guard lock(state->mutex);
    if (!state->provisioned || state->Bucket(kind).HasCapacity(clock_->MonotonicNow())) {
      return Status::Ok();
    }
    state->CountThrottleEvent(kind);
    state->CountThrottledRequest(operation);
  }
  return Throttled(table, kind, details);
}

bool ThroughputLimiter::AdmitItem(const std::string& table, CapacityKind kind) {
  if (!enabled_) return true;
  std::shared_ptr<TableState> state = StateOf(table);
  if (state == nullptr) return true;
  std::lock_guard lock(state->mutex);
  if (!state->provisioned || state->Bucket(kind).HasCapacity(clock_->MonotonicNow())) return true;
  state->CountThrottleEvent(kind);
  return false;
}

void ThroughputLimiter::CountThrottledRequest(const std::string& table,
                                              std::string_view operation) {
  std::shared_ptr<TableState> state = StateOf(table);
  if (state == nullptr) return;
  std::lock_guard lock(state->mutex);
  state->CountThrottledRequest(operation);
}

void ThroughputLimiter::Charge(const std::string& table, CapacityKind kind, double units) {
  std::shared_ptr<TableState> state = StateOf(table);
  if (state == nullptr) return;
  std::lock_guard lock(state->mutex);
  (kind == CapacityKind::kRead ? state->consumed_read : state->consumed_write) += units;
  if (state->provisioned) state->Bucket(kind).Charge(units, clock_->MonotonicNow());
}

std::optional<std::pair<double, double>> ThroughputLimiter::ConsumedTotals(
    const std::string& table) const {
  std::shared_ptr<TableState> state = StateOf(table);
  if (state == nullptr) return std::nullopt;
  std::lock_guard lock(state->mutex);
  return std::make_pair(state->consumed_read, state->consumed_write);
}

void ThroughputLimiter::Configure(const std::string& table, const TableSettings& settings) {
  std::shared_ptr<TableState> state = StateOf(table);
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
      std::shared_ptr<TableState> state = StateOf(name);
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
