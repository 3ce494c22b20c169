// Cluster mode's failover (issue 17): a node owning shard-log partitions is killed with
// SIGKILL; how long until another node owns them and has taken each over (its TermStart
// read back), so that writes could resume there. Each round starts a member process
// (this program with --member), waits until the group has given it partitions, kills it,
// and times the survivor (in this process) taking them over. The target: under
// the Kafka session timeout + 1 s.
//
//   tw_cluster_failover_bench [--rounds N] [--partitions P] [--session-ms MS]
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "percentile.h"
#include "support/child_process.h"
#include "support/kafka_cluster.h"
#include "tidewater/cluster/partition_ownership.h"
#include "tidewater/cluster/shard_log.h"

namespace {

using Clock = std::chrono::steady_clock;
using tidewater::Status;
using tidewater::bench::Percentile;
using namespace tidewater::cluster;

constexpr char kTopic[] = "tidewater.bench.t.1.g0";

struct Settings {
  int rounds = 5;
  int partitions = 6;
  int session_ms = 6000;
};

OwnershipOptions Options(const std::string& brokers, const std::string& node,
                         const Settings& settings) {
  OwnershipOptions options;
  options.brokers = brokers;
  options.group_id = "tidewater.bench.owners";
  options.node_id = node;
  options.topics = {kTopic};
  options.session_timeout = std::chrono::milliseconds(settings.session_ms);
  return options;
}

// An owner as tidewaterd will be one: a standby of every partition (its shard log open,
// its producer ready), which takes each partition assigned to it over (TermStart appended
// and read back) before it counts as served, and stays its standby when it is revoked.
class TakingOver : public OwnershipListener {
 public:
  TakingOver(std::string node, std::string brokers, int partitions, bool print)
      : node_(std::move(node)), brokers_(std::move(brokers)), print_(print) {
    for (int32_t partition = 0; partition < partitions; ++partition) {
      ShardLogOptions options;
      options.brokers = brokers_;
      options.node_id = node_;
      options.advertised = "127.0.0.1:0";
      options.topic = kTopic;
      options.partition = partition;
      options.message_key = "1/" + std::to_string(partition);
      auto log =
          ShardLog::Open(std::move(options), [](int64_t, const auto&) { return Status::Ok(); });
      if (!log.ok()) {
        std::fprintf(stderr, "%s: %s\n", node_.c_str(), log.status().ToString().c_str());
        std::exit(1);
      }
      logs_[partition] = std::move(*log);
    }
  }

  // Takes the partitions over in parallel: each take-over is a produce and a read-back.
  void Assigned(const std::vector<PartitionRef>& partitions) override {
    const auto assigned = Clock::now();
    std::vector<std::future<void>> takeovers;
    for (const auto& ref : partitions) {
      ShardLog* log;
      {
        std::lock_guard lock(mu_);
        log = logs_.at(ref.partition).get();
      }
      takeovers.push_back(std::async(std::launch::async, [this, log, ref, assigned] {
        if (!log->TakeOver().ok()) {
          std::fprintf(stderr, "%s: take-over of partition %d failed\n", node_.c_str(),
                       ref.partition);
          return;
        }
        std::lock_guard lock(mu_);
        served_since_[ref.partition] = {assigned, Clock::now()};
      }));
    }
    for (auto& takeover : takeovers) takeover.get();
    Report();
  }
  void Revoked(const std::vector<PartitionRef>& partitions, bool) override {
    {
      std::lock_guard lock(mu_);
      for (const auto& ref : partitions) served_since_.erase(ref.partition);
    }
    Report();
  }

  // Partition -> when the group assigned it to this node and when this node started
  // serving it.
  std::map<int32_t, std::pair<Clock::time_point, Clock::time_point>> Served() {
    std::lock_guard lock(mu_);
    return served_since_;
  }

 private:
  void Report() {
    if (!print_) return;
    std::lock_guard lock(mu_);
    std::printf("serving %zu\n", served_since_.size());
    std::fflush(stdout);
  }

  const std::string node_;
  const std::string brokers_;
  const bool print_;
  std::mutex mu_;
  std::map<int32_t, std::unique_ptr<ShardLog>> logs_;
  std::map<int32_t, std::pair<Clock::time_point, Clock::time_point>> served_since_;
};

// --member BROKERS: the node that gets killed. Serves until it is.
int RunMember(const std::string& brokers, const Settings& settings) {
  TakingOver listener("victim", brokers, settings.partitions, /*print=*/true);
  auto member = PartitionOwnership::Join(Options(brokers, "victim", settings), listener);
  if (!member.ok()) {
    std::fprintf(stderr, "join: %s\n", member.status().ToString().c_str());
    return 1;
  }
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}

template <typename Predicate>
bool WaitUntil(Predicate done, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  std::string member_brokers;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) settings.rounds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--partitions") == 0) settings.partitions = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--session-ms") == 0) settings.session_ms = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--member") == 0) member_brokers = argv[i + 1];
  }
  if (!member_brokers.empty()) return RunMember(member_brokers, settings);

  tidewater::testing::MockKafkaCluster kafka(3);
  kafka.CreateTopic(kTopic, settings.partitions);
  TakingOver survivor_listener("survivor", kafka.bootstraps(), settings.partitions,
                               /*print=*/false);
  auto survivor = PartitionOwnership::Join(Options(kafka.bootstraps(), "survivor", settings),
                                           survivor_listener);
  if (!survivor.ok()) {
    std::fprintf(stderr, "join: %s\n", survivor.status().ToString().c_str());
    return 1;
  }
  const size_t all = static_cast<size_t>(settings.partitions);
  if (!WaitUntil([&] { return survivor_listener.Served().size() == all; },
                 std::chrono::seconds(60))) {
    std::fprintf(stderr, "the survivor never served every partition\n");
    return 1;
  }

  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<double> first_ms, last_ms, assigned_ms, takeover_ms;
  for (int round = 0; round < settings.rounds; ++round) {
    tidewater::testing::ChildProcess victim(
        self, {"--member", kafka.bootstraps(), "--session-ms", std::to_string(settings.session_ms)},
        {});
    // Settled: the victim serves some partitions and the survivor the rest.
    const bool settled = WaitUntil(
        [&] {
          const auto served =
              victim.WaitForLog("serving ([1-9][0-9]*)\n[^\n]*$", std::chrono::milliseconds(1));
          return served && survivor_listener.Served().size() + std::stoul(*served) == all;
        },
        std::chrono::seconds(60));
    if (!settled) {
      std::fprintf(stderr, "round %d: the group did not settle; member output:\n%s\n", round,
                   victim.log().c_str());
      return 1;
    }
    const auto before = survivor_listener.Served();
    const auto killed = Clock::now();
    victim.Signal(SIGKILL);
    victim.Wait();
    if (!WaitUntil([&] { return survivor_listener.Served().size() == all; },
                   std::chrono::seconds(120))) {
      std::fprintf(stderr, "round %d: the partitions never came back\n", round);
      return 1;
    }
    double first = 1e18, last = 0, assigned = 0;
    for (const auto& [partition, times] : survivor_listener.Served()) {
      if (before.count(partition) != 0) continue;
      const auto ms = [&](Clock::time_point t) {
        return std::chrono::duration<double, std::milli>(t - killed).count();
      };
      first = std::min(first, ms(times.second));
      last = std::max(last, ms(times.second));
      assigned = ms(times.first);
      takeover_ms.push_back(ms(times.second) - ms(times.first));
    }
    std::printf(
        "round %d: %zu partitions moved; assigned after %.0f ms, first served after %.0f ms, "
        "all after %.0f ms\n",
        round + 1, all - before.size(), assigned, first, last);
    std::fflush(stdout);
    first_ms.push_back(first);
    last_ms.push_back(last);
    assigned_ms.push_back(assigned);
  }
  const double target = settings.session_ms + 1000.0;
  std::printf(
      "failover after kill -9 (session.timeout.ms %d, %d partitions, %d rounds):\n"
      "  assigned by the group   p50 %6.0f ms  max %6.0f ms\n"
      "  take-over per partition p50 %6.0f ms  max %6.0f ms   (assignment to serving)\n"
      "  first partition served  p50 %6.0f ms  max %6.0f ms\n"
      "  all partitions served   p50 %6.0f ms  max %6.0f ms   (%.2fx the target %.0f ms)\n",
      settings.session_ms, settings.partitions, settings.rounds, Percentile(assigned_ms, 0.5),
      Percentile(assigned_ms, 1.0), Percentile(takeover_ms, 0.5), Percentile(takeover_ms, 1.0),
      Percentile(first_ms, 0.5), Percentile(first_ms, 1.0), Percentile(last_ms, 0.5),
      Percentile(last_ms, 1.0), Percentile(last_ms, 0.5) / target, target);
  return 0;
}
