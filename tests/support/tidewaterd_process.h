// Processes for multi-process tests: a child process with its output captured, and a
// tidewaterd "region" (data directory, region name, loopback port) that can be killed
// with SIGKILL, stopped and restarted on the same port and data.
//
// Not thread-safe: one test thread drives each object (the output is read on a thread
// of its own).
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tidewater::testing {

// A child process running `binary args...`; its stdout and stderr are kept in log().
// The destructor kills it (SIGKILL) if it still runs.
class ChildProcess {
 public:
  ChildProcess(const std::string& binary, std::vector<std::string> args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    args.insert(args.begin(), binary);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    reader_ = std::thread([this, fd = fds[0]] {
      char buffer[4096];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
        std::lock_guard lock(mu_);
        log_.append(buffer, static_cast<size_t>(n));
      }
      close(fd);
    });
  }
  ~ChildProcess() {
    if (running()) Signal(SIGKILL);
    Wait();
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running() const { return pid_ != 0 && !exited_; }
  void Signal(int signal) {
    if (running()) kill(pid_, signal);
  }

  // True when the process ended (it is reaped then).
  bool Exited() {
    if (running() && waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
    return !running();
  }

  // Waits for the end; the wait status (WIFEXITED...).
  int Wait() {
    if (running()) {
      waitpid(pid_, &status_, 0);
      exited_ = true;
    }
    if (reader_.joinable()) reader_.join();
    return status_;
  }

  std::string log() {
    std::lock_guard lock(mu_);
    return log_;
  }

  // Waits until the output matches `pattern`; the first capture group ("" without one),
  // or nullopt after `timeout` or when the process ended without it.
  std::optional<std::string> WaitForLog(const std::string& pattern,
                                        std::chrono::milliseconds timeout) {
    const std::regex regex(pattern);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch match;
      const std::string text = log();
      if (std::regex_search(text, match, regex)) {
        return match.size() > 1 ? match[1].str() : std::string();
      }
      if (Exited()) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }

 private:
  pid_t pid_ = 0;
  bool exited_ = false;
  int status_ = 0;
  std::thread reader_;
  std::mutex mu_;
  std::string log_;
};

// A tidewaterd process as one region: `tidewaterd --data-dir DIR --region REGION --listen
// 127.0.0.1:PORT`. The first Start picks a free port; restarts keep it, so that clients
// (and replicators) configured with url() reach the restarted process.
class TidewaterdProcess {
 public:
  // `extra_args` follow the standard ones (e.g. {"--kafka-brokers", "..."}).
  TidewaterdProcess(std::string binary, std::string data_dir, std::string region,
                    std::vector<std::string> extra_args = {})
      : binary_(std::move(binary)),
        data_dir_(std::move(data_dir)),
        region_(std::move(region)),
        extra_args_(std::move(extra_args)) {}

  // Starts the process and waits until it listens; false (see log()) if it does not.
  bool Start(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // A restart may find the port still held for a moment by the dying process.
    while (true) {
      std::vector<std::string> args = {"--data-dir", data_dir_,
                                       "--region",   region_,
                                       "--listen",   "127.0.0.1:" + std::to_string(port_)};
      args.insert(args.end(), extra_args_.begin(), extra_args_.end());
      process_ = std::make_unique<ChildProcess>(binary_, std::move(args));
      const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto port = process_->WaitForLog("event=listening .* port=([0-9]+)", remaining);
      if (port) {
        port_ = static_cast<uint16_t>(std::stoi(*port));
        return true;
      }
      process_->Wait();
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // SIGKILL: nothing acknowledged is lost (tidewaterd's contract), nothing else is flushed.
  void Kill() {
    if (process_ == nullptr) return;
    process_->Signal(SIGKILL);
    process_->Wait();
  }
  // SIGTERM; true when it exited with 0.
  bool Stop() {
    if (process_ == nullptr) return false;
    process_->Signal(SIGTERM);
    const int status = process_->Wait();
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& region() const { return region_; }
  std::string log() const { return process_ == nullptr ? std::string() : process_->log(); }

 private:
  std::string binary_;
  std::string data_dir_;
  std::string region_;
  std::vector<std::string> extra_args_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace tidewater::testing
