// Cluster mode's batch splitting (server/src/batch_forwarding.h): a batch spanning nodes is
// split by owner with the request's other members kept, and the shares' answers merge into
// one DynamoDB answer, a failed share's items coming back unprocessed.
#include "batch_forwarding.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

namespace tidewater::server {
namespace {

rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str());
  EXPECT_FALSE(document.HasParseError()) << text;
  return document;
}

// Keys "a..." live on node A, the others on node B.
std::optional<std::string> OwnerByFirstLetter(bool writes, const rapidjson::Value& element) {
  const rapidjson::Value* key = &element;
  if (writes) {
    key = element.HasMember("PutRequest") ? &element["PutRequest"]["Item"]
                                          : &element["DeleteRequest"]["Key"];
  }
  return std::string((*key)["pk"]["S"].GetString()).starts_with("a") ? "A:1" : "B:2";
}

TEST(BatchForwardingTest, AWriteBatchIsSplitByOwnerKeepingItsOtherMembers) {
  rapidjson::Document request = Parse(R"({
    "RequestItems": {
      "t1": [{"PutRequest": {"Item": {"pk": {"S": "a1"}}}},
             {"DeleteRequest": {"Key": {"pk": {"S": "b1"}}}},
             {"PutRequest": {"Item": {"pk": {"S": "a2"}}}}],
      "t2": [{"PutRequest": {"Item": {"pk": {"S": "b2"}}}}]},
    "ReturnConsumedCapacity": "TOTAL"})");
  std::vector<BatchShare> shares =
      SplitBatch(true, request, [](const std::string&, const rapidjson::Value& element) {
        return OwnerByFirstLetter(true, element);
      });
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_EQ(shares[0].owner, "A:1");
  EXPECT_EQ(shares[1].owner, "B:2");
  rapidjson::Document a = Parse(shares[0].body);
  EXPECT_STREQ(a["ReturnConsumedCapacity"].GetString(), "TOTAL");
  ASSERT_EQ(a["RequestItems"]["t1"].Size(), 2u);
  EXPECT_STREQ(a["RequestItems"]["t1"][1]["PutRequest"]["Item"]["pk"]["S"].GetString(), "a2");
  EXPECT_FALSE(a["RequestItems"].HasMember("t2"));
  rapidjson::Document b = Parse(shares[1].body);
  EXPECT_EQ(b["RequestItems"]["t1"].Size(), 1u);
  EXPECT_EQ(b["RequestItems"]["t2"].Size(), 1u);
  EXPECT_EQ(Parse(shares[1].request_items), b["RequestItems"]);

  // An element whose owner is not known: no split.
  EXPECT_TRUE(SplitBatch(true, request, [](const std::string&, const rapidjson::Value&) {
                return std::optional<std::string>();
              }).empty());
  EXPECT_TRUE(SplitBatch(true, Parse(R"({"RequestItems": []})"),
                         [](const std::string&, const rapidjson::Value&) {
                           return std::optional<std::string>("A:1");
                         })
                  .empty());
}

TEST(BatchForwardingTest, AnswersMergeAndAFailedShareComesBackUnprocessed) {
  rapidjson::Document request = Parse(R"({
    "RequestItems": {"t1": {"Keys": [{"pk": {"S": "a1"}}, {"pk": {"S": "b1"}},
                                     {"pk": {"S": "b2"}}, {"pk": {"S": "a2"}}],
                            "ConsistentRead": true, "ProjectionExpression": "pk"}}})");
  std::vector<BatchShare> shares =
      SplitBatch(false, request, [](const std::string&, const rapidjson::Value& element) {
        return OwnerByFirstLetter(false, element);
      });
  ASSERT_EQ(shares.size(), 2u);
  rapidjson::Document b = Parse(shares[1].body);
  EXPECT_TRUE(b["RequestItems"]["t1"]["ConsistentRead"].GetBool());
  EXPECT_STREQ(b["RequestItems"]["t1"]["ProjectionExpression"].GetString(), "pk");
  EXPECT_EQ(b["RequestItems"]["t1"]["Keys"].Size(), 2u);

  // A answers (one key throttled), B fails: its keys are unprocessed, with their members.
  const std::string a_answer = R"({"Responses": {"t1": [{"pk": {"S": "a1"}}]},
    "UnprocessedKeys": {"t1": {"Keys": [{"pk": {"S": "a2"}}], "ConsistentRead": true,
                               "ProjectionExpression": "pk"}},
    "ConsumedCapacity": [{"TableName": "t1", "CapacityUnits": 1.0}]})";
  rapidjson::Document merged = Parse(MergeBatchAnswers(false, shares, {a_answer, std::nullopt}));
  ASSERT_EQ(merged["Responses"]["t1"].Size(), 1u);
  const rapidjson::Value& unprocessed = merged["UnprocessedKeys"]["t1"];
  ASSERT_EQ(unprocessed["Keys"].Size(), 3u);
  EXPECT_STREQ(unprocessed["Keys"][0]["pk"]["S"].GetString(), "a2");
  EXPECT_STREQ(unprocessed["Keys"][1]["pk"]["S"].GetString(), "b1");
  EXPECT_TRUE(unprocessed["ConsistentRead"].GetBool());
  EXPECT_EQ(merged["ConsumedCapacity"].Size(), 1u);

  // Both answer: responses concatenated, capacity summed per table.
  const std::string b_answer = R"({"Responses": {"t1": [{"pk": {"S": "b1"}}, {"pk": {"S": "b2"}}]},
    "UnprocessedKeys": {}, "ConsumedCapacity": [{"TableName": "t1", "CapacityUnits": 2.0}]})";
  merged = Parse(MergeBatchAnswers(false, shares, {a_answer, b_answer}));
  EXPECT_EQ(merged["Responses"]["t1"].Size(), 3u);
  EXPECT_EQ(merged["UnprocessedKeys"]["t1"]["Keys"].Size(), 1u);
  EXPECT_DOUBLE_EQ(merged["ConsumedCapacity"][0]["CapacityUnits"].GetDouble(), 3.0);
}

TEST(BatchForwardingTest, AFailedWriteShareComesBackAsUnprocessedItems) {
  rapidjson::Document request = Parse(R"({"RequestItems": {"t1": [
    {"PutRequest": {"Item": {"pk": {"S": "a1"}}}}, {"PutRequest": {"Item": {"pk": {"S": "b1"}}}}]}})");
  std::vector<BatchShare> shares =
      SplitBatch(true, request, [](const std::string&, const rapidjson::Value& element) {
        return OwnerByFirstLetter(true, element);
      });
  ASSERT_EQ(shares.size(), 2u);
  rapidjson::Document merged = Parse(
      MergeBatchAnswers(true, shares, {std::string(R"({"UnprocessedItems": {}})"), std::nullopt}));
  EXPECT_FALSE(merged.HasMember("Responses"));
  ASSERT_EQ(merged["UnprocessedItems"]["t1"].Size(), 1u);
  EXPECT_STREQ(merged["UnprocessedItems"]["t1"][0]["PutRequest"]["Item"]["pk"]["S"].GetString(),
               "b1");
}

TEST(ScanPagesTest, ShardPagesMergeIntoOnePage) {
  ScanPages pages;
  pages.Add(Parse(R"({"Items": [{"pk": {"S": "a"}}], "Count": 1, "ScannedCount": 3,
                      "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}})"));
  pages.Add(Parse(R"({"Items": [{"pk": {"S": "b"}}, {"pk": {"S": "c"}}], "Count": 2,
                      "ScannedCount": 2, "LastEvaluatedKey": {"pk": {"S": "c"}},
                      "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.0}})"));
  rapidjson::Document merged = Parse(pages.Answer());
  ASSERT_EQ(merged["Items"].Size(), 3u);
  EXPECT_STREQ(merged["Items"][2]["pk"]["S"].GetString(), "c");
  EXPECT_EQ(merged["Count"].GetUint64(), 3u);
  EXPECT_EQ(merged["ScannedCount"].GetUint64(), 5u);
  EXPECT_STREQ(merged["LastEvaluatedKey"]["pk"]["S"].GetString(), "c");
  EXPECT_DOUBLE_EQ(merged["ConsumedCapacity"]["CapacityUnits"].GetDouble(), 1.5);

  ScanPages counted;  // Select COUNT: no Items, and no LastEvaluatedKey once read to the end
  counted.Add(Parse(R"({"Count": 4, "ScannedCount": 4, "LastEvaluatedKey": {"pk": {"S": "d"}}})"));
  counted.Add(Parse(R"({"Count": 1, "ScannedCount": 1})"));
  merged = Parse(counted.Answer());
  EXPECT_FALSE(merged.HasMember("Items"));
  EXPECT_FALSE(merged.HasMember("LastEvaluatedKey"));
  EXPECT_EQ(merged["Count"].GetUint64(), 5u);
}

}  // namespace
}  // namespace tidewater::server
