// The cluster's catalog (cluster/catalog_log.h) on librdkafka's mock cluster: changes
// submitted through any node are applied by every node in one order, the submitter
// answered with its own outcome; a restarted node goes on after what it applied; a node
// started on an empty directory applies everything before Start returns.
#include "tidewater/cluster/catalog_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/kafka_cluster.h"
#include "support/temp_dir.h"

namespace tidewater::cluster {
namespace {

constexpr char kCluster[] = "cat";

// A node's applied changes, in order.
struct AppliedLog {
  std::mutex mu;
  std::vector<std::string> changes;

  CatalogApplier Applier(const std::string& node) {
    return [this, node](const std::string& operation, const std::string& request) {
      std::lock_guard lock(mu);
      changes.push_back(operation + " " + request);
      return CatalogOutcome{200, node + " applied " + request};
    };
  }
  std::vector<std::string> Snapshot() {
    std::lock_guard lock(mu);
    return changes;
  }
};

class CatalogLogTest : public ::testing::Test {
 protected:
  void SetUp() override { kafka_.CreateTopic(CatalogTopic(kCluster), 1); }

  std::unique_ptr<CatalogLog> Start(const std::string& node, const std::string& dir,
                                    AppliedLog& log) {
    auto started = CatalogLog::Start({kafka_.bootstraps(), {}, std::chrono::seconds(10)}, kCluster,
                                     node, dir, log.Applier(node));
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    return started.ok() ? std::move(*started) : nullptr;
  }

  testing::MockKafkaCluster kafka_{3};
  testing::TempDir dir1_;
  testing::TempDir dir2_;
  testing::TempDir dir3_;
};

TEST_F(CatalogLogTest, EveryNodeAppliesEveryChangeInOneOrder) {
  // Declared before the nodes, whose threads apply into them until the nodes are gone.
  AppliedLog applied1, applied2, restarted, fresh;
  auto n1 = Start("n1", dir1_.path(), applied1);
  auto n2 = Start("n2", dir2_.path(), applied2);
  ASSERT_TRUE(n1 && n2);
  // Both submit at once; each is answered with its own apply's outcome.
  std::vector<std::thread> submitters;
  std::mutex mu;
  std::vector<std::string> answers;
  for (int i = 0; i < 10; ++i) {
    submitters.emplace_back([&, i] {
      CatalogLog& node = i % 2 == 0 ? *n1 : *n2;
      auto outcome = node.Submit("CreateTable", "t" + std::to_string(i), std::chrono::seconds(20));
      ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
      std::lock_guard lock(mu);
      answers.push_back(outcome->body);
    });
  }
  for (auto& thread : submitters) thread.join();
  for (int i = 0; i < 10; ++i) {
    const std::string expected =
        std::string(i % 2 == 0 ? "n1" : "n2") + " applied t" + std::to_string(i);
    EXPECT_NE(std::find(answers.begin(), answers.end(), expected), answers.end()) << expected;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((applied1.Snapshot().size() < 10 || applied2.Snapshot().size() < 10) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(applied1.Snapshot().size(), 10u);
  EXPECT_EQ(applied1.Snapshot(), applied2.Snapshot());

  // n1 restarts: nothing applied twice; a change made meanwhile is applied at Start.
  n1.reset();
  ASSERT_TRUE(n2->Submit("DeleteTable", "t0", std::chrono::seconds(20)).ok());
  n1 = Start("n1", dir1_.path(), restarted);
  ASSERT_TRUE(n1);
  EXPECT_EQ(restarted.Snapshot(), std::vector<std::string>{"DeleteTable t0"});

  // A node on an empty directory has applied everything once Start returns.
  auto n3 = Start("n3", dir3_.path(), fresh);
  ASSERT_TRUE(n3);
  std::vector<std::string> all = applied1.Snapshot();
  all.push_back("DeleteTable t0");
  EXPECT_EQ(fresh.Snapshot(), all);
  n3->Stop();
  EXPECT_EQ(n3->Submit("CreateTable", "late", std::chrono::seconds(5)).status().code(),
            ErrorCode::kServiceUnavailable);
}

TEST(CatalogLogStartTest, AClusterWithoutTheCatalogTopicIsAClearError) {
  testing::MockKafkaCluster kafka(1);
  testing::TempDir dir;
  auto started =
      CatalogLog::Start({kafka.bootstraps(), {}, std::chrono::seconds(5)}, "none", "n1", dir.path(),
                        [](const std::string&, const std::string&) { return CatalogOutcome{}; });
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.status().message().find(CatalogTopic("none")), std::string::npos)
      << started.status().message();
}

}  // namespace
}  // namespace tidewater::cluster
