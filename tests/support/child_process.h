// A child process for tests (tidewaterd, a consumer worker): spawned with its output
// captured on a thread; killed (SIGKILL) when the object goes away and it still runs.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tidewater::testing {

class ChildProcess {
 public:
  // args[0] is the program's path.
  explicit ChildProcess(std::vector<std::string> args) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    reader_ = std::thread([this, fd = fds[0]] {
      char buffer[4096];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
        std::lock_guard lock(mu_);
        output_.append(buffer, static_cast<size_t>(n));
      }
      close(fd);
    });
  }
  ~ChildProcess() {
    if (!exited_) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The first capture group of `pattern` in the output, "" when it does not come in time.
  std::string WaitForOutput(const std::string& pattern,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const std::regex regex(pattern);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch match;
      const std::string text = output();
      if (std::regex_search(text, match, regex)) return match.size() > 1 ? match[1].str() : "";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "";
  }

  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    if (reader_.joinable()) reader_.join();
    return status;
  }

  void Signal(int signal) { kill(pid_, signal); }

  std::string output() {
    std::lock_guard lock(mu_);
    return output_;
  }

 private:
  pid_t pid_ = 0;
  bool exited_ = false;
  std::thread reader_;
  std::mutex mu_;
  std::string output_;
};

// A tidewaterd on a fresh data directory, listening on a free loopback port.
class Tidewaterd {
 public:
  Tidewaterd(const std::string& binary, const std::string& data_dir,
             std::vector<std::string> extra_args = {})
      : process_([&] {
          std::vector<std::string> args = {binary, "--data-dir", data_dir, "--listen",
                                           "127.0.0.1:0"};
          args.insert(args.end(), extra_args.begin(), extra_args.end());
          return args;
        }()) {
    port_ = process_.WaitForOutput("event=listening .* port=([0-9]+)");
    EXPECT_FALSE(port_.empty()) << process_.output();
  }

  std::string url() const { return "http://127.0.0.1:" + port_; }
  ChildProcess& process() { return process_; }

 private:
  ChildProcess process_;
  std::string port_;
};

}  // namespace tidewater::testing
