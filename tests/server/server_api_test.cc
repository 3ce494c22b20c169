// The DynamoDB and DynamoDB Streams operations end to end over HTTP, against an engine
// driven by a ManualClock.
#include "test_server.h"

namespace tidewater::server::testing {
namespace {

constexpr int64_t kMinute = 60LL * 1'000'000;

std::string Str(const rapidjson::Value& value) { return value.GetString(); }

class ServerApiTest : public ServerFixture {
 protected:
  void CreateTable(const std::string& name, const std::string& view = "NEW_AND_OLD_IMAGES") {
    Ok("CreateTable", R"({"TableName":")" + name + R"(",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
                                {"AttributeName":"sk","AttributeType":"N"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
        "BillingMode":"PAY_PER_REQUEST",
        "StreamSpecification":{"StreamEnabled":true,"StreamViewType":")" +
                          view + R"("}})");
  }

  void Put(const std::string& table, const std::string& pk, int sk, const std::string& extra = "") {
    Ok("PutItem", R"({"TableName":")" + table + R"(","Item":{"pk":{"S":")" + pk +
                      R"("},"sk":{"N":")" + std::to_string(sk) + "\"}" + extra + "}}");
  }

  std::string StreamArnOf(const std::string& table) {
    rapidjson::Document d = Ok("DescribeTable", R"({"TableName":")" + table + "\"}");
    return Str(d["Table"]["LatestStreamArn"]);
  }

  std::vector<std::string> ShardIds(const std::string& arn) {
    rapidjson::Document d =
        Ok("DynamoDBStreams_20120810.DescribeStream", R"({"StreamArn":")" + arn + "\"}");
    std::vector<std::string> ids;
    for (const auto& shard : d["StreamDescription"]["Shards"].GetArray()) {
      ids.push_back(Str(shard["ShardId"]));
    }
    return ids;
  }

  std::string Iterator(const std::string& arn, const std::string& shard, const std::string& type,
                       const std::string& sequence = "") {
    std::string body = R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard +
                       R"(","ShardIteratorType":")" + type + "\"";
    if (!sequence.empty()) body += R"(,"SequenceNumber":")" + sequence + "\"";
    rapidjson::Document d = Ok("DynamoDBStreams_20120810.GetShardIterator", body + "}");
    return d.HasMember("ShardIterator") ? Str(d["ShardIterator"]) : "";
  }

  // Every record of every shard of the stream, shard by shard, read until caught up.
  std::vector<rapidjson::Document> ReadAll(const std::string& arn) {
    std::vector<rapidjson::Document> pages;
    for (const std::string& shard : ShardIds(arn)) {
      std::string iterator = Iterator(arn, shard, "TRIM_HORIZON");
      while (true) {
        rapidjson::Document page = Ok("DynamoDBStreams_20120810.GetRecords",
                                      R"({"ShardIterator":")" + iterator + R"(","Limit":2})");
        const bool empty = page["Records"].Empty();
        std::string next =
            page.HasMember("NextShardIterator") ? Str(page["NextShardIterator"]) : "";
        pages.push_back(std::move(page));
        if (empty || next.empty()) break;
        iterator = next;
      }
    }
    return pages;
  }
};

TEST_F(ServerApiTest, ItemLifecycleWithReturnValues) {
  CreateTable("Items");
  Put("Items", "a", 1, R"(,"n":{"N":"5"},"tag":{"S":"x"})");
  rapidjson::Document got =
      Ok("GetItem", R"({"TableName":"Items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},
                        "ProjectionExpression":"#n","ExpressionAttributeNames":{"#n":"n"}})");
  EXPECT_EQ(Str(got["Item"]["n"]["N"]), "5");
  EXPECT_FALSE(got["Item"].HasMember("tag"));

  rapidjson::Document updated = Ok("UpdateItem", R"({"TableName":"Items",
      "Key":{"pk":{"S":"a"},"sk":{"N":"1"}},
      "UpdateExpression":"SET n = n + :d REMOVE tag","ExpressionAttributeValues":{":d":{"N":"2"}},
      "ReturnValues":"UPDATED_OLD"})");
  EXPECT_EQ(Str(updated["Attributes"]["n"]["N"]), "5");
  EXPECT_EQ(Str(updated["Attributes"]["tag"]["S"]), "x");
  EXPECT_FALSE(updated["Attributes"].HasMember("pk"));

  rapidjson::Document all_new = Ok("UpdateItem", R"({"TableName":"Items",
      "Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"ADD n :d",
      "ExpressionAttributeValues":{":d":{"N":"1"}},"ReturnValues":"ALL_NEW"})");
  EXPECT_EQ(Str(all_new["Attributes"]["n"]["N"]), "8");
  EXPECT_EQ(Str(all_new["Attributes"]["pk"]["S"]), "a");

  rapidjson::Document deleted = Ok("DeleteItem", R"({"TableName":"Items",
      "Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ReturnValues":"ALL_OLD",
      "ReturnConsumedCapacity":"TOTAL"})");
  EXPECT_EQ(Str(deleted["Attributes"]["n"]["N"]), "8");
  EXPECT_EQ(deleted["ConsumedCapacity"]["WriteCapacityUnits"].GetDouble(), 1.0);
  rapidjson::Document gone =
      Ok("GetItem", R"({"TableName":"Items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}}})");
  EXPECT_FALSE(gone.HasMember("Item"));

  std::string message;
  EXPECT_EQ(ErrorType("PutItem", R"({"TableName":"Items","Item":{"pk":{"S":"a"},"sk":{"N":"1"}},
                                     "ReturnValues":"ALL_NEW"})",
                      &message),
            "ValidationException");
  EXPECT_EQ(message, "ReturnValues can only be ALL_OLD or NONE");
}

TEST_F(ServerApiTest, FailedConditionReturnsTheOldItemWhenAsked) {
  CreateTable("Cond");
  Put("Cond", "a", 1, R"(,"v":{"S":"old"})");
  unsigned status = 0;
  rapidjson::Document error = Call("PutItem", R"json({"TableName":"Cond",
      "Item":{"pk":{"S":"a"},"sk":{"N":"1"}},"ConditionExpression":"attribute_not_exists(pk)",
      "ReturnValuesOnConditionCheckFailure":"ALL_OLD"})json",
                                   &status);
  EXPECT_EQ(status, 400u);
  EXPECT_EQ(Str(error["__type"]),
            "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException");
  EXPECT_EQ(Str(error["Item"]["v"]["S"]), "old");
  // The failed write changed nothing.
  rapidjson::Document got =
      Ok("GetItem", R"({"TableName":"Cond","Key":{"pk":{"S":"a"},"sk":{"N":"1"}}})");
  EXPECT_EQ(Str(got["Item"]["v"]["S"]), "old");
}

TEST_F(ServerApiTest, QueryPagesCountsAndFilters) {
  CreateTable("Qry");
  for (int i = 1; i <= 10; ++i)
    Put("Qry", "p", i, R"(,"even":{"BOOL":)" + std::string(i % 2 ? "false" : "true") + "}");
  Put("Qry", "other", 1);
  std::string query = R"({"TableName":"Qry","KeyConditionExpression":"pk = :p AND sk > :s",
      "ExpressionAttributeValues":{":p":{"S":"p"},":s":{"N":"2"},":t":{"BOOL":true}},
      "FilterExpression":"even = :t","Limit":4)";
  rapidjson::Document first = Ok("Query", query + "}");
  EXPECT_EQ(first["ScannedCount"].GetInt(), 4);  // 3, 4, 5, 6
  EXPECT_EQ(first["Count"].GetInt(), 2);         // 4, 6
  ASSERT_TRUE(first.HasMember("LastEvaluatedKey"));
  EXPECT_EQ(Str(first["LastEvaluatedKey"]["sk"]["N"]), "6");
  rapidjson::Document second =
      Ok("Query", query + R"(,"ExclusiveStartKey":{"pk":{"S":"p"},"sk":{"N":"6"}}})");
  EXPECT_EQ(Str(second["Items"][0]["sk"]["N"]), "8");

  rapidjson::Document backwards =
      Ok("Query", R"({"TableName":"Qry","KeyConditionExpression":"pk = :p",
      "ExpressionAttributeValues":{":p":{"S":"p"}},"ScanIndexForward":false,"Limit":1})");
  EXPECT_EQ(Str(backwards["Items"][0]["sk"]["N"]), "10");

  rapidjson::Document count = Ok("Query", R"({"TableName":"Qry","KeyConditionExpression":"pk = :p",
      "ExpressionAttributeValues":{":p":{"S":"p"}},"Select":"COUNT"})");
  EXPECT_EQ(count["Count"].GetInt(), 10);
  EXPECT_FALSE(count.HasMember("Items"));

  rapidjson::Document scan = Ok("Scan", R"({"TableName":"Qry","Select":"COUNT"})");
  EXPECT_EQ(scan["Count"].GetInt(), 11);
  int segmented = 0;
  for (int s = 0; s < 3; ++s) {
    segmented += Ok("Scan", R"({"TableName":"Qry","Segment":)" + std::to_string(s) +
                                R"(,"TotalSegments":3})")["Count"]
                     .GetInt();
  }
  EXPECT_EQ(segmented, 11);
  EXPECT_EQ(ErrorType("Query", R"({"TableName":"Qry"})"), "ValidationException");
  std::string message;
  EXPECT_EQ(ErrorType("Query", R"({"TableName":"Qry","KeyConditionExpression":"pk = :p",
      "FilterExpression":"sk > :s","ExpressionAttributeValues":{":p":{"S":"p"},":s":{"N":"2"}}})",
                      &message),
            "ValidationException");
  EXPECT_EQ(message,
            "Filter Expression can only contain non-primary key attributes: Primary key "
            "attribute: sk");
  EXPECT_EQ(ErrorType("Scan", R"({"TableName":"Qry","Segment":1})"), "ValidationException");
}

TEST_F(ServerApiTest, TransactionCancellationNamesEachAction) {
  CreateTable("Txn");
  Put("Txn", "a", 1, R"(,"n":{"N":"1"})");
  unsigned status = 0;
  rapidjson::Document error = Call("TransactWriteItems", R"({"TransactItems":[
      {"Put":{"TableName":"Txn","Item":{"pk":{"S":"b"},"sk":{"N":"1"}}}},
      {"ConditionCheck":{"TableName":"Txn","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},
        "ConditionExpression":"n > :z","ExpressionAttributeValues":{":z":{"N":"5"}},
        "ReturnValuesOnConditionCheckFailure":"ALL_OLD"}}]})",
                                   &status);
  EXPECT_EQ(status, 400u);
  EXPECT_EQ(Str(error["__type"]), "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
  ASSERT_EQ(error["CancellationReasons"].Size(), 2u);
  EXPECT_EQ(Str(error["CancellationReasons"][0]["Code"]), "None");
  EXPECT_EQ(Str(error["CancellationReasons"][1]["Code"]), "ConditionalCheckFailed");
  EXPECT_EQ(Str(error["CancellationReasons"][1]["Item"]["n"]["N"]), "1");
  rapidjson::Document absent =
      Ok("GetItem", R"({"TableName":"Txn","Key":{"pk":{"S":"b"},"sk":{"N":"1"}}})");
  EXPECT_FALSE(absent.HasMember("Item")) << "a canceled transaction writes nothing";
}

TEST_F(ServerApiTest, TransactionTokenReplaysWithoutWritingTwice) {
  CreateTable("Idem");
  const std::string request = R"({"ClientRequestToken":"token-1","TransactItems":[
      {"Update":{"TableName":"Idem","Key":{"pk":{"S":"c"},"sk":{"N":"1"}},
        "UpdateExpression":"ADD n :one","ExpressionAttributeValues":{":one":{"N":"1"}}}}]})";
  Ok("TransactWriteItems", request);
  Ok("TransactWriteItems", request);
  rapidjson::Document got =
      Ok("GetItem", R"({"TableName":"Idem","Key":{"pk":{"S":"c"},"sk":{"N":"1"}}})");
  EXPECT_EQ(Str(got["Item"]["n"]["N"]), "1");
  EXPECT_EQ(ErrorType("TransactWriteItems", R"({"ClientRequestToken":"token-1","TransactItems":[
      {"Put":{"TableName":"Idem","Item":{"pk":{"S":"d"},"sk":{"N":"1"}}}}]})"),
            "IdempotentParameterMismatchException");
  // Members the operation ignores still count, however deep they nest.
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string with_junk = request;
  with_junk.insert(1, R"("Junk":)" + deep + ",");
  EXPECT_EQ(ErrorType("TransactWriteItems", with_junk), "IdempotentParameterMismatchException");
  clock_.AdvanceMicros(11 * kMinute);
  Ok("TransactWriteItems", request);
  got = Ok("GetItem", R"({"TableName":"Idem","Key":{"pk":{"S":"c"},"sk":{"N":"1"}}})");
  EXPECT_EQ(Str(got["Item"]["n"]["N"]), "2") << "after 10 minutes the token is new again";
}

TEST_F(ServerApiTest, StreamRecordsInDynamoDbShape) {
  CreateTable("Strm");
  Ok("UpdateTimeToLive",
     R"({"TableName":"Strm","TimeToLiveSpecification":{"Enabled":true,"AttributeName":"exp"}})");
  Put("Strm", "a", 1, R"(,"v":{"S":"one"})");
  Put("Strm", "a", 1,
      R"(,"v":{"S":"two"},"exp":{"N":")" + std::to_string(clock_.NowSeconds() - 1) + "\"}");
  ASSERT_EQ(*engine_->RunTtlSweep(), 1u);

  std::vector<std::string> events;
  std::vector<std::string> sequences;
  bool ttl_identity = false;
  for (const rapidjson::Document& page : ReadAll(StreamArnOf("Strm"))) {
    for (const auto& record : page["Records"].GetArray()) {
      events.push_back(Str(record["eventName"]));
      sequences.push_back(Str(record["dynamodb"]["SequenceNumber"]));
      EXPECT_EQ(Str(record["eventSource"]), "aws:dynamodb");
      EXPECT_EQ(Str(record["eventVersion"]), "1.1");
      EXPECT_EQ(Str(record["awsRegion"]), "us-test-1");
      EXPECT_EQ(Str(record["eventID"]).size(), 40u);
      EXPECT_EQ(Str(record["dynamodb"]["Keys"]["pk"]["S"]), "a");
      EXPECT_TRUE(record["dynamodb"]["ApproximateCreationDateTime"].IsInt64());
      EXPECT_EQ(record["dynamodb"]["ApproximateCreationDateTime"].GetInt64(), clock_.NowSeconds());
      EXPECT_EQ(Str(record["dynamodb"]["StreamViewType"]), "NEW_AND_OLD_IMAGES");
      if (Str(record["eventName"]) == "MODIFY") {
        EXPECT_EQ(Str(record["dynamodb"]["OldImage"]["v"]["S"]), "one");
        EXPECT_EQ(Str(record["dynamodb"]["NewImage"]["v"]["S"]), "two");
      }
      if (Str(record["eventName"]) == "REMOVE") {
        EXPECT_FALSE(record["dynamodb"].HasMember("NewImage"));
        ASSERT_TRUE(record.HasMember("userIdentity"));
        // The Streams API model's names (what boto3 and the JS SDK read).
        EXPECT_EQ(Str(record["userIdentity"]["Type"]), "Service");
        EXPECT_EQ(Str(record["userIdentity"]["PrincipalId"]), "dynamodb.amazonaws.com");
        EXPECT_FALSE(record["userIdentity"].HasMember("type"));
        ttl_identity = true;
      } else {
        EXPECT_FALSE(record.HasMember("userIdentity"));
      }
    }
  }
  EXPECT_EQ(events, (std::vector<std::string>{"INSERT", "MODIFY", "REMOVE"}));
  EXPECT_EQ(sequences, (std::vector<std::string>{"000000000000000000001", "000000000000000000002",
                                                 "000000000000000000003"}));
  EXPECT_TRUE(ttl_identity);
}

TEST_F(ServerApiTest, IteratorPositions) {
  CreateTable("Pos", "KEYS_ONLY");
  const std::string arn = StreamArnOf("Pos");
  // Find the shard of partition "a" by writing and looking.
  Put("Pos", "a", 1);
  std::string shard;
  for (const std::string& id : ShardIds(arn)) {
    rapidjson::Document page =
        Ok("DynamoDBStreams_20120810.GetRecords",
           R"({"ShardIterator":")" + Iterator(arn, id, "TRIM_HORIZON") + "\"}");
    if (!page["Records"].Empty()) shard = id;
  }
  ASSERT_FALSE(shard.empty());
  Put("Pos", "a", 2);
  Put("Pos", "a", 3);
  auto first_sk = [&](const std::string& iterator) {
    rapidjson::Document page =
        Ok("DynamoDBStreams_20120810.GetRecords", R"({"ShardIterator":")" + iterator + "\"}");
    if (page["Records"].Empty()) return std::string("none");
    EXPECT_FALSE(page["Records"][0]["dynamodb"].HasMember("NewImage"));  // KEYS_ONLY
    return Str(page["Records"][0]["dynamodb"]["Keys"]["sk"]["N"]);
  };
  EXPECT_EQ(first_sk(Iterator(arn, shard, "TRIM_HORIZON")), "1");
  EXPECT_EQ(first_sk(Iterator(arn, shard, "AT_SEQUENCE_NUMBER", "000000000000000000002")), "2");
  EXPECT_EQ(first_sk(Iterator(arn, shard, "AFTER_SEQUENCE_NUMBER", "000000000000000000002")), "3");
  std::string latest = Iterator(arn, shard, "LATEST");
  EXPECT_EQ(first_sk(latest), "none");
  Put("Pos", "a", 4);
  EXPECT_EQ(first_sk(latest), "4");

  std::string body =
      R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard +
      R"(","ShardIteratorType":"AT_SEQUENCE_NUMBER","SequenceNumber":"000000000000000000099"})";
  EXPECT_EQ(ErrorType("DynamoDBStreams_20120810.GetShardIterator", body), "ValidationException");
  EXPECT_EQ(ErrorType("DynamoDBStreams_20120810.GetShardIterator",
                      R"({"StreamArn":")" + arn +
                          R"(","ShardId":"shardId-00000000000000000001-00000000",)"
                          R"("ShardIteratorType":"LATEST"})"),
            "ResourceNotFoundException");
  EXPECT_EQ(
      ErrorType(
          "DynamoDBStreams_20120810.DescribeStream",
          R"({"StreamArn":"arn:aws:dynamodb:us-test-1:000000000000:table/Pos/stream/2000-01-01T00:00:00.000"})"),
      "ResourceNotFoundException");
}

// The AT_TIMESTAMP extension (Kinesis's request shape: Timestamp in epoch seconds).
TEST_F(ServerApiTest, AtTimestampIterators) {
  CreateTable("Times", "KEYS_ONLY");
  const std::string arn = StreamArnOf("Times");
  // The clock starts at 1700000000 s: record 1 at +0 s, 2 and 3 at +10 s, 4 at
  // +20.123456 s.
  Put("Times", "a", 1);
  std::string shard;
  for (const std::string& id : ShardIds(arn)) {
    rapidjson::Document page =
        Ok("DynamoDBStreams_20120810.GetRecords",
           R"({"ShardIterator":")" + Iterator(arn, id, "TRIM_HORIZON") + "\"}");
    if (!page["Records"].Empty()) shard = id;
  }
  ASSERT_FALSE(shard.empty());
  clock_.AdvanceMicros(10'000'000);
  Put("Times", "a", 2);
  Put("Times", "a", 3);
  clock_.AdvanceMicros(10'123'456);
  Put("Times", "a", 4);
  const std::string request_head =
      R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard + R"(","ShardIteratorType":)";
  auto at_time = [&](const std::string& timestamp) {
    rapidjson::Document d = Ok("DynamoDBStreams_20120810.GetShardIterator",
                               request_head + R"("AT_TIMESTAMP","Timestamp":)" + timestamp + "}");
    EXPECT_FALSE(d.HasMember("tidewater"));  // only with the extension header
    return Str(d["ShardIterator"]);
  };
  auto first_sk = [&](const std::string& iterator) {
    rapidjson::Document page =
        Ok("DynamoDBStreams_20120810.GetRecords", R"({"ShardIterator":")" + iterator + "\"}");
    if (page["Records"].Empty()) return std::string("none");
    return Str(page["Records"][0]["dynamodb"]["Keys"]["sk"]["N"]);
  };
  EXPECT_EQ(first_sk(at_time("1699999000")), "1");  // before every record
  EXPECT_EQ(first_sk(at_time("1700000000")), "1");
  EXPECT_EQ(first_sk(at_time("1700000000.000001")), "2");
  EXPECT_EQ(first_sk(at_time("1.70000001e9")), "2");  // equal times: the first of them
  EXPECT_EQ(first_sk(at_time("1700000010.5")), "4");
  EXPECT_EQ(first_sk(at_time("1700000020.123456")), "4");
  // After the newest record: LATEST now, whatever the later records' times.
  const std::string after = at_time("1700000020.123457");
  EXPECT_EQ(first_sk(after), "none");
  Put("Times", "a", 5);
  EXPECT_EQ(first_sk(after), "5");

  // With the extension header the answer tells where the iterator starts.
  using Start = std::pair<uint64_t, bool>;  // sequence, at the trim horizon
  auto extension = [&](const std::string& body) {
    TestResponse response =
        client_->Send({.headers = {{"Host", "localhost"},
                                   {"Content-Type", "application/x-amz-json-1.0"},
                                   {"X-Amz-Target", "DynamoDBStreams_20120810.GetShardIterator"},
                                   {"X-Tidewater-Record-Metadata", "1"}},
                       .body = body});
    EXPECT_EQ(response.status, 200u) << response.body;
    rapidjson::Document d = ParseJson(response.body);
    EXPECT_TRUE(d.HasMember("tidewater")) << response.body;
    if (!d.HasMember("tidewater")) return Start(0, false);
    return std::pair(d["tidewater"]["sequence"].GetUint64(),
                     d["tidewater"]["trimHorizon"].GetBool());
  };
  EXPECT_EQ(extension(request_head + R"("AT_TIMESTAMP","Timestamp":1700000005})"), Start(2, false));
  EXPECT_EQ(extension(request_head + R"("AT_TIMESTAMP","Timestamp":1})"), Start(1, true));
  EXPECT_EQ(extension(request_head + R"("AT_TIMESTAMP","Timestamp":1800000000})"), Start(6, false));
  EXPECT_EQ(extension(request_head + R"("LATEST"})"), Start(6, false));
  EXPECT_EQ(extension(request_head + R"("TRIM_HORIZON"})"), Start(1, true));

  // Validated like the other types.
  std::string message;
  EXPECT_EQ(ErrorType("DynamoDBStreams_20120810.GetShardIterator",
                      request_head + R"("AT_TIMESTAMP"})", &message),
            "ValidationException");
  EXPECT_EQ(message, "Missing required parameter Timestamp for ShardIteratorType AT_TIMESTAMP");
  EXPECT_EQ(ErrorType("DynamoDBStreams_20120810.GetShardIterator",
                      request_head + R"("LATEST","Timestamp":1700000000})", &message),
            "ValidationException");
  EXPECT_EQ(message, "Timestamp must not be given for ShardIteratorType LATEST");
  EXPECT_EQ(ErrorType("DynamoDBStreams_20120810.GetShardIterator",
                      request_head + R"("AT_SEQUENCE_NUMBER","SequenceNumber":)"
                                     R"("000000000000000000002","Timestamp":1700000000})"),
            "ValidationException");
  EXPECT_EQ(
      ErrorType("DynamoDBStreams_20120810.GetShardIterator",
                request_head +
                    R"("AT_TIMESTAMP","Timestamp":1,"SequenceNumber":"000000000000000000002"})",
                &message),
      "ValidationException");
  EXPECT_EQ(message, "SequenceNumber must not be given for ShardIteratorType AT_TIMESTAMP");
  EXPECT_EQ(ErrorType("DynamoDBStreams_20120810.GetShardIterator",
                      request_head + R"("AT_TIMESTAMP","Timestamp":"yesterday"})", &message),
            "SerializationException");
  EXPECT_EQ(ErrorType("DynamoDBStreams_20120810.GetShardIterator",
                      request_head + R"("AT_TIME","Timestamp":1})", &message),
            "ValidationException");
  EXPECT_NE(message.find("AT_TIMESTAMP"), std::string::npos) << message;
}

TEST_F(ServerApiTest, IteratorsExpireAfterFifteenMinutes) {
  CreateTable("Exp");
  const std::string arn = StreamArnOf("Exp");
  std::string iterator = Iterator(arn, ShardIds(arn)[0], "TRIM_HORIZON");
  clock_.AdvanceMicros(15 * kMinute + 1);
  EXPECT_EQ(
      ErrorType("DynamoDBStreams_20120810.GetRecords", R"({"ShardIterator":")" + iterator + "\"}"),
      "ExpiredIteratorException");
  EXPECT_EQ(ErrorType("DynamoDBStreams_20120810.GetRecords", R"({"ShardIterator":"forged"})"),
            "ValidationException");
}

class ShortRetentionTest : public ServerApiTest {
 protected:
  void CustomizeEngine(EngineOptions& options) override {
    options.stream_retention_micros = 10 * kMinute;
  }
};

TEST_F(ShortRetentionTest, ReadingTrimmedRecordsIsRefused) {
  CreateTable("Trim");
  const std::string arn = StreamArnOf("Trim");
  for (int i = 0; i < 20; ++i) Put("Trim", "k" + std::to_string(i), 1);
  // Iterators at the first record of every shard, taken before retention trims them.
  std::vector<std::string> shards = ShardIds(arn);
  std::vector<std::string> at_first;
  for (const std::string& shard : shards) {
    at_first.push_back(Iterator(arn, shard, "AT_SEQUENCE_NUMBER", "000000000000000000001"));
  }
  clock_.AdvanceMicros(11 * kMinute);  // past retention, iterators still fresh
  ASSERT_EQ(*engine_->TrimStreams(), 20u);
  for (const std::string& iterator : at_first) {
    EXPECT_EQ(ErrorType("DynamoDBStreams_20120810.GetRecords",
                        R"({"ShardIterator":")" + iterator + "\"}"),
              "TrimmedDataAccessException");
  }
  EXPECT_EQ(
      ErrorType(
          "DynamoDBStreams_20120810.GetShardIterator",
          R"({"StreamArn":")" + arn + R"(","ShardId":")" + shards[0] +
              R"(","ShardIteratorType":"AT_SEQUENCE_NUMBER","SequenceNumber":"000000000000000000001"})"),
      "TrimmedDataAccessException");
  // TRIM_HORIZON starts at whatever is retained: nothing, no error.
  rapidjson::Document page =
      Ok("DynamoDBStreams_20120810.GetRecords",
         R"({"ShardIterator":")" + Iterator(arn, shards[0], "TRIM_HORIZON") + "\"}");
  EXPECT_TRUE(page["Records"].Empty());
}

// AT_TIMESTAMP before the trim horizon is TRIM_HORIZON: it follows retention instead of
// failing on records trimmed after the iterator was taken.
TEST_F(ShortRetentionTest, AtTimestampBeforeTheTrimHorizonIsTrimHorizon) {
  CreateTable("TrimTs");
  const std::string arn = StreamArnOf("TrimTs");
  for (int i = 0; i < 20; ++i) Put("TrimTs", "k" + std::to_string(i), 1);
  std::vector<std::string> iterators;
  for (const std::string& shard : ShardIds(arn)) {
    rapidjson::Document d = Ok("DynamoDBStreams_20120810.GetShardIterator",
                               R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard +
                                   R"(","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1})");
    iterators.push_back(Str(d["ShardIterator"]));
  }
  clock_.AdvanceMicros(11 * kMinute);
  ASSERT_EQ(*engine_->TrimStreams(), 20u);
  for (int i = 0; i < 20; ++i) Put("TrimTs", "later" + std::to_string(i), 1);
  size_t records = 0;
  for (const std::string& iterator : iterators) {
    rapidjson::Document page =
        Ok("DynamoDBStreams_20120810.GetRecords", R"({"ShardIterator":")" + iterator + "\"}");
    for (const auto& record : page["Records"].GetArray()) {
      EXPECT_EQ(Str(record["dynamodb"]["Keys"]["pk"]["S"]).rfind("later", 0), 0u);
      ++records;
    }
  }
  EXPECT_EQ(records, 20u);
}

TEST_F(ShortRetentionTest, StartingSequenceNumberAfterTrimmingIsAValidPosition) {
  CreateTable("Start");
  const std::string arn = StreamArnOf("Start");
  for (int i = 0; i < 20; ++i) Put("Start", "k" + std::to_string(i), 1);
  clock_.AdvanceMicros(11 * kMinute);
  ASSERT_EQ(*engine_->TrimStreams(), 20u);
  // Every shard now starts after its trimmed records (none is retained): AT its
  // StartingSequenceNumber reads from the next record on.
  rapidjson::Document described =
      Ok("DynamoDBStreams_20120810.DescribeStream", R"({"StreamArn":")" + arn + "\"}");
  std::vector<std::string> iterators;
  size_t shards_past_one = 0;
  for (const auto& shard : described["StreamDescription"]["Shards"].GetArray()) {
    const std::string start = Str(shard["SequenceNumberRange"]["StartingSequenceNumber"]);
    if (start != "000000000000000000001") ++shards_past_one;
    iterators.push_back(Iterator(arn, Str(shard["ShardId"]), "AT_SEQUENCE_NUMBER", start));
  }
  EXPECT_GT(shards_past_one, 0u);
  for (int i = 0; i < 20; ++i) Put("Start", "later" + std::to_string(i), 1);
  size_t records = 0;
  for (const std::string& iterator : iterators) {
    rapidjson::Document page =
        Ok("DynamoDBStreams_20120810.GetRecords", R"({"ShardIterator":")" + iterator + "\"}");
    for (const auto& record : page["Records"].GetArray()) {
      EXPECT_EQ(Str(record["dynamodb"]["Keys"]["pk"]["S"]).rfind("later", 0), 0u);
      ++records;
    }
  }
  EXPECT_EQ(records, 20u);
}

TEST_F(ServerApiTest, DisabledStreamClosesItsShards) {
  CreateTable("Off");
  const std::string arn = StreamArnOf("Off");
  Put("Off", "a", 1);
  Ok("UpdateTable", R"({"TableName":"Off","StreamSpecification":{"StreamEnabled":false}})");
  rapidjson::Document described =
      Ok("DynamoDBStreams_20120810.DescribeStream", R"({"StreamArn":")" + arn + "\"}");
  EXPECT_EQ(Str(described["StreamDescription"]["StreamStatus"]), "DISABLED");
  // Every shard ends, also those the stream wrote nothing in.
  for (const auto& shard : described["StreamDescription"]["Shards"].GetArray()) {
    const auto& range = shard["SequenceNumberRange"];
    ASSERT_TRUE(range.HasMember("EndingSequenceNumber")) << Str(shard["ShardId"]);
    EXPECT_EQ(Str(range["EndingSequenceNumber"]).size(), 21u);
  }
  size_t records = 0;
  for (const rapidjson::Document& page : ReadAll(arn)) {
    records += page["Records"].Size();
    EXPECT_FALSE(page.HasMember("NextShardIterator")) << "closed shards end";
  }
  EXPECT_EQ(records, 1u);
  rapidjson::Document streams =
      Ok("DynamoDBStreams_20120810.ListStreams", R"({"TableName":"Off"})");
  EXPECT_EQ(streams["Streams"].Size(), 1u);
}

// A replaced stream and a deleted table's stream stay readable (DISABLED) for 24 hours by
// the engine's clock, listed beside the newer ones; then they answer ResourceNotFound.
// The table created again continues the sequence numbers.
TEST_F(ServerApiTest, StreamHistoryAcrossReenableAndDeleteForADay) {
  auto records_of = [&](const std::string& arn) {
    std::vector<std::string> sequences;
    for (const rapidjson::Document& page : ReadAll(arn)) {
      for (const auto& record : page["Records"].GetArray()) {
        sequences.push_back(Str(record["dynamodb"]["SequenceNumber"]));
      }
    }
    return sequences;
  };
  auto listed = [&](const std::string& body) {
    std::vector<std::string> arns;
    rapidjson::Document page = Ok("DynamoDBStreams_20120810.ListStreams", body);
    for (const auto& stream : page["Streams"].GetArray()) arns.push_back(Str(stream["StreamArn"]));
    return arns;
  };
  auto status_of = [&](const std::string& arn) {
    rapidjson::Document d =
        Ok("DynamoDBStreams_20120810.DescribeStream", R"({"StreamArn":")" + arn + "\"}");
    return Str(d["StreamDescription"]["StreamStatus"]);
  };
  CreateTable("Hist");
  const std::string first = StreamArnOf("Hist");
  Put("Hist", "a", 1);
  Ok("UpdateTable", R"({"TableName":"Hist","StreamSpecification":{"StreamEnabled":false}})");
  Ok("UpdateTable", R"({"TableName":"Hist","StreamSpecification":{"StreamEnabled":true,
      "StreamViewType":"KEYS_ONLY"}})");
  const std::string second = StreamArnOf("Hist");
  ASSERT_NE(first, second);
  Put("Hist", "a", 2);
  EXPECT_EQ(status_of(first), "DISABLED");
  EXPECT_EQ(status_of(second), "ENABLED");
  EXPECT_EQ(records_of(first), std::vector<std::string>{"000000000000000000001"});
  EXPECT_EQ(records_of(second), std::vector<std::string>{"000000000000000000002"});
  EXPECT_EQ(listed(R"({"TableName":"Hist"})"), (std::vector<std::string>{first, second}));

  clock_.AdvanceMicros(kMinute);
  Ok("DeleteTable", R"({"TableName":"Hist"})");
  CreateTable("Hist");
  const std::string third = StreamArnOf("Hist");
  Put("Hist", "a", 3);
  EXPECT_EQ(status_of(second), "DISABLED");
  EXPECT_EQ(records_of(second), std::vector<std::string>{"000000000000000000002"});
  // Sequence numbers go on after the deleted table's: (shard, sequence) stays unique.
  EXPECT_EQ(records_of(third), std::vector<std::string>{"000000000000000000003"});
  EXPECT_EQ(listed(R"({"TableName":"Hist"})"), (std::vector<std::string>{first, second, third}));
  EXPECT_EQ(listed("{}"), (std::vector<std::string>{first, second, third}));
  EXPECT_EQ(listed(R"({"Limit":1,"ExclusiveStartStreamArn":")" + first + "\"}"),
            std::vector<std::string>{second});

  // A day after the first was disabled it is gone; the second (deleted a minute later)
  // is not yet.
  clock_.AdvanceMicros(24 * 60 * kMinute - kMinute / 2);
  const std::string iterator = Iterator(second, ShardIds(second)[0], "TRIM_HORIZON");
  EXPECT_EQ(
      ErrorType("DynamoDBStreams_20120810.DescribeStream", R"({"StreamArn":")" + first + "\"}"),
      "ResourceNotFoundException");
  EXPECT_EQ(listed(R"({"TableName":"Hist"})"), (std::vector<std::string>{second, third}));
  clock_.AdvanceMicros(kMinute);
  EXPECT_EQ(
      ErrorType("DynamoDBStreams_20120810.GetRecords", R"({"ShardIterator":")" + iterator + "\"}"),
      "ResourceNotFoundException");
  EXPECT_EQ(ErrorType("DynamoDBStreams_20120810.GetShardIterator",
                      R"({"StreamArn":")" + second + R"(","ShardId":")" + ShardIds(third)[0] +
                          R"(","ShardIteratorType":"TRIM_HORIZON"})"),
            "ResourceNotFoundException");
  ASSERT_TRUE(engine_->TrimStreams().ok());
  EXPECT_EQ(listed("{}"), std::vector<std::string>{third});
}

TEST_F(ServerApiTest, BatchOperations) {
  CreateTable("Bat");
  std::string writes;
  for (int i = 0; i < 25; ++i) {
    if (i > 0) writes += ",";
    writes += R"({"PutRequest":{"Item":{"pk":{"S":"b"},"sk":{"N":")" + std::to_string(i) + "\"}}}}";
  }
  rapidjson::Document written = Ok("BatchWriteItem", R"({"RequestItems":{"Bat":[)" + writes +
                                                         R"(]},"ReturnConsumedCapacity":"TOTAL"})");
  EXPECT_TRUE(written["UnprocessedItems"].ObjectEmpty());
  EXPECT_EQ(written["ConsumedCapacity"][0]["CapacityUnits"].GetDouble(), 25.0);
  std::string message;
  EXPECT_EQ(ErrorType("BatchWriteItem",
                      R"({"RequestItems":{"Bat":[)" + writes + "," +
                          R"({"DeleteRequest":{"Key":{"pk":{"S":"z"},"sk":{"N":"1"}}}}]}})",
                      &message),
            "ValidationException");
  EXPECT_EQ(
      ErrorType("BatchWriteItem",
                R"({"RequestItems":{"Bat":[{"PutRequest":{"Item":{"pk":{"S":"z"}}}}]}})", &message),
      "ValidationException");
  EXPECT_EQ(message, "One or more parameter values were invalid: Missing the key sk in the item");

  rapidjson::Document got = Ok("BatchGetItem", R"({"RequestItems":{"Bat":{"Keys":[
      {"pk":{"S":"b"},"sk":{"N":"3"}},{"pk":{"S":"b"},"sk":{"N":"99"}}]}}})");
  EXPECT_EQ(got["Responses"]["Bat"].Size(), 1u);
  EXPECT_TRUE(got["UnprocessedKeys"].ObjectEmpty());
  EXPECT_EQ(ErrorType("BatchGetItem", R"({"RequestItems":{"Bat":{"Keys":[
      {"pk":{"S":"b"},"sk":{"N":"3"}},{"pk":{"S":"b"},"sk":{"N":"3"}}]}}})",
                      &message),
            "ValidationException");
  EXPECT_EQ(message, "Provided list of item keys contains duplicates");
  EXPECT_EQ(
      ErrorType("BatchGetItem", R"({"RequestItems":{"Missing":{"Keys":[{"pk":{"S":"b"}}]}}})"),
      "ResourceNotFoundException");
}

TEST_F(ServerApiTest, LegacyParameters) {
  CreateTable("Legacy");
  Put("Legacy", "a", 1, R"(,"n":{"N":"1"})");
  EXPECT_EQ(ErrorType("PutItem", R"({"TableName":"Legacy","Item":{"pk":{"S":"a"},"sk":{"N":"1"}},
      "Expected":{"pk":{"Exists":false}}})"),
            "ConditionalCheckFailedException");
  rapidjson::Document updated = Ok("UpdateItem", R"({"TableName":"Legacy",
      "Key":{"pk":{"S":"a"},"sk":{"N":"1"}},
      "AttributeUpdates":{"n":{"Action":"ADD","Value":{"N":"4"}},"t":{"Value":{"S":"x"}}},
      "Expected":{"n":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"1"}]}},
      "ReturnValues":"ALL_NEW"})");
  EXPECT_EQ(Str(updated["Attributes"]["n"]["N"]), "5");
  EXPECT_EQ(Str(updated["Attributes"]["t"]["S"]), "x");
  Put("Legacy", "a", 2, R"(,"n":{"N":"9"})");
  rapidjson::Document queried = Ok("Query", R"({"TableName":"Legacy",
      "KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}},
      "QueryFilter":{"n":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"6"}]}},
      "AttributesToGet":["sk"]})");
  EXPECT_EQ(queried["Count"].GetInt(), 1);
  EXPECT_EQ(queried["ScannedCount"].GetInt(), 2);
  EXPECT_EQ(Str(queried["Items"][0]["sk"]["N"]), "2");
  EXPECT_FALSE(queried["Items"][0].HasMember("n"));
  rapidjson::Document scanned = Ok("Scan", R"({"TableName":"Legacy","ConditionalOperator":"OR",
      "ScanFilter":{"n":{"ComparisonOperator":"LT","AttributeValueList":[{"N":"6"}]},
                    "t":{"ComparisonOperator":"NULL"}}})");
  EXPECT_EQ(scanned["Count"].GetInt(), 2);
  std::string message;
  EXPECT_EQ(
      ErrorType("PutItem", R"json({"TableName":"Legacy","Item":{"pk":{"S":"b"},"sk":{"N":"1"}},
      "Expected":{"pk":{"Exists":false}},"ConditionExpression":"attribute_exists(n)"})json",
                &message),
      "ValidationException");
  EXPECT_EQ(message,
            "Can not use both expression and non-expression parameters in the same "
            "request: Non-expression parameters: {Expected} Expression parameters: "
            "{ConditionExpression}");
  EXPECT_EQ(ErrorType("Scan", R"({"TableName":"Legacy",
      "ScanFilter":{"n":{"ComparisonOperator":"SIMILAR","AttributeValueList":[{"N":"6"}]}}})"),
            "ValidationException");
}

TEST_F(ServerApiTest, TableAdministration) {
  CreateTable("Admin1");
  CreateTable("Admin2");
  EXPECT_EQ(ErrorType("CreateTable", R"({"TableName":"Admin1",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"})"),
            "ResourceInUseException");
  std::string message;
  EXPECT_EQ(ErrorType("CreateTable", R"({"TableName":"Admin3",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"})",
                      &message),
            "ValidationException");
  EXPECT_EQ(message,
            "One or more parameter values were invalid: Some index key attributes are not "
            "defined in AttributeDefinitions. Keys: [id], AttributeDefinitions: [pk]");
  EXPECT_EQ(ErrorType("CreateTable", R"({"TableName":"Admin3",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]})",
                      &message),
            "ValidationException");

  rapidjson::Document page = Ok("ListTables", R"({"Limit":1})");
  EXPECT_EQ(Str(page["TableNames"][0]), "Admin1");
  EXPECT_EQ(Str(page["LastEvaluatedTableName"]), "Admin1");
  page = Ok("ListTables", R"({"ExclusiveStartTableName":"Admin1"})");
  EXPECT_EQ(page["TableNames"].Size(), 1u);
  EXPECT_FALSE(page.HasMember("LastEvaluatedTableName"));

  rapidjson::Document ttl = Ok("DescribeTimeToLive", R"({"TableName":"Admin1"})");
  EXPECT_EQ(Str(ttl["TimeToLiveDescription"]["TimeToLiveStatus"]), "DISABLED");

  rapidjson::Document deleted = Ok("DeleteTable", R"({"TableName":"Admin2"})");
  EXPECT_EQ(Str(deleted["TableDescription"]["TableStatus"]), "DELETING");
  EXPECT_EQ(ErrorType("DescribeTable", R"({"TableName":"Admin2"})"), "ResourceNotFoundException");
  // A re-created table with another key schema is not confused with the old one.
  Ok("CreateTable", R"({"TableName":"Admin2",
      "AttributeDefinitions":[{"AttributeName":"id","AttributeType":"N"}],
      "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"})");
  Ok("UpdateItem",
     R"({"TableName":"Admin2","Key":{"id":{"N":"1"}},"UpdateExpression":"SET v = :v",
      "ExpressionAttributeValues":{":v":{"S":"x"}}})");
}

}  // namespace
}  // namespace tidewater::server::testing
