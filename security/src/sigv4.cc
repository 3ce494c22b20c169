#include "tidewater/security/sigv4.h"

#include <openssl/evp.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <initializer_list>
#include <memory>

#include "ascii_text.h"

namespace tidewater::security::sigv4 {
namespace {

// The raw digest of `data` ("" if OpenSSL fails, which it does not for these digests).
std::string Digest(const EVP_MD* md, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, md, nullptr) != 1) return "";
  return std::string(reinterpret_cast<const char*>(out.data()), size);
}

// SHA-256, fetched from OpenSSL's provider once: OpenSSL 3 looks an algorithm up again on
// every call given EVP_sha256(), which costs more than hashing a small request.
const EVP_MD* Sha256() {
  static const EVP_MD* const kSha256 = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return kSha256;
}

constexpr size_t kSha256Bytes = 32;
constexpr size_t kSha256BlockBytes = 64;

// SHA-256 of the concatenation of `parts` into `out`, on a context kept per thread; false
// if OpenSSL fails (it does not for SHA-256).
bool Sha256Of(std::initializer_list<std::string_view> parts, unsigned char* out) {
  struct ContextDeleter {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, ContextDeleter> context(EVP_MD_CTX_new());
  if (context == nullptr || EVP_DigestInit_ex2(context.get(), Sha256(), nullptr) != 1) {
    return false;
  }
  for (std::string_view part : parts) {
    if (EVP_DigestUpdate(context.get(), part.data(), part.size()) != 1) return false;
  }
  unsigned int size = 0;
  return EVP_DigestFinal_ex(context.get(), out, &size) == 1 && size == kSha256Bytes;
}

}  // namespace

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[byte >> 4];
    out[2 * i + 1] = kDigits[byte & 0x0F];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, kSha256Bytes> digest{};
  if (!Sha256Of({data}, digest.data())) return "";
  return Hex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string Md5Hex(std::string_view data) { return Hex(Digest(EVP_md5(), data)); }

std::string Md5Base64(std::string_view data) {
  const std::string md5 = Digest(EVP_md5(), data);
  // EVP_EncodeBlock writes 4 characters per 3 bytes and a terminating NUL.
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> out{};
  const int size = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(md5.data()),
                                   static_cast<int>(md5.size()));
  return std::string(reinterpret_cast<const char*>(out.data()),
                     static_cast<size_t>(std::max(size, 0)));
}

// HMAC (RFC 2104) over the per-thread SHA-256 context: OpenSSL 3's one-shot HMAC() sets up
// a MAC object on every call, several times the cost of the four hashes below.
std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, kSha256BlockBytes> block{};
  if (key.size() > kSha256BlockBytes) {
    if (!Sha256Of({key}, block.data())) return "";
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<char, kSha256BlockBytes> inner_pad{};
  std::array<char, kSha256BlockBytes> outer_pad{};
  for (size_t i = 0; i < kSha256BlockBytes; ++i) {
    inner_pad[i] = static_cast<char>(block[i] ^ 0x36);
    outer_pad[i] = static_cast<char>(block[i] ^ 0x5c);
  }
  std::array<unsigned char, kSha256Bytes> inner{};
  std::array<unsigned char, kSha256Bytes> out{};
  const std::string_view inner_view(reinterpret_cast<const char*>(inner.data()), inner.size());
  if (!Sha256Of({std::string_view(inner_pad.data(), inner_pad.size()), data}, inner.data()) ||
      !Sha256Of({std::string_view(outer_pad.data(), outer_pad.size()), inner_view}, out.data())) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' ||
                            byte == '_' || byte == '~';
    if (unreserved || (keep_slash && byte == '/')) {
      out += c;
    } else {
      out += '%';
      out += kDigits[byte >> 4];
      out += kDigits[byte & 0x0F];
    }
  }
  return out;
}

std::string CanonicalQueryString(const Params& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

Params ParseQueryString(std::string_view query) {
  const auto hex_value = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const auto decode = [&](std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
          hex_value(text[i + 2]) >= 0) {
        out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
        i += 2;
      } else {
        out += text[i];
      }
    }
    return out;
  };
  Params params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    params.emplace_back(decode(pair.substr(0, equals)),
                        equals == std::string_view::npos ? "" : decode(pair.substr(equals + 1)));
  }
  return params;
}

std::string AmzDate(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 32> text{};
  const size_t size = std::strftime(text.data(), text.size(), "%Y%m%dT%H%M%SZ", &utc);
  return std::string(text.data(), size);
}

std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                             std::string_view canonical_query, const Params& canonical_headers,
                             std::string_view payload_sha256) {
  size_t size =
      method.size() + canonical_uri.size() + canonical_query.size() + payload_sha256.size() + 8;
  for (const auto& [name, value] : canonical_headers) size += 2 * name.size() + value.size() + 3;
  std::string out;
  out.reserve(size);
  out += method;
  out += '\n';
  out += canonical_uri.empty() ? "/" : canonical_uri;
  out += '\n';
  out += canonical_query;
  out += '\n';
  for (const auto& [name, value] : canonical_headers) {
    out += name;
    out += ':';
    out += value;
    out += '\n';
  }
  out += '\n';
  for (size_t i = 0; i < canonical_headers.size(); ++i) {
    if (i > 0) out += ';';
    out += canonical_headers[i].first;
  }
  out += '\n';
  out += payload_sha256;
  return out;
}

std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service) {
  std::string scope(date);
  scope += '/';
  scope += region;
  scope += '/';
  scope += service;
  scope += '/';
  scope += kScopeTerminator;
  return scope;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out += '\n';
  out += amz_date;
  out += '\n';
  out += scope;
  out += '\n';
  out += Sha256Hex(canonical_request);
  return out;
}

std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service) {
  std::string key = HmacSha256("AWS4" + std::string(secret_access_key), date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  return HmacSha256(key, kScopeTerminator);
}

std::optional<std::chrono::sys_seconds> ParseAmzDate(std::string_view text) {
  using namespace std::chrono;
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  // The number in text[pos, pos + count), or -1 when a character is not a digit.
  const auto number = [text](size_t pos, size_t count) {
    int value = 0;
    for (char c : text.substr(pos, count)) {
      if (c < '0' || c > '9') return -1;
      value = value * 10 + (c - '0');
    }
    return value;
  };
  const int y = number(0, 4), mo = number(4, 2), d = number(6, 2);
  const int h = number(9, 2), mi = number(11, 2), s = number(13, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || h > 23 || mi > 59 || s > 59) {
    return std::nullopt;
  }
  const year_month_day date{year(y), month(static_cast<unsigned>(mo)),
                            day(static_cast<unsigned>(d))};
  if (!date.ok()) return std::nullopt;
  return sys_days(date) + hours(h) + minutes(mi) + seconds(s);
}

Signed Sign(const Request& request, const Credentials& credentials, std::string_view region,
            std::string_view service, std::string_view amz_date) {
  // Canonical headers: lower-case names in order, a repeated name's values joined by ','.
  Params headers;
  headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(AsciiLowercase(name), CanonicalHeaderValue(value));
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Params merged;
  for (auto& header : headers) {
    if (!merged.empty() && merged.back().first == header.first) {
      merged.back().second += ',';
      merged.back().second += header.second;
    } else {
      merged.push_back(std::move(header));
    }
  }

  Signed out;
  for (const auto& header : merged) {
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += header.first;
  }
  out.canonical_request =
      CanonicalRequest(request.method, request.canonical_uri, CanonicalQueryString(request.query),
                       merged, request.payload_sha256);
  const std::string_view date = amz_date.substr(0, 8);
  const std::string scope = CredentialScope(date, region, service);
  out.string_to_sign = StringToSign(amz_date, scope, out.canonical_request);
  out.signature = Hex(HmacSha256(SigningKey(credentials.secret_access_key, date, region, service),
                                 out.string_to_sign));

  out.authorization = std::string(kAlgorithm);
  out.authorization += " Credential=";
  out.authorization += credentials.access_key_id;
  out.authorization += '/';
  out.authorization += scope;
  out.authorization += ",SignedHeaders=";
  out.authorization += out.signed_headers;
  out.authorization += ",Signature=";
  out.authorization += out.signature;
  return out;
}

}  // namespace tidewater::security::sigv4
