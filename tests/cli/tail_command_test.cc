// `tidewater tail` end to end, as a process against a tidewaterd process: from the trim
// horizon with a filter and --max-records, and live from LATEST until SIGINT.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/streams/service_client.h"

namespace tidewater {
namespace {

using std::chrono::milliseconds;

class TailCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tidewaterd_.Start()) << tidewaterd_.log();
    auto client = streams::ServiceClient::Create(tidewaterd_.url());
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
    Call("CreateTable",
         R"({"TableName":"orders","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
         R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
         R"("BillingMode":"PAY_PER_REQUEST",)"
         R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}})");
  }

  void Call(const char* operation, const std::string& body) {
    auto answer = client_->CallJson(std::string("DynamoDB_20120810.") + operation, body);
    ASSERT_TRUE(answer.ok()) << operation << ": " << answer.status().ToString();
  }
  void Put(const std::string& key, int n) {
    Call("PutItem", R"({"TableName":"orders","Item":{"pk":{"S":")" + key + R"("},"n":{"N":")" +
                        std::to_string(n) + R"("}}})");
  }

  std::unique_ptr<testing::ChildProcess> Tail(std::vector<std::string> args) {
    args.insert(args.begin(), {"tail", "--endpoint", tidewaterd_.url(), "--table", "orders"});
    return std::make_unique<testing::ChildProcess>(TW_TIDEWATER, std::move(args));
  }

  testing::TempDir dir_;
  testing::TidewaterdProcess tidewaterd_{TW_TIDEWATERD, dir_.Sub("data"), "eu-test-1"};
  std::unique_ptr<streams::ServiceClient> client_;
};

int WaitForExit(testing::ChildProcess& process) {
  const bool exited = testing::WaitFor([&] { return process.Exited(); });
  if (!exited) return -1;
  const int status = process.Wait();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The output lines that are records (the log goes to stderr, captured with them).
std::vector<std::string> RecordLines(const std::string& output, const std::string& prefix) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(prefix)) lines.push_back(line);
  }
  return lines;
}

// Text lines: "<time> <shard id> <sequence> <event> <keys> <image>". Per key, the values of
// "n" in the order printed, and per shard that sequences increase.
std::map<std::string, std::vector<int>> ValuesPerKey(const std::vector<std::string>& lines) {
  static const std::regex kLine(
      R"re(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (shardId-\d{20}-\d{8}) (\d{21}) )re"
      R"re((INSERT|MODIFY|REMOVE) \{"pk":\{"S":"([^"]+)"\}\} \{.*"n":\{"N":"(\d+)"\}.*\}$)re");
  std::map<std::string, std::vector<int>> values;
  std::map<std::string, std::string> last_sequence;
  for (const std::string& line : lines) {
    std::smatch match;
    if (!std::regex_match(line, match, kLine)) {
      ADD_FAILURE() << "unexpected line: " << line;
      continue;
    }
    std::string& last = last_sequence[match[1]];
    EXPECT_GT(match[2].str(), last) << line;
    last = match[2];
    values[match[4]].push_back(std::stoi(match[5]));
  }
  return values;
}

TEST_F(TailCommandTest, FromTrimHorizonWithFilterStopsAfterMaxRecords) {
  for (int n = 0; n < 5; ++n) {
    for (const char* key : {"a", "b", "c"}) Put(key, n);
  }
  Call("DeleteItem", R"({"TableName":"orders","Key":{"pk":{"S":"b"}}})");
  // Everything but the REMOVE: 15 records.
  auto tail = Tail({"--from", "trim-horizon", "--filter", R"({"eventName":["INSERT","MODIFY"]})",
                    "--max-records", "15"});
  ASSERT_EQ(WaitForExit(*tail), 0) << tail->log();
  const auto values = ValuesPerKey(RecordLines(tail->log(), "20"));
  const std::vector<int> all = {0, 1, 2, 3, 4};
  EXPECT_EQ(values, (std::map<std::string, std::vector<int>>{{"a", all}, {"b", all}, {"c", all}}))
      << tail->log();

  // The REMOVE alone, as the DynamoDB Streams record.
  tail = Tail({"--from", "trim-horizon", "--format", "json", "--filter",
               R"({"eventName":["REMOVE"]})", "--max-records", "1"});
  ASSERT_EQ(WaitForExit(*tail), 0) << tail->log();
  const auto lines = RecordLines(tail->log(), "{");
  ASSERT_EQ(lines.size(), 1u) << tail->log();
  rapidjson::Document record;
  record.Parse(lines[0].c_str());
  ASSERT_FALSE(record.HasParseError()) << lines[0];
  EXPECT_STREQ(record["eventName"].GetString(), "REMOVE");
  EXPECT_STREQ(record["awsRegion"].GetString(), "eu-test-1");
  EXPECT_STREQ(record["dynamodb"]["Keys"]["pk"]["S"].GetString(), "b");
  EXPECT_STREQ(record["dynamodb"]["OldImage"]["n"]["N"].GetString(), "4");
}

TEST_F(TailCommandTest, FollowsFromLatestUntilInterrupted) {
  for (int n = 0; n < 3; ++n) Put("old", n);
  auto tail = Tail({});
  // LATEST is fixed when the reader takes each shard: write until the tail shows a record.
  int probes = 0;
  ASSERT_TRUE(testing::WaitFor([&] {
    Put("probe", probes++);
    return tail->log().find(R"({"pk":{"S":"probe"}})") != std::string::npos;
  })) << tail->log();
  for (int n = 0; n < 10; ++n) Put("live", n);
  const auto live_lines = [&] {
    size_t count = 0;
    for (const std::string& line : RecordLines(tail->log(), "20")) {
      count += line.find(R"( {"pk":{"S":"live"}} )") != std::string::npos;
    }
    return count;
  };
  ASSERT_TRUE(testing::WaitFor([&] { return live_lines() == 10; })) << tail->log();
  tail->Signal(SIGINT);
  ASSERT_EQ(WaitForExit(*tail), 0) << tail->log();

  const auto values = ValuesPerKey(RecordLines(tail->log(), "20"));
  EXPECT_EQ(values.count("old"), 0u) << "records from before the start were shown";
  EXPECT_EQ(values.at("live"), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST_F(TailCommandTest, FromATimeStartsAtTheFirstRecordWrittenAtOrAfterIt) {
  for (int n = 0; n < 3; ++n) Put("before", n);
  // Every "before" record is acknowledged, so written before this time; every "after" one
  // is written later (the server shares this machine's clock).
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  for (int n = 0; n < 3; ++n) Put("after", n);
  char from[32];
  std::snprintf(from, sizeof(from), "%lld.%06lld", static_cast<long long>(micros / 1'000'000),
                static_cast<long long>(micros % 1'000'000));
  auto tail = Tail({"--from", from, "--max-records", "3"});
  ASSERT_EQ(WaitForExit(*tail), 0) << tail->log();
  const auto values = ValuesPerKey(RecordLines(tail->log(), "20"));
  EXPECT_EQ(values, (std::map<std::string, std::vector<int>>{{"after", {0, 1, 2}}})) << tail->log();

  auto bad = Tail({"--from", "yesterday"});
  EXPECT_EQ(WaitForExit(*bad), 2);
  EXPECT_NE(bad->log().find("--from"), std::string::npos) << bad->log();
}

TEST_F(TailCommandTest, BadInputIsAnErrorWithoutOutput) {
  auto tail = Tail({"--filter", "{not json"});
  EXPECT_EQ(WaitForExit(*tail), 2);
  EXPECT_NE(tail->log().find("--filter"), std::string::npos) << tail->log();
  auto missing = std::make_unique<testing::ChildProcess>(
      TW_TIDEWATER,
      std::vector<std::string>{"tail", "--endpoint", tidewaterd_.url(), "--table", "nosuch"});
  EXPECT_EQ(WaitForExit(*missing), 1);
  EXPECT_NE(missing->log().find("ResourceNotFoundException"), std::string::npos) << missing->log();
}

}  // namespace
}  // namespace tidewater
