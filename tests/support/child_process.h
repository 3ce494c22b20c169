// A child process for multi-process tests (tidewaterd, a consumer worker, a replicator):
// spawned with its stdout and stderr captured on a thread of its own.
//
// Not thread-safe: one test thread drives each object.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace tidewater::testing {

// This process's environment with `extra` ("NAME=VALUE" entries) added or replacing the
// entries of the same names, as a null-terminated array for posix_spawn. It points into
// `extra` and environ: valid while both are unchanged.
inline std::vector<char*> EnvironmentWith(std::vector<std::string>& extra) {
  std::vector<char*> envp;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view name(*entry, std::strcspn(*entry, "=") + 1);  // with the '='
    const bool replaced = std::any_of(extra.begin(), extra.end(),
                                      [&](const std::string& e) { return e.starts_with(name); });
    if (!replaced) envp.push_back(*entry);
  }
  for (std::string& entry : extra) envp.push_back(entry.data());
  envp.push_back(nullptr);
  return envp;
}

// What the child's stdin is: this process's own (the default), or a connection that
// WriteStdin writes to and CloseStdin ends (the child then reads end of file).
enum class ChildStdin { kInherited, kWritable };

// A child process running `binary args...`; its stdout and stderr are kept in log().
// It inherits this process's environment plus `env` ("NAME=VALUE" entries, which win).
// The destructor kills it (SIGKILL) if it still runs.
class ChildProcess {
 public:
  ChildProcess(const std::string& binary, std::vector<std::string> args,
               std::vector<std::string> env = {}, ChildStdin stdin_mode = ChildStdin::kInherited) {
    int fds[2];
    if (pipe(fds) != 0) return;
    // A socket rather than a pipe: WriteStdin sends with MSG_NOSIGNAL, so a child that has
    // ended is an error, not a SIGPIPE. Close-on-exec keeps it out of other children, whose
    // copy would hide the end of file from this one.
    int stdin_fds[2] = {-1, -1};
    if (stdin_mode == ChildStdin::kWritable &&
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stdin_fds) != 0) {
      close(fds[0]);
      close(fds[1]);
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    if (stdin_fds[1] >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fds[1], STDIN_FILENO);
    args.insert(args.begin(), binary);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<char*> envp = EnvironmentWith(env);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (stdin_fds[1] >= 0) close(stdin_fds[1]);
    stdin_ = stdin_fds[0];
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
    CloseStdin();
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

  // Writes all of `text` to the child's stdin (ChildStdin::kWritable); false when it
  // cannot: not writable, closed, or the child has closed its end.
  bool WriteStdin(std::string_view text) {
    while (!text.empty() && stdin_ >= 0) {
      const ssize_t n = send(stdin_, text.data(), text.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      text.remove_prefix(static_cast<size_t>(n));
    }
    return text.empty();
  }

  // Ends the child's stdin (it reads end of file); nothing when it is not writable.
  void CloseStdin() {
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
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
  int stdin_ = -1;
  bool exited_ = false;
  int status_ = 0;
  std::thread reader_;
  std::mutex mu_;
  std::string log_;
};

}  // namespace tidewater::testing
