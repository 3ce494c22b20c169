// Which cluster node a data directory belongs to (docs/CLUSTER.md, "Bad input and limits").
// A node records its cluster name and node id in its data directory at its first start in
// cluster mode (the file CLUSTER_NODE) and is refused any other identity afterwards, so
// that a directory is never served under two names, nor by an embedded tidewaterd whose
// writes would bypass the shard logs.
#pragma once

#include <optional>
#include <string>

#include "tidewater/core/status.h"

namespace tidewater::cluster {

struct NodeIdentity {
  std::string cluster_name;
  std::string node_id;
  bool operator==(const NodeIdentity&) const = default;
};

// The identity recorded in `data_dir`; nullopt when none is (a new or embedded directory).
// Errors: IOError when the file cannot be read, Validation when it is malformed.
Result<std::optional<NodeIdentity>> ReadNodeIdentity(const std::string& data_dir);

// For a node starting as `identity`: Ok when `data_dir` already belongs to it, or holds no
// data yet (the identity is then recorded, durably, creating the directory if needed).
// Validation when it belongs to another node or cluster, or holds data written outside
// cluster mode; IOError when it cannot be read or written.
Status ClaimDataDirectory(const std::string& data_dir, const NodeIdentity& identity);

// A cluster name or node id as the topics and group names use them: 1 to 100 of
// [A-Za-z0-9._-]. Validation naming `what` otherwise.
Status ValidateClusterName(const std::string& what, const std::string& value);

}  // namespace tidewater::cluster
