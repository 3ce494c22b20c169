// The access policies of principals, managed over tidewaterd's own API
// (TidewaterAdmin_20261205, JSON as DynamoDB's; the CLI's `tidewater admin policy ...`). They
// work whatever ServerOptions::authorization is (an operator prepares the policies before
// turning authorization on), but need authentication: without it there are no principals and
// every one answers ValidationException.
//
// PutPolicy {"Principal", "PolicyName", "PolicyDocument" (the policy as a JSON string,
//   security/policy.h's grammar)} attaches the policy, replacing one of that name, and
//   answers {}. A malformed document is a ValidationException with ParsePolicy's message; a
//   policy given at start (--policy-file) cannot be replaced.
// GetPolicy {"Principal", "PolicyName"} answers {"Principal", "PolicyName", "PolicyDocument"
//   (compact JSON)}; ResourceNotFoundException when the principal has no such policy.
// DeletePolicy {"Principal", "PolicyName"} answers {}; ResourceNotFoundException for an
//   unknown policy, ValidationException for one given at start.
// ListPolicies {"Principal" (optional: every principal's)} answers {"Policies": [{"Principal",
//   "PolicyName", "Source": "file" (given at start) | "store" (attached with PutPolicy)}, ...]}
//   sorted by principal, then name.
#include <spdlog/spdlog.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "handler_support.h"
#include "handlers.h"
#include "server_policy_store.h"
#include "tidewater/security/policy.h"

namespace tidewater::server {
namespace {

// IAM's limits on user names and policy names (the store checks their characters).
constexpr size_t kMaxPrincipalLength = 128;
constexpr size_t kMaxPolicyNameLength = 128;

Result<ServerPolicyStore*> PoliciesOf(ServiceContext& service) {
  if (service.policies == nullptr) {
    return Status::Validation(
        "tidewaterd does not require authentication (--auth off): it has no principals to "
        "attach policies to");
  }
  return service.policies;
}

void CheckName(std::string_view path, std::optional<std::string_view> value, size_t max_length,
               ConstraintErrors& errors) {
  errors.RequireNotNull(path, value.has_value());
  errors.CheckLength(path, value, 1, max_length);
}

// The Principal and PolicyName members every operation but ListPolicies needs.
struct PolicyId {
  std::string_view principal;
  std::string_view name;
};

Result<PolicyId> ReadPolicyId(const rapidjson::Value& request, ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(auto principal, GetString(request, "Principal"));
  TW_ASSIGN_OR_RETURN(auto name, GetString(request, "PolicyName"));
  CheckName("principal", principal, kMaxPrincipalLength, errors);
  CheckName("policyName", name, kMaxPolicyNameLength, errors);
  return PolicyId{principal.value_or(""), name.value_or("")};
}

void WriteEmptyObject(json::Writer& w) {
  w.StartObject();
  w.EndObject();
}

}  // namespace

Status PutPolicy(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  TW_ASSIGN_OR_RETURN(ServerPolicyStore * store, PoliciesOf(service));
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(PolicyId id, ReadPolicyId(request, errors));
  TW_ASSIGN_OR_RETURN(auto document, GetString(request, "PolicyDocument"));
  errors.RequireNotNull("policyDocument", document.has_value());
  errors.CheckLength("policyDocument", document, 1, security::kMaxPolicyTextBytes);
  TW_RETURN_IF_ERROR(errors.ToStatus());

  TW_ASSIGN_OR_RETURN(security::Policy policy, security::ParsePolicy(*document));
  TW_RETURN_IF_ERROR(store->Put(id.principal, id.name, std::move(policy)));
  spdlog::info("event=policy_put principal={} policy={}", id.principal, id.name);
  WriteEmptyObject(scope.writer);
  return Status::Ok();
}

Status GetPolicy(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  TW_ASSIGN_OR_RETURN(ServerPolicyStore * store, PoliciesOf(service));
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(PolicyId id, ReadPolicyId(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());

  TW_ASSIGN_OR_RETURN(security::Policy policy, store->Get(id.principal, id.name));
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Principal");
  WriteString(w, id.principal);
  w.Key("PolicyName");
  WriteString(w, id.name);
  w.Key("PolicyDocument");
  WriteString(w, policy.document());
  w.EndObject();
  return Status::Ok();
}

Status DeletePolicy(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  TW_ASSIGN_OR_RETURN(ServerPolicyStore * store, PoliciesOf(service));
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(PolicyId id, ReadPolicyId(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());

  TW_RETURN_IF_ERROR(store->Delete(id.principal, id.name));
  spdlog::info("event=policy_deleted principal={} policy={}", id.principal, id.name);
  WriteEmptyObject(scope.writer);
  return Status::Ok();
}

Status ListPolicies(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  TW_ASSIGN_OR_RETURN(ServerPolicyStore * store, PoliciesOf(service));
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto principal, GetString(request, "Principal"));
  errors.CheckLength("principal", principal, 1, kMaxPrincipalLength);
  TW_RETURN_IF_ERROR(errors.ToStatus());

  const std::vector<std::string> principals =
      principal ? std::vector<std::string>{std::string(*principal)} : store->Principals();
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Policies");
  w.StartArray();
  for (const std::string& owner : principals) {
    for (const std::string& name : store->List(owner)) {
      w.StartObject();
      w.Key("Principal");
      WriteString(w, owner);
      w.Key("PolicyName");
      WriteString(w, name);
      w.Key("Source");
      WriteString(w, store->IsGiven(owner, name) ? "file" : "store");
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return Status::Ok();
}

}  // namespace tidewater::server
