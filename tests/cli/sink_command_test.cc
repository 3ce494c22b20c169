// `tidewater sink`: the configuration, and the sink as a process reading a tidewaterd
// process while writes go on, (1) killed with SIGKILL mid-run and restarted, (2) with the
// PostgreSQL server crashing (stop -m immediate) and coming back mid-run: afterwards the
// PostgreSQL mirror equals the table, the change table and the files hold every record
// exactly once; (3) killed by failure points right after its commits, with the same checks.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "sink_config.h"
#include "support/postgres_server.h"
#include "support/remote_splits.h"
#include "support/sink_checks.h"
#include "support/sink_workload.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/failure_point.h"
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

TEST(SinkConfigTest, KafkaSource) {
  auto config = ParseSinkConfig(R"(
source:
  kafka:
    brokers: 127.0.0.1:9092,127.0.0.1:9093
    topic_prefix: cdc.
    format: json
    group_id: analytics
    properties: {session.timeout.ms: 6000, security.protocol: plaintext}
tables: [orders]
sinks: [{type: files, dir: /x}]
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const SinkKafkaConfig& kafka = config->source.kafka;
  EXPECT_EQ(kafka.brokers, "127.0.0.1:9092,127.0.0.1:9093");
  EXPECT_EQ(kafka.topic_prefix, "cdc.");
  EXPECT_EQ(kafka.format, connectors::KafkaFormat::kJson);
  EXPECT_EQ(kafka.group_id, "analytics");
  EXPECT_EQ(kafka.properties,
            (std::map<std::string, std::string>{{"session.timeout.ms", "6000"},
                                                {"security.protocol", "plaintext"}}));
  EXPECT_TRUE(config->source.endpoint.empty());
  EXPECT_TRUE(config->source.data_dir.empty());

  auto defaults = ParseSinkConfig(
      "source: {kafka: {brokers: \"h:1\"}}\ntables: [t]\nsinks: [{type: files, dir: /x}]\n");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->source.kafka.topic_prefix, "tidewater.");
  EXPECT_EQ(defaults->source.kafka.format, connectors::KafkaFormat::kProtobuf);
  EXPECT_EQ(defaults->source.kafka.group_id, "");  // the application
}

TEST(SinkConfigTest, ErrorsNameTheKey) {
  const std::string sinks = "sinks: [{type: files, dir: /x}]\n";
  const std::pair<std::string, std::string> cases[] = {
      {"tables: [t]\n" + sinks, "source is required"},
      {"source: {data_dir: /d, endpoint: http://h:1}\ntables: [t]\n" + sinks,
       "exactly one of endpoint, data_dir and kafka"},
      {"source: {kafka: {brokers: \"h:1\"}, endpoint: http://h:1}\ntables: [t]\n" + sinks,
       "exactly one of endpoint, data_dir and kafka"},
      {"source: {kafka: {topic_prefix: x}}\ntables: [t]\n" + sinks,
       "source.kafka.brokers is required"},
      {"source: {kafka: {brokers: \"h:1\", format: avro}}\ntables: [t]\n" + sinks,
       "source.kafka.format must be protobuf or json"},
      {"source: {kafka: {brokers: \"h:1\", group: g}}\ntables: [t]\n" + sinks,
       "unknown key source.kafka.group"},
      {"source: {kafka: {brokers: \"h:1\", properties: [a]}}\ntables: [t]\n" + sinks,
       "source.kafka.properties must be a mapping"},
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

TEST(SinkConfigTest, AtTimestamp) {
  const std::string head = "source: {data_dir: /d}\ntables: [t]\nsinks: [{type: files, dir: /x}]\n";
  auto config =
      ParseSinkConfig(head + "starting_position: at_timestamp\nstarting_timestamp: 1733356800.5\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->starting_position, streams::StartingPosition::kAtTimestamp);
  EXPECT_EQ(config->starting_time_micros, 1'733'356'800'500'000);
  config = ParseSinkConfig(head +
                           "starting_position: at_timestamp\nstarting_timestamp: "
                           "2024-12-05T00:00:00Z\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->starting_time_micros, 1'733'356'800'000'000);
  const std::pair<std::string, std::string> errors[] = {
      {"starting_position: at_timestamp\n", "starting_timestamp is required"},
      {"starting_timestamp: 1733356800\n", "starting_timestamp is only for"},
      {"starting_position: at_timestamp\nstarting_timestamp: soon\n", "starting_timestamp:"},
      {"starting_position: sometime\n", "trim_horizon, latest or at_timestamp"},
  };
  for (const auto& [yaml, message] : errors) {
    auto parsed = ParseSinkConfig(head + yaml);
    ASSERT_FALSE(parsed.ok()) << yaml;
    EXPECT_NE(parsed.status().message().find(message), std::string::npos)
        << yaml << " -> " << parsed.status().message();
  }
}

// `tidewater sink --config <config>` as a child process, with `env` added to its
// environment.
std::unique_ptr<testing::ChildProcess> StartSink(const std::string& config,
                                                 std::vector<std::string> env = {}) {
  return std::make_unique<testing::ChildProcess>(
      TW_TIDEWATER, std::vector<std::string>{"sink", "--config", config}, std::move(env));
}

// The sink stops gracefully on SIGTERM with exit status 0.
void ExpectGracefulStop(testing::ChildProcess& sink) {
  sink.Signal(SIGTERM);
  const int status = sink.Wait();
  ASSERT_TRUE(WIFEXITED(status)) << sink.log();
  EXPECT_EQ(WEXITSTATUS(status), 0) << sink.log();
}

// A tidewaterd with the workload table "orders", a PostgreSQL server and a sink
// configuration (PostgreSQL, and optionally JSON Lines files) reading the daemon. The
// process tests' deadlines are generous (120 s): under AddressSanitizer, beside another
// such test, catching up once took more than 40 s; a passing run never waits for them.
class SinkProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(postgres_.Start(), "") << "PostgreSQL could not start";
    ASSERT_TRUE(daemon_.Start()) << daemon_.log();
    auto client = streams::ServiceClient::Create(daemon_.url());
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
    ASSERT_TRUE(testing::CreateSinkTableRemote(*client_, "orders").ok());
  }

  std::string WriteConfig(bool with_files) {
    const std::string config = dir_.Sub("sink.yaml");
    std::ofstream out(config);
    out << "source: {endpoint: \"" << daemon_.url() << "\"}\n"
        << "tables: [orders]\n"
        << "max_batch_records: 25\n"
        << "lease_duration_ms: 1000\n"
        << "sinks:\n"
        << "  - {type: postgres, conninfo: \"" << postgres_.conninfo() << "\"}\n";
    if (with_files) {
      out << "  - {type: files, dir: " << dir_.Sub("files")
          << ", rotate_bytes: 20000, rotate_seconds: 1}\n";
    }
    return config;
  }

  uint64_t Committed() { return testing::PgRowCount(postgres_.conninfo(), "orders_changes"); }

  // Waits until PostgreSQL (and the files, if `files`) hold every record of the stream.
  void WaitUntilCaughtUp(bool files, std::chrono::steady_clock::time_point deadline) {
    const std::map<ShardIndex, SequenceNumber> last =
        testing::RemoteLastSequences(daemon_.url(), "orders");
    uint64_t records = 0;
    for (const auto& [shard, sequence] : last) records += sequence.value();
    auto done = [&] {
      return Committed() >= records &&
             (!files || testing::FilePositionsAt(dir_.Sub("files/orders"), last));
    };
    EXPECT_TRUE(testing::WaitFor(done, testing::Remaining(deadline), std::chrono::milliseconds(20)))
        << Committed() << " of " << records << " records in PostgreSQL";
  }

  // Stops tidewaterd and checks the outputs against its data directory.
  void ExpectEveryRecordOnce(bool files) {
    ASSERT_TRUE(daemon_.Stop()) << daemon_.log();
    auto engine = Engine::Open(testing::TestEngineOptions(dir_.Sub("data")));
    ASSERT_TRUE(engine.ok());
    testing::ExpectPostgresMirrorsTable(**engine, "orders", postgres_.conninfo(), "orders");
    if (files)
      testing::ExpectFilesHoldEveryRecordOnce(**engine, "orders", dir_.Sub("files/orders"));
  }

  testing::PostgresServer postgres_;
  testing::TempDir dir_;
  testing::TidewaterdProcess daemon_{TW_TIDEWATERD, dir_.Sub("data"), "us-test-1"};
  std::unique_ptr<streams::ServiceClient> client_;
};

// `starting_position: at_timestamp` end to end: a files sink started after two groups of
// writes holds exactly the records of the second group and those written after it
// started.
TEST(SinkAtTimestampTest, FilesHoldExactlyTheRecordsFromTheTime) {
  testing::TempDir dir;
  testing::TidewaterdProcess daemon{TW_TIDEWATERD, dir.Sub("data"), "us-test-1"};
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = streams::ServiceClient::Create(daemon.url());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(testing::CreateSinkTableRemote(**client, "orders").ok());
  auto put = [&](int first, int count) {
    for (int i = first; i < first + count; ++i) {
      ASSERT_TRUE((*client)
                      ->CallJson("DynamoDB_20120810.PutItem",
                                 R"({"TableName":"orders","Item":{"id":{"S":"k)" +
                                     std::to_string(i) + R"("},"n":{"N":"1"}}})")
                      .ok());
    }
  };
  put(0, 20);
  const auto before = testing::RemoteLastSequences(daemon.url(), "orders");
  // The time: after every acknowledged write of the first group, in whole micro-seconds
  // the daemon's clock (this machine's) has passed.
  const int64_t time = Clock::System()->NowMicros() + 1;
  ASSERT_TRUE(testing::WaitFor([&] { return Clock::System()->NowMicros() > time; }));
  put(20, 40);
  const std::string config = dir.Sub("sink.yaml");
  {
    std::ofstream out(config);
    char seconds[64];
    std::snprintf(seconds, sizeof(seconds), "%lld.%06lld", static_cast<long long>(time / 1'000'000),
                  static_cast<long long>(time % 1'000'000));
    out << "source: {endpoint: \"" << daemon.url() << "\"}\n"
        << "tables: [orders]\n"
        << "starting_position: at_timestamp\n"
        << "starting_timestamp: " << seconds << "\n"
        << "lease_duration_ms: 1000\n"
        << "sinks:\n"
        << "  - {type: files, dir: " << dir.Sub("files") << ", rotate_seconds: 1}\n";
  }
  auto sink = StartSink(config);
  put(60, 20);
  const auto after = testing::RemoteLastSequences(daemon.url(), "orders");
  // Only shards with records after the time get files and positions.
  std::map<ShardIndex, SequenceNumber> written;
  std::set<std::pair<uint32_t, uint64_t>> expected;
  for (const auto& [shard, last] : after) {
    if (last == before.at(shard)) continue;
    written[shard] = last;
    for (uint64_t s = before.at(shard).value() + 1; s <= last.value(); ++s) {
      expected.emplace(shard.value(), s);
    }
  }
  ASSERT_EQ(expected.size(), 60u);
  EXPECT_TRUE(
      testing::WaitFor([&] { return testing::FilePositionsAt(dir.Sub("files/orders"), written); },
                       std::chrono::seconds(60), std::chrono::milliseconds(20)))
      << sink->log();
  ExpectGracefulStop(*sink);
  std::set<std::pair<uint32_t, uint64_t>> seen;
  for (const auto& entry : std::filesystem::directory_iterator(dir.Sub("files/orders"))) {
    if (!entry.path().string().ends_with(".jsonl")) continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      rapidjson::Document record;
      record.Parse(line.c_str());
      ASSERT_TRUE(record.IsObject()) << line;
      EXPECT_TRUE(seen.emplace(record["shard"].GetUint(), record["sequence"].GetUint64()).second)
          << line;
    }
  }
  EXPECT_EQ(seen, expected);
}

// The per-shard resolved times, as text (for failure messages).
std::string ResolvedRows(const std::string& conninfo) {
  std::string text = "\nresolved shards:";
  for (const auto& row : testing::PgQuery(conninfo,
                                          "SELECT shard, resolved_time, table_shards FROM "
                                          "tidewater_sink_resolved_shards ORDER BY shard")) {
    text += "\n ";
    for (const std::string& value : row) text += " " + value;
  }
  return text;
}

// The resolved-time view, sampled while writes go on: every change committed before a
// sampled time was already in PostgreSQL when the time was read. Once writes stop, the
// time passes the last write (idle shards advance).
TEST_F(SinkProcessTest, ResolvedTimeSaysEveryEarlierChangeIsInPostgres) {
  const std::string conninfo = postgres_.conninfo();
  // nullopt until the view exists and has a time for the table.
  auto resolved = [&]() -> std::optional<int64_t> {
    const testing::PgRows rows =
        testing::PgQuery(conninfo,
                         "SELECT (extract(epoch FROM resolved_time) * 1000000)::bigint FROM "
                         "tidewater_sink_resolved WHERE sink_name = 'postgres' AND "
                         "table_name = 'orders'");
    if (rows.size() != 1 || rows[0].size() != 1 || rows[0][0].empty() ||
        !std::isdigit(static_cast<unsigned char>(rows[0][0][0]))) {
      return std::nullopt;
    }
    return std::stoll(rows[0][0]);
  };
  struct Sample {
    int64_t resolved;
    std::set<std::pair<uint32_t, uint64_t>> committed;  // (shard, sequence) in PostgreSQL
  };
  std::vector<Sample> samples;
  auto sample = [&] {
    const std::optional<int64_t> time = resolved();  // first the time, then the rows
    if (!time) return;
    Sample taken{*time, {}};
    for (const auto& row :
         testing::PgQuery(conninfo, "SELECT shard, sequence FROM orders_changes")) {
      if (row.size() != 2) return;  // no change table yet
      taken.committed.emplace(std::stoul(row[0]), std::stoull(row[1]));
    }
    samples.push_back(std::move(taken));
  };
  // The sink first, until it has a time for the (empty) table; then the writes.
  auto sink = StartSink(WriteConfig(/*with_files=*/false));
  ASSERT_TRUE(testing::WaitFor([&] { return resolved().has_value(); }, std::chrono::seconds(30)))
      << sink->log() << ResolvedRows(conninfo);
  std::atomic<bool> writing = true;
  std::thread writer([&] {
    // Bursts, each followed by a pause until the sink has caught up with it (its time
    // passes the burst), so that the samples see the time advance mid-run.
    for (uint32_t burst = 0; burst < 12; ++burst) {
      Status written = testing::RunRemoteWorkload(*client_, "orders", 250, 150, 11 + burst);
      EXPECT_TRUE(written.ok()) << written.ToString();
      const int64_t burst_end = Clock::System()->NowMicros();
      testing::WaitFor(
          [&] {
            const std::optional<int64_t> time = resolved();
            return time && *time > burst_end;
          },
          std::chrono::seconds(10), std::chrono::milliseconds(20));
    }
    writing = false;
  });
  while (writing) {
    sample();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  writer.join();
  const int64_t writes_done = Clock::System()->NowMicros();
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        const std::optional<int64_t> time = resolved();
        return time && *time > writes_done;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(50)))
      << sink->log() << ResolvedRows(conninfo);
  sample();
  ExpectGracefulStop(*sink);
  ASSERT_TRUE(daemon_.Stop()) << daemon_.log();

  auto engine = Engine::Open(testing::TestEngineOptions(dir_.Sub("data")));
  ASSERT_TRUE(engine.ok());
  std::vector<ChangeRecord> records;
  auto table = (*engine)->DescribeTable("orders");
  ASSERT_TRUE(table.ok());
  for (const ShardDescription& shard : table->shards) {
    for (SequenceNumber from(1); from <= shard.last_sequence;) {
      auto read = (*engine)->ReadShard({TableName("orders"), shard.index, from, 1000});
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      records.insert(records.end(), read->records.begin(), read->records.end());
      from = read->next_sequence;
    }
  }
  ASSERT_GE(samples.size(), 2u);
  size_t checked = 0;
  for (const Sample& taken : samples) {
    for (const ChangeRecord& record : records) {
      if (record.approximate_creation_time_micros() >= taken.resolved) continue;
      ++checked;
      EXPECT_TRUE(taken.committed.contains({record.shard(), record.sequence()}))
          << "shard " << record.shard() << " sequence " << record.sequence() << " written at "
          << record.approximate_creation_time_micros() << " was not in PostgreSQL at resolved "
          << taken.resolved;
    }
  }
  // The final sample covers every record.
  EXPECT_EQ(samples.back().committed.size(), records.size());
  EXPECT_GT(checked, records.size());
}

TEST_F(SinkProcessTest, KilledMidRunAndRestartedWritesEveryRecordOnce) {
  // Writes through tidewaterd while the sink runs, is killed and restarts.
  std::thread writer([&] {
    Status written = testing::RunRemoteWorkload(*client_, "orders", 3000, 300, 7);
    EXPECT_TRUE(written.ok()) << written.ToString();
  });
  const std::string config = WriteConfig(/*with_files=*/true);
  auto sink = StartSink(config);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  ASSERT_TRUE(testing::WaitFor([&] { return Committed() >= 600 || sink->Exited(); },
                               testing::Remaining(deadline)));
  ASSERT_GE(Committed(), 600u) << sink->log();
  sink->Signal(SIGKILL);
  sink->Wait();
  const uint64_t committed_at_kill = Committed();
  sink = StartSink(config);
  writer.join();
  // Both sinks catch up (files are completed by time rotation).
  WaitUntilCaughtUp(/*files=*/true, deadline);
  EXPECT_LT(committed_at_kill, Committed()) << "the kill was not mid-run";
  ExpectGracefulStop(*sink);
  ExpectEveryRecordOnce(/*files=*/true);
}

// Shards split six times while the sinks run (through the admin API), and the sink is
// killed and restarted between two splits: PostgreSQL mirrors the table (so each key's
// changes were applied in order across parents and children) and both outputs hold every
// record of every shard once.
TEST_F(SinkProcessTest, SplitsWhileRunningWriteEveryRecordOnceInKeyOrder) {
  // The writer goes on until the last split is made, so that every split meets writes.
  std::atomic<bool> splitting{true};
  std::thread writer([&] {
    for (uint32_t round = 0; splitting || round < 4; ++round) {
      Status written = testing::RunRemoteWorkload(*client_, "orders", 300, 300, 11 + round);
      ASSERT_TRUE(written.ok()) << written.ToString();
    }
  });
  auto admin = streams::ServiceClient::Create(daemon_.url());
  ASSERT_TRUE(admin.ok());
  const std::string config = WriteConfig(/*with_files=*/true);
  auto sink = StartSink(config);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (int split = 1; split <= 6; ++split) {
    // Each split once the sink has committed more, so that it crosses each generation.
    ASSERT_TRUE(testing::WaitFor([&] { return Committed() >= split * 100u || sink->Exited(); },
                                 testing::Remaining(deadline)));
    ASSERT_FALSE(sink->Exited()) << sink->log();
    const Status done =
        testing::SplitOpenShardRemote(**admin, "orders", static_cast<uint32_t>(split * 5));
    ASSERT_TRUE(done.ok()) << done.ToString();
    if (split == 3) {
      sink->Signal(SIGKILL);
      sink->Wait();
      sink = StartSink(config);
    }
  }
  splitting = false;
  writer.join();
  WaitUntilCaughtUp(/*files=*/true, deadline);
  ExpectGracefulStop(*sink);
  ExpectEveryRecordOnce(/*files=*/true);
}

// Killed at exact steps of its commits, by failure points: right after a PostgreSQL COMMIT
// (before the reader hears of it), then right after a file got its final name (before the
// manifest names it). Each restart resumes from what was committed.
TEST_F(SinkProcessTest, KilledRightAfterCommitsWritesEveryRecordOnce) {
  if (!kFailurePointsCompiledIn) GTEST_SKIP() << "failure points are compiled out";
  std::thread writer([&] {
    Status written = testing::RunRemoteWorkload(*client_, "orders", 3000, 300, 5);
    EXPECT_TRUE(written.ok()) << written.ToString();
  });
  const std::string config = WriteConfig(/*with_files=*/true);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (const auto& [point, hit] : {std::pair<std::string, int>{"postgres_sink.after_commit", 5},
                                   {"file_sink.after_rename", 2}}) {
    auto sink =
        StartSink(config, {"TIDEWATER_FAILURE_POINTS=" + point + "=kill@" + std::to_string(hit)});
    const std::string line =
        "event=failure_point name=" + point + " action=kill hit=" + std::to_string(hit);
    // Until the line shows or the process ends; checked after the end.
    (void)sink->WaitForLog(line, std::chrono::duration_cast<std::chrono::milliseconds>(
                                     deadline - std::chrono::steady_clock::now()));
    const int status = sink->Wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << sink->log();
    EXPECT_NE(sink->log().find(line), std::string::npos) << sink->log();
  }
  auto sink = StartSink(config);
  writer.join();
  WaitUntilCaughtUp(/*files=*/true, deadline);
  ExpectGracefulStop(*sink);
  ExpectEveryRecordOnce(/*files=*/true);
}

TEST_F(SinkProcessTest, DatabaseRestartedMidRunLosesAndDuplicatesNothing) {
  std::thread writer([&] {
    Status written = testing::RunRemoteWorkload(*client_, "orders", 3000, 300, 11);
    EXPECT_TRUE(written.ok()) << written.ToString();
  });
  auto sink = StartSink(WriteConfig(/*with_files=*/false));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  ASSERT_TRUE(testing::WaitFor([&] { return Committed() >= 400 || sink->Exited(); },
                               testing::Remaining(deadline)));
  ASSERT_GE(Committed(), 400u) << sink->log();
  const uint64_t committed_at_crash = Committed();
  // A crash of the database: every connection drops, open transactions are lost; it comes
  // back on the same port a moment later (recovering from its WAL).
  ASSERT_TRUE(postgres_.StopServer("immediate"));
  // Down until the sink's second attempt at a batch found no server.
  EXPECT_TRUE(sink->WaitForLog(" attempt=2 retry_in_ms=200 error=\"PostgreSQL: cannot connect: ",
                               std::chrono::seconds(20))
                  .has_value())
      << sink->log();
  ASSERT_EQ(postgres_.StartServer(), "");
  writer.join();
  WaitUntilCaughtUp(/*files=*/false, deadline);
  EXPECT_LT(committed_at_crash, Committed()) << "the crash was not mid-run";
  ExpectGracefulStop(*sink);
  // The failures were reported: each failed attempt with its batch and the error, and the
  // recovery.
  const std::string log = sink->log();
  EXPECT_NE(log.find("event=postgres_sink_retry sink=postgres table=orders shard="),
            std::string::npos)
      << log;
  // Retried with backoff while the server was down, saying why.
  EXPECT_NE(log.find(" attempt=2 retry_in_ms=200 error=\"PostgreSQL: cannot connect: "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("event=postgres_sink_recovered sink=postgres table=orders"), std::string::npos)
      << log;
  ExpectEveryRecordOnce(/*files=*/false);
}

}  // namespace
}  // namespace tidewater::cli
