// UTF-8 well-formedness: FirstInvalidUtf8 finds the first bad byte wherever it falls
// relative to its eight-byte ASCII steps, and agrees with Utf8SequenceLength.
#include "tidewater/core/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace tidewater {
namespace {

constexpr size_t kValid = std::string_view::npos;

TEST(Utf8Test, WellFormedTextHasNoInvalidByte) {
  EXPECT_EQ(FirstInvalidUtf8(""), kValid);
  EXPECT_EQ(FirstInvalidUtf8("plain ASCII, longer than one eight-byte step"), kValid);
  EXPECT_EQ(FirstInvalidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8C\x8A end"), kValid);
  EXPECT_EQ(FirstInvalidUtf8("\xF4\x8F\xBF\xBF"), kValid);  // U+10FFFF, the last code point
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));                 // U+D7FF, just below surrogates
}

TEST(Utf8Test, IllFormedSequencesAreRejected) {
  EXPECT_EQ(FirstInvalidUtf8("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(FirstInvalidUtf8("\xE0\x80\xAF"), 0u);      // overlong, 3 bytes
  EXPECT_EQ(FirstInvalidUtf8("\xED\xA0\x80"), 0u);      // a surrogate (U+D800)
  EXPECT_EQ(FirstInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(FirstInvalidUtf8("\xFF"), 0u);              // never a lead byte
  EXPECT_EQ(FirstInvalidUtf8("ab\x80"), 2u);            // a lone continuation byte
  EXPECT_EQ(FirstInvalidUtf8("ab\xE2\x82"), 2u);        // cut short by the end
  EXPECT_EQ(FirstInvalidUtf8("\xC3\xA9\xC3("), 2u);     // cut short by ASCII
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x8C"));
}

// The bad byte at every offset of a 40-byte ASCII run: in a full eight-byte step, at its
// edges, and in the tail shorter than a step.
TEST(Utf8Test, TheOffsetIsExactAtEveryPositionOfAnAsciiRun) {
  for (size_t bad = 0; bad < 40; ++bad) {
    std::string text(40, 'a');
    text[bad] = '\xFE';
    EXPECT_EQ(FirstInvalidUtf8(text), bad) << "bad byte at " << bad;
    text[bad] = '\xC3';  // a valid two-byte sequence from here on, when it fits
    if (bad + 1 < text.size()) {
      text[bad + 1] = '\xA9';
      EXPECT_EQ(FirstInvalidUtf8(text), kValid) << "sequence at " << bad;
    } else {
      EXPECT_EQ(FirstInvalidUtf8(text), bad) << "truncated sequence at " << bad;
    }
  }
}

}  // namespace
}  // namespace tidewater
