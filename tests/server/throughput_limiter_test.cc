// The token bucket behind PROVISIONED throttling, driven by a ManualClock: one second of
// capacity at the start, refill at the provisioned rate, burst capped at 300 seconds of
// unused capacity, debt from charges larger than the balance, resizing.
#include "throughput_limiter.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tidewater::server
