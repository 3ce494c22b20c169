// The members of an index definition that CreateTable, UpdateTable and the restores'
// index overrides read alike: its KeySchema as sent, its Projection, a ProvisionedThroughput.
// Shape errors are collected in `errors` (DynamoDB's "N validation errors detected").
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "json_request.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table.h"

namespace tidewater::server {

// One KeySchema element as sent.
struct KeyElement {
  std::string name;
  std::string key_type;  // "HASH" | "RANGE"
  friend bool operator==(const KeyElement&, const KeyElement&) = default;
};

// An index's KeySchema (1 or 2 elements) as sent, after the shape checks.
Result<std::vector<KeyElement>> ReadIndexKeyElements(const rapidjson::Value& index,
                                                     const std::string& path,
                                                     ConstraintErrors& errors);

// Projection of an index: its type and, for INCLUDE, the attributes it names.
Result<IndexProjection> ReadProjection(const rapidjson::Value& index, const std::string& path,
                                       ConstraintErrors& errors);

// A ProvisionedThroughput object (`path` names it in constraint errors: each unit count is
// required and at least 1; missing ones read as 0).
Result<ProvisionedThroughput> ReadThroughput(const rapidjson::Value& throughput,
                                             const std::string& path, ConstraintErrors& errors);

}  // namespace tidewater::server
