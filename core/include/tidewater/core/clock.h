// Time is injected: components read the time, and wait for it to pass, through a Clock so
// that tests drive time with a ManualClock instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <vector>

#include "tidewater/core/thread_annotations.h"

namespace tidewater {

// Marks Clock::MonotonicTime apart from other time points: a reading of one Clock compares
// only with readings (and deadlines) of the same Clock, never with std::chrono clocks.
struct MonotonicEpoch {};

// A source of time and of timed waits.
//  * NowMicros: wall-clock time (microseconds since the Unix epoch), for timestamps,
//    expiry and ages. It may jump.
//  * MonotonicNow: never goes back; for intervals, timeouts, backoff and deadlines.
//  * WaitUntil/WaitFor: a condition-variable wait whose timeout is measured by this clock,
//    so a ManualClock ends it when it is advanced to the deadline. SleepUntil/SleepFor:
//    the same without a condition.
// Thread safety: every method may be called from any thread.
class Clock {
 public:
  using MonotonicTime = std::chrono::time_point<MonotonicEpoch, std::chrono::nanoseconds>;

  virtual ~Clock() = default;

  virtual int64_t NowMicros() const = 0;
  int64_t NowSeconds() const { return NowMicros() / 1'000'000; }

  virtual MonotonicTime MonotonicNow() const = 0;
  // MonotonicNow() + `timeout`, saturating at MonotonicTime::max() (a wait without end).
  template <typename Rep, typename Period>
  MonotonicTime DeadlineAfter(std::chrono::duration<Rep, Period> timeout) const {
    return DeadlineAfterNanos(SaturatedNanos(timeout));
  }

  // Called with `mu` held, where `mu` guards what `ready` reads: blocks until `ready()`
  // holds, `stop` is requested or MonotonicNow() reaches `deadline`, releasing `mu` while
  // blocked. Returns ready(), evaluated with `mu` held. Whoever makes `ready` true notifies
  // `cv`, as for any condition variable. (`ready` is a lambda the thread-safety analysis
  // does not follow: one that reads guarded state starts with `mu.AssertHeld()`.)
  virtual bool WaitUntil(CondVar& cv, Mutex& mu, std::stop_token stop, MonotonicTime deadline,
                         const std::function<bool()>& ready) TW_REQUIRES(mu) = 0;
  bool WaitUntil(CondVar& cv, Mutex& mu, MonotonicTime deadline, const std::function<bool()>& ready)
      TW_REQUIRES(mu) {
    return WaitUntil(cv, mu, std::stop_token(), deadline, ready);
  }
  template <typename Rep, typename Period>
  bool WaitFor(CondVar& cv, Mutex& mu, std::stop_token stop,
               std::chrono::duration<Rep, Period> timeout, const std::function<bool()>& ready)
      TW_REQUIRES(mu) {
    return WaitUntil(cv, mu, std::move(stop), DeadlineAfter(timeout), ready);
  }
  template <typename Rep, typename Period>
  bool WaitFor(CondVar& cv, Mutex& mu, std::chrono::duration<Rep, Period> timeout,
               const std::function<bool()>& ready) TW_REQUIRES(mu) {
    return WaitUntil(cv, mu, std::stop_token(), DeadlineAfter(timeout), ready);
  }

  // Blocks until MonotonicNow() reaches `deadline` or `stop` is requested; false when
  // stopped.
  bool SleepUntil(MonotonicTime deadline, std::stop_token stop = {});
  template <typename Rep, typename Period>
  bool SleepFor(std::chrono::duration<Rep, Period> duration, std::stop_token stop = {}) {
    return SleepUntil(DeadlineAfter(duration), std::move(stop));
  }

  // The process-wide real clock (system_clock and steady_clock); never destroyed.
  static Clock* System();

 private:
  // `timeout` in nanoseconds, capped at nanoseconds::max() (a coarser unit may hold more).
  template <typename Rep, typename Period>
  static std::chrono::nanoseconds SaturatedNanos(std::chrono::duration<Rep, Period> timeout) {
    using Timeout = std::chrono::duration<Rep, Period>;
    if (timeout >= std::chrono::duration_cast<Timeout>(std::chrono::nanoseconds::max())) {
      return std::chrono::nanoseconds::max();
    }
    return std::chrono::duration_cast<std::chrono::nanoseconds>(timeout);
  }
  MonotonicTime DeadlineAfterNanos(std::chrono::nanoseconds timeout) const;
};

// A clock that moves only when told. For tests.
// AdvanceMicros moves the wall and the monotonic time together and wakes every waiter whose
// deadline it reaches; SetMicros sets the wall time only. A wait on a ManualClock otherwise
// ends as on a real clock: when its condition holds (on a notify) or on a stop request.
// Thread safety: every method may be called from any thread. An advance locks the mutex of
// each waiter it wakes (so that the wake-up cannot be lost): do not advance while holding
// a mutex that a thread waits with on this clock.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_micros = 1'700'000'000'000'000) : wall_micros_(start_micros) {}

  int64_t NowMicros() const override { return wall_micros_.load(std::memory_order_acquire); }
  MonotonicTime MonotonicNow() const override {
    return MonotonicTime(
        std::chrono::nanoseconds(monotonic_nanos_.load(std::memory_order_acquire)));
  }
  bool WaitUntil(CondVar& cv, Mutex& mu, std::stop_token stop, MonotonicTime deadline,
                 const std::function<bool()>& ready) TW_REQUIRES(mu) override;
  using Clock::WaitUntil;

  void SetMicros(int64_t micros) { wall_micros_.store(micros, std::memory_order_release); }
  // A negative `delta` moves the wall time back and leaves the monotonic time.
  void AdvanceMicros(int64_t delta);
  void AdvanceSeconds(int64_t seconds) { AdvanceMicros(seconds * 1'000'000); }
  void Advance(std::chrono::microseconds delta) { AdvanceMicros(delta.count()); }

  // How many threads are blocked in a wait on this clock that only an advance (or their
  // condition, or a stop) ends.
  size_t waiters() const;
  // Blocks until at least `count` threads wait on this clock, or `timeout` (real time)
  // passes; true when they do. A test calls it before advancing, so that the advance
  // reaches the component it means to wake rather than passing before it waits.
  bool AwaitWaiters(size_t count, std::chrono::milliseconds timeout) const;

 private:
  struct Waiter {
    Mutex* mutex;
    CondVar* cv;
    MonotonicTime deadline;
    int wakers = 0;  // advances about to notify it (guarded by waiters_mu_)
  };

  std::atomic<int64_t> wall_micros_;
  std::atomic<int64_t> monotonic_nanos_{0};
  mutable std::mutex waiters_mu_;
  mutable std::condition_variable waiters_changed_;
  std::vector<Waiter*> waiters_;  // guarded by waiters_mu_
};

}  // namespace tidewater
