// The exec trigger function: one child process per invocation (posix_spawn), the event on
// its stdin, its stdout the response, its stderr logged; killed with its process group at
// the timeout.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "tidewater/connectors/trigger_handlers.h"

extern char** environ;

namespace tidewater::connectors {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  ~Fd() { Close(); }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Status MakePipe(Fd* read_end, Fd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::IOError(std::string("pipe: ") + strerror(errno));
  *read_end = Fd(fds[0]);
  *write_end = Fd(fds[1]);
  return Status::Ok();
}

// Writes what it can without raising SIGPIPE in this process when the child has closed
// its stdin. Returns false when the pipe is broken.
bool WriteSome(int fd, std::string_view* remaining) {
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
  ssize_t written = ::write(fd, remaining->data(), remaining->size());
  const int error = errno;
  if (written < 0 && error == EPIPE) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_signal, nullptr, &zero);  // consume the pending SIGPIPE
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (written >= 0) {
    remaining->remove_prefix(static_cast<size_t>(written));
    return true;
  }
  return error == EAGAIN || error == EINTR;
}

void LogLines(const std::string& name, std::string* pending, bool flush) {
  size_t start = 0;
  for (size_t newline; (newline = pending->find('\n', start)) != std::string::npos;
       start = newline + 1) {
    spdlog::info("{}: {}", name, std::string_view(*pending).substr(start, newline - start));
  }
  pending->erase(0, start);
  if (flush && !pending->empty()) {
    spdlog::info("{}: {}", name, *pending);
    pending->clear();
  }
}

class ExecFunction {
 public:
  explicit ExecFunction(ExecFunctionOptions options) : options_(std::move(options)) {}

  Result<std::string> operator()(const streams::TriggerInvocation& invocation) const {
    Fd stdin_read, stdin_write, stdout_read, stdout_write, stderr_read, stderr_write;
    TW_RETURN_IF_ERROR(MakePipe(&stdin_read, &stdin_write));
    TW_RETURN_IF_ERROR(MakePipe(&stdout_read, &stdout_write));
    TW_RETURN_IF_ERROR(MakePipe(&stderr_read, &stderr_write));

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, stdin_read.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, stdout_write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, stderr_write.get(), 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    // Its own process group, so that a timeout kills whatever it started; default signal
    // handling whatever this process ignores or blocks.
    posix_spawnattr_setpgroup(&attributes, 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(
        &attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> argv;
    for (const std::string& arg : options_.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    int spawned = posix_spawnp(&pid, argv[0], &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (spawned != 0) {
      return Status::Internal("cannot run " + options_.argv[0] + ": " + strerror(spawned));
    }
    stdin_read.Close();
    stdout_write.Close();
    stderr_write.Close();
    for (const Fd* fd : {&stdin_write, &stdout_read, &stderr_read}) {
      ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
    }

    const auto deadline = Clock::now() + options_.timeout;
    std::string_view input = invocation.event_json;
    std::string output;
    std::string errors;
    bool timed_out = false;
    if (input.empty()) stdin_write.Close();
    while (stdout_read.open() || stderr_read.open()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        timed_out = true;
        break;
      }
      pollfd fds[3];
      nfds_t count = 0;
      Fd* owners[3];
      auto watch = [&](Fd& fd, short events) {
        if (!fd.open()) return;
        fds[count] = pollfd{fd.get(), events, 0};
        owners[count++] = &fd;
      };
      watch(stdin_write, POLLOUT);
      watch(stdout_read, POLLIN);
      watch(stderr_read, POLLIN);
      int ready = ::poll(fds, count, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
      if (ready < 0 && errno != EINTR) break;
      for (nfds_t i = 0; i < count && ready > 0; ++i) {
        if (fds[i].revents == 0) continue;
        Fd& fd = *owners[i];
        if (&fd == &stdin_write) {
          if ((fds[i].revents & (POLLERR | POLLHUP)) || !WriteSome(fd.get(), &input) ||
              input.empty()) {
            fd.Close();
          }
          continue;
        }
        char buffer[16384];
        ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
        if (n > 0) {
          std::string& target = &fd == &stdout_read ? output : errors;
          target.append(buffer, static_cast<size_t>(n));
          if (&fd == &stderr_read) LogLines(options_.log_name, &errors, false);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          fd.Close();
        }
      }
    }
    stdin_write.Close();

    int status = 0;
    while (!timed_out) {
      pid_t waited = ::waitpid(pid, &status, WNOHANG);
      if (waited == pid) break;
      if (waited < 0 && errno != EINTR) return Status::Internal("waitpid failed");
      if (Clock::now() >= deadline) {
        timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    LogLines(options_.log_name, &errors, true);
    if (timed_out) {
      ::kill(-pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return Status::Internal(options_.argv[0] + " timed out after " +
                              std::to_string(options_.timeout.count()) + " ms and was killed");
    }
    if (WIFSIGNALED(status)) {
      return Status::Internal(options_.argv[0] + " was killed by signal " +
                              std::to_string(WTERMSIG(status)));
    }
    if (WEXITSTATUS(status) != 0) {
      return Status::Internal(options_.argv[0] + " exited with status " +
                              std::to_string(WEXITSTATUS(status)));
    }
    return output;
  }

 private:
  ExecFunctionOptions options_;
};

}  // namespace

Result<streams::TriggerFunction> MakeExecFunction(ExecFunctionOptions options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return Status::Validation("exec handler: the command is empty");
  }
  if (options.timeout.count() <= 0) return Status::Validation("exec handler: timeout must be > 0");
  return streams::TriggerFunction(ExecFunction(std::move(options)));
}

}  // namespace tidewater::connectors
