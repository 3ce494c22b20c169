#include "server_policy_store.h"

#include <algorithm>
#include <utility>

namespace tidewater::server {
namespace {

// The sorted union of two sorted lists of names.
std::vector<std::string> SortedUnion(std::vector<std::string> a,
                                     const std::vector<std::string>& b) {
  std::vector<std::string> all;
  all.reserve(a.size() + b.size());
  std::set_union(std::make_move_iterator(a.begin()), std::make_move_iterator(a.end()), b.begin(),
                 b.end(), std::back_inserter(all));
  return all;
}

}  // namespace

Result<std::unique_ptr<ServerPolicyStore>> ServerPolicyStore::Open(
    const std::filesystem::path& stored_path, const std::vector<security::PrincipalPolicy>& given) {
  TW_ASSIGN_OR_RETURN(std::unique_ptr<security::PolicyStore> given_store,
                      security::PolicyStore::Open(std::filesystem::path()));
  for (const security::PrincipalPolicy& entry : given) {
    Status put = given_store->Put(entry.principal, entry.named.name, entry.named.policy);
    if (!put.ok()) return Status::Validation("policies given at start: " + put.message());
  }
  TW_ASSIGN_OR_RETURN(std::unique_ptr<security::PolicyStore> stored,
                      security::PolicyStore::Open(stored_path));
  return std::unique_ptr<ServerPolicyStore>(
      new ServerPolicyStore(std::move(given_store), std::move(stored), given.size()));
}

bool ServerPolicyStore::IsGiven(std::string_view principal, std::string_view name) const {
  return given_->Get(principal, name).ok();
}

Status ServerPolicyStore::Put(std::string_view principal, std::string_view name,
                              security::Policy policy) {
  if (IsGiven(principal, name)) {
    return Status::Validation("Policy " + std::string(name) + " of principal " +
                              std::string(principal) +
                              " was given at start (--policy-file): change it there and restart "
                              "tidewaterd");
  }
  return stored_->Put(principal, name, std::move(policy));
}

Result<security::Policy> ServerPolicyStore::Get(std::string_view principal,
                                                std::string_view name) const {
  if (Result<security::Policy> given = given_->Get(principal, name); given.ok()) return given;
  return stored_->Get(principal, name);
}

Status ServerPolicyStore::Delete(std::string_view principal, std::string_view name) {
  if (IsGiven(principal, name)) {
    return Status::Validation("Policy " + std::string(name) + " of principal " +
                              std::string(principal) +
                              " was given at start (--policy-file): remove it there and restart "
                              "tidewaterd");
  }
  return stored_->Delete(principal, name);
}

std::vector<std::string> ServerPolicyStore::List(std::string_view principal) const {
  return SortedUnion(given_->List(principal), stored_->List(principal));
}

std::vector<std::string> ServerPolicyStore::Principals() const {
  return SortedUnion(given_->Principals(), stored_->Principals());
}

std::shared_ptr<const security::PolicySet> ServerPolicyStore::PoliciesOf(
    std::string_view principal) const {
  std::shared_ptr<const security::PolicySet> given = given_->PoliciesOf(principal);
  std::shared_ptr<const security::PolicySet> stored = stored_->PoliciesOf(principal);
  if (given->empty()) return stored;
  if (stored->empty()) return given;
  auto all = std::make_shared<security::PolicySet>(*given);
  for (const security::NamedPolicy& named : *stored) {
    const bool hidden =
        std::any_of(given->begin(), given->end(),
                    [&named](const security::NamedPolicy& g) { return g.name == named.name; });
    if (!hidden) all->push_back(named);
  }
  std::sort(all->begin(), all->end(),
            [](const security::NamedPolicy& a, const security::NamedPolicy& b) {
              return a.name < b.name;
            });
  return all;
}

}  // namespace tidewater::server
