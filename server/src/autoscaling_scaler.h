// DynamoDB auto scaling: target tracking on the consumed capacity of a table or of one of
// its global secondary indexes, with the behaviour DynamoDB documents for the CloudWatch
// alarms it creates per policy:
//  * every evaluation period (one minute by default) a datapoint is taken per scalable
//    target: the units the table (or the index, for an index target) consumed in that
//    period, per second (CloudWatch's ConsumedRead/WriteCapacityUnits Sum over the period,
//    divided by its seconds);
//  * AlarmHigh: the last 2 datapoints all above TargetValue% of the provisioned capacity
//    -> scale out;
//  * AlarmLow: the last 15 datapoints all below (TargetValue - 20)% of it -> scale in
//    (unless DisableScaleIn or the target suspends scale in);
//  * the new capacity is the one at which the latest datapoint would be at the target
//    utilization, ceil(consumed per second / (TargetValue / 100)), within the target's
//    [MinCapacity, MaxCapacity];
//  * ScaleOutCooldown / ScaleInCooldown seconds after a scale out / in block the next one
//    of the same kind; a scale out is not blocked by a scale-in cooldown;
//  * with several policies on one target the largest capacity wins: any scale out wins,
//    and a scale in happens only when every policy scales in (to the largest of theirs).
// A table's change goes through UpdateTable's own path (ApplyBillingChange: DynamoDB's
// limits on decreases per day apply), an index's through UpdateTable's GSI Update path
// (ChangeIndexThroughput: the same limits, counted per index). Either is recorded
// as a scaling activity, Successful or Failed (a refused decrease: LimitExceededException's
// message, and the low alarm starts over). Tables that are not PROVISIONED, or do not
// exist, and global indexes that do not exist or are backfilling, are not scaled.
//
// Thread safety: ScalingDecision functions are pure. AutoScaler's methods are safe for
// concurrent use; Start runs EvaluateNow every period on a thread of its own (measured by
// the given Clock, so a ManualClock drives it), and the destructor stops it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "autoscaling_registry.h"
#include "throughput_limiter.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::server {

inline constexpr size_t kScaleOutDatapoints = 2;
inline constexpr size_t kScaleInDatapoints = 15;
inline constexpr double kScaleInMarginPercent = 20;

// What the scaler remembers of one scalable target between evaluations.
struct TargetHistory {
  std::deque<double> datapoints;  // consumed units per second, oldest first, at most 15
  std::optional<int64_t> last_scale_out_micros;
  std::optional<int64_t> last_scale_in_micros;
};

struct ScalingProposal {
  int64_t capacity = 0;
  bool scale_out = false;
  std::string cause;  // "monitor alarm <name> in state ALARM triggered policy <policy>"
};

// What `policies` (all on `target`) decide at `now_micros` for a target now provisioned at
// `current_capacity`; nullopt: leave it.
std::optional<ScalingProposal> DecideScaling(const ScalableTarget& target,
                                             const std::vector<TrackingPolicy>& policies,
                                             const TargetHistory& history, int64_t current_capacity,
                                             int64_t now_micros);

// The provisioned units of `target`'s dimension in `table` (the table's own, or those of its
// global index `target.index`); nullopt when the target is not scaled now: the table is not
// PROVISIONED, or the index does not exist or is backfilling.
std::optional<int64_t> CurrentCapacity(const TableDescription& table, const ScalableTarget& target);

class AutoScaler {
 public:
  // None of the pointers is owned; all must outlive the scaler.
  AutoScaler(Engine* engine, Clock* clock, ThroughputLimiter* throughput,
             AutoScalingRegistry* registry);
  ~AutoScaler();
  AutoScaler(const AutoScaler&) = delete;
  AutoScaler& operator=(const AutoScaler&) = delete;

  AutoScalingRegistry& registry() { return *registry_; }

  // Evaluates every `period` from now on, on a thread of its own. Called at most once.
  void Start(std::chrono::milliseconds period);
  // Stops and joins that thread (idempotent; the destructor calls it).
  void Stop();

  // Takes a datapoint for every scalable target (the first look at a table or index only
  // starts its count) and applies what the policies decide.
  void EvaluateNow() TW_EXCLUDES(mutex_);

  // Sets `target`'s dimension of its table or index to `capacity` (other dimension
  // unchanged) and records the activity; Ok when it is already there (nothing recorded), the
  // refusal otherwise (also recorded, as Failed). Used by RegisterScalableTarget to bring the
  // capacity into [min, max].
  Status SetCapacity(const ScalableTarget& target, int64_t capacity, const std::string& cause)
      TW_EXCLUDES(mutex_);

 private:
  // The consumed-unit totals of a table or index, and when they were read.
  struct Sample {
    double read = 0;
    double write = 0;
    Clock::MonotonicTime at{};
  };
  // A table or index: (table, index), the index empty for the table itself.
  using ResourceKey = std::pair<std::string, std::string>;
  // A scalable target: (table, index, dimension).
  using TargetKey = std::tuple<std::string, std::string, ScalableDimension>;

  // Applies `capacity` and records the activity; `scale_out` tells which cooldown starts.
  Status Apply(const ScalableTarget& target, int64_t capacity, const std::string& cause,
               std::optional<bool> scale_out) TW_REQUIRES(mutex_);
  // Set the units of `target`'s dimension to `capacity` in its table (UpdateTable's rules)
  // or in its global index; `unchanged` is set when they were there already.
  Result<TableDescription> UpdateTableCapacity(const ScalableTarget& target, int64_t capacity,
                                               bool& unchanged) TW_REQUIRES(mutex_);
  Result<TableDescription> UpdateIndexCapacity(const ScalableTarget& target, int64_t capacity,
                                               bool& unchanged) TW_REQUIRES(mutex_);

  Engine* engine_;
  Clock* clock_;
  ThroughputLimiter* throughput_;
  AutoScalingRegistry* registry_;
  Mutex mutex_;  // serializes evaluations and capacity changes
  std::map<ResourceKey, Sample> samples_ TW_GUARDED_BY(mutex_);
  std::map<TargetKey, TargetHistory> histories_ TW_GUARDED_BY(mutex_);
  std::stop_source stop_;
  std::thread thread_;
};

}  // namespace tidewater::server
