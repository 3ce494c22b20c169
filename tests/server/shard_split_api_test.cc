// TidewaterAdmin_20261205.SplitShard over HTTP, and what the Streams API shows after a
// split: the parent closed with its EndingSequenceNumber, read to its end with no
// NextShardIterator after it, and children naming it as ParentShardId.
#include <set>
#include <string>
#include <vector>

#include "test_server.h"

namespace tidewater::server::testing {
namespace {

constexpr char kSplitShard[] = "TidewaterAdmin_20261205.SplitShard";

std::string Str(const rapidjson::Value& value) { return value.GetString(); }

class ShardSplitApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    Ok("CreateTable", R"({"TableName":"Split",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
        "BillingMode":"PAY_PER_REQUEST",
        "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}})");
    rapidjson::Document table = Ok("DescribeTable", R"({"TableName":"Split"})");
    arn_ = Str(table["Table"]["LatestStreamArn"]);
  }

  void Put(const std::string& pk, int version) {
    Ok("PutItem", R"({"TableName":"Split","Item":{"pk":{"S":")" + pk + R"("},"v":{"N":")" +
                      std::to_string(version) + "\"}}}");
  }

  rapidjson::Document Shards() {
    rapidjson::Document d =
        Ok("DynamoDBStreams_20120810.DescribeStream", R"({"StreamArn":")" + arn_ + "\"}");
    rapidjson::Document shards;
    shards.CopyFrom(d["StreamDescription"]["Shards"], shards.GetAllocator());
    return shards;
  }

  // The records of a shard read from TRIM_HORIZON until GetRecords answers no
  // NextShardIterator (a closed shard's end) or no records (an open shard caught up);
  // `ended` tells which.
  std::vector<std::string> ReadShard(const std::string& shard, bool* ended) {
    rapidjson::Document it = Ok("DynamoDBStreams_20120810.GetShardIterator",
                                R"({"StreamArn":")" + arn_ + R"(","ShardId":")" + shard +
                                    R"(","ShardIteratorType":"TRIM_HORIZON"})");
    std::string iterator = Str(it["ShardIterator"]);
    std::vector<std::string> keys;
    *ended = false;
    for (int page = 0; page < 1000; ++page) {
      rapidjson::Document got = Ok("DynamoDBStreams_20120810.GetRecords",
                                   R"({"ShardIterator":")" + iterator + R"(","Limit":3})");
      for (const auto& record : got["Records"].GetArray()) {
        keys.push_back(Str(record["dynamodb"]["Keys"]["pk"]["S"]) + "=" +
                       Str(record["dynamodb"]["NewImage"]["v"]["N"]));
      }
      if (!got.HasMember("NextShardIterator")) {
        *ended = true;
        break;
      }
      if (got["Records"].Empty()) break;
      iterator = Str(got["NextShardIterator"]);
    }
    return keys;
  }

  std::string arn_;
};

TEST_F(ShardSplitApiTest, DescribeStreamShowsLineageAndTheParentReadsToItsEnd) {
  for (int k = 0; k < 40; ++k) Put("k" + std::to_string(k), 1);
  rapidjson::Document before = Shards();
  const std::string parent = Str(before[0]["ShardId"]);
  const size_t shard_count = before.Size();

  rapidjson::Document split =
      Ok(kSplitShard, R"({"TableName":"Split","ShardId":")" + parent + "\"}");
  EXPECT_EQ(Str(split["ParentShardId"]), parent);
  ASSERT_EQ(split["ChildShardIds"].Size(), 2u);
  const std::string lower = Str(split["ChildShardIds"][0]);
  const std::string upper = Str(split["ChildShardIds"][1]);
  for (int k = 0; k < 40; ++k) Put("k" + std::to_string(k), 2);

  rapidjson::Document after = Shards();
  ASSERT_EQ(after.Size(), shard_count + 2);
  EXPECT_EQ(Str(after[0]["ShardId"]), parent);
  ASSERT_TRUE(after[0]["SequenceNumberRange"].HasMember("EndingSequenceNumber"))
      << "the split parent is closed";
  EXPECT_EQ(Str(after[0]["SequenceNumberRange"]["EndingSequenceNumber"]),
            Str(split["EndingSequenceNumber"]));
  EXPECT_FALSE(after[0].HasMember("ParentShardId"));
  for (size_t i = 1; i < shard_count; ++i) {
    EXPECT_FALSE(after[i]["SequenceNumberRange"].HasMember("EndingSequenceNumber"));
  }
  EXPECT_EQ(Str(after[shard_count]["ShardId"]), lower);
  EXPECT_EQ(Str(after[shard_count + 1]["ShardId"]), upper);
  for (size_t i = shard_count; i < shard_count + 2; ++i) {
    ASSERT_TRUE(after[i].HasMember("ParentShardId"));
    EXPECT_EQ(Str(after[i]["ParentShardId"]), parent);
    EXPECT_FALSE(after[i]["SequenceNumberRange"].HasMember("EndingSequenceNumber"));
  }

  // The parent holds exactly the first versions of its keys and then ends; its children
  // hold exactly the second versions of the same keys.
  bool ended = false;
  const std::vector<std::string> in_parent = ReadShard(parent, &ended);
  EXPECT_TRUE(ended) << "no NextShardIterator at the end of the closed parent";
  ASSERT_FALSE(in_parent.empty());
  std::set<std::string> parent_keys;
  for (const std::string& entry : in_parent) {
    EXPECT_EQ(entry.substr(entry.size() - 2), "=1") << "written after the split: " << entry;
    parent_keys.insert(entry.substr(0, entry.size() - 2));
  }
  std::set<std::string> child_keys;
  for (const std::string& child : {lower, upper}) {
    bool child_ended = true;
    for (const std::string& entry : ReadShard(child, &child_ended)) {
      EXPECT_EQ(entry.substr(entry.size() - 2), "=2") << "written before the split: " << entry;
      child_keys.insert(entry.substr(0, entry.size() - 2));
    }
    EXPECT_FALSE(child_ended) << "an open child has no end";
  }
  EXPECT_EQ(child_keys, parent_keys);
}

TEST_F(ShardSplitApiTest, RefusalsAreDynamoDbErrors) {
  const std::string parent = Str(Shards()[0]["ShardId"]);
  EXPECT_EQ(ErrorType(kSplitShard, R"({"TableName":"Nope","ShardId":")" + parent + "\"}"),
            "ResourceNotFoundException");
  EXPECT_EQ(ErrorType(kSplitShard,
                      R"({"TableName":"Split","ShardId":"shardId-00000000000000000000-0000ffff"})"),
            "ResourceNotFoundException");
  EXPECT_EQ(ErrorType(kSplitShard, R"({"TableName":"Split"})"), "ValidationException");
  Ok(kSplitShard, R"({"TableName":"Split","ShardId":")" + parent + "\"}");
  std::string message;
  EXPECT_EQ(
      ErrorType(kSplitShard, R"({"TableName":"Split","ShardId":")" + parent + "\"}", &message),
      "ValidationException");
  EXPECT_NE(message.find("closed"), std::string::npos) << message;
}

}  // namespace
}  // namespace tidewater::server::testing
