#include "autoscaling_registry.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "tidewater/core/durable_file.h"

namespace tidewater::server {
namespace {

constexpr char kFileName[] = "autoscaling.json";
constexpr int kFormatVersion = 1;

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Put(Writer& w, const char* key, std::string_view text) {
  w.Key(key);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}
void Put(Writer& w, const char* key, int64_t value) {
  w.Key(key);
  w.Int64(value);
}
void Put(Writer& w, const char* key, bool value) {
  w.Key(key);
  w.Bool(value);
}
// The target's identity: "table", "index" (empty for the table itself) and "dimension".
void PutIdentity(Writer& w, std::string_view table, std::string_view index,
                 ScalableDimension dimension) {
  Put(w, "table", table);
  Put(w, "index", index);
  Put(w, "dimension", ScalableDimensionName(dimension, !index.empty()));
}

std::string Text(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsString()
             ? std::string(it->value.GetString(), it->value.GetStringLength())
             : std::string();
}
int64_t Integer(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}
double Number(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsNumber() ? it->value.GetDouble() : 0;
}
bool Flag(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}
// Either form of the name ("dynamodb:table:..." or "dynamodb:index:...") is accepted.
ScalableDimension Dimension(const rapidjson::Value& object) {
  return Text(object, "dimension").ends_with(":WriteCapacityUnits") ? ScalableDimension::kWrite
                                                                    : ScalableDimension::kRead;
}

std::string Serialize(const std::vector<ScalableTarget>& targets,
                      const std::vector<TrackingPolicy>& policies,
                      const std::vector<ScalingActivityRecord>& activities) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Put(w, "version", int64_t{kFormatVersion});
  w.Key("targets");
  w.StartArray();
  for (const ScalableTarget& t : targets) {
    w.StartObject();
    PutIdentity(w, t.table, t.index, t.dimension);
    Put(w, "min", t.min_capacity);
    Put(w, "max", t.max_capacity);
    Put(w, "created", t.created_micros);
    Put(w, "id", t.id);
    Put(w, "scale_in_suspended", t.scale_in_suspended);
    Put(w, "scale_out_suspended", t.scale_out_suspended);
    Put(w, "scheduled_suspended", t.scheduled_suspended);
    w.EndObject();
  }
  w.EndArray();
  w.Key("policies");
  w.StartArray();
  for (const TrackingPolicy& p : policies) {
    w.StartObject();
    Put(w, "name", p.name);
    PutIdentity(w, p.table, p.index, p.dimension);
    w.Key("target_value");
    w.Double(p.target_value);
    Put(w, "scale_in_cooldown", p.scale_in_cooldown_seconds);
    Put(w, "scale_out_cooldown", p.scale_out_cooldown_seconds);
    Put(w, "disable_scale_in", p.disable_scale_in);
    Put(w, "created", p.created_micros);
    Put(w, "id", p.id);
    Put(w, "alarm_high", p.alarm_high);
    Put(w, "alarm_low", p.alarm_low);
    w.EndObject();
  }
  w.EndArray();
  w.Key("activities");
  w.StartArray();
  for (const ScalingActivityRecord& a : activities) {
    w.StartObject();
    Put(w, "id", a.id);
    PutIdentity(w, a.table, a.index, a.dimension);
    Put(w, "description", a.description);
    Put(w, "cause", a.cause);
    Put(w, "start", a.start_micros);
    Put(w, "end", a.end_micros);
    Put(w, "status_code", a.status_code);
    Put(w, "status_message", a.status_message);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Whether `entry` (a target, policy or activity) is of the target (table, index, dimension).
template <typename Entry>
bool OfTarget(const Entry& entry, std::string_view table, std::string_view index,
              ScalableDimension dimension) {
  return entry.table == table && entry.index == index && entry.dimension == dimension;
}

}  // namespace

std::string NewAutoScalingId() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_int_distribution<uint64_t> bits;
  const uint64_t high = bits(generator);
  const uint64_t low = bits(generator);
  char text[40];
  std::snprintf(text, sizeof(text), "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xffff),
                static_cast<unsigned>(high & 0x0fff),
                static_cast<unsigned>(0x8000 | ((low >> 48) & 0x3fff)),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return text;
}

std::string_view ScalableDimensionName(ScalableDimension dimension, bool index) {
  if (index) {
    return dimension == ScalableDimension::kRead ? "dynamodb:index:ReadCapacityUnits"
                                                 : "dynamodb:index:WriteCapacityUnits";
  }
  return dimension == ScalableDimension::kRead ? "dynamodb:table:ReadCapacityUnits"
                                               : "dynamodb:table:WriteCapacityUnits";
}

std::string ScalableResourceId(std::string_view table, std::string_view index) {
  std::string id = "table/" + std::string(table);
  if (!index.empty()) id += "/index/" + std::string(index);
  return id;
}

Result<std::unique_ptr<AutoScalingRegistry>> AutoScalingRegistry::Open(
    const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::IOError("cannot create " + data_dir + ": " + ec.message());
  std::unique_ptr<AutoScalingRegistry> registry(
      new AutoScalingRegistry((std::filesystem::path(data_dir) / kFileName).string()));
  TW_RETURN_IF_ERROR(registry->Load());
  return registry;
}

Status AutoScalingRegistry::Load() {
  MutexLock lock(mutex_);
  if (!std::filesystem::exists(path_)) return Status::Ok();
  std::ifstream in(path_, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  rapidjson::Document document;
  document.Parse(text.c_str());
  if (document.HasParseError() || !document.IsObject() ||
      Integer(document, "version") != kFormatVersion) {
    return Status::IOError(path_ + " is damaged (not an auto scaling registry of version " +
                           std::to_string(kFormatVersion) + ")");
  }
  const rapidjson::Value empty(rapidjson::kArrayType);
  const rapidjson::Value& root = document;
  auto list = [&](const char* key) {
    auto it = root.FindMember(key);
    const rapidjson::Value& value =
        it != root.MemberEnd() && it->value.IsArray() ? it->value : empty;
    return value.GetArray();
  };
  for (const rapidjson::Value& v : list("targets")) {
    if (!v.IsObject()) continue;
    targets_.push_back(ScalableTarget{
        Text(v, "table"), Text(v, "index"), Dimension(v), Integer(v, "min"), Integer(v, "max"),
        Integer(v, "created"), Text(v, "id"), Flag(v, "scale_in_suspended"),
        Flag(v, "scale_out_suspended"), Flag(v, "scheduled_suspended")});
  }
  for (const rapidjson::Value& v : list("policies")) {
    if (!v.IsObject()) continue;
    policies_.push_back(TrackingPolicy{
        Text(v, "name"), Text(v, "table"), Text(v, "index"), Dimension(v),
        Number(v, "target_value"), Integer(v, "scale_in_cooldown"),
        Integer(v, "scale_out_cooldown"), Flag(v, "disable_scale_in"), Integer(v, "created"),
        Text(v, "id"), Text(v, "alarm_high"), Text(v, "alarm_low")});
  }
  for (const rapidjson::Value& v : list("activities")) {
    if (!v.IsObject()) continue;
    activities_.push_back(ScalingActivityRecord{
        Text(v, "id"), Text(v, "table"), Text(v, "index"), Dimension(v), Text(v, "description"),
        Text(v, "cause"), Integer(v, "start"), Integer(v, "end"), Text(v, "status_code"),
        Text(v, "status_message")});
  }
  return Status::Ok();
}

Status AutoScalingRegistry::Commit(std::vector<ScalableTarget> targets,
                                   std::vector<TrackingPolicy> policies,
                                   std::vector<ScalingActivityRecord> activities) {
  TW_RETURN_IF_ERROR(WriteFileAtomically(path_, Serialize(targets, policies, activities), 0600));
  targets_ = std::move(targets);
  policies_ = std::move(policies);
  activities_ = std::move(activities);
  return Status::Ok();
}

std::vector<ScalableTarget> AutoScalingRegistry::Targets() const {
  MutexLock lock(mutex_);
  return targets_;
}

std::optional<ScalableTarget> AutoScalingRegistry::FindTarget(std::string_view table,
                                                              std::string_view index,
                                                              ScalableDimension dimension) const {
  MutexLock lock(mutex_);
  for (const ScalableTarget& target : targets_) {
    if (OfTarget(target, table, index, dimension)) return target;
  }
  return std::nullopt;
}

Status AutoScalingRegistry::PutTarget(const ScalableTarget& target) {
  MutexLock lock(mutex_);
  std::vector<ScalableTarget> targets = targets_;
  auto it = std::find_if(targets.begin(), targets.end(), [&](const ScalableTarget& t) {
    return OfTarget(t, target.table, target.index, target.dimension);
  });
  if (it == targets.end()) {
    targets.push_back(target);
  } else {
    *it = target;
  }
  return Commit(std::move(targets), policies_, activities_);
}

Status AutoScalingRegistry::RemoveTarget(std::string_view table, std::string_view index,
                                         ScalableDimension dimension) {
  MutexLock lock(mutex_);
  std::vector<ScalableTarget> targets = targets_;
  const size_t erased = std::erase_if(
      targets, [&](const ScalableTarget& t) { return OfTarget(t, table, index, dimension); });
  if (erased == 0) return Status::NotFound("No scalable target registered");
  std::vector<TrackingPolicy> policies = policies_;
  std::erase_if(policies,
                [&](const TrackingPolicy& p) { return OfTarget(p, table, index, dimension); });
  return Commit(std::move(targets), std::move(policies), activities_);
}

std::vector<TrackingPolicy> AutoScalingRegistry::Policies() const {
  MutexLock lock(mutex_);
  return policies_;
}

Status AutoScalingRegistry::PutPolicy(const TrackingPolicy& policy) {
  MutexLock lock(mutex_);
  const bool registered = std::any_of(targets_.begin(), targets_.end(), [&](const auto& t) {
    return OfTarget(t, policy.table, policy.index, policy.dimension);
  });
  if (!registered) return Status::NotFound("No scalable target registered");
  std::vector<TrackingPolicy> policies = policies_;
  auto it = std::find_if(policies.begin(), policies.end(), [&](const TrackingPolicy& p) {
    return OfTarget(p, policy.table, policy.index, policy.dimension) && p.name == policy.name;
  });
  if (it == policies.end()) {
    policies.push_back(policy);
  } else {
    *it = policy;
  }
  return Commit(targets_, std::move(policies), activities_);
}

Status AutoScalingRegistry::RemovePolicy(std::string_view table, std::string_view index,
                                         ScalableDimension dimension, std::string_view name) {
  MutexLock lock(mutex_);
  std::vector<TrackingPolicy> policies = policies_;
  const size_t erased = std::erase_if(policies, [&](const TrackingPolicy& p) {
    return OfTarget(p, table, index, dimension) && p.name == name;
  });
  if (erased == 0) return Status::NotFound("No scaling policy found");
  return Commit(targets_, std::move(policies), activities_);
}

std::vector<ScalingActivityRecord> AutoScalingRegistry::Activities() const {
  MutexLock lock(mutex_);
  return std::vector<ScalingActivityRecord>(activities_.rbegin(), activities_.rend());
}

Status AutoScalingRegistry::AddActivity(const ScalingActivityRecord& activity) {
  MutexLock lock(mutex_);
  std::vector<ScalingActivityRecord> activities = activities_;
  std::erase_if(activities, [&](const ScalingActivityRecord& a) {
    return a.start_micros < activity.start_micros - kActivityRetentionMicros;
  });
  activities.push_back(activity);
  return Commit(targets_, policies_, std::move(activities));
}

}  // namespace tidewater::server
