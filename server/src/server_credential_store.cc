#include "server_credential_store.h"

#include <algorithm>
#include <string>
#include <utility>

namespace tidewater::server {

Result<std::unique_ptr<ServerCredentialStore>> ServerCredentialStore::Open(
    const std::filesystem::path& stored_path, const std::vector<security::Credential>& given) {
  TW_ASSIGN_OR_RETURN(std::unique_ptr<security::CredentialStore> given_store,
                      security::CredentialStore::Open(std::filesystem::path()));
  for (const security::Credential& credential : given) {
    Status added = given_store->Add(credential);
    if (!added.ok()) {
      return Status::Validation("credentials given at start: " + added.message());
    }
  }
  TW_ASSIGN_OR_RETURN(std::unique_ptr<security::CredentialStore> stored,
                      security::CredentialStore::Open(stored_path));
  return std::unique_ptr<ServerCredentialStore>(
      new ServerCredentialStore(std::move(given_store), std::move(stored), given.size()));
}

Status ServerCredentialStore::Add(const security::Credential& credential) {
  if (given_->Find(credential.access_key_id)) {
    return Status::InUse("AccessKeyId " + credential.access_key_id + " already exists");
  }
  return stored_->Add(credential);
}

Status ServerCredentialStore::Remove(std::string_view access_key_id) {
  if (given_->Find(access_key_id)) {
    return Status::Validation("AccessKeyId " + std::string(access_key_id) +
                              " was given at start (--credentials-file): remove it there and "
                              "restart tidewaterd");
  }
  return stored_->Remove(access_key_id);
}

std::optional<security::Credential> ServerCredentialStore::Find(
    std::string_view access_key_id) const {
  if (auto credential = given_->Find(access_key_id)) return credential;
  return stored_->Find(access_key_id);
}

std::vector<security::Credential> ServerCredentialStore::List() const {
  std::vector<security::Credential> all = given_->List();
  for (security::Credential& stored : stored_->List()) {
    if (!given_->Find(stored.access_key_id)) all.push_back(std::move(stored));
  }
  std::sort(all.begin(), all.end(),
            [](const security::Credential& a, const security::Credential& b) {
              return a.access_key_id < b.access_key_id;
            });
  return all;
}

}  // namespace tidewater::server
