// The credentials and region a client of tidewaterd signs with, found where the AWS CLI and
// SDKs look for them.
#pragma once

#include <optional>
#include <string>

#include "tidewater/core/status.h"
#include "tidewater/security/sigv4.h"

namespace tidewater::security {

// What a client signs its requests with.
struct SigningIdentity {
  sigv4::Credentials credentials;
  std::string region;  // the scope region ("us-east-1" when nothing names one)
};

// Resolves the identity as the AWS CLI does, first match wins:
//  credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); else the
//    profile AWS_PROFILE (or "default") in AWS_SHARED_CREDENTIALS_FILE (or
//    ~/.aws/credentials), keys aws_access_key_id, aws_secret_access_key,
//    aws_session_token; else the same keys in the profile's section of AWS_CONFIG_FILE (or
//    ~/.aws/config, section "[profile NAME]", "[default]").
//  region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the config file,
//    "us-east-1".
// `profile` (non-empty) overrides AWS_PROFILE and, as the AWS CLI's --profile does, the
// environment's keys (its region variables still win). Returns nullopt when no credentials are
// found (the client then sends unsigned requests, which a server with --auth off accepts);
// a named profile that does not exist, an unreadable file, or half a key pair (an access key
// id without its secret or the reverse, as the AWS CLI refuses it) is a Validation error.
Result<std::optional<SigningIdentity>> ResolveSigningIdentity(const std::string& profile = "");

}  // namespace tidewater::security
