// Limits beyond provisioned throughput, over HTTP with time driven by the fixture's
// ManualClock: OnDemandThroughput maximums of a PAY_PER_REQUEST table (CreateTable,
// UpdateTable, DescribeTable, validation, TableWriteMaxOnDemandThroughputExceeded), and the
// per-shard limits of every table (1,000 write / 3,000 read units per second per shard,
// TableWrite/ReadKeyRangeThroughputExceeded), which follow the shards after a split. A
// throttled request changes nothing; batches return refused items as Unprocessed.
#include <gtest/gtest.h>

#include <string>

#include "test_server.h"
#include "tidewater/streams/resource_names.h"

namespace tidewater::server::testing {
namespace {

constexpr const char* kKeyRangeMessage =
    "Throughput exceeds the current capacity of your table or index. DynamoDB is "
    "automatically scaling your table or index so please try again shortly. If exceptions "
    "persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html";

// 350,000 bytes of value: 342 write units per item (one per started KB of 350,006 bytes).
const std::string kLargeValue(350'000, 'x');

class OnDemandThrottlingTest : public ServerFixture {
 protected:
  void CreateOnDemand(const std::string& name, const std::string& on_demand = "") {
    Ok("CreateTable", R"({"TableName":")" + name + R"(",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
        "BillingMode":"PAY_PER_REQUEST")" +
                          (on_demand.empty() ? "" : R"(,"OnDemandThroughput":)" + on_demand) + "}");
  }

  std::string PutBody(const std::string& table, const std::string& pk,
                      const std::string& value = "v") {
    return R"({"TableName":")" + table + R"(","Item":{"pk":{"S":")" + pk + R"("},"v":{"S":")" +
           value + R"("}}})";
  }

  std::string KeyBody(const std::string& table, const std::string& pk) {
    return R"({"TableName":")" + table + R"(","Key":{"pk":{"S":")" + pk + R"("}}})";
  }

  // Expects `operation` to be throttled for `reason` with `message`.
  void ExpectThrottled(const std::string& operation, const std::string& body,
                       const std::string& reason, const std::string& message) {
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
  }

  // The OnDemandThroughput DescribeTable shows, as "read/write".
  std::string DescribedMaximums(const std::string& table) {
    rapidjson::Document d = Ok("DescribeTable", R"({"TableName":")" + table + "\"}");
    if (!d["Table"].HasMember("OnDemandThroughput")) return "none";
    const auto& on_demand = d["Table"]["OnDemandThroughput"];
    return std::to_string(on_demand["MaxReadRequestUnits"].GetInt64()) + "/" +
           std::to_string(on_demand["MaxWriteRequestUnits"].GetInt64());
  }

  // The stream ShardId of the shard `pk` routes to now.
  std::string ShardOf(const std::string& table, const std::string& pk) {
    auto shard = engine_->ShardForKey(table, Item{{"pk", AttributeValue::S(pk)}});
    EXPECT_TRUE(shard.ok()) << shard.status().ToString();
    auto description = engine_->DescribeTable(table);
    EXPECT_TRUE(description.ok());
    return streams::ShardId(description->creation_time_micros, *shard);
  }
};

TEST_F(OnDemandThrottlingTest, OnDemandThroughputIsShownUpdatedAndKeptAcrossModes) {
  CreateOnDemand("Capped", R"({"MaxReadRequestUnits":100})");
  EXPECT_EQ(DescribedMaximums("Capped"), "100/-1");
  Ok("UpdateTable", R"({"TableName":"Capped","OnDemandThroughput":{"MaxWriteRequestUnits":7}})");
  EXPECT_EQ(DescribedMaximums("Capped"), "100/7");
  Ok("UpdateTable", R"({"TableName":"Capped","OnDemandThroughput":{"MaxReadRequestUnits":-1}})");
  EXPECT_EQ(DescribedMaximums("Capped"), "-1/7");
  // PROVISIONED tables have no OnDemandThroughput; a switch drops the maximums.
  Ok("UpdateTable", R"({"TableName":"Capped","BillingMode":"PROVISIONED",
      "ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}})");
  EXPECT_EQ(DescribedMaximums("Capped"), "none");
  Ok("UpdateTable", R"({"TableName":"Capped","BillingMode":"PAY_PER_REQUEST"})");
  EXPECT_EQ(DescribedMaximums("Capped"), "-1/-1");
  CreateOnDemand("Plain");
  EXPECT_EQ(DescribedMaximums("Plain"), "-1/-1");
}

TEST_F(OnDemandThrottlingTest, InvalidOnDemandThroughputIsRefused) {
  const std::string create = R"({"TableName":"Bad",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)";
  std::string message;
  EXPECT_EQ(ErrorType("CreateTable", create + R"("BillingMode":"PAY_PER_REQUEST",
      "OnDemandThroughput":{"MaxReadRequestUnits":0}})",
                      &message),
            "ValidationException");
  EXPECT_NE(message.find("MaxReadRequestUnits"), std::string::npos) << message;
  EXPECT_EQ(ErrorType("CreateTable", create + R"("BillingMode":"PAY_PER_REQUEST",
      "OnDemandThroughput":{"MaxWriteRequestUnits":-2}})"),
            "ValidationException");
  EXPECT_EQ(ErrorType("CreateTable", create + R"("BillingMode":"PAY_PER_REQUEST",
      "OnDemandThroughput":{}})"),
            "ValidationException");
  EXPECT_EQ(ErrorType("CreateTable", create + R"("BillingMode":"PROVISIONED",
      "ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1},
      "OnDemandThroughput":{"MaxWriteRequestUnits":5}})"),
            "ValidationException");
  EXPECT_EQ(ErrorType("DescribeTable", R"({"TableName":"Bad"})"), "ResourceNotFoundException");
}

TEST_F(OnDemandThrottlingTest, MaxWriteRequestUnitsThrottlesWritesOnly) {
  CreateOnDemand("Capped", R"({"MaxWriteRequestUnits":5})");
  for (int i = 0; i < 5; ++i) Ok("PutItem", PutBody("Capped", "k" + std::to_string(i)));
  ExpectThrottled("PutItem", PutBody("Capped", "late"), "TableWriteMaxOnDemandThroughputExceeded",
                  "Throughput exceeds the maximum OnDemandThroughput configured on table or index");
  for (int i = 0; i < 20; ++i) Ok("GetItem", KeyBody("Capped", "k0"));  // reads: no maximum
  EXPECT_FALSE(Ok("GetItem", KeyBody("Capped", "late")).HasMember("Item"));
  clock_.AdvanceSeconds(1);
  Ok("PutItem", PutBody("Capped", "late"));
  // Removing the maximum lifts it at once.
  Ok("UpdateTable", R"({"TableName":"Capped","OnDemandThroughput":{"MaxWriteRequestUnits":-1}})");
  for (int i = 0; i < 50; ++i) Ok("PutItem", PutBody("Capped", "n" + std::to_string(i)));
}

TEST_F(OnDemandThrottlingTest, BatchWriteAboveTheMaximumLeavesTheRestUnprocessed) {
  CreateOnDemand("Capped", R"({"MaxWriteRequestUnits":3})");
  std::string requests;
  for (int i = 0; i < 5; ++i) {
    if (i > 0) requests += ",";
    requests += R"({"PutRequest":{"Item":{"pk":{"S":"b)" + std::to_string(i) + R"("}}}})";
  }
  rapidjson::Document d = Ok("BatchWriteItem", R"({"RequestItems":{"Capped":[)" + requests + "]}}");
  ASSERT_TRUE(d["UnprocessedItems"].HasMember("Capped"));
  const auto& unprocessed = d["UnprocessedItems"]["Capped"];
  ASSERT_EQ(unprocessed.Size(), 2u);
  EXPECT_STREQ(unprocessed[0]["PutRequest"]["Item"]["pk"]["S"].GetString(), "b3");
  EXPECT_STREQ(unprocessed[1]["PutRequest"]["Item"]["pk"]["S"].GetString(), "b4");
  EXPECT_TRUE(Ok("GetItem", KeyBody("Capped", "b2")).HasMember("Item"));
  EXPECT_FALSE(Ok("GetItem", KeyBody("Capped", "b3")).HasMember("Item"));
  EXPECT_FALSE(Ok("GetItem", KeyBody("Capped", "b4")).HasMember("Item"));
  // Nothing could run: the call fails with the refusal.
  ExpectThrottled("BatchWriteItem", R"({"RequestItems":{"Capped":[)" + requests + "]}}",
                  "TableWriteMaxOnDemandThroughputExceeded",
                  "Throughput exceeds the maximum OnDemandThroughput configured on table or index");
}

TEST_F(OnDemandThrottlingTest, AHotShardIsThrottledWhileTheOthersServe) {
  CreateOnDemand("Hot");
  // 342 units each: the shard's 1,000 write units admit three, refuse the fourth.
  for (int i = 0; i < 3; ++i) Ok("PutItem", PutBody("Hot", "hot", kLargeValue));
  ExpectThrottled("PutItem", PutBody("Hot", "hot", "changed"),
                  "TableWriteKeyRangeThroughputExceeded", kKeyRangeMessage);
  // Reads share the shard's capacity (a read unit counts a third of a write unit).
  ExpectThrottled("GetItem", KeyBody("Hot", "hot"), "TableReadKeyRangeThroughputExceeded",
                  kKeyRangeMessage);
  // A key on another shard is served.
  std::string other;
  for (int i = 0; other.empty(); ++i) {
    if (ShardOf("Hot", "k" + std::to_string(i)) != ShardOf("Hot", "hot")) {
      other = "k" + std::to_string(i);
    }
  }
  Ok("PutItem", PutBody("Hot", other, kLargeValue));
  // The refused write changed nothing.
  clock_.AdvanceSeconds(1);
  rapidjson::Document got = Ok("GetItem", KeyBody("Hot", "hot"));
  EXPECT_EQ(std::string(got["Item"]["v"]["S"].GetString()).size(), kLargeValue.size());
}

TEST_F(OnDemandThrottlingTest, ReadsOfOneShardStopAtThreeThousandUnits) {
  CreateOnDemand("Hot");
  Ok("PutItem", PutBody("Hot", "hot", kLargeValue));
  clock_.AdvanceSeconds(1);
  // A strongly consistent read of 350,006 bytes: 86 read units; 3,000 admit 35.
  const std::string read = R"({"TableName":"Hot","ConsistentRead":true,"Key":{"pk":{"S":"hot"}}})";
  int admitted = 0;
  for (; admitted < 100; ++admitted) {
    unsigned status = 0;
    Call("GetItem", read, &status);
    if (status != 200) break;
  }
  EXPECT_EQ(admitted, 35);
  ExpectThrottled("Query", R"({"TableName":"Hot","KeyConditionExpression":"pk = :p",
      "ExpressionAttributeValues":{":p":{"S":"hot"}}})",
                  "TableReadKeyRangeThroughputExceeded", kKeyRangeMessage);
}

TEST_F(OnDemandThrottlingTest, ProvisionedTablesHaveShardLimitsToo) {
  Ok("CreateTable", R"({"TableName":"Big",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "BillingMode":"PROVISIONED",
      "ProvisionedThroughput":{"ReadCapacityUnits":10000,"WriteCapacityUnits":10000}})");
  for (int i = 0; i < 3; ++i) Ok("PutItem", PutBody("Big", "hot", kLargeValue));
  ExpectThrottled("PutItem", PutBody("Big", "hot"), "TableWriteKeyRangeThroughputExceeded",
                  kKeyRangeMessage);
}

TEST_F(OnDemandThrottlingTest, AfterASplitEachNewShardHasItsOwnCapacity) {
  CreateOnDemand("Hot");
  for (int i = 0; i < 3; ++i) Ok("PutItem", PutBody("Hot", "hot", kLargeValue));
  ExpectThrottled("PutItem", PutBody("Hot", "hot"), "TableWriteKeyRangeThroughputExceeded",
                  kKeyRangeMessage);
  const std::string parent = ShardOf("Hot", "hot");
  Ok("TidewaterAdmin_20261205.SplitShard", R"({"TableName":"Hot","ShardId":")" + parent + "\"}");
  ASSERT_NE(ShardOf("Hot", "hot"), parent);
  // The key's new shard has a full second of capacity of its own, at once.
  for (int i = 0; i < 3; ++i) Ok("PutItem", PutBody("Hot", "hot", kLargeValue));
  ExpectThrottled("PutItem", PutBody("Hot", "hot"), "TableWriteKeyRangeThroughputExceeded",
                  kKeyRangeMessage);
  clock_.AdvanceSeconds(1);
  Ok("PutItem", PutBody("Hot", "hot"));
}

}  // namespace
}  // namespace tidewater::server::testing
