// Two-region scaffolding for the replicator's process tests: tidewaterd processes as
// regions, tidewater-replicator processes between them, a DynamoDB client per region,
// writers that keep a ledger of their acknowledged operations, and the convergence check
// (`tidewater verify` plus a full scan of both).
// Binaries come from compile definitions: TW_TIDEWATERD, TW_REPLICATOR, TW_TIDEWATER_CLI.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::testing {

constexpr char kTable[] = "orders";

// A region: its tidewaterd and DynamoDB clients (one per concurrent caller: ServiceClient
// is single-threaded; they reconnect after a restart). Call is thread-safe.
class Region {
 public:
  // `extra_args` go to tidewaterd (e.g. {"--kafka-brokers", "..."}).
  Region(const TempDir& dir, const std::string& name, std::vector<std::string> extra_args = {})
      : process_(TW_TIDEWATERD, dir.Sub(name), name, std::move(extra_args)) {}

  bool Start() { return process_.Start(); }
  TidewaterdProcess& process() { return process_; }
  std::string url() const { return process_.url(); }
  const std::string& name() const { return process_.region(); }

  Result<std::string> CallForAnswer(const std::string& operation, const std::string& json) {
    std::unique_ptr<streams::ServiceClient> client;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        client = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (client == nullptr) {
      TW_ASSIGN_OR_RETURN(client,
                          streams::ServiceClient::Create(process_.url(), std::chrono::seconds(5)));
    }
    auto answer = client->CallJson("DynamoDB_20120810." + operation, json);
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(client));
    return answer;
  }
  Status Call(const std::string& operation, const std::string& json) {
    return CallForAnswer(operation, json).status();
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
      auto answer = CallForAnswer("Scan", request);
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
  std::mutex mu_;
  std::vector<std::unique_ptr<streams::ServiceClient>> idle_;  // guarded by mu_
};

// tidewater-replicator from one region to another, for kOrders. `extra_args` follow the
// standard ones (e.g. {"--config", FILE} with a Kafka source).
class Replicator {
 public:
  // The regions must outlive the replicator; their URLs are read at each Start.
  Replicator(const Region& source, const Region& target, std::vector<std::string> extra_args = {})
      : source_(source), target_(target), extra_args_(std::move(extra_args)) {}

  // `env` ("NAME=VALUE") is added to the process's environment.
  void Start(std::vector<std::string> env = {}) {
    std::vector<std::string> args = {
        "--source", source_.url(),      "--target",    target_.url(),  "--table",
        kTable,     "--metrics-listen", "127.0.0.1:0", "--batch-size", "100"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    process_ = std::make_unique<ChildProcess>(TW_REPLICATOR, std::move(args), std::move(env));
  }
  // Waits for the process to end; its wait status.
  int Wait() { return process_ ? process_->Wait() : 0; }
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
  // Waits until the running replicator's log matches `pattern`.
  bool WaitForLog(const std::string& pattern, std::chrono::milliseconds timeout) {
    return process_ && process_->WaitForLog(pattern, timeout).has_value();
  }

  // GET /metrics of the running replicator ("" when it does not answer).
  std::string Metrics() {
    auto port =
        process_->WaitForLog("event=metrics_listening .* port=([0-9]+)", std::chrono::seconds(5));
    if (!port) return "";
    auto client = streams::ServiceClient::Create("http://127.0.0.1:" + *port);
    if (!client.ok()) return "";
    auto response = (*client)->Get("/metrics");
    return response.ok() ? response->body : "";
  }

 private:
  const Region& source_;
  const Region& target_;
  const std::vector<std::string> extra_args_;
  std::unique_ptr<ChildProcess> process_;
};

using Contents = std::map<std::string, std::string>;

// The last acknowledged operation of each key a writer owns: a value, or nullopt when
// the last acknowledged operation deleted it.
using Ledger = std::map<std::string, std::optional<std::string>>;

// Writes its own keys ("<prefix>-<n>") in one region until stopped or `max_ops` are done:
// puts, and every 7th operation a delete of an earlier key. Only acknowledged operations
// enter the ledger (a failed call may or may not have been applied: the key is then
// dropped from the checks).
class Writer {
 public:
  Writer(Region& region, std::string prefix, int keys, int max_ops)
      : thread_([this, &region, prefix = std::move(prefix), keys, max_ops] {
          for (int op = 0; op < max_ops && !stop_; ++op) {
            const std::string key = prefix + "-" + std::to_string(op % keys);
            const bool remove = op % 7 == 6;
            const std::string value = prefix + "#" + std::to_string(op);
            const Status status = remove ? region.Delete(key) : region.Put(key, value);
            std::lock_guard lock(mu_);
            if (status.ok()) {
              ledger_[key] = remove ? std::nullopt : std::optional<std::string>(value);
              uncertain_.erase(key);
            } else {
              uncertain_.insert(key);
            }
            ++done_;
            progressed_.notify_all();
          }
          std::lock_guard lock(mu_);
          ended_ = true;
          progressed_.notify_all();
        }) {}
  ~Writer() { Finish(); }

  void Finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Waits until `ops` operations were done (or the writer ended).
  void WaitFor(int ops) {
    std::unique_lock lock(mu_);
    if (!progressed_.wait_for(lock, std::chrono::seconds(60),
                              [&] { return done_ >= ops || ended_; })) {
      ADD_FAILURE() << "the writer did " << done_ << " of " << ops << " operations in 60 s";
    }
  }
  // Checks that `contents` holds the last acknowledged operation of every key.
  void ExpectIn(const Contents& contents, const std::string& where) {
    std::lock_guard lock(mu_);
    for (const auto& [key, value] : ledger_) {
      if (uncertain_.contains(key)) continue;
      auto found = contents.find(key);
      if (value) {
        EXPECT_TRUE(found != contents.end() && found->second == *value)
            << where << ": " << key << " should be " << *value;
      } else {
        EXPECT_TRUE(found == contents.end()) << where << ": deleted " << key << " came back";
      }
    }
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  Ledger ledger_;
  std::set<std::string> uncertain_;
  int done_ = 0;
  bool ended_ = false;                  // guarded by mu_
  std::condition_variable progressed_;  // done_ or ended_ changed
  std::thread thread_;
};

// Waits (up to 10 s) until `region` holds at least `count` items: replication is under way.
inline void WaitForItems(Region& region, size_t count) {
  EXPECT_TRUE(WaitFor(
      [&] {
        auto contents = region.Contents();
        return contents && contents->size() >= count;
      },
      std::chrono::seconds(10)))
      << region.name() << " never held " << count << " items";
}

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
  std::string last;
  std::optional<std::map<std::string, std::string>> converged;
  const auto agree = [&] {
    auto in_a = a.Contents();
    auto in_b = b.Contents();
    if (in_a && in_b && *in_a == *in_b) {
      auto [code, output] = RunVerify(a, b);
      if (code == 0) {
        converged = std::move(in_a);
        return true;
      }
      last = "verify exit " + std::to_string(code) + ": " + output;
    } else {
      last = "contents differ: " + std::to_string(in_a ? in_a->size() : 0) + " items in " +
             a.name() + ", " + std::to_string(in_b ? in_b->size() : 0) + " in " + b.name();
    }
    return false;
  };
  if (!WaitFor(agree, timeout, std::chrono::milliseconds(100))) {
    ADD_FAILURE() << "no convergence within " << timeout.count() << " s: " << last;
  }
  return converged;
}

}  // namespace tidewater::testing
