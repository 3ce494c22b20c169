// Private: the engine's hybrid-logical clock, which stamps every local write with a
// version above every version it has issued or observed (docs/REPLICATION.md).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>

#include "tidewater/core/clock.h"
#include "tidewater/v1/change_record.pb.h"

namespace tidewater {

// Thread-safe. The clock must outlive it.
class HybridClock {
 public:
  HybridClock(const Clock& clock, std::string region) : clock_(clock), region_(std::move(region)) {}

  // A new timestamp: above every earlier one, at least `at_least`, and at least now.
  uint64_t Next(uint64_t at_least) {
    const uint64_t now = static_cast<uint64_t>(clock_.NowMicros());
    uint64_t last = last_.load(std::memory_order_relaxed);
    uint64_t next;
    do {
      next = std::max({now, last + 1, at_least});
    } while (!last_.compare_exchange_weak(last, next, std::memory_order_relaxed));
    return next;
  }

  // The version of a local write replacing an item (or tombstone) of version `current`.
  v1::Version LocalVersion(const v1::Version& current) {
    v1::Version version;
    version.set_hlc_micros(Next(current.hlc_micros() + 1));
    version.set_region(region_);
    return version;
  }

  // The receive rule: later local writes stamp versions above `hlc_micros`.
  void Observe(uint64_t hlc_micros) { Next(hlc_micros); }

 private:
  const Clock& clock_;
  const std::string region_;
  std::atomic<uint64_t> last_{0};
};

}  // namespace tidewater
