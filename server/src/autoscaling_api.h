// The Application Auto Scaling API (AWS JSON 1.1, "X-Amz-Target:
// AnyScaleFrontendService.<Operation>") for DynamoDB tables and their global secondary
// indexes, on tidewaterd's endpoint: RegisterScalableTarget, DescribeScalableTargets,
// DeregisterScalableTarget, PutScalingPolicy (TargetTrackingScaling on
// DynamoDBRead/WriteCapacityUtilization), DescribeScalingPolicies, DeleteScalingPolicy,
// DescribeScalingActivities. ServiceNamespace "dynamodb"; ResourceId "table/<name>" with
// ScalableDimension dynamodb:table:Read/WriteCapacityUnits, or "table/<name>/index/<index>"
// with dynamodb:index:Read/WriteCapacityUnits (another pairing is refused as Application
// Auto Scaling refuses it). The state lives in AutoScalingRegistry; AutoScaler applies it
// (autoscaling_scaler.h).
//
// Errors are answered as Application Auto Scaling does: {"__type": "ValidationException",
// "Message": ...} with ValidationException, ObjectNotFoundException (ResourceNotFound),
// LimitExceededException, InvalidNextTokenException, InternalServiceException (HTTP 500).
// Handlers are stateless functions: thread-safe.
#pragma once

#include <string_view>

#include "api_error.h"
#include "service_context.h"

namespace tidewater::server {

inline constexpr std::string_view kAmzJson11ContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kAutoScalingTargetPrefix = "AnyScaleFrontendService.";

#define TW_AUTOSCALING_OPERATION(name) \
  Status name(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope)

TW_AUTOSCALING_OPERATION(RegisterScalableTarget);
TW_AUTOSCALING_OPERATION(DescribeScalableTargets);
TW_AUTOSCALING_OPERATION(DeregisterScalableTarget);
TW_AUTOSCALING_OPERATION(PutScalingPolicy);
TW_AUTOSCALING_OPERATION(DescribeScalingPolicies);
TW_AUTOSCALING_OPERATION(DeleteScalingPolicy);
TW_AUTOSCALING_OPERATION(DescribeScalingActivities);

#undef TW_AUTOSCALING_OPERATION

// The error answer of an Application Auto Scaling operation; `status` must not be ok.
ApiError ToAutoScalingApiError(const Status& status);

}  // namespace tidewater::server
