#include "tidewater/security/sigv4_verifier.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_map>
#include <utility>

#include "ascii_text.h"
#include "tidewater/core/thread_annotations.h"
#include "tidewater/security/sigv4.h"

namespace tidewater::security {
namespace {

// How far a request's X-Amz-Date may be from the server's time, either way.
constexpr std::chrono::seconds kAllowedClockSkew = std::chrono::minutes(15);
// The derived keys kept before the cache starts over.
constexpr size_t kMaxCachedSigningKeys = 10'000;

constexpr std::string_view kUnrecognizedClientMessage =
    "The security token included in the request is invalid.";
constexpr std::string_view kSignatureMismatchMessage =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

Status IncompleteSignature(std::string message) {
  return {ErrorCode::kIncompleteSignature, std::move(message)};
}
Status InvalidSignature(std::string message) {
  return {ErrorCode::kInvalidSignature, std::move(message)};
}

// `text` split at each `separator`, empty pieces included.
std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  while (true) {
    const size_t end = text.find(separator);
    pieces.push_back(text.substr(0, end));
    if (end == std::string_view::npos) return pieces;
    text.remove_prefix(end + 1);
  }
}

bool EqualInConstantTime(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// An Authorization header as parsed, before its scope is checked against the request.
struct AuthorizationParts {
  ParsedAuthorization parsed;
  std::string scope_terminator;  // "aws4_request" in a valid scope
};

// Parses an Authorization header value. `request_has_date`: whether the request carries
// X-Amz-Date, whose absence DynamoDB reports together with the missing parameters.
Result<AuthorizationParts> ParseAuthorizationParts(std::string_view value, bool request_has_date) {
  const std::string_view trimmed = Trim(value);
  const size_t algorithm_end = trimmed.find_first_of(" \t");
  const std::string_view algorithm = trimmed.substr(0, algorithm_end);
  if (algorithm != sigv4::kAlgorithm) {
    return IncompleteSignature("Unsupported AWS 'algorithm': '" + std::string(algorithm) + "'");
  }
  std::optional<std::string_view> credential, signed_headers, signature;
  const std::string_view parameters =
      algorithm_end == std::string_view::npos ? "" : trimmed.substr(algorithm_end);
  for (std::string_view piece : Split(parameters, ',')) {
    piece = Trim(piece);
    if (piece.empty()) continue;
    const size_t equals = piece.find('=');
    if (equals == std::string_view::npos) {
      return IncompleteSignature("'" + std::string(piece) +
                                 "' not a valid key=value pair (missing equal-sign) in "
                                 "Authorization header: '" +
                                 std::string(value) + "'");
    }
    const std::string_view name = Trim(piece.substr(0, equals));
    const std::string_view parameter = Trim(piece.substr(equals + 1));
    // The first of a repeated parameter counts; parameters SigV4 does not define are ignored.
    if (name == "Credential" && !credential) credential = parameter;
    if (name == "SignedHeaders" && !signed_headers) signed_headers = parameter;
    if (name == "Signature" && !signature) signature = parameter;
  }

  std::string missing;
  if (credential.value_or("").empty()) {
    missing += "Authorization header requires 'Credential' parameter. ";
  }
  if (signature.value_or("").empty()) {
    missing += "Authorization header requires 'Signature' parameter. ";
  }
  if (signed_headers.value_or("").empty()) {
    missing += "Authorization header requires 'SignedHeaders' parameter. ";
  }
  if (!request_has_date) {
    missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' ";
    missing += "header. ";
  }
  if (!missing.empty()) return IncompleteSignature(missing + "Authorization=" + std::string(value));

  const std::vector<std::string_view> scope = Split(*credential, '/');
  if (scope.size() != 5) {
    return IncompleteSignature(
        "Credential must have exactly 5 slash-delimited elements, e.g. "
        "keyid/date/region/service/term, got '" +
        std::string(*credential) + "'");
  }
  AuthorizationParts parts;
  parts.parsed.access_key_id = scope[0];
  parts.parsed.scope_date = scope[1];
  parts.parsed.scope_region = scope[2];
  parts.parsed.scope_service = scope[3];
  parts.scope_terminator = scope[4];
  for (std::string_view name : Split(*signed_headers, ';')) {
    parts.parsed.signed_headers.push_back(AsciiLowercase(name));
  }
  parts.parsed.signature = *signature;
  return parts;
}

Status CheckScopeTerminator(const AuthorizationParts& parts) {
  if (parts.scope_terminator == sigv4::kScopeTerminator) return Status::Ok();
  return InvalidSignature(
      "Credential should be scoped with a valid terminator: 'aws4_request', "
      "not '" +
      parts.scope_terminator + "'. ");
}

std::string AmzDateOf(std::chrono::sys_seconds time) {
  return sigv4::AmzDate(std::chrono::system_clock::time_point(time));
}

}  // namespace

// Signing keys by key id, scope and secret: the secret is part of the cache key, so a key id
// that gets a new secret derives a new signing key. Starts over when full.
struct SigV4Verifier::KeyCache {
  std::string SigningKey(const Credential& credential, const ParsedAuthorization& scope)
      TW_EXCLUDES(mu) {
    // No element of a scope contains '/', so the secret, last, cannot make two keys collide.
    std::string cache_key = credential.access_key_id;
    for (std::string_view part : {scope.scope_date, scope.scope_region, scope.scope_service,
                                  credential.secret_access_key}) {
      cache_key += '/';
      cache_key += part;
    }
    {
      MutexLock lock(mu);
      if (const auto found = keys.find(cache_key); found != keys.end()) return found->second;
    }
    std::string key = sigv4::SigningKey(credential.secret_access_key, scope.scope_date,
                                        scope.scope_region, scope.scope_service);
    MutexLock lock(mu);
    if (keys.size() >= kMaxCachedSigningKeys) keys.clear();
    keys.emplace(std::move(cache_key), key);
    return key;
  }

  Mutex mu;
  std::unordered_map<std::string, std::string> keys TW_GUARDED_BY(mu);
};

Result<ParsedAuthorization> ParseAuthorization(std::string_view value) {
  TW_ASSIGN_OR_RETURN(AuthorizationParts parts, ParseAuthorizationParts(value, true));
  TW_RETURN_IF_ERROR(CheckScopeTerminator(parts));
  return std::move(parts.parsed);
}

SigV4Verifier::SigV4Verifier(const CredentialStore* store, std::string region, const Clock* clock)
    : store_(store),
      region_(std::move(region)),
      clock_(clock),
      key_cache_(std::make_unique<KeyCache>()) {}

SigV4Verifier::~SigV4Verifier() = default;

Result<AuthenticatedPrincipal> SigV4Verifier::Verify(const IncomingRequest& request,
                                                     std::string_view service) const {
  const std::string_view authorization = request.header("authorization");
  if (authorization.empty()) {
    return Status(ErrorCode::kMissingAuthenticationToken,
                  "Request is missing Authentication Token");
  }
  const std::string_view amz_date = request.header("x-amz-date");
  TW_ASSIGN_OR_RETURN(const AuthorizationParts parts,
                      ParseAuthorizationParts(authorization, !amz_date.empty()));
  const ParsedAuthorization& parsed = parts.parsed;
  const std::optional<std::chrono::sys_seconds> request_time = sigv4::ParseAmzDate(amz_date);
  if (!request_time) {
    return IncompleteSignature("Date must be in ISO-8601 'basic format'. Got '" +
                               std::string(amz_date) +
                               "'. See http://en.wikipedia.org/wiki/ISO_8601");
  }

  // The scope.
  const std::string_view request_day = amz_date.substr(0, 8);
  if (parsed.scope_date != request_day) {
    return InvalidSignature(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '" +
        parsed.scope_date + "' != '" + std::string(request_day) + "', from '" +
        std::string(amz_date) + "'.");
  }
  if (parsed.scope_region != region_) {
    return InvalidSignature("Credential should be scoped to a valid region. ");
  }
  if (parsed.scope_service != service) {
    return InvalidSignature("Credential should be scoped to correct service: '" +
                            std::string(service) + "'. ");
  }
  TW_RETURN_IF_ERROR(CheckScopeTerminator(parts));
  const auto is_signed = [&](std::string_view name) {
    return std::find(parsed.signed_headers.begin(), parsed.signed_headers.end(), name) !=
           parsed.signed_headers.end();
  };
  if (!is_signed("host")) {
    return InvalidSignature(
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
        "Authorization.");
  }
  if (!is_signed("x-amz-date")) {
    return InvalidSignature("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }

  // The credential.
  const std::optional<Credential> credential = store_->Find(parsed.access_key_id);
  if (!credential ||
      !EqualInConstantTime(request.header("x-amz-security-token"), credential->session_token)) {
    return Status(ErrorCode::kUnrecognizedClient, std::string(kUnrecognizedClientMessage));
  }
  const int64_t now_micros = clock_->NowMicros();
  if (credential->expires_at_micros != 0 && now_micros >= credential->expires_at_micros) {
    return Status(ErrorCode::kExpiredToken,
                  "The security token included in the request is expired");
  }

  // The time.
  const auto now = std::chrono::floor<std::chrono::seconds>(
      std::chrono::sys_time<std::chrono::microseconds>(std::chrono::microseconds(now_micros)));
  if (*request_time < now - kAllowedClockSkew) {
    return InvalidSignature("Signature expired: " + std::string(amz_date) +
                            " is now earlier than " + AmzDateOf(now - kAllowedClockSkew) + " (" +
                            AmzDateOf(now) + " - 15 min.)");
  }
  if (*request_time > now + kAllowedClockSkew) {
    return InvalidSignature("Signature not yet current: " + std::string(amz_date) +
                            " is still later than " + AmzDateOf(now + kAllowedClockSkew) + " (" +
                            AmzDateOf(now) + " + 15 min.)");
  }

  // The signature, over the body as received: a client that signed another payload hash
  // (UNSIGNED-PAYLOAD included) does not match.
  const std::string_view target = request.target;
  const size_t query_start = target.find('?');
  const std::string_view query =
      query_start == std::string_view::npos ? "" : target.substr(query_start + 1);
  sigv4::Params canonical_headers;
  canonical_headers.reserve(parsed.signed_headers.size());
  for (const std::string& name : parsed.signed_headers) {
    canonical_headers.emplace_back(name, sigv4::CanonicalHeaderValue(request.header(name)));
  }
  const std::string canonical_request =
      sigv4::CanonicalRequest(request.method, target.substr(0, query_start),
                              sigv4::CanonicalQueryString(sigv4::ParseQueryString(query)),
                              canonical_headers, sigv4::Sha256Hex(request.body));
  const std::string string_to_sign = sigv4::StringToSign(
      amz_date,
      sigv4::CredentialScope(parsed.scope_date, parsed.scope_region, parsed.scope_service),
      canonical_request);
  const std::string expected =
      sigv4::Hex(sigv4::HmacSha256(key_cache_->SigningKey(*credential, parsed), string_to_sign));
  if (!EqualInConstantTime(parsed.signature, expected)) {
    return InvalidSignature(std::string(kSignatureMismatchMessage));
  }
  return AuthenticatedPrincipal{credential->access_key_id, credential->principal};
}

}  // namespace tidewater::security
