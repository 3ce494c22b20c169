// A tidewaterd "region" for multi-process tests (data directory, region name, loopback
// port) that can be killed with SIGKILL, stopped and restarted on the same port and data.
//
// Not thread-safe: one test thread drives each object (the output is read on a thread
// of its own).
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"

namespace tidewater::testing {

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
  // https:// when the extra arguments give tidewaterd a certificate (--tls-cert).
  std::string url() const {
    const bool tls =
        std::find(extra_args_.begin(), extra_args_.end(), "--tls-cert") != extra_args_.end();
    return (tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
  }
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
