// Backups and restores in a tidewaterd process killed with SIGKILL at their failure points
// (TIDEWATER_FAILURE_POINTS), then started again on the same data directory:
//  * killed after the second batch of a restore's items ("restore.after_batch"), tidewaterd
//    finishes the restore after the restart: the table becomes ACTIVE with every item of the
//    backup, and the source table is unchanged;
//  * killed after a backup's items were written but before the backup was published
//    ("backup.before_publish"), it lists no backup after the restart and leaves none of its
//    files; the source table is intact, and the next CreateBackup works and restores.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/wait_for.h"
#include "test_http_client.h"
#include "tidewater/core/attribute_value.h"
#include "tidewater/core/failure_point.h"
#include "tidewater/core/json_codec.h"

namespace tidewater::server {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
// Items by "pk/sk".
using Contents = std::map<std::string, Item>;

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

// The string member `name` of `object` ("" when it is not there).
std::string Str(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject() || !object.HasMember(name) || !object[name].IsString()) return "";
  return object[name].GetString();
}

// An answer of tidewaterd, or the connection lost before it came.
struct Answer {
  bool connection_lost = false;
  std::string error;  // why, when the connection was lost
  unsigned status = 0;
  std::string body;
  rapidjson::Document json;
};

// A tidewaterd on one data directory, started with failure points armed, killed by one of
// them, and started again. Throttling is off: the test loads thousands of items as fast as
// one client can.
class Daemon {
 public:
  explicit Daemon(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  // Starts tidewaterd with `failure_points` armed (TIDEWATER_FAILURE_POINTS syntax, "": none)
  // and connects a client; false (see log()) if it does not listen.
  bool Start(const std::string& failure_points) {
    client_.reset();
    process_ = std::make_unique<tidewater::testing::ChildProcess>(
        TW_TIDEWATERD,
        std::vector<std::string>{"--data-dir", data_dir_, "--region", "eu-test-1", "--listen",
                                 "127.0.0.1:0", "--throttling", "off"},
        std::vector<std::string>{"TIDEWATER_FAILURE_POINTS=" + failure_points});
    const auto port = process_->WaitForLog("event=listening .* port=([0-9]+)", seconds(30));
    if (!port) return false;
    try {
      client_ = std::make_unique<testing::TestClient>(static_cast<uint16_t>(std::stoi(*port)));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot connect to tidewaterd: " << e.what();
      return false;
    }
    return true;
  }

  Answer Call(const std::string& operation, const std::string& body) {
    Answer answer;
    if (client_ == nullptr) {
      answer.connection_lost = true;
      answer.error = "not connected";
      return answer;
    }
    try {
      testing::TestResponse response = client_->Call(operation, body);
      answer.status = response.status;
      answer.body = response.body;
      answer.json.Parse(answer.body.c_str());
    } catch (const std::exception& e) {
      answer.connection_lost = true;
      answer.error = e.what();
      client_.reset();
    }
    return answer;
  }

  // An operation that must succeed: its answer (an empty object after a failure).
  rapidjson::Document Ok(const std::string& operation, const std::string& body) {
    Answer answer = Call(operation, body);
    EXPECT_FALSE(answer.connection_lost) << operation << ": " << answer.error << "\n" << log();
    EXPECT_EQ(answer.status, 200u)
        << operation << " " << body.substr(0, 300) << " -> " << answer.body;
    if (answer.connection_lost || answer.status != 200 || !answer.json.IsObject()) {
      rapidjson::Document empty;
      empty.SetObject();
      return empty;
    }
    return std::move(answer.json);
  }

  // Waits until the process ends; true when SIGKILL ended it (a failure point's kill).
  bool WaitKilled(milliseconds timeout) {
    if (process_ == nullptr) return false;
    if (!tidewater::testing::WaitFor([&] { return process_->Exited(); }, timeout,
                                     milliseconds(20))) {
      return false;
    }
    const int status = process_->Wait();
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }

  std::string log() const { return process_ == nullptr ? std::string() : process_->log(); }

 private:
  std::string data_dir_;
  std::unique_ptr<tidewater::testing::ChildProcess> process_;
  std::unique_ptr<testing::TestClient> client_;
};

// Table `name`: pk S (HASH), sk N (RANGE), on demand.
void CreateSource(Daemon& daemon, const std::string& name) {
  daemon.Ok("CreateTable",
            R"({"TableName":")" + name +
                R"(","BillingMode":"PAY_PER_REQUEST",)"
                R"("KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},)"
                R"({"AttributeName":"sk","KeyType":"RANGE"}],)"
                R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},)"
                R"({"AttributeName":"sk","AttributeType":"N"}]})");
}

Item LoadItem(int i) {
  const std::string n = std::to_string(i);
  return {{"pk", AttributeValue::S("p" + std::to_string(i % 97))},
          {"sk", AttributeValue::N(Number::FromInt64(i))},
          {"payload", AttributeValue::S(std::string(20 + i % 80, static_cast<char>('a' + i % 26)))},
          {"tags", AttributeValue::SS({"all", "t" + std::to_string(i % 5)})},
          {"nested", AttributeValue::M({{"i", AttributeValue::N(Number::FromInt64(i))},
                                        {"even", AttributeValue::Bool(i % 2 == 0)},
                                        {"list", AttributeValue::L({AttributeValue::S("x" + n),
                                                                    AttributeValue::Null()})}})}};
}

std::string KeyOf(const Item& item) {
  const auto pk = item.find("pk");
  const auto sk = item.find("sk");
  if (pk == item.end() || sk == item.end()) return "?";
  return pk->second.s() + "/" + sk->second.n().ToString();
}

// Writes `count` items into `table` with BatchWriteItem (25 a request, unprocessed ones
// again); the items written.
Contents Load(Daemon& daemon, const std::string& table, int count) {
  Contents written;
  for (int first = 0; first < count; first += 25) {
    std::string body = R"({"RequestItems":{")" + table + R"(":[)";
    for (int i = first; i < std::min(count, first + 25); ++i) {
      const Item item = LoadItem(i);
      if (i != first) body += ",";
      body += R"({"PutRequest":{"Item":)" + ::tidewater::json::ItemToJson(item) + "}}";
      written[KeyOf(item)] = item;
    }
    body += "]}}";
    for (int attempt = 0;; ++attempt) {
      rapidjson::Document answer = daemon.Ok("BatchWriteItem", body);
      if (::testing::Test::HasFailure()) return written;
      if (!answer.HasMember("UnprocessedItems") || !answer["UnprocessedItems"].IsObject() ||
          answer["UnprocessedItems"].ObjectEmpty()) {
        break;
      }
      if (attempt == 50) {
        ADD_FAILURE() << "BatchWriteItem kept items unprocessed: " << ToJson(answer);
        return written;
      }
      body = R"({"RequestItems":)" + ToJson(answer["UnprocessedItems"]) + "}";
    }
  }
  return written;
}

// Every item of `table`, by Scan pages.
Contents ScanAll(Daemon& daemon, const std::string& table) {
  Contents items;
  std::string start;
  for (int page = 0; page < 1000; ++page) {
    std::string body = R"({"TableName":")" + table + R"(","Limit":500)";
    if (!start.empty()) body += R"(,"ExclusiveStartKey":)" + start;
    body += "}";
    rapidjson::Document answer = daemon.Ok("Scan", body);
    if (!answer.HasMember("Items") || !answer["Items"].IsArray()) {
      ADD_FAILURE() << "Scan of " << table << " answered no Items: " << ToJson(answer);
      return items;
    }
    for (const rapidjson::Value& json_item : answer["Items"].GetArray()) {
      auto item = ::tidewater::json::ParseItem(json_item);
      if (!item.ok()) {
        ADD_FAILURE() << "Scan of " << table << ": " << item.status().ToString();
        return items;
      }
      std::string key = KeyOf(*item);
      if (!items.emplace(key, std::move(*item)).second) {
        ADD_FAILURE() << "Scan of " << table << " returned " << key << " twice";
      }
    }
    if (!answer.HasMember("LastEvaluatedKey")) return items;
    start = ToJson(answer["LastEvaluatedKey"]);
  }
  ADD_FAILURE() << "Scan of " << table << " kept answering pages";
  return items;
}

// The differences between what `expected` and `actual` hold, the first five shown; "" when
// they hold the same items.
std::string Differences(const Contents& expected, const Contents& actual) {
  std::string shown;
  size_t count = 0;
  const auto note = [&](const std::string& line) {
    if (count++ < 5) shown += "\n  " + line;
  };
  for (const auto& [key, item] : expected) {
    const auto found = actual.find(key);
    if (found == actual.end()) {
      note("missing    " + ::tidewater::json::ItemToJson(item));
    } else if (!(found->second == item)) {
      note("expected   " + ::tidewater::json::ItemToJson(item) + "\n  but found  " +
           ::tidewater::json::ItemToJson(found->second));
    }
  }
  for (const auto& [key, item] : actual) {
    if (expected.count(key) == 0) note("unexpected " + ::tidewater::json::ItemToJson(item));
  }
  if (count == 0) return "";
  return std::to_string(count) + " differences (" + std::to_string(expected.size()) +
         " items expected, " + std::to_string(actual.size()) + " found):" + shown +
         (count > 5 ? "\n  ..." : "");
}

// Waits until DescribeTable shows `table` ACTIVE; `out` receives that answer.
::testing::AssertionResult WaitActive(Daemon& daemon, const std::string& table,
                                      rapidjson::Document* out) {
  std::string last;
  ::testing::AssertionResult active = tidewater::testing::WaitFor(
      [&] {
        Answer answer = daemon.Call("DescribeTable", R"({"TableName":")" + table + "\"}");
        last = answer.connection_lost ? answer.error : answer.body;
        return answer.status == 200 && answer.json.IsObject() && answer.json.HasMember("Table") &&
               Str(answer.json["Table"], "TableStatus") == "ACTIVE";
      },
      seconds(30), milliseconds(50));
  if (!active) return active << ": " << table << " did not become ACTIVE; last answer " << last;
  out->Parse(last.c_str());
  return active;
}

// The files under `dir` whose name starts with "items" (a backup's item data, complete or not).
std::vector<std::string> ItemsFiles(const fs::path& dir) {
  std::vector<std::string> files;
  std::error_code error;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    if (it->is_regular_file(error) && it->path().filename().string().starts_with("items")) {
      files.push_back(it->path().string());
    }
  }
  return files;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string joined;
  for (const std::string& line : lines) joined += "\n  " + line;
  return joined;
}

TEST(BackupCrashTest, RestoreKilledAfterItsSecondBatchIsFinishedAfterTheRestart) {
  if (!kFailurePointsCompiledIn) GTEST_SKIP() << "failure points are compiled out";
  tidewater::testing::TempDir dir;
  Daemon daemon(dir.Sub("data"));
  ASSERT_TRUE(daemon.Start("restore.after_batch=kill@2")) << daemon.log();
  CreateSource(daemon, "src");
  const Contents expected = Load(daemon, "src", 3000);
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(expected.size(), 3000u);
  ASSERT_EQ(Differences(expected, ScanAll(daemon, "src")), "");

  rapidjson::Document created =
      daemon.Ok("CreateBackup", R"({"TableName":"src","BackupName":"before-crash"})");
  ASSERT_TRUE(created.HasMember("BackupDetails")) << ToJson(created);
  const std::string arn = Str(created["BackupDetails"], "BackupArn");
  ASSERT_FALSE(arn.empty()) << ToJson(created);
  EXPECT_EQ(Str(created["BackupDetails"], "BackupStatus"), "AVAILABLE");

  // The restore is accepted (unless the kill beats its answer); tidewaterd dies once two of
  // the three batches of items are in.
  Answer restore = daemon.Call("RestoreTableFromBackup",
                               R"({"TargetTableName":"restored","BackupArn":")" + arn + "\"}");
  EXPECT_TRUE(restore.connection_lost || restore.status == 200)
      << restore.status << " " << restore.body;
  ASSERT_TRUE(daemon.WaitKilled(seconds(30)))
      << "tidewaterd was not killed at restore.after_batch:\n"
      << daemon.log();
  const std::string killed_log = daemon.log();
  EXPECT_NE(killed_log.find("event=failure_point name=restore.after_batch action=kill hit=2"),
            std::string::npos)
      << killed_log;

  // After the restart the restore is finished: every item, nothing more.
  ASSERT_TRUE(daemon.Start("")) << daemon.log();
  rapidjson::Document described;
  ASSERT_TRUE(WaitActive(daemon, "restored", &described));
  const rapidjson::Value& table = described["Table"];
  ASSERT_TRUE(table.HasMember("RestoreSummary") && table["RestoreSummary"].IsObject())
      << ToJson(table);
  const rapidjson::Value& summary = table["RestoreSummary"];
  ASSERT_TRUE(summary.HasMember("RestoreInProgress") && summary["RestoreInProgress"].IsBool())
      << ToJson(summary);
  EXPECT_FALSE(summary["RestoreInProgress"].GetBool());
  EXPECT_EQ(Str(summary, "SourceBackupArn"), arn);
  EXPECT_EQ(Differences(expected, ScanAll(daemon, "restored")), "");

  // The source is unchanged, its backup still there.
  ASSERT_TRUE(WaitActive(daemon, "src", &described));
  EXPECT_EQ(Differences(expected, ScanAll(daemon, "src")), "");
  rapidjson::Document listed = daemon.Ok("ListBackups", "{}");
  ASSERT_TRUE(listed.HasMember("BackupSummaries") && listed["BackupSummaries"].IsArray())
      << ToJson(listed);
  ASSERT_EQ(listed["BackupSummaries"].Size(), 1u) << ToJson(listed);
  EXPECT_EQ(Str(listed["BackupSummaries"][0], "BackupArn"), arn);
  EXPECT_EQ(Str(listed["BackupSummaries"][0], "BackupStatus"), "AVAILABLE");

  // The restored table is an ordinary table now.
  daemon.Ok("PutItem",
            R"({"TableName":"restored","Item":{"pk":{"S":"new"},"sk":{"N":"1"},"v":{"S":"x"}}})");
  rapidjson::Document got =
      daemon.Ok("GetItem", R"({"TableName":"restored","Key":{"pk":{"S":"new"},"sk":{"N":"1"}}})");
  EXPECT_TRUE(got.HasMember("Item")) << ToJson(got);
}

TEST(BackupCrashTest, BackupKilledBeforeItIsPublishedLeavesNoBackupAfterTheRestart) {
  if (!kFailurePointsCompiledIn) GTEST_SKIP() << "failure points are compiled out";
  tidewater::testing::TempDir dir;
  const fs::path backups = fs::path(dir.Sub("data")) / "backups";
  Daemon daemon(dir.Sub("data"));
  ASSERT_TRUE(daemon.Start("backup.before_publish=kill")) << daemon.log();
  CreateSource(daemon, "src");
  const Contents expected = Load(daemon, "src", 1500);
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(expected.size(), 1500u);

  Answer interrupted =
      daemon.Call("CreateBackup", R"({"TableName":"src","BackupName":"interrupted"})");
  EXPECT_TRUE(interrupted.connection_lost)
      << "CreateBackup answered " << interrupted.status << " " << interrupted.body;
  ASSERT_TRUE(daemon.WaitKilled(seconds(30)))
      << "tidewaterd was not killed at backup.before_publish:\n"
      << daemon.log();
  const std::string killed_log = daemon.log();
  EXPECT_NE(killed_log.find("event=failure_point name=backup.before_publish action=kill"),
            std::string::npos)
      << killed_log;
  // The kill came after the backup's items were written.
  EXPECT_FALSE(ItemsFiles(backups).empty()) << "no items file under " << backups;

  // After the restart: no backup, none of its files, the source intact.
  ASSERT_TRUE(daemon.Start("")) << daemon.log();
  for (const char* body : {"{}", R"({"TableName":"src"})"}) {
    rapidjson::Document listed = daemon.Ok("ListBackups", body);
    ASSERT_TRUE(listed.HasMember("BackupSummaries") && listed["BackupSummaries"].IsArray())
        << ToJson(listed);
    EXPECT_EQ(listed["BackupSummaries"].Size(), 0u)
        << "a half backup is visible: " << ToJson(listed);
  }
  std::vector<std::string> left;
  EXPECT_TRUE(tidewater::testing::WaitFor(
      [&] {
        left = ItemsFiles(backups);
        return left.empty();
      },
      seconds(10)))
      << "the interrupted backup left" << Joined(left);
  rapidjson::Document described;
  ASSERT_TRUE(WaitActive(daemon, "src", &described));
  EXPECT_EQ(Differences(expected, ScanAll(daemon, "src")), "");

  // The next backup works, and restores the table.
  rapidjson::Document created =
      daemon.Ok("CreateBackup", R"({"TableName":"src","BackupName":"after-restart"})");
  ASSERT_TRUE(created.HasMember("BackupDetails")) << ToJson(created);
  const std::string arn = Str(created["BackupDetails"], "BackupArn");
  ASSERT_FALSE(arn.empty()) << ToJson(created);
  EXPECT_EQ(Str(created["BackupDetails"], "BackupStatus"), "AVAILABLE");
  EXPECT_EQ(Str(created["BackupDetails"], "BackupName"), "after-restart");
  rapidjson::Document listed = daemon.Ok("ListBackups", "{}");
  ASSERT_TRUE(listed.HasMember("BackupSummaries") && listed["BackupSummaries"].IsArray())
      << ToJson(listed);
  ASSERT_EQ(listed["BackupSummaries"].Size(), 1u) << ToJson(listed);
  EXPECT_EQ(Str(listed["BackupSummaries"][0], "BackupArn"), arn);
  EXPECT_EQ(ItemsFiles(backups).size(), 1u) << Joined(ItemsFiles(backups));

  daemon.Ok("RestoreTableFromBackup", R"({"TargetTableName":"copy","BackupArn":")" + arn + "\"}");
  ASSERT_TRUE(WaitActive(daemon, "copy", &described));
  EXPECT_EQ(Differences(expected, ScanAll(daemon, "copy")), "");
}

}  // namespace
}  // namespace tidewater::server
