#include "tidewater/core/clock.h"

#include <algorithm>

namespace tidewater {
namespace {

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  MonotonicTime MonotonicNow() const override {
    return MonotonicTime(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch()));
  }

  bool WaitUntil(CondVar& cv, Mutex& mu, std::stop_token stop, MonotonicTime deadline,
                 const std::function<bool()>& ready) TW_REQUIRES(mu) override {
    if (deadline == MonotonicTime::max()) return cv.Wait(mu, std::move(stop), ready);
    // MonotonicNow reads steady_clock: a deadline is a steady_clock time.
    const std::chrono::steady_clock::time_point steady_deadline(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            deadline.time_since_epoch()));
    return cv.WaitUntil(mu, std::move(stop), steady_deadline, ready);
  }
};

}  // namespace

Clock::MonotonicTime Clock::DeadlineAfterNanos(std::chrono::nanoseconds timeout) const {
  const MonotonicTime now = MonotonicNow();
  if (timeout <= std::chrono::nanoseconds::zero()) return now;
  if (timeout >= MonotonicTime::max() - now) return MonotonicTime::max();
  return now + timeout;
}

bool Clock::SleepUntil(MonotonicTime deadline, std::stop_token stop) {
  Mutex mutex;
  CondVar never_notified;
  MutexLock lock(mutex);
  WaitUntil(never_notified, mutex, stop, deadline, [] { return false; });
  return !stop.stop_requested();
}

Clock* Clock::System() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

bool ManualClock::WaitUntil(CondVar& cv, Mutex& mu, std::stop_token stop, MonotonicTime deadline,
                            const std::function<bool()>& ready) {
  const auto done = [&] { return ready() || MonotonicNow() >= deadline; };
  if (done() || stop.stop_requested()) return ready();
  // Registered while `mu` is held: an advance that sees this waiter has to take `mu` to
  // notify, which it gets only once this thread waits (or has left).
  Waiter self{&mu, &cv, deadline};
  {
    std::lock_guard guard(waiters_mu_);
    waiters_.push_back(&self);
  }
  waiters_changed_.notify_all();
  cv.Wait(mu, stop, done);
  // Unregistering waits for an advance that is about to notify `cv`; that advance needs
  // `mu`, so it is released meanwhile.
  mu.unlock();
  {
    std::unique_lock guard(waiters_mu_);
    std::erase(waiters_, &self);
    waiters_changed_.wait(guard, [&] { return self.wakers == 0; });
  }
  waiters_changed_.notify_all();
  mu.lock();
  return ready();
}

void ManualClock::AdvanceMicros(int64_t delta) {
  wall_micros_.fetch_add(delta, std::memory_order_acq_rel);
  if (delta <= 0) return;
  const int64_t now_nanos =
      monotonic_nanos_.fetch_add(delta * 1000, std::memory_order_acq_rel) + delta * 1000;
  const MonotonicTime now{std::chrono::nanoseconds(now_nanos)};
  std::vector<Waiter*> due;
  {
    std::lock_guard guard(waiters_mu_);
    for (Waiter* waiter : waiters_) {
      if (waiter->deadline > now) continue;
      ++waiter->wakers;
      due.push_back(waiter);
    }
  }
  for (Waiter* waiter : due) {
    MutexLock waiter_lock(*waiter->mutex);
    waiter->cv->NotifyAll();
  }
  if (due.empty()) return;
  {
    std::lock_guard guard(waiters_mu_);
    for (Waiter* waiter : due) --waiter->wakers;
  }
  waiters_changed_.notify_all();
}

size_t ManualClock::waiters() const {
  std::lock_guard guard(waiters_mu_);
  return waiters_.size();
}

bool ManualClock::AwaitWaiters(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock guard(waiters_mu_);
  return waiters_changed_.wait_for(guard, timeout, [&] { return waiters_.size() >= count; });
}

}  // namespace tidewater
