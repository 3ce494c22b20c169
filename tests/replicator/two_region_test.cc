// Two tidewaterd processes as two regions (us-east-1, eu-west-1) with a replicator each
// way: convergence, last writer wins, and faults (kill -9 of a replicator or a region, a
// region stopped for a while, a new region joining). Each test is bounded in time (a
// convergence wait of at most 20 s) and in size (a few thousand writes).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "regions.h"
#include "tidewater/core/failure_point.h"

namespace tidewater::testing {
namespace {

using std::chrono::milliseconds;

// tidewater_replication_errors_total in a replicator's metrics: every operation's, added.
double ErrorsCounted(const std::string& metrics) {
  const std::string family = "tidewater_replication_errors_total{";
  double errors = 0;
  for (size_t at = metrics.find(family); at != std::string::npos;
       at = metrics.find(family, at + 1)) {
    if (at != 0 && metrics[at - 1] != '\n') continue;
    const size_t value = metrics.find("} ", at);
    if (value != std::string::npos) errors += std::stod(metrics.substr(value + 2));
  }
  return errors;
}

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
  // The replicator's metrics: changes applied, and (within the shard list refresh
  // interval) no lag on any shard.
  std::string metrics;
  const auto caught_up = [&metrics] {
    for (int shard = 0; shard < 4; ++shard) {
      const std::string zero = "tidewater_replication_lag_records{shard=\"" +
                               std::to_string(shard) + "\",table=\"orders\"} 0\n";
      if (metrics.find(zero) == std::string::npos) return false;
    }
    return true;
  };
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        metrics = east_to_west_.Metrics();
        return caught_up();
      },
      std::chrono::seconds(5), milliseconds(100)))
      << metrics;
  EXPECT_NE(metrics.find("tidewater_replication_applied_total{table=\"orders\"}"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("tidewater_replication_applied_total{table=\"orders\"} 0\n"),
            std::string::npos)
      << metrics;
  EXPECT_TRUE(east_to_west_.Stop());
  EXPECT_TRUE(west_to_east_.Stop());
}

TEST_F(TwoRegionsTest, ReplicatorKilledMidBatchResumesWithoutLoss) {
  StartReplicators();
  Writer writer(east_, "east", 400, 4000);
  WaitForItems(west_, 50);  // the replicator is applying batches: kill it there
  east_to_west_.Kill();
  writer.WaitFor(1500);
  east_to_west_.Start();
  WaitForItems(west_, 300);
  east_to_west_.Kill();
  east_to_west_.Start();
  writer.Finish();
  auto contents = WaitForConvergence(east_, west_);
  ASSERT_TRUE(contents);
  writer.ExpectIn(*contents, "converged");
}

// Killed by a failure point right after the target applied a batch (with its checkpoint)
// and before anything else: the restart resumes after that batch, so no change reaches the
// target twice (the target counts re-sent changes as duplicates) and nothing is lost.
TEST_F(TwoRegionsTest, ReplicatorKilledRightAfterApplyResumesAfterTheBatch) {
  if (!kFailurePointsCompiledIn) GTEST_SKIP() << "failure points are compiled out";
  Writer writer(east_, "east", 400, 3000);
  east_to_west_.Start({"TIDEWATER_FAILURE_POINTS=replicator.after_apply=kill@10"});
  const std::string line = "event=failure_point name=replicator.after_apply action=kill hit=10";
  // Until the line shows or the process ends; checked after the end.
  (void)east_to_west_.WaitForLog(line, std::chrono::seconds(30));
  const int status = east_to_west_.Wait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << east_to_west_.log();
  EXPECT_NE(east_to_west_.log().find(line), std::string::npos);
  east_to_west_.Start();
  writer.Finish();
  auto contents = WaitForConvergence(east_, west_);
  ASSERT_TRUE(contents);
  writer.ExpectIn(*contents, "converged");
  const std::string metrics = east_to_west_.Metrics();
  EXPECT_NE(metrics.find("tidewater_replication_applied_total{table=\"orders\"}"),
            std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find("tidewater_replication_skipped_total{reason=\"duplicate\",table=\"orders\"} "
                   "0\n"),
      std::string::npos)
      << "the restarted replicator re-sent applied changes:\n"
      << metrics;
}

TEST_F(TwoRegionsTest, TargetRegionKilledAndRestarted) {
  StartReplicators();
  Writer east_writer(east_, "east", 300, 4000);
  Writer west_writer(west_, "west", 100, 600);
  WaitForItems(west_, 150);  // east's changes are arriving: kill the target there
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
  const double errors_before = ErrorsCounted(east_to_west_.Metrics());
  ASSERT_TRUE(west_.process().Stop());
  // Writes pile up in east, including deletes of items west holds.
  Writer east_writer(east_, "east", 200, 1200);
  for (int i = 0; i < 100; i += 3) ASSERT_TRUE(east_.Delete("early-" + std::to_string(i)).ok());
  east_writer.Finish();
  // West stays down until the replicator into it has failed there, or for 10 s: under load
  // its reader sometimes waits for west instead of trying (and failing) to apply east's new
  // batches, and reads them once west is back; the catch-up below checks that nothing was
  // lost either way.
  const bool failed_into_west =
      testing::WaitFor([&] { return ErrorsCounted(east_to_west_.Metrics()) > errors_before; },
                       std::chrono::seconds(10), milliseconds(100));
  if (!failed_into_west) std::fprintf(stderr, "note: no apply into the stopped region failed\n");
  ASSERT_TRUE(west_.Start()) << west_.process().log();
  auto contents = WaitForConvergence(east_, west_);
  ASSERT_TRUE(contents);
  east_writer.ExpectIn(*contents, "converged");
  for (int i = 0; i < 100; i += 3) {
    EXPECT_FALSE(contents->contains("early-" + std::to_string(i))) << "deleted item came back";
  }
}

// `tidewater lag --endpoint TARGET`: the replicator's rows (one per source shard), from
// the progress it reports to the target.
struct ReplicatorRows {
  int exit_code = -1;
  std::string output;
  int rows = 0;
  uint64_t position_sum = 0;  // the positions (first sequence not applied) added up
  uint64_t lag_sum = 0;
};

ReplicatorRows LagOfReplicator(const Region& target, const std::string& source_region) {
  ChildProcess lag(TW_TIDEWATER_CLI, {"lag", "--endpoint", target.url(), "--max-lag-records", "0"});
  ReplicatorRows found;
  if (!WaitFor([&] { return lag.Exited(); })) return found;
  const int status = lag.Wait();
  found.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  found.output = lag.log();
  const std::regex row(
      "^replicator:" + source_region +
      R"re( +orders +shardId-\S+ +tidewater-replicator\.\S+\.orders +(\d+) +(\d+) .*)re");
  std::istringstream lines(found.output);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (!std::regex_match(line, match, row)) continue;
    ++found.rows;
    found.position_sum += std::stoull(match[1]);
    found.lag_sum += std::stoull(match[2]);
  }
  return found;
}

TEST_F(TwoRegionsTest, LagShowsTheReplicatorsWritingIntoARegion) {
  east_to_west_.Start();
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(east_.Put("first-" + std::to_string(i), "v").ok());
  ASSERT_TRUE(WaitForConvergence(east_, west_));
  ReplicatorRows before;
  ASSERT_TRUE(WaitFor(
      [&] {
        before = LagOfReplicator(west_, "us-east-1");
        return before.rows > 0 && before.lag_sum == 0 && before.exit_code == 0;
      },
      std::chrono::seconds(20), milliseconds(200)))
      << before.output;
  // Each new key is one record of one source shard: the positions advance by exactly that.
  for (int i = 0; i < 17; ++i) ASSERT_TRUE(east_.Put("second-" + std::to_string(i), "v").ok());
  ReplicatorRows after;
  ASSERT_TRUE(WaitFor(
      [&] {
        after = LagOfReplicator(west_, "us-east-1");
        return after.position_sum == before.position_sum + 17 && after.lag_sum == 0;
      },
      std::chrono::seconds(20), milliseconds(200)))
      << after.output;
  EXPECT_EQ(after.rows, before.rows);
  // Nothing replicates into east.
  EXPECT_EQ(LagOfReplicator(east_, "eu-west-1").rows, 0);
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
