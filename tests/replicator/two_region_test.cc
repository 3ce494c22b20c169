// Two tidewaterd processes as two regions (us-east-1, eu-west-1) with a replicator each
// way: convergence, last writer wins, and faults (kill -9 of a replicator or a region, a
// region stopped for a while, a new region joining). Each test is bounded in time (a
// convergence wait of at most 20 s) and in size (a few thousand writes).
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>

#include "regions.h"

namespace tidewater::testing {
namespace {

using std::chrono::milliseconds;
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
          }
        }) {}
  ~Writer() { Finish(); }

  void Finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Waits until `ops` operations were done (or the writer ended).
  void WaitFor(int ops) {
    while (true) {
      {
        std::lock_guard lock(mu_);
        if (done_ >= ops) return;
      }
      if (stop_) return;
      std::this_thread::sleep_for(milliseconds(5));
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
  std::thread thread_;
};

class TwoRegionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(east_.Start()) << east_.process().log();
    ASSERT_TRUE(west_.Start()) << west_.process().log();
    ASSERT_TRUE(east_.CreateTable().ok());
    ASSERT_TRUE(west_.CreateTable().ok());
  }
  void StartReplicators() {
    east_to_west_.Start();
    west_to_east_.Start();
  }
  void TearDown() override {
    if (HasFailure()) {
      ADD_FAILURE() << "east->west replicator:\n"
                    << east_to_west_.log() << "\nwest->east replicator:\n"
                    << west_to_east_.log();
    }
  }

  TempDir dir_;
  Region east_{dir_, "us-east-1"};
  Region west_{dir_, "eu-west-1"};
  Replicator east_to_west_{east_, west_};
  Replicator west_to_east_{west_, east_};
};

TEST_F(TwoRegionsTest, WritersInBothRegionsConvergeAndTheLastWriterWins) {
  // Conflicts with a known winner: written in both regions while nothing replicates, the
  // later write (a higher hybrid-logical version) must win everywhere.
  for (int i = 0; i < 10; ++i) {
    const std::string key = "conflict-" + std::to_string(i);
    Region& first = i % 2 == 0 ? east_ : west_;
    Region& second = i % 2 == 0 ? west_ : east_;
    ASSERT_TRUE(first.Put(key, "loser").ok());
    std::this_thread::sleep_for(milliseconds(3));
    ASSERT_TRUE(second.Put(key, "winner").ok());
  }
  StartReplicators();
  // Concurrent writers: own keys in each region, and shared keys written by both.
  Writer east_own(east_, "east", 200, 1500);
  Writer west_own(west_, "west", 200, 1500);
  Writer east_shared(east_, "shared", 50, 600);
  Writer west_shared(west_, "shared", 50, 600);
  east_own.Finish();
  west_own.Finish();
  east_shared.Finish();
  west_shared.Finish();

  auto contents = WaitForConvergence(east_, west_);
  ASSERT_TRUE(contents);
  east_own.ExpectIn(*contents, "converged");
  west_own.ExpectIn(*contents, "converged");
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(contents->at("conflict-" + std::to_string(i)), "winner") << i;
  }
  // Each shared key holds a value some writer wrote (or is deleted): nothing invented.
  for (const auto& [key, value] : *contents) {
    if (key.starts_with("shared-")) {
      EXPECT_TRUE(value.starts_with("shared#")) << key;
    }
  }
  EXPECT_TRUE(east_to_west_.Stop());
  EXPECT_TRUE(west_to_east_.Stop());
}

TEST_F(TwoRegionsTest, ReplicatorKilledMidBatchResumesWithoutLoss) {
  StartReplicators();
  Writer writer(east_, "east", 400, 3000);
  writer.WaitFor(500);
  east_to_west_.Kill();
  writer.WaitFor(1500);
  east_to_west_.Start();
  writer.WaitFor(2000);
  east_to_west_.Kill();
  east_to_west_.Start();
  writer.Finish();
  auto contents = WaitForConvergence(east_, west_);
  ASSERT_TRUE(contents);
  writer.ExpectIn(*contents, "converged");
}

TEST_F(TwoRegionsTest, TargetRegionKilledAndRestarted) {
  StartReplicators();
  Writer east_writer(east_, "east", 300, 2500);
  Writer west_writer(west_, "west", 100, 600);
  east_writer.WaitFor(600);
  west_.process().Kill();
  east_writer.WaitFor(1500);
  west_writer.Finish();  // its calls fail while west is down: those keys are uncertain
  ASSERT_TRUE(west_.Start()) << west_.process().log();
  east_writer.Finish();
  auto contents = WaitForConvergence(east_, west_);
  ASSERT_TRUE(contents);
  east_writer.ExpectIn(*contents, "converged");
  west_writer.ExpectIn(*contents, "converged");
}

TEST_F(TwoRegionsTest, RegionStoppedForAWhileCatchesUpOnRestart) {
  StartReplicators();
  Writer warmup(east_, "early", 100, 300);
  warmup.Finish();
  ASSERT_TRUE(WaitForConvergence(east_, west_));
  ASSERT_TRUE(west_.process().Stop());
  // Writes pile up in east, including deletes of items west holds.
  Writer east_writer(east_, "east", 200, 1200);
  for (int i = 0; i < 100; i += 3) ASSERT_TRUE(east_.Delete("early-" + std::to_string(i)).ok());
  east_writer.Finish();
  std::this_thread::sleep_for(milliseconds(500));
  ASSERT_TRUE(west_.Start()) << west_.process().log();
  auto contents = WaitForConvergence(east_, west_);
  ASSERT_TRUE(contents);
  east_writer.ExpectIn(*contents, "converged");
  for (int i = 0; i < 100; i += 3) {
    EXPECT_FALSE(contents->contains("early-" + std::to_string(i))) << "deleted item came back";
  }
}

TEST_F(TwoRegionsTest, NewEmptyRegionJoinsATableWithDataAndLiveWrites) {
  Writer before(east_, "before", 500, 1000);
  before.Finish();
  Region south(dir_, "ap-south-1");
  ASSERT_TRUE(south.Start()) << south.process().log();
  ASSERT_TRUE(south.CreateTable().ok());
  Writer during(east_, "during", 300, 2000);
  during.WaitFor(200);
  Replicator east_to_south(east_, south);
  east_to_south.Start();  // no checkpoint in south: copies the table, then follows
  during.Finish();
  auto contents = WaitForConvergence(east_, south);
  if (!contents) ADD_FAILURE() << east_to_south.log();
  ASSERT_TRUE(contents);
  before.ExpectIn(*contents, "converged");
  during.ExpectIn(*contents, "converged");
  EXPECT_TRUE(east_to_south.Stop());
}

}  // namespace
}  // namespace tidewater::testing
