// The annotated Mutex, MutexLock and CondVar: mutual exclusion, waits that wake on a
// notification and end at their deadline. (The annotations themselves are checked by
// clang's -Wthread-safety when this file compiles.)
#include "tidewater/core/thread_annotations.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace tidewater {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class Counter {
 public:
  void Add() TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    ++value_;
    changed_.NotifyAll();
  }

  // Whether the value reached `target` before `deadline`.
  bool WaitFor(int target, steady_clock::time_point deadline) TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (value_ < target) {
      if (!changed_.WaitUntil(mu_, deadline)) return value_ >= target;
    }
    return true;
  }

  int value() TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return value_;
  }

  Mutex& mutex() TW_RETURN_CAPABILITY(mu_) { return mu_; }

 private:
  Mutex mu_;
  CondVar changed_;
  int value_ TW_GUARDED_BY(mu_) = 0;
};

TEST(ThreadAnnotationsTest, MutexLockExcludesOtherThreads) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) counter.Add();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), 40'000);
}

TEST(ThreadAnnotationsTest, TryLockFailsWhileHeld) {
  Counter counter;
  MutexLock lock(counter.mutex());
  std::thread other([&] {
    if (counter.mutex().try_lock()) {
      counter.mutex().unlock();
      ADD_FAILURE() << "locked a held mutex";
    }
  });
  other.join();
}

TEST(ThreadAnnotationsTest, WaitWakesOnNotifyAndEndsAtTheDeadline) {
  Counter counter;
  std::thread adder([&] {
    for (int i = 0; i < 3; ++i) counter.Add();
  });
  EXPECT_TRUE(counter.WaitFor(3, steady_clock::now() + std::chrono::seconds(30)));
  adder.join();
  const auto start = steady_clock::now();
  EXPECT_FALSE(counter.WaitFor(4, start + milliseconds(50)));
  EXPECT_GE(steady_clock::now() - start, milliseconds(50));
}

}  // namespace
}  // namespace tidewater
