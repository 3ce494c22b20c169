// tidewaterd --config: YAML keys mirror the flags.
#include "config_file.h"

#include <gtest/gtest.h>

namespace tidewater::server {
namespace {

TEST(ConfigFileTest, ReadsEveryKey) {
  auto values = ParseConfigText(
      "data-dir: /var/lib/tidewater\n"
      "listen: 0.0.0.0:8000\n"
      "region: eu-west-1\n"
      "threads: 8\n"
      "max-body-bytes: 1048576\n"
      "sync: true\n"
      "log-level: debug\n");
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->data_dir, "/var/lib/tidewater");
  EXPECT_EQ(values->listen, "0.0.0.0:8000");
  EXPECT_EQ(values->region, "eu-west-1");
  EXPECT_EQ(values->threads, 8);
  EXPECT_EQ(values->max_body_bytes, 1048576u);
  EXPECT_EQ(values->sync, true);
  EXPECT_EQ(values->log_level, "debug");
}

TEST(ConfigFileTest, ReadsKafkaKeys) {
  auto values = ParseConfigText(
      "kafka-brokers: b1:9092,b2:9092\n"
      "kafka-topic-prefix: cdc.\n"
      "kafka-format: json\n"
      "kafka-properties:\n"
      "  security.protocol: SASL_SSL\n"
      "  linger.ms: 0\n");
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->kafka_brokers, "b1:9092,b2:9092");
  EXPECT_EQ(values->kafka_topic_prefix, "cdc.");
  EXPECT_EQ(values->kafka_format, "json");
  EXPECT_EQ(values->kafka_properties, (std::map<std::string, std::string>{
                                          {"security.protocol", "SASL_SSL"}, {"linger.ms", "0"}}));
  auto not_a_map = ParseConfigText("kafka-properties: [linger.ms]\n");
  ASSERT_FALSE(not_a_map.ok());
  EXPECT_EQ(not_a_map.status().message(),
            "config key 'kafka-properties' has a value of the wrong type");
}

TEST(ConfigFileTest, ReadsTheTlsKeys) {
  auto values = ParseConfigText(
      "tls-cert: /etc/tidewater/server.pem\n"
      "tls-key: /etc/tidewater/server.key\n"
      "tls-client-ca: /etc/tidewater/clients.pem\n");
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->tls_cert, "/etc/tidewater/server.pem");
  EXPECT_EQ(values->tls_key, "/etc/tidewater/server.key");
  EXPECT_EQ(values->tls_client_ca, "/etc/tidewater/clients.pem");
}

TEST(ConfigFileTest, ReadsTheConsoleKey) {
  auto values = ParseConfigText("console: off\n");
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->console, "off");
}

TEST(ConfigFileTest, ReadsTheSplitKeys) {
  auto values = ParseConfigText(
      "split-shard-bytes: 1073741824\nsplit-shard-writes-per-second: 250.5\n"
      "split-sustain-seconds: 30\n");
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->split_shard_bytes, 1073741824.0);
  EXPECT_EQ(values->split_shard_writes_per_second, 250.5);
  EXPECT_EQ(values->split_sustain_seconds, 30.0);
  auto wrong = ParseConfigText("split-shard-bytes: lots\n");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "config key 'split-shard-bytes' has a value of the wrong type");
}

TEST(ConfigFileTest, ReadsTheAutoScalingPeriod) {
  auto values = ParseConfigText("autoscaling-period-seconds: 0.5\n");
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->autoscaling_period_seconds, 0.5);
}

TEST(ConfigFileTest, MissingKeysStayUnset) {
  auto values = ParseConfigText("region: local\n");
  ASSERT_TRUE(values.ok());
  EXPECT_FALSE(values->data_dir.has_value());
  EXPECT_FALSE(values->sync.has_value());
  auto empty = ParseConfigText("");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->region.has_value());
}

TEST(ConfigFileTest, RejectsWhatIsNotAFlag) {
  struct Case {
    const char* yaml;
    const char* message_part;
  };
  for (const Case& c : {Case{"port: 80\n", "unknown config key 'port'"},
                        Case{"threads: many\n", "'threads' has a value of the wrong type"},
                        Case{"sync: [1, 2]\n", "'sync' has a value of the wrong type"},
                        Case{"- a\n- b\n", "must be a YAML mapping"},
                        Case{"region: [unclosed\n", "not valid YAML"}}) {
    auto values = ParseConfigText(c.yaml);
    ASSERT_FALSE(values.ok()) << c.yaml;
    EXPECT_NE(values.status().message().find(c.message_part), std::string::npos)
        << values.status().message();
  }
  EXPECT_FALSE(ReadConfigFile("/nonexistent/tidewaterd.yaml").ok());
}

}  // namespace
}  // namespace tidewater::server
