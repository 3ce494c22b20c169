#include "throughput_limiter.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>
#include <spdlog/spdlog.h>

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

// Units in the write request units that per-shard and on-demand scaling limits count (a
// read unit is a third: 3,000 read or 1,000 write units per shard per second).
double WriteEquivalent(CapacityKind kind, double units) {
  return kind == CapacityKind::kRead ? units / 3 : units;
}

}  // namespace

// A global secondary index's own capacity: on a PROVISIONED table, token buckets at its
// provisioned units (a new index starts with one second of them); in either mode, what it
// consumed and how often it refused.
struct LimitedIndex {
  uint64_t read_capacity_units = 0;
  uint64_t write_capacity_units = 0;
  TokenBucket read;
  TokenBucket write;
  double consumed_read = 0;
  double consumed_write = 0;
  uint64_t read_throttle_events = 0;
  uint64_t write_throttle_events = 0;

  TokenBucket& Provisioned(CapacityKind kind) { return kind == CapacityKind::kRead ? read : write; }
};

struct LimitedTable {
  std::mutex mutex;
  std::string name;
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
  double stored_peak = 0;  // the on-demand previous peak the table's settings hold
  // The global indexes, by name (backfilling ones included: every write reaches them).
  std::map<std::string, LimitedIndex, std::less<>> global_indexes;

  void Apply(const TableDescription& table, Clock::MonotonicTime now, bool fresh) {
    Apply(table.settings, now, fresh);
    std::map<std::string, LimitedIndex, std::less<>> indexes;
    for (const IndexDescription& description : table.global_indexes) {
      const SecondaryIndex& definition = description.definition;
      auto rcu = static_cast<double>(definition.read_capacity_units);
      auto wcu = static_cast<double>(definition.write_capacity_units);
      auto existing = global_indexes.find(definition.name);
      LimitedIndex index;
      if (existing == global_indexes.end()) {
        index.read.Reset(rcu, now);
        index.write.Reset(wcu, now);
      } else {
        index = existing->second;
        index.read.Resize(rcu, now);
        index.write.Resize(wcu, now);
      }
      index.read_capacity_units = definition.read_capacity_units;
      index.write_capacity_units = definition.write_capacity_units;
      indexes.emplace(definition.name, index);
    }
    global_indexes = std::move(indexes);
  }
  void Apply(const TableSettings& settings, Clock::MonotonicTime now, bool fresh) {
    const bool was_provisioned = provisioned;
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
      scaling.Reset(settings.capacity.on_demand_peak_units, now);
      stored_peak = settings.capacity.on_demand_peak_units;
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
        // Switched to PAY_PER_REQUEST: the switch set the previous peak (half the
        // provisioned units, or an earlier higher peak).
        scaling.Reset(settings.capacity.on_demand_peak_units, now);
        stored_peak = std::max(stored_peak, settings.capacity.on_demand_peak_units);
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
  // The limit that refuses a `kind` request on `shard` now, or nullopt to admit it. On a
  // PROVISIONED table a write also needs write capacity in every global index (DynamoDB:
  // "the table and all of its global secondary indexes must have enough write capacity");
  // `index` receives the name of the index that refused.
  std::optional<Limit> Refusing(CapacityKind kind, std::optional<uint32_t> shard,
                                Clock::MonotonicTime now, std::string* index) {
    if (provisioned) {
      if (!Provisioned(kind).HasCapacity(now)) return Limit::kProvisioned;
      if (kind == CapacityKind::kWrite) {
        for (auto& [name, limits] : global_indexes) {
          if (!limits.write.HasCapacity(now)) {
            *index = name;
            return Limit::kProvisioned;
          }
        }
      }
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
  // A previous peak higher than the one the settings hold (to be stored), once.
  std::optional<double> PeakToStore() {
    if (provisioned ||
        scaling.previous_peak() <= std::max(stored_peak, OnDemandScaling::kInitialWriteUnits / 2)) {
      return std::nullopt;
    }
    stored_peak = scaling.previous_peak();
    return stored_peak;
  }
  // Charges global index `name` (nothing when the index has gone meanwhile).
  void ChargeIndex(std::string_view name, CapacityKind kind, double units,
                   Clock::MonotonicTime now) {
    auto index = global_indexes.find(name);
    if (index == global_indexes.end()) return;
    (kind == CapacityKind::kRead ? index->second.consumed_read : index->second.consumed_write) +=
        units;
    if (provisioned) index->second.Provisioned(kind).Charge(units, now);
  }
  // A refusal by the table (`index` empty) or by one of its global indexes.
  void CountThrottleEvent(CapacityKind kind, std::string_view index) {
    auto found = global_indexes.find(index);
    if (!index.empty() && found != global_indexes.end()) {
      ++(kind == CapacityKind::kRead ? found->second.read_throttle_events
                                     : found->second.write_throttle_events);
      return;
    }
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
  state->name = table;
  state->counted_since = clock_->MonotonicNow();
  state->Apply(*description, state->counted_since, true);
  std::unique_lock lock(mutex_);
  return tables_.emplace(table, std::move(state)).first->second;
}

Status ThroughputLimiter::Refusal(const std::string& table, const std::string& index,
                                  CapacityKind kind, Limit limit, ErrorDetails& details) const {
  std::string reason = index.empty() ? "Table" : "Index";
  reason += kind == CapacityKind::kRead ? "Read" : "Write";
  std::string_view message;
  switch (limit) {
    case Limit::kProvisioned:
      reason += "ProvisionedThroughputExceeded";
      message = !index.empty() && kind == CapacityKind::kWrite ? kIndexThroughputExceededMessage
                                                               : kThroughputExceededMessage;
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
  std::string arn = streams::TableArn(region_, table);
  if (!index.empty()) arn += "/index/" + index;
  details.throttling_reasons.push_back({std::move(reason), std::move(arn)});
  return Status(ErrorCode::kProvisionedThroughputExceeded, std::string(message));
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
  std::string index;
  {
    std::lock_guard lock(state.mutex);
    limit = state.Refusing(kind, ticket.shard_, clock_->MonotonicNow(), &index);
    if (!limit) return ticket;
    state.CountThrottleEvent(kind, index);
    if (operation) state.CountThrottledRequest(*operation);
  }
  return Refusal(table, index, kind, *limit, details);
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

Result<CapacityTicket> ThroughputLimiter::AdmitIndexRead(const std::string& table,
                                                         const std::string& index,
                                                         std::string_view operation,
                                                         ErrorDetails& details) {
  CapacityTicket ticket;
  ticket.table_ = StateOf(table);
  ticket.index_ = index;
  if (ticket.table_ == nullptr || !enabled_) return ticket;
  LimitedTable& state = *ticket.table_;
  {
    std::lock_guard lock(state.mutex);
    auto limits = state.global_indexes.find(index);
    // An index the limiter does not know yet (created meanwhile) is not limited.
    if (!state.provisioned || limits == state.global_indexes.end() ||
        limits->second.read.HasCapacity(clock_->MonotonicNow())) {
      return ticket;
    }
    state.CountThrottleEvent(CapacityKind::kRead, index);
    state.CountThrottledRequest(operation);
  }
  return Refusal(table, index, CapacityKind::kRead, Limit::kProvisioned, details);
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
  std::optional<double> peak;
  {
    std::lock_guard lock(ticket.table_->mutex);
    if (!ticket.index_.empty()) {
      ticket.table_->ChargeIndex(ticket.index_, kind, units, clock_->MonotonicNow());
      return;
    }
    ticket.table_->Charge(kind, ticket.shard_, units, clock_->MonotonicNow());
    peak = ticket.table_->PeakToStore();
  }
  if (peak) PersistPeak(ticket.table_->name, *peak);
}

void ThroughputLimiter::Charge(const CapacityTicket& ticket, const WriteCost& cost) {
  if (ticket.table_ == nullptr) return;
  const Clock::MonotonicTime now = clock_->MonotonicNow();
  double table_units = cost.table;
  std::optional<double> peak;
  {
    std::lock_guard lock(ticket.table_->mutex);
    for (const WriteCost::Index& index : cost.indexes) {
      if (index.global) {
        ticket.table_->ChargeIndex(index.name, CapacityKind::kWrite, index.units, now);
      } else {
        table_units += index.units;  // a local index shares its table's capacity
      }
    }
    ticket.table_->Charge(CapacityKind::kWrite, ticket.shard_, table_units, now);
    peak = ticket.table_->PeakToStore();
  }
  if (peak) PersistPeak(ticket.table_->name, *peak);
}

void ThroughputLimiter::PersistPeak(const std::string& table, double peak) {
  auto stored = engine_->UpdateTableSettings(table, [peak](const TableDescription&, int64_t,
                                                           TableSettings& settings) {
    settings.capacity.on_demand_peak_units = std::max(settings.capacity.on_demand_peak_units, peak);
    return Status::Ok();
  });
  if (!stored.ok()) {
    // Kept in memory all the same; a restart starts from the last peak stored.
    spdlog::warn("event=on_demand_peak_not_stored table={} peak={} error=\"{}\"", table, peak,
                 stored.status().message());
  } else {
    spdlog::info("event=on_demand_peak table={} write_units_per_second={}", table, peak);
  }
}

std::optional<std::pair<double, double>> ThroughputLimiter::ConsumedTotals(
    const std::string& table, std::string_view index) const {
  std::shared_ptr<LimitedTable> state = StateOf(table);
  if (state == nullptr) return std::nullopt;
  std::lock_guard lock(state->mutex);
  if (index.empty()) return std::make_pair(state->consumed_read, state->consumed_write);
  auto limits = state->global_indexes.find(index);
  if (limits == state->global_indexes.end()) return std::nullopt;
  return std::make_pair(limits->second.consumed_read, limits->second.consumed_write);
}

std::optional<ThroughputLimiter::ConsumedUnits> ThroughputLimiter::Consumed(
    const std::string& table) const {
  std::shared_ptr<LimitedTable> state = StateOf(table);
  if (state == nullptr) return std::nullopt;
  std::lock_guard lock(state->mutex);
  ConsumedUnits units{state->consumed_read, state->consumed_write, state->counted_since};
  for (const auto& [name, index] : state->global_indexes) {
    units.read += index.consumed_read;
    units.write += index.consumed_write;
  }
  return units;
}

void ThroughputLimiter::Configure(const TableDescription& table) {
  std::shared_ptr<LimitedTable> state = StateOf(table.name);
  if (state == nullptr) return;
  std::lock_guard lock(state->mutex);
  state->Apply(table, clock_->MonotonicNow(), false);
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
      for (const auto& [index, limits] : state->global_indexes) {
        // CloudWatch's TableName + GlobalSecondaryIndexName series.
        auto sample = [&, &index = index](double value, bool counter) {
          prometheus::ClientMetric metric = TableSample(name, value, counter);
          metric.label.push_back({"global_secondary_index", index});
          return metric;
        };
        consumed_read.metric.push_back(sample(limits.consumed_read, true));
        consumed_write.metric.push_back(sample(limits.consumed_write, true));
        provisioned_read.metric.push_back(
            sample(provisioned * static_cast<double>(limits.read_capacity_units), false));
        provisioned_write.metric.push_back(
            sample(provisioned * static_cast<double>(limits.write_capacity_units), false));
        read_events.metric.push_back(
            sample(static_cast<double>(limits.read_throttle_events), true));
        write_events.metric.push_back(
            sample(static_cast<double>(limits.write_throttle_events), true));
      }
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
