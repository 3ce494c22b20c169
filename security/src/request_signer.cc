#include "tidewater/security/request_signer.h"

#include <algorithm>
#include <utility>

#include "ascii_text.h"

namespace tidewater::security {

RequestSigner::RequestSigner(SigningIdentity identity) : identity_(std::move(identity)) {}

sigv4::Params RequestSigner::Sign(const sigv4::Request& request, std::string_view service,
                                  std::chrono::system_clock::time_point now) {
  const std::string amz_date = sigv4::AmzDate(now);
  const std::string& session_token = identity_.credentials.session_token;

  sigv4::Params canonical_headers;
  canonical_headers.reserve(request.headers.size() + 2);
  for (const auto& [name, value] : request.headers) {
    canonical_headers.emplace_back(AsciiLowercase(name), sigv4::CanonicalHeaderValue(value));
  }
  canonical_headers.emplace_back("x-amz-date", amz_date);
  if (!session_token.empty()) {
    canonical_headers.emplace_back("x-amz-security-token",
                                   sigv4::CanonicalHeaderValue(session_token));
  }
  std::sort(canonical_headers.begin(), canonical_headers.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  const std::string scope = sigv4::CredentialScope(date, identity_.region, service);
  const std::string canonical_request = sigv4::CanonicalRequest(
      request.method, request.canonical_uri, sigv4::CanonicalQueryString(request.query),
      canonical_headers, request.payload_sha256);
  const std::string signature = sigv4::Hex(sigv4::HmacSha256(
      KeyFor(date, service), sigv4::StringToSign(amz_date, scope, canonical_request)));

  // As the AWS SDKs write it: ", " between the three parameters.
  std::string authorization(sigv4::kAlgorithm);
  authorization += " Credential=";
  authorization += identity_.credentials.access_key_id;
  authorization += '/';
  authorization += scope;
  authorization += ", SignedHeaders=";
  for (size_t i = 0; i < canonical_headers.size(); ++i) {
    if (i > 0) authorization += ';';
    authorization += canonical_headers[i].first;
  }
  authorization += ", Signature=";
  authorization += signature;

  sigv4::Params added;
  added.emplace_back("X-Amz-Date", amz_date);
  if (!session_token.empty()) added.emplace_back("X-Amz-Security-Token", session_token);
  added.emplace_back("Authorization", std::move(authorization));
  return added;
}

const std::string& RequestSigner::KeyFor(std::string_view date, std::string_view service) {
  auto cached = std::find_if(keys_.begin(), keys_.end(),
                             [&](const DerivedKey& key) { return key.service == service; });
  if (cached == keys_.end()) {
    cached = keys_.insert(keys_.end(), DerivedKey{"", std::string(service), ""});
  }
  if (cached->date != date) {
    cached->date = std::string(date);
    cached->key =
        sigv4::SigningKey(identity_.credentials.secret_access_key, date, identity_.region, service);
  }
  return cached->key;
}

}  // namespace tidewater::security
