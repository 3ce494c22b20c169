// `tidewater trigger` with PoisonRecordHandling QUARANTINE_KEY, as a process over a
// tidewaterd: a handler that fails for one key. The other keys' records are all handled in
// order; the bad key's records are parked in the quarantine table, which the AWS CLI reads;
// deleting them with the AWS CLI releases the key; the metrics count the parked records.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/streams/service_client.h"

namespace tidewater {
namespace {

using std::chrono::milliseconds;

constexpr char kAws[] = "/usr/bin/aws";

// Appends each record's key, sequence and n to argv[1]; fails the whole batch while the
// file argv[2] exists and the batch holds a record of key "bad".
constexpr char kHandler[] = R"(import json, os, sys
event = json.load(sys.stdin)
records = event["Records"]
if os.path.exists(sys.argv[2]) and any(r["dynamodb"]["Keys"]["pk"]["S"] == "bad" for r in records):
    sys.exit(1)
with open(sys.argv[1], "a") as out:
    for r in records:
        out.write("%s %s %s\n" % (r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["SequenceNumber"],
                                  r["dynamodb"]["NewImage"]["n"]["N"]))
)";

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Runs the AWS CLI against `endpoint`; its JSON output parsed (a null document on failure).
rapidjson::Document Aws(const std::string& endpoint, const std::string& arguments) {
  const std::string command =
      "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_PAGER= " + std::string(kAws) + " " +
      arguments + " --endpoint-url " + endpoint + " --region us-east-1 --output json 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  char buffer[4096];
  for (size_t n; pipe != nullptr && (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) {
    output.append(buffer, n);
  }
  const int status = pipe == nullptr ? -1 : ::pclose(pipe);
  rapidjson::Document document;
  EXPECT_EQ(status, 0) << command << "\n" << output;
  if (status != 0) return document;
  if (output.empty()) output = "{}";
  document.Parse(output.c_str());
  EXPECT_FALSE(document.HasParseError()) << output;
  return document;
}

class TriggerQuarantineCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kAws, X_OK) != 0) GTEST_SKIP() << "the AWS CLI is not installed at " << kAws;
    tidewaterd_ =
        std::make_unique<testing::TidewaterdProcess>(TW_TIDEWATERD, dir_.Sub("data"), "eu-test-1");
    ASSERT_TRUE(tidewaterd_->Start()) << tidewaterd_->log();
    auto client = streams::ServiceClient::Create(tidewaterd_->url());
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

  // The handled records of each key: its n values in the order handled.
  std::map<std::string, std::vector<std::string>> Handled() {
    std::map<std::string, std::vector<std::string>> handled;
    for (const std::string& line : ReadLines(dir_.Sub("handled.txt"))) {
      char key[64];
      char sequence[64];
      char n[64];
      if (std::sscanf(line.c_str(), "%63s %63s %63s", key, sequence, n) == 3) {
        handled[key].push_back(n);
      }
    }
    return handled;
  }

  // The quarantine table's items, as the AWS CLI scans them.
  std::vector<std::pair<std::string, std::string>> ParkedKeysAndSequences() {
    rapidjson::Document scan =
        Aws(tidewaterd_->url(), "dynamodb scan --table-name tidewater_quarantine");
    std::vector<std::pair<std::string, std::string>> parked;
    if (!scan.IsObject() || !scan.HasMember("Items")) return parked;
    for (const auto& item : scan["Items"].GetArray()) {
      parked.emplace_back(item["key"]["S"].GetString(), item["sequence"]["N"].GetString());
    }
    return parked;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TidewaterdProcess> tidewaterd_;
  std::unique_ptr<streams::ServiceClient> client_;
};

TEST_F(TriggerQuarantineCommandTest, TheBadKeyIsParkedAndReleasedWithTheAwsCli) {
  const std::string script = dir_.Sub("handler.py");
  std::ofstream(script) << kHandler;
  const std::string failing = dir_.Sub("bad-fails");
  std::ofstream(failing) << "1";
  const int metrics_port = FreePort();
  const std::string config = dir_.Sub("trigger.yaml");
  std::ofstream(config) << "source: {endpoint: " << tidewaterd_->url() << "}\n"
                        << "application: e2e\n"
                        << "metrics: {listen: 127.0.0.1:" << metrics_port << "}\n"
                        << "triggers:\n  - name: audit\n    table: orders\n"
                        << "    handler: {type: exec, command: [/usr/bin/python3, " << script
                        << ", " << dir_.Sub("handled.txt") << ", " << failing << "]}\n"
                        << "    StartingPosition: TRIM_HORIZON\n    BatchSize: 10\n"
                        << "    MaximumRetryAttempts: 1\n"
                        << "    PoisonRecordHandling: QUARANTINE_KEY\n"
                        << "    DestinationConfig: {OnFailure: {Destination: 'file:"
                        << dir_.Sub("failures.jsonl") << "'}}\n";
  for (int n = 0; n < 5; ++n) {
    for (const char* key : {"a", "bad", "b", "c"}) Put(key, n);
  }
  testing::ChildProcess trigger(TW_TIDEWATER, {"trigger", "--config", config});

  const std::vector<std::string> all = {"0", "1", "2", "3", "4"};
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto handled = Handled();
        return handled["a"].size() >= 5 && handled["b"].size() >= 5 && handled["c"].size() >= 5;
      },
      std::chrono::seconds(60)))
      << trigger.log();
  // Every other key: all of its records, in order; the bad key: none.
  std::map<std::string, std::vector<std::string>> handled = Handled();
  EXPECT_EQ(handled["a"], all);
  EXPECT_EQ(handled["b"], all);
  EXPECT_EQ(handled["c"], all);
  EXPECT_EQ(handled.count("bad"), 0u);

  // The bad key's five records are in the quarantine table, in sequence order.
  std::vector<std::pair<std::string, std::string>> parked;
  ASSERT_TRUE(testing::WaitFor([&] { return (parked = ParkedKeysAndSequences()).size() >= 5; },
                               std::chrono::seconds(30)));
  ASSERT_EQ(parked.size(), 5u);
  for (size_t i = 0; i < parked.size(); ++i) {
    EXPECT_EQ(parked[i].first, R"({"pk":{"S":"bad"}})");
    if (i > 0) {
      EXPECT_LT(std::stoull(parked[i - 1].second), std::stoull(parked[i].second));
    }
  }
  EXPECT_EQ(ReadLines(dir_.Sub("failures.jsonl")).size(), 1u);

  // The metrics count them.
  auto metrics_client =
      streams::ServiceClient::Create("http://127.0.0.1:" + std::to_string(metrics_port));
  ASSERT_TRUE(metrics_client.ok());
  const std::string wanted[] = {
      R"(tidewater_trigger_records_quarantined_total{reason="RetryAttemptsExhausted",trigger="audit"} 1)",
      R"(tidewater_trigger_records_quarantined_total{reason="KeyQuarantined",trigger="audit"} 4)"};
  std::string body;
  EXPECT_TRUE(testing::WaitFor([&] {
    auto metrics = (*metrics_client)->Get("/metrics");
    if (metrics.ok()) body = metrics->body;
    return body.find(wanted[0]) != std::string::npos && body.find(wanted[1]) != std::string::npos;
  })) << body;

  // While the key is quarantined, its new records are parked behind the others.
  Put("bad", 5);
  ASSERT_TRUE(testing::WaitFor([&] { return ParkedKeysAndSequences().size() == 6; },
                               std::chrono::seconds(30)));

  // Release: the operator fixed the handler and deletes the parked items.
  std::remove(failing.c_str());
  rapidjson::Document scan =
      Aws(tidewaterd_->url(), "dynamodb scan --table-name tidewater_quarantine");
  for (const auto& item : scan["Items"].GetArray()) {
    const std::string key = std::string(R"({"quarantineKey":{"S":")") +
                            item["quarantineKey"]["S"].GetString() + R"("},"position":{"S":")" +
                            item["position"]["S"].GetString() + R"("}})";
    Aws(tidewaterd_->url(),
        "dynamodb delete-item --table-name tidewater_quarantine --key '" + key + "'");
  }
  Put("bad", 6);
  ASSERT_TRUE(
      testing::WaitFor([&] { return Handled()["bad"].size() >= 1; }, std::chrono::seconds(30)))
      << trigger.log();
  EXPECT_EQ(Handled()["bad"], std::vector<std::string>{"6"});
  EXPECT_TRUE(ParkedKeysAndSequences().empty());

  trigger.Signal(SIGTERM);
  const int status = trigger.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << trigger.log();
}

}  // namespace
}  // namespace tidewater
