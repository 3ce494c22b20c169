// `tidewater sink`: the configuration, and the sink as a process reading a tidewaterd
// process while writes go on, killed with SIGKILL mid-run and restarted: afterwards the PostgreSQL
// mirror equals the table, the change table and the files hold every record exactly once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "sink_config.h"
#include "support/postgres_server.h"
#include "support/sink_checks.h"
#include "support/sink_workload.h"
#include "support/temp_dir.h"
#include "support/tidewaterd_process.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/remote_source.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::cli {
namespace {

TEST(SinkConfigTest, FullConfiguration) {
  auto config = ParseSinkConfig(R"(
source:
  data_dir: /var/lib/tidewater
tables: [orders, customers]
application: analytics
starting_position: latest
max_batch_records: 500
max_batching_window_ms: 50
sinks:
  - type: postgres
    conninfo: host=127.0.0.1 port=5432 dbname=analytics
    schema: tw
    image_json: dynamodb
  - type: files
    name: lake
    dir: /data/lake
    format: csv
    rotate_bytes: 1048576
    rotate_seconds: 60
metrics:
  listen: 127.0.0.1:9464
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->source.data_dir, "/var/lib/tidewater");
  EXPECT_EQ(config->tables, (std::vector<std::string>{"orders", "customers"}));
  EXPECT_EQ(config->starting_position, streams::StartingPosition::kLatest);
  EXPECT_EQ(config->max_batch_records, 500u);
  ASSERT_EQ(config->sinks.size(), 2u);
  EXPECT_EQ(config->sinks[0].name, "postgres");
  EXPECT_EQ(config->sinks[0].postgres.schema, "tw");
  EXPECT_EQ(config->sinks[0].postgres.sink_name, "postgres");
  EXPECT_EQ(config->sinks[0].postgres.image_json, connectors::ImageJson::kDynamoDb);
  EXPECT_EQ(config->sinks[1].name, "lake");
  EXPECT_EQ(config->sinks[1].files.format, connectors::FileFormat::kCsv);
  EXPECT_EQ(config->sinks[1].files.rotate_bytes, 1048576u);
  EXPECT_EQ(config->sinks[1].files.rotate_interval, std::chrono::seconds(60));
  EXPECT_EQ(config->metrics_listen, "127.0.0.1:9464");
}

TEST(SinkConfigTest, ErrorsNameTheKey) {
  const std::string sinks = "sinks: [{type: files, dir: /x}]\n";
  const std::pair<std::string, std::string> cases[] = {
      {"tables: [t]\n" + sinks, "source is required"},
      {"source: {data_dir: /d, endpoint: http://h:1}\ntables: [t]\n" + sinks,
       "exactly one of endpoint and data_dir"},
      {"source: {data_dir: /d}\n" + sinks, "tables must be a non-empty list"},
      {"source: {data_dir: /d}\ntables: [t]\n", "sinks must be a non-empty list"},
      {"source: {data_dir: /d}\ntables: [t]\nsinks: [{type: s3}]\n", "must be postgres or files"},
      {"source: {data_dir: /d}\ntables: [t]\nsinks: [{type: postgres}]\n",
       "sinks[0].conninfo is required"},
      {"source: {data_dir: /d}\ntables: [t]\nsinks: [{type: files, dir: /x, format: xml}]\n",
       "jsonl or csv"},
      {"source: {data_dir: /d}\ntables: [t]\nsinks: [{type: files, dir: /x, rotate: 1}]\n",
       "unknown key sinks[0].rotate"},
      {"source: {data_dir: /d}\ntables: [t]\nsinks: [{type: files, dir: /x}, {type: files, "
       "dir: /y}]\n",
       "two sinks are named files"},
      {"source: {data_dir: /d}\ntables: [t]\n" + sinks + "metrics: {port: 1}\n",
       "unknown key metrics.port"},
      {"source: [\n", "sink config"},
  };
  for (const auto& [yaml, message] : cases) {
    auto config = ParseSinkConfig(yaml);
    ASSERT_FALSE(config.ok()) << yaml;
    EXPECT_EQ(config.status().code(), ErrorCode::kValidation);
    EXPECT_NE(config.status().message().find(message), std::string::npos)
        << yaml << " -> " << config.status().message();
  }
}

// `tidewater sink --config <config>` with output in `log`.
pid_t StartSink(const std::string& config, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execl(TW_TIDEWATER, TW_TIDEWATER, "sink", "--config", config.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SinkCommandTest, KilledMidRunAndRestartedWritesEveryRecordOnce) {
  testing::PostgresServer postgres;
  ASSERT_EQ(postgres.Start(), "") << "PostgreSQL could not start";
  testing::TempDir dir;
  testing::TidewaterdProcess daemon(TW_TIDEWATERD, dir.Sub("data"), "us-test-1");
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = streams::ServiceClient::Create(daemon.url());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(
      (*client)
          ->CallJson("DynamoDB_20120810.CreateTable",
                     R"({"TableName":"orders","BillingMode":"PAY_PER_REQUEST",)"
                     R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"},)"
                     R"({"AttributeName":"n","KeyType":"RANGE"}],)"
                     R"("AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"},)"
                     R"({"AttributeName":"n","AttributeType":"N"}],)"
                     R"("StreamSpecification":{"StreamEnabled":true,)"
                     R"("StreamViewType":"NEW_AND_OLD_IMAGES"}})")
          .ok());
  // Writes through tidewaterd while the sink runs, is killed and restarts.
  std::thread writer([&] {
    std::mt19937 random(7);
    for (int i = 0; i < 3000; ++i) {
      const int key = static_cast<int>(random() % 300);
      const bool put = random() % 10 < 7;
      const std::string body = put ? R"({"TableName":"orders","Item":)" +
                                         json::ItemToJson(testing::WorkloadItem(key, i)) + "}"
                                   : R"({"TableName":"orders","Key":)" +
                                         json::ItemToJson(testing::WorkloadKey(key)) + "}";
      auto answer = (*client)->CallJson(
          put ? "DynamoDB_20120810.PutItem" : "DynamoDB_20120810.DeleteItem", body);
      ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    }
  });

  const std::string config = dir.Sub("sink.yaml");
  std::ofstream(config) << "source: {endpoint: \"" << daemon.url() << "\"}\n"
                        << "tables: [orders]\n"
                        << "max_batch_records: 25\n"
                        << "lease_duration_ms: 1000\n"
                        << "sinks:\n"
                        << "  - {type: postgres, conninfo: \"" << postgres.conninfo() << "\"}\n"
                        << "  - {type: files, dir: " << dir.Sub("files")
                        << ", rotate_bytes: 20000, rotate_seconds: 1}\n";
  const std::string log = dir.Sub("sink.log");
  const std::string conninfo = postgres.conninfo();
  auto committed = [&] {
    const std::string count = testing::PgValue(conninfo, "SELECT count(*) FROM orders_changes");
    return count.starts_with("ERROR") || count.starts_with("<") ? 0 : std::stoull(count);
  };

  pid_t sink = StartSink(config, log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  int status = 0;
  while (committed() < 600 && std::chrono::steady_clock::now() < deadline &&
         waitpid(sink, &status, WNOHANG) == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(committed(), 600u) << ReadFile(log);
  kill(sink, SIGKILL);
  waitpid(sink, &status, 0);
  sink = StartSink(config, log);
  writer.join();

  // The stream's end, through the same API the sink reads.
  auto source = streams::MakeRemoteStreamsSource(daemon.url(), "orders");
  ASSERT_TRUE(source.ok());
  auto shards = (*source)->ListShards();
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  uint64_t records = 0;
  std::map<uint32_t, uint64_t> last_sequences;
  for (const streams::SourceShard& shard : *shards) {
    records += shard.last_sequence;
    last_sequences[shard.index] = shard.last_sequence;
  }
  EXPECT_LT(600u, records);
  // Both sinks caught up: PostgreSQL has every record; the files' positions (files are
  // completed by time rotation) are at each shard's end.
  auto files_caught_up = [&] {
    rapidjson::Document positions;
    positions.Parse(ReadFile(dir.Sub("files/orders/_positions.json")).c_str());
    if (!positions.IsObject()) return false;
    for (const auto& [shard, last] : last_sequences) {
      const std::string key = std::to_string(shard);
      if (last == 0) continue;
      if (!positions.HasMember(key.c_str()) || positions[key.c_str()].GetUint64() != last + 1) {
        return false;
      }
    }
    return true;
  };
  while ((committed() < records || !files_caught_up()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(files_caught_up());
  kill(sink, SIGTERM);  // graceful
  waitpid(sink, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << ReadFile(log);
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFile(log);
  ASSERT_TRUE(daemon.Stop()) << daemon.log();

  EngineOptions options;
  options.data_dir = dir.Sub("data");
  auto engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok());
  testing::ExpectPostgresMirrorsTable(**engine, "orders", conninfo, "orders");
  testing::ExpectFilesHoldEveryRecordOnce(**engine, "orders", dir.Sub("files/orders"));
}

}  // namespace
}  // namespace tidewater::cli
