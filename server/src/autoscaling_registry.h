// What Application Auto Scaling knows about DynamoDB tables: the scalable targets
// (RegisterScalableTarget), their target tracking policies (PutScalingPolicy) and the
// scaling activities of the last six weeks (DescribeScalingActivities).
//
// Durability: the whole registry is one JSON document, <data_dir>/autoscaling.json,
// rewritten (temporary file, fsync, rename) on every change, so that it survives a restart
// of tidewaterd. Changes are rare (an API call or a scaling activity), and the document is
// small. A change whose file cannot be written is refused (the registry is unchanged).
//
// Thread safety: every method is safe for concurrent use (one mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/status.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::server {

// The two DynamoDB table dimensions Application Auto Scaling scales.
enum class ScalableDimension { kRead, kWrite };

// "dynamodb:table:ReadCapacityUnits" / "dynamodb:table:WriteCapacityUnits".
std::string_view ScalableDimensionName(ScalableDimension dimension);
// "table/<name>".
std::string TableResourceId(std::string_view table);

struct ScalableTarget {
  std::string table;
  ScalableDimension dimension = ScalableDimension::kRead;
  int64_t min_capacity = 0;
  int64_t max_capacity = 0;
  int64_t created_micros = 0;
  std::string id;  // the last part of its ScalableTargetARN
  bool scale_in_suspended = false;
  bool scale_out_suspended = false;
  bool scheduled_suspended = false;
};

// A TargetTrackingScaling policy on a predefined DynamoDB utilization metric (the one of
// its target's dimension).
struct TrackingPolicy {
  std::string name;
  std::string table;
  ScalableDimension dimension = ScalableDimension::kRead;
  double target_value = 0;  // utilization percent
  int64_t scale_in_cooldown_seconds = 0;
  int64_t scale_out_cooldown_seconds = 0;
  bool disable_scale_in = false;
  int64_t created_micros = 0;
  std::string id;          // in its PolicyARN
  std::string alarm_high;  // alarm names reported by PutScalingPolicy
  std::string alarm_low;
};

struct ScalingActivityRecord {
  std::string id;
  std::string table;
  ScalableDimension dimension = ScalableDimension::kRead;
  std::string description;
  std::string cause;
  int64_t start_micros = 0;
  int64_t end_micros = 0;
  std::string status_code;  // "Successful" or "Failed"
  std::string status_message;
};

// A fresh random UUID (version 4): activity and policy identifiers. Thread-safe.
std::string NewAutoScalingId();

class AutoScalingRegistry {
 public:
  // Activities older than this are dropped (DescribeScalingActivities' six weeks).
  static constexpr int64_t kActivityRetentionMicros = 42LL * 24 * 3600 * 1'000'000;

  // Loads <data_dir>/autoscaling.json (an empty registry when it does not exist).
  static Result<std::unique_ptr<AutoScalingRegistry>> Open(const std::string& data_dir);

  std::vector<ScalableTarget> Targets() const TW_EXCLUDES(mutex_);
  std::optional<ScalableTarget> FindTarget(std::string_view table,
                                           ScalableDimension dimension) const TW_EXCLUDES(mutex_);
  // Adds or replaces the target of (table, dimension).
  Status PutTarget(const ScalableTarget& target) TW_EXCLUDES(mutex_);
  // Removes the target and its policies; ResourceNotFound when it is not registered.
  Status RemoveTarget(std::string_view table, ScalableDimension dimension) TW_EXCLUDES(mutex_);

  std::vector<TrackingPolicy> Policies() const TW_EXCLUDES(mutex_);
  // Adds or replaces the policy of (table, dimension, name); its target must exist
  // (ResourceNotFound otherwise).
  Status PutPolicy(const TrackingPolicy& policy) TW_EXCLUDES(mutex_);
  // ResourceNotFound when there is no such policy.
  Status RemovePolicy(std::string_view table, ScalableDimension dimension, std::string_view name)
      TW_EXCLUDES(mutex_);

  // Newest first.
  std::vector<ScalingActivityRecord> Activities() const TW_EXCLUDES(mutex_);
  Status AddActivity(const ScalingActivityRecord& activity) TW_EXCLUDES(mutex_);

 private:
  explicit AutoScalingRegistry(std::string path) : path_(std::move(path)) {}
  Status Load() TW_EXCLUDES(mutex_);
  // Writes the state `targets`/`policies`/`activities` describe; on success they become
  // the registry's.
  Status Commit(std::vector<ScalableTarget> targets, std::vector<TrackingPolicy> policies,
                std::vector<ScalingActivityRecord> activities) TW_REQUIRES(mutex_);

  const std::string path_;
  mutable Mutex mutex_;
  std::vector<ScalableTarget> targets_ TW_GUARDED_BY(mutex_);
  std::vector<TrackingPolicy> policies_ TW_GUARDED_BY(mutex_);
  std::vector<ScalingActivityRecord> activities_ TW_GUARDED_BY(mutex_);  // oldest first
};

}  // namespace tidewater::server
