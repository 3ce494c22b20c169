// The owners' directory (cluster/owner_directory.h) on librdkafka's mock cluster: what one
// node announces, every node finds; the highest term names the owner whatever the order of
// announcements; a node started later reads what was announced before it; a cluster without
// the nodes topic is a clear error.
#include "tidewater/cluster/owner_directory.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/kafka_cluster.h"

namespace tidewater::cluster {
namespace {

constexpr char kCluster[] = "dir";

class OwnerDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override { kafka_.CreateTopic(NodesTopic(kCluster), 1); }

  std::unique_ptr<OwnerDirectory> Start() {
    auto started =
        OwnerDirectory::Start({kafka_.bootstraps(), {}, std::chrono::seconds(10)}, kCluster);
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    return started.ok() ? std::move(*started) : nullptr;
  }

  // Waits until `directory` names `node` as the owner of the partition.
  static std::optional<ShardOwner> WaitFor(const OwnerDirectory& directory,
                                           const std::string& topic, int32_t partition,
                                           const std::string& node) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<ShardOwner> owner = directory.Find(topic, partition);
      if (owner && owner->node_id == node) return owner;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return directory.Find(topic, partition);
  }

  testing::MockKafkaCluster kafka_{3};
};

TEST_F(OwnerDirectoryTest, EveryNodeFindsTheOwnerWithTheHighestTerm) {
  auto first = Start();
  auto second = Start();
  ASSERT_TRUE(first && second);
  const std::string topic = ShardLogTopic(kCluster, 1);
  EXPECT_FALSE(first->Find(topic, 0).has_value());

  first->Announce(topic, 0, {3, "n1", "127.0.0.1:8001"});
  std::optional<ShardOwner> owner = WaitFor(*second, topic, 0, "n1");
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->term, 3u);
  EXPECT_EQ(owner->advertised, "127.0.0.1:8001");

  // n2 takes it over (term 4); n1's announcement of an older term arrives after it.
  second->Announce(topic, 0, {4, "n2", "127.0.0.1:8002"});
  ASSERT_TRUE(WaitFor(*first, topic, 0, "n2").has_value());
  first->Announce(topic, 0, {2, "n1", "127.0.0.1:8001"});
  first->Announce(topic, 1, {1, "n1", "127.0.0.1:8001"});  // read after the stale one
  ASSERT_TRUE(WaitFor(*second, topic, 1, "n1").has_value());
  for (const OwnerDirectory* directory : {first.get(), second.get()}) {
    EXPECT_EQ(directory->Find(topic, 0)->node_id, "n2");
    EXPECT_EQ(directory->Find(topic, 0)->term, 4u);
    EXPECT_FALSE(directory->Find(topic, 2).has_value());
    EXPECT_FALSE(directory->Find(ShardLogTopic(kCluster, 2), 0).has_value());
  }

  // A node started later reads every announcement made before it.
  first.reset();
  auto later = Start();
  ASSERT_TRUE(later);
  EXPECT_EQ(WaitFor(*later, topic, 1, "n1")->advertised, "127.0.0.1:8001");
  EXPECT_EQ(WaitFor(*later, topic, 0, "n2")->term, 4u);
}

TEST(OwnerDirectoryStartTest, AClusterWithoutTheNodesTopicIsAClearError) {
  testing::MockKafkaCluster kafka(1);  // the mock creates no topic on request
  auto started =
      OwnerDirectory::Start({kafka.bootstraps(), {}, std::chrono::seconds(5)}, "no-topic");
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.status().message().find(NodesTopic("no-topic")), std::string::npos)
      << started.status().message();
}

TEST(OwnerDirectoryStartTest, UnreachableBrokersAreAnError) {
  auto started = OwnerDirectory::Start({"127.0.0.1:1", {}, std::chrono::seconds(2)}, "x");
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), ErrorCode::kInternal) << started.status().ToString();
}

}  // namespace
}  // namespace tidewater::cluster
