// The storage-failure path: a full disk, failing writes and failing fsyncs under the
// engine (an injected RocksDB FileSystem). Writes fail with a clear error while the
// storage is broken, nothing acknowledged is lost, the engine recovers by itself once the
// storage works again, and the log stays exact (every acknowledged write once, no gaps)
// through the failure, the recovery and a reopen.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/change_log_checker.h"
#include "support/faulty_file_system.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/number.h"

namespace tidewater {
namespace {

using testing::FaultyFileSystem;

Item MakeItem(const std::string& key, int64_t value) {
  return {{"pk", AttributeValue::S(key)}, {"v", AttributeValue::N(Number::FromInt64(value))}};
}

class StorageFailureTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<FaultyFileSystem>();
    Open(fs_);
    CreateTableRequest create;
    create.name = "items";
    create.key_schema.partition_key = {"pk", AttributeType::kS};
    create.stream = {true, StreamViewType::kNewImage};
    ASSERT_TRUE(engine_->CreateTable(create).ok());
  }

  void Open(std::shared_ptr<rocksdb::FileSystem> fs) {
    EngineOptions options = testing::TestEngineOptions(dir_.path());
    options.sync = GetParam();
    options.file_system = std::move(fs);
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  // The newest acknowledged value of every key, checked against the table and its log
  // (gap-free); `unknown` keys, whose only writes failed, may or may not be there.
  void ExpectExactly(const std::map<std::string, int64_t>& acknowledged,
                     const std::set<std::string>& unknown = {}) {
    std::map<std::string, int64_t> logged;
    for (const auto& change : testing::ReadWholeLog(*engine_, "items")) {
      const std::string& key = change.new_image.at("pk").s();
      if (unknown.count(key) == 0)
        logged[key] = std::stoll(change.new_image.at("v").n().ToString());
    }
    EXPECT_EQ(logged, acknowledged);
    for (const auto& [key, value] : acknowledged) {
      auto item = engine_->GetItem("items", {{"pk", AttributeValue::S(key)}});
      ASSERT_TRUE(item.ok()) << item.status().ToString();
      ASSERT_TRUE(item->has_value()) << key;
      EXPECT_EQ((*item)->at("v"), AttributeValue::N(Number::FromInt64(value))) << key;
    }
  }

  // Recovery as the background loop does it, until the storage lets it (up to 2 s: RocksDB
  // may still be busy with its own recovery from a full disk).
  Status Recover() {
    Status recovered;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    do {
      recovered = engine_->RecoverStorage();
      if (recovered.ok()) return recovered;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a retry interval
    } while (std::chrono::steady_clock::now() < deadline);
    return recovered;
  }

  testing::TempDir dir_;
  std::shared_ptr<FaultyFileSystem> fs_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(StorageFailureTest, AFullDiskFailsWritesClearlyAndTheEngineRecoversWhenSpaceReturns) {
  std::map<std::string, int64_t> acknowledged;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(engine_->PutItem("items", MakeItem("k" + std::to_string(i), i)).ok());
    acknowledged["k" + std::to_string(i)] = i;
  }
  EXPECT_TRUE(engine_->WriteHealth().ok());

  fs_->Inject(FaultyFileSystem::Fault::kNoSpace);
  auto failed = engine_->PutItem("items", MakeItem("k0", 1000));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kIOError);
  EXPECT_NE(failed.status().message().find("storage"), std::string::npos)
      << failed.status().ToString();
  EXPECT_GT(fs_->failures(), 0);
  // Every later write fails too, with the same cause, until the storage recovers.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(engine_->PutItem("items", MakeItem("x", i)).ok());
  EXPECT_FALSE(engine_->WriteHealth().ok());
  // Reads go on.
  auto item = engine_->GetItem("items", {{"pk", AttributeValue::S("k1")}});
  ASSERT_TRUE(item.ok());
  EXPECT_TRUE(item->has_value());
  // Recovery is refused while the disk is still full.
  EXPECT_FALSE(engine_->RecoverStorage().ok());

  fs_->Clear();
  // RocksDB resumes after a full disk, or keeps the error (seen under ASan and a parallel
  // load, the full disk having reached a write it treats as unrecoverable): then the engine
  // goes on refusing writes, says so, and a restart recovers, as in
  // StorageFaultsUnderConcurrentWritersLoseNothing.
  if (const Status recovered = Recover(); !recovered.ok()) {
    EXPECT_EQ(recovered.code(), ErrorCode::kIOError) << recovered.ToString();
    EXPECT_FALSE(engine_->WriteHealth().ok());
    engine_.reset();
    ASSERT_NO_FATAL_FAILURE(Open(fs_));
  }
  EXPECT_TRUE(engine_->WriteHealth().ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(engine_->PutItem("items", MakeItem("k" + std::to_string(i), 100 + i)).ok());
    acknowledged["k" + std::to_string(i)] = 100 + i;
  }
  // A failed write's outcome is unknown (as a DynamoDB InternalServerError's): "x" was
  // only written by failed writes; k0 was rewritten since, so its check is exact.
  ExpectExactly(acknowledged, {"x"});

  engine_.reset();
  Open(nullptr);
  ExpectExactly(acknowledged, {"x"});
}

// With a free-space reserve, a nearly full disk refuses writes before they reach RocksDB:
// the error says why, nothing is written, reads go on, and writes resume by themselves
// once space is freed, with no recovery (RocksDB never saw a full disk).
TEST_P(StorageFailureTest, ALowDiskRefusesWritesBeforeStorageAndResumesWhenSpaceIsFreed) {
  engine_.reset();
  EngineOptions options = testing::TestEngineOptions(dir_.path());
  options.sync = GetParam();
  options.file_system = fs_;
  options.min_free_disk_bytes = 64 << 20;
  ASSERT_EQ(options.storage_recovery_interval_micros, 0) << "no background recovery";
  auto opened = Engine::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  engine_ = std::move(*opened);
  std::map<std::string, int64_t> acknowledged;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(engine_->PutItem("items", MakeItem("k" + std::to_string(i), i)).ok());
    acknowledged["k" + std::to_string(i)] = i;
  }

  fs_->SetFreeSpace(10 << 20);
  // The reserve is checked every 100 ms: writes before the next check still land.
  Status refused;
  int64_t attempt = 1000;
  ASSERT_TRUE(testing::WaitFor([&] {
    ++attempt;
    auto put = engine_->PutItem("items", MakeItem("k0", attempt));
    if (put.ok()) acknowledged["k0"] = attempt;
    refused = put.status();
    return !put.ok();
  })) << "writes go on with less free space than the reserve";
  EXPECT_EQ(refused.code(), ErrorCode::kIOError);
  EXPECT_NE(refused.message().find("storage full"), std::string::npos) << refused.ToString();
  const Status health = engine_->WriteHealth();
  EXPECT_FALSE(health.ok());
  EXPECT_NE(health.message().find("storage full"), std::string::npos) << health.ToString();
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(engine_->PutItem("items", MakeItem("y", i)).ok());
    EXPECT_FALSE(engine_->DeleteItem("items", {{"pk", AttributeValue::S("k1")}}).ok());
  }
  auto item = engine_->GetItem("items", {{"pk", AttributeValue::S("k1")}});
  ASSERT_TRUE(item.ok());
  EXPECT_TRUE(item->has_value());
  EXPECT_EQ(fs_->failures(), 0) << "RocksDB never met a storage error";

  fs_->SetFreeSpace(1LL << 30);
  ASSERT_TRUE(testing::WaitFor([&] { return engine_->WriteHealth().ok(); }))
      << "writes resume by themselves once space is freed";
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(engine_->PutItem("items", MakeItem("k" + std::to_string(i), 100 + i)).ok());
    acknowledged["k" + std::to_string(i)] = 100 + i;
  }
  // The refused writes left nothing ("y" was only ever refused; k0 holds its newest
  // acknowledged value, k1 is still there).
  ExpectExactly(acknowledged);
  engine_.reset();
  Open(nullptr);
  ExpectExactly(acknowledged);
}

// Faults while writers run. RocksDB may resume in-process or not: a failure with writes in
// flight may leave it in a state it will not resume from (then the engine keeps
// refusing writes, says so, and a restart recovers). Either way every acknowledged write
// survives, exactly once.
TEST_P(StorageFailureTest, StorageFaultsUnderConcurrentWritersLoseNothing) {
  constexpr int kWriters = 4;
  constexpr int kKeysPerWriter = 40;
  std::mutex mu;
  std::map<std::string, int64_t> acknowledged;  // guarded by mu
  std::set<std::string> uncertain;              // keys whose last write failed; guarded by mu
  std::atomic<int> failures{0};
  std::atomic<int64_t> next_value{0};
  const auto wait_for = [](auto done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
  };
  const auto acknowledged_writes = [&] {
    std::lock_guard lock(mu);
    return acknowledged.size() + static_cast<size_t>(next_value.load());
  };
  // Writers run for one phase: until `stop`.
  const auto run_writers = [&](std::atomic<bool>& stop) {
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (int64_t n = 0; !stop.load(); ++n) {
          const std::string key =
              "w" + std::to_string(w) + "-" + std::to_string(n % kKeysPerWriter);
          const int64_t value = next_value.fetch_add(1);
          auto put = engine_->PutItem("items", MakeItem(key, value));
          std::lock_guard lock(mu);
          if (put.ok()) {
            acknowledged[key] = value;
            uncertain.erase(key);
          } else {
            ++failures;
            uncertain.insert(key);
            EXPECT_EQ(put.status().code(), ErrorCode::kIOError) << put.status().ToString();
          }
        }
      });
    }
    return writers;
  };

  const std::vector<FaultyFileSystem::Fault> faults =
      GetParam()
          ? std::vector{FaultyFileSystem::Fault::kNoSpace, FaultyFileSystem::Fault::kSyncError,
                        FaultyFileSystem::Fault::kWriteError}
          : std::vector{FaultyFileSystem::Fault::kNoSpace, FaultyFileSystem::Fault::kWriteError};
  for (auto fault : faults) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers = run_writers(stop);
    struct Joiner {  // also when an assertion ends the test early
      std::atomic<bool>& stop;
      std::vector<std::thread>& writers;
      ~Joiner() {
        stop = true;
        for (auto& writer : writers) {
          if (writer.joinable()) writer.join();
        }
      }
    } joiner{stop, writers};
    const size_t start = acknowledged_writes();
    ASSERT_TRUE(wait_for([&] { return acknowledged_writes() >= start + 100; }));
    const int before = failures.load();
    fs_->Inject(fault);
    ASSERT_TRUE(wait_for([&] { return failures.load() > before + 20; }));
    EXPECT_FALSE(engine_->WriteHealth().ok());
    fs_->Clear();
    // RocksDB resumes after some failures and not after others (with fsync and writers in
    // flight it may keep a full-disk error): either writes resume, or the engine keeps
    // refusing them, says so, and a restart recovers.
    Status recovered = Recover();
    if (recovered.ok()) {
      const size_t resumed_from = acknowledged_writes();
      ASSERT_TRUE(wait_for([&] { return acknowledged_writes() > resumed_from + 50; }));
    }
    stop = true;
    for (auto& writer : writers) writer.join();
    if (!recovered.ok()) {
      // Refused writes all along, and reported it; a restart recovers.
      EXPECT_FALSE(engine_->WriteHealth().ok());
      engine_.reset();
      Open(fs_);
      EXPECT_TRUE(engine_->WriteHealth().ok());
    }
  }

  // Keys whose newest write failed have an unknown value; every other key must hold its
  // newest acknowledged value, in the table and in the log (checked gap-free).
  const auto check = [&] {
    std::map<std::string, int64_t> logged;
    for (const auto& change : testing::ReadWholeLog(*engine_, "items")) {
      logged[change.new_image.at("pk").s()] = std::stoll(change.new_image.at("v").n().ToString());
    }
    for (const auto& [key, value] : acknowledged) {
      if (uncertain.count(key) != 0) continue;
      EXPECT_EQ(logged[key], value) << key;
      auto item = engine_->GetItem("items", {{"pk", AttributeValue::S(key)}});
      ASSERT_TRUE(item.ok() && item->has_value()) << key;
      EXPECT_EQ((*item)->at("v"), AttributeValue::N(Number::FromInt64(value))) << key;
    }
  };
  check();
  engine_.reset();
  Open(nullptr);
  check();
}

INSTANTIATE_TEST_SUITE_P(CommitModes, StorageFailureTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Fsync" : "NoFsync"; });

}  // namespace
}  // namespace tidewater
