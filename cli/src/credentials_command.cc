// `tidewater admin credentials`: the credentials a tidewaterd with --auth required accepts
// (TidewaterAdmin_20261205.CreateCredentials, ListCredentials, DeleteCredentials; see
// docs/OPERATIONS.md, "Authentication"). The calls are signed with the caller's own
// credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or an AWS profile, as the AWS CLI
// finds them; --profile and --region as signing_flags.h says).
//
// `create --endpoint URL --principal NAME [--session-token] [--expires-in-seconds N] [--json]`
//   prints the new credentials as lines a shell or an env file takes:
//     # principal alice, expires 2026-12-07T12:00:00Z
//     AWS_ACCESS_KEY_ID=TW...
//     AWS_SECRET_ACCESS_KEY=...
//     AWS_SESSION_TOKEN=...        (with --session-token)
//   or, with --json, the server's answer. The secret is shown this once only.
// `list --endpoint URL [--json]` prints one row per credential (key id, principal, whether
//   temporary, expiry), never a secret.
// `delete --endpoint URL ACCESS_KEY_ID` deletes one: requests signed with it fail from then.
// Exit status: 0 on success; 1 when the server refused (unknown key id, a server without
// authentication, ...) or could not be reached, with the reason on stderr.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "admin_request.h"
#include "answer_output.h"
#include "commands.h"
#include "signing_flags.h"

namespace tidewater::cli {
namespace {

struct CreateFlags {
  std::string endpoint;
  std::string principal;
  bool session_token = false;
  int64_t expires_in_seconds = 0;  // 0: the server's default
  bool json = false;
  SigningFlags signing;
};

struct ListFlags {
  std::string endpoint;
  bool json = false;
  SigningFlags signing;
};

struct DeleteFlags {
  std::string endpoint;
  std::string access_key_id;
  SigningFlags signing;
};

// Epoch seconds as "2026-12-07T12:00:00Z".
std::string IsoTime(double epoch_seconds) {
  const std::time_t seconds = static_cast<std::time_t>(std::floor(epoch_seconds));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// The expiry of a credential of an answer, "" when it does not expire.
std::string Expiration(const rapidjson::Value& credential) {
  const auto member = credential.FindMember("Expiration");
  return member != credential.MemberEnd() && member->value.IsNumber()
             ? IsoTime(member->value.GetDouble())
             : "";
}

int RunCreate(const CreateFlags& flags) {
  rapidjson::StringBuffer body;
  rapidjson::Writer<rapidjson::StringBuffer> writer(body);
  writer.StartObject();
  writer.Key("Principal");
  writer.String(flags.principal.data(), static_cast<rapidjson::SizeType>(flags.principal.size()));
  if (flags.session_token) {
    writer.Key("SessionToken");
    writer.Bool(true);
  }
  if (flags.expires_in_seconds > 0) {
    writer.Key("ExpiresInSeconds");
    writer.Int64(flags.expires_in_seconds);
  }
  writer.EndObject();
  auto answer = CallAdmin("credentials create", flags.endpoint, flags.signing, "CreateCredentials",
                          {body.GetString(), body.GetSize()});
  if (!answer.ok()) return 1;
  if (flags.json) {
    std::printf("%s\n", answer->c_str());
    return 0;
  }
  rapidjson::Document document;
  if (!ParseAnswer("credentials create", *answer, "Credentials", rapidjson::kObjectType,
                   &document)) {
    return 1;
  }
  const rapidjson::Value& credentials = document["Credentials"];
  const std::string expiration = Expiration(credentials);
  std::printf("# principal %s%s\n", StringMember(credentials, "Principal").c_str(),
              expiration.empty() ? "" : (", expires " + expiration).c_str());
  std::printf("AWS_ACCESS_KEY_ID=%s\n", StringMember(credentials, "AccessKeyId").c_str());
  std::printf("AWS_SECRET_ACCESS_KEY=%s\n", StringMember(credentials, "SecretAccessKey").c_str());
  const std::string session_token = StringMember(credentials, "SessionToken");
  if (!session_token.empty()) std::printf("AWS_SESSION_TOKEN=%s\n", session_token.c_str());
  return 0;
}

int RunList(const ListFlags& flags) {
  auto answer =
      CallAdmin("credentials list", flags.endpoint, flags.signing, "ListCredentials", "{}");
  if (!answer.ok()) return 1;
  if (flags.json) {
    std::printf("%s\n", answer->c_str());
    return 0;
  }
  rapidjson::Document document;
  if (!ParseAnswer("credentials list", *answer, "Credentials", rapidjson::kArrayType, &document)) {
    return 1;
  }
  std::vector<std::vector<std::string>> rows = {
      {"ACCESS_KEY_ID", "PRINCIPAL", "TEMPORARY", "EXPIRES"}};
  for (const rapidjson::Value& credential : document["Credentials"].GetArray()) {
    if (!credential.IsObject()) continue;
    const auto temporary = credential.FindMember("Temporary");
    const bool is_temporary = temporary != credential.MemberEnd() && temporary->value.IsBool() &&
                              temporary->value.GetBool();
    const std::string expiration = Expiration(credential);
    rows.push_back({StringMember(credential, "AccessKeyId"), StringMember(credential, "Principal"),
                    is_temporary ? "yes" : "no", expiration.empty() ? "never" : expiration});
  }
  PrintAlignedRows(rows);
  return 0;
}

int RunDelete(const DeleteFlags& flags) {
  auto answer = CallAdmin("credentials delete", flags.endpoint, flags.signing, "DeleteCredentials",
                          JsonObjectOfStrings({{"AccessKeyId", flags.access_key_id}}));
  return answer.ok() ? 0 : 1;
}

}  // namespace

void AddAdminCredentialsCommand(CLI::App& admin) {
  CLI::App* credentials = admin.add_subcommand(
      "credentials", "The credentials a tidewaterd with --auth required accepts");
  credentials->require_subcommand(1);

  auto create = std::make_shared<CreateFlags>();
  CLI::App* create_command = credentials->add_subcommand(
      "create", "Create credentials for a principal; prints them as AWS_* variables");
  create_command->add_option("--endpoint", create->endpoint, "tidewaterd URL, http://HOST:PORT")
      ->required();
  create_command->add_option("--principal", create->principal, "The user they belong to")
      ->required();
  create_command->add_flag("--session-token", create->session_token,
                           "Temporary credentials with a session token (expire after 12 h "
                           "unless --expires-in-seconds)");
  create_command
      ->add_option("--expires-in-seconds", create->expires_in_seconds,
                   "Expire this many seconds from now (default: never; 43200 with "
                   "--session-token)")
      ->check(CLI::PositiveNumber);
  create_command->add_flag("--json", create->json, "Print the server's answer as JSON");
  AddSigningFlags(create_command, &create->signing);
  create_command->callback([create] { ExitCode() = RunCreate(*create); });

  auto list = std::make_shared<ListFlags>();
  CLI::App* list_command =
      credentials->add_subcommand("list", "List the credentials (never their secrets)");
  list_command->add_option("--endpoint", list->endpoint, "tidewaterd URL, http://HOST:PORT")
      ->required();
  list_command->add_flag("--json", list->json, "Print the server's answer as JSON");
  AddSigningFlags(list_command, &list->signing);
  list_command->callback([list] { ExitCode() = RunList(*list); });

  auto remove = std::make_shared<DeleteFlags>();
  CLI::App* delete_command =
      credentials->add_subcommand("delete", "Delete credentials: requests signed with them fail");
  delete_command->add_option("--endpoint", remove->endpoint, "tidewaterd URL, http://HOST:PORT")
      ->required();
  delete_command->add_option("ACCESS_KEY_ID", remove->access_key_id, "The access key id")
      ->required();
  AddSigningFlags(delete_command, &remove->signing);
  delete_command->callback([remove] { ExitCode() = RunDelete(*remove); });
}

}  // namespace tidewater::cli
