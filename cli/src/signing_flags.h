// --profile and --region: how a `tidewater` command signs its requests to tidewaterd (AWS
// Signature Version 4), with the AWS CLI's names and meaning; --ca-bundle: the CA
// certificates an https:// endpoint's certificate is checked with (the AWS CLI's
// --ca-bundle; default AWS_CA_BUNDLE, else the system's store); --client-cert and
// --client-key: the certificate presented to a tidewaterd that asks for one (mutual TLS).
// Without --profile the
// environment's credentials or profile are used (security::ResolveSigningIdentity); without
// --region the profile's region. A tidewaterd checking signatures accepts only its own
// --region in the signature's scope.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "tidewater/core/status.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::cli {

struct SigningFlags {
  std::string profile;    // "": AWS_PROFILE, else "default"
  std::string region;     // "": the profile's (AWS_REGION, AWS_DEFAULT_REGION, config file)
  std::string ca_bundle;  // "": AWS_CA_BUNDLE, else the system's CA store
  // A client certificate chain and its key (PEM), for a tidewaterd that asks for one
  // (--tls-client-ca); both or neither.
  std::string client_cert;
  std::string client_key;

  security::TlsClientOptions Tls() const { return {ca_bundle, client_cert, client_key}; }
};

// Adds --profile, --region, --ca-bundle, --client-cert and --client-key to `command`; `region_help`
// says which tidewaterd
// --region is the region of.
void AddSigningFlags(CLI::App* command, SigningFlags* flags,
                     const std::string& region_help =
                         "The tidewaterd's region (its --region), "
                         "which requests are signed for (default: "
                         "the profile's)");

// The options of a client of a tidewaterd in `region` ("": flags.region, else the
// profile's). Errors: a profile that does not exist, an unreadable AWS file.
Result<streams::ServiceClientOptions> ClientOptions(const SigningFlags& flags,
                                                    std::chrono::milliseconds timeout,
                                                    const std::string& region = "");

// A client of the tidewaterd at `endpoint_url` with those options. Errors: ClientOptions's,
// and Validation for an unusable URL.
Result<std::unique_ptr<streams::ServiceClient>> CreateClient(
    const std::string& endpoint_url, const SigningFlags& flags,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000),
    const std::string& region = "");

}  // namespace tidewater::cli
