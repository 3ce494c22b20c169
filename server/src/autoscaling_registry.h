// What Application Auto Scaling knows about DynamoDB tables and their global secondary
// indexes: the scalable targets (RegisterScalableTarget), their target tracking policies
// (PutScalingPolicy) and the scaling activities of the last six weeks
// (DescribeScalingActivities). A target, policy or activity names a table and, for a global
// secondary index, the index (`index`, empty for the table itself); with the dimension this
// identifies the scalable target, as (ResourceId, ScalableDimension) does for AWS.
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

// The two dimensions Application Auto Scaling scales on a DynamoDB table or global index.
enum class ScalableDimension { kRead, kWrite };

// "dynamodb:table:ReadCapacityUnits" / "dynamodb:table:WriteCapacityUnits", or for a global
// secondary index (`index` true) "dynamodb:index:ReadCapacityUnits" /
// "dynamodb:index:WriteCapacityUnits".
std::string_view ScalableDimensionName(ScalableDimension dimension, bool index);
// The ResourceId of a table, "table/<table>", or of its global secondary index `index` (when
// not empty), "table/<table>/index/<index>".
std::string ScalableResourceId(std::string_view table, std::string_view index);

struct ScalableTarget {
  std::string table;
  std::string index;  // a global secondary index of `table`; empty: the table itself
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
  std::string index;  // as ScalableTarget::index
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
  std::string index;  // as ScalableTarget::index
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

  // Loads <data_dir>/autoscaling.json (an empty registry when it does not exist). A file
  // written before targets could name an index (no "index" members) holds table targets.
  static Result<std::unique_ptr<AutoScalingRegistry>> Open(const std::string& data_dir);

  std::vector<ScalableTarget> Targets() const TW_EXCLUDES(mutex_);
  // The target of (table, index, dimension); `index` empty: the table's own.
  std::optional<ScalableTarget> FindTarget(std::string_view table, std::string_view index,
                                           ScalableDimension dimension) const TW_EXCLUDES(mutex_);
  // Adds or replaces the target of (table, index, dimension).
  Status PutTarget(const ScalableTarget& target) TW_EXCLUDES(mutex_);
  // Removes the target and its policies; ResourceNotFound when it is not registered.
  Status RemoveTarget(std::string_view table, std::string_view index, ScalableDimension dimension)
      TW_EXCLUDES(mutex_);

  std::vector<TrackingPolicy> Policies() const TW_EXCLUDES(mutex_);
  // Adds or replaces the policy of (table, index, dimension, name); its target must exist
  // (ResourceNotFound otherwise).
  Status PutPolicy(const TrackingPolicy& policy) TW_EXCLUDES(mutex_);
  // ResourceNotFound when there is no such policy.
  Status RemovePolicy(std::string_view table, std::string_view index, ScalableDimension dimension,
                      std::string_view name) TW_EXCLUDES(mutex_);

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
