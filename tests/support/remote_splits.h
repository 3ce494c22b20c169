// Splits shards of a tidewaterd's table while a test writes and reads it: through the
// Streams API (DescribeStream) to find the open shards, and the admin API's SplitShard.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "tidewater/core/status.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::testing {

// The shard ids of `table`'s current stream that are still open (no EndingSequenceNumber).
inline Result<std::vector<std::string>> OpenShardIdsRemote(streams::ServiceClient& client,
                                                           const std::string& table) {
  TW_ASSIGN_OR_RETURN(std::string described, client.CallJson("DynamoDB_20120810.DescribeTable",
                                                             R"({"TableName":")" + table + "\"}"));
  rapidjson::Document description;
  description.Parse(described.c_str());
  if (!description.IsObject() || !description["Table"].HasMember("LatestStreamArn")) {
    return Status::Internal("no stream on " + table + ": " + described);
  }
  const std::string arn = description["Table"]["LatestStreamArn"].GetString();
  std::vector<std::string> open;
  std::string start_after;
  do {
    std::string request = R"({"StreamArn":")" + arn + "\"";
    if (!start_after.empty()) request += R"(,"ExclusiveStartShardId":")" + start_after + "\"";
    TW_ASSIGN_OR_RETURN(std::string answer,
                        client.CallJson("DynamoDBStreams_20120810.DescribeStream", request + "}"));
    rapidjson::Document stream;
    stream.Parse(answer.c_str());
    if (!stream.IsObject()) return Status::Internal("DescribeStream: " + answer);
    const rapidjson::Value& shown = stream["StreamDescription"];
    for (const auto& shard : shown["Shards"].GetArray()) {
      if (!shard["SequenceNumberRange"].HasMember("EndingSequenceNumber")) {
        open.emplace_back(shard["ShardId"].GetString());
      }
    }
    start_after =
        shown.HasMember("LastEvaluatedShardId") ? shown["LastEvaluatedShardId"].GetString() : "";
  } while (!start_after.empty());
  return open;
}

// Splits the open shard number `choice` (modulo their count) of `table`.
inline Status SplitOpenShardRemote(streams::ServiceClient& client, const std::string& table,
                                   uint32_t choice) {
  TW_ASSIGN_OR_RETURN(std::vector<std::string> open, OpenShardIdsRemote(client, table));
  if (open.empty()) return Status::Internal("no open shard in " + table);
  return client
      .CallJson(
          "TidewaterAdmin_20261205.SplitShard",
          R"({"TableName":")" + table + R"(","ShardId":")" + open[choice % open.size()] + "\"}")
      .status();
}

}  // namespace tidewater::testing
