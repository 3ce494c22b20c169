// Lambda event filtering (FilterCriteria) over DynamoDB stream records.
//
// A pattern is a JSON object that mirrors the record it matches, with arrays of matchers at
// the leaves, e.g. {"eventName":["INSERT"],"dynamodb":{"NewImage":{"status":{"S":["active"]}}}}.
// Every key of a pattern must match (AND); a leaf matches when any of its matchers does (OR);
// a record passes FilterCriteria when any of its patterns matches (OR). Leaf matchers:
//   "text", 5, true, null                 exact value (a number equals numerically)
//   {"prefix": "x"}, {"suffix": "x"}      string begins / ends with (also with
//                                         {"equals-ignore-case": "x"} as the operand)
//   {"equals-ignore-case": "x"}           string equal ignoring ASCII case
//   {"numeric": [">", 0, "<=", 5]}        one comparison (=, <, <=, >, >=) or a lower and an
//                                         upper bound; applies to JSON numbers and to number
//                                         texts (DynamoDB JSON's {"N": "5"})
//   {"exists": true|false}                the field is present / absent
//   {"anything-but": v | [v, ...] | {"prefix": "x"} | {"suffix": "x"} |
//                    {"equals-ignore-case": "x" | ["x", ...]}}
//                                         present and not matching any of those
// When the record holds an array where the pattern expects a value, any element may match.
// A field that is absent matches only {"exists": false}.
//
// Thread safety: immutable after Parse; Matches may be called concurrently.
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/status.h"

namespace tidewater::streams {

class FilterPattern {
 public:
  // Errors: Validation ("Invalid filter pattern: ..."), naming what is wrong and where.
  static Result<FilterPattern> Parse(std::string_view pattern_json);

  bool Matches(const rapidjson::Value& record) const;

  struct Node;  // the parsed pattern (private to the implementation)

 private:
  explicit FilterPattern(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;
};

// A FilterCriteria: the record passes when any pattern matches, or when there is none.
class FilterCriteria {
 public:
  FilterCriteria() = default;
  // Errors: Validation, for the first pattern that does not parse.
  static Result<FilterCriteria> Parse(const std::vector<std::string>& patterns);

  bool empty() const { return patterns_.empty(); }
  bool Matches(const rapidjson::Value& record) const;

 private:
  std::vector<FilterPattern> patterns_;
};

}  // namespace tidewater::streams
