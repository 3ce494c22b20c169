// The credentials tidewaterd accepts signatures of, managed over its own API
// (TidewaterAdmin_20261205, JSON as DynamoDB's). Any authenticated caller may use them until
// access policies exist. Without authentication (ServerOptions::require_auth off) there are
// no credentials to manage: every one answers ValidationException.
//
// CreateCredentials {"Principal": NAME (1 to 64 of [A-Za-z0-9+=,.@_-], as IAM user names),
//   "SessionToken": bool (temporary credentials with a session token), "ExpiresInSeconds":
//   1 to 31,622,400 (default: never for long-term credentials, 43,200 for temporary ones, as
//   STS GetSessionToken)} answers {"Credentials": {"AccessKeyId", "SecretAccessKey",
//   "SessionToken" (temporary ones), "Expiration" (epoch seconds, when they expire),
//   "Principal"}}. The answer is the only place the secret is ever shown.
// ListCredentials {} answers {"Credentials": [{"AccessKeyId", "Principal", "Expiration"
//   (when they expire), "Temporary": bool}, ...]} sorted by AccessKeyId, never a secret.
// DeleteCredentials {"AccessKeyId"} answers {}; ResourceNotFoundException for an unknown
//   key id, ValidationException for one given at start (--credentials-file).
#include <spdlog/spdlog.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "handler_support.h"
#include "handlers.h"
#include "table_json.h"
#include "tidewater/security/credential_store.h"

namespace tidewater::server {
namespace {

constexpr int64_t kMaxExpiresInSeconds = 366LL * 24 * 3600;
constexpr int64_t kDefaultTemporarySeconds = 12 * 3600;

Result<security::CredentialStore*> CredentialsOf(ServiceContext& service) {
  if (service.credentials == nullptr) {
    return Status::Validation(
        "tidewaterd does not require authentication (--auth off): it has no credentials to "
        "manage");
  }
  return service.credentials;
}

bool IsPrincipalCharacter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("+=,.@_-").find(c) != std::string_view::npos;
}

void CheckPrincipal(std::optional<std::string_view> principal, ConstraintErrors& errors) {
  errors.RequireNotNull("principal", principal.has_value());
  errors.CheckLength("principal", principal, 1, 64);
  if (principal && !principal->empty()) {
    for (char c : *principal) {
      if (!IsPrincipalCharacter(c)) {
        errors.Add("principal", principal,
                   "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
        break;
      }
    }
  }
}

void WriteExpiration(const security::Credential& credential, json::Writer& w) {
  if (credential.expires_at_micros == 0) return;
  w.Key("Expiration");
  w.Double(EpochSeconds(credential.expires_at_micros));
}

}  // namespace

Status CreateCredentials(ServiceContext& service, const rapidjson::Value& request,
                         RequestScope& scope) {
  TW_ASSIGN_OR_RETURN(security::CredentialStore * store, CredentialsOf(service));
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto principal, GetString(request, "Principal"));
  TW_ASSIGN_OR_RETURN(auto session_token, GetBool(request, "SessionToken"));
  TW_ASSIGN_OR_RETURN(auto expires_in_seconds, GetInteger(request, "ExpiresInSeconds"));
  CheckPrincipal(principal, errors);
  errors.CheckRange("expiresInSeconds", expires_in_seconds, 1, kMaxExpiresInSeconds);
  TW_RETURN_IF_ERROR(errors.ToStatus());

  const bool temporary = session_token.value_or(false);
  int64_t expires_at_micros = 0;
  if (expires_in_seconds || temporary) {
    expires_at_micros = service.clock->NowMicros() +
                        expires_in_seconds.value_or(kDefaultTemporarySeconds) * 1'000'000;
  }
  const security::Credential credential =
      security::GenerateCredential(std::string(*principal), temporary, expires_at_micros);
  TW_RETURN_IF_ERROR(store->Add(credential));
  spdlog::info("event=credentials_created access_key_id={} principal={} temporary={}",
               credential.access_key_id, credential.principal, temporary);

  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Credentials");
  w.StartObject();
  w.Key("AccessKeyId");
  WriteString(w, credential.access_key_id);
  w.Key("SecretAccessKey");
  WriteString(w, credential.secret_access_key);
  if (!credential.session_token.empty()) {
    w.Key("SessionToken");
    WriteString(w, credential.session_token);
  }
  WriteExpiration(credential, w);
  w.Key("Principal");
  WriteString(w, credential.principal);
  w.EndObject();
  w.EndObject();
  return Status::Ok();
}

Status ListCredentials(ServiceContext& service, const rapidjson::Value&, RequestScope& scope) {
  TW_ASSIGN_OR_RETURN(security::CredentialStore * store, CredentialsOf(service));
  const std::vector<security::Credential> credentials = store->List();
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Credentials");
  w.StartArray();
  for (const security::Credential& credential : credentials) {
    w.StartObject();
    w.Key("AccessKeyId");
    WriteString(w, credential.access_key_id);
    w.Key("Principal");
    WriteString(w, credential.principal);
    WriteExpiration(credential, w);
    w.Key("Temporary");
    w.Bool(!credential.session_token.empty());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Status::Ok();
}

Status DeleteCredentials(ServiceContext& service, const rapidjson::Value& request,
                         RequestScope& scope) {
  TW_ASSIGN_OR_RETURN(security::CredentialStore * store, CredentialsOf(service));
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto access_key_id, GetString(request, "AccessKeyId"));
  errors.RequireNotNull("accessKeyId", access_key_id.has_value());
  errors.CheckLength("accessKeyId", access_key_id, 1, 128);
  TW_RETURN_IF_ERROR(errors.ToStatus());

  if (!store->Find(*access_key_id)) {
    return Status::NotFound("Requested resource not found: AccessKeyId " +
                            std::string(*access_key_id) + " not found");
  }
  TW_RETURN_IF_ERROR(store->Remove(*access_key_id));
  spdlog::info("event=credentials_deleted access_key_id={}", *access_key_id);
  scope.writer.StartObject();
  scope.writer.EndObject();
  return Status::Ok();
}

}  // namespace tidewater::server
