#include "starting_time.h"

#include <chrono>
#include <optional>
#include <string>

namespace tidewater::cli {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

// Reads exactly `digits` decimal digits from the front of `text`.
std::optional<int> TakeDigits(std::string_view& text, size_t digits) {
  if (text.size() < digits) return std::nullopt;
  int value = 0;
  for (size_t i = 0; i < digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  text.remove_prefix(digits);
  return value;
}

bool TakeChar(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) return false;
  text.remove_prefix(1);
  return true;
}

// ".ddd" (1..9 digits) as micro-seconds; 0 when there is no fraction; nullopt when malformed.
std::optional<int64_t> TakeFraction(std::string_view& text) {
  if (!TakeChar(text, '.')) return 0;
  size_t digits = 0;
  int64_t micros = 0;
  while (!text.empty() && text.front() >= '0' && text.front() <= '9') {
    if (digits < 6) micros = micros * 10 + (text.front() - '0');
    ++digits;
    text.remove_prefix(1);
  }
  if (digits == 0 || digits > 9) return std::nullopt;
  for (size_t i = digits; i < 6; ++i) micros *= 10;
  return micros;
}

std::optional<int64_t> EpochSeconds(std::string_view text) {
  const bool negative = TakeChar(text, '-');
  int64_t seconds = 0;
  size_t digits = 0;
  while (!text.empty() && text.front() >= '0' && text.front() <= '9') {
    seconds = seconds * 10 + (text.front() - '0');
    if (++digits > 12) return std::nullopt;  // beyond year 33000
    text.remove_prefix(1);
  }
  if (digits == 0) return std::nullopt;
  std::optional<int64_t> fraction = TakeFraction(text);
  if (!fraction || !text.empty()) return std::nullopt;
  const int64_t micros = seconds * kMicrosPerSecond + *fraction;
  return negative ? -micros : micros;
}

std::optional<int64_t> IsoDateTime(std::string_view text) {
  auto year = TakeDigits(text, 4);
  if (!year || !TakeChar(text, '-')) return std::nullopt;
  auto month = TakeDigits(text, 2);
  if (!month || !TakeChar(text, '-')) return std::nullopt;
  auto day = TakeDigits(text, 2);
  if (!day || !(TakeChar(text, 'T') || TakeChar(text, 't'))) return std::nullopt;
  auto hour = TakeDigits(text, 2);
  if (!hour || !TakeChar(text, ':')) return std::nullopt;
  auto minute = TakeDigits(text, 2);
  if (!minute || !TakeChar(text, ':')) return std::nullopt;
  auto second = TakeDigits(text, 2);
  if (!second) return std::nullopt;
  std::optional<int64_t> fraction = TakeFraction(text);
  if (!fraction) return std::nullopt;
  int64_t offset_minutes = 0;
  if (!(TakeChar(text, 'Z') || TakeChar(text, 'z'))) {
    const bool west = !text.empty() && text.front() == '-';
    if (!TakeChar(text, '+') && !TakeChar(text, '-')) return std::nullopt;
    auto offset_hours = TakeDigits(text, 2);
    if (!offset_hours || !TakeChar(text, ':')) return std::nullopt;
    auto offset_rest = TakeDigits(text, 2);
    if (!offset_rest || *offset_hours > 23 || *offset_rest > 59) return std::nullopt;
    offset_minutes = (*offset_hours * 60 + *offset_rest) * (west ? -1 : 1);
  }
  if (!text.empty()) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const int64_t seconds =
      days * 86'400 + *hour * 3600 + *minute * 60 + *second - offset_minutes * 60;
  return seconds * kMicrosPerSecond + *fraction;
}

}  // namespace

Result<int64_t> ParseStartingTime(std::string_view text) {
  std::optional<int64_t> micros =
      text.find('T') != std::string_view::npos || text.find('t') != std::string_view::npos
          ? IsoDateTime(text)
          : EpochSeconds(text);
  if (!micros) {
    return Status::Validation("\"" + std::string(text) +
                              "\" is not a time: give seconds since the epoch or an ISO-8601 "
                              "date and time with its offset, e.g. 2024-12-04T23:10:00Z");
  }
  return *micros;
}

}  // namespace tidewater::cli
