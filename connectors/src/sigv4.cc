#include "sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <ctime>

namespace tidewater::connectors::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// The raw digest of `data` ("" if OpenSSL fails, which it does not for these digests).
std::string Digest(const EVP_MD* md, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, md, nullptr) != 1) return "";
  return std::string(reinterpret_cast<const char*>(out.data()), size);
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A header value as SigV4 canonicalizes it: no leading or trailing whitespace, each inner
// run of spaces (or tabs) one space.
std::string CanonicalValue(std::string_view value) {
  std::string out;
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

}  // namespace

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0x0F];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return Hex(Digest(EVP_sha256(), data)); }

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

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &size) == nullptr) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(out.data()), size);
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

std::string AmzDate(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 32> text{};
  const size_t size = std::strftime(text.data(), text.size(), "%Y%m%dT%H%M%SZ", &utc);
  return std::string(text.data(), size);
}

Signed Sign(const Request& request, const Credentials& credentials, std::string_view region,
            std::string_view service, std::string_view amz_date) {
  // Canonical headers: lower-case names in order, a repeated name's values joined by ','.
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(Lower(name), CanonicalValue(value));
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> merged;
  for (auto& header : headers) {
    if (!merged.empty() && merged.back().first == header.first) {
      merged.back().second += ',';
      merged.back().second += header.second;
    } else {
      merged.push_back(std::move(header));
    }
  }
  std::string canonical_headers;
  Signed out;
  for (const auto& [name, value] : merged) {
    canonical_headers += name;
    canonical_headers += ':';
    canonical_headers += value;
    canonical_headers += '\n';
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += name;
  }

  out.canonical_request = request.method;
  out.canonical_request += '\n';
  out.canonical_request += request.canonical_uri.empty() ? "/" : request.canonical_uri;
  out.canonical_request += '\n';
  out.canonical_request += CanonicalQueryString(request.query);
  out.canonical_request += '\n';
  out.canonical_request += canonical_headers;  // each line ends with '\n'
  out.canonical_request += '\n';
  out.canonical_request += out.signed_headers;
  out.canonical_request += '\n';
  out.canonical_request += request.payload_sha256;

  const std::string date(amz_date.substr(0, 8));
  std::string scope = date;
  scope += '/';
  scope += region;
  scope += '/';
  scope += service;
  scope += "/aws4_request";

  out.string_to_sign = std::string(kAlgorithm);
  out.string_to_sign += '\n';
  out.string_to_sign += amz_date;
  out.string_to_sign += '\n';
  out.string_to_sign += scope;
  out.string_to_sign += '\n';
  out.string_to_sign += Sha256Hex(out.canonical_request);

  std::string key = HmacSha256("AWS4" + credentials.secret_access_key, date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  out.signature = Hex(HmacSha256(key, out.string_to_sign));

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

}  // namespace tidewater::connectors::sigv4
