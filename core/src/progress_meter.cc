#include "tidewater/core/progress_meter.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace tidewater {
namespace {

constexpr auto kBarRedrawInterval = std::chrono::milliseconds(100);
constexpr int kBarWidth = 30;

// 42s, 3m07s, 2h05m
std::string Duration(double seconds) {
  const auto whole = static_cast<int64_t>(std::llround(std::max(seconds, 0.0)));
  char text[32];
  if (whole < 60) {
    std::snprintf(text, sizeof(text), "%llds", static_cast<long long>(whole));
  } else if (whole < 3600) {
    std::snprintf(text, sizeof(text), "%lldm%02llds", static_cast<long long>(whole / 60),
                  static_cast<long long>(whole % 60));
  } else {
    std::snprintf(text, sizeof(text), "%lldh%02lldm", static_cast<long long>(whole / 3600),
                  static_cast<long long>(whole / 60 % 60));
  }
  return text;
}

std::string Bar(uint64_t done, std::optional<uint64_t> total) {
  if (!total || *total == 0) return {};
  const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(*total));
  const int filled = static_cast<int>(fraction * kBarWidth);
  return "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] ";
}

}  // namespace

ProgressMeter::Style ProgressMeter::StyleFor(std::FILE* out) {
  return isatty(fileno(out)) ? Style::kBar : Style::kLines;
}

ProgressMeter ProgressMeter::ForStream(Options options, std::FILE* out, Style style) {
  auto write = [out, style](const std::string& text, bool final) {
    if (style == Style::kBar) {  // erase what a longer line left; end the line at the end
      std::fprintf(out, "\r%s\x1b[K%s", text.c_str(), final ? "\n" : "");
    } else {
      std::fprintf(out, "%s\n", text.c_str());
    }
    std::fflush(out);
  };
  return ProgressMeter(std::move(options), style, std::move(write));
}

ProgressMeter ProgressMeter::ForLines(Options options,
                                      std::function<void(const std::string&)> emit) {
  return ProgressMeter(std::move(options), Style::kLines,
                       [emit = std::move(emit)](const std::string& text, bool) { emit(text); });
}

ProgressMeter::ProgressMeter(Options options, Style style,
                             std::function<void(const std::string& text, bool final)> emit)
    : options_(std::move(options)),
      style_(style),
      emit_(std::move(emit)),
      started_(options_.clock->MonotonicNow()),
      last_emitted_(started_) {}

void ProgressMeter::Advance(uint64_t count) {
  done_ += count;
  Emit(false);
}

void ProgressMeter::SetTotal(uint64_t total) { options_.total = total; }

void ProgressMeter::Finish() {
  if (finished_) return;
  finished_ = true;
  Emit(true);
}

double ProgressMeter::ElapsedSeconds() const {
  return std::chrono::duration<double>(options_.clock->MonotonicNow() - started_).count();
}

std::string ProgressMeter::Summary() const {
  const std::string& unit = options_.unit;
  std::string text = std::to_string(done_);
  if (options_.total) {
    text += "/" + std::to_string(*options_.total) + " " + unit;
    if (*options_.total > 0) {
      const double percent =
          100.0 * static_cast<double>(done_) / static_cast<double>(*options_.total);
      char share[16];
      std::snprintf(share, sizeof(share), " (%.0f%%)", std::min(percent, 100.0));
      text += share;
    }
  } else {
    text += " " + unit;
  }
  const double elapsed = ElapsedSeconds();
  if (finished_) return text + " in " + Duration(elapsed);
  if (elapsed <= 0) return text;
  const double rate = static_cast<double>(done_) / elapsed;
  char per_second[48];
  std::snprintf(per_second, sizeof(per_second), ", %.0f %s/s", rate, unit.c_str());
  text += per_second;
  if (options_.total && rate > 0 && *options_.total > done_) {
    text += ", ETA " + Duration(static_cast<double>(*options_.total - done_) / rate);
  }
  return text;
}

void ProgressMeter::Emit(bool final) {
  const Clock::MonotonicTime now = options_.clock->MonotonicNow();
  const auto interval = style_ == Style::kBar ? std::chrono::milliseconds(kBarRedrawInterval)
                                              : options_.line_interval;
  if (!final && now - last_emitted_ < interval) return;
  last_emitted_ = now;
  const std::string prefix = options_.label.empty() ? "" : options_.label + ": ";
  emit_(prefix + (style_ == Style::kBar ? Bar(done_, options_.total) : "") + Summary(), final);
}

}  // namespace tidewater
