// Named failure points: places in the code where a test can stop the process (SIGKILL,
// abort) or make the step fail, at an exact step, to check what a restart recovers.
//
//   TW_FAILURE_POINT("publisher.after_ack");            // may kill or abort the process
//   TW_RETURN_IF_FAILURE_POINT("postgres_sink.before_commit");  // may also return an
//                                                       // injected Status from the function
//
// The macros compile to nothing unless the build defines TIDEWATER_FAILURE_POINTS=1 (the CMake
// option of the same name: on in every build type except Release). Compiled in and not
// armed, a point costs one relaxed atomic load.
//
// Arming. From the environment, read once when the first point is reached:
//   TIDEWATER_FAILURE_POINTS="NAME=ACTION[@N][,NAME=ACTION[@N]...]"
//   e.g. TIDEWATER_FAILURE_POINTS="publisher.after_ack=kill@3"
// ACTION is kill (SIGKILL the own process), abort (std::abort) or error (the function
// returns Status::Internal("failure point NAME"); at a TW_FAILURE_POINT, which cannot
// return, error does nothing). The action fires once, on the N-th time (default 1st) the
// point is reached after arming; later hits only count. A malformed variable aborts the
// process with a message (a typo must not silently disarm a test). Before a kill or an
// abort, "event=failure_point name=NAME action=ACTION hit=N" is written to stderr.
// In-process (unit tests): ArmFailurePoint / ScopedFailurePoint, below.
//
// Thread safety: every function and macro may be called from any thread. Points are
// matched by exact name; names are "<component>.<step>", e.g. "replicator.after_apply".
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "tidewater/core/status.h"

namespace tidewater {

// Whether this build compiles failure points in (tests that rely on them skip otherwise).
#if defined(TIDEWATER_FAILURE_POINTS) && TIDEWATER_FAILURE_POINTS
inline constexpr bool kFailurePointsCompiledIn = true;
#else
inline constexpr bool kFailurePointsCompiledIn = false;
#endif

enum class FailureAction { kKill, kAbort, kError };

// Arms `name` with `action`, to fire on its `on_hit`-th hit from now (1: the next one).
// Replaces an earlier arming of the same name and restarts its hit count.
void ArmFailurePoint(std::string_view name, FailureAction action, uint64_t on_hit = 1);
// Arms every point of a spec in the environment variable's syntax; Validation if malformed
// (then nothing is armed).
Status ArmFailurePoints(std::string_view spec);
void DisarmFailurePoint(std::string_view name);
void DisarmAllFailurePoints();
// How many times `name` was reached since it was armed (0 when not armed).
uint64_t FailurePointHits(std::string_view name);

// Arms a point for the lifetime of the object (a unit test's scope).
class ScopedFailurePoint {
 public:
  ScopedFailurePoint(std::string name, FailureAction action, uint64_t on_hit = 1)
      : name_(std::move(name)) {
    ArmFailurePoint(name_, action, on_hit);
  }
  ~ScopedFailurePoint() { DisarmFailurePoint(name_); }
  ScopedFailurePoint(const ScopedFailurePoint&) = delete;
  ScopedFailurePoint& operator=(const ScopedFailurePoint&) = delete;

  uint64_t hits() const { return FailurePointHits(name_); }

 private:
  std::string name_;
};

namespace failure_point_internal {

// 0: nothing armed. Starts non-zero so that the first hit reads the environment.
extern std::atomic<int> g_attention;
// Counts the hit and fires the action if due; the injected error (ok otherwise).
Status Hit(std::string_view name);

inline bool Armed() { return g_attention.load(std::memory_order_relaxed) != 0; }

}  // namespace failure_point_internal
}  // namespace tidewater

#if defined(TIDEWATER_FAILURE_POINTS) && TIDEWATER_FAILURE_POINTS
#define TW_FAILURE_POINT(name)                              \
  do {                                                      \
    if (::tidewater::failure_point_internal::Armed()) {     \
      (void)::tidewater::failure_point_internal::Hit(name); \
    }                                                       \
  } while (0)
// In a function returning Status or Result<T>: returns the injected error of an `error`
// arming.
#define TW_RETURN_IF_FAILURE_POINT(name)                                   \
  do {                                                                     \
    if (::tidewater::failure_point_internal::Armed()) {                    \
      ::tidewater::Status tw_failure_point_status_ =                       \
          ::tidewater::failure_point_internal::Hit(name);                  \
      if (!tw_failure_point_status_.ok()) return tw_failure_point_status_; \
    }                                                                      \
  } while (0)
#else
#define TW_FAILURE_POINT(name) \
  do {                         \
  } while (0)
#define TW_RETURN_IF_FAILURE_POINT(name) \
  do {                                   \
  } while (0)
#endif
