// Request authentication with AWS Signature Version 4 (ServerOptions::require_auth): a
// request passes when it is signed, as the AWS SDKs and the AWS CLI sign, with a credential
// of the server's CredentialStore, for the server's region and the service its X-Amz-Target
// belongs to. Errors are DynamoDB's (security/sigv4_verifier.h): MissingAuthenticationToken,
// IncompleteSignature, InvalidSignature, UnrecognizedClient, ExpiredToken.
#pragma once

#include <string>
#include <string_view>

#include "tidewater/core/clock.h"
#include "tidewater/security/credential_store.h"
#include "tidewater/security/sigv4_verifier.h"
#include "tidewater/server/authenticator.h"

namespace tidewater::server {

// The signing name (the service of the credential scope) a request with this X-Amz-Target
// must be signed for, as the AWS SDKs sign each API: "application-autoscaling" for
// Application Auto Scaling (AnyScaleFrontendService.*), "dynamodb" for everything else
// (DynamoDB, DynamoDB Streams, tidewaterd's own operations, and a GET, which has no target).
std::string_view SigningServiceFor(std::string_view amz_target);

// [Contract] Authenticate accepts a request whose signature SigV4Verifier accepts for the
// service SigningServiceFor names, setting `*principal` to the credential's principal, and
// otherwise returns the verifier's error. The authenticated principal is logged at debug
// level (never a secret).
// [Threading] Authenticate is thread-safe. [Lifetime] `store` and `clock` outlive the
// authenticator.
class SigV4Authenticator final : public Authenticator {
 public:
  SigV4Authenticator(const security::CredentialStore* store, std::string region,
                     const Clock* clock);

  Status Authenticate(const HttpRequestView& request, std::string* principal) const override;

 private:
  security::SigV4Verifier verifier_;
};

}  // namespace tidewater::server
