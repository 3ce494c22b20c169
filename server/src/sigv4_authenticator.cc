#include "sigv4_authenticator.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "autoscaling_api.h"

namespace tidewater::server {

std::string_view SigningServiceFor(std::string_view amz_target) {
  return amz_target.starts_with(kAutoScalingTargetPrefix) ? "application-autoscaling" : "dynamodb";
}

SigV4Authenticator::SigV4Authenticator(const security::CredentialStore* store, std::string region,
                                       const Clock* clock)
    : verifier_(store, std::move(region), clock) {}

Status SigV4Authenticator::Authenticate(const HttpRequestView& request) const {
  const security::IncomingRequest incoming{
      request.method(), request.target(),
      [&request](std::string_view name) { return request.header(name); }, request.body()};
  const std::string_view service = SigningServiceFor(request.header("X-Amz-Target"));
  Result<security::AuthenticatedPrincipal> principal = verifier_.Verify(incoming, service);
  if (!principal.ok()) {
    spdlog::debug("event=authentication_failed service={} error={}", service,
                  ErrorTypeName(principal.status().code()));
    return principal.status();
  }
  // Access policies (per principal, per table) will check the request here.
  spdlog::debug("event=authenticated service={} access_key_id={} principal={}", service,
                principal->access_key_id, principal->principal);
  return Status::Ok();
}

}  // namespace tidewater::server
