#include "tidewater/replicator/replicator_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace tidewater::replicator {
namespace {

Result<ReplicatorConfig> ReadText(const std::string& text) {
  tidewater::testing::TempDir dir;
  const std::string path = dir.Sub("replicator.yaml");
  std::ofstream(path) << text;
  return ReadReplicatorConfig(path);
}

TEST(ReplicatorConfigTest, ReadsEveryKey) {
  auto config = ReadText(
      "source: https://127.0.0.1:8000\n"
      "target: http://127.0.0.1:8001\n"
      "source_region: us-east-1\n"
      "target_region: eu-west-1\n"
      "profile: replicator\n"
      "ca_bundle: /etc/tidewater/ca.pem\n"
      "client_cert: /etc/tidewater/replicator.crt\n"
      "client_key: /etc/tidewater/replicator.key\n"
      "metrics_listen: 127.0.0.1:9464\n"
      "batch_size: 200\n"
      "tables: [orders, customers]\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->source_url, "https://127.0.0.1:8000");
  EXPECT_EQ(config->target_url, "http://127.0.0.1:8001");
  EXPECT_EQ(config->ca_bundle, "/etc/tidewater/ca.pem");
  EXPECT_EQ(config->source_region, "us-east-1");
  EXPECT_EQ(config->target_region, "eu-west-1");
  EXPECT_EQ(config->profile, "replicator");
  // The source is read with the profile's identity, signed for the source's region.
  const connectors::StreamSourceConfig source = ChangeSourceOf(*config);
  EXPECT_EQ(source.endpoint, "https://127.0.0.1:8000");
  EXPECT_EQ(source.tls.ca_bundle_file, "/etc/tidewater/ca.pem");
  EXPECT_EQ(source.tls.certificate_file, "/etc/tidewater/replicator.crt");
  EXPECT_EQ(source.tls.private_key_file, "/etc/tidewater/replicator.key");
  EXPECT_EQ(source.profile, "replicator");
  EXPECT_EQ(source.endpoint_region, "us-east-1");
  EXPECT_EQ(config->metrics_listen, "127.0.0.1:9464");
  EXPECT_EQ(config->batch_size, 200u);
  EXPECT_EQ(config->tables, (std::vector<std::string>{"orders", "customers"}));
}

TEST(ReplicatorConfigTest, ReadsAKafkaSource) {
  auto config = ReadText(
      "source_kafka: 127.0.0.1:9092,127.0.0.1:9093\n"
      "kafka_topic_prefix: cdc.\n"
      "kafka_format: protobuf\n"
      "kafka_group_id: east-to-west\n"
      "kafka_properties: {security.protocol: plaintext}\n"
      "source_region: us-east-1\n"
      "target: http://127.0.0.1:8001\n"
      "tables: [orders]\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->source_kafka, "127.0.0.1:9092,127.0.0.1:9093");
  EXPECT_EQ(config->kafka_topic_prefix, "cdc.");
  EXPECT_EQ(config->kafka_format, connectors::KafkaFormat::kProtobuf);
  EXPECT_EQ(config->kafka_group_id, "east-to-west");
  EXPECT_EQ(config->kafka_properties.at("security.protocol"), "plaintext");
  EXPECT_TRUE(config->source_url.empty());
  // The source's URL may come too (for catch-up); it then names the source region.
  config = ReadText(
      "source_kafka: 127.0.0.1:9092\nsource: http://127.0.0.1:8000\n"
      "target: http://127.0.0.1:8001\ntables: [orders]\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->kafka_topic_prefix, "tidewater.");
}

TEST(ReplicatorConfigTest, RejectsWhatCannotRun) {
  const std::string pair = "source: http://127.0.0.1:8000\ntarget: http://127.0.0.1:8001\n";
  const struct {
    std::string text;
    std::string error;
  } cases[] = {
      {"target: http://127.0.0.1:8001\ntables: [t]\n", "source is required"},
      {"source: http://127.0.0.1:8000\ntables: [t]\n", "target is required"},
      {pair, "at least one table"},
      {pair + "tables: [t, t]\n", "table listed twice: t"},
      {pair + "tables: t\n", "tables must be a list"},
      {pair + "tables: [t]\nbatch_size: 0\n", "batch_size must be between 1 and 10000"},
      {pair + "tables: [t]\nbatchsize: 10\n", "unknown key 'batchsize'"},
      {"source: http://a:1\ntarget: http://a:1\ntables: [t]\n", "the same endpoint"},
      {"source: ftp://a:1\ntarget: http://b:1\ntables: [t]\n", "http:// or https:// URL"},
      {"source: [unclosed\n", ""},
      {"source_kafka: k:9092\ntarget: http://b:1\ntables: [t]\n", "source_region is required"},
      {"source_kafka: k:9092\nsource_region: r\ntarget: http://b:1\ntables: [t]\n"
       "kafka_format: json\n",
       "kafka_format json cannot be replicated"},
      {"source_kafka: k:9092\nsource_region: r\ntarget: http://b:1\ntables: [t]\n"
       "kafka_format: avro\n",
       "kafka_format must be protobuf or json"},
  };
  for (const auto& c : cases) {
    auto config = ReadText(c.text);
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_EQ(config.status().code(), ErrorCode::kValidation);
    EXPECT_NE(config.status().message().find(c.error), std::string::npos)
        << config.status().message();
  }
}

}  // namespace
}  // namespace tidewater::replicator
