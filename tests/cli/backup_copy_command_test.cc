// `tidewater backup copy` end to end, as processes: two tidewaterd regions (eu-test-1 and
// us-test-2); a backup taken in one is copied into the other in many chunks, described there
// with an ARN of the target's region, and restored there with every item of the source table
// at the backup. A wrong ARN fails with the server's reason and a non-zero exit, and copies
// nothing.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/wait.h>

#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/throttle_retry.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/service_client.h"

namespace tidewater {
namespace {

constexpr int kItems = 200;

// The string at `path` (member names) under `root`; "" when absent.
std::string StringAt(const rapidjson::Value& root, std::initializer_list<const char*> path) {
  const rapidjson::Value* value = &root;
  for (const char* name : path) {
    if (!value->IsObject() || !value->HasMember(name)) return "";
    value = &(*value)[name];
  }
  return value->IsString() ? value->GetString() : "";
}

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

// Item `i` of table "orders" (pk S, sk N) in DynamoDB JSON, with attributes of several kinds
// and a note long enough that the backup takes many chunks of 4 KiB.
std::string OrderJson(int i) {
  const std::string n = std::to_string(i);
  return R"({"pk":{"S":"customer)" + std::to_string(i % 7) + R"("},"sk":{"N":")" + n +
         R"("},"note":{"S":"order )" + n + " " + std::string(120, 'x') + R"("},"blob":{"B":")" +
         json::Base64Encode(std::string("\x00\xff", 2) + n) + R"("},"tags":{"SS":["red","t)" + n +
         R"("]},"paid":{"BOOL":)" + (i % 2 == 0 ? "true" : "false") +
         R"(},"lines":{"L":[{"S":"line"},{"M":{"qty":{"N":")" + std::to_string(i % 5) +
         R"("}}}]}})";
}

class BackupCopyCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(source_.Start()) << source_.log();
    ASSERT_TRUE(target_.Start()) << target_.log();
    source_client_ = ClientOf(source_);
    target_client_ = ClientOf(target_);
    ASSERT_TRUE(source_client_ && target_client_);
  }

  static std::unique_ptr<streams::ServiceClient> ClientOf(const testing::TidewaterdProcess& d) {
    auto client = streams::ServiceClient::Create(d.url());
    if (!client.ok()) {
      ADD_FAILURE() << d.url() << ": " << client.status().ToString();
      return nullptr;
    }
    return std::move(*client);
  }

  // Calls `operation` (DynamoDB_20120810); its answer, parsed. Refusals fail the test.
  static rapidjson::Document Call(streams::ServiceClient& client, const std::string& operation,
                                  const std::string& body) {
    auto answer =
        testing::CallJsonRetryingThrottles(client, "DynamoDB_20120810." + operation, body);
    EXPECT_TRUE(answer.ok()) << operation << " " << body << ": " << answer.status().ToString();
    rapidjson::Document document;
    document.Parse(answer.ok() ? answer->c_str() : "{}");
    return document;
  }

  // Table "orders" on the source with kItems items and a backup "nightly" of it; the
  // backup's ARN. `items_at_backup`: every item then, by key.
  std::string BackUpOrders(std::map<std::string, Item>* items_at_backup) {
    Call(
        *source_client_, "CreateTable",
        R"({"TableName":"orders","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},)"
        R"({"AttributeName":"sk","KeyType":"RANGE"}],"AttributeDefinitions":[)"
        R"({"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],)"
        R"("BillingMode":"PAY_PER_REQUEST"})");
    for (int i = 0; i < kItems; ++i) {
      Call(*source_client_, "PutItem", R"({"TableName":"orders","Item":)" + OrderJson(i) + "}");
    }
    *items_at_backup = ItemsOf(*source_client_, "orders");
    const rapidjson::Document backup =
        Call(*source_client_, "CreateBackup", R"({"TableName":"orders","BackupName":"nightly"})");
    return StringAt(backup, {"BackupDetails", "BackupArn"});
  }

  // Every item of `table` (Scan, every page) by "pk/sk".
  static std::map<std::string, Item> ItemsOf(streams::ServiceClient& client,
                                             const std::string& table) {
    std::map<std::string, Item> items;
    std::string start;
    for (int page = 0; page < 1000; ++page) {
      const rapidjson::Document answer =
          Call(client, "Scan",
               R"({"TableName":")" + table + "\"" +
                   (start.empty() ? "" : R"(,"ExclusiveStartKey":)" + start) + "}");
      if (!answer.IsObject() || !answer.HasMember("Items")) break;
      for (const rapidjson::Value& scanned : answer["Items"].GetArray()) {
        auto item = json::ParseItem(scanned);
        EXPECT_TRUE(item.ok()) << item.status().ToString();
        if (!item.ok()) continue;
        items.emplace(StringAt(scanned, {"pk", "S"}) + "/" + StringAt(scanned, {"sk", "N"}),
                      std::move(*item));
      }
      if (!answer.HasMember("LastEvaluatedKey")) break;
      start = ToJson(answer["LastEvaluatedKey"]);
    }
    return items;
  }

  // Runs `tidewater backup copy ARGS...` to its end; its exit status and output (stdout and
  // stderr).
  static int RunCopy(std::vector<std::string> args, std::string* output) {
    args.insert(args.begin(), {"backup", "copy"});
    testing::ChildProcess process(TW_TIDEWATER, std::move(args));
    if (!testing::WaitFor([&] { return process.Exited(); }, std::chrono::seconds(60))) return -1;
    const int status = process.Wait();
    *output = process.log();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // The backups `client`'s tidewaterd lists, by ARN.
  static std::vector<std::string> BackupArns(streams::ServiceClient& client) {
    std::vector<std::string> arns;
    const rapidjson::Document listed = Call(client, "ListBackups", R"({"BackupType":"ALL"})");
    if (!listed.IsObject() || !listed.HasMember("BackupSummaries")) return arns;
    for (const rapidjson::Value& summary : listed["BackupSummaries"].GetArray()) {
      arns.push_back(StringAt(summary, {"BackupArn"}));
    }
    return arns;
  }

  testing::TempDir dir_;
  testing::TidewaterdProcess source_{TW_TIDEWATERD, dir_.Sub("source"), "eu-test-1"};
  testing::TidewaterdProcess target_{TW_TIDEWATERD, dir_.Sub("target"), "us-test-2"};
  std::unique_ptr<streams::ServiceClient> source_client_;
  std::unique_ptr<streams::ServiceClient> target_client_;
};

TEST_F(BackupCopyCommandTest, ACopiedBackupRestoresInTheTargetRegion) {
  std::map<std::string, Item> items_at_backup;
  const std::string source_arn = BackUpOrders(&items_at_backup);
  ASSERT_EQ(items_at_backup.size(), static_cast<size_t>(kItems));
  ASSERT_TRUE(source_arn.starts_with("arn:aws:dynamodb:eu-test-1:")) << source_arn;
  // Written after the backup: not in the copy.
  Call(*source_client_, "PutItem", R"({"TableName":"orders","Item":)" + OrderJson(kItems) + "}");

  std::string output;
  ASSERT_EQ(
      RunCopy({"--from", source_.url(), "--to", target_.url(), "--chunk-bytes", "4096", source_arn},
              &output),
      0)
      << output;
  rapidjson::Document printed;
  const size_t printed_at = output.find('{');
  ASSERT_NE(printed_at, std::string::npos) << output;
  printed.Parse<rapidjson::kParseStopWhenDoneFlag>(output.c_str() + printed_at);
  ASSERT_FALSE(printed.HasParseError()) << output;
  const std::string target_arn =
      StringAt(printed, {"BackupDescription", "BackupDetails", "BackupArn"});
  EXPECT_TRUE(target_arn.starts_with("arn:aws:dynamodb:us-test-2:")) << output;
  EXPECT_NE(target_arn.find(":table/orders/backup/"), std::string::npos) << output;
  EXPECT_NE(target_arn.substr(target_arn.rfind('/')), source_arn.substr(source_arn.rfind('/')))
      << "the copy has an id of its own";
  EXPECT_EQ(StringAt(printed, {"BackupDescription", "BackupDetails", "BackupName"}), "nightly");
  EXPECT_EQ(StringAt(printed, {"BackupDescription", "BackupDetails", "BackupStatus"}), "AVAILABLE");
  EXPECT_EQ(StringAt(printed, {"BackupDescription", "BackupDetails", "BackupType"}), "USER");
  EXPECT_EQ(StringAt(printed, {"BackupDescription", "SourceTableDetails", "TableName"}), "orders");
  EXPECT_EQ(BackupArns(*target_client_), std::vector<std::string>{target_arn});
  const rapidjson::Document described =
      Call(*target_client_, "DescribeBackup", R"({"BackupArn":")" + target_arn + "\"}");
  EXPECT_EQ(StringAt(described, {"BackupDescription", "BackupDetails", "BackupArn"}), target_arn);

  Call(*target_client_, "RestoreTableFromBackup",
       R"({"TargetTableName":"orders","BackupArn":")" + target_arn + "\"}");
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const rapidjson::Document table =
            Call(*target_client_, "DescribeTable", R"({"TableName":"orders"})");
        return StringAt(table, {"Table", "TableStatus"}) == "ACTIVE";
      },
      std::chrono::seconds(30), std::chrono::milliseconds(50)))
      << "the restore on the target did not finish";
  EXPECT_TRUE(ItemsOf(*target_client_, "orders") == items_at_backup)
      << "the table restored in us-test-2 differs from the source table at the backup";
}

TEST_F(BackupCopyCommandTest, AWrongArnFailsWithTheReasonAndCopiesNothing) {
  std::map<std::string, Item> items_at_backup;
  const std::string source_arn = BackUpOrders(&items_at_backup);
  ASSERT_NE(source_arn.rfind("/backup/"), std::string::npos) << source_arn;
  const std::string unknown =
      source_arn.substr(0, source_arn.rfind("/backup/") + 8) + "1700000000000-0badf00d";

  struct Case {
    std::string from;
    std::string arn;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {source_.url(), unknown, "BackupNotFoundException"},
      // An ARN of eu-test-1 asked of us-test-2.
      {target_.url(), source_arn, "BackupNotFoundException"},
      {source_.url(), "not-a-backup-arn", "ValidationException"},
  };
  for (const Case& c : cases) {
    std::string output;
    EXPECT_EQ(RunCopy({"--from", c.from, "--to", target_.url(), c.arn}, &output), 1)
        << c.arn << ": " << output;
    EXPECT_NE(output.find("error: " + c.reason), std::string::npos) << c.arn << ": " << output;
    EXPECT_NE(output.find("TidewaterReadBackup on " + c.from), std::string::npos)
        << c.arn << ": " << output;
  }
  EXPECT_TRUE(BackupArns(*target_client_).empty());
  EXPECT_EQ(BackupArns(*source_client_), std::vector<std::string>{source_arn});
}

}  // namespace
}  // namespace tidewater
