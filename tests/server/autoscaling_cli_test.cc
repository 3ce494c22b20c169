// Application Auto Scaling end to end: a tidewaterd process (evaluating every second with
// --autoscaling-period-seconds 1, DynamoDB's rules otherwise) driven by the unchanged AWS
// CLI (/usr/bin/aws application-autoscaling ... --endpoint-url): register-scalable-target
// and put-scaling-policy, the errors Application Auto Scaling answers for bad input, a
// scale out under a write load (DescribeTable's WriteCapacityUnits grows, and
// describe-scaling-activities shows the Successful activity), and the registration kept
// across a restart.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>

#include <atomic>
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

constexpr char kAws[] = "/usr/bin/aws";
constexpr char kRegion[] = "eu-test-1";

struct CliResult {
  int status = -1;
  std::string output;  // stdout and stderr
  rapidjson::Document json;
};

class AutoScalingCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tidewaterd_.Start()) << tidewaterd_.log();
    auto client = streams::ServiceClient::Create(tidewaterd_.url());
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
    auto created = client_->CallJson(
        "DynamoDB_20120810.CreateTable",
        R"({"TableName":"orders","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
        R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
        R"("ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}})");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  // `aws application-autoscaling <args> --endpoint-url ...`, its exit status and output.
  CliResult Aws(std::vector<std::string> args) {
    args.insert(args.begin(), "application-autoscaling");
    args.insert(args.end(), {"--endpoint-url", tidewaterd_.url(), "--region", kRegion, "--output",
                             "json", "--no-cli-pager"});
    testing::ChildProcess process(kAws, std::move(args),
                                  {"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
                                   "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null",
                                   "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1"});
    CliResult result;
    if (!testing::WaitFor([&] { return process.Exited(); }, std::chrono::seconds(60))) {
      return result;
    }
    const int status = process.Wait();
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.output = process.log();
    const size_t json = result.output.find('{');
    if (json != std::string::npos) result.json.Parse(result.output.c_str() + json);
    return result;
  }

  // A command that must fail with Application Auto Scaling's error `type`.
  void ExpectError(const std::vector<std::string>& args, const std::string& type) {
    CliResult result = Aws(args);
    EXPECT_NE(result.status, 0) << result.output;
    EXPECT_NE(result.output.find("(" + type + ")"), std::string::npos) << result.output;
  }

  int64_t WriteCapacity() {
    auto described =
        client_->CallJson("DynamoDB_20120810.DescribeTable", R"({"TableName":"orders"})");
    if (!described.ok()) return -1;
    rapidjson::Document document;
    document.Parse(described->c_str());
    return document["Table"]["ProvisionedThroughput"]["WriteCapacityUnits"].GetInt64();
  }

  static std::vector<std::string> WriteTarget() {
    return {"--service-namespace",  "dynamodb",
            "--resource-id",        "table/orders",
            "--scalable-dimension", "dynamodb:table:WriteCapacityUnits"};
  }
  static std::vector<std::string> With(std::vector<std::string> args,
                                       const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  testing::TempDir dir_;
  testing::TidewaterdProcess tidewaterd_{
      TW_TIDEWATERD, dir_.Sub("data"), kRegion, {"--autoscaling-period-seconds", "1"}};
  std::unique_ptr<streams::ServiceClient> client_;
};

TEST_F(AutoScalingCliTest, RegistersScalesOutUnderLoadAndKeepsItsConfigurationAcrossRestart) {
  CliResult registered =
      Aws(With({"register-scalable-target"},
               With(WriteTarget(), {"--min-capacity", "5", "--max-capacity", "50"})));
  ASSERT_EQ(registered.status, 0) << registered.output;
  CliResult policy =
      Aws(With({"put-scaling-policy", "--policy-name", "writes", "--policy-type",
                "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
                R"({"TargetValue":50.0,"PredefinedMetricSpecification":)"
                R"({"PredefinedMetricType":"DynamoDBWriteCapacityUtilization"}})"},
               WriteTarget()));
  ASSERT_EQ(policy.status, 0) << policy.output;
  ASSERT_TRUE(policy.json.IsObject()) << policy.output;
  EXPECT_NE(std::string(policy.json["PolicyARN"].GetString()).find(":policyName/writes"),
            std::string::npos);
  ASSERT_EQ(policy.json["Alarms"].Size(), 2u) << policy.output;  // AlarmHigh and AlarmLow

  // Bad input, answered as Application Auto Scaling does.
  ExpectError({"register-scalable-target", "--service-namespace", "dynamodb", "--resource-id",
               "table/missing", "--scalable-dimension", "dynamodb:table:WriteCapacityUnits",
               "--min-capacity", "1", "--max-capacity", "5"},
              "ValidationException");
  ExpectError(With({"register-scalable-target"},
                   With(WriteTarget(), {"--min-capacity", "20", "--max-capacity", "10"})),
              "ValidationException");
  ExpectError({"register-scalable-target", "--service-namespace", "dynamodb", "--resource-id",
               "table/orders/index/by-date", "--scalable-dimension",
               "dynamodb:index:WriteCapacityUnits", "--min-capacity", "1", "--max-capacity", "5"},
              "ValidationException");
  ExpectError(
      {"put-scaling-policy", "--service-namespace", "dynamodb", "--resource-id", "table/orders",
       "--scalable-dimension", "dynamodb:table:ReadCapacityUnits", "--policy-name", "reads",
       "--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
       R"({"TargetValue":50.0,"PredefinedMetricSpecification":)"
       R"({"PredefinedMetricType":"DynamoDBReadCapacityUtilization"}})"},
      "ObjectNotFoundException");
  ExpectError(With({"delete-scaling-policy", "--policy-name", "nope"}, WriteTarget()),
              "ObjectNotFoundException");
  ExpectError(With({"put-scaling-policy", "--policy-name", "high", "--policy-type",
                    "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
                    R"({"TargetValue":95.0,"PredefinedMetricSpecification":)"
                    R"({"PredefinedMetricType":"DynamoDBWriteCapacityUtilization"}})"},
                   WriteTarget()),
              "ValidationException");
  ExpectError(With({"put-scaling-policy", "--policy-name", "steps", "--policy-type", "StepScaling"},
                   WriteTarget()),
              "ValidationException");

  // Registering brings the current capacity into the range at once.
  CliResult reads =
      Aws({"register-scalable-target", "--service-namespace", "dynamodb", "--resource-id",
           "table/orders", "--scalable-dimension", "dynamodb:table:ReadCapacityUnits",
           "--min-capacity", "8", "--max-capacity", "20"});
  ASSERT_EQ(reads.status, 0) << reads.output;
  CliResult raised =
      Aws({"describe-scaling-activities", "--service-namespace", "dynamodb", "--scalable-dimension",
           "dynamodb:table:ReadCapacityUnits", "--resource-id", "table/orders"});
  ASSERT_TRUE(raised.json.IsObject()) << raised.output;
  ASSERT_EQ(raised.json["ScalingActivities"].Size(), 1u) << raised.output;
  EXPECT_STREQ(raised.json["ScalingActivities"][0]["Cause"].GetString(),
               "minimum capacity was set to 8");
  EXPECT_STREQ(raised.json["ScalingActivities"][0]["Description"].GetString(),
               "Setting read capacity units to 8.");
  CliResult dropped =
      Aws({"deregister-scalable-target", "--service-namespace", "dynamodb", "--resource-id",
           "table/orders", "--scalable-dimension", "dynamodb:table:ReadCapacityUnits"});
  ASSERT_EQ(dropped.status, 0) << dropped.output;

  // A write load well above 50% of 5 units: the table scales out within seconds.
  ASSERT_EQ(WriteCapacity(), 5);
  std::atomic<bool> stop{false};
  std::thread load([&] {
    auto writer = streams::ServiceClient::Create(tidewaterd_.url());
    if (!writer.ok()) return;
    for (int i = 0; !stop.load(); ++i) {
      (void)(*writer)->CallJson(
          "DynamoDB_20120810.PutItem",
          R"({"TableName":"orders","Item":{"pk":{"S":"k)" + std::to_string(i) + R"("}}})");
    }
  });
  const bool scaled =
      testing::WaitFor([&] { return WriteCapacity() > 5; }, std::chrono::seconds(60));
  stop = true;
  load.join();
  ASSERT_TRUE(scaled) << tidewaterd_.log();

  CliResult activities = Aws(With({"describe-scaling-activities"}, WriteTarget()));
  ASSERT_EQ(activities.status, 0) << activities.output;
  ASSERT_TRUE(activities.json.IsObject()) << activities.output;
  const rapidjson::Value& list = activities.json["ScalingActivities"];
  ASSERT_GE(list.Size(), 1u) << activities.output;
  const rapidjson::Value& first = list[list.Size() - 1];  // the oldest: the first scale out
  EXPECT_STREQ(first["StatusCode"].GetString(), "Successful");
  EXPECT_STREQ(first["ScalableDimension"].GetString(), "dynamodb:table:WriteCapacityUnits");
  EXPECT_EQ(
      std::string(first["Description"].GetString()).rfind("Setting write capacity units to ", 0),
      0u);
  EXPECT_NE(std::string(first["Cause"].GetString()).find("AlarmHigh"), std::string::npos);

  // Registrations and policies are durable.
  ASSERT_TRUE(tidewaterd_.Stop());
  ASSERT_TRUE(tidewaterd_.Start()) << tidewaterd_.log();
  CliResult targets = Aws({"describe-scalable-targets", "--service-namespace", "dynamodb"});
  ASSERT_EQ(targets.status, 0) << targets.output;
  ASSERT_TRUE(targets.json.IsObject()) << targets.output;
  ASSERT_EQ(targets.json["ScalableTargets"].Size(), 1u) << targets.output;
  const rapidjson::Value& target = targets.json["ScalableTargets"][0];
  EXPECT_STREQ(target["ResourceId"].GetString(), "table/orders");
  EXPECT_EQ(target["MinCapacity"].GetInt(), 5);
  EXPECT_EQ(target["MaxCapacity"].GetInt(), 50);
  CliResult policies = Aws({"describe-scaling-policies", "--service-namespace", "dynamodb"});
  ASSERT_EQ(policies.status, 0) << policies.output;
  ASSERT_TRUE(policies.json.IsObject()) << policies.output;
  ASSERT_EQ(policies.json["ScalingPolicies"].Size(), 1u) << policies.output;
  const rapidjson::Value& kept = policies.json["ScalingPolicies"][0];
  EXPECT_STREQ(kept["PolicyName"].GetString(), "writes");
  EXPECT_DOUBLE_EQ(kept["TargetTrackingScalingPolicyConfiguration"]["TargetValue"].GetDouble(),
                   50.0);

  // Deregistering removes the target and its policy.
  CliResult deregistered = Aws(With({"deregister-scalable-target"}, WriteTarget()));
  ASSERT_EQ(deregistered.status, 0) << deregistered.output;
  ExpectError(With({"deregister-scalable-target"}, WriteTarget()), "ObjectNotFoundException");
  CliResult none = Aws({"describe-scaling-policies", "--service-namespace", "dynamodb"});
  ASSERT_TRUE(none.json.IsObject()) << none.output;
  EXPECT_EQ(none.json["ScalingPolicies"].Size(), 0u);
}

}  // namespace
}  // namespace tidewater
