// Signs a client's requests with one identity: AWS Signature Version 4 in the Authorization
// header, as the AWS SDKs sign DynamoDB and Application Auto Scaling requests.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/security/client_credentials.h"
#include "tidewater/security/sigv4.h"

namespace tidewater::security {

// [Contract] Sign returns the headers that authenticate one request, to be sent with it:
// X-Amz-Date, X-Amz-Security-Token (temporary credentials only) and Authorization. The
// signature covers those two x-amz headers and the headers the caller lists (at least host,
// exactly as sent), scoped to the identity's region and the given service.
// [Performance] The derived signing key of each service is kept for its day, so a request
// costs a SHA-256 of its canonical request and one HMAC, besides the hash of its body that
// the caller passes (and may keep for a body it sends again).
// [Threading] Not thread-safe (the key cache): one signer per client or per thread.
class RequestSigner {
 public:
  explicit RequestSigner(SigningIdentity identity);

  // `request.headers`: the headers sent that the signature covers, distinct names in any
  // case; `request.payload_sha256`: sigv4::Sha256Hex of the body. `service`: the signing
  // name ("dynamodb", "application-autoscaling"); `now`: the request's time (X-Amz-Date).
  sigv4::Params Sign(const sigv4::Request& request, std::string_view service,
                     std::chrono::system_clock::time_point now);

  const SigningIdentity& identity() const { return identity_; }

 private:
  // The key of `service` for `date` (YYYYMMDD), derived when the day or the service is new.
  const std::string& KeyFor(std::string_view date, std::string_view service);

  struct DerivedKey {
    std::string date;
    std::string service;
    std::string key;
  };

  const SigningIdentity identity_;
  std::vector<DerivedKey> keys_;  // one per service signed for
};

}  // namespace tidewater::security
