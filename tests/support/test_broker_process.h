// tidewater-test-broker (tests/support/test_broker_main.cc) as a child process of a test:
// one mock Kafka cluster on 127.0.0.1 that other processes (tidewaterd nodes, kcat) share,
// with its faults driven by control commands over the child's stdin. The test target names
// the program in TW_TEST_BROKER (tests/CMakeLists.txt).
//
// The child runs with --exit-on-stdin-eof: it ends with this object, and also with the test
// process if that is killed. The destructor SIGKILLs it if it still runs.
//
// Not thread-safe: one test thread drives each object.
#pragma once

#include <signal.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/child_process.h"

#ifndef TW_TEST_BROKER
#error "TW_TEST_BROKER (the tidewater-test-broker binary) must be defined in tests/CMakeLists.txt"
#endif

namespace tidewater::testing {

class TestBrokerProcess {
 public:
  TestBrokerProcess() = default;
  TestBrokerProcess(const TestBrokerProcess&) = delete;
  TestBrokerProcess& operator=(const TestBrokerProcess&) = delete;

  // Starts the program with `args` (--brokers, --topic...) and waits for its bootstrap
  // line. "" when the brokers listen, or why not (with the program's output).
  std::string Start(std::vector<std::string> args = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    args.push_back("--exit-on-stdin-eof");
    process_ = std::make_unique<ChildProcess>(TW_TEST_BROKER, std::move(args),
                                              std::vector<std::string>{}, ChildStdin::kWritable);
    const std::optional<std::string> bootstraps =
        process_->WaitForLog("(?:^|\n)bootstrap\\.servers=([^\n]+)\n", timeout);
    if (!bootstraps) return "tidewater-test-broker did not start: " + process_->log();
    bootstraps_ = *bootstraps;
    replies_seen_ = 0;
    return "";
  }

  // "127.0.0.1:PORT,..." for bootstrap.servers; empty before Start succeeded.
  const std::string& bootstraps() const { return bootstraps_; }

  // Sends one control command (see `tidewater-test-broker --help`) and waits for its
  // reply: true when it was "ok". last_reply() has the reply, or why there was none.
  bool Command(std::string_view command,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (process_ == nullptr || command.find('\n') != std::string_view::npos) {
      last_reply_ = "(not sent: not started, or the command has a newline)";
      return false;
    }
    if (!process_->WriteStdin(std::string(command) + "\n")) {
      last_reply_ = "(not sent: the program's stdin is closed)";
      return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const std::vector<std::string> replies = Replies();
      if (replies.size() > replies_seen_) {
        last_reply_ = replies[replies_seen_++];
        return last_reply_ == "ok";
      }
      if (process_->Exited() || std::chrono::steady_clock::now() >= deadline) {
        last_reply_ = "(no reply) output: " + process_->log();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  const std::string& last_reply() const { return last_reply_; }

  // Sends `signal` and waits for the end; the wait status (WIFEXITED...).
  int Stop(int signal = SIGTERM) {
    process_->Signal(signal);
    return process_->Wait();
  }

  ChildProcess& process() { return *process_; }

 private:
  // The whole lines of the output that are replies to commands, in order. The program
  // writes nothing else to stdout after the bootstrap line, and to stderr only when it
  // fails to start.
  std::vector<std::string> Replies() {
    const std::string output = process_->log();
    std::vector<std::string> replies;
    size_t start = 0;
    size_t end;
    while ((end = output.find('\n', start)) != std::string::npos) {
      std::string line = output.substr(start, end - start);
      if (line == "ok" || line.starts_with("error ")) replies.push_back(std::move(line));
      start = end + 1;
    }
    return replies;
  }

  std::unique_ptr<ChildProcess> process_;
  std::string bootstraps_;
  std::string last_reply_;
  size_t replies_seen_ = 0;
};

}  // namespace tidewater::testing
