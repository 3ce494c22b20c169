// A real S3-compatible server for tests: s3rver 3.x (npm), installed by scripts/test.sh
// (install_s3rver in scripts/common.sh) into build-tools/node_modules, whose binary the test
// target names in TW_S3RVER. It serves 127.0.0.1 on a free port with its data in a
// temporary directory; the buckets given are created at start (--configure-bucket).
// Stop and Start again keep the port and the data (a server that goes away and comes back).
//
// Use TW_SKIP_WITHOUT_S3RVER() first in the test (or its SetUp): it skips with the reason
// when s3rver is not installed. Start returns "" or why the server did not start: callers
// FAIL with it.
//
// s3rver 3.7.1 does not check SigV4 signatures (only that the access key id is its own,
// "S3RVER"; unsigned requests are served too). It runs with the OpenSSL legacy provider:
// its ListObjectsV2 continuation tokens are DES-encrypted, which Node 17+ (OpenSSL 3)
// refuses otherwise.
//
// Not thread-safe: one test thread drives each object.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"

#ifndef TW_S3RVER
#error "TW_S3RVER (the s3rver binary) must be defined for this test in tests/CMakeLists.txt"
#endif

namespace tidewater::testing {

class S3rverProcess {
 public:
  // The access key id s3rver knows (its secret is the same text).
  static constexpr const char* kAccessKeyId = "S3RVER";
  static constexpr const char* kSecretAccessKey = "S3RVER";

  explicit S3rverProcess(std::vector<std::string> buckets) : buckets_(std::move(buckets)) {}
  ~S3rverProcess() { Stop(); }
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;

  static std::string Binary() { return TW_S3RVER; }
  static bool Installed() { return access(TW_S3RVER, X_OK) == 0; }
  static std::string NotInstalledReason() {
    return std::string("s3rver is not installed at ") + TW_S3RVER +
           ": run scripts/test.sh (its install_s3rver), or npm install --prefix build-tools "
           "s3rver@3.7.1";
  }

  // Starts the server (the first time on a free port, then on the same one) and waits until
  // the port answers. "" on success, else why not (the server's output included).
  std::string Start() {
    if (process_ != nullptr && !process_->Exited()) return "";  // running already
    if (port_ == 0) port_ = FreePort();
    std::vector<std::string> args = {"--directory", data_dir(), "--address",
                                     "127.0.0.1",   "--port",   std::to_string(port_),
                                     "--silent"};
    for (const std::string& bucket : buckets_) {
      args.push_back("--configure-bucket");
      args.push_back(bucket);
    }
    std::vector<std::string> env;
    if (NodeHasLegacyProvider()) env.push_back("NODE_OPTIONS=--openssl-legacy-provider");
    process_ = std::make_unique<ChildProcess>(Binary(), std::move(args), std::move(env));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (PortAnswers(port_)) return "";
      if (process_->Exited()) return "s3rver exited before serving:\n" + process_->log();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "s3rver did not answer on port " + std::to_string(port_) + " within 60 s:\n" +
           process_->log();
  }

  // Stops the server (SIGTERM, then SIGKILL after 10 s); its data stay for the next Start.
  void Stop() {
    if (process_ == nullptr) return;
    process_->Signal(SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!process_->Exited() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    process_.reset();  // SIGKILL if it still runs, then reaped
  }

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" (ObjectStoreOptions::endpoint).
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Where s3rver keeps buckets and objects.
  std::string data_dir() const { return dir_.Sub("data"); }
  // What the server printed so far ("" when not started).
  std::string log() const { return process_ == nullptr ? "" : process_->log(); }

 private:
  static int FreePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t size = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    close(fd);
    return ntohs(address.sin_port);
  }

  // Whether this node knows --openssl-legacy-provider (Node 17+ with OpenSSL 3, which needs
  // it for DES; an older node refuses the unknown option, and has DES anyway).
  static bool NodeHasLegacyProvider() {
    static const bool known =
        std::system("node --openssl-legacy-provider -e '' > /dev/null 2>&1") == 0;
    return known;
  }

  static bool PortAnswers(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(fd);
    return connected;
  }

  std::vector<std::string> buckets_;
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace tidewater::testing

// Skips the current test when s3rver is not installed (see above).
#define TW_SKIP_WITHOUT_S3RVER()                                                 \
  do {                                                                           \
    if (!::tidewater::testing::S3rverProcess::Installed()) {                     \
      GTEST_SKIP() << ::tidewater::testing::S3rverProcess::NotInstalledReason(); \
    }                                                                            \
  } while (0)
