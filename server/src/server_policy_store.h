// The access policies a tidewaterd with authorization=policies evaluates requests against
// (docs/OPERATIONS.md, "Authorization"), from two places, as its credentials:
//  * given at start (ServerOptions::policies, e.g. --policy-file): kept in memory only, never
//    written to the data directory, so that removing one from the file and restarting revokes
//    it. They cannot be changed or deleted through the admin API.
//  * stored in <data_dir>/policies.json: attached and detached through the admin API
//    (TidewaterAdmin_20261205.PutPolicy, DeletePolicy), kept across restarts.
// A principal's effective policies are both kinds; a policy given at start hides a stored one
// of the same principal and name.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/status.h"
#include "tidewater/security/policy.h"

namespace tidewater::server {

// [Contract] Get, List, Principals and PoliciesOf see both kinds; Put and Delete change the
// stored ones only (durably, see security::PolicyStore) and refuse a name given at start.
// PoliciesOf copies nothing for a principal whose policies are all of one kind.
// [Threading] Every method is thread-safe.
class ServerPolicyStore final : public security::PolicyStore {
 public:
  // Opens (or starts) the stored policies at `stored_path` and keeps `given` beside them.
  // Errors: the file cannot be read or is malformed; an entry of `given` with an invalid
  // principal or name (Validation).
  static Result<std::unique_ptr<ServerPolicyStore>> Open(
      const std::filesystem::path& stored_path,
      const std::vector<security::PrincipalPolicy>& given);

  // kValidation for a name given at start.
  Status Put(std::string_view principal, std::string_view name, security::Policy policy) override;
  Result<security::Policy> Get(std::string_view principal, std::string_view name) const override;
  // kValidation for a name given at start; kResourceNotFound for an unknown one.
  Status Delete(std::string_view principal, std::string_view name) override;
  std::vector<std::string> List(std::string_view principal) const override;
  std::vector<std::string> Principals() const override;
  std::shared_ptr<const security::PolicySet> PoliciesOf(std::string_view principal) const override;

  // Whether `principal`'s policy `name` was given at start.
  bool IsGiven(std::string_view principal, std::string_view name) const;
  size_t given_count() const { return given_count_; }

 private:
  ServerPolicyStore(std::unique_ptr<security::PolicyStore> given,
                    std::unique_ptr<security::PolicyStore> stored, size_t given_count)
      : given_(std::move(given)), stored_(std::move(stored)), given_count_(given_count) {}

  std::unique_ptr<security::PolicyStore> given_;   // in memory; unchanged after Open
  std::unique_ptr<security::PolicyStore> stored_;  // backed by the data directory's file
  size_t given_count_;
};

}  // namespace tidewater::server
