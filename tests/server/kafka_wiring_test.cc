// tidewaterd --kafka-brokers: the daemon publishes its tables' changes to Kafka (the mock
// cluster lives in this test process) and serves the publisher's metrics on /metrics.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "support/child_process.h"
#include "support/kafka_cluster.h"
#include "support/temp_dir.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "test_http_client.h"

namespace tidewater::server {
namespace {

using std::chrono::milliseconds;

TEST(KafkaWiringTest, TidewaterdPublishesToKafkaAndServesTheMetrics) {
  tidewater::testing::MockKafkaCluster cluster;
  cluster.CreateTopic("cdc.orders", 4);  // tables get 4 shards
  tidewater::testing::TempDir dir;
  tidewater::testing::TidewaterdProcess daemon(
      TW_TIDEWATERD, dir.Sub("data"), "local",
      {"--kafka-brokers", cluster.bootstraps(), "--kafka-topic-prefix", "cdc.", "--kafka-format",
       "json"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();

  testing::TestClient client(daemon.port());
  ASSERT_EQ(
      client
          .Call("CreateTable",
                R"({"TableName":"orders","BillingMode":"PAY_PER_REQUEST",)"
                R"("KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
                R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
                R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}})")
          .status,
      200);
  ASSERT_EQ(
      client.Call("PutItem", R"({"TableName":"orders","Item":{"pk":{"S":"a-1"},"n":{"N":"1.50"}}})")
          .status,
      200);

  // The publisher finds the new table within a second.
  std::vector<tidewater::testing::ConsumedMessage> messages;
  EXPECT_TRUE(tidewater::testing::WaitFor(
      [&] {
        messages = tidewater::testing::ReadTopic(cluster.bootstraps(), "cdc.orders", 4);
        return !messages.empty();
      },
      std::chrono::seconds(15), milliseconds(100)));
  ASSERT_EQ(messages.size(), 1u) << daemon.log();
  EXPECT_EQ(messages[0].key, "a-1");
  EXPECT_EQ(messages[0].headers.at("tw-event"), "INSERT");
  rapidjson::Document record;
  record.Parse(messages[0].value.c_str());
  ASSERT_FALSE(record.HasParseError()) << messages[0].value;
  EXPECT_STREQ(record["dynamodb"]["NewImage"]["n"]["N"].GetString(), "1.5");

  const std::string metrics = client.Get("/metrics").body;
  EXPECT_NE(metrics.find("tidewater_kafka_published_records_total{table=\"orders\"} 1"),
            std::string::npos)
      << metrics;

  EXPECT_TRUE(daemon.Stop()) << daemon.log();
}

TEST(KafkaWiringTest, BadKafkaSettingsStopTheStart) {
  tidewater::testing::MockKafkaCluster cluster;
  tidewater::testing::TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"--kafka-brokers", cluster.bootstraps(), "--kafka-format", "avro"},
       "kafka-format must be protobuf or json, not avro"},
      {{"--kafka-brokers", cluster.bootstraps(), "--kafka-topic-prefix", "bad prefix"},
       "Kafka topic prefix 'bad prefix' may only contain"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--data-dir", dir.Sub("data"), "--listen", "127.0.0.1:0"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    tidewater::testing::ChildProcess daemon(TW_TIDEWATERD, args);
    const int status = daemon.Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << daemon.log();
    EXPECT_NE(daemon.log().find(c.message), std::string::npos) << daemon.log();
  }
}

}  // namespace
}  // namespace tidewater::server
