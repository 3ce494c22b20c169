// `tidewater sink` reading Kafka: tidewaterd --kafka-brokers publishes into librdkafka's
// mock cluster (in this test process, reached over loopback by both children); the sink, a
// process, reads the topic into PostgreSQL and JSON Lines files while writes go on, is
// killed with SIGKILL mid-run and restarted. The sinks' own positions win over the consumer
// group's committed offsets (the file sink's staged records, committed in Kafka but lost in
// the kill, are read again): afterwards the mirror equals the table and the change table
// and the files hold every record exactly once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <thread>

#include "support/kafka_cluster.h"
#include "support/postgres_server.h"
#include "support/sink_checks.h"
#include "support/sink_workload.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/tidewaterd_process.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::cli {
namespace {

TEST(SinkKafkaTest, KilledMidRunAndRestartedWritesEveryRecordOnce) {
  testing::MockKafkaCluster cluster;
  cluster.CreateTopic("tidewater.orders", 4);  // tidewaterd's tables have 4 shards
  testing::PostgresServer postgres;
  ASSERT_EQ(postgres.Start(), "") << "PostgreSQL could not start";
  const std::string conninfo = postgres.conninfo();
  testing::TempDir dir;
  testing::TidewaterdProcess daemon(TW_TIDEWATERD, dir.Sub("data"), "us-test-1",
                                    {"--kafka-brokers", cluster.bootstraps()});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = streams::ServiceClient::Create(daemon.url());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(testing::CreateSinkTableRemote(**client, "orders").ok());
  std::thread writer([&] {
    Status written = testing::RunRemoteWorkload(**client, "orders", 2000, 300, 5);
    EXPECT_TRUE(written.ok()) << written.ToString();
  });

  // A dead member's partitions move after the session timeout: keep it short.
  const std::string config = dir.Sub("sink.yaml");
  std::ofstream(config)
      << "source:\n"
      << "  kafka:\n"
      << "    brokers: \"" << cluster.bootstraps() << "\"\n"
      << "    properties: {session.timeout.ms: 3000, heartbeat.interval.ms: 500}\n"
      << "tables: [orders]\n"
      << "max_batch_records: 25\n"
      << "max_batching_window_ms: 20\n"
      << "sinks:\n"
      << "  - {type: postgres, conninfo: \"" << conninfo << "\"}\n"
      << "  - {type: files, dir: " << dir.Sub("files")
      << ", rotate_bytes: 1000000, rotate_seconds: 1}\n";
  auto start_sink = [&] {
    return std::make_unique<testing::ChildProcess>(
        TW_TIDEWATER, std::vector<std::string>{"sink", "--config", config});
  };
  auto committed = [&] { return testing::PgRowCount(conninfo, "orders_changes"); };

  auto sink = start_sink();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (committed() < 400 && std::chrono::steady_clock::now() < deadline && !sink->Exited()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(committed(), 400u) << sink->log();
  sink->Signal(SIGKILL);
  sink->Wait();
  const uint64_t committed_at_kill = committed();
  sink = start_sink();
  writer.join();

  // Both sinks catch up with the stream (files are completed by time rotation).
  const std::map<ShardIndex, SequenceNumber> last =
      testing::RemoteLastSequences(daemon.url(), "orders");
  uint64_t records = 0;
  for (const auto& [shard, sequence] : last) records += sequence.value();
  auto done = [&] {
    return committed() >= records && testing::FilePositionsAt(dir.Sub("files/orders"), last);
  };
  while (!done() && std::chrono::steady_clock::now() < deadline && !sink->Exited()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(done()) << committed() << " of " << records << " records\n" << sink->log();
  EXPECT_LT(committed_at_kill, records) << "the kill was not mid-run";
  // The restarted sink took each partition's position from the sinks themselves.
  for (const std::string group :
       {"tidewater-sink.postgres.orders", "tidewater-sink.files.orders"}) {
    EXPECT_NE(sink->log().find("event=kafka_consumer_position group=" + group +
                               " topic=tidewater.orders partition="),
              std::string::npos)
        << sink->log();
  }
  sink->Signal(SIGTERM);
  const int status = sink->Wait();
  ASSERT_TRUE(WIFEXITED(status)) << sink->log();
  EXPECT_EQ(WEXITSTATUS(status), 0) << sink->log();
  ASSERT_TRUE(daemon.Stop()) << daemon.log();

  auto engine = Engine::Open(testing::TestEngineOptions(dir.Sub("data")));
  ASSERT_TRUE(engine.ok());
  testing::ExpectPostgresMirrorsTable(**engine, "orders", conninfo, "orders");
  testing::ExpectFilesHoldEveryRecordOnce(**engine, "orders", dir.Sub("files/orders"));
}

}  // namespace
}  // namespace tidewater::cli
