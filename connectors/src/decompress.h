// Private: decompression into memory of the objects of a table import (ImportTable's
// InputCompressionType GZIP and ZSTD).
//
// Errors: ValidationException when the data is not what it should be (not gzip or zstd,
// corrupt, truncated, or larger than the limit once decompressed); InternalServerError
// when the library cannot start. The output grows geometrically from a guess and never
// past one byte over the limit, so a small object that decompresses to a huge one (a
// "decompression bomb") fails after at most `max_output_bytes` of memory.
//
// Functions of their arguments only; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tidewater/core/status.h"

namespace tidewater {

// The largest object an import decompresses by default (4 GiB): the whole object is held
// in memory, decompressed, while its records are read.
inline constexpr size_t kMaxDecompressedBytes = size_t{4} << 30;

// The bytes of gzip data (RFC 1952): one member, or several one after the other (as
// `cat a.gz b.gz` and parallel compressors write them), decompressed in order. Anything
// after a member that is not another member is corrupt data; empty input is truncated.
Result<std::string> Gunzip(std::string_view compressed,
                           size_t max_output_bytes = kMaxDecompressedBytes);

// The bytes of zstd data (RFC 8878): one frame or several one after the other, with or
// without their content size in the header (streamed output does not have it); skippable
// frames are skipped. Empty input is truncated. Frames whose window is over zstd's default
// decoding limit (128 MiB) are refused, bounding the decoder's own memory.
Result<std::string> Unzstd(std::string_view compressed,
                           size_t max_output_bytes = kMaxDecompressedBytes);

}  // namespace tidewater
