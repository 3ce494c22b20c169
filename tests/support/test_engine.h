// Engine options for a test that drives the engine itself: its data directory and clock,
// and no background threads (tests call RunTtlSweep / TrimStreams / RecoverStorage when they
// need them).
#pragma once

#include <string>
#include <utility>

#include "tidewater/core/engine.h"

namespace tidewater::testing {

inline EngineOptions TestEngineOptions(std::string data_dir, Clock* clock = Clock::System()) {
  EngineOptions options;
  options.data_dir = std::move(data_dir);
  options.clock = clock;
  options.ttl_sweep_interval_micros = 0;
  options.retention_interval_micros = 0;
  options.storage_recovery_interval_micros = 0;
  return options;
}

}  // namespace tidewater::testing
