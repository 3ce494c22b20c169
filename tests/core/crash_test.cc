// A child process writes under load and reports each acknowledged change over a pipe;
// it is killed with SIGKILL at a random moment, 20 times in a row. After each reopen the
// log has no gaps, every item's records are in commit order, every reported change is
// present exactly once, and the table's contents match the log.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "support/change_chain.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"

extern char** environ;

namespace tidewater {
namespace {

struct ChildRun {
  std::set<std::string> written;
  std::set<std::string> removed;
};

// Starts the writer, lets it run for `run_for`, kills it with SIGKILL and returns
// what it reported.
ChildRun RunAndKill(const std::string& data_dir, int incarnation, bool sync,
                    std::chrono::milliseconds run_for) {
  int pipe_fds[2];
  EXPECT_EQ(pipe(pipe_fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::string program = TW_CRASH_WRITER;
  std::string inc = std::to_string(incarnation);
  std::string dir = data_dir;
  std::string mode = sync ? "sync" : "nosync";
  char* argv[] = {program.data(), dir.data(), inc.data(), mode.data(), nullptr};
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, environ), 0);
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

// Without fsync, acknowledged writes are in the OS page cache and survive a process kill;
// with fsync they go through group commit. Both modes are killed 20 times.
class CrashTest : public ::testing::TestWithParam<bool> {};

TEST_P(CrashTest, AcknowledgedWritesSurviveKillNine) {
  const bool sync = GetParam();
  testing::TempDir dir;
  std::mt19937 rng(std::random_device{}());
  std::set<std::string> acknowledged_writes;
  std::set<std::string> acknowledged_removes;
  for (int incarnation = 0; incarnation < 20; ++incarnation) {
    const auto run_for = std::chrono::milliseconds(100 + rng() % 400);
    ChildRun run = RunAndKill(dir.path(), incarnation, sync, run_for);
    acknowledged_writes.insert(run.written.begin(), run.written.end());
    acknowledged_removes.insert(run.removed.begin(), run.removed.end());

    auto opened = Engine::Open(testing::TestEngineOptions(dir.path()));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Engine& engine = **opened;
    if (!engine.DescribeTable("crash").ok()) continue;  // killed before the table existed

    const auto summary = testing::CheckChains(engine, "crash");
    for (const auto& token : acknowledged_writes) {
      ASSERT_EQ(summary.written_tokens.count(token), 1u)
          << "acknowledged write lost after kill " << incarnation << ": " << token;
    }
    for (const auto& token : acknowledged_removes) {
      ASSERT_EQ(summary.removed_tokens.count(token), 1u)
          << "acknowledged delete lost after kill " << incarnation << ": " << token;
    }
    testing::ExpectContentsMatchChains(engine, "crash", summary);
    if (incarnation == 19) {
      std::cout << "[ crash    ] " << acknowledged_writes.size() << " acknowledged writes and "
                << acknowledged_removes.size() << " deletes over 20 kills, " << summary.records
                << " records checked\n";
      EXPECT_GT(acknowledged_writes.size(), sync ? 100u : 1000u)
          << "the writer made too little progress";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(CommitModes, CrashTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Fsync" : "NoFsync"; });

}  // namespace
}  // namespace tidewater
