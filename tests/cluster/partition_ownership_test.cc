// Ownership of shard-log partitions through a Kafka consumer group, on a real
// Kafka-protocol cluster (librdkafka's mock): every partition has one owner, a member that
// leaves hands its partitions off before anyone else starts on them, a member killed with
// SIGKILL loses them to the others, and owners that take their shard logs over leave a
// history in which each term was started by the member that owned the partition.
#include "tidewater/cluster/partition_ownership.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/kafka_cluster.h"
#include "support/wait_for.h"
#include "tidewater/cluster/shard_log.h"

namespace tidewater::cluster {
namespace {

using tidewater::testing::ChildProcess;
using tidewater::testing::MockKafkaCluster;
using tidewater::testing::WaitFor;

constexpr char kTopic[] = "tidewater.test.t.1.g0";
constexpr int kPartitions = 6;
constexpr char kGroup[] = "tidewater.test.owners";
// The mock broker's rebalances wait the session timeout less a second: short keeps the
// tests short.
constexpr std::chrono::milliseconds kSession{3000};
// Bound on the group settling after a change (the mock's 3 s first join, a rebalance or
// two, a dropped member's session): long enough never to be the reason a test fails.
constexpr std::chrono::seconds kSettle{60};

OwnershipOptions Options(const std::string& brokers, const std::string& node) {
  OwnershipOptions options;
  options.brokers = brokers;
  options.group_id = kGroup;
  options.node_id = node;
  options.topics = {kTopic};
  options.session_timeout = kSession;
  return options;
}

// Every listener's calls, in the one order they happened across members.
struct History {
  struct Event {
    std::string node;
    enum Kind { kAssigned, kRevokeStarted, kRevokeFinished } kind;
    PartitionRef partition;
    bool lost = false;
  };
  std::mutex mu;
  std::vector<Event> events;

  void Add(const std::string& node, Event::Kind kind, const std::vector<PartitionRef>& refs,
           bool lost = false) {
    std::lock_guard lock(mu);
    for (const auto& ref : refs) events.push_back({node, kind, ref, lost});
  }
  std::vector<Event> Events() {
    std::lock_guard lock(mu);
    return events;
  }
};

class RecordingListener : public OwnershipListener {
 public:
  RecordingListener(std::string node, History& history,
                    std::chrono::milliseconds drain = std::chrono::milliseconds(0))
      : node_(std::move(node)), history_(history), drain_(drain) {}
  void Assigned(const std::vector<PartitionRef>& partitions) override {
    history_.Add(node_, History::Event::kAssigned, partitions);
  }
  void Revoked(const std::vector<PartitionRef>& partitions, bool lost) override {
    history_.Add(node_, History::Event::kRevokeStarted, partitions, lost);
    std::this_thread::sleep_for(drain_);  // in-flight writes finishing
    history_.Add(node_, History::Event::kRevokeFinished, partitions, lost);
  }

 private:
  const std::string node_;
  History& history_;
  const std::chrono::milliseconds drain_;
};

std::unique_ptr<PartitionOwnership> Join(const std::string& brokers, const std::string& node,
                                         OwnershipListener& listener) {
  auto member = PartitionOwnership::Join(Options(brokers, node), listener);
  EXPECT_TRUE(member.ok()) << member.status().ToString();
  return member.ok() ? std::move(*member) : nullptr;
}

// True when the members own every partition between them, each one exactly once, and
// each member owns at least one.
bool Balanced(const std::vector<PartitionOwnership*>& members) {
  std::set<PartitionRef> all;
  size_t total = 0;
  for (PartitionOwnership* member : members) {
    const auto owned = member->Owned();
    if (owned.empty()) return false;
    total += owned.size();
    all.insert(owned.begin(), owned.end());
  }
  return total == kPartitions && all.size() == kPartitions;
}

// Replays the history: no partition is assigned to a member while another member has it
// and has not finished handing it off. Empty when that holds, else the first violation.
std::string FirstOverlap(const std::vector<History::Event>& events) {
  std::map<PartitionRef, std::string> holder;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& event = events[i];
    if (event.kind == History::Event::kAssigned) {
      auto [it, fresh] = holder.emplace(event.partition, event.node);
      if (!fresh) {
        return "event " + std::to_string(i) + ": partition " +
               std::to_string(event.partition.partition) + " assigned to " + event.node +
               " while " + it->second + " held it";
      }
    } else if (event.kind == History::Event::kRevokeFinished) {
      holder.erase(event.partition);
    }
  }
  return "";
}

class PartitionOwnershipTest : public ::testing::Test {
 protected:
  PartitionOwnershipTest() : kafka_(3) { kafka_.CreateTopic(kTopic, kPartitions); }

  MockKafkaCluster kafka_;
  History history_;
};

TEST_F(PartitionOwnershipTest, ThreeMembersOwnEveryPartitionOnce) {
  RecordingListener a_listener("a", history_), b_listener("b", history_), c_listener("c", history_);
  auto a = Join(kafka_.bootstraps(), "a", a_listener);
  auto b = Join(kafka_.bootstraps(), "b", b_listener);
  auto c = Join(kafka_.bootstraps(), "c", c_listener);
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(WaitFor(
      [&] {
        return Balanced({a.get(), b.get(), c.get()});
      },
      kSettle))
      << "owned: a " << a->Owned().size() << ", b " << b->Owned().size() << ", c "
      << c->Owned().size();
  EXPECT_EQ(FirstOverlap(history_.Events()), "");
}

TEST_F(PartitionOwnershipTest, LeavingMemberHandsOffBeforeTheNextOwnerStarts) {
  // "a" takes a while to finish its in-flight writes when it gives partitions up.
  RecordingListener a_listener("a", history_, std::chrono::milliseconds(700));
  RecordingListener b_listener("b", history_);
  auto a = Join(kafka_.bootstraps(), "a", a_listener);
  auto b = Join(kafka_.bootstraps(), "b", b_listener);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(WaitFor([&] { return Balanced({a.get(), b.get()}); }, kSettle));
  const auto a_owned = a->Owned();

  a.reset();  // leaves the group
  // Owned() counts a partition before the listener's Assigned has been recorded: wait for
  // the records of "b" taking every partition "a" had.
  const auto b_took_them = [&] {
    std::set<PartitionRef> taken;
    for (const auto& event : history_.Events()) {
      if (event.node == "b" && event.kind == History::Event::kAssigned) {
        taken.insert(event.partition);
      }
    }
    return std::includes(taken.begin(), taken.end(), a_owned.begin(), a_owned.end());
  };
  ASSERT_TRUE(WaitFor([&] { return b->Owned().size() == kPartitions && b_took_them(); }, kSettle));

  const auto events = history_.Events();
  EXPECT_EQ(FirstOverlap(events), "");
  // Every partition "a" had was handed off (not lost), and "b" started on it after.
  for (const auto& partition : a_owned) {
    size_t finished = events.size(), taken = events.size();
    for (size_t i = 0; i < events.size(); ++i) {
      const auto& event = events[i];
      if (event.partition != partition) continue;
      if (event.node == "a" && event.kind == History::Event::kRevokeFinished) {
        EXPECT_FALSE(event.lost);
        finished = i;
      }
      if (event.node == "b" && event.kind == History::Event::kAssigned && i > finished) {
        taken = std::min(taken, i);
      }
    }
    EXPECT_LT(finished, events.size()) << "a never handed off " << partition.partition;
    EXPECT_LT(taken, events.size()) << "b never took " << partition.partition;
  }
}

// The member run as a child process by the kill test (disabled: it runs only there): joins
// as node "killed" and reports each assignment on stdout; runs until it is killed.
TEST(PartitionOwnershipMemberChild, DISABLED_RunUntilKilled) {
  const char* brokers = std::getenv("TW_OWNERSHIP_CHILD_BROKERS");
  ASSERT_NE(brokers, nullptr) << "run by the kill test only";
  struct Printer : OwnershipListener {
    void Assigned(const std::vector<PartitionRef>& partitions) override {
      std::cout << "assigned " << partitions.size() << std::endl;
    }
    void Revoked(const std::vector<PartitionRef>& partitions, bool) override {
      std::cout << "revoked " << partitions.size() << std::endl;
    }
  } printer;
  auto member = PartitionOwnership::Join(Options(brokers, "killed"), printer);
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}

TEST_F(PartitionOwnershipTest, KilledMemberLosesItsPartitionsToTheOthers) {
  RecordingListener listener("survivor", history_);
  auto survivor = Join(kafka_.bootstraps(), "survivor", listener);
  ASSERT_TRUE(survivor);
  ASSERT_TRUE(WaitFor([&] { return survivor->Owned().size() == kPartitions; }, kSettle));

  ChildProcess child(std::filesystem::read_symlink("/proc/self/exe").string(),
                     {"--gtest_also_run_disabled_tests",
                      "--gtest_filter=PartitionOwnershipMemberChild.DISABLED_RunUntilKilled"},
                     {"TW_OWNERSHIP_CHILD_BROKERS=" + kafka_.bootstraps()});
  ASSERT_TRUE(child.WaitForLog("assigned [1-9]", kSettle)) << child.log();
  ASSERT_TRUE(WaitFor([&] { return survivor->Owned().size() < kPartitions; }, kSettle));
  const size_t kept = survivor->Owned().size();

  child.Signal(SIGKILL);
  child.Wait();
  // The coordinator drops the silent member after its session; its partitions come back.
  ASSERT_TRUE(WaitFor([&] { return survivor->Owned().size() == kPartitions; }, kSettle))
      << "the survivor kept " << kept << " and owns " << survivor->Owned().size();
  EXPECT_EQ(FirstOverlap(history_.Events()), "");
}

// Owners that take their shard logs over on assignment: the history of each partition
// shows terms started only by the member that owned it, and every entry valid.
TEST_F(PartitionOwnershipTest, OwnersStartTheTermsOfTheirPartitions) {
  struct TakingOver : OwnershipListener {
    TakingOver(std::string node, const std::string& brokers)
        : node(std::move(node)), brokers(brokers) {}
    void Assigned(const std::vector<PartitionRef>& partitions) override {
      for (const auto& ref : partitions) {
        ShardLogOptions options;
        options.brokers = brokers;
        options.node_id = node;
        options.advertised = "127.0.0.1:8000";
        options.topic = ref.topic;
        options.partition = ref.partition;
        options.message_key = "1/" + std::to_string(ref.partition);
        auto log =
            ShardLog::Open(std::move(options), [](int64_t, const auto&) { return Status::Ok(); });
        if (!log.ok() || !(*log)->TakeOver().ok()) {
          ++failures;
          continue;
        }
        logs[ref.partition] = std::move(*log);
      }
    }
    void Revoked(const std::vector<PartitionRef>& partitions, bool) override {
      for (const auto& ref : partitions) logs.erase(ref.partition);
    }
    const std::string node;
    const std::string brokers;
    std::map<int32_t, std::unique_ptr<ShardLog>> logs;  // on the membership's thread only
    std::atomic<int> failures{0};
  };
  TakingOver a_listener("a", kafka_.bootstraps()), b_listener("b", kafka_.bootstraps());
  auto a = Join(kafka_.bootstraps(), "a", a_listener);
  ASSERT_TRUE(a);
  ASSERT_TRUE(WaitFor([&] { return a->Owned().size() == kPartitions; }, kSettle));
  auto b = Join(kafka_.bootstraps(), "b", b_listener);
  ASSERT_TRUE(b);
  ASSERT_TRUE(WaitFor([&] { return Balanced({a.get(), b.get()}); }, kSettle));
  const auto b_owned = b->Owned();
  b.reset();
  ASSERT_TRUE(WaitFor([&] { return a->Owned().size() == kPartitions; }, kSettle));
  a.reset();
  EXPECT_EQ(a_listener.failures.load(), 0);
  EXPECT_EQ(b_listener.failures.load(), 0);

  // A reader of each partition: terms were started by a, then (for b's partitions) b, then
  // a again.
  for (int32_t partition = 0; partition < kPartitions; ++partition) {
    std::vector<std::string> starters;
    ShardLogOptions options;
    options.brokers = kafka_.bootstraps();
    options.node_id = "reader";
    options.topic = kTopic;
    options.partition = partition;
    auto reader = ShardLog::Open(std::move(options), [&](int64_t, const v1::ShardLogEntry& entry) {
      if (entry.has_term_start()) starters.push_back(entry.node_id());
      return Status::Ok();
    });
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    ASSERT_TRUE((*reader)->CatchUp().ok());
    const bool b_had_it =
        std::find(b_owned.begin(), b_owned.end(), PartitionRef{kTopic, partition}) != b_owned.end();
    const std::vector<std::string> expected =
        b_had_it ? std::vector<std::string>{"a", "b", "a"} : std::vector<std::string>{"a"};
    EXPECT_EQ(starters, expected) << "partition " << partition;
  }
}

}  // namespace
}  // namespace tidewater::cluster
