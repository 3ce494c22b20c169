// Private: gzip compression into memory (zlib's gzip framing), for the table export's data
// files.
//
// Not thread-safe: one writer per file, on one thread. Not movable (zlib's stream state
// points back at the stream), hence Create's unique_ptr.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tidewater/core/status.h"

namespace tidewater::connectors {

class GzipWriter {
 public:
  // A gzip member at zlib's default compression level; Internal when zlib cannot start.
  static Result<std::unique_ptr<GzipWriter>> Create();
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  // Compresses `data` (appending it to what was written before).
  Status Write(std::string_view data);
  // Ends the gzip member and hands over the compressed bytes; the writer is spent after.
  Result<std::string> Finish();

  // Uncompressed bytes written so far.
  uint64_t bytes_in() const { return bytes_in_; }

 private:
  GzipWriter() = default;
  Status Deflate(int flush);

  z_stream stream_{};
  bool initialized_ = false;
  bool finished_ = false;
  uint64_t bytes_in_ = 0;
  std::string out_;
};

}  // namespace tidewater::connectors
