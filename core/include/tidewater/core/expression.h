// DynamoDB's expression language: condition and filter expressions, update expressions,
// projection expressions and key condition expressions, with ExpressionAttributeNames
// (#name) and ExpressionAttributeValues (:value) placeholders.
//
// Compiling an expression parses its text (once: parsed trees are shared through an
// ExpressionCache keyed by the text) and binds the request's placeholders. Every error is
// a ValidationException with DynamoDB's message, e.g.
//   Invalid ConditionExpression: Syntax error; token: "=", near: "a = = b"
//   Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status
// Evaluation follows DynamoDB: comparing values of different types is false, never an
// error; numbers are exact decimals; conditions see the item as it was before the write.
//
// Thread safety: compiled expressions are immutable values; one may be evaluated from any
// number of threads at once. ExpressionCache is safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/attribute_value.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table.h"

namespace tidewater {

// ExpressionAttributeNames: "#placeholder" -> attribute name.
using ExpressionAttributeNames = std::map<std::string, std::string, std::less<>>;
// ExpressionAttributeValues: ":placeholder" -> value.
using ExpressionAttributeValues = AttributeMap;

// Which request parameter an expression came from; names the parameter in messages.
enum class ExpressionType { kCondition, kFilter, kKeyCondition, kUpdate, kProjection };
// "ConditionExpression", "FilterExpression", "KeyConditionExpression", ...
std::string_view ExpressionTypeName(ExpressionType type);

// Limits DynamoDB enforces on expressions.
inline constexpr size_t kMaxExpressionBytes = 4096;
inline constexpr size_t kMaxInOperands = 100;
inline constexpr size_t kMaxExpressionOperators = 300;
inline constexpr size_t kMaxDocumentPathDepth = 32;

namespace expression_internal {
struct CompiledCondition;
struct CompiledUpdate;
struct CompiledProjection;
class ParseCache;
class CacheAccess;
}  // namespace expression_internal

// Parsed expression trees by (expression type, text), shared by all requests that send the
// same text; placeholders are bound per request, so requests with different
// ExpressionAttributeValues share an entry. Holds at most `capacity` entries, evicting the
// oldest. Safe for concurrent use; must outlive the compilations that use it (compiled
// expressions share the trees and do not need the cache afterwards).
class ExpressionCache {
 public:
  explicit ExpressionCache(size_t capacity = 4096);
  ~ExpressionCache();
  ExpressionCache(const ExpressionCache&) = delete;
  ExpressionCache& operator=(const ExpressionCache&) = delete;

  size_t size() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  friend class expression_internal::CacheAccess;
  std::unique_ptr<expression_internal::ParseCache> impl_;
};

// The placeholders one expression refers to, for CheckPlaceholdersUsed.
struct ExpressionPlaceholders {
  std::vector<std::string> names;   // "#n", in order of first use
  std::vector<std::string> values;  // ":v", in order of first use
};

// A ConditionExpression or FilterExpression (or a translated legacy Expected, QueryFilter
// or ScanFilter), bound to its request's placeholders. Owns copies of the values it uses.
class ConditionExpression {
 public:
  // `type` kFilter names FilterExpression in messages; any other type compiles a
  // ConditionExpression.
  static Result<ConditionExpression> Compile(ExpressionType type, std::string_view text,
                                             const ExpressionAttributeNames& names,
                                             const ExpressionAttributeValues& values,
                                             ExpressionCache* cache = nullptr);

  // Whether `item` satisfies the condition; nullptr means there is no item (every
  // attribute is missing). Reads the item in place, never copies it.
  bool Matches(const Item* item) const;

  // The top-level attribute names the condition reads, each once, in order of first use
  // (a Query refuses filters on key attributes, as DynamoDB does).
  std::vector<std::string> TopLevelAttributes() const;

  const ExpressionPlaceholders& placeholders() const;

  // Internal: built by Compile and the legacy translators.
  explicit ConditionExpression(std::shared_ptr<const expression_internal::CompiledCondition> c)
      : compiled_(std::move(c)) {}

 private:
  std::shared_ptr<const expression_internal::CompiledCondition> compiled_;
};

// An UpdateExpression (or a translated legacy AttributeUpdates), bound to its request's
// placeholders and checked against the table's key schema (key attributes cannot be
// updated).
class UpdateExpression {
 public:
  static Result<UpdateExpression> Compile(std::string_view text,
                                          const ExpressionAttributeNames& names,
                                          const ExpressionAttributeValues& values,
                                          const KeySchema& key_schema,
                                          ExpressionCache* cache = nullptr);

  // The item after the update. `current` is the item before it (nullptr when there is
  // none: the update starts from `key`). Every operand sees `current`, so
  // "SET a = b, b = a" swaps. Errors are DynamoDB's ValidationExceptions, e.g. "The
  // provided expression refers to an attribute that does not exist in the item".
  Result<Item> Apply(const Item* current, const Item& key) const;

  // Apply without the copy, for a caller that already owns a copy of the item: `item` is
  // the item before the update (the key when `item_exists` is false, which makes every
  // operand see no item, as Apply does) and becomes the item after it. Same semantics
  // and errors as Apply; on error `item` may be partly updated and must be discarded.
  Status ApplyInPlace(Item& item, bool item_exists) const;

  // The parts of `item` this update wrote or removed (ReturnValues UPDATED_OLD/NEW).
  Item UpdatedAttributes(const Item& item) const;

  // Whether the update has a SET or ADD action. An update of only REMOVE and DELETE
  // actions can only take attributes away: on an item that does not exist DynamoDB does
  // nothing (it creates no item and fails no path).
  bool AddsAttributes() const;

  const ExpressionPlaceholders& placeholders() const;

  // Internal: built by Compile and the legacy translators.
  explicit UpdateExpression(std::shared_ptr<const expression_internal::CompiledUpdate> c)
      : compiled_(std::move(c)) {}

 private:
  std::shared_ptr<const expression_internal::CompiledUpdate> compiled_;
};

// A ProjectionExpression (or legacy AttributesToGet).
class ProjectionExpression {
 public:
  static Result<ProjectionExpression> Compile(std::string_view text,
                                              const ExpressionAttributeNames& names,
                                              ExpressionCache* cache = nullptr);
  // AttributesToGet: each name is a top-level attribute, taken literally.
  static ProjectionExpression FromAttributeNames(const std::vector<std::string>& names);

  // The requested parts of `item`: nested maps keep only the requested members, list
  // elements selected by index keep their relative order. Attributes that do not exist
  // are left out.
  Item Project(const Item& item) const;

  // The top-level attribute names the projection reads, each once, in order (a read of a
  // secondary index fetches the item when one is not projected into the index).
  std::vector<std::string> TopLevelAttributes() const;

  const ExpressionPlaceholders& placeholders() const;

  // Internal: built by Compile and the legacy translators.
  explicit ProjectionExpression(std::shared_ptr<const expression_internal::CompiledProjection> c)
      : compiled_(std::move(c)) {}

 private:
  std::shared_ptr<const expression_internal::CompiledProjection> compiled_;
};

// A KeyConditionExpression (or legacy KeyConditions) resolved against the key schema:
// the partition key value and the sort key range, Query's engine input.
struct KeyCondition {
  AttributeValue partition_key;
  SortKeyCondition sort_key;
  ExpressionPlaceholders placeholders;
};

Result<KeyCondition> CompileKeyCondition(std::string_view text,
                                         const ExpressionAttributeNames& names,
                                         const ExpressionAttributeValues& values,
                                         const KeySchema& key_schema,
                                         ExpressionCache* cache = nullptr);

// Checks the request-wide rules on placeholders once all of a request's expressions are
// compiled: every key of ExpressionAttributeNames starts with '#' and every key of
// ExpressionAttributeValues with ':', and each is used by at least one expression.
// DynamoDB's messages, e.g. "Value provided in ExpressionAttributeValues unused in
// expressions: keys: {:v}".
Status CheckPlaceholdersUsed(std::span<const ExpressionPlaceholders* const> expressions,
                             const ExpressionAttributeNames& names,
                             const ExpressionAttributeValues& values);

}  // namespace tidewater
