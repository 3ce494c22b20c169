// Cluster mode with ownership through the owners' consumer group, in one process on a real
// Kafka-protocol cluster (librdkafka's mock): two nodes' commit logs, each over its own
// engine, serve the shards the group assigns them; writers on both nodes keep writing while
// a node joins (shards move to it) and leaves (it hands them back), and every acknowledged
// write ends up once, in order, in the table and the stream of the node that stays. Run
// under ThreadSanitizer too: take-overs and hand-offs run on the group's thread while the
// writers' threads are admitted and append.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/kafka_cluster.h"
#include "support/log_table.h"
#include "support/temp_dir.h"
#include "support/wait_for.h"
#include "tidewater/cluster/cluster_commit_log.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/record_codec.h"

namespace tidewater::cluster {
namespace {

using tidewater::testing::MockKafkaCluster;
using tidewater::testing::TempDir;
using tidewater::testing::WaitFor;

constexpr char kCluster[] = "group";
constexpr char kTable[] = "tbl";
constexpr uint32_t kShards = 4;
constexpr std::chrono::seconds kSettle{60};

// A node: its engine writes through the shard logs the group assigns to it. The engine goes
// first (it holds the log).
struct Node {
  std::unique_ptr<ClusterCommitLog> log;
  std::unique_ptr<Engine> engine;
  ~Node() { engine.reset(); }

  // The shards this node serves now.
  std::set<uint32_t> Served() {
    std::set<uint32_t> served;
    for (uint32_t shard = 0; shard < kShards; ++shard) {
      if (log->Admit(TableName(kTable), ShardIndex(shard)).ok()) served.insert(shard);
    }
    return served;
  }
};

std::unique_ptr<Node> JoinNode(
    const std::string& brokers, const std::string& dir, const std::string& node_id,
    std::chrono::milliseconds append_timeout = std::chrono::seconds(10)) {
  auto node = std::make_unique<Node>();
  ClusterCommitLogOptions options{brokers, kCluster, node_id, "127.0.0.1:8000", {}};
  options.timeout = append_timeout;
  options.ownership = ShardOwnership::kGroup;
  options.session_timeout = std::chrono::milliseconds(3000);
  node->log = std::make_unique<ClusterCommitLog>(std::move(options));
  node->engine = tidewater::testing::OpenTestEngine(dir, node->log.get());
  if (!node->engine) return nullptr;
  auto created = node->engine->CreateTable(tidewater::testing::StreamTableRequest(kTable, kShards));
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  Status joined = node->log->JoinOwnersGroup();
  EXPECT_TRUE(joined.ok()) << joined.ToString();
  return node;
}

// Threads putting fresh keys, each write to the first node that takes it: a refusal
// (ServiceUnavailable: the shard is the other node's) changes nothing, so the next node
// may be asked; any other failure has an unknown outcome and is not sent again.
class Writers {
 public:
  Writers(std::vector<Node*> nodes, int count) : nodes_(std::move(nodes)) {
    for (int writer = 0; writer < count; ++writer) {
      threads_.emplace_back([this, writer] { Write(writer); });
    }
  }
  ~Writers() { Stop(); }

  void Stop() {
    stop_.store(true);
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  size_t acknowledged_count() const { return acknowledged_count_.load(); }
  // After Stop.
  const std::set<std::string>& acknowledged() const { return acknowledged_; }
  const std::set<std::string>& attempted() const { return attempted_; }

 private:
  void Write(int writer) {
    for (int i = 0; !stop_.load(); ++i) {
      const std::string key = "w" + std::to_string(writer) + "-" + std::to_string(i);
      Record(attempted_, key);
      for (size_t n = 0; n < nodes_.size(); ++n) {
        Item item{{"pk", AttributeValue::S(key)}};
        auto written = nodes_[n]->engine->PutItem(kTable, std::move(item), {}, {});
        if (written.ok()) {
          Record(acknowledged_, key);
          acknowledged_count_.fetch_add(1);
          break;
        }
        if (written.status().code() != ErrorCode::kServiceUnavailable) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  void Record(std::set<std::string>& keys, const std::string& key) {
    std::lock_guard lock(mu_);
    keys.insert(key);
  }

  const std::vector<Node*> nodes_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> acknowledged_count_{0};
  std::mutex mu_;
  std::set<std::string> acknowledged_;
  std::set<std::string> attempted_;
  std::vector<std::thread> threads_;
};

bool WaitForMoreWrites(const Writers& writers, size_t more) {
  const size_t target = writers.acknowledged_count() + more;
  return WaitFor([&] { return writers.acknowledged_count() >= target; }, kSettle);
}

TEST(ClusterGroupOwnershipTest, NodesShareTheShardsAndHandOffsLoseNothing) {
  MockKafkaCluster kafka(3);
  kafka.CreateTopic(ShardLogTopic(kCluster, 1), kShards);
  TempDir dir;
  const std::set<uint32_t> every{0, 1, 2, 3};

  auto a = JoinNode(kafka.bootstraps(), dir.path() + "/a", "a");
  ASSERT_TRUE(a);
  ASSERT_TRUE(WaitFor([&] { return a->Served() == every; }, kSettle));
  auto b = JoinNode(kafka.bootstraps(), dir.path() + "/b", "b");
  ASSERT_TRUE(b);

  Writers writers({a.get(), b.get()}, 3);
  ASSERT_TRUE(WaitForMoreWrites(writers, 100));
  // b joined: the group moves shards to it (a hands them off, b takes them over).
  ASSERT_TRUE(WaitFor(
      [&] {
        std::set<uint32_t> on_a = a->Served(), on_b = b->Served(), both = on_a;
        both.insert(on_b.begin(), on_b.end());
        return !on_a.empty() && !on_b.empty() && on_a.size() + on_b.size() == kShards &&
               both == every;
      },
      kSettle));
  ASSERT_TRUE(WaitForMoreWrites(writers, 100));
  // b leaves: it hands its shards back to a, which takes them over from b's appends.
  b->log->LeaveOwnersGroup();
  EXPECT_TRUE(b->Served().empty());
  ASSERT_TRUE(WaitFor([&] { return a->Served() == every; }, kSettle));
  ASSERT_TRUE(WaitForMoreWrites(writers, 100));
  writers.Stop();

  // Every acknowledged put is in a's table, nothing unattempted is, and a's stream holds
  // each key once with gap-free sequences in every shard, across both owner changes.
  auto page = a->engine->Scan({kTable});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::set<std::string> stored;
  for (const Item& item : page->items) stored.insert(item.at("pk").s());
  for (const std::string& key : writers.acknowledged()) EXPECT_TRUE(stored.contains(key)) << key;
  for (const std::string& key : stored) EXPECT_TRUE(writers.attempted().contains(key)) << key;
  std::set<std::string> in_stream;
  for (uint32_t shard = 0; shard < kShards; ++shard) {
    const auto records = tidewater::testing::ShardRecords(*a->engine, kTable, shard);
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(records[i].sequence(), i + 1) << "shard " << shard;
      const std::string key = FromProto(records[i].keys())->at("pk").s();
      EXPECT_TRUE(in_stream.insert(key).second) << key << " has two records";
    }
  }
  EXPECT_EQ(in_stream, stored);
  std::cout << "acknowledged " << writers.acknowledged().size() << " of "
            << writers.attempted().size() << " puts\n";
}

TEST(ClusterGroupOwnershipTest, HealthSaysUnavailableWhileAnAssignedShardIsNotTakenOver) {
  MockKafkaCluster kafka(3);
  const std::string topic = ShardLogTopic(kCluster, 1);
  kafka.CreateTopic(topic, kShards);
  // Shard 0's partition has no leader: its take-over cannot append its term.
  rd_kafka_mock_partition_set_leader(kafka.mock(), topic.c_str(), 0, -1);
  TempDir dir;
  auto a = JoinNode(kafka.bootstraps(), dir.path() + "/a", "a", std::chrono::seconds(2));
  ASSERT_TRUE(a);
  ASSERT_TRUE(WaitFor([&] { return a->Served() == std::set<uint32_t>{1, 2, 3}; }, kSettle));
  ASSERT_TRUE(WaitFor([&] { return !a->log->Health().ok(); }, kSettle));
  const Status health = a->log->Health();
  EXPECT_EQ(health.code(), ErrorCode::kServiceUnavailable);
  EXPECT_NE(health.message().find("shard 0 of tbl"), std::string::npos) << health.message();
  // The partition gets a leader: the next recovery (every second in tidewaterd) takes the
  // shard over, and the node is healthy.
  rd_kafka_mock_partition_set_leader(kafka.mock(), topic.c_str(), 0, 1);
  ASSERT_TRUE(WaitFor(
      [&] {
        (void)a->log->Recover(*a->engine);
        return a->Served() == std::set<uint32_t>{0, 1, 2, 3};
      },
      kSettle));
  EXPECT_TRUE(a->log->Health().ok()) << a->log->Health().ToString();
}

}  // namespace
}  // namespace tidewater::cluster
