#include "shard_iterator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tidewater/streams/resource_names.h"

namespace tidewater::server {

using streams::StreamArn;
namespace {

constexpr uint8_t kFormatVersion = 1;
constexpr size_t kMacBytes = 16;
constexpr std::string_view kSeparator = "|1|";

void PutFixed(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

bool GetFixed(std::string_view& in, int bytes, uint64_t* value) {
  if (in.size() < static_cast<size_t>(bytes)) return false;
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  in.remove_prefix(bytes);
  *value = v;
  return true;
}

void PutString(std::string& out, std::string_view s) {
  PutFixed(out, s.size(), 2);
  out.append(s);
}

bool GetString(std::string_view& in, std::string* s) {
  uint64_t size = 0;
  if (!GetFixed(in, 2, &size) || in.size() < size) return false;
  s->assign(in.substr(0, size));
  in.remove_prefix(size);
  return true;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  out->reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]);
    int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

}  // namespace

ShardIteratorCodec::ShardIteratorCodec(std::string secret, std::string region, const Clock* clock,
                                       int64_t lifetime_micros)
    : secret_(std::move(secret)),
      region_(std::move(region)),
      clock_(clock),
      lifetime_micros_(lifetime_micros) {}

std::string ShardIteratorCodec::Mac(std::string_view payload) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), kMacBytes);
}

std::string ShardIteratorCodec::Encode(ShardPosition position) const {
  position.issued_micros = clock_->NowMicros();
  std::string payload;
  payload.push_back(static_cast<char>(kFormatVersion));
  PutFixed(payload, position.table_id, 8);
  PutFixed(payload, position.shard, 4);
  PutFixed(payload, position.sequence, 8);
  PutFixed(payload, static_cast<uint64_t>(position.issued_micros), 8);
  PutString(payload, position.stream_label);
  PutString(payload, position.table);
  std::string sealed = payload + Mac(payload);
  std::string iterator = StreamArn(region_, position.table, position.stream_label);
  iterator += kSeparator;
  iterator += Hex(sealed);
  return iterator;
}

Result<ShardPosition> ShardIteratorCodec::Decode(std::string_view iterator) const {
  const Status invalid = Status::Validation("Invalid ShardIterator");
  size_t separator = iterator.rfind(kSeparator);
  if (separator == std::string_view::npos) return invalid;
  std::string sealed;
  if (!Unhex(iterator.substr(separator + kSeparator.size()), &sealed) ||
      sealed.size() <= kMacBytes) {
    return invalid;
  }
  std::string_view payload = std::string_view(sealed).substr(0, sealed.size() - kMacBytes);
  std::string_view mac = std::string_view(sealed).substr(payload.size());
  std::string expected_mac = Mac(payload);
  if (CRYPTO_memcmp(mac.data(), expected_mac.data(), kMacBytes) != 0) return invalid;

  ShardPosition position;
  uint64_t version = 0, shard = 0, issued = 0;
  std::string_view in = payload;
  if (!GetFixed(in, 1, &version) || version != kFormatVersion ||
      !GetFixed(in, 8, &position.table_id) || !GetFixed(in, 4, &shard) ||
      !GetFixed(in, 8, &position.sequence) || !GetFixed(in, 8, &issued) ||
      !GetString(in, &position.stream_label) || !GetString(in, &position.table) || !in.empty()) {
    return invalid;
  }
  position.shard = static_cast<uint32_t>(shard);
  position.issued_micros = static_cast<int64_t>(issued);
  if (iterator.substr(0, separator) != StreamArn(region_, position.table, position.stream_label)) {
    return invalid;
  }
  if (clock_->NowMicros() - position.issued_micros > lifetime_micros_) {
    return Status(ErrorCode::kExpiredIterator, "Iterator expired");
  }
  return position;
}

}  // namespace tidewater::server
