// `tidewater admin split-shard` end to end, as processes: it splits a shard of a tidewaterd
// process, and the AWS CLI's `dynamodbstreams describe-stream` (/usr/bin/aws) then shows
// the parent closed and the children naming it as parent. `tidewater admin cost` prints
// the written table's estimated monthly cost, and /metrics exports it.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/throttle_retry.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/streams/service_client.h"

namespace tidewater {
namespace {

constexpr char kAws[] = "/usr/bin/aws";

class AdminCommandTest : public ::testing::Test {
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
         R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}})");
    for (int k = 0; k < 20; ++k) {
      Call("PutItem",
           R"({"TableName":"orders","Item":{"pk":{"S":"k)" + std::to_string(k) + R"("}}})");
    }
  }

  std::string Call(const char* operation, const std::string& body) {
    auto answer = client_->CallJson(std::string("DynamoDB_20120810.") + operation, body);
    EXPECT_TRUE(answer.ok()) << operation << ": " << answer.status().ToString();
    return answer.ok() ? *answer : "";
  }

  // Runs a process to its end; its exit status and output (stdout and stderr).
  static int Run(const std::string& binary, std::vector<std::string> args, std::string* output,
                 std::vector<std::string> env = {}) {
    testing::ChildProcess process(binary, std::move(args), std::move(env));
    if (!testing::WaitFor([&] { return process.Exited(); }, std::chrono::seconds(60))) return -1;
    const int status = process.Wait();
    *output = process.log();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // The JSON document the AWS CLI printed for describe-stream.
  rapidjson::Document DescribeStream(const std::string& arn) {
    std::string output;
    const int status =
        Run(kAws,
            {"dynamodbstreams", "describe-stream", "--stream-arn", arn, "--endpoint-url",
             tidewaterd_.url(), "--region", "eu-test-1", "--output", "json", "--no-cli-pager"},
            &output,
            {"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
             "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"});
    EXPECT_EQ(status, 0) << output;
    rapidjson::Document document;
    const size_t json = output.find('{');
    document.Parse(json == std::string::npos ? "" : output.c_str() + json);
    EXPECT_FALSE(document.HasParseError()) << output;
    return document;
  }

  testing::TempDir dir_;
  testing::TidewaterdProcess tidewaterd_{TW_TIDEWATERD, dir_.Sub("data"), "eu-test-1"};
  std::unique_ptr<streams::ServiceClient> client_;
};

TEST_F(AdminCommandTest, SplitShardShowsLineageToTheAwsCli) {
  if (access(kAws, X_OK) != 0) GTEST_SKIP() << "awscli is not installed at " << kAws;
  rapidjson::Document table;
  table.Parse(Call("DescribeTable", R"({"TableName":"orders"})").c_str());
  ASSERT_FALSE(table.HasParseError());
  const std::string arn = table["Table"]["LatestStreamArn"].GetString();

  rapidjson::Document before = DescribeStream(arn);
  const auto& shards_before = before["StreamDescription"]["Shards"];
  ASSERT_GT(shards_before.Size(), 1u);
  const std::string parent = shards_before[1]["ShardId"].GetString();

  std::string output;
  ASSERT_EQ(Run(TW_TIDEWATER,
                {"admin", "split-shard", "--endpoint", tidewaterd_.url(), "--table", "orders",
                 "--shard", parent},
                &output),
            0)
      << output;

  rapidjson::Document after = DescribeStream(arn);
  const auto& shards = after["StreamDescription"]["Shards"];
  ASSERT_EQ(shards.Size(), shards_before.Size() + 2) << output;
  size_t children = 0;
  for (const auto& shard : shards.GetArray()) {
    const std::string id = shard["ShardId"].GetString();
    const bool closed = shard["SequenceNumberRange"].HasMember("EndingSequenceNumber");
    EXPECT_EQ(closed, id == parent) << id;
    if (shard.HasMember("ParentShardId")) {
      EXPECT_EQ(std::string(shard["ParentShardId"].GetString()), parent);
      ++children;
    }
  }
  EXPECT_EQ(children, 2u);

  // Splitting the closed parent again is refused, with the server's reason.
  EXPECT_EQ(Run(TW_TIDEWATER,
                {"admin", "split-shard", "--endpoint", tidewaterd_.url(), "--table", "orders",
                 "--shard", parent},
                &output),
            1);
  EXPECT_NE(output.find("closed"), std::string::npos) << output;
}

TEST_F(AdminCommandTest, CostPrintsEachTablesMonthlyCostAtBothClasses) {
  std::string output;
  ASSERT_EQ(Run(TW_TIDEWATER, {"admin", "cost", "--endpoint", tidewaterd_.url()}, &output), 0)
      << output;
  EXPECT_NE(output.find("TABLE"), std::string::npos) << output;
  EXPECT_NE(output.find("SAVING"), std::string::npos) << output;
  const size_t row = output.find("\norders ");
  ASSERT_NE(row, std::string::npos) << output;
  const std::string line = output.substr(row + 1, output.find('\n', row + 1) - row - 1);
  EXPECT_NE(line.find(" STANDARD "), std::string::npos) << line;
  EXPECT_NE(line.find(" PAY_PER_REQUEST "), std::string::npos) << line;
  // Writes dominate a few kilobytes: Standard-IA would cost more, so the saving is negative.
  EXPECT_NE(line.find(" -$"), std::string::npos) << line;

  ASSERT_EQ(Run(TW_TIDEWATER,
                {"admin", "cost", "--endpoint", tidewaterd_.url(), "--table", "orders", "--json"},
                &output),
            0)
      << output;
  rapidjson::Document answer;
  answer.Parse(output.c_str());
  ASSERT_FALSE(answer.HasParseError()) << output;
  ASSERT_EQ(answer["Tables"].Size(), 1u);
  const auto& orders = answer["Tables"][0];
  EXPECT_GT(orders["ConsumedWriteUnitsPerSecond"].GetDouble(), 0) << output;
  const double standard_writes = orders["MonthlyCost"]["STANDARD"]["Writes"].GetDouble();
  EXPECT_GT(standard_writes, 0) << output;
  EXPECT_GT(orders["MonthlyCost"]["STANDARD_INFREQUENT_ACCESS"]["Writes"].GetDouble(),
            standard_writes)
      << output;

  EXPECT_EQ(Run(TW_TIDEWATER,
                {"admin", "cost", "--endpoint", tidewaterd_.url(), "--table", "missing"}, &output),
            1);
  EXPECT_NE(output.find("not found"), std::string::npos) << output;

  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  const std::string series =
      "\n"
      R"(tidewater_table_estimated_monthly_cost_dollars{table="orders",)"
      R"(table_class="STANDARD",component="writes"} )";
  const size_t sample = metrics->body.find(series);
  ASSERT_NE(sample, std::string::npos) << metrics->body;
  EXPECT_GT(std::stod(metrics->body.substr(sample + series.size())), 0) << metrics->body;
  EXPECT_NE(metrics->body.find(R"(tidewater_table_class_info{table="orders",)"
                               R"(table_class="STANDARD"} 1)"),
            std::string::npos)
      << metrics->body;
}

// tidewaterd splits by itself: a table written faster than --split-shard-writes-per-second
// for --split-sustain-seconds gets its shards split (the splitter looks every 5 s), and
// /metrics counts the splits by reason.
TEST(AutoSplitProcessTest, AShardWrittenPastTheRateSplitsByItself) {
  testing::TempDir dir;
  testing::TidewaterdProcess tidewaterd(
      TW_TIDEWATERD, dir.Sub("data"), "eu-test-1",
      {"--split-shard-writes-per-second", "10", "--split-sustain-seconds", "1"});
  ASSERT_TRUE(tidewaterd.Start()) << tidewaterd.log();
  auto client = streams::ServiceClient::Create(tidewaterd.url());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)
                  ->CallJson("DynamoDB_20120810.CreateTable",
                             R"({"TableName":"hot","KeySchema":[{"AttributeName":"pk",)"
                             R"("KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":)"
                             R"("pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST",)"
                             R"("StreamSpecification":{"StreamEnabled":true,)"
                             R"("StreamViewType":"KEYS_ONLY"}})")
                  .ok());
  int written = 0;
  size_t shards = 0;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        for (int i = 0; i < 50; ++i, ++written) {
          auto put = testing::CallJsonRetryingThrottles(
              **client, "DynamoDB_20120810.PutItem",
              R"({"TableName":"hot","Item":{"pk":{"S":"k)" + std::to_string(written) + R"("}}})");
          EXPECT_TRUE(put.ok()) << put.status().ToString();
        }
        auto table =
            (*client)->CallJson("DynamoDB_20120810.DescribeTable", R"({"TableName":"hot"})");
        if (!table.ok()) return false;
        rapidjson::Document document;
        document.Parse(table->c_str());
        auto stream =
            (*client)->CallJson("DynamoDBStreams_20120810.DescribeStream",
                                std::string(R"({"StreamArn":")") +
                                    document["Table"]["LatestStreamArn"].GetString() + R"("})");
        if (!stream.ok()) return false;
        document.Parse(stream->c_str());
        shards = document["StreamDescription"]["Shards"].Size();
        return shards > 4;
      },
      std::chrono::seconds(40)))
      << written << " items written, " << shards << " shards";
  auto metrics_client = streams::ServiceClient::Create(tidewaterd.url());
  ASSERT_TRUE(metrics_client.ok());
  auto metrics = (*metrics_client)->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find(R"(tidewater_shard_splits_total{reason="writes",table="hot"})"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(tidewaterd.log().find("event=shard_split table=hot"), std::string::npos);
}

}  // namespace
}  // namespace tidewater
