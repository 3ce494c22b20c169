// A stop flag that sleeping threads wake up for, and the capped exponential backoff
// the replicator retries with.
#pragma once

#include <algorithm>
#include <chrono>

#include "tidewater/core/clock.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::replicator {

// Sleeps are timed by the injected clock. Thread-safe.
class StopSignal {
 public:
  explicit StopSignal(Clock* clock) : clock_(clock) {}
  void Stop() TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    stopped_ = true;
    cv_.NotifyAll();
  }
  bool stopped() TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return stopped_;
  }
  // Sleeps for `duration` or until Stop; returns false when stopped.
  bool SleepFor(std::chrono::milliseconds duration) TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return !clock_->WaitFor(cv_, mu_, duration, [this] {
      mu_.AssertHeld();
      return stopped_;
    });
  }

 private:
  Clock* const clock_;
  Mutex mu_;
  CondVar cv_;
  bool stopped_ TW_GUARDED_BY(mu_) = false;
};

// Not thread-safe: one per retrying loop.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : max_(max), next_(initial) {}
  std::chrono::milliseconds Next() {
    const std::chrono::milliseconds current = next_;
    next_ = std::min(max_, next_ * 2);
    return current;
  }

 private:
  const std::chrono::milliseconds max_;
  std::chrono::milliseconds next_;
};

}  // namespace tidewater::replicator
