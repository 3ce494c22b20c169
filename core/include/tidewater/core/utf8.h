// UTF-8 well-formedness, as Unicode defines it: no overlong forms, no surrogates, nothing
// past U+10FFFF. Pure functions: thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace tidewater {

// The length (1 to 4) of the well-formed UTF-8 sequence at text[i] (i < text.size()), or 0
// when there is none there.
size_t Utf8SequenceLength(std::string_view text, size_t i);

// Whether all of `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

}  // namespace tidewater
