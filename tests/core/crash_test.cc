// A child process writes under load and reports each acknowledged change over a pipe;
// it is killed with SIGKILL at a random moment, 20 times in a row. After each reopen the
// log has no gaps, every item's records are in commit order, every reported change is
// present exactly once, the table's contents match the log, and another table's secondary
// indexes equal a recomputation from that table (the global ones once their queued work is
// applied).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "support/change_chain.h"
#include "support/index_check.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/failure_point.h"

extern char** environ;

namespace tidewater {
namespace {

// A sanitizer build runs several times slower: the child gets longer windows, so that it
// still opens the engine and writes before each kill.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kSlowdown = 3;
#else
constexpr int kSlowdown = 1;
#endif

struct ChildRun {
  std::set<std::string> written;
  std::set<std::string> removed;
};

// Starts the writer, lets it run for `run_for`, kills it with SIGKILL and returns
// what it reported.
// With `split`, the writer also splits shards; `failure_points` (TIDEWATER_FAILURE_POINTS
// syntax, empty: none) may stop it earlier; its stderr goes to `stderr_path`.
ChildRun RunAndKill(const std::string& data_dir, int incarnation, bool sync,
                    std::chrono::milliseconds run_for, bool split = false,
                    const std::string& failure_points = "", const std::string& stderr_path = "") {
  int pipe_fds[2];
  EXPECT_EQ(pipe(pipe_fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  if (!stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  std::string program = TW_CRASH_WRITER;
  std::string inc = std::to_string(incarnation);
  std::string dir = data_dir;
  std::string mode = sync ? "sync" : "nosync";
  std::string split_mode = "split";
  std::vector<char*> argv = {program.data(), dir.data(), inc.data(), mode.data()};
  if (split) argv.push_back(split_mode.data());
  argv.push_back(nullptr);
  std::vector<std::string> environment;
  for (char** variable = environ; *variable != nullptr; ++variable) {
    if (std::string_view(*variable).starts_with("TIDEWATER_FAILURE_POINTS=")) continue;
    environment.emplace_back(*variable);
  }
  if (!failure_points.empty()) environment.push_back("TIDEWATER_FAILURE_POINTS=" + failure_points);
  std::vector<char*> envp;
  for (std::string& variable : environment) envp.push_back(variable.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);

  ChildRun run;
  std::string pending;
  std::thread reader([&] {
    char buffer[65536];
    ssize_t n;
    while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0) {
      pending.append(buffer, static_cast<size_t>(n));
      size_t start = 0;
      size_t end;
      while ((end = pending.find('\n', start)) != std::string::npos) {
        const std::string line = pending.substr(start, end - start);
        (line[0] == 'W' ? run.written : run.removed).insert(line.substr(2));
        start = end + 1;
      }
      pending.erase(0, start);
    }
  });
  std::this_thread::sleep_for(run_for);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  reader.join();
  close(pipe_fds[0]);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the writer ended on its own, status " << status;
  return run;
}

// Checks the log of "crash" after a restart: every acknowledged write and delete in it
// exactly once, the chains unbroken, the table's contents as the chains end. The summary.
testing::ChainSummary CheckAcknowledgedOnce(Engine& engine, const std::set<std::string>& writes,
                                            const std::set<std::string>& removes, int incarnation) {
  testing::ChainSummary summary = testing::CheckChains(engine, "crash");
  for (const auto& token : writes) {
    EXPECT_EQ(summary.written_tokens.count(token), 1u)
        << "acknowledged write lost after kill " << incarnation << ": " << token;
    if (summary.written_tokens.count(token) != 1) return summary;
  }
  for (const auto& token : removes) {
    EXPECT_EQ(summary.removed_tokens.count(token), 1u)
        << "acknowledged delete lost after kill " << incarnation << ": " << token;
    if (summary.removed_tokens.count(token) != 1) return summary;
  }
  testing::ExpectContentsMatchChains(engine, "crash", summary);
  return summary;
}

// Without fsync, acknowledged writes are in the OS page cache and survive a process kill;
// with fsync they go through group commit. Both modes are killed 20 times.
class CrashTest : public ::testing::TestWithParam<bool> {};

TEST_P(CrashTest, AcknowledgedWritesSurviveKillNine) {
  const bool sync = GetParam();
  testing::TempDir dir;
  std::mt19937 rng(std::random_device{}());
  std::set<std::string> acknowledged_writes;
  std::set<std::string> acknowledged_removes;
  size_t index_entries = 0;
  for (int incarnation = 0; incarnation < 20; ++incarnation) {
    const auto run_for = std::chrono::milliseconds((100 + rng() % 400) * kSlowdown);
    ChildRun run = RunAndKill(dir.path(), incarnation, sync, run_for);
    acknowledged_writes.insert(run.written.begin(), run.written.end());
    acknowledged_removes.insert(run.removed.begin(), run.removed.end());

    auto opened = Engine::Open(testing::TestEngineOptions(dir.path()));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Engine& engine = **opened;
    if (!engine.DescribeTable("crash").ok()) continue;  // killed before the table existed

    const testing::ChainSummary summary =
        CheckAcknowledgedOnce(engine, acknowledged_writes, acknowledged_removes, incarnation);
    // Local index entries are committed with their items: the local indexes equal a
    // recomputation from the table after every kill. Global index work is queued with its
    // items and applied after the restart: the global indexes converge to the same.
    if (engine.DescribeTable("crashidx").ok()) {
      index_entries += testing::ExpectIndexesMatchTable(engine, "crashidx");
    }
    ASSERT_FALSE(HasFailure()) << "after kill " << incarnation;
    if (incarnation == 19) {
      std::cout << "[ crash    ] " << acknowledged_writes.size() << " acknowledged writes and "
                << acknowledged_removes.size() << " deletes over 20 kills, " << summary.records
                << " records and " << index_entries << " index entries checked\n";
      EXPECT_GT(acknowledged_writes.size(), sync ? 100u : 1000u)
          << "the writer made too little progress";
      EXPECT_GT(index_entries, 0u) << "no index was checked";
    }
  }
}

// The shards of `table` after a restart form one tree: the open shards cover every hash
// exactly once, and each closed shard's two children split its range at the middle.
void ExpectWholeShardLayout(Engine& engine, const std::string& table) {
  auto description = engine.DescribeTable(table);
  ASSERT_TRUE(description.ok());
  std::map<uint64_t, uint64_t> open_ranges;  // begin -> end
  std::map<uint32_t, std::vector<const ShardDescription*>> children;
  for (const auto& shard : description->shards) {
    if (!shard.closed) {
      EXPECT_TRUE(open_ranges.emplace(shard.hash_begin, shard.hash_end).second)
          << "two open shards begin at " << shard.hash_begin;
    }
    if (shard.parent) children[shard.parent->value()].push_back(&shard);
  }
  uint64_t next = 0;
  for (const auto& [begin, end] : open_ranges) {
    EXPECT_EQ(begin, next) << "hashes not covered or covered twice";
    next = end + 1;
  }
  EXPECT_EQ(next, 0u) << "the open shards stop before the last hash";  // wrapped past max
  for (const auto& shard : description->shards) {
    const auto found = children.find(shard.index.value());
    if (!shard.closed) {
      EXPECT_EQ(found, children.end()) << "an open shard has children";
      continue;
    }
    ASSERT_NE(found, children.end()) << "closed shard " << shard.index << " has no children";
    ASSERT_EQ(found->second.size(), 2u);
    EXPECT_EQ(found->second[0]->hash_begin, shard.hash_begin);
    EXPECT_EQ(found->second[0]->hash_end + 1, found->second[1]->hash_begin);
    EXPECT_EQ(found->second[1]->hash_end, shard.hash_end);
  }
}

// Splits interrupted by SIGKILL: at random moments, and exactly before and after the
// layout commit of a split (failure points). Every acknowledged change is in the log once,
// in order along each key's lineage, and the shard layout is whole after every restart.
TEST_P(CrashTest, KillNineMidSplitLosesNothing) {
  if (!kFailurePointsCompiledIn) GTEST_SKIP() << "failure points are not compiled in";
  const bool sync = GetParam();
  testing::TempDir dir;
  const std::string stderr_path = dir.path() + "/writer.stderr";
  std::mt19937 rng(std::random_device{}());
  std::set<std::string> acknowledged_writes;
  std::set<std::string> acknowledged_removes;
  const char* const points[] = {"", "split.before_layout", "split.after_layout"};
  size_t shards = 0;
  for (int incarnation = 0; incarnation < 16; ++incarnation) {
    const std::string point = points[incarnation % 3];
    const std::string armed = point.empty() ? "" : point + "=kill@" + std::to_string(1 + rng() % 4);
    ChildRun run = RunAndKill(dir.path(), incarnation, sync,
                              std::chrono::milliseconds((150 + rng() % 300) * kSlowdown), true,
                              armed, stderr_path);
    acknowledged_writes.insert(run.written.begin(), run.written.end());
    acknowledged_removes.insert(run.removed.begin(), run.removed.end());

    auto opened = Engine::Open(testing::TestEngineOptions(dir.path()));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Engine& engine = **opened;
    if (!engine.DescribeTable("crash").ok()) continue;  // killed before the table existed

    ExpectWholeShardLayout(engine, "crash");
    const testing::ChainSummary summary =
        CheckAcknowledgedOnce(engine, acknowledged_writes, acknowledged_removes, incarnation);
    ASSERT_FALSE(HasFailure()) << "after kill " << incarnation;
    shards = engine.DescribeTable("crash")->shards.size();
  }
  std::ifstream errors(stderr_path);
  const std::string text((std::istreambuf_iterator<char>(errors)), {});
  size_t fired = 0;
  for (size_t at = 0; (at = text.find("event=failure_point name=split.", at)) != std::string::npos;
       ++at) {
    ++fired;
  }
  std::cout << "[ crash    ] " << acknowledged_writes.size() << " acknowledged writes, " << shards
            << " shards, " << fired << " kills inside a split\n";
  EXPECT_GE(fired, 4u) << "too few kills landed inside a split";
  EXPECT_GT(shards, 20u) << "too few splits happened";
}

INSTANTIATE_TEST_SUITE_P(CommitModes, CrashTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Fsync" : "NoFsync"; });

}  // namespace
}  // namespace tidewater
