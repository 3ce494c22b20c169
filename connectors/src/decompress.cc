#include "decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>

namespace tidewater {
namespace {

// 15 bits of window, plus 16: a gzip header and trailer (not zlib's, not raw deflate).
constexpr int kGzipWindowBits = 15 + 16;
// zlib counts in uInt: at most this much input or output per call.
constexpr size_t kMaxZlibChunk = size_t{1} << 30;
// The first output buffer: four times the input, within these bounds.
constexpr size_t kMinInitialOutput = size_t{64} << 10;
constexpr size_t kMaxInitialOutput = size_t{64} << 20;

// A buffer decompressed into that doubles when full, up to one byte past the limit: a
// decompressor that fills that byte has more than the limit to give.
class BoundedOutput {
 public:
  BoundedOutput(size_t input_size, size_t limit)
      : limit_(std::min(limit, std::numeric_limits<size_t>::max() - 1)), ceiling_(limit_ + 1) {
    const size_t guess = input_size > kMaxInitialOutput / 4
                             ? kMaxInitialOutput
                             : std::max(kMinInitialOutput, input_size * 4);
    buffer_.resize(std::min(ceiling_, guess));
  }

  // Grows the buffer when it is full, so that free_size() is not 0. Only while
  // !over_limit(): the buffer is then below its ceiling.
  void MakeRoom() {
    if (used_ < buffer_.size()) return;
    buffer_.resize(buffer_.size() + std::min(buffer_.size(), ceiling_ - buffer_.size()));
  }
  char* free_space() { return buffer_.data() + used_; }
  size_t free_size() const { return buffer_.size() - used_; }
  void Commit(size_t written) { used_ += written; }
  bool over_limit() const { return used_ > limit_; }
  std::string Take() {
    buffer_.resize(used_);
    return std::move(buffer_);
  }

 private:
  const size_t limit_;
  const size_t ceiling_;
  std::string buffer_;
  size_t used_ = 0;
};

Status TooLarge(std::string_view format, size_t limit) {
  return Status::Validation(std::string(format) + ": the data decompresses to more than " +
                            std::to_string(limit) + " bytes");
}

std::string ZlibError(std::string_view what, const z_stream& stream, int code) {
  std::string text = "gzip: " + std::string(what);
  if (stream.msg != nullptr) return text + " (" + stream.msg + ")";
  return text + " (zlib error " + std::to_string(code) + ")";
}

struct EndInflate {
  void operator()(z_stream* stream) const { inflateEnd(stream); }
};

struct FreeDecompressionContext {
  void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
};

}  // namespace

Result<std::string> Gunzip(std::string_view compressed, size_t max_output_bytes) {
  z_stream stream{};
  const int started = inflateInit2(&stream, kGzipWindowBits);
  if (started != Z_OK) return Status::Internal(ZlibError("zlib cannot start", stream, started));
  const std::unique_ptr<z_stream, EndInflate> end_stream(&stream);
  BoundedOutput output(compressed.size(), max_output_bytes);
  size_t fed = 0;  // bytes of `compressed` handed to zlib so far
  for (;;) {
    if (stream.avail_in == 0 && fed < compressed.size()) {
      const size_t piece = std::min(compressed.size() - fed, kMaxZlibChunk);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + fed));
      stream.avail_in = static_cast<uInt>(piece);
      fed += piece;
    }
    output.MakeRoom();
    const size_t room = std::min(output.free_size(), kMaxZlibChunk);
    stream.next_out = reinterpret_cast<Bytef*>(output.free_space());
    stream.avail_out = static_cast<uInt>(room);
    const int code = inflate(&stream, Z_NO_FLUSH);
    output.Commit(room - stream.avail_out);
    if (output.over_limit()) return TooLarge("gzip", max_output_bytes);
    switch (code) {
      case Z_OK:
        break;
      case Z_STREAM_END:
        if (stream.avail_in == 0 && fed == compressed.size()) return output.Take();
        // RFC 1952 2.2: "A gzip file consists of a series of members": the next one.
        if (inflateReset(&stream) != Z_OK) {
          return Status::Internal(ZlibError("zlib cannot restart", stream, Z_STREAM_ERROR));
        }
        break;
      case Z_BUF_ERROR:
        // No progress although there was room for output: the input ended mid-member.
        return Status::Validation("gzip: the data is truncated");
      case Z_MEM_ERROR:
        return Status::Internal(ZlibError("out of memory", stream, code));
      default:
        return Status::Validation(ZlibError("corrupt data", stream, code));
    }
  }
}

Result<std::string> Unzstd(std::string_view compressed, size_t max_output_bytes) {
  const std::unique_ptr<ZSTD_DCtx, FreeDecompressionContext> context(ZSTD_createDCtx());
  if (context == nullptr) return Status::Internal("zstd: cannot create a decompression context");
  BoundedOutput output(compressed.size(), max_output_bytes);
  ZSTD_inBuffer input{compressed.data(), compressed.size(), 0};
  for (;;) {
    output.MakeRoom();
    ZSTD_outBuffer out{output.free_space(), output.free_size(), 0};
    const size_t hint = ZSTD_decompressStream(context.get(), &out, &input);
    if (ZSTD_isError(hint)) {
      return Status::Validation(std::string("zstd: corrupt data (") + ZSTD_getErrorName(hint) +
                                ")");
    }
    output.Commit(out.pos);
    if (output.over_limit()) return TooLarge("zstd", max_output_bytes);
    const bool input_left = input.pos < input.size;
    // 0: a frame has ended and all of it is in the output; more input is another frame.
    if (hint == 0 && !input_left) return output.Take();
    // Room left over means the decoder gave all it could: it waits for input there is not.
    if (!input_left && out.pos < out.size) return Status::Validation("zstd: the data is truncated");
  }
}

}  // namespace tidewater
