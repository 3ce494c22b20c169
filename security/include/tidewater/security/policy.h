// Access policies: IAM-style JSON policy documents attached to principals, their evaluation
// against one request, DynamoDB's AccessDeniedException, and the store that keeps them.
//
// The grammar ParsePolicy accepts (element names, Effect values and operator names are
// case-sensitive, as in IAM):
//   {"Version": "2012-10-17" | "2008-10-17",        optional; absent means 2008-10-17
//    "Id": "<text>",                                 optional
//    "Statement": <statement> | [<statement>, ...]}  required, at least one
//   <statement>: {"Sid": "[0-9A-Za-z]*" (optional, unique in the policy),
//                 "Effect": "Allow" | "Deny",
//                 "Action" | "NotAction": <string or non-empty array of strings>,
//                 "Resource" | "NotResource": <string or non-empty array of strings>,
//                 "Condition": {"<operator>": {"<key>": <value or non-empty array>, ...}}}
//   Actions: "*" or "<vendor>:<name>" (vendor [A-Za-z0-9-]+), matched case-insensitively
//     with the wildcards '*' (any run of characters) and '?' (one character).
//   Resources: "*" or an ARN (six ':'-separated parts), matched case-sensitively with the
//     same wildcards, which span ':' and '/' ("table/Music*" also matches the table's
//     index and stream ARNs, as in IAM).
//   Operators: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
//     StringNotEqualsIgnoreCase (ASCII case folding), StringLike, StringNotLike (wildcards);
//     NumericEquals, NumericNotEquals, NumericLessThan, NumericLessThanEquals,
//     NumericGreaterThan, NumericGreaterThanEquals (decimal numbers); DateEquals,
//     DateNotEquals, DateLessThan, DateLessThanEquals, DateGreaterThan,
//     DateGreaterThanEquals (ISO 8601 "2026-12-06", "2026-12-06T12:00:00Z" with optional
//     fraction and a Z or +hh:mm offset, or epoch seconds); Bool ("true"/"false");
//     IpAddress, NotIpAddress (IPv4 or IPv6 address or CIDR block); ArnEquals, ArnLike,
//     ArnNotEquals, ArnNotLike (the six ARN parts matched one by one, with wildcards);
//     Null ("true": the key is absent or has no values; "false": it has a value).
//     Any of them but Null may carry the prefix "ForAllValues:" or "ForAnyValue:" and the
//     suffix "IfExists". Other operators (BinaryEquals, ...) are rejected, never ignored.
//   Condition keys: "<vendor>:<name>", compared case-insensitively; any key may be used,
//     the ones Tidewater's handlers fill are named in condition_keys below.
//   Policy variables (Version 2012-10-17 only; in 2008-10-17 "${...}" is plain text): in
//     Resource/NotResource values and in the values of the String* and Arn* operators.
//     ${<key>} is the key's value, ${<key>, 'fallback'} the fallback when the key has
//     none; ${*}, ${?} and ${$} are a literal '*', '?' and '$' (never wildcards, and a
//     variable's value is never a wildcard either). A key resolves when the request has
//     exactly one value for it; aws:username is always the request's principal. A
//     statement that needs a variable that does not resolve does not apply (neither allows
//     nor denies), as IAM treats such a statement as invalid; a condition that is not
//     evaluated (IfExists on an absent key, a set operator on an absent key) does not need
//     its variables.
//   The size limit: kMaxPolicyCharacters characters of the document without its
//   whitespace (IAM's own limits are 6,144 for a managed policy and 10,240 for a role's
//   inline policies), and kMaxPolicyTextBytes for the text with its whitespace.
//
// Condition semantics (IAM's): the keys of a Condition block, and its operators, are ANDed;
// the values given for one key are ORed. For a negated operator (StringNotEquals,
// NotIpAddress, ArnNotLike, ...) a request value satisfies the condition when it matches
// none of the policy's values. Without a set operator the condition holds when some request
// value satisfies it (negated: when every one does; so an absent key makes a positive
// operator false and a negated one true). ForAllValues: every request value satisfies it,
// true for an absent key or one with no values. ForAnyValue: at least one does, false for
// an absent key or one with no values. ...IfExists: true when the key is absent (a key
// present with no values is evaluated as usual).
//
// Evaluation (IAM's identity-policy logic): default deny; an explicit Deny in any statement
// that matches wins; otherwise some matching Allow is needed.
#pragma once

#include <rapidjson/fwd.h>

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/status.h"

namespace tidewater::security {

// The size limits (see the grammar above).
inline constexpr size_t kMaxPolicyCharacters = 10'240;
inline constexpr size_t kMaxPolicyTextBytes = 131'072;

// The condition keys Tidewater's handlers put in a request, by their canonical spelling
// (lookups ignore case). Every one is optional; a handler sets the ones that apply.
namespace condition_keys {
// The principal's name; Evaluate always takes it from AuthorizationRequest::principal.
inline constexpr std::string_view kUsername = "aws:username";
// The time of the request, ISO 8601 UTC ("2026-12-06T12:00:00Z"), and as epoch seconds.
inline constexpr std::string_view kCurrentTime = "aws:CurrentTime";
inline constexpr std::string_view kEpochTime = "aws:EpochTime";
// The client's IP address ("192.0.2.7", "2001:db8::1").
inline constexpr std::string_view kSourceIp = "aws:SourceIp";
// The partition key values of the items the request touches (a number as its decimal
// text, a binary value as base64); absent for requests that name no key (Scan).
inline constexpr std::string_view kLeadingKeys = "dynamodb:LeadingKeys";
// The top-level attribute names the request reads (a projection) or writes (the item's
// names, key attributes included; the names an update expression sets or removes, and the
// key attributes); absent when a read names none (it returns whole items).
inline constexpr std::string_view kAttributes = "dynamodb:Attributes";
// The request's Select, ReturnValues and ReturnConsumedCapacity parameters, when it gives
// them (absent otherwise, as in DynamoDB: policies test them with ...IfExists).
inline constexpr std::string_view kSelect = "dynamodb:Select";
inline constexpr std::string_view kReturnValues = "dynamodb:ReturnValues";
inline constexpr std::string_view kReturnConsumedCapacity = "dynamodb:ReturnConsumedCapacity";
// "TransactWriteItems" or "TransactGetItems" for the per-item requests of a transaction.
inline constexpr std::string_view kEnclosingOperation = "dynamodb:EnclosingOperation";
}  // namespace condition_keys

// The condition keys of one request: each name (compared case-insensitively, as IAM does)
// has a list of string values. A key never set is absent; a key set to no values is
// present and empty (they differ only for ...IfExists). A value type: not thread-safe to
// modify, safe to read from several threads.
class ContextKeys {
 public:
  // Replaces the values of `name`.
  void Set(std::string_view name, std::vector<std::string> values);
  // Appends `value` to the values of `name` (creating the key).
  void Add(std::string_view name, std::string value);
  // The values of `name`, or nullptr when it is absent. Valid until the next change.
  const std::vector<std::string>* Find(std::string_view name) const;

 private:
  struct CaseInsensitiveLess {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const;
  };
  std::map<std::string, std::vector<std::string>, CaseInsensitiveLess> keys_;
};

// One authorization question: may `principal` perform `action` on `resource`?
//
// How handlers fill it (DynamoDB's rules; the ARNs are streams/resource_names.h's):
//   * item operations (GetItem, PutItem, UpdateItem, DeleteItem): action "dynamodb:<Op>",
//     resource the table ARN, context LeadingKeys = {the item's partition key value},
//     Attributes, and Select, ReturnValues, ReturnConsumedCapacity as the request gives them.
//   * Query and Scan: the table ARN, or "<table ARN>/index/<name>" with IndexName; Query's
//     LeadingKeys is the partition key value of its key condition, Scan has none.
//   * BatchGetItem / BatchWriteItem: one request per item, action "dynamodb:BatchGetItem" /
//     "dynamodb:BatchWriteItem", resource the item's table, that item's LeadingKeys and
//     Attributes (a put's item names; a delete's key names; a get's projection).
//   * TransactWriteItems: one request per action: "dynamodb:PutItem", "dynamodb:UpdateItem",
//     "dynamodb:DeleteItem" or "dynamodb:ConditionCheckItem" on the action's table, with
//     EnclosingOperation = {"TransactWriteItems"} and the item's keys and attribute names;
//     TransactGetItems: "dynamodb:GetItem" per item with EnclosingOperation =
//     {"TransactGetItems"}.
//   * streams (DescribeStream, GetShardIterator, GetRecords): the stream ARN
//     ("<table ARN>/stream/<label>"); ListStreams and ListTables: "*".
// Then Authorize(policies, requests, account) answers the whole request: every item must be
// allowed.
struct AuthorizationRequest {
  std::string principal;  // the authenticated user name (AuthenticatedPrincipal::principal)
  std::string action;     // "dynamodb:GetItem"
  std::string resource;   // "arn:aws:dynamodb:us-east-1:000000000000:table/Music"
  ContextKeys context;    // the condition keys (aws:username is taken from `principal`)
};

// A parsed policy document. Immutable once made by ParsePolicy; copies share the parsed
// form (cheap to copy, safe to read from any number of threads).
class Policy {
 public:
  // The document as compact JSON (no whitespace outside strings): what the store writes
  // and what parsing it again gives back unchanged.
  const std::string& document() const;
  size_t statement_count() const;

  struct Parsed;  // the statements, defined by the implementation

 private:
  friend struct PolicyAccess;  // the parser and the evaluator (policy.cc)
  explicit Policy(std::shared_ptr<const Parsed> parsed) : parsed_(std::move(parsed)) {}
  std::shared_ptr<const Parsed> parsed_;
};

// Parses a policy document. Errors are kValidation, "Malformed policy document: " and the
// problem after its place, for example
//   Malformed policy document: Statement[1] (Sid ReadOwn): Condition "StringLike"
//   "dynamodb:LeadingKeys": policy variable "${aws:username" is not closed with '}'
// Never throws; any input is safe (fuzzed: tests/fuzz/policy_fuzz.cc).
Result<Policy> ParsePolicy(std::string_view json);
// The same for a document already parsed as JSON (a member of a larger file; only
// kMaxPolicyCharacters applies).
Result<Policy> ParsePolicy(const rapidjson::Value& document);

// A policy attached to a principal under a name (IAM's policy names: [A-Za-z0-9+=,.@_-],
// 1 to 128 characters).
struct NamedPolicy {
  std::string name;
  Policy policy;
};
using PolicySet = std::vector<NamedPolicy>;

// How one request was decided, and which statement decided it.
struct Decision {
  enum class Outcome { kImplicitDeny, kAllowed, kExplicitDeny };
  Outcome outcome = Outcome::kImplicitDeny;
  // The first matching Deny for kExplicitDeny, the first matching Allow for kAllowed;
  // empty for kImplicitDeny.
  std::string policy_name;
  size_t statement_index = 0;  // 0-based, in the policy's Statement list
  std::string sid;             // that statement's Sid ("" when it has none)

  bool allowed() const { return outcome == Outcome::kAllowed; }
  bool explicitly_denied() const { return outcome == Outcome::kExplicitDeny; }
};

// Evaluates `request` against the principal's policies. A pure function: thread-safe.
Decision Evaluate(std::span<const NamedPolicy> policies, const AuthorizationRequest& request);

// DynamoDB's AccessDeniedException for a request that `decision` does not allow (made here
// only, so that its wording is corrected in one place):
//   "User: arn:aws:iam::<account>:user/<principal> is not authorized to perform: <action>
//    on resource: <resource> because no identity-based policy allows the <action> action"
// and for an explicit deny the tail "with an explicit deny in an identity-based policy".
// Ok when `decision` allows.
Status AccessDeniedError(const AuthorizationRequest& request, const Decision& decision,
                         std::string_view account_id);

// Evaluates every request (the items of a batch or transaction, or just one): ok when all
// are allowed, else the AccessDeniedError of the first that is not.
Status Authorize(std::span<const NamedPolicy> policies,
                 std::span<const AuthorizationRequest> requests, std::string_view account_id);

// One entry of a policy file.
struct PrincipalPolicy {
  std::string principal;
  NamedPolicy named;
};

// Reads a policy file, the format PolicyStore keeps and an operator writes by hand:
//   {"principals": {
//      "alice": {"OwnItems": {"Version": "2012-10-17", "Statement": [...]},
//                "ReadCatalog": {...}},
//      "bob": {...}}}
// (documents as JSON objects, not strings). Entries are sorted by principal, then name.
// Errors: kIOError when the file cannot be read; kValidation naming the principal and
// policy for a malformed document, name or file shape.
Result<std::vector<PrincipalPolicy>> ReadPolicyFile(const std::filesystem::path& path);

// The policies of every principal.
//
// [Contract] Put and Delete change the store atomically; with a backing file, each change
// is written (temporary file, fsync, rename; mode 0600) before it returns, so an
// acknowledged change survives a crash, and a failed write changes nothing. PoliciesOf is
// cheap (a map lookup and a shared_ptr copy under a mutex) and meant for every request:
// the set it returns is a snapshot that later changes do not touch.
// [Threading] Every method is thread-safe.
class PolicyStore {
 public:
  // `path` empty: kept in memory only. Otherwise the store loads `path` if it exists
  // (ReadPolicyFile's format; its directory must exist) and writes every change back.
  static Result<std::unique_ptr<PolicyStore>> Open(std::filesystem::path path);
  virtual ~PolicyStore() = default;

  // Attaches `policy` to `principal` as `name`, replacing a policy of that name
  // (PutUserPolicy). kValidation for a principal that is not 1 to 128 printable ASCII
  // characters other than space, or a name outside IAM's policy names.
  virtual Status Put(std::string_view principal, std::string_view name, Policy policy) = 0;
  // Get and Delete: kResourceNotFound when `principal` has no policy `name` (IAM's text,
  // "The user policy with name <name> cannot be found.").
  virtual Result<Policy> Get(std::string_view principal, std::string_view name) const = 0;
  virtual Status Delete(std::string_view principal, std::string_view name) = 0;
  // The principal's policy names, sorted; empty when it has none.
  virtual std::vector<std::string> List(std::string_view principal) const = 0;
  // The principals with at least one policy, sorted.
  virtual std::vector<std::string> Principals() const = 0;
  // The principal's policies (sorted by name) for Evaluate; never null, empty when none.
  virtual std::shared_ptr<const PolicySet> PoliciesOf(std::string_view principal) const = 0;
};

}  // namespace tidewater::security
