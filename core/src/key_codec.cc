#include "tidewater/core/key_codec.h"

#include "fmix64.h"

namespace tidewater::keycodec {
namespace {

// Number encoding markers: negative < zero < positive.
constexpr uint8_t kNegative = 0x40;
constexpr uint8_t kZero = 0x80;
constexpr uint8_t kPositive = 0xC0;
// Normalized exponents (0.d1d2.. x 10^e) of DynamoDB numbers lie in [-129, 126].
constexpr int kExponentBias = 129;

void AppendEscaped(std::string_view bytes, std::string* out) {
  for (char c : bytes) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
}

void AppendNumber(const Number& n, std::string* out) {
  if (n.is_zero()) {
    out->push_back(static_cast<char>(kZero));
    return;
  }
  const uint8_t biased = static_cast<uint8_t>(n.exponent() + kExponentBias);
  if (!n.is_negative()) {
    out->push_back(static_cast<char>(kPositive));
    out->push_back(static_cast<char>(biased));
    out->append(n.digits());
    out->push_back('\0');
  } else {
    // Larger magnitude sorts first: complement exponent and digits; terminator 0xff
    // sorts a shorter digit string (smaller magnitude) after its extensions.
    out->push_back(static_cast<char>(kNegative));
    out->push_back(static_cast<char>(0xff - biased));
    for (char d : n.digits()) out->push_back(static_cast<char>(0xff - static_cast<uint8_t>(d)));
    out->push_back('\xff');
  }
}

}  // namespace

uint64_t PartitionHash(const AttributeValue& partition_key) {
  std::string encoded;
  AppendOrdered(partition_key, &encoded);
  // FNV-1a over the ordered encoding, finished with a strong mixer.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : encoded) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Fmix64(h ^ encoded.size());
}

void AppendOrdered(const AttributeValue& scalar, std::string* out) {
  switch (scalar.type()) {
    case AttributeType::kS:
    case AttributeType::kB:
      AppendEscaped(scalar.s(), out);
      out->push_back('\0');
      out->push_back('\x01');
      return;
    case AttributeType::kN:
      AppendNumber(scalar.n(), out);
      return;
    default:
      // Key attributes are validated to be scalars before encoding.
      return;
  }
}

void AppendOrderedPrefix(std::string_view prefix, std::string* out) { AppendEscaped(prefix, out); }

void AppendHash(uint64_t hash, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(hash >> shift));
}

uint64_t ReadHash(std::string_view encoded_key) {
  uint64_t hash = 0;
  for (int i = 0; i < 8 && i < static_cast<int>(encoded_key.size()); ++i) {
    hash = (hash << 8) | static_cast<uint8_t>(encoded_key[i]);
  }
  return hash;
}

std::string EncodeItemKey(const AttributeValue& partition_key, const AttributeValue* sort_key) {
  std::string key;
  key.reserve(32);
  AppendHash(PartitionHash(partition_key), &key);
  AppendOrdered(partition_key, &key);
  if (sort_key != nullptr) AppendOrdered(*sort_key, &key);
  return key;
}

uint64_t RangeBegin(uint32_t index, uint32_t count) {
  // ceil(index * 2^64 / count): the smallest hash h with ShardOf(h, count) == index.
  const unsigned __int128 numerator = static_cast<unsigned __int128>(index) << 64;
  return static_cast<uint64_t>((numerator + count - 1) / count);
}

}  // namespace tidewater::keycodec
