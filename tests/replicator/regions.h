// Two-region scaffolding for the replicator's process tests: tidewaterd processes as
// regions, tidewater-replicator processes between them, a DynamoDB client per region,
// and the convergence check (`tidewater verify` plus a full scan of both).
// Binaries come from compile definitions: TW_TIDEWATERD, TW_REPLICATOR, TW_TIDEWATER_CLI.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <string>

#include "support/temp_dir.h"
#include "support/tidewaterd_process.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::testing {

constexpr char kTable[] = "orders";

// A region: its tidewaterd and a DynamoDB client (reconnects after a restart).
class Region {
 public:
  Region(const TempDir& dir, const std::string& name)
      : process_(TW_TIDEWATERD, dir.Sub(name), name) {}

  bool Start() {
    if (!process_.Start()) return false;
    auto client = streams::ServiceClient::Create(process_.url(), std::chrono::seconds(5));
    if (!client.ok()) return false;
    client_ = std::move(*client);
    return true;
  }
  TidewaterdProcess& process() { return process_; }
  std::string url() const { return process_.url(); }
  const std::string& name() const { return process_.region(); }

  Status Call(const std::string& operation, const std::string& json) {
    return client_->CallJson("DynamoDB_20120810." + operation, json).status();
  }

  Status CreateTable() {
    return Call("CreateTable",
                std::string(R"({"TableName":")") + kTable +
                    R"(","BillingMode":"PAY_PER_REQUEST",)"
                    R"("KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
                    R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
                    R"("StreamSpecification":{"StreamEnabled":true,)"
                    R"("StreamViewType":"NEW_AND_OLD_IMAGES"}})");
  }
  Status Put(const std::string& key, const std::string& value) {
    return Call("PutItem", std::string(R"({"TableName":")") + kTable + R"(","Item":{"pk":{"S":")" +
                               key + R"("},"v":{"S":")" + value + R"("}}})");
  }
  Status Delete(const std::string& key) {
    return Call("DeleteItem", std::string(R"({"TableName":")") + kTable +
                                  R"(","Key":{"pk":{"S":")" + key + R"("}}})");
  }

  // Every item: pk -> v. Nullopt when the region does not answer.
  std::optional<std::map<std::string, std::string>> Contents() {
    std::map<std::string, std::string> contents;
    std::string start;
    while (true) {
      std::string request = std::string(R"({"TableName":")") + kTable + R"(")";
      if (!start.empty()) request += R"(,"ExclusiveStartKey":)" + start;
      request += "}";
      auto answer = client_->CallJson("DynamoDB_20120810.Scan", request);
      if (!answer.ok()) return std::nullopt;
      rapidjson::Document page;
      page.Parse(answer->c_str());
      for (const auto& item : page["Items"].GetArray()) {
        contents[item["pk"]["S"].GetString()] = item["v"]["S"].GetString();
      }
      if (!page.HasMember("LastEvaluatedKey")) return contents;
      auto key = json::ParseItem(page["LastEvaluatedKey"]);
      if (!key.ok()) return std::nullopt;
      start = json::ItemToJson(*key);
    }
  }

 private:
  TidewaterdProcess process_;
  std::unique_ptr<streams::ServiceClient> client_;
};

// tidewater-replicator from one region to another, for kOrders.
class Replicator {
 public:
  Replicator(const Region& source, const Region& target)
      : source_url_(source.url()), target_url_(target.url()) {}

  void Start() {
    process_ = std::make_unique<ChildProcess>(
        TW_REPLICATOR,
        std::vector<std::string>{"--source", source_url_, "--target", target_url_, "--table",
                                 kTable, "--metrics-listen", "127.0.0.1:0", "--batch-size", "100"});
  }
  void Kill() {
    if (process_) {
      process_->Signal(SIGKILL);
      process_->Wait();
    }
  }
  // SIGTERM; true when it exited with 0.
  bool Stop() {
    if (!process_) return false;
    process_->Signal(SIGTERM);
    const int status = process_->Wait();
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  std::string log() const { return process_ ? process_->log() : std::string(); }

 private:
  std::string source_url_;
  std::string target_url_;
  std::unique_ptr<ChildProcess> process_;
};

// Runs `tidewater verify`; its exit code (-1 when it did not exit normally) and output.
inline std::pair<int, std::string> RunVerify(const Region& a, const Region& b) {
  ChildProcess verify(TW_TIDEWATER_CLI, {"verify", "--a", a.url(), "--b", b.url(), "--table",
                                         kTable, "--timeout-ms", "5000"});
  const int status = verify.Wait();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, verify.log()};
}

// Waits (up to `timeout`) until both regions hold the same items and `tidewater verify`
// agrees; the common contents, or nullopt with the last difference reported.
inline std::optional<std::map<std::string, std::string>> WaitForConvergence(
    Region& a, Region& b, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto in_a = a.Contents();
    auto in_b = b.Contents();
    if (in_a && in_b && *in_a == *in_b) {
      auto [code, output] = RunVerify(a, b);
      if (code == 0) return in_a;
      last = "verify exit " + std::to_string(code) + ": " + output;
    } else {
      last = "contents differ: " + std::to_string(in_a ? in_a->size() : 0) + " items in " +
             a.name() + ", " + std::to_string(in_b ? in_b->size() : 0) + " in " + b.name();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "no convergence within " << timeout.count() << " s: " << last;
  return std::nullopt;
}

}  // namespace tidewater::testing
