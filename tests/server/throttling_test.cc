// Throttling of a PROVISIONED table over HTTP, time driven by the fixture's ManualClock: a
// 5-unit table serves its burst, then answers ProvisionedThroughputExceededException with
// ThrottlingReasons and applies nothing; batches return the refused items as Unprocessed;
// UpdateTable raising the throughput lifts throttling at once; the per-table metrics count it.
// A global index throttles on buckets of its own.
#include <gtest/gtest.h>

#include <string>

#include "test_server.h"
#include "throughput_limiter.h"

namespace tidewater::server::testing {
namespace {

constexpr const char* kThrottledMessage =
    "The level of configured provisioned throughput for the table was exceeded. Consider "
    "increasing your provisioning level with the UpdateTable API.";

class ThrottlingTest : public ServerFixture {
 protected:
  // A table with the given units and a stream (to check nothing throttled reaches it).
  void CreateProvisioned(const std::string& name, int read_units, int write_units) {
    Ok("CreateTable", R"({"TableName":")" + name + R"(",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
        "BillingMode":"PROVISIONED",
        "ProvisionedThroughput":{"ReadCapacityUnits":)" +
                          std::to_string(read_units) + R"(,"WriteCapacityUnits":)" +
                          std::to_string(write_units) + R"(},
        "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}})");
  }

  std::string PutBody(const std::string& table, const std::string& pk) {
    return R"({"TableName":")" + table + R"(","Item":{"pk":{"S":")" + pk + R"("}}})";
  }

  std::string KeyBody(const std::string& table, const std::string& pk) {
    return R"({"TableName":")" + table + R"(","Key":{"pk":{"S":")" + pk + R"("}}})";
  }

  // Expects `operation` to be throttled with DynamoDB's error, message and reason (and
  // the resource's ARN ending in `resource_suffix`).
  void ExpectThrottled(const std::string& operation, const std::string& body,
                       const std::string& reason, const std::string& message = kThrottledMessage,
                       const std::string& resource_suffix = "") {
    unsigned status = 0;
    rapidjson::Document d = Call(operation, body, &status);
    EXPECT_EQ(status, 400u);
    ASSERT_TRUE(d.HasMember("__type")) << operation;
    EXPECT_STREQ(d["__type"].GetString(),
                 "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException");
    EXPECT_EQ(std::string(d["message"].GetString()), message);
    ASSERT_TRUE(d.HasMember("ThrottlingReasons"));
    ASSERT_EQ(d["ThrottlingReasons"].Size(), 1u);
    EXPECT_EQ(std::string(d["ThrottlingReasons"][0]["reason"].GetString()), reason);
    const std::string resource = d["ThrottlingReasons"][0]["resource"].GetString();
    EXPECT_EQ(resource.rfind("arn:aws:dynamodb:us-test-1:", 0), 0u) << resource;
    EXPECT_TRUE(resource.ends_with(resource_suffix)) << resource;
  }

  size_t StreamRecordCount(const std::string& table) {
    rapidjson::Document t = Ok("DescribeTable", R"({"TableName":")" + table + "\"}");
    std::string arn = t["Table"]["LatestStreamArn"].GetString();
    rapidjson::Document s =
        Ok("DynamoDBStreams_20120810.DescribeStream", R"({"StreamArn":")" + arn + "\"}");
    size_t records = 0;
    for (const auto& shard : s["StreamDescription"]["Shards"].GetArray()) {
      rapidjson::Document it =
          Ok("DynamoDBStreams_20120810.GetShardIterator",
             R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard["ShardId"].GetString() +
                 R"(","ShardIteratorType":"TRIM_HORIZON"})");
      rapidjson::Document page =
          Ok("DynamoDBStreams_20120810.GetRecords",
             R"({"ShardIterator":")" + std::string(it["ShardIterator"].GetString()) + "\"}");
      records += page["Records"].Size();
    }
    return records;
  }

  // The value of one sample in the /metrics text, or -1 when absent.
  double Metric(const std::string& sample) {
    std::string text = client_->Get("/metrics").body;
    size_t at = text.find("\n" + sample + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + sample.size() + 2));
  }
};

TEST_F(ThrottlingTest, BurstThenThrottleWithNothingApplied) {
  CreateProvisioned("Orders", 5, 5);
  for (int i = 0; i < 5; ++i) Ok("PutItem", PutBody("Orders", "k" + std::to_string(i)));
  ExpectThrottled("PutItem", PutBody("Orders", "late"), "TableWriteProvisionedThroughputExceeded");
  // Not partially applied: no item, no stream record.
  rapidjson::Document got = Ok("GetItem", KeyBody("Orders", "late"));
  EXPECT_FALSE(got.HasMember("Item"));
  EXPECT_EQ(StreamRecordCount("Orders"), 5u);
  ExpectThrottled("DeleteItem", KeyBody("Orders", "k0"), "TableWriteProvisionedThroughputExceeded");
  ExpectThrottled("UpdateItem", KeyBody("Orders", "k0"), "TableWriteProvisionedThroughputExceeded");

  // A second of refill admits writes again.
  clock_.AdvanceSeconds(1);
  Ok("PutItem", PutBody("Orders", "late"));

  // Unused capacity accumulates for up to 300 seconds.
  clock_.AdvanceSeconds(1000);
  int admitted = 0;
  for (; admitted < 2000; ++admitted) {
    unsigned status = 0;
    // Distinct keys: the burst spreads over the shards (each takes 1,000 units a second).
    Call("PutItem", PutBody("Orders", "burst" + std::to_string(admitted)), &status);
    if (status != 200) break;
  }
  EXPECT_EQ(admitted, 1500);

  EXPECT_EQ(Metric(R"(tidewater_write_throttle_events_total{table="Orders"})"), 4);
  EXPECT_EQ(Metric(R"(tidewater_throttled_requests_total{table="Orders",operation="PutItem"})"), 2);
  EXPECT_EQ(Metric(R"(tidewater_consumed_write_capacity_units_total{table="Orders"})"),
            5 + 1 + 1500);
  EXPECT_EQ(Metric(R"(tidewater_provisioned_write_capacity_units{table="Orders"})"), 5);
}

TEST_F(ThrottlingTest, ReadsThrottleOnTheirOwnBucket) {
  CreateProvisioned("Orders", 1, 5);
  Ok("PutItem", PutBody("Orders", "a"));
  Ok("GetItem", KeyBody("Orders", "a"));  // 0.5 units (eventually consistent)
  Ok("GetItem", KeyBody("Orders", "a"));
  ExpectThrottled("GetItem", KeyBody("Orders", "a"), "TableReadProvisionedThroughputExceeded");
  ExpectThrottled("Query", R"({"TableName":"Orders","KeyConditionExpression":"pk = :p",
      "ExpressionAttributeValues":{":p":{"S":"a"}}})",
                  "TableReadProvisionedThroughputExceeded");
  ExpectThrottled("Scan", R"({"TableName":"Orders"})", "TableReadProvisionedThroughputExceeded");
  Ok("PutItem", PutBody("Orders", "b"));  // writes still have capacity
  EXPECT_EQ(Metric(R"(tidewater_read_throttle_events_total{table="Orders"})"), 3);
  EXPECT_EQ(Metric(R"(tidewater_consumed_read_capacity_units_total{table="Orders"})"), 1);
}

TEST_F(ThrottlingTest, ConditionFailuresConsumeWriteUnits) {
  CreateProvisioned("Orders", 5, 5);
  Ok("PutItem", PutBody("Orders", "a"));
  const std::string conditional = R"j({"TableName":"Orders","Item":{"pk":{"S":"a"}},
      "ConditionExpression":"attribute_not_exists(pk)"})j";
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(ErrorType("PutItem", conditional), "ConditionalCheckFailedException");
  }
  ExpectThrottled("PutItem", PutBody("Orders", "b"), "TableWriteProvisionedThroughputExceeded");
}

TEST_F(ThrottlingTest, BatchWriteReturnsRefusedItemsAsUnprocessed) {
  CreateProvisioned("Orders", 5, 5);
  std::string requests;
  for (int i = 0; i < 8; ++i) {
    if (i > 0) requests += ",";
    requests += R"({"PutRequest":{"Item":{"pk":{"S":"b)" + std::to_string(i) + R"("}}}})";
  }
  rapidjson::Document d = Ok("BatchWriteItem", R"({"RequestItems":{"Orders":[)" + requests + "]}}");
  ASSERT_TRUE(d["UnprocessedItems"].HasMember("Orders"));
  const auto& unprocessed = d["UnprocessedItems"]["Orders"];
  ASSERT_EQ(unprocessed.Size(), 3u);
  EXPECT_STREQ(unprocessed[0]["PutRequest"]["Item"]["pk"]["S"].GetString(), "b5");
  EXPECT_STREQ(unprocessed[2]["PutRequest"]["Item"]["pk"]["S"].GetString(), "b7");
  EXPECT_FALSE(Ok("GetItem", KeyBody("Orders", "b5")).HasMember("Item"));
  EXPECT_TRUE(Ok("GetItem", KeyBody("Orders", "b4")).HasMember("Item"));

  // Nothing could be written: the whole call fails.
  ExpectThrottled("BatchWriteItem", R"({"RequestItems":{"Orders":[)" + requests + "]}}",
                  "TableWriteProvisionedThroughputExceeded");
  EXPECT_EQ(
      Metric(R"(tidewater_throttled_requests_total{table="Orders",operation="BatchWriteItem"})"),
      2);
}

TEST_F(ThrottlingTest, BatchGetReturnsRefusedKeysAsUnprocessed) {
  CreateProvisioned("Orders", 1, 5);
  for (int i = 0; i < 4; ++i) Ok("PutItem", PutBody("Orders", "g" + std::to_string(i)));
  std::string keys;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) keys += ",";
    keys += R"({"pk":{"S":"g)" + std::to_string(i) + R"("}})";
  }
  const std::string body =
      R"({"RequestItems":{"Orders":{"ConsistentRead":true,"Keys":[)" + keys + "]}}}";
  rapidjson::Document d = Ok("BatchGetItem", body);
  EXPECT_EQ(d["Responses"]["Orders"].Size(), 1u);
  ASSERT_TRUE(d["UnprocessedKeys"].HasMember("Orders"));
  EXPECT_EQ(d["UnprocessedKeys"]["Orders"]["Keys"].Size(), 3u);
  EXPECT_TRUE(d["UnprocessedKeys"]["Orders"]["ConsistentRead"].GetBool());
  ExpectThrottled("BatchGetItem", body, "TableReadProvisionedThroughputExceeded");
}

TEST_F(ThrottlingTest, TransactionsAreCanceledBeforeAnythingRuns) {
  CreateProvisioned("Orders", 5, 5);
  // Transactional writes cost double: two single-unit puts spend 4 of the 5 units.
  Ok("TransactWriteItems", R"({"TransactItems":[
      {"Put":{"TableName":"Orders","Item":{"pk":{"S":"t1"}}}},
      {"Put":{"TableName":"Orders","Item":{"pk":{"S":"t2"}}}}]})");
  Ok("PutItem", PutBody("Orders", "p"));
  unsigned status = 0;
  rapidjson::Document d = Call("TransactWriteItems", R"({"TransactItems":[
      {"Put":{"TableName":"Orders","Item":{"pk":{"S":"t3"}}}}]})",
                               &status);
  EXPECT_EQ(status, 400u);
  EXPECT_STREQ(d["__type"].GetString(),
               "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
  EXPECT_STREQ(d["CancellationReasons"][0]["Code"].GetString(), "ProvisionedThroughputExceeded");
  EXPECT_FALSE(Ok("GetItem", KeyBody("Orders", "t3")).HasMember("Item"));
}

TEST_F(ThrottlingTest, RaisingTheThroughputLiftsThrottlingAtOnce) {
  CreateProvisioned("Orders", 5, 5);
  for (int i = 0; i < 5; ++i) Ok("PutItem", PutBody("Orders", "k" + std::to_string(i)));
  ExpectThrottled("PutItem", PutBody("Orders", "x"), "TableWriteProvisionedThroughputExceeded");
  Ok("UpdateTable", R"({"TableName":"Orders",
      "ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":100}})");
  clock_.AdvanceMicros(100'000);  // a tenth of a second: 10 units at the new rate
  for (int i = 0; i < 10; ++i) Ok("PutItem", PutBody("Orders", "n" + std::to_string(i)));
  ExpectThrottled("PutItem", PutBody("Orders", "x"), "TableWriteProvisionedThroughputExceeded");
  EXPECT_EQ(Metric(R"(tidewater_provisioned_write_capacity_units{table="Orders"})"), 100);

  // PAY_PER_REQUEST is not throttled by provisioned throughput.
  Ok("UpdateTable", R"({"TableName":"Orders","BillingMode":"PAY_PER_REQUEST"})");
  for (int i = 0; i < 20; ++i) Ok("PutItem", PutBody("Orders", "o" + std::to_string(i)));
  EXPECT_EQ(Metric(R"(tidewater_provisioned_write_capacity_units{table="Orders"})"), 0);
}

// A global secondary index has capacity of its own (DynamoDB: "the table and all of its
// global secondary indexes must have enough write capacity"): its entry writes drain its
// write bucket, a write the index cannot take is refused whole, Query of the index draws on
// the index's read bucket only, and UpdateTable's GSI update resizes the index's buckets.
TEST_F(ThrottlingTest, GlobalIndexesHaveCapacityOfTheirOwn) {
  Ok("CreateTable", R"({"TableName":"Orders",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
                              {"AttributeName":"customer","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "BillingMode":"PROVISIONED",
      "ProvisionedThroughput":{"ReadCapacityUnits":50,"WriteCapacityUnits":50},
      "GlobalSecondaryIndexes":[{"IndexName":"ByCustomer",
        "KeySchema":[{"AttributeName":"customer","KeyType":"HASH"}],
        "Projection":{"ProjectionType":"ALL"},
        "ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":3}}],
      "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}})");
  const auto put = [](const std::string& pk) {
    return R"({"TableName":"Orders","Item":{"pk":{"S":")" + pk + R"("},"customer":{"S":"c1"}}})";
  };
  for (int i = 0; i < 3; ++i) Ok("PutItem", put("k" + std::to_string(i)));
  const std::string index_message(kIndexThroughputExceededMessage);
  ExpectThrottled("PutItem", put("late"), "IndexWriteProvisionedThroughputExceeded", index_message,
                  ":table/Orders/index/ByCustomer");
  // Every write needs the index's capacity, even one that writes no entry.
  ExpectThrottled("PutItem", PutBody("Orders", "no-customer"),
                  "IndexWriteProvisionedThroughputExceeded", index_message,
                  ":table/Orders/index/ByCustomer");
  EXPECT_FALSE(Ok("GetItem", KeyBody("Orders", "late")).HasMember("Item"));
  EXPECT_EQ(StreamRecordCount("Orders"), 3u);

  // Reads of the index draw on its own read bucket (1 unit: two eventually consistent
  // reads of a small page), not on the table's.
  const std::string query = R"({"TableName":"Orders","IndexName":"ByCustomer",
      "KeyConditionExpression":"customer = :c","ExpressionAttributeValues":{":c":{"S":"c1"}}})";
  Ok("Query", query);
  Ok("Query", query);
  ExpectThrottled("Query", query, "IndexReadProvisionedThroughputExceeded", kThrottledMessage,
                  ":table/Orders/index/ByCustomer");
  ExpectThrottled("Scan", R"({"TableName":"Orders","IndexName":"ByCustomer"})",
                  "IndexReadProvisionedThroughputExceeded", kThrottledMessage,
                  ":table/Orders/index/ByCustomer");
  Ok("GetItem", KeyBody("Orders", "k0"));

  // CloudWatch's per-index series; the table's own exclude the index's units.
  const std::string index_labels = R"({table="Orders",global_secondary_index="ByCustomer"})";
  EXPECT_EQ(Metric("tidewater_consumed_write_capacity_units_total" + index_labels), 3);
  EXPECT_EQ(Metric(R"(tidewater_consumed_write_capacity_units_total{table="Orders"})"), 3);
  EXPECT_EQ(Metric("tidewater_consumed_read_capacity_units_total" + index_labels), 1);
  // Two eventually consistent GetItems.
  EXPECT_EQ(Metric(R"(tidewater_consumed_read_capacity_units_total{table="Orders"})"), 1);
  EXPECT_EQ(Metric("tidewater_write_throttle_events_total" + index_labels), 2);
  EXPECT_EQ(Metric(R"(tidewater_write_throttle_events_total{table="Orders"})"), 0);
  EXPECT_EQ(Metric("tidewater_read_throttle_events_total" + index_labels), 2);
  EXPECT_EQ(Metric("tidewater_provisioned_write_capacity_units" + index_labels), 3);
  EXPECT_EQ(Metric(R"(tidewater_throttled_requests_total{table="Orders",operation="PutItem"})"), 2);

  // Raising the index's throughput lifts its throttling at once.
  Ok("UpdateTable", R"({"TableName":"Orders","GlobalSecondaryIndexUpdates":[{"Update":{
      "IndexName":"ByCustomer",
      "ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":100}}}]})");
  clock_.AdvanceMicros(100'000);  // a tenth of a second: 10 units at the new rate
  Ok("PutItem", put("late"));
  EXPECT_EQ(Metric("tidewater_provisioned_write_capacity_units" + index_labels), 100);
}

TEST_F(ThrottlingTest, EveryTableHasItsSeriesFromTheStart) {
  CreateProvisioned("Idle", 3, 4);
  EXPECT_EQ(Metric(R"(tidewater_consumed_read_capacity_units_total{table="Idle"})"), 0);
  EXPECT_EQ(Metric(R"(tidewater_provisioned_read_capacity_units{table="Idle"})"), 3);
  EXPECT_EQ(Metric(R"(tidewater_write_throttle_events_total{table="Idle"})"), 0);
  EXPECT_EQ(Metric(R"(tidewater_throttled_requests_total{table="Idle",operation="Scan"})"), 0);
}

class ThrottlingOffTest : public ThrottlingTest {
 protected:
  void Customize(ServerOptions& options) override { options.throttling = false; }
};

TEST_F(ThrottlingOffTest, ServesAnyLoadAndStillCountsUnits) {
  CreateProvisioned("Orders", 5, 5);
  for (int i = 0; i < 20; ++i) Ok("PutItem", PutBody("Orders", "k" + std::to_string(i)));
  EXPECT_EQ(Metric(R"(tidewater_consumed_write_capacity_units_total{table="Orders"})"), 20);
}

}  // namespace
}  // namespace tidewater::server::testing
