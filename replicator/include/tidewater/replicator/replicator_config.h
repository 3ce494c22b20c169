// What a tidewater-replicator process replicates: one direction (source -> target) of one
// or more tables. Built from the command line or read from a YAML file:
//
//   source: http://127.0.0.1:8000        # the source region's tidewaterd
//   target: http://127.0.0.1:8001        # the target region's tidewaterd
//   source_region: us-east-1             # optional; default: the source's own region
//   metrics_listen: 127.0.0.1:9464       # optional; GET /metrics
//   batch_size: 500                      # optional; changes per apply, 1..10000
//   tables: [orders, customers]
//
// A value type; functions only.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tidewater/core/status.h"

namespace tidewater::replicator {

struct ReplicatorConfig {
  std::string source_url;
  std::string target_url;
  std::string source_region;
  std::string metrics_listen;
  size_t batch_size = 500;
  std::vector<std::string> tables;
};

// Reads a YAML file as above. Validation errors name the file and the key.
Result<ReplicatorConfig> ReadReplicatorConfig(const std::string& path);

// Checks the settings: source and target given, distinct and http:// URLs, at least one
// table and no table twice, batch size in range.
Status ValidateReplicatorConfig(const ReplicatorConfig& config);

}  // namespace tidewater::replicator
