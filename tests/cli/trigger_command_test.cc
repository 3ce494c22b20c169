// `tidewater trigger` end to end, as a process: the Python example handler
// (examples/python-trigger) over a table of a tidewaterd process (and of a data directory),
// with a poison item, a filtered trigger beside it, metrics, and a graceful stop on SIGTERM.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "support/kafka_cluster.h"
#include "support/remote_splits.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/core/engine.h"
#include "tidewater/streams/service_client.h"

namespace tidewater {
namespace {

using std::chrono::milliseconds;

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

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

// The workload, through whichever API the test uses: keys k0..k3 each put then updated 4
// times (n = 0..4), one poison item that the handler rejects in the middle, and k3 deleted
// (a REMOVE the filtered trigger skips).
struct TableWriter {
  std::function<void(const std::string& key, int n)> put;
  std::function<void()> put_poison;
  std::function<void(const std::string& key)> remove;
};

void WriteWorkload(const TableWriter& writer) {
  for (int n = 0; n < 5; ++n) {
    for (int key = 0; key < 4; ++key) {
      writer.put("k" + std::to_string(key), n);
      if (key == 1 && n == 2) writer.put_poison();
    }
  }
  writer.remove("k3");
}

void WriteToDataDir(const std::string& data_dir) {
  auto engine = Engine::Open(testing::TestEngineOptions(data_dir));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  CreateTableRequest request;
  request.name = "orders";
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = 2;
  ASSERT_TRUE((*engine)->CreateTable(request).ok());
  Engine& e = **engine;
  auto check = [](const Status& status) { ASSERT_TRUE(status.ok()) << status.ToString(); };
  WriteWorkload(
      TableWriter{[&](const std::string& key, int n) {
                    check(e.PutItem("orders", Item{{"pk", AttributeValue::S(key)},
                                                   {"n", AttributeValue::N(Number::FromInt64(n))}})
                              .status());
                  },
                  [&] {
                    check(e.PutItem("orders", Item{{"pk", AttributeValue::S("poison")},
                                                   {"fail", AttributeValue::Bool(true)}})
                              .status());
                  },
                  [&](const std::string& key) {
                    check(e.DeleteItem("orders", Item{{"pk", AttributeValue::S(key)}}).status());
                  }});
}

// `tidewater trigger --config PATH` as a child process, its log captured.
std::unique_ptr<testing::ChildProcess> StartTrigger(const std::string& config_path) {
  return std::make_unique<testing::ChildProcess>(
      TW_TIDEWATER, std::vector<std::string>{"trigger", "--config", config_path});
}

// Waits for the exit; the exit code (128 + signal when killed), or -1 after `timeout`.
int WaitForExit(testing::ChildProcess& process, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!process.Exited()) {
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(milliseconds(20));
  }
  const int status = process.Wait();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The configuration of the two triggers over "orders": "audit" (the Python example, with
// bisection, partial batch responses, one retry and a file destination) and "inserts"
// (the same handler behind a filter: INSERTs of keys starting with "k").
std::string TriggerConfig(const std::string& source, const testing::TempDir& dir,
                          int metrics_port) {
  const std::string handler = std::string(TW_EXAMPLES_DIR) + "/python-trigger/handler.py";
  std::ostringstream config;
  config << "source:\n  " << source << "\n"
         << "application: e2e\n"
         << "metrics:\n  listen: 127.0.0.1:" << metrics_port << "\n"
         << "triggers:\n"
         << "  - name: audit\n    table: orders\n"
         << "    handler: {type: exec, command: [/usr/bin/python3, " << handler << ", "
         << dir.Sub("audit.jsonl") << "], timeout: 20}\n"
         << "    BatchSize: 10\n    StartingPosition: TRIM_HORIZON\n"
         << "    MaximumRetryAttempts: 1\n    BisectBatchOnFunctionError: true\n"
         << "    FunctionResponseTypes: [ReportBatchItemFailures]\n"
         << "    DestinationConfig: {OnFailure: {Destination: 'file:" << dir.Sub("failures.jsonl")
         << "'}}\n"
         << "  - name: inserts\n    table: orders\n"
         << "    handler: {type: exec, command: [/usr/bin/python3, " << handler << ", "
         << dir.Sub("inserts.jsonl") << "]}\n"
         << "    StartingPosition: TRIM_HORIZON\n"
         << "    FilterCriteria: {Filters: [{Pattern: '{\"eventName\": [\"INSERT\"], "
            "\"dynamodb\": {\"Keys\": {\"pk\": {\"S\": [{\"prefix\": \"k\"}]}}}}'}]}\n";
  const std::string path = dir.Sub("trigger.yaml");
  std::ofstream(path) << config.str();
  return path;
}

// Waits for the workload's effects and checks them: every record but the poison handled,
// in order per item; the poison alone at the destination; the filtered trigger saw only
// the four inserts; the metrics say so. `region` is the one events name; a Kafka source
// does not know the table id.
void CheckOutcome(testing::ChildProcess& trigger, const testing::TempDir& dir, int metrics_port,
                  const std::string& region, bool table_id_known = true) {
  const std::string audit = dir.Sub("audit.jsonl");
  const std::string inserts = dir.Sub("inserts.jsonl");
  const std::string failures = dir.Sub("failures.jsonl");
  // 20 puts of k0..k3 and the REMOVE of k3: 21 records besides the poison.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline &&
         (ReadLines(audit).size() < 21 || ReadLines(failures).empty() ||
          ReadLines(inserts).size() < 4)) {
    ASSERT_FALSE(trigger.Exited()) << "tidewater trigger exited early:\n" << trigger.log();
    std::this_thread::sleep_for(milliseconds(100));
  }

  // Every record but the poison, at least once, in order per item.
  std::map<std::string, std::vector<std::string>> per_key;
  for (const std::string& line : ReadLines(audit)) {
    rapidjson::Document record;
    record.Parse(line.c_str());
    ASSERT_FALSE(record.HasParseError()) << line;
    std::string key = record["keys"]["pk"]["S"].GetString();
    EXPECT_NE(key, "poison");
    // eventID: table id, shard, sequence (the table id as the server knows it, not 0).
    const std::string event_id = record["eventID"].GetString();
    EXPECT_EQ(event_id.size(), 40u);
    if (table_id_known) {
      EXPECT_NE(event_id.substr(0, 16), "0000000000000000") << event_id;
    }
    std::string event = record["eventName"].GetString();
    per_key[key].push_back(event == "REMOVE" ? "removed"
                                             : record["newImage"]["n"]["N"].GetString());
  }
  ASSERT_EQ(per_key.size(), 4u);
  for (const auto& [key, values] : per_key) {
    std::vector<std::string> expected = {"0", "1", "2", "3", "4"};
    if (key == "k3") expected.push_back("removed");
    // At-least-once: a value may repeat, but only as a re-run of a suffix; order holds.
    std::vector<std::string> distinct;
    for (const std::string& value : values) {
      if (std::find(distinct.begin(), distinct.end(), value) == distinct.end()) {
        distinct.push_back(value);
      }
    }
    EXPECT_EQ(distinct, expected) << key;
  }

  // The poison went to the destination alone, and processing moved on.
  std::vector<std::string> failed = ReadLines(failures);
  ASSERT_EQ(failed.size(), 1u);
  rapidjson::Document failure;
  failure.Parse(failed[0].c_str());
  EXPECT_STREQ(failure["requestContext"]["condition"].GetString(), "RetryAttemptsExhausted");
  EXPECT_EQ(failure["DDBStreamBatchInfo"]["batchSize"].GetInt(), 1);
  EXPECT_TRUE(std::string(failure["DDBStreamBatchInfo"]["streamArn"].GetString())
                  .starts_with("arn:aws:dynamodb:" + region + ":000000000000:table/orders/stream/"))
      << failed[0];

  // The filtered trigger saw the four inserts of k*, and nothing else.
  EXPECT_EQ(ReadLines(inserts).size(), 4u);

  // Metrics: polled until the last batches and the once-a-second iterator age are in.
  auto client = streams::ServiceClient::Create("http://127.0.0.1:" + std::to_string(metrics_port));
  ASSERT_TRUE(client.ok());
  const std::vector<std::string> wanted = {
      R"(tidewater_trigger_records_discarded_total{condition="RetryAttemptsExhausted",trigger="audit"} 1)",
      R"(tidewater_trigger_records_filtered_total{trigger="inserts"} 18)",
      R"(tidewater_trigger_records_processed_total{trigger="inserts"} 4)",
      R"(tidewater_trigger_handler_duration_seconds_count{trigger="audit"})",
      R"(tidewater_trigger_handler_errors_total{trigger="audit"})",
      R"(tidewater_trigger_iterator_age_milliseconds{shard="0",trigger="audit"})",
  };
  std::string body;
  auto missing = [&] {
    for (const std::string& line : wanted) {
      if (body.find(line) == std::string::npos) return line;
    }
    return std::string();
  };
  const auto metrics_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    auto metrics = (*client)->Get("/metrics");
    if (metrics.ok()) body = metrics->body;
    if (missing().empty()) break;
    std::this_thread::sleep_for(milliseconds(200));
  } while (std::chrono::steady_clock::now() < metrics_deadline);
  EXPECT_EQ(missing(), "") << body;
}

// Creates "orders" with a stream on a tidewaterd and returns a writer for its workload.
TableWriter RemoteWriter(streams::ServiceClient& client) {
  auto call = [&client](const char* operation, const std::string& body) {
    auto answer = client.CallJson(std::string("DynamoDB_20120810.") + operation, body);
    ASSERT_TRUE(answer.ok()) << operation << ": " << answer.status().ToString();
  };
  call("CreateTable",
       R"({"TableName":"orders","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
       R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
       R"("BillingMode":"PAY_PER_REQUEST",)"
       R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}})");
  return TableWriter{
      [call](const std::string& key, int n) {
        call("PutItem", R"({"TableName":"orders","Item":{"pk":{"S":")" + key + R"("},"n":{"N":")" +
                            std::to_string(n) + R"("}}})");
      },
      [call] {
        call("PutItem",
             R"({"TableName":"orders","Item":{"pk":{"S":"poison"},"fail":{"BOOL":true}}})");
      },
      [call](const std::string& key) {
        call("DeleteItem", R"({"TableName":"orders","Key":{"pk":{"S":")" + key + R"("}}})");
      }};
}

TEST(TriggerCommandTest, PythonHandlerOverTidewaterd) {
  testing::TempDir dir;
  testing::TidewaterdProcess tidewaterd(TW_TIDEWATERD, dir.Sub("data"), "eu-test-1");
  ASSERT_TRUE(tidewaterd.Start()) << tidewaterd.log();
  auto client = streams::ServiceClient::Create(tidewaterd.url());
  ASSERT_TRUE(client.ok());
  const TableWriter writer = RemoteWriter(**client);
  // Half the workload before the trigger starts, the rest while it runs.
  for (int key = 0; key < 4; ++key) writer.put("k" + std::to_string(key), 0);

  const int metrics_port = FreePort();
  auto trigger = StartTrigger(TriggerConfig("endpoint: " + tidewaterd.url(), dir, metrics_port));
  ASSERT_TRUE(
      trigger->WaitForLog("event=trigger_started trigger=inserts", std::chrono::seconds(10)))
      << trigger->log();
  for (int n = 1; n < 5; ++n) {
    for (int key = 0; key < 4; ++key) {
      writer.put("k" + std::to_string(key), n);
      if (key == 1 && n == 2) writer.put_poison();
    }
  }
  writer.remove("k3");

  CheckOutcome(*trigger, dir, metrics_port, "eu-test-1");
  trigger->Signal(SIGTERM);
  EXPECT_EQ(WaitForExit(*trigger, std::chrono::seconds(15)), 0) << trigger->log();
  EXPECT_TRUE(tidewaterd.Stop());
}

// Shards split (through the admin API) while a trigger follows the table through
// tidewaterd: the handler sees every record once, each key's changes in write order across
// the parents and their children.
TEST(TriggerCommandTest, SplitsWhileTheTriggerRunsKeepEachKeysOrder) {
  testing::TempDir dir;
  testing::TidewaterdProcess tidewaterd(TW_TIDEWATERD, dir.Sub("data"), "eu-test-1");
  ASSERT_TRUE(tidewaterd.Start()) << tidewaterd.log();
  auto writer_client = streams::ServiceClient::Create(tidewaterd.url());
  auto admin_client = streams::ServiceClient::Create(tidewaterd.url());
  ASSERT_TRUE(writer_client.ok() && admin_client.ok());
  const TableWriter writer = RemoteWriter(**writer_client);

  const std::string audit = dir.Sub("audit.jsonl");
  const std::string config = dir.Sub("trigger.yaml");
  std::ofstream(config) << "source:\n  endpoint: " << tidewaterd.url() << "\n"
                        << "application: splits\n"
                        << "triggers:\n  - name: audit\n    table: orders\n"
                        << "    handler: {type: exec, command: [/usr/bin/python3, "
                        << TW_EXAMPLES_DIR << "/python-trigger/handler.py, " << audit << "]}\n"
                        << "    BatchSize: 10\n    StartingPosition: TRIM_HORIZON\n";
  auto trigger = StartTrigger(config);
  ASSERT_TRUE(trigger->WaitForLog("event=trigger_started trigger=audit", std::chrono::seconds(10)))
      << trigger->log();

  // Versions 0, 1, ... of ten keys, until the last split is made (so every split meets
  // writes) and at least 20 versions.
  constexpr int kKeys = 10;
  std::atomic<bool> splitting{true};
  std::atomic<int> written{0};
  int versions = 0;
  std::thread writes([&] {
    for (; splitting || versions < 20; ++versions) {
      for (int key = 0; key < kKeys; ++key) writer.put("k" + std::to_string(key), versions);
      written += kKeys;
    }
  });
  for (int split = 1; split <= 6; ++split) {
    // Each split while the writer and the trigger are further along (a loaded machine may
    // hold the trigger's Python handler back for long: a passing run never waits that long).
    ASSERT_TRUE(testing::WaitFor(
        [&] { return written >= split * 25 && ReadLines(audit).size() >= split * 15u; },
        std::chrono::seconds(120)))
        << trigger->log();
    const Status split_done =
        testing::SplitOpenShardRemote(**admin_client, "orders", static_cast<uint32_t>(split * 7));
    ASSERT_TRUE(split_done.ok()) << split_done.ToString();
  }
  splitting = false;
  writes.join();
  const size_t records = static_cast<size_t>(kKeys * versions);
  ASSERT_TRUE(testing::WaitFor([&] { return ReadLines(audit).size() >= records; },
                               std::chrono::seconds(30)))
      << ReadLines(audit).size() << " records handled\n"
      << trigger->log();

  std::map<std::string, std::vector<std::string>> per_key;
  for (const std::string& line : ReadLines(audit)) {
    rapidjson::Document record;
    record.Parse(line.c_str());
    ASSERT_FALSE(record.HasParseError()) << line;
    per_key[record["keys"]["pk"]["S"].GetString()].push_back(
        record["newImage"]["n"]["N"].GetString());
  }
  std::vector<std::string> expected;
  for (int n = 0; n < versions; ++n) expected.push_back(std::to_string(n));
  ASSERT_EQ(per_key.size(), static_cast<size_t>(kKeys));
  for (const auto& [key, values] : per_key) EXPECT_EQ(values, expected) << key;
  auto open = testing::OpenShardIdsRemote(**admin_client, "orders");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), 4u + 6u) << "six splits of the table's four shards";
  trigger->Signal(SIGTERM);
  EXPECT_EQ(WaitForExit(*trigger, std::chrono::seconds(15)), 0) << trigger->log();
  EXPECT_TRUE(tidewaterd.Stop());
}

TEST(TriggerCommandTest, PythonHandlerOverKafkaTopics) {
  testing::MockKafkaCluster cluster;
  cluster.CreateTopic("cdc.orders", 4);  // tables get 4 shards
  testing::TempDir dir;
  testing::ChildProcess tidewaterd(
      TW_TIDEWATERD,
      {"--data-dir", dir.Sub("data"), "--listen", "127.0.0.1:0", "--region", "eu-test-2",
       "--kafka-brokers", cluster.bootstraps(), "--kafka-topic-prefix", "cdc."});
  auto port = tidewaterd.WaitForLog("event=listening .* port=([0-9]+)", std::chrono::seconds(15));
  ASSERT_TRUE(port) << tidewaterd.log();
  auto client = streams::ServiceClient::Create("http://127.0.0.1:" + *port);
  ASSERT_TRUE(client.ok());
  WriteWorkload(RemoteWriter(**client));

  const int metrics_port = FreePort();
  auto trigger = StartTrigger(TriggerConfig(
      "kafka: {brokers: '" + cluster.bootstraps() + "', topic-prefix: cdc.}\nregion: eu-test-2",
      dir, metrics_port));
  CheckOutcome(*trigger, dir, metrics_port, "eu-test-2", /*table_id_known=*/false);
  trigger->Signal(SIGTERM);
  EXPECT_EQ(WaitForExit(*trigger, std::chrono::seconds(20)), 0) << trigger->log();
}

TEST(TriggerCommandTest, PythonHandlerOverADataDirectory) {
  testing::TempDir dir;
  WriteToDataDir(dir.Sub("data"));
  if (HasFatalFailure()) return;
  const int metrics_port = FreePort();
  auto trigger = StartTrigger(TriggerConfig("data-dir: " + dir.Sub("data"), dir, metrics_port));
  CheckOutcome(*trigger, dir, metrics_port, "local");
  trigger->Signal(SIGTERM);
  EXPECT_EQ(WaitForExit(*trigger, std::chrono::seconds(15)), 0) << trigger->log();
}

TEST(TriggerCommandTest, BadConfigurationFailsAtStartup) {
  testing::TempDir dir;
  const std::string config = dir.Sub("trigger.yaml");
  std::ofstream(config) << "source: {data-dir: " << dir.Sub("data") << "}\n"
                        << "triggers:\n  - table: t\n    handler: {type: exec, command: true}\n"
                        << "    StartingPosition: TRIM_HORIZON\n    BatchSize: 0\n";
  auto trigger = StartTrigger(config);
  EXPECT_EQ(WaitForExit(*trigger, std::chrono::seconds(10)), 1);
  EXPECT_NE(trigger->log().find("BatchSize: must be between 1 and 10000"), std::string::npos)
      << trigger->log();
}

}  // namespace
}  // namespace tidewater
