#include "autoscaling_api.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autoscaling_scaler.h"
#include "handler_support.h"
#include "json_request.h"
#include "tidewater/streams/resource_names.h"

namespace tidewater::server {
namespace {

// DynamoDB's bounds for the provisioned units of a table or global index, and DynamoDB's
// documented range for the target utilization of its auto scaling.
constexpr int64_t kMinCapacityUnits = 1;
constexpr int64_t kMaxCapacityUnits = 40'000;
constexpr double kMinTargetUtilization = 20;
constexpr double kMaxTargetUtilization = 90;
constexpr int64_t kMaxResults = 50;
constexpr size_t kMaxPolicyNameLength = 256;

constexpr std::string_view kDynamoDb = "dynamodb";
constexpr std::string_view kTargetTracking = "TargetTrackingScaling";
constexpr std::string_view kReadMetric = "DynamoDBReadCapacityUtilization";
constexpr std::string_view kWriteMetric = "DynamoDBWriteCapacityUtilization";
// Application Auto Scaling's answer when the resource ID and the scalable dimension do not
// fit together (a table with a dynamodb:index dimension, an index with a dynamodb:table
// one, or a resource ID that names no DynamoDB table or index).
constexpr std::string_view kUnsupportedTarget =
    "Unsupported service namespace, resource type or scalable dimension";
// And when the table's billing mode is PAY_PER_REQUEST.
constexpr std::string_view kPayPerRequestNotScalable =
    "Validation failed for scalable target. Reason: PAY_PER_REQUEST table mode is not scalable.";

#define TW_SERVICE_NAMESPACES                                                                    \
  "ecs", "elasticmapreduce", "ec2", "appstream", "dynamodb", "rds", "sagemaker",                 \
      "custom-resource", "comprehend", "lambda", "cassandra", "kafka", "elasticache", "neptune", \
      "workspaces"
#define TW_SCALABLE_DIMENSIONS                                                               \
  "ecs:service:DesiredCount", "ec2:spot-fleet-request:TargetCapacity",                       \
      "elasticmapreduce:instancegroup:InstanceCount", "appstream:fleet:DesiredCapacity",     \
      "dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits",               \
      "dynamodb:index:ReadCapacityUnits", "dynamodb:index:WriteCapacityUnits",               \
      "rds:cluster:ReadReplicaCount", "sagemaker:variant:DesiredInstanceCount",              \
      "custom-resource:ResourceType:Property",                                               \
      "comprehend:document-classifier-endpoint:DesiredInferenceUnits",                       \
      "comprehend:entity-recognizer-endpoint:DesiredInferenceUnits",                         \
      "lambda:function:ProvisionedConcurrency", "cassandra:table:ReadCapacityUnits",         \
      "cassandra:table:WriteCapacityUnits", "kafka:broker-storage:VolumeSize",               \
      "elasticache:replication-group:NodeGroups", "elasticache:replication-group:Replicas",  \
      "neptune:cluster:ReadReplicaCount", "sagemaker:variant:DesiredProvisionedConcurrency", \
      "sagemaker:inference-component:DesiredCopyCount",                                      \
      "workspaces:workspacespool:DesiredUserSessions"

// The scalable target a request names (ServiceNamespace, ResourceId, ScalableDimension).
struct TargetName {
  std::string table;
  std::string index;  // a global secondary index of `table`; empty: the table itself
  ScalableDimension dimension = ScalableDimension::kRead;
};

std::string TargetDescription(const TargetName& name) {
  return "service namespace: dynamodb, resource ID: " + ScalableResourceId(name.table, name.index) +
         ", scalable dimension: " +
         std::string(ScalableDimensionName(name.dimension, !name.index.empty()));
}

// The table and index (empty for the table itself) of a DynamoDB resource ID,
// "table/<table>" or "table/<table>/index/<index>"; nullopt when it is neither.
std::optional<std::pair<std::string, std::string>> ParseResourceId(std::string_view resource) {
  constexpr std::string_view kTablePrefix = "table/";
  constexpr std::string_view kIndexInfix = "/index/";
  if (!resource.starts_with(kTablePrefix)) return std::nullopt;
  const std::string_view rest = resource.substr(kTablePrefix.size());
  const size_t slash = rest.find('/');
  const std::string_view table = rest.substr(0, slash);
  std::string_view index;
  if (slash != std::string_view::npos) {
    if (!rest.substr(slash).starts_with(kIndexInfix)) return std::nullopt;
    index = rest.substr(slash + kIndexInfix.size());
    if (index.empty() || index.find('/') != std::string_view::npos) return std::nullopt;
  }
  if (table.empty()) return std::nullopt;
  return std::make_pair(std::string(table), std::string(index));
}

// Reads and checks the three members naming a target. `registering`: the table (and the
// index) are looked up, as RegisterScalableTarget does: ValidationException when one is
// missing or the table is PAY_PER_REQUEST.
Result<TargetName> ReadTargetName(ServiceContext& service, const rapidjson::Value& request,
                                  ConstraintErrors& errors, bool registering) {
  TW_ASSIGN_OR_RETURN(auto space, GetString(request, "ServiceNamespace"));
  TW_ASSIGN_OR_RETURN(auto resource, GetString(request, "ResourceId"));
  TW_ASSIGN_OR_RETURN(auto dimension, GetString(request, "ScalableDimension"));
  errors.RequireNotNull("serviceNamespace", space.has_value());
  errors.CheckEnum("serviceNamespace", space, {TW_SERVICE_NAMESPACES});
  errors.RequireNotNull("resourceId", resource.has_value());
  errors.CheckLength("resourceId", resource, 1, 1600);
  errors.RequireNotNull("scalableDimension", dimension.has_value());
  errors.CheckEnum("scalableDimension", dimension, {TW_SCALABLE_DIMENSIONS});
  TW_RETURN_IF_ERROR(errors.ToStatus());
  if (*space != kDynamoDb) {
    return Status::Validation("Unsupported service namespace " + std::string(*space) +
                              ". Tidewater scales the read and write capacity of DynamoDB tables "
                              "and global secondary indexes (service namespace dynamodb)");
  }
  std::optional<std::pair<std::string, std::string>> resource_id = ParseResourceId(*resource);
  if (!resource_id) return Status::Validation(std::string(kUnsupportedTarget));
  TargetName name{std::move(resource_id->first), std::move(resource_id->second),
                  ScalableDimension::kRead};
  const bool index = !name.index.empty();
  if (*dimension == ScalableDimensionName(ScalableDimension::kWrite, index)) {
    name.dimension = ScalableDimension::kWrite;
  } else if (*dimension != ScalableDimensionName(ScalableDimension::kRead, index)) {
    return Status::Validation(std::string(kUnsupportedTarget));
  }
  if (registering) {
    Result<TableDescription> table = service.engine->DescribeTable(name.table);
    if (!table.ok()) {
      if (table.status().code() != ErrorCode::kResourceNotFound) return table.status();
      return Status::Validation("DynamoDB table does not exist: " +
                                ScalableResourceId(name.table, {}));
    }
    if (index && std::none_of(table->global_indexes.begin(), table->global_indexes.end(),
                              [&](const IndexDescription& description) {
                                return description.definition.name == name.index;
                              })) {
      return Status::Validation("DynamoDB index does not exist: " +
                                ScalableResourceId(name.table, name.index));
    }
    if (table->settings.billing_mode == BillingMode::kPayPerRequest) {
      return Status::Validation(std::string(kPayPerRequestNotScalable));
    }
  }
  return name;
}

AutoScaler& Scaler(ServiceContext& service) { return *service.autoscaling; }

std::string Arn(const ServiceContext& service, std::string_view service_name,
                std::string_view resource) {
  return "arn:aws:" + std::string(service_name) + ":" + service.region + ":" +
         std::string(streams::kAccountId) + ":" + std::string(resource);
}

std::string PolicyArn(const ServiceContext& service, const TrackingPolicy& policy) {
  return Arn(service, "autoscaling",
             "scalingPolicy:" + policy.id + ":resource/dynamodb/" +
                 ScalableResourceId(policy.table, policy.index) + ":policyName/" + policy.name);
}

std::string AlarmArn(const ServiceContext& service, const std::string& alarm) {
  return Arn(service, "cloudwatch", "alarm:" + alarm);
}

void WriteTimestamp(json::Writer& w, const char* key, int64_t micros) {
  w.Key(key);
  w.Double(static_cast<double>(micros) / 1e6);
}

void WriteMember(json::Writer& w, const char* key, std::string_view text) {
  w.Key(key);
  WriteString(w, text);
}

void WriteTargetIdentity(json::Writer& w, std::string_view table, std::string_view index,
                         ScalableDimension dimension) {
  WriteMember(w, "ServiceNamespace", kDynamoDb);
  WriteMember(w, "ResourceId", ScalableResourceId(table, index));
  WriteMember(w, "ScalableDimension", ScalableDimensionName(dimension, !index.empty()));
}

void WriteAlarms(const ServiceContext& service, const TrackingPolicy& policy, json::Writer& w) {
  w.Key("Alarms");
  w.StartArray();
  for (const std::string* alarm : {&policy.alarm_high, &policy.alarm_low}) {
    if (alarm->empty()) continue;
    w.StartObject();
    WriteMember(w, "AlarmName", *alarm);
    WriteMember(w, "AlarmARN", AlarmArn(service, *alarm));
    w.EndObject();
  }
  w.EndArray();
}

// MaxResults and NextToken of a Describe request: the page [first, first + count).
struct Page {
  size_t first = 0;
  size_t count = kMaxResults;
};

Result<Page> ReadPage(const rapidjson::Value& request, ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(auto max_results, GetInteger(request, "MaxResults"));
  TW_ASSIGN_OR_RETURN(auto token, GetString(request, "NextToken"));
  errors.CheckRange("maxResults", max_results, 1, kMaxResults);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  Page page;
  page.count = static_cast<size_t>(max_results.value_or(kMaxResults));
  if (token) {
    // A token is the position of the next entry, as this server issued it.
    auto [end, error] = std::from_chars(token->data(), token->data() + token->size(), page.first);
    if (error != std::errc() || end != token->data() + token->size() || token->empty()) {
      return Status(ErrorCode::kExpiredIterator, "Invalid token");
    }
  }
  return page;
}

// Writes "<member>": [page of `entries`] and NextToken when more follow.
template <typename Entry>
void WritePage(const std::vector<Entry>& entries, const Page& page, const char* member,
               const std::function<void(const Entry&)>& write_entry, json::Writer& w) {
  w.StartObject();
  w.Key(member);
  w.StartArray();
  const size_t end = std::min(entries.size(), page.first + page.count);
  for (size_t i = page.first; i < end; ++i) write_entry(entries[i]);
  w.EndArray();
  if (end < entries.size()) WriteMember(w, "NextToken", std::to_string(end));
  w.EndObject();
}

// A filter on ResourceId (and ScalableDimension) of a Describe request.
struct DescribeFilter {
  std::vector<std::string> resource_ids;  // empty: all
  std::optional<std::string> dimension;
  bool dynamodb = true;  // false: another namespace, nothing of it is registered here

  bool Matches(std::string_view table, std::string_view index,
               ScalableDimension dimension_of) const {
    if (!dynamodb) return false;
    if (dimension && *dimension != ScalableDimensionName(dimension_of, !index.empty())) {
      return false;
    }
    if (resource_ids.empty()) return true;
    return std::find(resource_ids.begin(), resource_ids.end(), ScalableResourceId(table, index)) !=
           resource_ids.end();
  }
};

Result<DescribeFilter> ReadFilter(const rapidjson::Value& request, ConstraintErrors& errors,
                                  bool resource_list) {
  TW_ASSIGN_OR_RETURN(auto space, GetString(request, "ServiceNamespace"));
  TW_ASSIGN_OR_RETURN(auto dimension, GetString(request, "ScalableDimension"));
  errors.RequireNotNull("serviceNamespace", space.has_value());
  errors.CheckEnum("serviceNamespace", space, {TW_SERVICE_NAMESPACES});
  errors.CheckEnum("scalableDimension", dimension, {TW_SCALABLE_DIMENSIONS});
  DescribeFilter filter;
  if (resource_list) {
    TW_ASSIGN_OR_RETURN(const rapidjson::Value* ids, GetArray(request, "ResourceIds"));
    if (ids != nullptr) {
      for (const rapidjson::Value& id : ids->GetArray()) {
        TW_RETURN_IF_ERROR(ExpectString(id));
        filter.resource_ids.emplace_back(id.GetString(), id.GetStringLength());
      }
      if (ids->Size() > static_cast<rapidjson::SizeType>(kMaxResults)) {
        errors.Add("resourceIds", std::nullopt, "Member must have length less than or equal to 50");
      }
    }
  } else {
    TW_ASSIGN_OR_RETURN(auto id, GetString(request, "ResourceId"));
    errors.CheckLength("resourceId", id, 1, 1600);
    if (id) filter.resource_ids.emplace_back(*id);
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());
  filter.dynamodb = *space == kDynamoDb;
  if (dimension) filter.dimension = std::string(*dimension);
  return filter;
}

void WriteEmptyObject(RequestScope& scope) {
  scope.writer.StartObject();
  scope.writer.EndObject();
}

}  // namespace

ApiError ToAutoScalingApiError(const Status& status) {
  std::string_view type;
  unsigned http_status = 400;
  switch (status.code()) {
    case ErrorCode::kResourceNotFound:
      type = "ObjectNotFoundException";
      break;
    case ErrorCode::kLimitExceeded:
      type = "LimitExceededException";
      break;
    case ErrorCode::kExpiredIterator:
      type = "InvalidNextTokenException";
      break;
    case ErrorCode::kSerialization:
      type = "SerializationException";
      break;
    case ErrorCode::kUnknownOperation:
      type = "UnknownOperationException";
      break;
    case ErrorCode::kAccessDenied:
    case ErrorCode::kMissingAuthenticationToken:
    case ErrorCode::kIncompleteSignature:
    case ErrorCode::kInvalidSignature:
    case ErrorCode::kUnrecognizedClient:
    case ErrorCode::kExpiredToken:
      type = ErrorTypeName(status.code());
      break;
    case ErrorCode::kInternal:
    case ErrorCode::kIOError:
      type = "InternalServiceException";
      http_status = 500;
      break;
    default:
      type = "ValidationException";
      break;
  }
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  WriteMember(writer, "__type", type);
  WriteMember(writer, "Message", status.message());
  writer.EndObject();
  return ApiError{http_status, std::string(buffer.GetString(), buffer.GetSize())};
}

Status RegisterScalableTarget(ServiceContext& service, const rapidjson::Value& request,
                              RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto min_capacity, GetInteger(request, "MinCapacity"));
  TW_ASSIGN_OR_RETURN(auto max_capacity, GetInteger(request, "MaxCapacity"));
  TW_ASSIGN_OR_RETURN(auto role, GetString(request, "RoleARN"));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* suspended, GetObject(request, "SuspendedState"));
  errors.CheckLength("roleARN", role, 1, 1600);
  TW_ASSIGN_OR_RETURN(TargetName name, ReadTargetName(service, request, errors, true));
  std::optional<bool> scale_in_suspended, scale_out_suspended, scheduled_suspended;
  if (suspended != nullptr) {
    TW_ASSIGN_OR_RETURN(scale_in_suspended, GetBool(*suspended, "DynamicScalingInSuspended"));
    TW_ASSIGN_OR_RETURN(scale_out_suspended, GetBool(*suspended, "DynamicScalingOutSuspended"));
    TW_ASSIGN_OR_RETURN(scheduled_suspended, GetBool(*suspended, "ScheduledScalingSuspended"));
  }

  AutoScaler& scaler = Scaler(service);
  std::optional<ScalableTarget> existing =
      scaler.registry().FindTarget(name.table, name.index, name.dimension);
  if (!existing && (!min_capacity || !max_capacity)) {
    return Status::Validation(
        "MinCapacity and MaxCapacity are required to register a new scalable target");
  }
  ScalableTarget target = existing.value_or(ScalableTarget{});
  if (!existing) {
    target.table = name.table;
    target.index = name.index;
    target.dimension = name.dimension;
    target.created_micros = service.clock->NowMicros();
    target.id = NewAutoScalingId();
    target.id.erase(std::remove(target.id.begin(), target.id.end(), '-'), target.id.end());
  }
  if (min_capacity) target.min_capacity = *min_capacity;
  if (max_capacity) target.max_capacity = *max_capacity;
  if (target.min_capacity < kMinCapacityUnits || target.max_capacity > kMaxCapacityUnits) {
    return Status::Validation("Capacity of a DynamoDB table or index must be between " +
                              std::to_string(kMinCapacityUnits) + " and " +
                              std::to_string(kMaxCapacityUnits) + " units");
  }
  if (target.min_capacity > target.max_capacity) {
    return Status::Validation("Minimum capacity cannot be greater than maximum capacity");
  }
  if (scale_in_suspended) target.scale_in_suspended = *scale_in_suspended;
  if (scale_out_suspended) target.scale_out_suspended = *scale_out_suspended;
  if (scheduled_suspended) target.scheduled_suspended = *scheduled_suspended;
  TW_RETURN_IF_ERROR(scaler.registry().PutTarget(target));

  // The capacity of the table or index is brought into the range at once (recorded as an
  // activity); a backfilling index is left as it is.
  Result<TableDescription> table = service.engine->DescribeTable(target.table);
  const std::optional<int64_t> current =
      table.ok() ? CurrentCapacity(*table, target) : std::nullopt;
  if (current) {
    if (*current < target.min_capacity) {
      (void)scaler.SetCapacity(
          target, target.min_capacity,
          "minimum capacity was set to " + std::to_string(target.min_capacity));
    } else if (*current > target.max_capacity) {
      (void)scaler.SetCapacity(
          target, target.max_capacity,
          "maximum capacity was set to " + std::to_string(target.max_capacity));
    }
  }
  json::Writer& w = scope.writer;
  w.StartObject();
  WriteMember(w, "ScalableTargetARN",
              Arn(service, "application-autoscaling", "scalable-target/" + target.id));
  w.EndObject();
  return Status::Ok();
}

Status DescribeScalableTargets(ServiceContext& service, const rapidjson::Value& request,
                               RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(DescribeFilter filter, ReadFilter(request, errors, true));
  TW_ASSIGN_OR_RETURN(Page page, ReadPage(request, errors));
  std::vector<ScalableTarget> targets;
  for (const ScalableTarget& target : Scaler(service).registry().Targets()) {
    if (filter.Matches(target.table, target.index, target.dimension)) targets.push_back(target);
  }
  const std::string role = "arn:aws:iam::" + std::string(streams::kAccountId) +
                           ":role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/"
                           "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable";
  json::Writer& w = scope.writer;
  WritePage<ScalableTarget>(
      targets, page, "ScalableTargets",
      [&](const ScalableTarget& target) {
        w.StartObject();
        WriteTargetIdentity(w, target.table, target.index, target.dimension);
        w.Key("MinCapacity");
        w.Int64(target.min_capacity);
        w.Key("MaxCapacity");
        w.Int64(target.max_capacity);
        WriteMember(w, "RoleARN", role);
        WriteTimestamp(w, "CreationTime", target.created_micros);
        w.Key("SuspendedState");
        w.StartObject();
        w.Key("DynamicScalingInSuspended");
        w.Bool(target.scale_in_suspended);
        w.Key("DynamicScalingOutSuspended");
        w.Bool(target.scale_out_suspended);
        w.Key("ScheduledScalingSuspended");
        w.Bool(target.scheduled_suspended);
        w.EndObject();
        WriteMember(w, "ScalableTargetARN",
                    Arn(service, "application-autoscaling", "scalable-target/" + target.id));
        w.EndObject();
      },
      w);
  return Status::Ok();
}

Status DeregisterScalableTarget(ServiceContext& service, const rapidjson::Value& request,
                                RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(TargetName name, ReadTargetName(service, request, errors, false));
  Status removed = Scaler(service).registry().RemoveTarget(name.table, name.index, name.dimension);
  if (removed.code() == ErrorCode::kResourceNotFound) {
    return Status::NotFound("No scalable target found for " + TargetDescription(name));
  }
  TW_RETURN_IF_ERROR(removed);
  WriteEmptyObject(scope);
  return Status::Ok();
}

Status PutScalingPolicy(ServiceContext& service, const rapidjson::Value& request,
                        RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto policy_name, GetString(request, "PolicyName"));
  TW_ASSIGN_OR_RETURN(auto policy_type, GetString(request, "PolicyType"));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* configuration,
                      GetObject(request, "TargetTrackingScalingPolicyConfiguration"));
  errors.RequireNotNull("policyName", policy_name.has_value());
  errors.CheckLength("policyName", policy_name, 1, kMaxPolicyNameLength);
  errors.CheckEnum("policyType", policy_type, {"StepScaling", "TargetTrackingScaling"});
  TW_ASSIGN_OR_RETURN(TargetName name, ReadTargetName(service, request, errors, false));
  if (policy_type && *policy_type != kTargetTracking) {
    return Status::Validation("StepScaling is not supported for DynamoDB: use " +
                              std::string(kTargetTracking));
  }
  if (configuration == nullptr) {
    return Status::Validation(
        "TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling "
        "policy");
  }
  const rapidjson::Value* target_value = FindMember(*configuration, "TargetValue");
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* predefined,
                      GetObject(*configuration, "PredefinedMetricSpecification"));
  TW_ASSIGN_OR_RETURN(auto scale_in_cooldown, GetInteger(*configuration, "ScaleInCooldown"));
  TW_ASSIGN_OR_RETURN(auto scale_out_cooldown, GetInteger(*configuration, "ScaleOutCooldown"));
  TW_ASSIGN_OR_RETURN(auto disable_scale_in, GetBool(*configuration, "DisableScaleIn"));
  if (target_value != nullptr && !target_value->IsNumber()) {
    return Status::Serialization("TargetValue must be a number");
  }
  errors.RequireNotNull("targetTrackingScalingPolicyConfiguration.targetValue",
                        target_value != nullptr);
  errors.CheckRange("targetTrackingScalingPolicyConfiguration.scaleInCooldown", scale_in_cooldown,
                    0, std::nullopt);
  errors.CheckRange("targetTrackingScalingPolicyConfiguration.scaleOutCooldown", scale_out_cooldown,
                    0, std::nullopt);
  std::optional<std::string_view> metric;
  if (predefined != nullptr) {
    TW_ASSIGN_OR_RETURN(metric, GetString(*predefined, "PredefinedMetricType"));
    errors.RequireNotNull(
        "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification."
        "predefinedMetricType",
        metric.has_value());
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());
  if (FindMember(*configuration, "CustomizedMetricSpecification") != nullptr ||
      predefined == nullptr) {
    return Status::Validation(
        "Tidewater tracks the predefined metrics only: give PredefinedMetricSpecification with "
        "DynamoDBReadCapacityUtilization or DynamoDBWriteCapacityUtilization");
  }
  const std::string_view expected =
      name.dimension == ScalableDimension::kRead ? kReadMetric : kWriteMetric;
  if (*metric != expected) {
    return Status::Validation(
        "Predefined metric " + std::string(*metric) + " does not apply to scalable dimension " +
        std::string(ScalableDimensionName(name.dimension, !name.index.empty())) + ": use " +
        std::string(expected));
  }
  const double value = target_value->GetDouble();
  if (!(value >= kMinTargetUtilization && value <= kMaxTargetUtilization)) {
    return Status::Validation("The target value of a DynamoDB utilization metric must be between " +
                              std::to_string(static_cast<int>(kMinTargetUtilization)) + " and " +
                              std::to_string(static_cast<int>(kMaxTargetUtilization)));
  }

  AutoScalingRegistry& registry = Scaler(service).registry();
  if (!registry.FindTarget(name.table, name.index, name.dimension)) {
    return Status::NotFound("No scalable target registered for " + TargetDescription(name));
  }
  TrackingPolicy policy;
  for (const TrackingPolicy& existing : registry.Policies()) {
    if (existing.table == name.table && existing.index == name.index &&
        existing.dimension == name.dimension && existing.name == *policy_name) {
      policy = existing;  // an update keeps its identity and alarms
    }
  }
  if (policy.id.empty()) {
    policy.name = std::string(*policy_name);
    policy.table = name.table;
    policy.index = name.index;
    policy.dimension = name.dimension;
    policy.created_micros = service.clock->NowMicros();
    policy.id = NewAutoScalingId();
  }
  // AWS's alarm names: TargetTracking-<resource ID>-AlarmHigh-<uuid> (and AlarmLow).
  const std::string alarm_prefix = "TargetTracking-" + ScalableResourceId(name.table, name.index);
  if (policy.alarm_high.empty())
    policy.alarm_high = alarm_prefix + "-AlarmHigh-" + NewAutoScalingId();
  policy.target_value = value;
  policy.scale_in_cooldown_seconds = scale_in_cooldown.value_or(0);
  policy.scale_out_cooldown_seconds = scale_out_cooldown.value_or(0);
  policy.disable_scale_in = disable_scale_in.value_or(false);
  if (policy.disable_scale_in) {
    policy.alarm_low.clear();
  } else if (policy.alarm_low.empty()) {
    policy.alarm_low = alarm_prefix + "-AlarmLow-" + NewAutoScalingId();
  }
  Status put = registry.PutPolicy(policy);
  if (put.code() == ErrorCode::kResourceNotFound) {
    return Status::NotFound("No scalable target registered for " + TargetDescription(name));
  }
  TW_RETURN_IF_ERROR(put);
  json::Writer& w = scope.writer;
  w.StartObject();
  WriteMember(w, "PolicyARN", PolicyArn(service, policy));
  WriteAlarms(service, policy, w);
  w.EndObject();
  return Status::Ok();
}

Status DescribeScalingPolicies(ServiceContext& service, const rapidjson::Value& request,
                               RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* names, GetArray(request, "PolicyNames"));
  std::vector<std::string> wanted;
  if (names != nullptr) {
    for (const rapidjson::Value& policy_name : names->GetArray()) {
      TW_RETURN_IF_ERROR(ExpectString(policy_name));
      wanted.emplace_back(policy_name.GetString(), policy_name.GetStringLength());
    }
  }
  TW_ASSIGN_OR_RETURN(DescribeFilter filter, ReadFilter(request, errors, false));
  TW_ASSIGN_OR_RETURN(Page page, ReadPage(request, errors));
  std::vector<TrackingPolicy> policies;
  for (const TrackingPolicy& policy : Scaler(service).registry().Policies()) {
    if (!filter.Matches(policy.table, policy.index, policy.dimension)) continue;
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), policy.name) == wanted.end()) {
      continue;
    }
    policies.push_back(policy);
  }
  json::Writer& w = scope.writer;
  WritePage<TrackingPolicy>(
      policies, page, "ScalingPolicies",
      [&](const TrackingPolicy& policy) {
        w.StartObject();
        WriteMember(w, "PolicyARN", PolicyArn(service, policy));
        WriteMember(w, "PolicyName", policy.name);
        WriteTargetIdentity(w, policy.table, policy.index, policy.dimension);
        WriteMember(w, "PolicyType", kTargetTracking);
        w.Key("TargetTrackingScalingPolicyConfiguration");
        w.StartObject();
        w.Key("TargetValue");
        w.Double(policy.target_value);
        w.Key("PredefinedMetricSpecification");
        w.StartObject();
        WriteMember(w, "PredefinedMetricType",
                    policy.dimension == ScalableDimension::kRead ? kReadMetric : kWriteMetric);
        w.EndObject();
        w.Key("ScaleOutCooldown");
        w.Int64(policy.scale_out_cooldown_seconds);
        w.Key("ScaleInCooldown");
        w.Int64(policy.scale_in_cooldown_seconds);
        w.Key("DisableScaleIn");
        w.Bool(policy.disable_scale_in);
        w.EndObject();
        WriteAlarms(service, policy, w);
        WriteTimestamp(w, "CreationTime", policy.created_micros);
        w.EndObject();
      },
      w);
  return Status::Ok();
}

Status DeleteScalingPolicy(ServiceContext& service, const rapidjson::Value& request,
                           RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto policy_name, GetString(request, "PolicyName"));
  errors.RequireNotNull("policyName", policy_name.has_value());
  errors.CheckLength("policyName", policy_name, 1, 1600);
  TW_ASSIGN_OR_RETURN(TargetName name, ReadTargetName(service, request, errors, false));
  Status removed =
      Scaler(service).registry().RemovePolicy(name.table, name.index, name.dimension, *policy_name);
  if (removed.code() == ErrorCode::kResourceNotFound) {
    return Status::NotFound("No scaling policy found for " + TargetDescription(name) +
                            ", policy name: " + std::string(*policy_name));
  }
  TW_RETURN_IF_ERROR(removed);
  WriteEmptyObject(scope);
  return Status::Ok();
}

Status DescribeScalingActivities(ServiceContext& service, const rapidjson::Value& request,
                                 RequestScope& scope) {
  ConstraintErrors errors;
  // Only type-checked: no "not scaled" activities are recorded.
  TW_RETURN_IF_ERROR(GetBool(request, "IncludeNotScaledActivities").status());
  TW_ASSIGN_OR_RETURN(DescribeFilter filter, ReadFilter(request, errors, false));
  TW_ASSIGN_OR_RETURN(Page page, ReadPage(request, errors));
  std::vector<ScalingActivityRecord> activities;
  for (const ScalingActivityRecord& activity : Scaler(service).registry().Activities()) {
    if (filter.Matches(activity.table, activity.index, activity.dimension)) {
      activities.push_back(activity);
    }
  }
  json::Writer& w = scope.writer;
  WritePage<ScalingActivityRecord>(
      activities, page, "ScalingActivities",
      [&](const ScalingActivityRecord& activity) {
        w.StartObject();
        WriteMember(w, "ActivityId", activity.id);
        WriteTargetIdentity(w, activity.table, activity.index, activity.dimension);
        WriteMember(w, "Description", activity.description);
        WriteMember(w, "Cause", activity.cause);
        WriteTimestamp(w, "StartTime", activity.start_micros);
        WriteTimestamp(w, "EndTime", activity.end_micros);
        WriteMember(w, "StatusCode", activity.status_code);
        WriteMember(w, "StatusMessage", activity.status_message);
        w.EndObject();
      },
      w);
  return Status::Ok();
}

}  // namespace tidewater::server
