// The YAML configuration of `tidewater trigger`: Lambda's option names map onto
// TriggerOptions, defaults are Lambda's, and mistakes are errors that name the key.
#include "trigger_config.h"

#include <gtest/gtest.h>

namespace tidewater::cli {
namespace {

constexpr const char* kFull = R"(
source:
  data-dir: /var/lib/tidewater
application: shop
region: eu-west-1
metrics:
  listen: 127.0.0.1:9465
triggers:
  - name: audit
    table: orders
    handler:
      type: exec
      command: [/usr/bin/python3, handler.py, --verbose]
      timeout: 2.5
    BatchSize: 50
    MaximumBatchingWindowInSeconds: 3
    StartingPosition: LATEST
    MaximumRetryAttempts: 4
    MaximumRecordAgeInSeconds: 3600
    BisectBatchOnFunctionError: true
    FunctionResponseTypes: [ReportBatchItemFailures]
    FilterCriteria:
      Filters:
        - Pattern: '{"eventName":["INSERT"]}'
        - Pattern: '{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"a"}]}}}}'
    ParallelizationFactor: 4
    PartitionKey: pk
    DestinationConfig:
      OnFailure:
        Destination: kafka://127.0.0.1:9092,127.0.0.1:9093/trigger-failures
  - table: payments
    handler: {type: webhook, url: "http://127.0.0.1:8080/hook", headers: {X-Token: abc}}
    StartingPosition: TRIM_HORIZON
    DestinationConfig: {OnFailure: {Destination: "file:/tmp/failures.jsonl"}}
)";

TEST(TriggerConfigTest, LambdaNamesMapOntoOptions) {
  auto parsed = ParseTriggerConfig(kFull);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->data_dir, "/var/lib/tidewater");
  EXPECT_EQ(parsed->application, "shop");
  EXPECT_EQ(parsed->region, "eu-west-1");
  EXPECT_EQ(parsed->metrics_listen, "127.0.0.1:9465");
  ASSERT_EQ(parsed->triggers.size(), 2u);

  const TriggerConfig& audit = parsed->triggers[0];
  EXPECT_EQ(audit.name, "audit");
  EXPECT_EQ(audit.table, "orders");
  EXPECT_EQ(audit.handler.type, "exec");
  EXPECT_EQ(audit.handler.command,
            (std::vector<std::string>{"/usr/bin/python3", "handler.py", "--verbose"}));
  EXPECT_EQ(audit.handler.timeout, std::chrono::milliseconds(2500));
  const streams::TriggerOptions& o = audit.options;
  EXPECT_EQ(o.function_name, "audit");
  EXPECT_EQ(o.region, "eu-west-1");
  EXPECT_EQ(o.batch_size, 50u);
  EXPECT_EQ(o.maximum_batching_window, std::chrono::seconds(3));
  EXPECT_EQ(o.starting_position, streams::StartingPosition::kLatest);
  EXPECT_EQ(o.maximum_retry_attempts, 4);
  EXPECT_EQ(o.maximum_record_age_seconds, 3600);
  EXPECT_TRUE(o.bisect_batch_on_function_error);
  EXPECT_TRUE(o.report_batch_item_failures);
  EXPECT_EQ(o.filter_patterns.size(), 2u);
  EXPECT_EQ(o.parallelization_factor, 4);
  EXPECT_EQ(o.partition_key_attribute, "pk");
  EXPECT_EQ(audit.on_failure.kafka_brokers, "127.0.0.1:9092,127.0.0.1:9093");
  EXPECT_EQ(audit.on_failure.kafka_topic, "trigger-failures");

  const TriggerConfig& payments = parsed->triggers[1];
  EXPECT_EQ(payments.name, "payments");  // defaults to the table
  EXPECT_EQ(payments.handler.url, "http://127.0.0.1:8080/hook");
  EXPECT_EQ(payments.handler.headers.at("X-Token"), "abc");
  EXPECT_EQ(payments.on_failure.file, "/tmp/failures.jsonl");
  // Lambda's defaults.
  EXPECT_EQ(payments.options.batch_size, 100u);
  EXPECT_EQ(payments.options.maximum_batching_window, std::chrono::milliseconds(0));
  EXPECT_EQ(payments.options.maximum_retry_attempts, -1);
  EXPECT_EQ(payments.options.maximum_record_age_seconds, -1);
  EXPECT_FALSE(payments.options.bisect_batch_on_function_error);
  EXPECT_FALSE(payments.options.report_batch_item_failures);
  EXPECT_EQ(payments.options.parallelization_factor, 1);
}

TEST(TriggerConfigTest, Sources) {
  const std::string triggers =
      "triggers: [{table: t, handler: {type: exec, command: x}, StartingPosition: LATEST}]\n";
  auto remote = ParseTriggerConfig("source: {endpoint: 'http://127.0.0.1:8000'}\n" + triggers);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EXPECT_EQ(remote->endpoint, "http://127.0.0.1:8000");
  EXPECT_TRUE(remote->data_dir.empty());

  auto kafka = ParseTriggerConfig(
      "source: {kafka: {brokers: 'k1:9092,k2:9092', topic-prefix: 'cdc.', format: json, "
      "properties: {security.protocol: plaintext}}}\n" +
      triggers);
  ASSERT_TRUE(kafka.ok()) << kafka.status().ToString();
  EXPECT_EQ(kafka->kafka.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(kafka->kafka.topic_prefix, "cdc.");
  EXPECT_EQ(kafka->kafka.format, connectors::KafkaFormat::kJson);
  EXPECT_EQ(kafka->kafka.properties.at("security.protocol"), "plaintext");

  auto defaults = ParseTriggerConfig("source: {kafka: {brokers: k}}\n" + triggers);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->kafka.topic_prefix, "tidewater.");
  EXPECT_EQ(defaults->kafka.format, connectors::KafkaFormat::kProtobuf);
}

TEST(TriggerConfigTest, AtTimestampTakesEpochSecondsOrIso8601) {
  const std::string head =
      "source: {data-dir: d}\ntriggers:\n  - table: t\n    handler: {type: exec, command: x}\n"
      "    StartingPosition: AT_TIMESTAMP\n    StartingPositionTimestamp: ";
  const std::pair<std::string, int64_t> cases[] = {
      {"1733356800", 1'733'356'800'000'000},
      {"1733356800.25", 1'733'356'800'250'000},
      {"2024-12-05T00:00:00Z", 1'733'356'800'000'000},
      {"2024-12-05T01:30:00.000001+01:30", 1'733'356'800'000'001},
      {"'2024-12-04T23:00:00.5-01:00'", 1'733'356'800'500'000},
  };
  for (const auto& [text, micros] : cases) {
    auto parsed = ParseTriggerConfig(head + text + "\n");
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
    const streams::TriggerOptions& o = parsed->triggers[0].options;
    EXPECT_EQ(o.starting_position, streams::StartingPosition::kAtTimestamp);
    EXPECT_EQ(o.starting_position_timestamp_micros, micros) << text;
    const streams::ConsumerOptions consumer = streams::ConsumerOptionsFor(o, "t", "app");
    EXPECT_EQ(consumer.starting_position, streams::StartingPosition::kAtTimestamp);
    EXPECT_EQ(consumer.starting_time_micros, micros);
  }
}

TEST(TriggerConfigTest, MistakesNameTheKey) {
  const std::string head = "source: {data-dir: d}\ntriggers:\n  - table: t\n";
  const std::string exec = "    handler: {type: exec, command: run}\n";
  const std::string start = "    StartingPosition: LATEST\n";
  struct Case {
    std::string yaml;
    std::string mentions;
  };
  const Case cases[] = {
      {"source: [", "not valid YAML"},
      {"triggers: []\nsource: {data-dir: d}", "triggers"},
      {"source: {}\ntriggers: [{table: t}]", "exactly one of endpoint, data-dir, kafka"},
      {"source: {data-dir: d, endpoint: 'http://h:1'}\ntriggers: [{table: t}]", "exactly one"},
      {"source: {endpoint: 'https://h:1'}\ntriggers: [{table: t}]", "source.endpoint"},
      {"source: {kafka: {topic-prefix: x}}\ntriggers: [{table: t}]", "source.kafka.brokers"},
      {"source: {kafka: {brokers: b, format: avro}}\ntriggers: [{table: t}]", "format"},
      {"sauce: {data-dir: d}", "unknown key \"sauce\""},
      {head + exec + start + "    Batchsize: 5\n", "unknown key \"Batchsize\""},
      {head + exec, "StartingPosition is required"},
      {head + exec + "    StartingPosition: SOMETIME\n", "StartingPosition"},
      {head + exec + "    StartingPosition: AT_TIMESTAMP\n",
       "StartingPositionTimestamp: is required"},
      {head + exec + start + "    StartingPositionTimestamp: 1733356800\n",
       "StartingPositionTimestamp: is only for"},
      {head + exec + "    StartingPosition: AT_TIMESTAMP\n    StartingPositionTimestamp: noon\n",
       "StartingPositionTimestamp"},
      {head + exec +
           "    StartingPosition: AT_TIMESTAMP\n    StartingPositionTimestamp: "
           "2024-02-30T00:00:00Z\n",
       "StartingPositionTimestamp"},
      {head + start, "handler is required"},
      {head + "    handler: {type: lambda}\n" + start, "handler.type"},
      {head + "    handler: {type: exec}\n" + start, "handler.command"},
      {head + "    handler: {type: webhook}\n" + start, "handler.url"},
      {head + "    handler: {type: exec, command: x, timeout: 0}\n" + start, "timeout"},
      {head + exec + start + "    BatchSize: ten\n", "BatchSize"},
      {head + exec + start + "    BatchSize: 10001\n", "BatchSize"},
      {head + exec + start + "    ParallelizationFactor: 11\n", "ParallelizationFactor"},
      {head + exec + start + "    MaximumRetryAttempts: -2\n", "MaximumRetryAttempts"},
      {head + exec + start + "    FunctionResponseTypes: [Other]\n", "FunctionResponseTypes"},
      {head + exec + start + "    MaximumRetryAttempts: 2\n    PoisonRecordHandling: SKIP\n",
       "PoisonRecordHandling"},
      {head + exec + start + "    PoisonRecordHandling: QUARANTINE_KEY\n",
       "QUARANTINE_KEY needs MaximumRetryAttempts"},
      {head + exec + start + "    QuarantineTable: q\n", "QuarantineTable: is only for"},
      {head + exec + start + "    FilterCriteria: {Filters: [{Pattern: 'x'}]}\n",
       "Invalid filter pattern"},
      {head + exec + start + "    DestinationConfig: {OnFailure: {Destination: 'sqs:q'}}\n",
       "Destination"},
      {head + exec + start + "  - table: t\n" + exec + start, "two triggers are named t"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseTriggerConfig(c.yaml);
    ASSERT_FALSE(parsed.ok()) << c.yaml;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kValidation);
    EXPECT_NE(parsed.status().message().find(c.mentions), std::string::npos)
        << parsed.status().message() << "\n--- for ---\n"
        << c.yaml;
  }
}

TEST(TriggerConfigTest, PoisonRecordHandlingIsOffByDefault) {
  const std::string head =
      "source: {data-dir: d}\ntriggers:\n  - table: t\n    handler: {type: exec, command: run}\n"
      "    StartingPosition: LATEST\n";
  auto plain = ParseTriggerConfig(head);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->triggers[0].options.poison_record_handling,
            streams::PoisonRecordHandling::kBlockShard);

  auto quarantine = ParseTriggerConfig(head +
                                       "    MaximumRetryAttempts: 3\n"
                                       "    PoisonRecordHandling: QUARANTINE_KEY\n");
  ASSERT_TRUE(quarantine.ok()) << quarantine.status().ToString();
  EXPECT_EQ(quarantine->triggers[0].options.poison_record_handling,
            streams::PoisonRecordHandling::kQuarantineKey);
  EXPECT_EQ(quarantine->triggers[0].quarantine_table, "tidewater_quarantine");

  auto named = ParseTriggerConfig(head +
                                  "    MaximumRetryAttempts: 0\n"
                                  "    PoisonRecordHandling: QUARANTINE_KEY\n"
                                  "    QuarantineTable: parked\n");
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->triggers[0].quarantine_table, "parked");
}

}  // namespace
}  // namespace tidewater::cli
