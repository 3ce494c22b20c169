// The expression parameters of one request (or of one TransactItems entry): reads
// ExpressionAttributeNames / ExpressionAttributeValues once, compiles each expression
// member against them (core/expression.h), and finally applies the request-wide rules
// (every placeholder used; names and values only together with an expression).
//
// Each accessor also takes the legacy (pre-expression) parameter that does the same job
// (Expected, QueryFilter / ScanFilter with ConditionalOperator, AttributeUpdates,
// KeyConditions, AttributesToGet) and translates it (core/expression_legacy.h); a request
// that mixes the two kinds is refused, as DynamoDB does, except that legacy KeyConditions
// go with ProjectionExpression and FilterExpression (DynamoDB allows that mix).
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <vector>

#include "tidewater/core/expression.h"
#include "tidewater/core/expression_legacy.h"
#include "tidewater/core/status.h"

namespace tidewater::server {

class RequestExpressions {
 public:
  // `cache` (may be null) shares parsed expressions between requests.
  static Result<RequestExpressions> Read(const rapidjson::Value& request, ExpressionCache* cache);

  // ConditionExpression, or Expected.
  Result<std::optional<ConditionExpression>> Condition(const rapidjson::Value& request);
  // FilterExpression, or QueryFilter (Query) / ScanFilter (Scan).
  Result<std::optional<ConditionExpression>> Filter(const rapidjson::Value& request,
                                                    LegacyConditionSource legacy_source);
  // UpdateExpression, or AttributeUpdates.
  Result<std::optional<UpdateExpression>> Update(const rapidjson::Value& request,
                                                 const KeySchema& key_schema);
  // ProjectionExpression, or AttributesToGet.
  Result<std::optional<ProjectionExpression>> Projection(const rapidjson::Value& request);
  // KeyConditionExpression, or KeyConditions (one of them is required for Query).
  Result<KeyCondition> KeyConditions(const rapidjson::Value& request, const KeySchema& key_schema);

  // Call once every expression of the request is compiled.
  Status Finish() const;

 private:
  RequestExpressions(ExpressionCache* cache) : cache_(cache) {}
  Result<std::optional<ConditionExpression>> CompileCondition(const rapidjson::Value& request,
                                                              std::string_view member,
                                                              ExpressionType type);
  // Reads a legacy condition map (Expected, QueryFilter, ScanFilter, KeyConditions);
  // an absent or empty map gives no conditions.
  Result<std::vector<LegacyCondition>> ReadLegacyConditions(const rapidjson::Value& request,
                                                            std::string_view member,
                                                            bool older_form_allowed);

  ExpressionCache* cache_;
  bool has_names_ = false;
  bool has_values_ = false;
  ExpressionAttributeNames names_;
  ExpressionAttributeValues values_;
  std::vector<ExpressionPlaceholders> used_;
  ConditionalOperator conditional_operator_ = ConditionalOperator::kAnd;
  // Parameters seen of each kind, for the "Can not use both ..." rule.
  std::vector<std::string_view> expression_parameters_;
  std::vector<std::string_view> legacy_parameters_;
};

}  // namespace tidewater::server
