#include "tidewater/cluster/node_identity.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tidewater/core/durable_file.h"

namespace tidewater::cluster {
namespace {

constexpr char kIdentityFile[] = "CLUSTER_NODE";
// RocksDB's file naming the current manifest: present once the engine opened the directory.
constexpr char kStorageMarker[] = "CURRENT";

std::string IdentityPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / kIdentityFile).string();
}

std::string Describe(const NodeIdentity& identity) {
  return "node " + identity.node_id + " of cluster " + identity.cluster_name;
}

}  // namespace

Result<std::optional<NodeIdentity>> ReadNodeIdentity(const std::string& data_dir) {
  const std::string path = IdentityPath(data_dir);
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    if (error) return Status::IOError(path + ": " + error.message());
    return std::optional<NodeIdentity>();
  }
  std::ifstream in(path);
  if (!in) return Status::IOError(path + ": cannot be read");
  NodeIdentity identity;
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("cluster=")) {
      identity.cluster_name = line.substr(8);
    } else if (line.starts_with("node=")) {
      identity.node_id = line.substr(5);
    }
  }
  if (identity.cluster_name.empty() || identity.node_id.empty()) {
    return Status::Validation(path + " is malformed: it needs the lines cluster=NAME and node=ID");
  }
  return std::optional<NodeIdentity>(std::move(identity));
}

Status ClaimDataDirectory(const std::string& data_dir, const NodeIdentity& identity) {
  TW_ASSIGN_OR_RETURN(std::optional<NodeIdentity> recorded, ReadNodeIdentity(data_dir));
  if (recorded) {
    if (*recorded == identity) return Status::Ok();
    return Status::Validation("data directory " + data_dir + " belongs to " + Describe(*recorded) +
                              ", not to " + Describe(identity));
  }
  std::error_code error;
  if (std::filesystem::exists(std::filesystem::path(data_dir) / kStorageMarker, error)) {
    return Status::Validation("data directory " + data_dir +
                              " holds data written outside cluster mode; a cluster node starts "
                              "on an empty data directory and builds it from the shard logs");
  }
  std::filesystem::create_directories(data_dir, error);
  if (error) return Status::IOError(data_dir + ": " + error.message());
  return WriteFileAtomically(IdentityPath(data_dir), "cluster=" + identity.cluster_name +
                                                         "\nnode=" + identity.node_id + "\n");
}

Status ValidateClusterName(const std::string& what, const std::string& value) {
  const bool valid_length = !value.empty() && value.size() <= 100;
  const bool valid_characters = value.find_first_not_of(
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789._-") == std::string::npos;
  if (valid_length && valid_characters) return Status::Ok();
  return Status::Validation(what + " must be 1 to 100 of the characters A-Z a-z 0-9 . _ -, not \"" +
                            value + "\"");
}

}  // namespace tidewater::cluster
