// UTF-8 well-formedness, as Unicode defines it: no overlong forms, no surrogates, nothing
// past U+10FFFF. Pure functions: thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace tidewater {

// The length (1 to 4) of the well-formed UTF-8 sequence at text[i] (i < text.size()), or 0
// when there is none there.
size_t Utf8SequenceLength(std::string_view text, size_t i);

// The offset of the first byte of `text` that does not start a well-formed UTF-8
// sequence, or std::string_view::npos when all of it is well-formed. Runs of ASCII are
// checked eight bytes at a time.
size_t FirstInvalidUtf8(std::string_view text);

// Whether all of `text` is well-formed UTF-8.
inline bool IsValidUtf8(std::string_view text) {
  return FirstInvalidUtf8(text) == std::string_view::npos;
}

}  // namespace tidewater
