#include "signing_flags.h"

#include <optional>
#include <utility>

namespace tidewater::cli {

void AddSigningFlags(CLI::App* command, SigningFlags* flags, const std::string& region_help) {
  command->add_option("--profile", flags->profile,
                      "The AWS profile whose credentials sign the requests (default: the "
                      "environment's keys, else AWS_PROFILE or the default profile)");
  command->add_option("--region", flags->region, region_help);
  command->add_option("--ca-bundle", flags->ca_bundle,
                      "PEM file of the CAs an https:// endpoint's certificate is checked with "
                      "(default: AWS_CA_BUNDLE, else the system's store)");
  command->add_option("--client-cert", flags->client_cert,
                      "PEM file of the client certificate (and its chain) presented to a "
                      "tidewaterd that asks for one (its --tls-client-ca)");
  command->add_option("--client-key", flags->client_key, "PEM file of --client-cert's key");
}

Result<streams::ServiceClientOptions> ClientOptions(const SigningFlags& flags,
                                                    std::chrono::milliseconds timeout,
                                                    const std::string& region) {
  TW_ASSIGN_OR_RETURN(
      std::optional<security::SigningIdentity> identity,
      streams::ResolveClientIdentity(flags.profile, region.empty() ? flags.region : region));
  return streams::ServiceClientOptions{timeout, std::move(identity), flags.Tls()};
}

Result<std::unique_ptr<streams::ServiceClient>> CreateClient(const std::string& endpoint_url,
                                                             const SigningFlags& flags,
                                                             std::chrono::milliseconds timeout,
                                                             const std::string& region) {
  TW_ASSIGN_OR_RETURN(streams::ServiceClientOptions options, ClientOptions(flags, timeout, region));
  return streams::ServiceClient::Create(endpoint_url, std::move(options));
}

}  // namespace tidewater::cli
