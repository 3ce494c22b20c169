// Request bodies with a Content-Encoding: gzip (one or more members) and deflate (zlib)
// are decoded; unknown encodings, corrupt input and oversized output are refused.
#include "content_encoding.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace tidewater::server {
namespace {

// `text` compressed with zlib: windowBits 15 gives the zlib format, 15 + 16 gzip.
std::string Compress(std::string_view text, int window_bits) {
  z_stream stream{};
  EXPECT_EQ(
      deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  std::string out(deflateBound(&stream, text.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string Gzip(std::string_view text) { return Compress(text, 15 + 16); }
std::string Zlib(std::string_view text) { return Compress(text, 15); }

constexpr size_t kLimit = 1 << 20;
constexpr std::string_view kBody = R"({"TableName":"t","Item":{"pk":{"S":"x"}}})";

// `body` decoded as `encoding`.
Result<std::string> Decode(std::string_view encoding, std::string body, size_t limit = kLimit) {
  TW_RETURN_IF_ERROR(DecodeBody(encoding, limit, body));
  return body;
}

TEST(ContentEncodingTest, IdentityIsTheBodyAsSent) {
  for (std::string_view encoding : {"", "identity", "IDENTITY"}) {
    auto decoded = Decode(encoding, std::string(kBody));
    ASSERT_TRUE(decoded.ok()) << encoding;
    EXPECT_EQ(*decoded, kBody);
  }
}

TEST(ContentEncodingTest, GzipAndDeflateAreDecoded) {
  const std::pair<std::string_view, std::string> cases[] = {
      {"gzip", Gzip(kBody)}, {" GZip ", Gzip(kBody)}, {"deflate", Zlib(kBody)}};
  for (const auto& [encoding, body] : cases) {
    auto decoded = Decode(encoding, body);
    ASSERT_TRUE(decoded.ok()) << encoding << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, kBody);
  }
}

TEST(ContentEncodingTest, LargeBodiesSpanManyChunks) {
  std::string text;
  for (int i = 0; text.size() < 300 * 1024; ++i) text += std::to_string(i * 7919) + ",";
  auto decoded = Decode("gzip", Gzip(text));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, text);
}

TEST(ContentEncodingTest, ConcatenatedGzipMembersAreOneBody) {
  auto decoded = Decode("gzip", Gzip(kBody.substr(0, 10)) + Gzip(kBody.substr(10)));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, kBody);
}

TEST(ContentEncodingTest, CorruptInputAndUnknownEncodingsAreInternalErrors) {
  const std::string gzip = Gzip(kBody);
  const std::pair<std::string_view, std::string> cases[] = {
      {"gzip", std::string(kBody)},               // not compressed at all
      {"gzip", ""},                               // empty
      {"gzip", gzip.substr(0, gzip.size() - 1)},  // truncated
      {"gzip", gzip + "junk"},                    // trailing bytes
      {"deflate", Gzip(kBody)},                   // gzip framing where zlib is expected
      {"br", std::string(kBody)},                 // unknown
      {"gzip, deflate", std::string(kBody)},      // stacked encodings are not supported
  };
  for (const auto& [encoding, body] : cases) {
    EXPECT_EQ(Decode(encoding, body).status().code(), ErrorCode::kInternal)
        << encoding << " " << body.size();
  }
}

TEST(ContentEncodingTest, DecodedSizeIsLimited) {
  const std::string spaces(2 * kLimit, ' ');
  auto too_large = Decode("gzip", Gzip(spaces));
  EXPECT_EQ(too_large.status().code(), ErrorCode::kValidation);
  EXPECT_EQ(too_large.status().message(),
            "Request body exceeds the maximum allowed size of 1048576 bytes");
  auto at_limit = Decode("gzip", Gzip(spaces.substr(0, kLimit)));
  ASSERT_TRUE(at_limit.ok());
  EXPECT_EQ(at_limit->size(), kLimit);
}

}  // namespace
}  // namespace tidewater::server
