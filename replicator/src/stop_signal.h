// A stop flag that sleeping threads wake up for, and the capped exponential backoff
// the replicator retries with.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace tidewater::replicator {

// Thread-safe.
class StopSignal {
 public:
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  bool stopped() {
    std::lock_guard lock(mu_);
    return stopped_;
  }
  // Sleeps for `duration` or until Stop; returns false when stopped.
  bool SleepFor(std::chrono::milliseconds duration) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, duration, [this] { return stopped_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
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
