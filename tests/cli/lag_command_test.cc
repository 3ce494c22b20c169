// `tidewater lag` as a process against a tidewaterd process: a consumer application that
// read part of a table's stream (leases in the server's lease table) and the Kafka
// publisher (librdkafka's mock cluster in this process).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/kafka_cluster.h"
#include "support/temp_dir.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/connectors/stream_source.h"
#include "tidewater/streams/service_client.h"

namespace tidewater {
namespace {

struct LagRun {
  int exit_code = -1;
  std::string output;
};

LagRun RunLag(std::vector<std::string> args) {
  args.insert(args.begin(), "lag");
  testing::ChildProcess lag(TW_TIDEWATER, std::move(args));
  LagRun run;
  if (!testing::WaitFor([&] { return lag.Exited(); })) return run;
  const int status = lag.Wait();
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.output = lag.log();
  return run;
}

// Per reader, the sum of the LAG column over its shards (rows: READER TABLE SHARD OWNER
// POSITION LAG LAG_S LAST_PROGRESS).
std::map<std::string, uint64_t> LagPerReader(const std::string& output) {
  std::map<std::string, uint64_t> lag;
  std::istringstream lines(output);
  static const std::regex kRow(R"re(^(\S+) +orders +shardId-\S+ +\S+ +\S+ +(\d+) +\S+ +\S+$)re");
  for (std::string line; std::getline(lines, line);) {
    std::smatch row;
    if (std::regex_match(line, row, kRow)) lag[row[1]] += std::stoull(row[2]);
  }
  return lag;
}

TEST(LagCommandTest, ShowsConsumersAndThePublisherAndFailsOverTheThreshold) {
  testing::MockKafkaCluster cluster;
  cluster.CreateTopic("tidewater.orders", 4);
  testing::TempDir dir;
  testing::TidewaterdProcess tidewaterd(TW_TIDEWATERD, dir.Sub("data"), "eu-test-1",
                                        {"--kafka-brokers", cluster.bootstraps()});
  ASSERT_TRUE(tidewaterd.Start()) << tidewaterd.log();
  auto client = streams::ServiceClient::Create(tidewaterd.url());
  ASSERT_TRUE(client.ok());
  auto call = [&](const char* operation, const std::string& body) {
    auto answer = (*client)->CallJson(std::string("DynamoDB_20120810.") + operation, body);
    ASSERT_TRUE(answer.ok()) << operation << ": " << answer.status().ToString();
  };
  call("CreateTable",
       R"({"TableName":"orders","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
       R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
       R"("BillingMode":"PAY_PER_REQUEST",)"
       R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}})");
  auto put = [&](int i) {
    call("PutItem",
         R"({"TableName":"orders","Item":{"pk":{"S":"k)" + std::to_string(i) + R"("}}})");
  };
  for (int i = 0; i < 20; ++i) put(i);

  // The application "billing" reads all 20 records, checkpoints and stops; 7 more follow.
  {
    connectors::StreamSourceConfig config;
    config.endpoint = tidewaterd.url();
    auto source = connectors::StreamSource::Open(config);
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    streams::ConsumerOptions options;
    options.table = "orders";
    options.application = "billing";
    std::atomic<int> seen{0};
    auto reader = (*source)->OpenReader(options, [&](const streams::ShardBatch& batch) {
      seen += static_cast<int>(batch.records.size());
      return Status::Ok();
    });
    ASSERT_TRUE(reader.ok());
    ASSERT_TRUE((*reader)->Start().ok());
    ASSERT_TRUE(testing::WaitFor([&] { return seen == 20; }));
    (*reader)->Stop();
  }
  for (int i = 20; i < 27; ++i) put(i);

  // The publisher catches up by itself (every record in Kafka; its lag gauges follow within
  // a second); the consumer stays 7 records behind.
  ASSERT_TRUE(testing::WaitFor([&] {
    return testing::ReadTopic(cluster.bootstraps(), "tidewater.orders", 4).size() >= 27;
  }));
  LagRun run;
  ASSERT_TRUE(testing::WaitFor([&] {
    run = RunLag({"--endpoint", tidewaterd.url()});
    const auto lag = LagPerReader(run.output);
    return lag.contains("kafka-publisher") && lag.at("kafka-publisher") == 0;
  })) << run.output;
  EXPECT_EQ(run.exit_code, 0) << run.output;
  const auto lag = LagPerReader(run.output);
  EXPECT_EQ(lag.at("consumer:billing"), 7u) << run.output;
  // Every consumer row has the time of its last checkpoint.
  EXPECT_TRUE(
      std::regex_search(run.output, std::regex(R"re(consumer:billing .* \d{4}-\d\d-\d\dT\S+Z)re")))
      << run.output;

  run = RunLag({"--endpoint", tidewaterd.url(), "--max-lag-records", "1"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  run = RunLag({"--endpoint", tidewaterd.url(), "--max-lag-records", "7"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  run = RunLag({"--endpoint", tidewaterd.url(), "--max-lag-seconds", "0"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  run = RunLag({"--endpoint", "http://127.0.0.1:1"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(tidewaterd.Stop());
}

}  // namespace
}  // namespace tidewater
