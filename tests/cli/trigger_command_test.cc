// `tidewater trigger` end to end, as a process: the Python example handler
// (examples/python-trigger) over a table in a data directory, with a poison item, a
// filtered trigger beside it, metrics, and a graceful stop on SIGTERM.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <thread>

#include "support/temp_dir.h"
#include "tidewater/core/engine.h"
#include "tidewater/streams/service_client.h"

extern char** environ;

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

// Writes the table: keys k0..k3 each put then updated 4 times (n = 0..4), one poison item
// that the handler rejects, and one item deleted (a REMOVE the filtered trigger skips).
void WriteTable(const std::string& data_dir) {
  EngineOptions options;
  options.data_dir = data_dir;
  auto engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  CreateTableRequest request;
  request.name = "orders";
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = 2;
  ASSERT_TRUE((*engine)->CreateTable(request).ok());
  for (int n = 0; n < 5; ++n) {
    for (int key = 0; key < 4; ++key) {
      Item item{{"pk", AttributeValue::S("k" + std::to_string(key))},
                {"n", AttributeValue::N(Number::FromInt64(n))}};
      ASSERT_TRUE((*engine)->PutItem("orders", item).ok());
      if (key == 1 && n == 2) {
        Item poison{{"pk", AttributeValue::S("poison")}, {"fail", AttributeValue::Bool(true)}};
        ASSERT_TRUE((*engine)->PutItem("orders", poison).ok());
      }
    }
  }
  ASSERT_TRUE((*engine)->DeleteItem("orders", Item{{"pk", AttributeValue::S("k3")}}).ok());
}

class TriggerProcess {
 public:
  explicit TriggerProcess(const std::string& config_path) {
    std::vector<std::string> args = {TW_TIDEWATER, "trigger", "--config", config_path};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  }
  ~TriggerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // SIGTERM, then the exit status (-1 when it does not exit within `timeout`).
  int Terminate(milliseconds timeout) {
    ::kill(pid_, SIGTERM);
    return Wait(timeout);
  }
  int Wait(milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    return -1;
  }
  bool Running() { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

TEST(TriggerCommandTest, PythonHandlerEndToEnd) {
  testing::TempDir dir;
  const std::string data_dir = dir.Sub("data");
  WriteTable(data_dir);
  if (HasFatalFailure()) return;

  const std::string audit = dir.Sub("audit.jsonl");
  const std::string inserts = dir.Sub("inserts.jsonl");
  const std::string failures = dir.Sub("failures.jsonl");
  const int metrics_port = FreePort();
  const std::string handler = std::string(TW_EXAMPLES_DIR) + "/python-trigger/handler.py";
  const std::string config = dir.Sub("trigger.yaml");
  std::ofstream(config)
      << "source:\n  data-dir: " << data_dir << "\n"
      << "application: e2e\n"
      << "metrics:\n  listen: 127.0.0.1:" << metrics_port << "\n"
      << "triggers:\n"
      << "  - name: audit\n    table: orders\n"
      << "    handler: {type: exec, command: [/usr/bin/python3, " << handler << ", " << audit
      << "], timeout: 20}\n"
      << "    BatchSize: 10\n    StartingPosition: TRIM_HORIZON\n"
      << "    MaximumRetryAttempts: 1\n    BisectBatchOnFunctionError: true\n"
      << "    FunctionResponseTypes: [ReportBatchItemFailures]\n"
      << "    DestinationConfig: {OnFailure: {Destination: 'file:" << failures << "'}}\n"
      << "  - name: inserts\n    table: orders\n"
      << "    handler: {type: exec, command: [/usr/bin/python3, " << handler << ", " << inserts
      << "]}\n"
      << "    StartingPosition: TRIM_HORIZON\n"
      << "    FilterCriteria: {Filters: [{Pattern: '{\"eventName\": [\"INSERT\"], "
         "\"dynamodb\": {\"Keys\": {\"pk\": {\"S\": [{\"prefix\": \"k\"}]}}}}'}]}\n";

  TriggerProcess trigger(config);
  // 20 puts of k0..k3 and the REMOVE of k3: 21 records besides the poison.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline &&
         (ReadLines(audit).size() < 21 || ReadLines(failures).empty() ||
          ReadLines(inserts).size() < 4)) {
    ASSERT_TRUE(trigger.Running()) << "tidewater trigger exited early";
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
                  .starts_with("arn:aws:dynamodb:local:000000000000:table/orders/stream/"));

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

  EXPECT_EQ(trigger.Terminate(std::chrono::seconds(15)), 0);
}

TEST(TriggerCommandTest, BadConfigurationFailsAtStartup) {
  testing::TempDir dir;
  const std::string config = dir.Sub("trigger.yaml");
  std::ofstream(config) << "source: {data-dir: " << dir.Sub("data") << "}\n"
                        << "triggers:\n  - table: t\n    handler: {type: exec, command: true}\n"
                        << "    StartingPosition: TRIM_HORIZON\n    BatchSize: 0\n";
  TriggerProcess trigger(config);
  EXPECT_EQ(trigger.Wait(std::chrono::seconds(10)), 1);
}

}  // namespace
}  // namespace tidewater
