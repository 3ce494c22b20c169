// ProgressMeter: how far a long operation is (a table copy, a catch-up, a verification):
// what is done, of a total when known, the average rate since the start and the time left
// at that rate.
//
// Output styles:
//  * kBar: one line redrawn in place (carriage return), at most ten times a second, for a
//    terminal; Finish() ends it with a newline.
//  * kLines: a whole line at most every `line_interval`, for pipes, files and logs.
// Finish() always emits the final state once.
//
// Thread safety: none; one thread advances a meter. Owns nothing it is given but the
// callback; a FILE* given to ForStream must outlive the meter.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "tidewater/core/clock.h"

namespace tidewater {

class ProgressMeter {
 public:
  enum class Style { kBar, kLines };

  struct Options {
    std::string label;  // what is going on: "copying orders"
    std::string unit;   // what is counted: "items"
    std::optional<uint64_t> total;
    const Clock* clock = Clock::System();
    std::chrono::milliseconds line_interval{10'000};
  };

  // kBar when `out` is a terminal, kLines otherwise.
  static Style StyleFor(std::FILE* out);
  // Writes to `out` in `style`.
  static ProgressMeter ForStream(Options options, std::FILE* out, Style style);
  // Hands each line (kLines) to `emit`, e.g. a logger.
  static ProgressMeter ForLines(Options options, std::function<void(const std::string&)> emit);

  void Advance(uint64_t count);
  void SetTotal(uint64_t total);
  // Emits the final state (a newline ends a bar). Later calls do nothing.
  void Finish();

  uint64_t done() const { return done_; }
  // "1200/10000 items (12%), 350 items/s, ETA 25s"; without a total
  // "1200 items, 350 items/s"; once finished "... in 3.4s".
  std::string Summary() const;

 private:
  ProgressMeter(Options options, Style style,
                std::function<void(const std::string& text, bool final)> emit);
  void Emit(bool final);
  double ElapsedSeconds() const;

  Options options_;
  Style style_;
  std::function<void(const std::string& text, bool final)> emit_;
  Clock::MonotonicTime started_;
  Clock::MonotonicTime last_emitted_;
  bool finished_ = false;
  uint64_t done_ = 0;
};

}  // namespace tidewater
