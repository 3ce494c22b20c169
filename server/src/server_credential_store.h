// The credentials a tidewaterd with authentication checks signatures against, from two
// places:
//  * given at start (ServerOptions::credentials, e.g. --credentials-file): kept in memory
//    only, never written to the data directory, so that removing one from the file and
//    restarting revokes it. They cannot be deleted through the admin API.
//  * stored in <data_dir>/credentials.yaml: created and deleted through the admin API
//    (TidewaterAdmin_20261205.CreateCredentials, DeleteCredentials), kept across restarts.
// A key id given at start hides a stored one with the same id.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "tidewater/core/status.h"
#include "tidewater/security/credential_store.h"

namespace tidewater::server {

// [Contract] Find looks at the credentials given at start, then the stored ones. Add and
// Remove change the stored ones only (durably, see security::CredentialStore).
// [Threading] Every method is thread-safe.
class ServerCredentialStore final : public security::CredentialStore {
 public:
  // Opens (or starts) the stored credentials at `stored_path` and keeps `given` beside them.
  // Errors: the file cannot be read or is malformed; a credential of `given` with an empty
  // member, or a key id given twice (Validation).
  static Result<std::unique_ptr<ServerCredentialStore>> Open(
      const std::filesystem::path& stored_path, const std::vector<security::Credential>& given);

  // kResourceInUse for a key id that exists in either place.
  Status Add(const security::Credential& credential) override;
  // kValidation for a key id given at start; kResourceNotFound for an unknown one.
  Status Remove(std::string_view access_key_id) override;
  std::optional<security::Credential> Find(std::string_view access_key_id) const override;
  // Both kinds, sorted by access key id, secrets included.
  std::vector<security::Credential> List() const override;

  size_t given_count() const { return given_count_; }

 private:
  ServerCredentialStore(std::unique_ptr<security::CredentialStore> given,
                        std::unique_ptr<security::CredentialStore> stored, size_t given_count)
      : given_(std::move(given)), stored_(std::move(stored)), given_count_(given_count) {}

  std::unique_ptr<security::CredentialStore> given_;   // in memory; unchanged after Open
  std::unique_ptr<security::CredentialStore> stored_;  // backed by the data directory's file
  size_t given_count_;
};

}  // namespace tidewater::server
