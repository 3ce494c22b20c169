#include "gzip_writer.h"

#include <algorithm>
#include <utility>

namespace tidewater::connectors {
namespace {

// 15 bits of window, plus 16: a gzip header and trailer instead of zlib's.
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kMemLevel = 8;
constexpr size_t kOutputChunk = 64 * 1024;
// zlib counts in uInt: feed larger inputs in pieces.
constexpr size_t kMaxInputChunk = size_t{1} << 30;

std::string ZlibError(const z_stream& stream, int code) {
  std::string text = "gzip: zlib error " + std::to_string(code);
  if (stream.msg != nullptr) text += std::string(": ") + stream.msg;
  return text;
}

}  // namespace

Result<std::unique_ptr<GzipWriter>> GzipWriter::Create() {
  std::unique_ptr<GzipWriter> writer(new GzipWriter());
  const int code = deflateInit2(&writer->stream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                                kGzipWindowBits, kMemLevel, Z_DEFAULT_STRATEGY);
  if (code != Z_OK) return Status::Internal(ZlibError(writer->stream_, code));
  writer->initialized_ = true;
  return Result<std::unique_ptr<GzipWriter>>(std::move(writer));
}

GzipWriter::~GzipWriter() {
  if (initialized_) deflateEnd(&stream_);
}

Status GzipWriter::Deflate(int flush) {
  // Run deflate until it has taken all the input (Z_NO_FLUSH) or ended the member
  // (Z_FINISH), growing the output as it fills.
  for (;;) {
    const size_t used = out_.size();
    out_.resize(used + kOutputChunk);
    stream_.next_out = reinterpret_cast<Bytef*>(out_.data() + used);
    stream_.avail_out = static_cast<uInt>(kOutputChunk);
    const int code = deflate(&stream_, flush);
    out_.resize(used + kOutputChunk - stream_.avail_out);
    if (code == Z_STREAM_ERROR) return Status::Internal(ZlibError(stream_, code));
    if (flush == Z_FINISH) {
      if (code == Z_STREAM_END) return Status::Ok();
      if (code != Z_OK && code != Z_BUF_ERROR) return Status::Internal(ZlibError(stream_, code));
      continue;
    }
    // Output space left over means deflate consumed everything it was given.
    if (stream_.avail_out != 0) return Status::Ok();
  }
}

Status GzipWriter::Write(std::string_view data) {
  if (finished_) return Status::Internal("gzip: write after the member ended");
  while (!data.empty()) {
    const size_t piece = std::min(data.size(), kMaxInputChunk);
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream_.avail_in = static_cast<uInt>(piece);
    TW_RETURN_IF_ERROR(Deflate(Z_NO_FLUSH));
    if (stream_.avail_in != 0) return Status::Internal("gzip: deflate left input unconsumed");
    bytes_in_ += piece;
    data.remove_prefix(piece);
  }
  return Status::Ok();
}

Result<std::string> GzipWriter::Finish() {
  if (finished_) return Status::Internal("gzip: the member already ended");
  finished_ = true;
  stream_.next_in = nullptr;
  stream_.avail_in = 0;
  TW_RETURN_IF_ERROR(Deflate(Z_FINISH));
  return std::move(out_);
}

}  // namespace tidewater::connectors
