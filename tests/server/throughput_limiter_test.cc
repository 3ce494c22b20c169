// The token bucket behind PROVISIONED throttling, driven by a ManualClock: one second of
// capacity at the start, refill at the provisioned rate, burst capped at 300 seconds of
// unused capacity, debt from charges larger than the balance, resizing. And on-demand
// scaling: a new table's initial throughput, double the previous peak, a new peak counting
// only 30 minutes after traffic first went above the previous one, and kept in the table's
// settings so that a restarted server scales from it.
#include "throughput_limiter.h"

#include <gtest/gtest.h>

#include <memory>

#include "support/temp_dir.h"
#include "support/test_engine.h"

namespace tidewater::server {
namespace {

class TokenBucketTest : public ::testing::Test {
 protected:
  Clock::MonotonicTime Now() const { return clock_.MonotonicNow(); }
  ManualClock clock_;
  TokenBucket bucket_;
};

TEST_F(TokenBucketTest, StartsWithOneSecondOfCapacityThenRunsDry) {
  bucket_.Reset(5, Now());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(bucket_.HasCapacity(Now())) << i;
    bucket_.Charge(1, Now());
  }
  EXPECT_FALSE(bucket_.HasCapacity(Now()));
  EXPECT_DOUBLE_EQ(bucket_.Balance(Now()), 0);
}

TEST_F(TokenBucketTest, RefillsAtTheRate) {
  bucket_.Reset(5, Now());
  bucket_.Charge(5, Now());
  clock_.AdvanceMicros(200'000);  // 0.2 s: one unit
  EXPECT_DOUBLE_EQ(bucket_.Balance(Now()), 1);
  EXPECT_TRUE(bucket_.HasCapacity(Now()));
  bucket_.Charge(1, Now());
  EXPECT_FALSE(bucket_.HasCapacity(Now()));
}

TEST_F(TokenBucketTest, BurstKeepsAtMostThreeHundredSecondsOfUnusedCapacity) {
  bucket_.Reset(5, Now());
  clock_.AdvanceSeconds(200);
  EXPECT_DOUBLE_EQ(bucket_.Balance(Now()), 5 + 200 * 5);
  clock_.AdvanceSeconds(1000);
  EXPECT_DOUBLE_EQ(bucket_.Balance(Now()), 300 * 5);
  // The whole burst can be spent at once.
  int admitted = 0;
  while (bucket_.HasCapacity(Now())) {
    bucket_.Charge(1, Now());
    ++admitted;
  }
  EXPECT_EQ(admitted, 1500);
}

TEST_F(TokenBucketTest, ChargesBeyondTheBalanceAreDebtThatRefillsRepay) {
  bucket_.Reset(5, Now());
  ASSERT_TRUE(bucket_.HasCapacity(Now()));
  bucket_.Charge(20, Now());  // a 20 KB item admitted with 5 units left
  EXPECT_DOUBLE_EQ(bucket_.Balance(Now()), -15);
  clock_.AdvanceSeconds(3);
  EXPECT_FALSE(bucket_.HasCapacity(Now()));  // exactly repaid, still nothing to spend
  clock_.AdvanceMicros(200'000);
  EXPECT_TRUE(bucket_.HasCapacity(Now()));
}

TEST_F(TokenBucketTest, ResizeChangesTheRateAtOnceAndCapsTheBurst) {
  bucket_.Reset(5, Now());
  bucket_.Charge(5, Now());
  bucket_.Resize(50, Now());
  clock_.AdvanceMicros(100'000);
  EXPECT_DOUBLE_EQ(bucket_.Balance(Now()), 5);
  clock_.AdvanceSeconds(600);
  EXPECT_DOUBLE_EQ(bucket_.Balance(Now()), 300 * 50);
  bucket_.Resize(1, Now());
  EXPECT_DOUBLE_EQ(bucket_.Balance(Now()), 300);
  EXPECT_DOUBLE_EQ(bucket_.rate(), 1);
}

TEST_F(TokenBucketTest, OneSecondBucketKeepsNoBurst) {
  TokenBucket shard(1);
  shard.Reset(1000, Now());
  clock_.AdvanceSeconds(600);
  EXPECT_DOUBLE_EQ(shard.Balance(Now()), 1000);
}

class OnDemandScalingTest : public TokenBucketTest {
 protected:
  // Spends up to `units` in one instant, a unit at a time while there is capacity; returns
  // how many were admitted.
  int Spend(int units) {
    int admitted = 0;
    while (admitted < units && scaling_.HasCapacity(Now())) {
      scaling_.Charge(1, Now());
      ++admitted;
    }
    return admitted;
  }

  OnDemandScaling scaling_;
};

TEST_F(OnDemandScalingTest, NewTableServesItsInitialThroughputAtOnce) {
  scaling_.Reset(0, Now());
  EXPECT_DOUBLE_EQ(scaling_.Capacity(Now()), 4000);
  EXPECT_EQ(Spend(5000), 4000);
  clock_.AdvanceMicros(250'000);  // a quarter second refills a quarter
  EXPECT_EQ(Spend(5000), 1000);
}

TEST_F(OnDemandScalingTest, TrafficMayDoubleThePreviousPeakOnlyAfterThirtyMinutes) {
  scaling_.Reset(0, Now());
  // 4,000 units every second: above the previous peak (2,000) from the first second.
  for (int second = 0; second < 29 * 60; ++second) {
    ASSERT_EQ(Spend(4000), 4000) << second;
    clock_.AdvanceSeconds(1);
  }
  // Within 30 minutes the new peak does not count yet: still 4,000 a second.
  EXPECT_DOUBLE_EQ(scaling_.Capacity(Now()), 4000);
  EXPECT_EQ(Spend(8000), 4000);
  clock_.AdvanceSeconds(60);
  // 30 minutes after traffic first went above the previous peak, 4,000 is the previous
  // peak: double it is served.
  EXPECT_DOUBLE_EQ(scaling_.Capacity(Now()), 8000);
  clock_.AdvanceSeconds(1);  // a second's refill at the new rate
  EXPECT_EQ(Spend(9000), 8000);
  // That second of 8,000 units is the next peak, counted 30 minutes later; and peaks are
  // kept: after hours of quiet the table serves double it at once.
  clock_.AdvanceSeconds(5 * 3600);
  EXPECT_DOUBLE_EQ(scaling_.Capacity(Now()), 16000);
  EXPECT_EQ(Spend(20000), 16000);
}

TEST_F(OnDemandScalingTest, TrafficWithinThePreviousPeakNeverRaisesIt) {
  scaling_.Reset(0, Now());
  for (int second = 0; second < 3600; ++second) {
    ASSERT_EQ(Spend(2000), 2000);
    clock_.AdvanceSeconds(1);
  }
  EXPECT_DOUBLE_EQ(scaling_.Capacity(Now()), 4000);
}

TEST_F(OnDemandScalingTest, SwitchedTableStartsFromItsProvisionedThroughput) {
  // The previous peak of a table switched from PROVISIONED: half its provisioned units.
  scaling_.Reset(5000, Now());
  EXPECT_DOUBLE_EQ(scaling_.Capacity(Now()), 10000);
  EXPECT_EQ(Spend(12000), 10000);
}

// The limiter over a real engine: a higher on-demand peak is written to the table's
// settings when it counts, and a limiter started afresh over the reopened engine (a
// restarted tidewaterd) serves double that peak at once.
TEST(OnDemandPeakTest, ThePreviousPeakSurvivesARestart) {
  testing::TempDir dir;
  ManualClock clock;
  const auto open = [&] {
    auto engine = Engine::Open(testing::TestEngineOptions(dir.Sub("data"), &clock));
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return engine.ok() ? std::move(*engine) : nullptr;
  };
  // How many of `units` single units a limiter admits at once (no key: no shard limit).
  const auto admitted = [&](ThroughputLimiter& limiter, int units) {
    int count = 0;
    for (; count < units; ++count) {
      ErrorDetails details;
      auto ticket = limiter.Admit("orders", CapacityKind::kWrite, "PutItem", nullptr, details);
      if (!ticket.ok()) break;
      limiter.Charge(*ticket, CapacityKind::kWrite, 1);
    }
    return count;
  };
  {
    std::unique_ptr<Engine> engine = open();
    ASSERT_NE(engine, nullptr);
    CreateTableRequest request;
    request.name = "orders";
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    ASSERT_TRUE(engine->CreateTable(request).ok());
    ThroughputLimiter limiter(engine.get(), &clock, "us-test-1", true);
    // 3,000 units a second for 31 minutes: above the initial previous peak (2,000).
    for (int second = 0; second < 31 * 60; ++second) {
      ErrorDetails details;
      auto ticket = limiter.Admit("orders", CapacityKind::kWrite, "PutItem", nullptr, details);
      ASSERT_TRUE(ticket.ok()) << second;
      limiter.Charge(*ticket, CapacityKind::kWrite, 3000);
      clock.AdvanceSeconds(1);
    }
    auto table = engine->DescribeTable("orders");
    ASSERT_TRUE(table.ok());
    EXPECT_DOUBLE_EQ(table->settings.capacity.on_demand_peak_units, 3000);
  }
  std::unique_ptr<Engine> engine = open();
  ASSERT_NE(engine, nullptr);
  ThroughputLimiter limiter(engine.get(), &clock, "us-test-1", true);
  EXPECT_EQ(admitted(limiter, 7000), 6000);  // double the stored peak, not 4,000
}

}  // namespace
}  // namespace tidewater::server
