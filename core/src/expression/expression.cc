// The public expression classes: compile = parse (cached) + bind + checks.
#include "tidewater/core/expression.h"

#include <algorithm>

#include "expression/bind.h"
#include "expression/cache.h"
#include "expression/compiled.h"
#include "expression/evaluate.h"
#include "expression/parser.h"

namespace tidewater {

using expression_internal::Ast;
using expression_internal::BoundExpression;
using expression_internal::CompiledCondition;
using expression_internal::CompiledProjection;
using expression_internal::CompiledUpdate;
using expression_internal::Path;
using expression_internal::UpdateAction;

std::string_view ExpressionTypeName(ExpressionType type) {
  switch (type) {
    case ExpressionType::kCondition:
      return "ConditionExpression";
    case ExpressionType::kFilter:
      return "FilterExpression";
    case ExpressionType::kKeyCondition:
      return "KeyConditionExpression";
    case ExpressionType::kUpdate:
      return "UpdateExpression";
    case ExpressionType::kProjection:
      return "ProjectionExpression";
  }
  return "Expression";
}

ExpressionCache::ExpressionCache(size_t capacity)
    : impl_(std::make_unique<expression_internal::ParseCache>(capacity)) {}
ExpressionCache::~ExpressionCache() = default;
size_t ExpressionCache::size() const { return impl_->size(); }
uint64_t ExpressionCache::hits() const { return impl_->hits(); }
uint64_t ExpressionCache::misses() const { return impl_->misses(); }

namespace expression_internal {

class CacheAccess {
 public:
  static ParseCache& Of(ExpressionCache& cache) { return *cache.impl_; }
};

Result<BoundExpression> ParseAndBind(ExpressionType type, std::string_view text,
                                     const ExpressionAttributeNames& names,
                                     const ExpressionAttributeValues& values,
                                     ExpressionCache* cache) {
  BoundExpression bound;
  TW_ASSIGN_OR_RETURN(bound.ast, cache != nullptr ? CacheAccess::Of(*cache).Parse(type, text)
                                                  : expression_internal::Parse(type, text));
  TW_ASSIGN_OR_RETURN(bound.binding, Bind(*bound.ast, names, values));
  return bound;
}

}  // namespace expression_internal

// --- ConditionExpression ---

Result<ConditionExpression> ConditionExpression::Compile(ExpressionType type, std::string_view text,
                                                         const ExpressionAttributeNames& names,
                                                         const ExpressionAttributeValues& values,
                                                         ExpressionCache* cache) {
  if (type != ExpressionType::kFilter) type = ExpressionType::kCondition;
  TW_ASSIGN_OR_RETURN(BoundExpression bound,
                      expression_internal::ParseAndBind(type, text, names, values, cache));
  auto compiled = std::make_shared<CompiledCondition>();
  static_cast<BoundExpression&>(*compiled) = std::move(bound);
  return ConditionExpression(std::move(compiled));
}

bool ConditionExpression::Matches(const Item* item) const {
  return expression_internal::EvaluateCondition(*compiled_->ast->condition, compiled_->binding,
                                                item);
}

const ExpressionPlaceholders& ConditionExpression::placeholders() const {
  return compiled_->binding.used;
}

// --- UpdateExpression ---

Result<UpdateExpression> UpdateExpression::Compile(std::string_view text,
                                                   const ExpressionAttributeNames& names,
                                                   const ExpressionAttributeValues& values,
                                                   const KeySchema& key_schema,
                                                   ExpressionCache* cache) {
  TW_ASSIGN_OR_RETURN(
      BoundExpression bound,
      expression_internal::ParseAndBind(ExpressionType::kUpdate, text, names, values, cache));
  for (const UpdateAction& action : bound.ast->actions) {
    const std::string& head = expression_internal::ElementName(action.path.front(), bound.binding);
    if (head == key_schema.partition_key.name ||
        (key_schema.sort_key && head == key_schema.sort_key->name)) {
      return Status::Validation(
          "One or more parameter values were invalid: Cannot update "
          "attribute " +
          head + ". This attribute is part of the key");
    }
  }
  auto compiled = std::make_shared<CompiledUpdate>();
  static_cast<BoundExpression&>(*compiled) = std::move(bound);
  return UpdateExpression(std::move(compiled));
}

Result<Item> UpdateExpression::Apply(const Item* current, const Item& key) const {
  return expression_internal::ApplyUpdate(*compiled_, current, key);
}

Status UpdateExpression::ApplyInPlace(Item& item, bool item_exists) const {
  return expression_internal::ApplyUpdateInPlace(*compiled_, item, item_exists);
}

Item UpdateExpression::UpdatedAttributes(const Item& item) const {
  std::vector<const Path*> paths;
  for (const UpdateAction& action : compiled_->ast->actions) paths.push_back(&action.path);
  return expression_internal::ProjectPaths(paths, compiled_->binding, item);
}

bool UpdateExpression::AddsAttributes() const {
  for (const UpdateAction& action : compiled_->ast->actions) {
    if (action.kind == UpdateAction::Kind::kSet || action.kind == UpdateAction::Kind::kAdd) {
      return true;
    }
  }
  return false;
}

const ExpressionPlaceholders& UpdateExpression::placeholders() const {
  return compiled_->binding.used;
}

// --- ProjectionExpression ---

Result<ProjectionExpression> ProjectionExpression::Compile(std::string_view text,
                                                           const ExpressionAttributeNames& names,
                                                           ExpressionCache* cache) {
  static const ExpressionAttributeValues kNoValues;
  TW_ASSIGN_OR_RETURN(BoundExpression bound,
                      expression_internal::ParseAndBind(ExpressionType::kProjection, text, names,
                                                        kNoValues, cache));
  auto compiled = std::make_shared<CompiledProjection>();
  static_cast<BoundExpression&>(*compiled) = std::move(bound);
  return ProjectionExpression(std::move(compiled));
}

ProjectionExpression ProjectionExpression::FromAttributeNames(
    const std::vector<std::string>& names) {
  auto ast = std::make_shared<Ast>();
  ast->type = ExpressionType::kProjection;
  for (const std::string& name : names) {
    expression_internal::PathElement element;
    element.name = name;
    ast->projection.push_back({std::move(element)});
  }
  auto compiled = std::make_shared<CompiledProjection>();
  compiled->ast = std::move(ast);
  return ProjectionExpression(std::move(compiled));
}

Item ProjectionExpression::Project(const Item& item) const {
  std::vector<const Path*> paths;
  paths.reserve(compiled_->ast->projection.size());
  for (const Path& path : compiled_->ast->projection) paths.push_back(&path);
  return expression_internal::ProjectPaths(paths, compiled_->binding, item);
}

const ExpressionPlaceholders& ProjectionExpression::placeholders() const {
  return compiled_->binding.used;
}

// --- Request-wide placeholder checks ---

namespace {

template <typename Map>
std::string UnusedKeys(const Map& map, std::span<const ExpressionPlaceholders* const> used,
                       bool names) {
  std::string unused;
  for (const auto& [key, value] : map) {
    bool found = false;
    for (const ExpressionPlaceholders* expression : used) {
      const std::vector<std::string>& keys = names ? expression->names : expression->values;
      found = found || std::find(keys.begin(), keys.end(), key) != keys.end();
    }
    if (found) continue;
    if (!unused.empty()) unused += ", ";
    unused += key;
  }
  return unused;
}

}  // namespace

Status CheckPlaceholdersUsed(std::span<const ExpressionPlaceholders* const> expressions,
                             const ExpressionAttributeNames& names,
                             const ExpressionAttributeValues& values) {
  for (const auto& [key, name] : names) {
    if (key.size() < 2 || key[0] != '#') {
      return Status::Validation(
          "ExpressionAttributeNames contains invalid key: Syntax error; "
          "key: \"" +
          key + "\"");
    }
  }
  for (const auto& [key, value] : values) {
    if (key.size() < 2 || key[0] != ':') {
      return Status::Validation(
          "ExpressionAttributeValues contains invalid key: Syntax error; "
          "key: \"" +
          key + "\"");
    }
  }
  std::string unused = UnusedKeys(names, expressions, true);
  if (!unused.empty()) {
    return Status::Validation(
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + unused + "}");
  }
  unused = UnusedKeys(values, expressions, false);
  if (!unused.empty()) {
    return Status::Validation(
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {" + unused +
        "}");
  }
  return Status::Ok();
}

}  // namespace tidewater
