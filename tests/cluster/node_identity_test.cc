// The identity a cluster node records in its data directory: claimed on a new directory,
// accepted again for the same node, refused for another node or cluster, for a directory
// written outside cluster mode, and for a malformed record.
#include "tidewater/cluster/node_identity.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"

namespace tidewater::cluster {
namespace {

using tidewater::testing::TempDir;

TEST(NodeIdentityTest, ANewDirectoryIsClaimedOnceAndKeptByItsNode) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  ASSERT_TRUE(ClaimDataDirectory(data, {"prod", "n1"}).ok());
  auto recorded = ReadNodeIdentity(data);
  ASSERT_TRUE(recorded.ok());
  ASSERT_TRUE(recorded->has_value());
  EXPECT_EQ(**recorded, (NodeIdentity{"prod", "n1"}));
  EXPECT_TRUE(ClaimDataDirectory(data, {"prod", "n1"}).ok());

  Status other_node = ClaimDataDirectory(data, {"prod", "n2"});
  EXPECT_EQ(other_node.code(), ErrorCode::kValidation);
  EXPECT_NE(other_node.message().find("belongs to node n1 of cluster prod"), std::string::npos)
      << other_node.message();
  EXPECT_EQ(ClaimDataDirectory(data, {"test", "n1"}).code(), ErrorCode::kValidation);
}

TEST(NodeIdentityTest, DataWrittenOutsideClusterModeIsNotClaimed) {
  TempDir dir;
  std::ofstream(dir.path() + "/CURRENT") << "MANIFEST-000001\n";
  Status claimed = ClaimDataDirectory(dir.path(), {"prod", "n1"});
  EXPECT_EQ(claimed.code(), ErrorCode::kValidation);
  EXPECT_NE(claimed.message().find("outside cluster mode"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/CLUSTER_NODE"));
}

TEST(NodeIdentityTest, AMalformedRecordIsAnError) {
  TempDir dir;
  std::ofstream(dir.path() + "/CLUSTER_NODE") << "cluster=prod\n";
  EXPECT_EQ(ReadNodeIdentity(dir.path()).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(ClaimDataDirectory(dir.path(), {"prod", "n1"}).code(), ErrorCode::kValidation);
}

TEST(NodeIdentityTest, NamesAreWhatTopicAndGroupNamesAllow) {
  EXPECT_TRUE(ValidateClusterName("--node-id", "node-1.a_b").ok());
  EXPECT_EQ(ValidateClusterName("--node-id", "").code(), ErrorCode::kValidation);
  EXPECT_EQ(ValidateClusterName("--node-id", "a b").code(), ErrorCode::kValidation);
  EXPECT_EQ(ValidateClusterName("--node-id", "a/b").code(), ErrorCode::kValidation);
  EXPECT_EQ(ValidateClusterName("--node-id", std::string(101, 'a')).code(), ErrorCode::kValidation);
}

}  // namespace
}  // namespace tidewater::cluster
