// libFuzzer target for access policies: ParsePolicy on arbitrary bytes and, when a document
// parses, Evaluate against a fixed set of requests.
//
// Properties: nothing crashes, hangs or recurses without bound; every error is a
// kValidation "Malformed policy document: ..." with a place and a problem; a document that
// parses is compact (within kMaxPolicyCharacters), parses again to the same document, and
// the reparsed policy decides every request as the original does; a decision names a
// statement exactly when it is not an implicit deny; AccessDeniedError is ok exactly when
// the decision allows, and is an AccessDeniedException naming the action otherwise.
//
// Build by hand (scripts/fuzz.sh builds it with the project: tests/fuzz/CMakeLists.txt):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
//     -fno-sanitize=pointer-overflow -fno-sanitize-recover=undefined \
//     -I security/include -I core/include tests/fuzz/policy_fuzz.cc security/src/policy.cc \
//     core/src/status.cc -o /tmp/policy_fuzz
// Run:
//   /tmp/policy_fuzz -dict=tests/fuzz/policy.dict -max_len=4096 <scratch-corpus-dir> \
//     tests/fuzz/corpus/policy
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/security/policy.h"

namespace {

using tidewater::ErrorCode;
using tidewater::security::AuthorizationRequest;
using tidewater::security::Decision;
using tidewater::security::NamedPolicy;
using tidewater::security::Policy;
namespace keys = tidewater::security::condition_keys;

constexpr std::string_view kAccount = "000000000000";
const std::string kMusic = "arn:aws:dynamodb:us-east-1:000000000000:table/Music";

[[noreturn]] void Fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "policy_fuzz: %s\n%.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

AuthorizationRequest MakeRequest(std::string principal, std::string action, std::string resource) {
  AuthorizationRequest request;
  request.principal = std::move(principal);
  request.action = std::move(action);
  request.resource = std::move(resource);
  return request;
}

// Requests that reach every kind of condition: item operations with DynamoDB's keys, an
// index query without keys, a stream read, a transaction item, a key present but empty,
// and values of every operator family.
const std::vector<AuthorizationRequest>& Requests() {
  static const std::vector<AuthorizationRequest> requests = [] {
    std::vector<AuthorizationRequest> out;
    AuthorizationRequest get = MakeRequest("alice", "dynamodb:GetItem", kMusic);
    get.context.Set(keys::kLeadingKeys, {"alice"});
    get.context.Set(keys::kAttributes, {"UserId", "Title"});
    get.context.Set(keys::kSelect, {"SPECIFIC_ATTRIBUTES"});
    get.context.Set(keys::kCurrentTime, {"2026-12-06T12:00:00Z"});
    get.context.Set(keys::kEpochTime, {"1796558400"});
    get.context.Set(keys::kSourceIp, {"192.0.2.7"});
    get.context.Set("aws:SecureTransport", {"true"});
    get.context.Set("custom:Count", {"5"});
    get.context.Set("custom:SourceArn", {kMusic + "/index/ByYear"});
    out.push_back(get);
    AuthorizationRequest batch = MakeRequest("bob", "dynamodb:BatchWriteItem", kMusic);
    batch.context.Set(keys::kLeadingKeys, {"alice", "bob", "caf\xC3\xA9"});
    batch.context.Set(keys::kReturnConsumedCapacity, {"INDEXES"});
    batch.context.Set(keys::kSourceIp, {"2001:db8::1"});
    out.push_back(batch);
    AuthorizationRequest query = MakeRequest("Mu*", "dynamodb:Query", kMusic + "/index/ByYear");
    query.context.Set(keys::kSelect, {"ALL_ATTRIBUTES"});
    query.context.Set(keys::kAttributes, {});
    out.push_back(query);
    AuthorizationRequest update = MakeRequest("alice", "dynamodb:UpdateItem", kMusic);
    update.context.Set(keys::kEnclosingOperation, {"TransactWriteItems"});
    update.context.Set(keys::kReturnValues, {"ALL_OLD"});
    update.context.Set(keys::kLeadingKeys, {"alice"});
    out.push_back(update);
    out.push_back(
        MakeRequest("alice", "dynamodb:GetRecords", kMusic + "/stream/2026-12-06T12:00:00.000"));
    out.push_back(MakeRequest("admin", "dynamodb:ListTables", "*"));
    return out;
  }();
  return requests;
}

void CheckDecision(const Decision& decision, const AuthorizationRequest& request,
                   std::string_view input) {
  if ((decision.outcome == Decision::Outcome::kImplicitDeny) != decision.policy_name.empty()) {
    Fail("a decision names a policy exactly when a statement decided", input);
  }
  const tidewater::Status denied = AccessDeniedError(request, decision, kAccount);
  if (denied.ok() != decision.allowed())
    Fail("AccessDeniedError disagrees with the decision", input);
  if (!denied.ok() && (denied.code() != ErrorCode::kAccessDenied ||
                       denied.message().find(request.action) == std::string::npos)) {
    Fail("AccessDeniedError is not an AccessDeniedException naming the action", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = tidewater::security::ParsePolicy(input);
  if (!parsed.ok()) {
    if (parsed.status().code() != ErrorCode::kValidation ||
        !parsed.status().message().starts_with("Malformed policy document: ") ||
        parsed.status().message().size() <=
            std::string_view("Malformed policy document: ").size()) {
      Fail("not a Malformed policy document error with a problem", input);
    }
    return 0;
  }
  const Policy& policy = *parsed;
  if (policy.document().size() > tidewater::security::kMaxPolicyCharacters) {
    Fail("a document above the limit was accepted", input);
  }
  auto reparsed = tidewater::security::ParsePolicy(policy.document());
  if (!reparsed.ok()) Fail("the compact document does not parse again", input);
  if (reparsed->document() != policy.document() ||
      reparsed->statement_count() != policy.statement_count()) {
    Fail("the compact document parses to a different policy", input);
  }
  const std::vector<NamedPolicy> original = {{"Fuzzed", policy}};
  const std::vector<NamedPolicy> again = {{"Fuzzed", *reparsed}};
  for (const AuthorizationRequest& request : Requests()) {
    const Decision decision = Evaluate(original, request);
    CheckDecision(decision, request, input);
    const Decision decision_again = Evaluate(again, request);
    if (decision_again.outcome != decision.outcome ||
        decision_again.statement_index != decision.statement_index ||
        decision_again.sid != decision.sid) {
      Fail("the reparsed policy decides differently", input);
    }
  }
  const tidewater::Status all = Authorize(original, Requests(), kAccount);
  if (!all.ok() && all.code() != ErrorCode::kAccessDenied)
    Fail("Authorize: not AccessDenied", input);
  return 0;
}
