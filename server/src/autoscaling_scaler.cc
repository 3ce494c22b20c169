#include "autoscaling_scaler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "billing_changes.h"

namespace tidewater::server {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

int64_t Provisioned(const ProvisionedThroughput& throughput, ScalableDimension dimension) {
  return dimension == ScalableDimension::kRead ? throughput.read_capacity_units
                                               : throughput.write_capacity_units;
}

std::string_view UnitsName(ScalableDimension dimension) {
  return dimension == ScalableDimension::kRead ? "read capacity units" : "write capacity units";
}

// Whether the last `count` datapoints all satisfy `pass`.
template <typename Predicate>
bool LastDatapointsAll(const std::deque<double>& datapoints, size_t count, Predicate pass) {
  if (datapoints.size() < count) return false;
  return std::all_of(datapoints.end() - static_cast<std::ptrdiff_t>(count), datapoints.end(), pass);
}

bool CooledDown(const std::optional<int64_t>& last_micros, int64_t cooldown_seconds,
                int64_t now_micros) {
  return !last_micros || now_micros >= *last_micros + cooldown_seconds * kMicrosPerSecond;
}

std::string AlarmCause(const std::string& alarm, const TrackingPolicy& policy) {
  return "monitor alarm " + alarm + " in state ALARM triggered policy " + policy.name;
}

const SecondaryIndex* FindGlobalIndex(const TableDescription& table, std::string_view index) {
  for (const IndexDescription& description : table.global_indexes) {
    if (description.definition.name == index) return &description.definition;
  }
  return nullptr;
}

}  // namespace

std::optional<int64_t> CurrentCapacity(const TableDescription& table,
                                       const ScalableTarget& target) {
  if (table.settings.billing_mode != BillingMode::kProvisioned) return std::nullopt;
  if (target.index.empty()) return Provisioned(table.settings.provisioned, target.dimension);
  const SecondaryIndex* index = FindGlobalIndex(table, target.index);
  if (index == nullptr || index->backfilling) return std::nullopt;
  return static_cast<int64_t>(target.dimension == ScalableDimension::kRead
                                  ? index->read_capacity_units
                                  : index->write_capacity_units);
}

std::optional<ScalingProposal> DecideScaling(const ScalableTarget& target,
                                             const std::vector<TrackingPolicy>& policies,
                                             const TargetHistory& history, int64_t current_capacity,
                                             int64_t now_micros) {
  if (history.datapoints.empty() || policies.empty()) return std::nullopt;
  const double latest = history.datapoints.back();
  const auto capacity = static_cast<double>(current_capacity);
  std::optional<ScalingProposal> out;
  std::optional<ScalingProposal> in;
  bool every_policy_scales_in = true;
  for (const TrackingPolicy& policy : policies) {
    const double ratio = policy.target_value / 100;
    auto desired = static_cast<int64_t>(std::ceil(latest / ratio - 1e-9));
    desired = std::clamp(desired, target.min_capacity, target.max_capacity);
    const double high = capacity * ratio;
    const double low = capacity * (policy.target_value - kScaleInMarginPercent) / 100;
    if (LastDatapointsAll(history.datapoints, kScaleOutDatapoints,
                          [&](double d) { return d > high; }) &&
        desired > current_capacity && !target.scale_out_suspended &&
        CooledDown(history.last_scale_out_micros, policy.scale_out_cooldown_seconds, now_micros)) {
      if (!out || desired > out->capacity) {
        out = ScalingProposal{desired, true, AlarmCause(policy.alarm_high, policy)};
      }
    }
    const bool scales_in =
        !policy.disable_scale_in && !target.scale_in_suspended &&
        LastDatapointsAll(history.datapoints, kScaleInDatapoints,
                          [&](double d) { return d < low; }) &&
        desired < current_capacity &&
        CooledDown(history.last_scale_in_micros, policy.scale_in_cooldown_seconds, now_micros);
    if (!scales_in) {
      every_policy_scales_in = false;
    } else if (!in || desired > in->capacity) {
      in = ScalingProposal{desired, false, AlarmCause(policy.alarm_low, policy)};
    }
  }
  if (out) return out;
  if (every_policy_scales_in) return in;
  return std::nullopt;
}

AutoScaler::AutoScaler(Engine* engine, Clock* clock, ThroughputLimiter* throughput,
                       AutoScalingRegistry* registry)
    : engine_(engine), clock_(clock), throughput_(throughput), registry_(registry) {}

AutoScaler::~AutoScaler() { Stop(); }

void AutoScaler::Stop() {
  stop_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void AutoScaler::Start(std::chrono::milliseconds period) {
  thread_ = std::thread([this, period, stop = stop_.get_token()] {
    while (clock_->SleepFor(period, stop)) EvaluateNow();
  });
}

void AutoScaler::EvaluateNow() {
  MutexLock lock(mutex_);
  const std::vector<ScalableTarget> targets = registry_->Targets();
  const std::vector<TrackingPolicy> policies = registry_->Policies();
  const Clock::MonotonicTime now = clock_->MonotonicNow();
  const int64_t now_micros = clock_->NowMicros();

  // One datapoint per table or index that has a target, from its consumed-unit counters.
  std::map<ResourceKey, std::pair<double, double>> rates;  // per second: read, write
  std::map<ResourceKey, Sample> seen;
  for (const ScalableTarget& target : targets) {
    const ResourceKey key{target.table, target.index};
    if (seen.contains(key)) continue;
    std::optional<std::pair<double, double>> totals =
        throughput_->ConsumedTotals(target.table, target.index);
    if (!totals) continue;
    Sample sample{totals->first, totals->second, now};
    seen.emplace(key, sample);
    auto previous = samples_.find(key);
    if (previous == samples_.end() || sample.at <= previous->second.at) continue;
    const double seconds = std::chrono::duration<double>(sample.at - previous->second.at).count();
    // Counters start over when a table or index is created again under the name.
    const double read =
        sample.read >= previous->second.read ? sample.read - previous->second.read : sample.read;
    const double write = sample.write >= previous->second.write
                             ? sample.write - previous->second.write
                             : sample.write;
    rates.emplace(key, std::make_pair(read / seconds, write / seconds));
  }
  samples_ = std::move(seen);
  std::erase_if(histories_, [&](const auto& entry) {
    return std::none_of(targets.begin(), targets.end(), [&](const ScalableTarget& t) {
      return TargetKey{t.table, t.index, t.dimension} == entry.first;
    });
  });

  for (const ScalableTarget& target : targets) {
    auto rate = rates.find(ResourceKey{target.table, target.index});
    if (rate == rates.end()) continue;
    TargetHistory& history = histories_[{target.table, target.index, target.dimension}];
    history.datapoints.push_back(
        target.dimension == ScalableDimension::kRead ? rate->second.first : rate->second.second);
    while (history.datapoints.size() > kScaleInDatapoints) history.datapoints.pop_front();

    std::vector<TrackingPolicy> own;
    for (const TrackingPolicy& policy : policies) {
      if (policy.table == target.table && policy.index == target.index &&
          policy.dimension == target.dimension) {
        own.push_back(policy);
      }
    }
    Result<TableDescription> table = engine_->DescribeTable(target.table);
    if (!table.ok()) continue;
    const std::optional<int64_t> current = CurrentCapacity(*table, target);
    if (!current) continue;
    std::optional<ScalingProposal> proposal =
        DecideScaling(target, own, history, *current, now_micros);
    if (!proposal) continue;
    Status applied = Apply(target, proposal->capacity, proposal->cause, proposal->scale_out);
    if (!applied.ok() && !proposal->scale_out) {
      // A refused decrease (the daily limit): the low alarm has to hold again.
      history.datapoints.clear();
    }
  }
}

Status AutoScaler::SetCapacity(const ScalableTarget& target, int64_t capacity,
                               const std::string& cause) {
  MutexLock lock(mutex_);
  return Apply(target, capacity, cause, std::nullopt);
}

Status AutoScaler::Apply(const ScalableTarget& target, int64_t capacity, const std::string& cause,
                         std::optional<bool> scale_out) {
  ScalingActivityRecord activity;
  activity.id = NewAutoScalingId();
  activity.table = target.table;
  activity.index = target.index;
  activity.dimension = target.dimension;
  activity.start_micros = clock_->NowMicros();
  const std::string units(UnitsName(target.dimension));
  activity.description = "Setting " + units + " to " + std::to_string(capacity) + ".";
  activity.cause = cause;
  bool unchanged = false;
  Result<TableDescription> updated = target.index.empty()
                                         ? UpdateTableCapacity(target, capacity, unchanged)
                                         : UpdateIndexCapacity(target, capacity, unchanged);
  if (updated.ok() && unchanged) return Status::Ok();
  activity.end_micros = clock_->NowMicros();
  if (updated.ok()) {
    throughput_->Configure(*updated);
    activity.status_code = "Successful";
    activity.status_message = "Successfully set " + units + " to " + std::to_string(capacity) +
                              ". Change successfully fulfilled by dynamodb.";
    TargetHistory& history = histories_[{target.table, target.index, target.dimension}];
    if (scale_out.has_value()) {
      (*scale_out ? history.last_scale_out_micros : history.last_scale_in_micros) =
          activity.start_micros;
    }
  } else {
    activity.status_code = "Failed";
    activity.status_message = "Failed to set " + units + " to " + std::to_string(capacity) +
                              ". Reason: " + updated.status().message();
  }
  spdlog::info(
      "event=autoscaling_activity table={} index={} dimension={} capacity={} status={} "
      "cause=\"{}\"",
      target.table, target.index, ScalableDimensionName(target.dimension, !target.index.empty()),
      capacity, activity.status_code, cause);
  Status recorded = registry_->AddActivity(activity);
  if (!recorded.ok()) {
    spdlog::error("event=autoscaling_activity_not_recorded error=\"{}\"", recorded.message());
  }
  return updated.status();
}

Result<TableDescription> AutoScaler::UpdateTableCapacity(const ScalableTarget& target,
                                                         int64_t capacity, bool& unchanged) {
  return engine_->UpdateTableSettings(
      target.table, [&](const TableDescription&, int64_t now_micros, TableSettings& settings) {
        if (settings.billing_mode != BillingMode::kProvisioned) {
          return Status::Validation("The table's billing mode is not PROVISIONED");
        }
        BillingChange change;
        change.throughput = settings.provisioned;
        (target.dimension == ScalableDimension::kRead ? change.throughput->read_capacity_units
                                                      : change.throughput->write_capacity_units) =
            capacity;
        if (*change.throughput == settings.provisioned) {
          unchanged = true;
          return Status::Ok();
        }
        return ApplyBillingChange(change, now_micros, settings);
      });
}

Result<TableDescription> AutoScaler::UpdateIndexCapacity(const ScalableTarget& target,
                                                         int64_t capacity, bool& unchanged) {
  // UpdateTable's own rules and history for the index's throughput (ChangeIndexThroughput:
  // the daily decrease limit per index), applied under the catalog's lock to the index as
  // it is then.
  TW_ASSIGN_OR_RETURN(TableDescription table, engine_->DescribeTable(target.table));
  if (table.settings.billing_mode != BillingMode::kProvisioned) {
    return Status::Validation("The table's billing mode is not PROVISIONED");
  }
  if (FindGlobalIndex(table, target.index) == nullptr) {
    return Status::NotFound("Table " + target.table + " has no global secondary index " +
                            target.index);
  }
  GlobalIndexUpdate update;
  update.kind = GlobalIndexUpdate::Kind::kUpdateThroughput;
  update.index.name = target.index;
  update.change_throughput = [&](const SecondaryIndex& current, int64_t now_micros,
                                 SecondaryIndex& index) {
    ProvisionedThroughput requested{static_cast<int64_t>(current.read_capacity_units),
                                    static_cast<int64_t>(current.write_capacity_units)};
    (target.dimension == ScalableDimension::kRead ? requested.read_capacity_units
                                                  : requested.write_capacity_units) = capacity;
    if (requested.read_capacity_units == static_cast<int64_t>(current.read_capacity_units) &&
        requested.write_capacity_units == static_cast<int64_t>(current.write_capacity_units)) {
      unchanged = true;
      return Status::Ok();
    }
    return ChangeIndexThroughput(requested, now_micros, index);
  };
  return engine_->UpdateGlobalIndexes(target.table, update);
}

}  // namespace tidewater::server
