// `tidewater admin`: administrative operations on a tidewaterd.
//
// `tidewater admin split-shard --endpoint URL --table T --shard SHARD_ID` splits an open
// stream shard online into two children (TidewaterAdmin_20261205.SplitShard). SHARD_ID is
// the shard's id as DescribeStream shows it. Prints the server's answer (the parent, its
// EndingSequenceNumber and the children's ids) as JSON. Exit status: 0 when the shard was
// split; 1 when the server refused (no such table or shard, the shard is closed, ...) or
// could not be reached, with the reason on stderr.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::cli {
namespace {

struct SplitShardFlags {
  std::string endpoint;
  std::string table;
  std::string shard;
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

  auto client = streams::ServiceClient::Create(flags.endpoint);
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
  command->callback([split] { ExitCode() = RunSplitShard(*split); });
}

}  // namespace tidewater::cli
