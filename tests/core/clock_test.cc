// The injected clock: ManualClock waits end exactly when an advance reaches their deadline
// (or on their condition, or a stop request); the system clock's waits take real time.
#include "tidewater/core/clock.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace tidewater {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Generous: only a broken wake-up reaches it.
constexpr milliseconds kRealDeadline{10'000};

TEST(ManualClockTest, SleeperWakesWhenAnAdvanceReachesItsDeadlineAndNotBefore) {
  ManualClock clock;
  std::atomic<bool> woke{false};
  auto sleeper = std::async(std::launch::async, [&] {
    const bool slept = clock.SleepFor(seconds(10));
    woke = true;
    return slept;
  });
  EXPECT_TRUE(clock.AwaitWaiters(1, kRealDeadline));
  clock.AdvanceSeconds(9);
  EXPECT_FALSE(woke);
  EXPECT_EQ(clock.waiters(), 1u);
  clock.AdvanceSeconds(1);
  EXPECT_EQ(sleeper.wait_for(kRealDeadline), std::future_status::ready);
  EXPECT_TRUE(sleeper.get());
  EXPECT_EQ(clock.waiters(), 0u);
}

TEST(ManualClockTest, WaitEndsOnItsConditionWithoutTimeMoving) {
  ManualClock clock;
  Mutex mu;
  CondVar cv;
  bool ready = false;
  auto waiter = std::async(std::launch::async, [&] {
    MutexLock lock(mu);
    return clock.WaitFor(cv, mu, seconds(3600), [&] { return ready; });
  });
  EXPECT_TRUE(clock.AwaitWaiters(1, kRealDeadline));
  {
    MutexLock lock(mu);
    ready = true;
  }
  cv.NotifyAll();
  const bool returned = waiter.wait_for(kRealDeadline) == std::future_status::ready;
  if (!returned) clock.AdvanceSeconds(3600);  // let the thread end before failing
  ASSERT_TRUE(returned);
  EXPECT_TRUE(waiter.get());
}

TEST(ManualClockTest, WaitTimesOutAtItsDeadlineWithTheConditionFalse) {
  ManualClock clock;
  Mutex mu;
  CondVar cv;
  auto waiter = std::async(std::launch::async, [&] {
    MutexLock lock(mu);
    const bool ready = clock.WaitFor(cv, mu, milliseconds(400), [] { return false; });
    return ready;
  });
  EXPECT_TRUE(clock.AwaitWaiters(1, kRealDeadline));
  clock.Advance(milliseconds(399));
  EXPECT_EQ(waiter.wait_for(milliseconds(0)), std::future_status::timeout);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(waiter.wait_for(kRealDeadline), std::future_status::ready);
  EXPECT_FALSE(waiter.get());
}

TEST(ManualClockTest, StopRequestEndsASleep) {
  ManualClock clock;
  std::stop_source stop;
  auto sleeper = std::async(std::launch::async,
                            [&] { return clock.SleepFor(seconds(3600), stop.get_token()); });
  EXPECT_TRUE(clock.AwaitWaiters(1, kRealDeadline));
  stop.request_stop();
  const bool returned = sleeper.wait_for(kRealDeadline) == std::future_status::ready;
  if (!returned) clock.AdvanceSeconds(3600);
  ASSERT_TRUE(returned);
  EXPECT_FALSE(sleeper.get()) << "a stopped sleep says so";
}

TEST(ManualClockTest, ManyWaitersWakeInDeadlineOrderAsTimeAdvances) {
  ManualClock clock;
  std::vector<std::future<bool>> sleepers;
  for (int i = 1; i <= 4; ++i) {
    sleepers.push_back(
        std::async(std::launch::async, [&clock, i] { return clock.SleepFor(seconds(i)); }));
  }
  EXPECT_TRUE(clock.AwaitWaiters(4, kRealDeadline));
  for (int i = 1; i <= 4; ++i) {
    clock.AdvanceSeconds(1);
    EXPECT_EQ(sleepers[i - 1].wait_for(kRealDeadline), std::future_status::ready) << i;
    for (int later = i + 1; later <= 4; ++later) {
      EXPECT_EQ(sleepers[later - 1].wait_for(milliseconds(0)), std::future_status::timeout)
          << later << " woke at " << i << " s";
    }
  }
}

TEST(ManualClockTest, WallTimeMovesAloneWhenSetOrMovedBack) {
  ManualClock clock(1'000'000);
  const Clock::MonotonicTime start = clock.MonotonicNow();
  clock.SetMicros(5'000'000);
  EXPECT_EQ(clock.NowSeconds(), 5);
  clock.AdvanceMicros(-1'000'000);
  EXPECT_EQ(clock.NowSeconds(), 4);
  EXPECT_EQ(clock.MonotonicNow(), start);
  clock.AdvanceMicros(2'000'000);
  EXPECT_EQ(clock.NowSeconds(), 6);
  EXPECT_EQ(clock.MonotonicNow() - start, seconds(2));
  EXPECT_EQ(clock.DeadlineAfter(milliseconds::max()), Clock::MonotonicTime::max());
}

TEST(SystemClockTest, WaitsTakeRealTime) {
  Clock& clock = *Clock::System();
  const auto started = std::chrono::steady_clock::now();
  const Clock::MonotonicTime before = clock.MonotonicNow();
  EXPECT_TRUE(clock.SleepFor(milliseconds(20)));
  Mutex mu;
  CondVar cv;
  MutexLock lock(mu);
  EXPECT_FALSE(clock.WaitFor(cv, mu, milliseconds(20), [] { return false; }));
  EXPECT_TRUE(clock.WaitFor(cv, mu, milliseconds(20), [] { return true; }));
  EXPECT_GE(clock.MonotonicNow() - before, milliseconds(40));
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(40));
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(clock.SleepFor(seconds(3600), stop.get_token()));
}

}  // namespace
}  // namespace tidewater
