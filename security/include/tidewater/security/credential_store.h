// The credentials tidewaterd accepts: access key id, secret, optional session token with an
// expiry, and the principal (user name) each belongs to.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/status.h"

namespace tidewater::security {

// One credential. `expires_at_micros` is 0 for credentials that never expire; temporary
// credentials (a session token) usually carry an expiry.
struct Credential {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" for long-term credentials
  int64_t expires_at_micros = 0;
  std::string principal;  // the user the key belongs to (${aws:username} in policies)
};

// Generates a fresh credential for `principal` from OpenSSL's random generator: an access key
// id "TW" + 18 characters [A-Z2-7] (20 in all, as AWS's), a 40-character secret
// [A-Za-z0-9+/], and, when `with_session_token`, a session token; `expires_at_micros` as
// given.
Credential GenerateCredential(std::string principal, bool with_session_token,
                              int64_t expires_at_micros);

// Reads a credentials file (the --credentials-file format, YAML):
//   credentials:
//     - access_key_id: TWEXAMPLEKEY00000001
//       secret_access_key: ...
//       principal: alice
//       session_token: ...                 # optional
//       expires: 2026-12-31T00:00:00Z      # optional, UTC
// A missing member, a duplicate key id or a bad expiry is a Validation error naming the
// entry; the secrets are never part of a message.
Result<std::vector<Credential>> ReadCredentialsFile(const std::filesystem::path& path);

// The credentials tidewaterd checks signatures against.
//
// [Contract] Add/Remove change the set atomically; with a backing file, each change is
// written (temporary file, fsync, rename; mode 0600) before it returns, so an acknowledged
// change survives a crash. Find is cheap (a hash lookup under a shared lock) and is called
// on every request.
// [Threading] Every method is thread-safe.
class CredentialStore {
 public:
  // `path` empty: kept in memory only. Otherwise the store loads `path` if it exists (the
  // same YAML format as ReadCredentialsFile) and writes every change back to it.
  static Result<std::unique_ptr<CredentialStore>> Open(std::filesystem::path path);
  virtual ~CredentialStore() = default;

  // kResourceInUse when the key id exists; kValidation when a member is empty.
  virtual Status Add(const Credential& credential) = 0;
  // kResourceNotFound when the key id is unknown.
  virtual Status Remove(std::string_view access_key_id) = 0;
  virtual std::optional<Credential> Find(std::string_view access_key_id) const = 0;
  // Every credential, sorted by access key id, secrets included: callers that show them
  // (the admin API) leave the secrets out.
  virtual std::vector<Credential> List() const = 0;
};

}  // namespace tidewater::security
