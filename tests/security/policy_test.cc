// Access policies: the evaluation table (actions, resources, explicit deny, DynamoDB's
// fine-grained condition keys, policy variables, every operator family and its case and
// set rules), the parser's errors, DynamoDB's AccessDeniedException, per-item
// authorization of batches and transactions, and the PolicyStore with its file.
#include "tidewater/security/policy.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"

namespace tidewater::security {
namespace {

using testing::TempDir;
using Outcome = Decision::Outcome;

const std::string kAccount = "000000000000";
const std::string kArnPrefix = "arn:aws:dynamodb:us-east-1:" + kAccount + ":";
const std::string kMusic = kArnPrefix + "table/Music";
const std::string kByYear = kMusic + "/index/ByYear";
const std::string kStream = kMusic + "/stream/2026-12-06T12:00:00.000";

// `text` with every ' turned into ", so that policies read without escapes.
std::string Q(std::string text) {
  std::replace(text.begin(), text.end(), '\'', '"');
  return text;
}

std::string JsonList(const std::vector<std::string>& values) {
  std::string out = "[";
  for (const std::string& value : values) out += (out.size() > 1 ? ",\"" : "\"") + value + "\"";
  return out + "]";
}

// One statement; `condition` is a JSON object written with ' for ".
std::string S(const std::string& sid, const std::string& effect,
              const std::vector<std::string>& actions, const std::vector<std::string>& resources,
              const std::string& condition = "") {
  std::string out = "{\"Sid\":\"" + sid + "\",\"Effect\":\"" + effect +
                    "\",\"Action\":" + JsonList(actions) + ",\"Resource\":" + JsonList(resources);
  if (!condition.empty()) out += ",\"Condition\":" + Q(condition);
  return out + "}";
}

std::string Doc(const std::vector<std::string>& statements,
                const std::string& version = "2012-10-17") {
  std::string out = "{";
  if (!version.empty()) out += "\"Version\":\"" + version + "\",";
  out += "\"Statement\":[";
  for (size_t i = 0; i < statements.size(); ++i) out += (i > 0 ? "," : "") + statements[i];
  return out + "]}";
}

Policy MustParse(const std::string& json) {
  Result<Policy> policy = ParsePolicy(json);
  EXPECT_TRUE(policy.ok()) << policy.status().ToString() << "\n" << json;
  if (policy.ok()) return std::move(policy).value();
  return ParsePolicy(Q("{'Statement':{'Effect':'Deny','Action':'none:none','Resource':'*'}}"))
      .value();
}

PolicySet Named(const std::vector<std::string>& documents) {
  PolicySet set;
  for (size_t i = 0; i < documents.size(); ++i) {
    set.push_back({"P" + std::to_string(i), MustParse(documents[i])});
  }
  return set;
}

AuthorizationRequest Request(const std::string& principal, const std::string& action,
                             const std::string& resource,
                             const std::map<std::string, std::vector<std::string>>& context = {}) {
  AuthorizationRequest request{principal, action, resource, {}};
  for (const auto& [key, values] : context) request.context.Set(key, values);
  return request;
}

// ---------------------------------------------------------------------------------------
// The evaluation table.

struct EvaluationCase {
  std::string name;
  std::vector<std::string> policies;  // attached as P0, P1, ...
  std::string action;
  std::string resource;
  std::map<std::string, std::vector<std::string>> context;
  Outcome expected;
  std::string deciding_sid = "";  // for kAllowed and kExplicitDeny
  std::string principal = "alice";
};

std::vector<EvaluationCase> EvaluationCases() {
  const std::string get = "dynamodb:GetItem";
  const std::string put = "dynamodb:PutItem";
  const std::string query = "dynamodb:Query";
  const std::string update = "dynamodb:UpdateItem";
  const auto allowed = Outcome::kAllowed;
  const auto implicit = Outcome::kImplicitDeny;
  const auto denied = Outcome::kExplicitDeny;
  const std::string allow_all = S("All", "Allow", {"dynamodb:*"}, {"*"});
  // Allow on Music under one condition block.
  const auto allow_if = [&](const std::string& condition,
                            const std::vector<std::string>& actions = {"dynamodb:*"}) {
    return Doc({S("If", "Allow", actions, {kMusic}, condition)});
  };
  const std::string get_music = Doc({S("Get", "Allow", {get}, {kMusic})});
  const std::string get_prefix = Doc({S("Reads", "Allow", {"dynamodb:Get*"}, {kMusic})});
  const std::string not_action =
      Q("{'Version':'2012-10-17','Statement':{'Sid':'NA','Effect':'Allow',"
        "'NotAction':'dynamodb:DeleteTable','Resource':'*'}}");
  const std::string only_reads =
      Doc({allow_all, Q("{'Sid':'OnlyReads','Effect':'Deny','NotAction':['dynamodb:GetItem',"
                        "'dynamodb:Query'],'Resource':'*'}")});
  const std::string not_secret =
      Q("{'Version':'2012-10-17','Statement':[{'Sid':'NotSecret','Effect':'Allow',"
        "'Action':'dynamodb:*','NotResource':'" +
        kArnPrefix + "table/Secret'}]}");
  const std::string own_items =
      Doc({S("OwnItems", "Allow", {get, put, query, "dynamodb:BatchWriteItem"}, {kMusic},
             "{'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':['${aws:username}']}}")});
  const std::string own_items_2008 =
      Doc({S("OwnItems", "Allow", {get}, {kMusic},
             "{'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':['${aws:username}']}}")},
          "2008-10-17");
  const std::string own_items_no_version =
      Doc({S("OwnItems", "Allow", {get}, {kMusic},
             "{'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':['${aws:username}']}}")},
          "");
  const std::string own_items_required =
      Doc({S("OwnItems", "Allow", {get, query}, {kMusic},
             "{'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':['${aws:username}']},"
             "'Null':{'dynamodb:LeadingKeys':'false'}}")});
  const std::string attribute_limits =
      Doc({S("Attrs", "Allow", {get, query}, {kMusic},
             "{'ForAllValues:StringEquals':{'dynamodb:Attributes':['UserId','Title','TopScore']},"
             "'StringEqualsIfExists':{'dynamodb:Select':'SPECIFIC_ATTRIBUTES'}}")});
  const std::string return_value_limits = Doc({S(
      "Returns", "Allow", {update}, {kMusic},
      "{'StringEqualsIfExists':{'dynamodb:ReturnValues':['NONE','UPDATED_OLD','UPDATED_NEW']}}")});
  const std::string transactions_only = allow_if(
      "{'ForAnyValue:StringEquals':{'dynamodb:EnclosingOperation':"
      "['TransactWriteItems','TransactGetItems']}}");
  const std::string fallback =
      R"({"Version":"2012-10-17","Statement":{"Sid":"Fallback","Effect":"Allow",)"
      R"("Action":"dynamodb:UpdateItem","Resource":"*","Condition":{"StringEquals":)"
      R"({"dynamodb:ReturnValues":"${custom:Default, 'NONE'}"}}}})";
  const std::string ip_deny = Doc({allow_all, S("OutsideNet", "Deny", {"dynamodb:*"}, {"*"},
                                                "{'NotIpAddress':{'aws:SourceIp':'10.0.0.0/8'}}")});
  const std::string deny_unless_admin =
      Doc({allow_all, S("OnlyAdmin", "Deny", {"dynamodb:DeleteTable"}, {"*"},
                        "{'StringNotEquals':{'aws:username':'admin'}}")});

  return {
      // Actions.
      {"ExactActionAllows", {get_music}, get, kMusic, {}, allowed, "Get"},
      {"OtherActionIsImplicitlyDenied", {get_music}, put, kMusic, {}, implicit},
      {"ServiceWildcardAllowsEveryAction",
       {Doc({S("Any", "Allow", {"dynamodb:*"}, {"*"})})},
       "dynamodb:DescribeStream",
       kStream,
       {},
       allowed,
       "Any"},
      {"PrefixWildcardAllowsGetItem", {get_prefix}, get, kMusic, {}, allowed, "Reads"},
      {"PrefixWildcardAllowsGetRecords",
       {get_prefix},
       "dynamodb:GetRecords",
       kMusic,
       {},
       allowed,
       "Reads"},
      {"PrefixWildcardLeavesPutItem", {get_prefix}, put, kMusic, {}, implicit},
      {"SingleCharacterWildcard",
       {Doc({S("Q", "Allow", {"dynamodb:?etItem"}, {kMusic})})},
       get,
       kMusic,
       {},
       allowed,
       "Q"},
      {"ActionsIgnoreCase",
       {Doc({S("Case", "Allow", {"DynamoDB:getitem"}, {kMusic})})},
       get,
       kMusic,
       {},
       allowed,
       "Case"},
      {"StarActionAllowsListTables",
       {Doc({S("Star", "Allow", {"*"}, {"*"})})},
       "dynamodb:ListTables",
       "*",
       {},
       allowed,
       "Star"},
      {"OtherVendorDoesNotMatch",
       {Doc({S("S3", "Allow", {"s3:*"}, {"*"})})},
       get,
       kMusic,
       {},
       implicit},
      {"NotActionAllowsTheOthers", {not_action}, get, kMusic, {}, allowed, "NA"},
      {"NotActionLeavesItsActions", {not_action}, "dynamodb:DeleteTable", kMusic, {}, implicit},
      {"DenyNotActionDeniesWrites", {only_reads}, put, kMusic, {}, denied, "OnlyReads"},
      {"DenyNotActionLeavesReads", {only_reads}, query, kMusic, {}, allowed, "All"},
      // Resources.
      {"TableArnDoesNotCoverItsIndex", {get_music}, get, kByYear, {}, implicit},
      {"IndexWildcardCoversIndexes",
       {Doc({S("Idx", "Allow", {query}, {kMusic + "/index/*"})})},
       query,
       kByYear,
       {},
       allowed,
       "Idx"},
      {"TablePrefixWildcardSpansSlashesToIndexes",
       {Doc({S("Pre", "Allow", {"dynamodb:*"}, {kMusic + "*"})})},
       query,
       kByYear,
       {},
       allowed,
       "Pre"},
      {"TablePrefixWildcardSpansSlashesToStreams",
       {Doc({S("Pre", "Allow", {"dynamodb:*"}, {kMusic + "*"})})},
       "dynamodb:GetRecords",
       kStream,
       {},
       allowed,
       "Pre"},
      {"ExactTableDoesNotMatchALongerName", {get_music}, get, kMusic + "Archive", {}, implicit},
      {"ResourcesAreCaseSensitive",
       {Doc({S("Low", "Allow", {get}, {kArnPrefix + "table/music"})})},
       get,
       kMusic,
       {},
       implicit},
      {"RegionAndAccountWildcards",
       {Doc({S("Any", "Allow", {get}, {"arn:aws:dynamodb:*:*:table/Music"})})},
       get,
       kMusic,
       {},
       allowed,
       "Any"},
      {"QuestionMarkInResource",
       {Doc({S("Q", "Allow", {get}, {kArnPrefix + "table/Musi?"})})},
       get,
       kMusic,
       {},
       allowed,
       "Q"},
      {"StreamWildcardCoversStreams",
       {Doc({S("Streams", "Allow", {"dynamodb:GetRecords"}, {kMusic + "/stream/*"})})},
       "dynamodb:GetRecords",
       kStream,
       {},
       allowed,
       "Streams"},
      {"StreamWildcardDoesNotCoverTheTable",
       {Doc({S("Streams", "Allow", {"dynamodb:GetRecords"}, {kMusic + "/stream/*"})})},
       "dynamodb:GetRecords",
       kMusic,
       {},
       implicit},
      {"NotResourceAllowsOtherTables", {not_secret}, get, kMusic, {}, allowed, "NotSecret"},
      {"NotResourceLeavesItsTable", {not_secret}, get, kArnPrefix + "table/Secret", {}, implicit},
      // Explicit and implicit deny.
      {"NoPoliciesIsImplicitDeny", {}, get, kMusic, {}, implicit},
      {"NoMatchingStatementIsImplicitDeny",
       {get_music},
       get,
       kArnPrefix + "table/Other",
       {},
       implicit},
      {"DenyWinsInTheSamePolicy",
       {Doc({allow_all, S("NoDelete", "Deny", {"dynamodb:DeleteItem"}, {kMusic})})},
       "dynamodb:DeleteItem",
       kMusic,
       {},
       denied,
       "NoDelete"},
      {"DenyWinsAcrossPolicies",
       {Doc({allow_all}), Doc({S("NoDelete", "Deny", {"dynamodb:Delete*"}, {"*"})})},
       "dynamodb:DeleteItem",
       kMusic,
       {},
       denied,
       "NoDelete"},
      {"DenyBeforeAllowStillWins",
       {Doc({S("NoDelete", "Deny", {"dynamodb:DeleteItem"}, {"*"})}), Doc({allow_all})},
       "dynamodb:DeleteItem",
       kMusic,
       {},
       denied,
       "NoDelete"},
      {"DenyWhoseConditionFailsDoesNotApply",
       {Doc({allow_all, S("NoOld", "Deny", {"dynamodb:DeleteItem"}, {"*"},
                          "{'StringEquals':{'dynamodb:ReturnValues':'ALL_OLD'}}")})},
       "dynamodb:DeleteItem",
       kMusic,
       {{"dynamodb:ReturnValues", {"NONE"}}},
       allowed,
       "All"},
      {"FirstMatchingAllowDecides",
       {Doc({S("First", "Allow", {get}, {kMusic})}), Doc({allow_all})},
       get,
       kMusic,
       {},
       allowed,
       "First"},
      // dynamodb:LeadingKeys with ${aws:username}.
      {"LeadingKeysOwnKey",
       {own_items},
       get,
       kMusic,
       {{"dynamodb:LeadingKeys", {"alice"}}},
       allowed,
       "OwnItems"},
      {"LeadingKeysAnotherUsersKey",
       {own_items},
       get,
       kMusic,
       {{"dynamodb:LeadingKeys", {"bob"}}},
       implicit},
      {"LeadingKeysBobsOwnKey",
       {own_items},
       get,
       kMusic,
       {{"dynamodb:LeadingKeys", {"bob"}}},
       allowed,
       "OwnItems",
       "bob"},
      {"LeadingKeysOneForeignValue",
       {own_items},
       query,
       kMusic,
       {{"dynamodb:LeadingKeys", {"alice", "bob"}}},
       implicit},
      {"LeadingKeysAbsentPassesForAllValues", {own_items}, query, kMusic, {}, allowed, "OwnItems"},
      {"LeadingKeysEmptyPassesForAllValues",
       {own_items},
       query,
       kMusic,
       {{"dynamodb:LeadingKeys", {}}},
       allowed,
       "OwnItems"},
      {"LeadingKeysNullGuardRequiresAKey", {own_items_required}, query, kMusic, {}, implicit},
      {"LeadingKeysNullGuardWithOwnKey",
       {own_items_required},
       query,
       kMusic,
       {{"dynamodb:LeadingKeys", {"alice"}}},
       allowed,
       "OwnItems"},
      // Versions and policy variables.
      {"Version2008KeepsVariablesLiteral",
       {own_items_2008},
       get,
       kMusic,
       {{"dynamodb:LeadingKeys", {"alice"}}},
       implicit},
      {"Version2008MatchesTheLiteralText",
       {own_items_2008},
       get,
       kMusic,
       {{"dynamodb:LeadingKeys", {"${aws:username}"}}},
       allowed,
       "OwnItems"},
      {"NoVersionIsVersion2008",
       {own_items_no_version},
       get,
       kMusic,
       {{"dynamodb:LeadingKeys", {"alice"}}},
       implicit},
      {"VariableInResource",
       {Doc({S("Mine", "Allow", {get}, {kArnPrefix + "table/${aws:username}-*"})})},
       get,
       kArnPrefix + "table/alice-notes",
       {},
       allowed,
       "Mine"},
      {"VariableInResourceOtherUser",
       {Doc({S("Mine", "Allow", {get}, {kArnPrefix + "table/${aws:username}-*"})})},
       get,
       kArnPrefix + "table/alice-notes",
       {},
       implicit,
       "",
       "bob"},
      {"VariableValueIsNeverAWildcard",
       {Doc({S("Mine", "Allow", {get}, {kArnPrefix + "table/${aws:username}"})})},
       get,
       kMusic,
       {},
       implicit,
       "",
       "Mu*"},
      {"VariableNamesIgnoreCase",
       {allow_if("{'StringEquals':{'dynamodb:LeadingKeys':'${AWS:UserName}'}}")},
       get,
       kMusic,
       {{"dynamodb:LeadingKeys", {"alice"}}},
       allowed,
       "If"},
      {"EscapedStarIsLiteral",
       {allow_if("{'StringLike':{'custom:Tag':'a${*}b'}}")},
       get,
       kMusic,
       {{"custom:Tag", {"a*b"}}},
       allowed,
       "If"},
      {"EscapedStarIsNotAWildcard",
       {allow_if("{'StringLike':{'custom:Tag':'a${*}b'}}")},
       get,
       kMusic,
       {{"custom:Tag", {"axb"}}},
       implicit},
      {"EscapedDollarAndQuestionMark",
       {allow_if("{'StringLike':{'custom:Tag':'${$}{x}${?}'}}")},
       get,
       kMusic,
       {{"custom:Tag", {"${x}?"}}},
       allowed,
       "If"},
      {"FallbackWhenTheKeyIsAbsent",
       {fallback},
       update,
       kMusic,
       {{"dynamodb:ReturnValues", {"NONE"}}},
       allowed,
       "Fallback"},
      {"NoFallbackWhenTheKeyIsPresent",
       {fallback},
       update,
       kMusic,
       {{"dynamodb:ReturnValues", {"NONE"}}, {"custom:Default", {"ALL_OLD"}}},
       implicit},
      {"UnresolvedVariableAllowDoesNotApply",
       {allow_if("{'StringEquals':{'dynamodb:Select':'${custom:Missing}'}}")},
       get,
       kMusic,
       {{"dynamodb:Select", {"ALL_ATTRIBUTES"}}},
       implicit},
      {"UnresolvedVariableDenyDoesNotApply",
       {Doc({allow_all, S("Odd", "Deny", {"*"}, {"*"},
                          "{'StringNotEquals':{'dynamodb:Select':'${custom:Missing}'}}")})},
       get,
       kMusic,
       {{"dynamodb:Select", {"ALL_ATTRIBUTES"}}},
       allowed,
       "All"},
      {"MultiValuedVariableDoesNotResolve",
       {Doc({S("Team", "Allow", {get}, {kArnPrefix + "table/${custom:Team}"})})},
       get,
       kMusic,
       {{"custom:Team", {"Music", "Video"}}},
       implicit},
      {"SingleValuedVariableResolves",
       {Doc({S("Team", "Allow", {get}, {kArnPrefix + "table/${custom:Team}"})})},
       get,
       kMusic,
       {{"custom:Team", {"Music"}}},
       allowed,
       "Team"},
      // dynamodb:Attributes and dynamodb:Select.
      {"AttributesWithinTheLimit",
       {attribute_limits},
       get,
       kMusic,
       {{"dynamodb:Attributes", {"UserId", "TopScore"}},
        {"dynamodb:Select", {"SPECIFIC_ATTRIBUTES"}}},
       allowed,
       "Attrs"},
      {"AttributeOutsideTheLimit",
       {attribute_limits},
       get,
       kMusic,
       {{"dynamodb:Attributes", {"UserId", "Secret"}},
        {"dynamodb:Select", {"SPECIFIC_ATTRIBUTES"}}},
       implicit},
      {"SelectAllAttributesDenied",
       {attribute_limits},
       query,
       kMusic,
       {{"dynamodb:Select", {"ALL_ATTRIBUTES"}}},
       implicit},
      {"SelectCountDenied",
       {attribute_limits},
       query,
       kMusic,
       {{"dynamodb:Select", {"COUNT"}}},
       implicit},
      {"NeitherAttributesNorSelectPasses", {attribute_limits}, get, kMusic, {}, allowed, "Attrs"},
      // dynamodb:ReturnValues and dynamodb:ReturnConsumedCapacity.
      {"ReturnValuesAllowedValue",
       {return_value_limits},
       update,
       kMusic,
       {{"dynamodb:ReturnValues", {"UPDATED_NEW"}}},
       allowed,
       "Returns"},
      {"ReturnValuesAllOldDenied",
       {return_value_limits},
       update,
       kMusic,
       {{"dynamodb:ReturnValues", {"ALL_OLD"}}},
       implicit},
      {"ReturnValuesAbsentPasses", {return_value_limits}, update, kMusic, {}, allowed, "Returns"},
      {"ReturnConsumedCapacityDenied",
       {Doc({allow_all, S("NoIndexes", "Deny", {"*"}, {"*"},
                          "{'StringEquals':{'dynamodb:ReturnConsumedCapacity':'INDEXES'}}")})},
       query,
       kMusic,
       {{"dynamodb:ReturnConsumedCapacity", {"INDEXES"}}},
       denied,
       "NoIndexes"},
      {"ReturnConsumedCapacityTotalAllowed",
       {Doc({allow_all, S("NoIndexes", "Deny", {"*"}, {"*"},
                          "{'StringEquals':{'dynamodb:ReturnConsumedCapacity':'INDEXES'}}")})},
       query,
       kMusic,
       {{"dynamodb:ReturnConsumedCapacity", {"TOTAL"}}},
       allowed,
       "All"},
      // Null.
      {"NullTrueWithTheKeyAbsent",
       {allow_if("{'Null':{'custom:Flag':'true'}}")},
       get,
       kMusic,
       {},
       allowed,
       "If"},
      {"NullTrueWithTheKeyPresent",
       {allow_if("{'Null':{'custom:Flag':'true'}}")},
       get,
       kMusic,
       {{"custom:Flag", {"x"}}},
       implicit},
      {"NullTrueWithNoValues",
       {allow_if("{'Null':{'custom:Flag':true}}")},
       get,
       kMusic,
       {{"custom:Flag", {}}},
       allowed,
       "If"},
      {"NullFalseWithTheKeyAbsent",
       {allow_if("{'Null':{'custom:Flag':'false'}}")},
       get,
       kMusic,
       {},
       implicit},
      // ...IfExists and the set operators on absent and empty keys.
      {"IfExistsAbsentKeyPasses",
       {allow_if("{'StringEqualsIfExists':{'custom:Stage':'prod'}}")},
       get,
       kMusic,
       {},
       allowed,
       "If"},
      {"IfExistsPresentKeyMustMatch",
       {allow_if("{'StringEqualsIfExists':{'custom:Stage':'prod'}}")},
       get,
       kMusic,
       {{"custom:Stage", {"dev"}}},
       implicit},
      {"IfExistsEmptyKeyIsEvaluated",
       {allow_if("{'StringEqualsIfExists':{'custom:Stage':'prod'}}")},
       get,
       kMusic,
       {{"custom:Stage", {}}},
       implicit},
      {"ForAnyValueAbsentKeyIsFalse", {transactions_only}, put, kMusic, {}, implicit},
      {"ForAnyValueInATransaction",
       {transactions_only},
       put,
       kMusic,
       {{"dynamodb:EnclosingOperation", {"TransactWriteItems"}}},
       allowed,
       "If"},
      {"ForAnyValueIfExistsAbsentKeyPasses",
       {allow_if("{'ForAnyValue:StringEqualsIfExists':{'custom:Tags':['a','b']}}")},
       get,
       kMusic,
       {},
       allowed,
       "If"},
      {"ForAnyValueOneValueMatches",
       {allow_if("{'ForAnyValue:StringEquals':{'custom:Tags':['a','b']}}")},
       get,
       kMusic,
       {{"custom:Tags", {"x", "b"}}},
       allowed,
       "If"},
      // Negated operators.
      {"StringNotEqualsAbsentKeyHolds",
       {allow_if("{'StringNotEquals':{'dynamodb:ReturnValues':'ALL_OLD'}}")},
       update,
       kMusic,
       {},
       allowed,
       "If"},
      {"StringNotEqualsMatchingValueFails",
       {allow_if("{'StringNotEquals':{'dynamodb:ReturnValues':'ALL_OLD'}}")},
       update,
       kMusic,
       {{"dynamodb:ReturnValues", {"ALL_OLD"}}},
       implicit},
      {"StringNotEqualsOtherValueHolds",
       {allow_if("{'StringNotEquals':{'dynamodb:ReturnValues':['ALL_OLD','ALL_NEW']}}")},
       update,
       kMusic,
       {{"dynamodb:ReturnValues", {"NONE"}}},
       allowed,
       "If"},
      {"ForAllValuesStringNotLikeHolds",
       {allow_if("{'ForAllValues:StringNotLike':{'dynamodb:Attributes':'Secret*'}}")},
       get,
       kMusic,
       {{"dynamodb:Attributes", {"Title", "Year"}}},
       allowed,
       "If"},
      {"ForAllValuesStringNotLikeFails",
       {allow_if("{'ForAllValues:StringNotLike':{'dynamodb:Attributes':'Secret*'}}")},
       get,
       kMusic,
       {{"dynamodb:Attributes", {"Title", "SecretNote"}}},
       implicit},
      {"ForAnyValueStringNotEqualsHolds",
       {allow_if("{'ForAnyValue:StringNotEquals':{'custom:Team':'alice'}}")},
       get,
       kMusic,
       {{"custom:Team", {"alice", "bob"}}},
       allowed,
       "If"},
      {"ForAnyValueStringNotEqualsFails",
       {allow_if("{'ForAnyValue:StringNotEquals':{'custom:Team':'alice'}}")},
       get,
       kMusic,
       {{"custom:Team", {"alice"}}},
       implicit},
      {"DenyUnlessAdminDeniesAlice",
       {deny_unless_admin},
       "dynamodb:DeleteTable",
       kMusic,
       {},
       denied,
       "OnlyAdmin"},
      {"DenyUnlessAdminLeavesAdmin",
       {deny_unless_admin},
       "dynamodb:DeleteTable",
       kMusic,
       {},
       allowed,
       "All",
       "admin"},
      // Case rules of condition keys and values.
      {"ConditionKeyNamesIgnoreCase",
       {allow_if("{'StringEquals':{'DynamoDB:leadingKEYS':'${aws:username}'}}")},
       get,
       kMusic,
       {{"dynamodb:LeadingKeys", {"alice"}}},
       allowed,
       "If"},
      {"StringEqualsIsCaseSensitive",
       {allow_if("{'StringEquals':{'custom:Name':'Alice'}}")},
       get,
       kMusic,
       {{"custom:Name", {"alice"}}},
       implicit},
      {"StringEqualsIgnoreCase",
       {allow_if("{'StringEqualsIgnoreCase':{'custom:Name':'Alice'}}")},
       get,
       kMusic,
       {{"custom:Name", {"aLiCe"}}},
       allowed,
       "If"},
      {"StringNotEqualsIgnoreCase",
       {allow_if("{'StringNotEqualsIgnoreCase':{'custom:Name':'alice'}}")},
       get,
       kMusic,
       {{"custom:Name", {"ALICE"}}},
       implicit},
      {"StringLikeIsCaseSensitive",
       {allow_if("{'StringLike':{'custom:Name':'Mus*'}}")},
       get,
       kMusic,
       {{"custom:Name", {"music"}}},
       implicit},
      {"StringLikeQuestionMarkIsOneCharacter",
       {allow_if("{'StringLike':{'custom:Name':'caf?'}}")},
       get,
       kMusic,
       {{"custom:Name", {"caf\xC3\xA9"}}},
       allowed,
       "If"},
      // AND across keys and operators, OR across the values of one key.
      {"ValuesOfOneKeyAreOred",
       {allow_if("{'StringEquals':{'custom:Stage':['dev','test']}}")},
       get,
       kMusic,
       {{"custom:Stage", {"test"}}},
       allowed,
       "If"},
      {"KeysAreAnded",
       {allow_if("{'StringEquals':{'custom:Stage':'dev','custom:Team':'red'}}")},
       get,
       kMusic,
       {{"custom:Stage", {"dev"}}, {"custom:Team", {"blue"}}},
       implicit},
      {"OperatorsAreAndedAndHold",
       {allow_if("{'StringEquals':{'custom:Stage':'dev'},'StringLike':{'custom:Team':'r*'}}")},
       get,
       kMusic,
       {{"custom:Stage", {"dev"}}, {"custom:Team", {"red"}}},
       allowed,
       "If"},
      {"OperatorsAreAndedAndFail",
       {allow_if("{'StringEquals':{'custom:Stage':'dev'},'StringLike':{'custom:Team':'r*'}}")},
       get,
       kMusic,
       {{"custom:Stage", {"dev"}}, {"custom:Team", {"blue"}}},
       implicit},
      // Numbers, dates, booleans, addresses and ARNs.
      {"NumericLessThanHolds",
       {allow_if("{'NumericLessThan':{'custom:Count':10}}")},
       get,
       kMusic,
       {{"custom:Count", {"5"}}},
       allowed,
       "If"},
      {"NumericLessThanFails",
       {allow_if("{'NumericLessThan':{'custom:Count':10}}")},
       get,
       kMusic,
       {{"custom:Count", {"15"}}},
       implicit},
      {"NumericOfANonNumberFails",
       {allow_if("{'NumericLessThan':{'custom:Count':10}}")},
       get,
       kMusic,
       {{"custom:Count", {"five"}}},
       implicit},
      {"NumericEqualsComparesValues",
       {allow_if("{'NumericEquals':{'custom:Count':1.5}}")},
       get,
       kMusic,
       {{"custom:Count", {"1.50"}}},
       allowed,
       "If"},
      {"NumericGreaterThanEqualsExponent",
       {allow_if("{'NumericGreaterThanEquals':{'custom:Count':'2e1'}}")},
       get,
       kMusic,
       {{"custom:Count", {"20"}}},
       allowed,
       "If"},
      {"DateLessThanHolds",
       {allow_if("{'DateLessThan':{'aws:CurrentTime':'2026-12-31T00:00:00Z'}}")},
       get,
       kMusic,
       {{"aws:CurrentTime", {"2026-12-06T12:00:00Z"}}},
       allowed,
       "If"},
      {"DateLessThanFails",
       {allow_if("{'DateLessThan':{'aws:CurrentTime':'2026-12-31T00:00:00Z'}}")},
       get,
       kMusic,
       {{"aws:CurrentTime", {"2027-01-01T00:00:00Z"}}},
       implicit},
      {"DateWithAnOffset",
       {allow_if("{'DateLessThan':{'aws:CurrentTime':'2026-12-31T00:00:00Z'}}")},
       get,
       kMusic,
       {{"aws:CurrentTime", {"2026-12-31T01:00:00+02:00"}}},
       allowed,
       "If"},
      {"DateAsEpochSeconds",
       {allow_if("{'DateGreaterThanEquals':{'aws:EpochTime':'2026-12-06'}}")},
       get,
       kMusic,
       {{"aws:EpochTime", {"1796558400"}}},
       allowed,
       "If"},
      {"DateBeforeTheEpochValue",
       {allow_if("{'DateGreaterThan':{'aws:CurrentTime':1796558400}}")},
       get,
       kMusic,
       {{"aws:CurrentTime", {"2026-12-06T11:59:59.999Z"}}},
       implicit},
      {"BoolTrue",
       {allow_if("{'Bool':{'aws:SecureTransport':true}}")},
       get,
       kMusic,
       {{"aws:SecureTransport", {"TRUE"}}},
       allowed,
       "If"},
      {"BoolFalseDoesNotMatchTrue",
       {allow_if("{'Bool':{'aws:SecureTransport':'true'}}")},
       get,
       kMusic,
       {{"aws:SecureTransport", {"false"}}},
       implicit},
      {"IpAddressInTheBlock",
       {allow_if("{'IpAddress':{'aws:SourceIp':'192.0.2.0/24'}}")},
       get,
       kMusic,
       {{"aws:SourceIp", {"192.0.2.7"}}},
       allowed,
       "If"},
      {"IpAddressOutsideTheBlock",
       {allow_if("{'IpAddress':{'aws:SourceIp':'192.0.2.0/24'}}")},
       get,
       kMusic,
       {{"aws:SourceIp", {"198.51.100.1"}}},
       implicit},
      {"IpAddressNotAnAddress",
       {allow_if("{'IpAddress':{'aws:SourceIp':'0.0.0.0/0'}}")},
       get,
       kMusic,
       {{"aws:SourceIp", {"localhost"}}},
       implicit},
      {"IpAddressV6Block",
       {allow_if("{'IpAddress':{'aws:SourceIp':'2001:db8::/32'}}")},
       get,
       kMusic,
       {{"aws:SourceIp", {"2001:db8::1"}}},
       allowed,
       "If"},
      {"IpAddressV6OutsideTheBlock",
       {allow_if("{'IpAddress':{'aws:SourceIp':'2001:db8::/32'}}")},
       get,
       kMusic,
       {{"aws:SourceIp", {"::1"}}},
       implicit},
      {"IpAddressSingleAddress",
       {allow_if("{'IpAddress':{'aws:SourceIp':'203.0.113.5'}}")},
       get,
       kMusic,
       {{"aws:SourceIp", {"203.0.113.6"}}},
       implicit},
      {"NotIpAddressInsideTheNetwork",
       {ip_deny},
       get,
       kMusic,
       {{"aws:SourceIp", {"10.1.2.3"}}},
       allowed,
       "All"},
      {"NotIpAddressOutsideTheNetwork",
       {ip_deny},
       get,
       kMusic,
       {{"aws:SourceIp", {"192.0.2.1"}}},
       denied,
       "OutsideNet"},
      {"ArnLikeMatchesPartByPart",
       {allow_if("{'ArnLike':{'custom:SourceArn':'arn:aws:dynamodb:*:*:table/Music*'}}")},
       get,
       kMusic,
       {{"custom:SourceArn", {kByYear}}},
       allowed,
       "If"},
      {"ArnLikeOtherService",
       {allow_if("{'ArnLike':{'custom:SourceArn':'arn:aws:dynamodb:*:*:table/Music*'}}")},
       get,
       kMusic,
       {{"custom:SourceArn", {"arn:aws:s3:::Music"}}},
       implicit},
      {"ArnLikeWildcardDoesNotSpanColons",
       {allow_if("{'ArnLike':{'custom:SourceArn':'arn:aws:dynamodb:*:table/Music'}}")},
       get,
       kMusic,
       {{"custom:SourceArn", {kMusic}}},
       implicit},
      {"StringLikeWildcardSpansColons",
       {allow_if("{'StringLike':{'custom:SourceArn':'arn:aws:dynamodb:*:table/Music'}}")},
       get,
       kMusic,
       {{"custom:SourceArn", {kMusic}}},
       allowed,
       "If"},
      {"ArnEqualsTakesWildcardsToo",
       {allow_if("{'ArnEquals':{'custom:SourceArn':'arn:aws:dynamodb:us-east-1:*:table/Music'}}")},
       get,
       kMusic,
       {{"custom:SourceArn", {kMusic}}},
       allowed,
       "If"},
      {"ArnNotLikeHolds",
       {allow_if("{'ArnNotLike':{'custom:SourceArn':'arn:aws:dynamodb:*:*:table/Secret*'}}")},
       get,
       kMusic,
       {{"custom:SourceArn", {kMusic}}},
       allowed,
       "If"},
  };
}

// The case's name, not its bytes, in test names and failure messages.
void PrintTo(const EvaluationCase& c, std::ostream* out) { *out << c.name; }

class PolicyEvaluationTest : public ::testing::TestWithParam<EvaluationCase> {};

TEST_P(PolicyEvaluationTest, Decides) {
  const EvaluationCase& c = GetParam();
  const PolicySet policies = Named(c.policies);
  const Decision decision =
      Evaluate(policies, Request(c.principal, c.action, c.resource, c.context));
  EXPECT_EQ(decision.outcome, c.expected);
  EXPECT_EQ(decision.sid, c.deciding_sid);
  EXPECT_EQ(decision.allowed(), c.expected == Outcome::kAllowed);
  EXPECT_EQ(decision.explicitly_denied(), c.expected == Outcome::kExplicitDeny);
  if (c.expected == Outcome::kImplicitDeny) {
    EXPECT_EQ(decision.policy_name, "");
  }
}

INSTANTIATE_TEST_SUITE_P(Table, PolicyEvaluationTest, ::testing::ValuesIn(EvaluationCases()),
                         [](const ::testing::TestParamInfo<EvaluationCase>& info) {
                           return info.param.name;
                         });

TEST(EvaluateTest, DecisionNamesThePolicyAndStatement) {
  const PolicySet policies = {
      {"ReadOnly", MustParse(Doc({S("Get", "Allow", {"dynamodb:GetItem"}, {kMusic})}))},
      {"Guard", MustParse(Doc({S("", "Allow", {"s3:*"}, {"*"}),
                               S("", "Deny", {"dynamodb:DeleteItem"}, {"*"})}))}};
  const Decision allowed = Evaluate(policies, Request("alice", "dynamodb:GetItem", kMusic));
  EXPECT_EQ(allowed.policy_name, "ReadOnly");
  EXPECT_EQ(allowed.statement_index, 0u);
  const Decision denied = Evaluate(policies, Request("alice", "dynamodb:DeleteItem", kMusic));
  EXPECT_TRUE(denied.explicitly_denied());
  EXPECT_EQ(denied.policy_name, "Guard");
  EXPECT_EQ(denied.statement_index, 1u);
  EXPECT_EQ(denied.sid, "");
}

TEST(ContextKeysTest, NamesIgnoreCaseAndAbsentDiffersFromEmpty) {
  ContextKeys keys;
  EXPECT_EQ(keys.Find("dynamodb:LeadingKeys"), nullptr);
  keys.Set("dynamodb:LeadingKeys", {});
  ASSERT_NE(keys.Find("DYNAMODB:leadingkeys"), nullptr);
  EXPECT_TRUE(keys.Find("dynamodb:LeadingKeys")->empty());
  keys.Add("Dynamodb:LeadingKeys", "alice");
  keys.Add("dynamodb:leadingKeys", "bob");
  EXPECT_EQ(*keys.Find("dynamodb:LeadingKeys"), (std::vector<std::string>{"alice", "bob"}));
  keys.Set("DynamoDB:LeadingKeys", {"carol"});
  EXPECT_EQ(*keys.Find("dynamodb:LeadingKeys"), (std::vector<std::string>{"carol"}));
}

TEST(EvaluateTest, UsernameComesFromThePrincipalNotTheContext) {
  const PolicySet policies = Named(
      {Doc({S("Mine", "Allow", {"dynamodb:GetItem"}, {kArnPrefix + "table/${aws:username}"})})});
  AuthorizationRequest request = Request("alice", "dynamodb:GetItem", kArnPrefix + "table/bob");
  request.context.Set("aws:username", {"bob"});
  EXPECT_FALSE(Evaluate(policies, request).allowed());
  request.resource = kArnPrefix + "table/alice";
  EXPECT_TRUE(Evaluate(policies, request).allowed());
}

// ---------------------------------------------------------------------------------------
// AccessDeniedException, batches and transactions.

TEST(AccessDeniedTest, ImplicitDenyHasDynamoDbsMessage) {
  const AuthorizationRequest request = Request("alice", "dynamodb:GetItem", kMusic);
  const Status status = AccessDeniedError(request, Evaluate({}, request), kAccount);
  EXPECT_EQ(status.code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(ErrorTypeName(status.code()), "AccessDeniedException");
  EXPECT_EQ(status.message(),
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/Music "
            "because no identity-based policy allows the dynamodb:GetItem action");
}

TEST(AccessDeniedTest, ExplicitDenyHasDynamoDbsMessage) {
  const PolicySet policies =
      Named({Doc({S("All", "Allow", {"*"}, {"*"}), S("No", "Deny", {"dynamodb:Scan"}, {"*"})})});
  const AuthorizationRequest request = Request("bob", "dynamodb:Scan", kByYear);
  const Status status = AccessDeniedError(request, Evaluate(policies, request), kAccount);
  EXPECT_EQ(status.code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(status.message(),
            "User: arn:aws:iam::000000000000:user/bob is not authorized to perform: "
            "dynamodb:Scan on resource: "
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/index/ByYear "
            "with an explicit deny in an identity-based policy");
}

TEST(AccessDeniedTest, AllowedIsOk) {
  const PolicySet policies = Named({Doc({S("All", "Allow", {"*"}, {"*"})})});
  const AuthorizationRequest request = Request("bob", "dynamodb:Scan", kMusic);
  EXPECT_TRUE(AccessDeniedError(request, Evaluate(policies, request), kAccount).ok());
  EXPECT_TRUE(Authorize(policies, {&request, 1}, kAccount).ok());
}

TEST(AuthorizeTest, BatchIsDeniedWhenOneItemBelongsToAnotherUser) {
  const PolicySet policies = Named(
      {Doc({S("OwnItems", "Allow", {"dynamodb:BatchWriteItem"}, {kMusic},
              "{'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':['${aws:username}']}}")})});
  // One request per item, as the BatchWriteItem handler builds them.
  std::vector<AuthorizationRequest> items;
  for (const std::string& owner : std::vector<std::string>{"alice", "alice", "bob"}) {
    items.push_back(
        Request("alice", "dynamodb:BatchWriteItem", kMusic,
                {{"dynamodb:LeadingKeys", {owner}}, {"dynamodb:Attributes", {"UserId", "Title"}}}));
  }
  const Status status = Authorize(policies, items, kAccount);
  EXPECT_EQ(status.code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(status.message(),
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "dynamodb:BatchWriteItem on resource: "
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music because no identity-based "
            "policy allows the dynamodb:BatchWriteItem action");
  items.pop_back();
  EXPECT_TRUE(Authorize(policies, items, kAccount).ok());
}

TEST(AuthorizeTest, TransactionItemsAreAuthorizedAsTheirOwnActions) {
  const PolicySet policies = Named({Doc(
      {S("TxOnly", "Allow", {"dynamodb:PutItem", "dynamodb:ConditionCheckItem"}, {kMusic},
         "{'ForAnyValue:StringEquals':{'dynamodb:EnclosingOperation':'TransactWriteItems'}}")})});
  const auto item = [](const std::string& action, const std::string& table) {
    return Request("alice", action, kArnPrefix + "table/" + table,
                   {{"dynamodb:EnclosingOperation", {"TransactWriteItems"}},
                    {"dynamodb:LeadingKeys", {"alice"}}});
  };
  const std::vector<AuthorizationRequest> allowed = {item("dynamodb:PutItem", "Music"),
                                                     item("dynamodb:ConditionCheckItem", "Music")};
  EXPECT_TRUE(Authorize(policies, allowed, kAccount).ok());
  std::vector<AuthorizationRequest> with_delete = allowed;
  with_delete.push_back(item("dynamodb:DeleteItem", "Music"));
  EXPECT_NE(Authorize(policies, with_delete, kAccount).message().find("dynamodb:DeleteItem"),
            std::string::npos);
  std::vector<AuthorizationRequest> other_table = allowed;
  other_table.push_back(item("dynamodb:PutItem", "Video"));
  EXPECT_NE(Authorize(policies, other_table, kAccount).message().find("table/Video"),
            std::string::npos);
  // The same PutItem outside a transaction is not allowed.
  const AuthorizationRequest plain = Request("alice", "dynamodb:PutItem", kMusic);
  EXPECT_FALSE(Evaluate(policies, plain).allowed());
}

// ---------------------------------------------------------------------------------------
// Parsing.

TEST(ParsePolicyTest, AcceptsTheShapesIamAccepts) {
  // Statement as one object, Action and Resource as strings, no Sid, an Id, an empty
  // Condition, a condition value list mixing strings, numbers and booleans.
  const Policy policy = MustParse(Q(
      "{'Id':'x','Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'dynamodb:GetItem',"
      "'Resource':'*','Condition':{}}}"));
  EXPECT_EQ(policy.statement_count(), 1u);
  EXPECT_TRUE(ParsePolicy(Q("{'Statement':[{'Effect':'Deny','Action':['*'],'Resource':['*'],"
                            "'Condition':{'StringEquals':{'custom:V':['a',1,true]}}}]}"))
                  .ok());
}

TEST(ParsePolicyTest, DocumentIsCompactAndParsesBackUnchanged) {
  const std::string text =
      "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"A\",\n"
      "      \"Effect\": \"Allow\",\n      \"Action\": \"dynamodb:GetItem\",\n"
      "      \"Resource\": \"*\",\n      \"Condition\": {\"NumericLessThan\": {\"a:b\": 1.5}}\n"
      "    }\n  ]\n}\n";
  const Policy policy = MustParse(text);
  EXPECT_EQ(policy.document(),
            Q("{'Version':'2012-10-17','Statement':[{'Sid':'A','Effect':'Allow','Action':"
              "'dynamodb:GetItem','Resource':'*','Condition':{'NumericLessThan':{'a:b':1.5}}}]}"));
  EXPECT_EQ(MustParse(policy.document()).document(), policy.document());
}

// A number is kept as the text of its double; one whose text would read back as another
// double (found by policy_fuzz) would make the compact document a different policy. It is
// refused, and accepted as a string.
TEST(ParsePolicyTest, ANumberThatDoesNotReadBackExactlyIsRefused) {
  const auto with_value = [](const std::string& value) {
    return Q("{'Statement':[{'Effect':'Allow','Action':'dynamodb:GetItem','Resource':'*',"
             "'Condition':{'NumericLessThan':{'a:b':") +
           value + "}}}]}";
  };
  Result<Policy> inexact = ParsePolicy(with_value("999999919980201.2999999999999992"));
  ASSERT_FALSE(inexact.ok());
  EXPECT_THAT(inexact.status().message(),
              ::testing::HasSubstr("the values must be strings, numbers or booleans"));
  const Policy as_string = MustParse(with_value("\"999999919980201.2999999999999992\""));
  EXPECT_EQ(MustParse(as_string.document()).document(), as_string.document());
  const Policy exact = MustParse(with_value("1e300"));
  EXPECT_EQ(MustParse(exact.document()).document(), exact.document());
}

TEST(ParsePolicyTest, TheLimitCountsCharactersWithoutWhitespace) {
  // Statements of a fixed size, with much whitespace between them.
  const std::string statement = S("", "Allow", {"dynamodb:GetItem"}, {kMusic});
  std::vector<std::string> statements;
  while ((statements.size() + 1) * (statement.size() + 1) < kMaxPolicyCharacters - 100) {
    statements.push_back(std::string(40, ' ') + statement);
  }
  const std::string under = Doc(statements);
  ASSERT_GT(under.size(), kMaxPolicyCharacters);
  EXPECT_TRUE(ParsePolicy(under).ok());
  statements.push_back(statement);
  statements.push_back(statement);
  const Result<Policy> over = ParsePolicy(Doc(statements));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("the limit is 10240"), std::string::npos)
      << over.status().message();
  const Result<Policy> huge = ParsePolicy(std::string(kMaxPolicyTextBytes + 1, ' '));
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("the limit is 131072"), std::string::npos);
}

struct MalformedCase {
  std::string name;
  std::string document;
  std::string problem;  // a part of the message
};

std::vector<MalformedCase> MalformedCases() {
  const std::string statement_start = "{'Version':'2012-10-17','Statement':{'Effect':'Allow',";
  // A statement allowing GetItem on everything, with `condition`.
  const auto with_condition = [](const std::string& condition) {
    return Q(
        "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'dynamodb:GetItem',"
        "'Resource':'*','Condition':" +
        condition + "}}");
  };
  return {
      {"NotJson", "{\"Version\":", "Syntax errors in policy"},
      {"TrailingText", Q("{'Statement':[]} x"), "Syntax errors in policy"},
      {"NulCharacter", std::string("{\"Statement\"\0:1}", 16), "NUL character (at offset 12)"},
      {"InvalidUtf8", "{\"Id\":\"\xC3\x28\"}", "Syntax errors in policy"},
      {"LoneSurrogateEscape", Q("{'Id':'\\udc00','Statement':[]}"), "Id: must be a string"},
      {"NotAnObject", "[]", "the document must be a JSON object"},
      {"UnknownTopLevelElement", Q("{'Statements':[]}"), "unknown element \"Statements\""},
      {"MissingStatement", Q("{'Version':'2012-10-17'}"), "Statement is missing"},
      {"EmptyStatementList", Q("{'Statement':[]}"), "non-empty array"},
      {"StatementIsAString", Q("{'Statement':'Allow'}"), "Statement: must be a statement"},
      {"StatementElementIsNotAnObject", Q("{'Statement':[1]}"),
       "Statement[0]: a statement must be a JSON object"},
      {"UnknownVersion", Q("{'Version':'2012-10-18','Statement':[]}"),
       "Version: must be \"2012-10-17\" or \"2008-10-17\""},
      {"LowerCaseEffect",
       Q("{'Statement':{'Effect':'allow','Action':'dynamodb:GetItem','Resource':'*'}}"),
       "Statement: Effect must be \"Allow\" or \"Deny\""},
      {"MissingEffect", Q("{'Statement':[{'Action':'dynamodb:GetItem','Resource':'*'}]}"),
       "Statement[0]: Effect is missing"},
      {"ActionAndNotAction",
       Q(statement_start + "'Action':'a:b','NotAction':'a:c','Resource':'*'}}"),
       "cannot have both Action and NotAction"},
      {"NoAction", Q(statement_start + "'Resource':'*'}}"),
       "Policy statement must contain actions."},
      {"NoResource", Q(statement_start + "'Action':'dynamodb:GetItem'}}"),
       "Policy statement must contain resources."},
      {"ResourceAndNotResource",
       Q(statement_start + "'Action':'a:b','Resource':'*','NotResource':'*'}}"),
       "cannot have both Resource and NotResource"},
      {"ActionWithoutVendor", Q(statement_start + "'Action':'GetItem','Resource':'*'}}"),
       "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (action "
       "\"GetItem\")"},
      {"ActionWithEmptyName", Q(statement_start + "'Action':'dynamodb:','Resource':'*'}}"),
       "must be prefaced by a vendor"},
      {"EmptyActionList", Q(statement_start + "'Action':[],'Resource':'*'}}"),
       "Action must be a string or a non-empty array of strings"},
      {"NumericAction", Q(statement_start + "'Action':[5],'Resource':'*'}}"),
       "Action must be a string or a non-empty array of strings"},
      {"ResourceNotAnArn", Q(statement_start + "'Action':'a:b','Resource':'table/Music'}}"),
       "Resource \"table/Music\" must be in ARN format or \"*\"."},
      {"ResourceArnTooShort",
       Q(statement_start + "'Action':'a:b','Resource':'arn:aws:dynamodb:table/Music'}}"),
       "must be in ARN format"},
      {"Principal", Q(statement_start + "'Principal':'*','Action':'a:b','Resource':'*'}}"),
       "Policy document should not specify a principal."},
      {"SidWithAHyphen", Q(statement_start + "'Sid':'read-own','Action':'a:b','Resource':'*'}}"),
       "Statement IDs (SID) must be alpha-numeric"},
      {"DuplicateSid",
       Q("{'Statement':[{'Sid':'A','Effect':'Allow','Action':'a:b','Resource':'*'},"
         "{'Sid':'A','Effect':'Deny','Action':'a:b','Resource':'*'}]}"),
       "Statement[1] (Sid A): Statement IDs (SID) in a single policy must be unique."},
      {"RepeatedElement", Q(statement_start + "'Effect':'Deny','Action':'a:b','Resource':'*'}}"),
       "\"Effect\" is given twice"},
      {"UnknownStatementElement", Q(statement_start + "'Actions':'a:b','Resource':'*'}}"),
       "Statement: unknown element \"Actions\""},
      {"ConditionNotAnObject", with_condition("'StringEquals'"), "Condition must be a JSON object"},
      {"UnknownOperator", with_condition("{'StringEqualz':{'a:b':'c'}}"),
       "Condition \"StringEqualz\": the condition operator is not supported"},
      {"BinaryEqualsIsNotSupported", with_condition("{'BinaryEquals':{'a:b':'QUJD'}}"),
       "\"BinaryEquals\": the condition operator is not supported"},
      {"RepeatedOperator", with_condition("{'Bool':{'a:b':true},'Bool':{'a:c':true}}"),
       "\"Bool\" is given twice"},
      {"ForAllValuesNull", with_condition("{'ForAllValues:Null':{'a:b':'true'}}"),
       "Null cannot have ForAllValues:, ForAnyValue: or IfExists"},
      {"NullIfExists", with_condition("{'NullIfExists':{'a:b':'true'}}"),
       "Null cannot have ForAllValues:, ForAnyValue: or IfExists"},
      {"OperatorBlockNotAnObject", with_condition("{'StringEquals':'a:b'}"),
       "must map condition keys to values"},
      {"ConditionKeyWithoutVendor", with_condition("{'StringEquals':{'LeadingKeys':'x'}}"),
       "(condition key \"LeadingKeys\")"},
      {"RepeatedConditionKey", with_condition("{'StringEquals':{'a:b':'x','a:b':'y'}}"),
       "\"a:b\" is given twice"},
      {"NullConditionValue", with_condition("{'StringEquals':{'a:b':null}}"),
       "the values must be strings, numbers or booleans"},
      {"ObjectConditionValue", with_condition("{'StringEquals':{'a:b':{'c':'d'}}}"),
       "the values must be strings, numbers or booleans"},
      {"EmptyConditionValueList", with_condition("{'StringEquals':{'a:b':[]}}"),
       "or a non-empty array of them"},
      {"NestedConditionValueList", with_condition("{'StringEquals':{'a:b':[['x']]}}"),
       "the values must be strings, numbers or booleans"},
      {"NotANumber", with_condition("{'NumericLessThan':{'a:b':'ten'}}"),
       "\"ten\" is not a number"},
      {"NotADate", with_condition("{'DateLessThan':{'aws:CurrentTime':'yesterday'}}"),
       "\"yesterday\" is not a date"},
      {"NotADayOfTheMonth", with_condition("{'DateLessThan':{'aws:CurrentTime':'2026-02-30'}}"),
       "\"2026-02-30\" is not a date"},
      {"NotABoolean", with_condition("{'Bool':{'aws:SecureTransport':'yes'}}"),
       "\"yes\" is not \"true\" or \"false\""},
      {"NotANullValue", with_condition("{'Null':{'a:b':'maybe'}}"),
       "\"maybe\" is not \"true\" or \"false\""},
      {"NotAnAddress", with_condition("{'IpAddress':{'aws:SourceIp':'300.1.1.1'}}"),
       "\"300.1.1.1\" is not an IP address or CIDR block"},
      {"PrefixTooLong", with_condition("{'IpAddress':{'aws:SourceIp':'10.0.0.0/33'}}"),
       "is not an IP address or CIDR block"},
      {"UnterminatedVariable",
       with_condition("{'StringEquals':{'dynamodb:LeadingKeys':'${aws:username'}}"),
       "policy variable \"${aws:username\" is not closed with '}'"},
      {"VariableWithoutVendor", with_condition("{'StringEquals':{'a:b':'${username}'}}"),
       "policy variable ${username} does not name a condition key"},
      {"VariableWithAnUnquotedDefault",
       with_condition("{'StringEquals':{'a:b':'${aws:username, anonymous}'}}"),
       "the default value must be one 'quoted' text"},
      {"VariableInAResource",
       Q(statement_start + "'Action':'a:b','Resource':'arn:aws:dynamodb:::table/${}'}}"),
       "Resource: policy variable ${} does not name a condition key"},
  };
}

void PrintTo(const MalformedCase& c, std::ostream* out) { *out << c.name; }

class MalformedPolicyTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedPolicyTest, IsAValidationErrorNamingTheProblem) {
  const MalformedCase& c = GetParam();
  const Result<Policy> policy = ParsePolicy(c.document);
  ASSERT_FALSE(policy.ok()) << c.document;
  EXPECT_EQ(policy.status().code(), ErrorCode::kValidation);
  EXPECT_TRUE(policy.status().message().starts_with("Malformed policy document: "))
      << policy.status().message();
  EXPECT_NE(policy.status().message().find(c.problem), std::string::npos)
      << policy.status().message();
}

INSTANTIATE_TEST_SUITE_P(Table, MalformedPolicyTest, ::testing::ValuesIn(MalformedCases()),
                         [](const ::testing::TestParamInfo<MalformedCase>& info) {
                           return info.param.name;
                         });

// ---------------------------------------------------------------------------------------
// The store and its file.

const std::string kOwnItems = Doc({S("OwnItems", "Allow", {"dynamodb:GetItem"}, {kMusic},
                                     "{'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':"
                                     "['${aws:username}']}}")});
const std::string kReadAll =
    Doc({S("ReadAll", "Allow", {"dynamodb:Get*", "dynamodb:Query"}, {"*"})});

std::unique_ptr<PolicyStore> OpenStore(const std::string& path) {
  auto store = PolicyStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(PolicyStoreTest, InMemoryPutGetListDelete) {
  auto store = OpenStore("");
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->PoliciesOf("alice")->empty());
  ASSERT_TRUE(store->Put("alice", "ReadAll", MustParse(kReadAll)).ok());
  ASSERT_TRUE(store->Put("alice", "OwnItems", MustParse(kOwnItems)).ok());
  ASSERT_TRUE(store->Put("bob", "ReadAll", MustParse(kReadAll)).ok());
  EXPECT_EQ(store->List("alice"), (std::vector<std::string>{"OwnItems", "ReadAll"}));
  EXPECT_EQ(store->Principals(), (std::vector<std::string>{"alice", "bob"}));
  const Result<Policy> own = store->Get("alice", "OwnItems");
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->document(), MustParse(kOwnItems).document());
  // Replacing keeps one policy of that name.
  ASSERT_TRUE(store->Put("alice", "OwnItems", MustParse(kReadAll)).ok());
  EXPECT_EQ(store->Get("alice", "OwnItems")->document(), MustParse(kReadAll).document());
  EXPECT_EQ(store->List("alice").size(), 2u);
  ASSERT_TRUE(store->Delete("bob", "ReadAll").ok());
  EXPECT_EQ(store->Principals(), (std::vector<std::string>{"alice"}));
  EXPECT_TRUE(store->List("bob").empty());
}

TEST(PolicyStoreTest, UnknownPoliciesAreNotFoundAndBadNamesAreRefused) {
  auto store = OpenStore("");
  ASSERT_NE(store, nullptr);
  const Result<Policy> missing = store->Get("alice", "Nope");
  EXPECT_EQ(missing.status(), Status::NotFound("The user policy with name Nope cannot be found."));
  EXPECT_EQ(store->Delete("alice", "Nope").code(), ErrorCode::kResourceNotFound);
  ASSERT_TRUE(store->Put("alice", "A", MustParse(kReadAll)).ok());
  EXPECT_EQ(store->Delete("alice", "B").code(), ErrorCode::kResourceNotFound);
  for (const std::string& name :
       std::vector<std::string>{"", "has space", "slash/name", std::string(129, 'a')}) {
    EXPECT_EQ(store->Put("alice", name, MustParse(kReadAll)).code(), ErrorCode::kValidation)
        << name;
  }
  for (const std::string& principal :
       std::vector<std::string>{"", "two words", "tab\t", std::string(129, 'a')}) {
    EXPECT_EQ(store->Put(principal, "A", MustParse(kReadAll)).code(), ErrorCode::kValidation)
        << principal;
  }
  EXPECT_TRUE(store->Put("alice@example.com", "Team+Ops=1,2.x_y-z", MustParse(kReadAll)).ok());
}

TEST(PolicyStoreTest, PoliciesOfIsASnapshotThatEvaluates) {
  auto store = OpenStore("");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("alice", "OwnItems", MustParse(kOwnItems)).ok());
  const std::shared_ptr<const PolicySet> before = store->PoliciesOf("alice");
  ASSERT_TRUE(store->Delete("alice", "OwnItems").ok());
  ASSERT_EQ(before->size(), 1u);
  const AuthorizationRequest own =
      Request("alice", "dynamodb:GetItem", kMusic, {{"dynamodb:LeadingKeys", {"alice"}}});
  EXPECT_TRUE(Evaluate(*before, own).allowed());
  EXPECT_FALSE(Evaluate(*store->PoliciesOf("alice"), own).allowed());
}

TEST(PolicyStoreTest, ChangesPersistAcrossReopenInAPrivateFile) {
  TempDir dir;
  const std::string path = dir.Sub("policies.json");
  {
    auto store = OpenStore(path);
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(std::filesystem::exists(path));  // nothing written before a change
    ASSERT_TRUE(store->Put("alice", "OwnItems", MustParse(kOwnItems)).ok());
    ASSERT_TRUE(store->Put("alice", "ReadAll", MustParse(kReadAll)).ok());
    ASSERT_TRUE(store->Put("bob", "ReadAll", MustParse(kReadAll)).ok());
    ASSERT_TRUE(store->Delete("alice", "ReadAll").ok());
  }
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto reopened = OpenStore(path);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->Principals(), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(reopened->List("alice"), (std::vector<std::string>{"OwnItems"}));
  EXPECT_EQ(reopened->Get("alice", "OwnItems")->document(), MustParse(kOwnItems).document());
  EXPECT_EQ(reopened->Get("bob", "ReadAll")->document(), MustParse(kReadAll).document());
  // The file is the format ReadPolicyFile reads, readable by a person.
  const std::string text = ReadFile(path);
  EXPECT_TRUE(text.starts_with("{\n  \"principals\": {\n    \"alice\": {\n      \"OwnItems\": {"))
      << text;
  const auto entries = ReadPolicyFile(path);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].principal, "alice");
  EXPECT_EQ((*entries)[1].named.name, "ReadAll");
}

TEST(PolicyStoreTest, AFailedWriteChangesNothing) {
  TempDir dir;
  const std::string sub = dir.Sub("data");
  std::filesystem::create_directory(sub);
  auto store = OpenStore(sub + "/policies.json");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("alice", "ReadAll", MustParse(kReadAll)).ok());
  std::filesystem::remove_all(sub);
  EXPECT_EQ(store->Put("alice", "OwnItems", MustParse(kOwnItems)).code(), ErrorCode::kIOError);
  EXPECT_EQ(store->Delete("alice", "ReadAll").code(), ErrorCode::kIOError);
  EXPECT_EQ(store->List("alice"), (std::vector<std::string>{"ReadAll"}));
}

TEST(ReadPolicyFileTest, ReadsAnOperatorsFile) {
  TempDir dir;
  const std::string path = dir.Sub("policies.json");
  WriteFile(path, R"({
  "principals": {
    "bob": {
      "ReadAll": {"Version": "2012-10-17",
                  "Statement": [{"Effect": "Allow", "Action": "dynamodb:Get*", "Resource": "*"}]}
    },
    "alice": {
      "OwnItems": {
        "Version": "2012-10-17",
        "Statement": {
          "Sid": "OwnItems", "Effect": "Allow", "Action": ["dynamodb:GetItem"],
          "Resource": "arn:aws:dynamodb:*:*:table/Music",
          "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": "${aws:username}"}}
        }
      },
      "Empty": {"Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}}
    }
  }
}
)");
  auto store = OpenStore(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Principals(), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(store->List("alice"), (std::vector<std::string>{"Empty", "OwnItems"}));
  const AuthorizationRequest own =
      Request("alice", "dynamodb:GetItem", kMusic, {{"dynamodb:LeadingKeys", {"alice"}}});
  const Decision decision = Evaluate(*store->PoliciesOf("alice"), own);
  EXPECT_TRUE(decision.allowed());
  EXPECT_EQ(decision.policy_name, "OwnItems");
}

TEST(ReadPolicyFileTest, ErrorsNameThePrincipalAndPolicy) {
  TempDir dir;
  const std::string path = dir.Sub("policies.json");
  const auto error_of = [&](const std::string& text) {
    WriteFile(path, Q(text));
    const auto entries = ReadPolicyFile(path);
    EXPECT_FALSE(entries.ok()) << text;
    return entries.ok() ? std::string() : entries.status().message();
  };
  EXPECT_EQ(error_of("{'principals':{'alice':{'Bad':{'Statement':[]}}}}"),
            path +
                ": principal \"alice\", policy \"Bad\": Malformed policy document: "
                "Statement: must be a statement object or a non-empty array of them");
  EXPECT_EQ(error_of("{'principals':{'alice':{'bad name':{}}}}"),
            path +
                ": principal \"alice\": a policy name must be 1 to 128 characters of "
                "[A-Za-z0-9+=,.@_-]");
  EXPECT_NE(error_of("{'principals':{'two words':{}}}").find("principal \"two words\""),
            std::string::npos);
  EXPECT_NE(error_of("{'principals':{'alice':[]}}").find("expected an object mapping policy"),
            std::string::npos);
  EXPECT_NE(error_of("{'alice':{}}").find("expected an object with one member, \"principals\""),
            std::string::npos);
  EXPECT_NE(error_of("{'principals':{'alice':{'A':" + kReadAll + ",'A':" + kReadAll + "}}}")
                .find("principal \"alice\" has two policies named \"A\""),
            std::string::npos);
  EXPECT_NE(error_of("{'principals':").find("is not valid JSON"), std::string::npos);
  // A deeply nested document is refused without a deep recursion.
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  EXPECT_NE(error_of("{'principals':{'alice':{'Deep':{'Statement':" + deep + "}}}}")
                .find("policy \"Deep\""),
            std::string::npos);
  EXPECT_EQ(ReadPolicyFile(dir.Sub("missing.json")).status().code(), ErrorCode::kIOError);
  EXPECT_EQ(PolicyStore::Open(dir.Sub("no-such-dir/policies.json")).status().code(),
            ErrorCode::kIOError);
  WriteFile(path, "{\"principals\": 1}");
  EXPECT_EQ(PolicyStore::Open(path).status().code(), ErrorCode::kValidation);
}

TEST(PolicyStoreTest, ConcurrentEvaluationsAndChanges) {
  TempDir dir;
  for (const std::string& path : {std::string(), dir.Sub("policies.json")}) {
    auto store = OpenStore(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Put("alice", "OwnItems", MustParse(kOwnItems)).ok());
    const int changes_per_writer = path.empty() ? 200 : 10;  // a file write is an fsync
    std::atomic<bool> writers_done{false};
    std::atomic<int> wrong_decisions{0};
    const AuthorizationRequest own =
        Request("alice", "dynamodb:GetItem", kMusic, {{"dynamodb:LeadingKeys", {"alice"}}});
    const AuthorizationRequest foreign =
        Request("alice", "dynamodb:GetItem", kMusic, {{"dynamodb:LeadingKeys", {"bob"}}});
    std::vector<std::thread> readers;
    for (int r = 0; r < 4; ++r) {
      readers.emplace_back([&] {
        while (!writers_done.load()) {
          const std::shared_ptr<const PolicySet> policies = store->PoliciesOf("alice");
          if (!Evaluate(*policies, own).allowed()) ++wrong_decisions;
          if (Evaluate(*policies, foreign).allowed()) ++wrong_decisions;
          (void)store->Principals();
        }
      });
    }
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        const std::string principal = "writer" + std::to_string(w);
        for (int i = 0; i < changes_per_writer; ++i) {
          const std::string name = "P" + std::to_string(i);
          EXPECT_TRUE(store->Put(principal, name, MustParse(kReadAll)).ok());
          if (i % 2 == 1) {
            EXPECT_TRUE(store->Delete(principal, name).ok());
          }
        }
      });
    }
    for (std::thread& writer : writers) writer.join();
    writers_done = true;
    for (std::thread& reader : readers) reader.join();
    EXPECT_EQ(wrong_decisions.load(), 0);
    const size_t per_writer = static_cast<size_t>(changes_per_writer) / 2;
    for (int w = 0; w < 4; ++w) {
      EXPECT_EQ(store->List("writer" + std::to_string(w)).size(), per_writer);
    }
    if (!path.empty()) {
      auto reopened = OpenStore(path);
      ASSERT_NE(reopened, nullptr);
      EXPECT_EQ(reopened->Principals(), store->Principals());
      for (const std::string& principal : store->Principals()) {
        EXPECT_EQ(reopened->List(principal), store->List(principal));
      }
    }
  }
}

}  // namespace
}  // namespace tidewater::security
