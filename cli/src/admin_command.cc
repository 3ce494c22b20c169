// `tidewater admin`: administrative operations on a tidewaterd.
//
// `tidewater admin split-shard --endpoint URL --table T --shard SHARD_ID` splits an open
// stream shard online into two children (TidewaterAdmin_20261205.SplitShard). SHARD_ID is
// the shard's id as DescribeStream shows it. Prints the server's answer (the parent, its
// EndingSequenceNumber and the children's ids) as JSON. Exit status: 0 when the shard was
// split; 1 when the server refused (no such table or shard, the shard is closed, ...) or
// could not be reached, with the reason on stderr.
//
// `tidewater admin cost --endpoint URL [--table T] [--json]` prints each table's estimated
// monthly cost on DynamoDB (TidewaterAdmin_20261205.EstimateCost; docs/OPERATIONS.md "Cost
// estimate"): one row per table with its class, billing mode, size, the cost per month in
// its class now, at the other class, and what switching would save (negative: cost more).
// With --json it prints the server's answer as it came. Exit status: 0 on an answer; 1 when
// the server refused (no such table) or could not be reached, with the reason on stderr.
//
// Both sign their requests as --profile and --region say (signing_flags.h).
//
// `tidewater admin credentials create|list|delete` is in credentials_command.cc, `tidewater
// admin policy put|get|delete|list` in policy_command.cc.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "answer_output.h"
#include "commands.h"
#include "signing_flags.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::cli {
namespace {

struct SplitShardFlags {
  std::string endpoint;
  std::string table;
  std::string shard;
  SigningFlags signing;
};

int RunSplitShard(const SplitShardFlags& flags) {
  rapidjson::StringBuffer body;
  rapidjson::Writer<rapidjson::StringBuffer> writer(body);
  writer.StartObject();
  writer.Key("TableName");
  writer.String(flags.table.data(), static_cast<rapidjson::SizeType>(flags.table.size()));
  writer.Key("ShardId");
  writer.String(flags.shard.data(), static_cast<rapidjson::SizeType>(flags.shard.size()));
  writer.EndObject();

  auto client = CreateClient(flags.endpoint, flags.signing);
  if (!client.ok()) {
    std::fprintf(stderr, "split-shard: %s\n", client.status().ToString().c_str());
    return 1;
  }
  auto answer = (*client)->CallJson("TidewaterAdmin_20261205.SplitShard",
                                    std::string_view(body.GetString(), body.GetSize()));
  if (!answer.ok()) {
    std::fprintf(stderr, "split-shard: %s\n", answer.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", answer->c_str());
  return 0;
}

struct CostFlags {
  std::string endpoint;
  std::string table;
  bool json = false;
  SigningFlags signing;
};

// "$12.34", or "$0.001234" for amounts under a dollar (small tables cost fractions of a
// cent); negative amounts as "-$...".
std::string Dollars(double dollars) {
  const double amount = dollars < 0 ? -dollars : dollars;
  char text[64];
  std::snprintf(text, sizeof text, amount >= 1 ? "%s$%.2f" : "%s$%.6f", dollars < 0 ? "-" : "",
                amount);
  return text;
}

// The total per month at `table_class` of one table of the answer (0 when absent).
double TotalAt(const rapidjson::Value& table, const std::string& table_class) {
  const auto costs = table.FindMember("MonthlyCost");
  if (costs == table.MemberEnd() || !costs->value.IsObject()) return 0;
  const auto at = costs->value.FindMember(table_class.c_str());
  if (at == costs->value.MemberEnd() || !at->value.IsObject()) return 0;
  const auto total = at->value.FindMember("Total");
  return total != at->value.MemberEnd() && total->value.IsNumber() ? total->value.GetDouble() : 0;
}

// The answer as a table: one row per table, columns aligned.
void PrintCostTable(const rapidjson::Value& tables) {
  std::vector<std::vector<std::string>> rows = {
      {"TABLE", "CLASS", "BILLING_MODE", "SIZE_BYTES", "MONTHLY_NOW", "AT_OTHER_CLASS", "SAVING"}};
  for (const auto& table : tables.GetArray()) {
    if (!table.IsObject()) continue;
    const std::string table_class = StringMember(table, "TableClass");
    const std::string other = table_class == "STANDARD" ? "STANDARD_INFREQUENT_ACCESS" : "STANDARD";
    const double now = TotalAt(table, table_class);
    const double at_other = TotalAt(table, other);
    const auto size = table.FindMember("TableSizeBytes");
    rows.push_back({StringMember(table, "TableName"), table_class,
                    StringMember(table, "BillingMode"),
                    size != table.MemberEnd() && size->value.IsUint64()
                        ? std::to_string(size->value.GetUint64())
                        : "",
                    Dollars(now), Dollars(at_other), Dollars(now - at_other)});
  }
  PrintAlignedRows(rows);
}

int RunCost(const CostFlags& flags) {
  rapidjson::StringBuffer body;
  rapidjson::Writer<rapidjson::StringBuffer> writer(body);
  writer.StartObject();
  if (!flags.table.empty()) {
    writer.Key("TableName");
    writer.String(flags.table.data(), static_cast<rapidjson::SizeType>(flags.table.size()));
  }
  writer.EndObject();

  auto client = CreateClient(flags.endpoint, flags.signing);
  if (!client.ok()) {
    std::fprintf(stderr, "cost: %s\n", client.status().ToString().c_str());
    return 1;
  }
  auto answer = (*client)->CallJson("TidewaterAdmin_20261205.EstimateCost",
                                    std::string_view(body.GetString(), body.GetSize()));
  if (!answer.ok()) {
    std::fprintf(stderr, "cost: %s\n", answer.status().ToString().c_str());
    return 1;
  }
  if (flags.json) {
    std::printf("%s\n", answer->c_str());
    return 0;
  }
  rapidjson::Document document;
  document.Parse(answer->c_str());
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("Tables") ||
      !document["Tables"].IsArray()) {
    std::fprintf(stderr, "cost: unexpected answer: %s\n", answer->c_str());
    return 1;
  }
  PrintCostTable(document["Tables"]);
  return 0;
}

}  // namespace

void AddAdminCommand(CLI::App& app) {
  CLI::App* admin = app.add_subcommand("admin", "Administrative operations on a tidewaterd");
  admin->require_subcommand(1);
  auto split = std::make_shared<SplitShardFlags>();
  CLI::App* command =
      admin->add_subcommand("split-shard", "Split an open stream shard online into two children");
  command->add_option("--endpoint", split->endpoint, "tidewaterd URL, http://HOST:PORT")
      ->required();
  command->add_option("--table", split->table, "The table")->required();
  command->add_option("--shard", split->shard, "The shard's id, as DescribeStream shows it")
      ->required();
  AddSigningFlags(command, &split->signing);
  command->callback([split] { ExitCode() = RunSplitShard(*split); });

  auto cost = std::make_shared<CostFlags>();
  CLI::App* cost_command = admin->add_subcommand(
      "cost", "Estimated monthly cost of each table on DynamoDB, at both table classes");
  cost_command->add_option("--endpoint", cost->endpoint, "tidewaterd URL, http://HOST:PORT")
      ->required();
  cost_command->add_option("--table", cost->table, "Only this table (default: every table)");
  cost_command->add_flag("--json", cost->json, "Print the server's answer as JSON");
  AddSigningFlags(cost_command, &cost->signing);
  cost_command->callback([cost] { ExitCode() = RunCost(*cost); });

  AddAdminCredentialsCommand(*admin);
  AddAdminPolicyCommand(*admin);
}

}  // namespace tidewater::cli
