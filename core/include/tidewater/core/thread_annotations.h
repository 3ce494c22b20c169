// Locking the compiler checks: clang's thread-safety attributes (-Wthread-safety, an error in
// clang builds) and a Mutex, MutexLock, CondVar and ThreadRole that carry them. Under GCC the
// attributes are empty and the types are thin wrappers over the standard ones.
//
//   class Counter {
//    public:
//     void Add() TW_EXCLUDES(mu_) {
//       MutexLock lock(mu_);
//       ++value_;
//       changed_.NotifyAll();
//     }
//     // Waits until the value reaches `target` or `deadline` passes; whether it did.
//     bool WaitFor(int target, std::chrono::steady_clock::time_point deadline) {
//       MutexLock lock(mu_);
//       while (value_ < target) {
//         if (!changed_.WaitUntil(mu_, deadline)) return value_ >= target;
//       }
//       return true;
//     }
//    private:
//     Mutex mu_;
//     CondVar changed_;
//     int value_ TW_GUARDED_BY(mu_) = 0;
//   };
//
// Waiting: write the loop in the function that holds the lock (as above) rather than pass a
// predicate lambda; the analysis does not know a lambda runs under the lock (a lambda that
// must read guarded state can start with `mu_.AssertHeld();`).
// std::lock_guard / std::unique_lock over a Mutex compile but are invisible to the analysis:
// use MutexLock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>

#if defined(__clang__)
#define TW_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TW_THREAD_ANNOTATION(x)
#endif

// On a class: its objects are a capability ("mutex") that functions acquire and release.
#define TW_CAPABILITY(name) TW_THREAD_ANNOTATION(capability(name))
// On an RAII class: its constructor acquires, its destructor releases.
#define TW_SCOPED_CAPABILITY TW_THREAD_ANNOTATION(scoped_lockable)
// On a data member: read or written only with `mutex` held.
#define TW_GUARDED_BY(mutex) TW_THREAD_ANNOTATION(guarded_by(mutex))
// On a pointer member: the pointee is read or written only with `mutex` held.
#define TW_PT_GUARDED_BY(mutex) TW_THREAD_ANNOTATION(pt_guarded_by(mutex))
// On a mutex member: the lock order relative to other mutexes.
#define TW_ACQUIRED_BEFORE(...) TW_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define TW_ACQUIRED_AFTER(...) TW_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
// On a function: callers hold these mutexes (exclusively / shared).
#define TW_REQUIRES(...) TW_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define TW_REQUIRES_SHARED(...) TW_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
// On a function: it acquires / releases these mutexes (no argument: `this`).
#define TW_ACQUIRE(...) TW_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define TW_RELEASE(...) TW_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// On a function: acquires when it returns `result` (true for try_lock).
#define TW_TRY_ACQUIRE(...) TW_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// On a function: callers must not hold these mutexes (it takes them itself).
#define TW_EXCLUDES(...) TW_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// On a function: checks at run time (or promises) that the mutex is held; the analysis
// takes it as held afterwards.
#define TW_ASSERT_CAPABILITY(mutex) TW_THREAD_ANNOTATION(assert_capability(mutex))
// On a function: it returns a reference to this mutex.
#define TW_RETURN_CAPABILITY(mutex) TW_THREAD_ANNOTATION(lock_returned(mutex))
// On a function: not analysed. Say why next to it.
#define TW_NO_THREAD_SAFETY_ANALYSIS TW_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace tidewater {

// A mutual-exclusion lock the analysis knows: std::mutex with capability attributes.
// Not recursive. Meets BasicLockable and Lockable (lock, unlock, try_lock), so
// std::condition_variable_any can wait on it; CondVar below does so with annotations.
// Thread safety: that is its purpose. Not copyable or movable.
class TW_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() TW_ACQUIRE() { mu_.lock(); }
  void unlock() TW_RELEASE() { mu_.unlock(); }
  bool try_lock() TW_TRY_ACQUIRE(true) { return mu_.try_lock(); }

  // Tells the analysis the calling thread holds the mutex (not checked at run time): for
  // code it cannot follow, such as a lambda called under the lock.
  void AssertHeld() const TW_ASSERT_CAPABILITY(this) {}

 private:
  std::mutex mu_;
};

// Holds a Mutex for its scope. Not copyable or movable.
class TW_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) TW_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() TW_RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// A capability that is not a lock but a role: "this code runs as the one thread that owns
// some state" (a component's worker thread). State only that thread touches is
// TW_GUARDED_BY(role); functions that run only there are TW_REQUIRES(role); the thread's
// main function, and code that runs while the thread does not exist yet or any more (before
// it starts, after it is joined), hold a ThreadRoleScope. Compile-time only: no run-time
// cost or check. Not copyable or movable.
class TW_CAPABILITY("role") ThreadRole {
 public:
  ThreadRole() = default;
  ThreadRole(const ThreadRole&) = delete;
  ThreadRole& operator=(const ThreadRole&) = delete;

  void Enter() TW_ACQUIRE() {}
  void Leave() TW_RELEASE() {}
};

// Holds a ThreadRole for its scope.
class TW_SCOPED_CAPABILITY ThreadRoleScope {
 public:
  explicit ThreadRoleScope(ThreadRole& role) TW_ACQUIRE(role) : role_(role) { role_.Enter(); }
  ~ThreadRoleScope() TW_RELEASE() { role_.Leave(); }
  ThreadRoleScope(const ThreadRoleScope&) = delete;
  ThreadRoleScope& operator=(const ThreadRoleScope&) = delete;

 private:
  ThreadRole& role_;
};

// A condition variable used with a Mutex the caller holds. Each wait releases the mutex
// while it sleeps and holds it again when it returns; it may return spuriously, so callers
// wait in a loop over their condition. Thread safety: Notify* from any thread, with or
// without the mutex.
class CondVar {
 public:
  void Wait(Mutex& mu) TW_REQUIRES(mu) { cv_.wait(mu); }

  // False when `deadline` passed (the caller checks its condition once more then).
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex& mu, std::chrono::time_point<Clock, Duration> deadline) TW_REQUIRES(mu) {
    return cv_.wait_until(mu, deadline) == std::cv_status::no_timeout;
  }

  // False when `timeout` passed.
  template <typename Rep, typename Period>
  bool WaitFor(Mutex& mu, std::chrono::duration<Rep, Period> timeout) TW_REQUIRES(mu) {
    return cv_.wait_for(mu, timeout) == std::cv_status::no_timeout;
  }

  // Waits until `ready()` holds or `stop` is requested; returns ready(). `ready` runs with
  // `mu` held.
  bool Wait(Mutex& mu, std::stop_token stop, const std::function<bool()>& ready) TW_REQUIRES(mu) {
    return cv_.wait(mu, std::move(stop), ready);
  }

  // As Wait, also ending at `deadline`.
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex& mu, std::stop_token stop, std::chrono::time_point<Clock, Duration> deadline,
                 const std::function<bool()>& ready) TW_REQUIRES(mu) {
    return cv_.wait_until(mu, std::move(stop), deadline, ready);
  }

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable_any cv_;
};

}  // namespace tidewater
