// `tidewater admin policy`: the access policies a tidewaterd with --authorization policies
// evaluates every request against (TidewaterAdmin_20261205.PutPolicy, GetPolicy,
// DeletePolicy, ListPolicies; see docs/OPERATIONS.md, "Authorization"). The documents are
// IAM's identity policies (the grammar in security/include/tidewater/security/policy.h).
// The calls are signed with the caller's own credentials, as --profile and --region say
// (signing_flags.h).
//
// `put --endpoint URL --principal P --name N (--document-file FILE | --document JSON)`
//   attaches the document to the principal under that name, replacing a policy of that
//   name. The document is checked here first (security::ParsePolicy) and sent compact.
// `get --endpoint URL --principal P --name N [--compact]` prints the document, indented, or
//   with --compact as the server stores it (one line).
// `delete --endpoint URL --principal P --name N` detaches it: the next request is
//   evaluated without it.
// `list --endpoint URL [--principal P] [--json]` prints one row per policy (principal, name,
//   and whether it is in the server's store or came from its --policy-file).
// Exit status: 0 on success; 1 when the server refused (no such policy, a server without
// policies, ...) or could not be reached, with the reason on stderr; 2 when the document
// cannot be read or is not a valid policy, with the reason on stderr.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "admin_request.h"
#include "answer_output.h"
#include "commands.h"
#include "signing_flags.h"
#include "tidewater/security/policy.h"

namespace tidewater::cli {
namespace {

// The policy a command names: its principal and name.
struct PolicyFlags {
  std::string endpoint;
  std::string principal;
  std::string name;
  SigningFlags signing;
};

struct PutFlags {
  PolicyFlags policy;
  std::string document_file;
  std::string document;
};

struct GetFlags {
  PolicyFlags policy;
  bool compact = false;
};

struct ListFlags {
  std::string endpoint;
  std::string principal;  // "": every principal
  bool json = false;
  SigningFlags signing;
};

// The document text --document or --document-file gives; prints the reason and returns an
// error when the file cannot be read.
Result<std::string> DocumentText(const PutFlags& flags) {
  if (flags.document_file.empty()) return flags.document;
  std::ifstream file(flags.document_file, std::ios::binary);
  std::stringstream text;
  if (file) text << file.rdbuf();
  if (!file || file.bad()) {
    std::fprintf(stderr, "policy put: cannot read %s\n", flags.document_file.c_str());
    return Status::IOError("cannot read " + flags.document_file);
  }
  return text.str();
}

int RunPut(const PutFlags& flags) {
  auto text = DocumentText(flags);
  if (!text.ok()) return 2;
  auto policy = security::ParsePolicy(*text);
  if (!policy.ok()) {
    std::fprintf(stderr, "policy put: %s\n", policy.status().message().c_str());
    return 2;
  }
  auto answer = CallAdmin("policy put", flags.policy.endpoint, flags.policy.signing, "PutPolicy",
                          JsonObjectOfStrings({{"Principal", flags.policy.principal},
                                               {"PolicyName", flags.policy.name},
                                               {"PolicyDocument", policy->document()}}));
  return answer.ok() ? 0 : 1;
}

std::string PolicyBody(const PolicyFlags& flags) {
  return JsonObjectOfStrings({{"Principal", flags.principal}, {"PolicyName", flags.name}});
}

// `document` indented by two spaces; itself when it is not JSON.
std::string Indented(const std::string& document) {
  rapidjson::Document parsed;
  parsed.Parse(document.c_str());
  if (parsed.HasParseError()) return document;
  rapidjson::StringBuffer text;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(text);
  writer.SetIndent(' ', 2);
  parsed.Accept(writer);
  return {text.GetString(), text.GetSize()};
}

int RunGet(const GetFlags& flags) {
  auto answer = CallAdmin("policy get", flags.policy.endpoint, flags.policy.signing, "GetPolicy",
                          PolicyBody(flags.policy));
  if (!answer.ok()) return 1;
  rapidjson::Document document;
  if (!ParseAnswer("policy get", *answer, "PolicyDocument", rapidjson::kStringType, &document)) {
    return 1;
  }
  const std::string stored = StringMember(document, "PolicyDocument");
  std::printf("%s\n", flags.compact ? stored.c_str() : Indented(stored).c_str());
  return 0;
}

int RunDelete(const PolicyFlags& flags) {
  auto answer =
      CallAdmin("policy delete", flags.endpoint, flags.signing, "DeletePolicy", PolicyBody(flags));
  return answer.ok() ? 0 : 1;
}

int RunList(const ListFlags& flags) {
  auto answer =
      CallAdmin("policy list", flags.endpoint, flags.signing, "ListPolicies",
                flags.principal.empty() ? std::string("{}")
                                        : JsonObjectOfStrings({{"Principal", flags.principal}}));
  if (!answer.ok()) return 1;
  if (flags.json) {
    std::printf("%s\n", answer->c_str());
    return 0;
  }
  rapidjson::Document document;
  if (!ParseAnswer("policy list", *answer, "Policies", rapidjson::kArrayType, &document)) {
    return 1;
  }
  std::vector<std::vector<std::string>> rows = {{"PRINCIPAL", "NAME", "SOURCE"}};
  for (const rapidjson::Value& policy : document["Policies"].GetArray()) {
    if (!policy.IsObject()) continue;
    rows.push_back({StringMember(policy, "Principal"), StringMember(policy, "PolicyName"),
                    StringMember(policy, "Source")});
  }
  PrintAlignedRows(rows);
  return 0;
}

// --endpoint, --principal, --name and the signing flags of a command on one policy.
void AddPolicyFlags(CLI::App* command, PolicyFlags* flags) {
  command->add_option("--endpoint", flags->endpoint, "tidewaterd URL, http://HOST:PORT")
      ->required();
  command->add_option("--principal", flags->principal, "The user the policy is attached to")
      ->required();
  command->add_option("--name", flags->name, "The policy's name ([A-Za-z0-9+=,.@_-], 1 to 128)")
      ->required();
  AddSigningFlags(command, &flags->signing);
}

}  // namespace

void AddAdminPolicyCommand(CLI::App& admin) {
  CLI::App* policy = admin.add_subcommand(
      "policy", "The access policies a tidewaterd with --authorization policies enforces");
  policy->require_subcommand(1);

  auto put = std::make_shared<PutFlags>();
  CLI::App* put_command = policy->add_subcommand(
      "put", "Attach a policy document to a principal (replacing one of that name)");
  AddPolicyFlags(put_command, &put->policy);
  CLI::Option_group* source =
      put_command->add_option_group("document", "The policy document (IAM's JSON)");
  source->add_option("--document-file", put->document_file, "A file holding the document");
  source->add_option("--document", put->document, "The document itself");
  source->require_option(1);
  put_command->callback([put] { ExitCode() = RunPut(*put); });

  auto get = std::make_shared<GetFlags>();
  CLI::App* get_command = policy->add_subcommand("get", "Print a principal's policy document");
  AddPolicyFlags(get_command, &get->policy);
  get_command->add_flag("--compact", get->compact, "Print it as stored, on one line");
  get_command->callback([get] { ExitCode() = RunGet(*get); });

  auto remove = std::make_shared<PolicyFlags>();
  CLI::App* delete_command =
      policy->add_subcommand("delete", "Detach a policy: the next request goes without it");
  AddPolicyFlags(delete_command, remove.get());
  delete_command->callback([remove] { ExitCode() = RunDelete(*remove); });

  auto list = std::make_shared<ListFlags>();
  CLI::App* list_command = policy->add_subcommand("list", "List the policies of the principals");
  list_command->add_option("--endpoint", list->endpoint, "tidewaterd URL, http://HOST:PORT")
      ->required();
  list_command->add_option("--principal", list->principal,
                           "Only this principal's (default: every principal's)");
  list_command->add_flag("--json", list->json, "Print the server's answer as JSON");
  AddSigningFlags(list_command, &list->signing);
  list_command->callback([list] { ExitCode() = RunList(*list); });
}

}  // namespace tidewater::cli
