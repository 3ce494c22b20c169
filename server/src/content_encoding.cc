#include "content_encoding.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace tidewater::server {
namespace {

// zlib's windowBits: 15 (the largest window) plus 16 to read gzip framing.
constexpr int kZlibWindow = 15;
constexpr int kGzipWindow = 15 + 16;

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

Status Corrupt(std::string_view encoding) {
  return Status::Internal("The request body could not be decoded as " + std::string(encoding));
}

Status TooLarge(size_t max_decoded_bytes) {
  return Status::Validation("Request body exceeds the maximum allowed size of " +
                            std::to_string(max_decoded_bytes) + " bytes");
}

// Inflates `body`: one zlib stream, or (gzip) one or more gzip members back to back.
Status Inflate(std::string_view body, bool gzip, size_t max_decoded_bytes, std::string* decoded) {
  const std::string_view name = gzip ? "gzip" : "deflate";
  if (body.empty()) return Corrupt(name);
  z_stream stream{};
  if (inflateInit2(&stream, gzip ? kGzipWindow : kZlibWindow) != Z_OK) {
    return Status::Internal("cannot initialize zlib");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  std::array<char, 64 * 1024> chunk;
  Status status;
  while (true) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    const int result = inflate(&stream, Z_NO_FLUSH);
    const size_t produced = chunk.size() - stream.avail_out;
    if (decoded->size() + produced > max_decoded_bytes) {
      status = TooLarge(max_decoded_bytes);
      break;
    }
    decoded->append(chunk.data(), produced);
    if (result == Z_STREAM_END) {
      if (stream.avail_in == 0) break;
      // More input after the end of a stream: the next gzip member, or junk.
      if (!gzip || inflateReset(&stream) != Z_OK) {
        status = Corrupt(name);
        break;
      }
      continue;
    }
    // Z_BUF_ERROR: no progress possible, the input ended inside a stream. With Z_OK, a
    // chunk not filled means the same: inflate stops only on full output or no input.
    if (result != Z_OK || (stream.avail_in == 0 && stream.avail_out != 0)) {
      status = Corrupt(name);
      break;
    }
  }
  inflateEnd(&stream);
  return status;
}

}  // namespace

Status DecodeBody(std::string_view encoding, size_t max_decoded_bytes, std::string& body) {
  encoding = Trimmed(encoding);
  if (encoding.empty() || EqualsIgnoringCase(encoding, "identity")) return Status::Ok();
  const bool gzip = EqualsIgnoringCase(encoding, "gzip");
  if (!gzip && !EqualsIgnoringCase(encoding, "deflate")) {
    return Status::Internal("Unsupported Content-Encoding: " + std::string(encoding));
  }
  std::string decoded;
  TW_RETURN_IF_ERROR(Inflate(body, gzip, max_decoded_bytes, &decoded));
  body = std::move(decoded);
  return Status::Ok();
}

}  // namespace tidewater::server
