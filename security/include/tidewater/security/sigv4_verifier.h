// Verifies AWS Signature Version 4 on incoming requests (the Authorization header form, as
// the AWS SDKs and the AWS CLI send it to DynamoDB), with DynamoDB's errors.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/clock.h"
#include "tidewater/core/status.h"
#include "tidewater/security/credential_store.h"

namespace tidewater::security {

// The parts of an Authorization header
//   AWS4-HMAC-SHA256 Credential=KEY/20261206/us-east-1/dynamodb/aws4_request,
//   SignedHeaders=content-type;host;x-amz-date, Signature=<64 hex>
struct ParsedAuthorization {
  std::string access_key_id;
  std::string scope_date;                   // "20261206"
  std::string scope_region;                 // "us-east-1"
  std::string scope_service;                // "dynamodb"
  std::vector<std::string> signed_headers;  // lower-case, in the order given
  std::string signature;                    // lower-case hex
};

// Parses an Authorization header value. Errors are kIncompleteSignature with DynamoDB's
// message (which parameters are missing, then "Authorization=<the value>"), or
// kIncompleteSignature / kInvalidSignature for a malformed credential scope. Never throws;
// any input is safe (fuzzed: tests/fuzz/sigv4_authorization_fuzz.cc).
Result<ParsedAuthorization> ParseAuthorization(std::string_view value);

// One incoming request as the verifier needs it. `header` returns a header's value (any case
// of the name; "" when absent); the values live as long as the call.
struct IncomingRequest {
  std::string_view method;  // "POST", "GET"
  std::string_view target;  // the request-target: path and query ("/", "/metrics?x=1")
  std::function<std::string_view(std::string_view name)> header;
  std::string_view body;
};

// Who signed a request.
struct AuthenticatedPrincipal {
  std::string access_key_id;
  std::string principal;
};

// Checks a request's signature against a CredentialStore.
//
// [Contract] Verify returns the principal, or the error DynamoDB returns, checked in its
// order: no Authorization header (kMissingAuthenticationToken); a malformed one or a missing
// X-Amz-Date (kIncompleteSignature); a scope whose date, region or service does not match
// (kInvalidSignature); an unknown key id or a session token that does not match
// (kUnrecognizedClient); expired temporary credentials (kExpiredToken); a request date more
// than 15 minutes from now (kInvalidSignature, "Signature expired: ..." or "Signature not
// yet current: ..."); a signature that does not match (kInvalidSignature). The host header
// and x-amz-date must be among SignedHeaders. Derived signing keys are cached per key id,
// date, region and service, so a request costs two HMACs and a SHA-256 of the body.
// [Threading] Verify is thread-safe. [Lifetime] `store` and `clock` outlive the verifier.
class SigV4Verifier {
 public:
  // `region`: the region this server signs for (its --region). `clock` gives the time the
  // 15-minute window is measured against.
  SigV4Verifier(const CredentialStore* store, std::string region, const Clock* clock);
  ~SigV4Verifier();
  SigV4Verifier(const SigV4Verifier&) = delete;
  SigV4Verifier& operator=(const SigV4Verifier&) = delete;

  // `service`: the signing name the request must be scoped to ("dynamodb",
  // "application-autoscaling").
  Result<AuthenticatedPrincipal> Verify(const IncomingRequest& request,
                                        std::string_view service) const;

 private:
  struct KeyCache;
  const CredentialStore* store_;
  std::string region_;
  const Clock* clock_;
  std::unique_ptr<KeyCache> key_cache_;
};

}  // namespace tidewater::security
