// ProgressMeter: what it prints and when, under a manual clock.
#include "tidewater/core/progress_meter.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace tidewater {
namespace {

using std::chrono::milliseconds;

ProgressMeter::Options CopyOptions(const Clock* clock, std::optional<uint64_t> total) {
  return {.label = "copying orders",
          .unit = "items",
          .total = total,
          .clock = clock,
          .line_interval = milliseconds(10'000)};
}

TEST(ProgressMeterTest, LinesComeAtMostEveryIntervalWithRateAndTimeLeft) {
  ManualClock clock;
  std::vector<std::string> lines;
  auto meter = ProgressMeter::ForLines(CopyOptions(&clock, 1000),
                                       [&](const std::string& line) { lines.push_back(line); });
  clock.AdvanceSeconds(4);
  meter.Advance(100);  // 4 s after the start: too early for a line
  EXPECT_TRUE(lines.empty());
  clock.AdvanceSeconds(6);
  meter.Advance(100);  // 10 s: 200 items, 20 items/s, 800 left = 40 s
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "copying orders: 200/1000 items (20%), 20 items/s, ETA 40s");
  clock.AdvanceSeconds(5);
  meter.Advance(100);
  EXPECT_EQ(lines.size(), 1u);
  clock.AdvanceSeconds(185);
  meter.Advance(200);  // 200 s: 500 items, 2.5/s, 500 left = 200 s
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "copying orders: 500/1000 items (50%), 2 items/s, ETA 3m20s");
  meter.Finish();
  meter.Finish();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], "copying orders: 500/1000 items (50%) in 3m20s");
}

TEST(ProgressMeterTest, WithoutATotalThereIsNoShareAndNoTimeLeft) {
  ManualClock clock;
  auto meter =
      ProgressMeter::ForLines(CopyOptions(&clock, std::nullopt), [](const std::string&) {});
  clock.AdvanceSeconds(2);
  meter.Advance(7);
  EXPECT_EQ(meter.Summary(), "7 items, 4 items/s");
  meter.SetTotal(14);
  EXPECT_EQ(meter.Summary(), "7/14 items (50%), 4 items/s, ETA 2s");
}

TEST(ProgressMeterTest, BarIsRedrawnInPlaceAndEndsWithANewline) {
  ManualClock clock;
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(ProgressMeter::StyleFor(out), ProgressMeter::Style::kLines);  // a file
  auto meter = ProgressMeter::ForStream(CopyOptions(&clock, 10), out, ProgressMeter::Style::kBar);
  clock.AdvanceSeconds(1);
  meter.Advance(5);
  meter.Advance(1);  // within a tenth of a second: not redrawn
  clock.AdvanceSeconds(1);
  meter.Advance(4);
  meter.Finish();
  std::rewind(out);
  std::string written;
  for (int c = std::fgetc(out); c != EOF; c = std::fgetc(out)) written += static_cast<char>(c);
  std::fclose(out);
  EXPECT_EQ(written,
            "\rcopying orders: [###############...............] 5/10 items (50%), 5 items/s, "
            "ETA 1s\x1b[K"
            "\rcopying orders: [##############################] 10/10 items (100%), 5 items/s\x1b[K"
            "\rcopying orders: [##############################] 10/10 items (100%) in 2s\x1b[K\n");
}

}  // namespace
}  // namespace tidewater
