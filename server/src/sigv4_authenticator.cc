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

Status SigV4Authenticator::Authenticate(const HttpRequestView& request,
                                        std::string* principal) const {
  const security::IncomingRequest incoming{
      request.method(), request.target(),
      [&request](std::string_view name) { return request.header(name); }, request.body()};
  const std::string_view service = SigningServiceFor(request.header("X-Amz-Target"));
  Result<security::AuthenticatedPrincipal> authenticated = verifier_.Verify(incoming, service);
  if (!authenticated.ok()) {
    spdlog::debug("event=authentication_failed service={} error={}", service,
                  ErrorTypeName(authenticated.status().code()));
    return authenticated.status();
  }
  spdlog::debug("event=authenticated service={} access_key_id={} principal={}", service,
                authenticated->access_key_id, authenticated->principal);
  *principal = std::move(authenticated->principal);
  return Status::Ok();
}

}  // namespace tidewater::server
