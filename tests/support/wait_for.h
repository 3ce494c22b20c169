// Waiting for a condition in a test: instead of a fixed sleep that hopes a state was
// reached, poll the state until it holds, with a generous deadline that only a failure
// reaches.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace tidewater::testing {

// Calls `done` every `interval` (real time) until it returns true; a failure after
// `timeout`. Use as ASSERT_TRUE(WaitFor([&] { ... })) << what was expected;
template <typename Predicate>
::testing::AssertionResult WaitFor(
    Predicate done, std::chrono::milliseconds timeout = std::chrono::seconds(20),
    std::chrono::milliseconds interval = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return ::testing::AssertionFailure()
             << "the condition did not hold within " << timeout.count() << " ms";
    }
    std::this_thread::sleep_for(interval);
  }
  return ::testing::AssertionSuccess();
}

// The time left until `deadline` (zero once it passed): for waits that share one deadline.
inline std::chrono::milliseconds Remaining(std::chrono::steady_clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now()));
}

}  // namespace tidewater::testing
