// The authorization questions of API requests (request_authorization.h): actions, resources
// and condition keys per operation, as security/policy.h documents them, and the decisions of
// RequestAuthorizer.
#include "request_authorization.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <vector>

#include "autoscaling_api.h"
#include "request_router.h"
#include "server_policy_store.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/clock.h"
#include "tidewater/streams/resource_names.h"
#include "tidewater/v1/replication.pb.h"

namespace tidewater::server {
namespace {

namespace keys = security::condition_keys;
using security::AuthorizationRequest;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr std::string_view kRegion = "us-east-1";
// 2026-12-06T10:00:00Z.
constexpr int64_t kNowMicros = 1'796'551'200'000'000;

std::string Arn(std::string_view table) { return streams::TableArn(kRegion, table); }

// The values of `key`, or {"<absent>"} when the request does not have it.
std::vector<std::string> Values(const AuthorizationRequest& request, std::string_view key) {
  const std::vector<std::string>* values = request.context.Find(key);
  return values == nullptr ? std::vector<std::string>{"<absent>"} : *values;
}

class RequestAuthorizationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = Engine::Open(testing::TestEngineOptions(dir_.Sub("data"), &clock_));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    CreateTableRequest music;
    music.name = "Music";
    music.key_schema.partition_key = {"Artist", AttributeType::kS};
    music.key_schema.sort_key = KeyAttribute{"Song", AttributeType::kS};
    music.stream = {true, StreamViewType::kNewImage};
    SecondaryIndex by_year;
    by_year.name = "ByYear";
    by_year.key_schema.partition_key = {"Year", AttributeType::kN};
    music.global_indexes.push_back(by_year);
    ASSERT_TRUE(engine_->CreateTable(music).ok());
    CreateTableRequest counters;
    counters.name = "Counters";
    counters.key_schema.partition_key = {"Id", AttributeType::kN};
    ASSERT_TRUE(engine_->CreateTable(counters).ok());
    CreateTableRequest blobs;
    blobs.name = "Blobs";
    blobs.key_schema.partition_key = {"Digest", AttributeType::kB};
    ASSERT_TRUE(engine_->CreateTable(blobs).ok());

    service_.engine = engine_.get();
    service_.clock = &clock_;
    service_.region = std::string(kRegion);
    schemas_ = std::make_unique<TableSchemas>(engine_.get());
    service_.schemas = schemas_.get();
    service_.expressions = &expressions_;
    service_.iterators = &iterators_;
  }

  // The questions of `body` sent as `operation` of the API `prefix`.
  std::vector<AuthorizationRequest> Build(std::string_view operation, const std::string& body,
                                          std::string_view prefix = kDynamoDbPrefix) {
    rapidjson::Document document;
    document.Parse(body.c_str());
    EXPECT_FALSE(document.HasParseError()) << body;
    return JsonAuthorizationRequests(service_, prefix, operation, document,
                                     {"alice", "192.0.2.7", kNowMicros});
  }

  testing::TempDir dir_;
  ManualClock clock_{kNowMicros};
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<TableSchemas> schemas_;
  ExpressionCache expressions_;
  ShardIteratorCodec iterators_{"a secret of sixteen bytes or more", std::string(kRegion), &clock_};
  ServiceContext service_{};
};

TEST_F(RequestAuthorizationTest, GetItemHasItsKeyProjectionAndTheRequestsContext) {
  auto requests = Build("GetItem", R"({"TableName": "Music",
      "Key": {"Artist": {"S": "Acme"}, "Song": {"S": "Hit"}},
      "ProjectionExpression": "#t, Runtime.Seconds, Genres[0]",
      "ExpressionAttributeNames": {"#t": "Title"}, "ReturnConsumedCapacity": "TOTAL"})");
  ASSERT_EQ(requests.size(), 1u);
  const AuthorizationRequest& request = requests[0];
  EXPECT_EQ(request.principal, "alice");
  EXPECT_EQ(request.action, "dynamodb:GetItem");
  EXPECT_EQ(request.resource, Arn("Music"));
  EXPECT_THAT(Values(request, keys::kLeadingKeys), ElementsAre("Acme"));
  EXPECT_THAT(Values(request, keys::kAttributes), ElementsAre("Title", "Runtime", "Genres"));
  EXPECT_THAT(Values(request, keys::kReturnConsumedCapacity), ElementsAre("TOTAL"));
  EXPECT_THAT(Values(request, keys::kReturnValues), ElementsAre("<absent>"));
  EXPECT_THAT(Values(request, keys::kCurrentTime), ElementsAre("2026-12-06T10:00:00Z"));
  EXPECT_THAT(Values(request, keys::kEpochTime), ElementsAre("1796551200"));
  EXPECT_THAT(Values(request, keys::kSourceIp), ElementsAre("192.0.2.7"));
}

TEST_F(RequestAuthorizationTest, AReadWithoutProjectionHasNoAttributes) {
  auto requests = Build("GetItem", R"({"TableName": "Music",
      "Key": {"Artist": {"S": "Acme"}, "Song": {"S": "Hit"}}})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(Values(requests[0], keys::kAttributes), ElementsAre("<absent>"));
  requests = Build("GetItem", R"({"TableName": "Music", "AttributesToGet": ["Title", "Year"],
      "Key": {"Artist": {"S": "Acme"}, "Song": {"S": "Hit"}}})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(Values(requests[0], keys::kAttributes), ElementsAre("Title", "Year"));
}

TEST_F(RequestAuthorizationTest, PutItemHasTheItemsNamesAndACanonicalNumberKey) {
  auto requests = Build("PutItem", R"({"TableName": "Counters", "ReturnValues": "ALL_OLD",
      "Item": {"Id": {"N": "007.50"}, "Count": {"N": "1"}, "Owner": {"S": "alice"}}})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].action, "dynamodb:PutItem");
  EXPECT_EQ(requests[0].resource, Arn("Counters"));
  EXPECT_THAT(Values(requests[0], keys::kLeadingKeys), ElementsAre("7.5"));
  EXPECT_THAT(Values(requests[0], keys::kAttributes), UnorderedElementsAre("Id", "Count", "Owner"));
  EXPECT_THAT(Values(requests[0], keys::kReturnValues), ElementsAre("ALL_OLD"));
}

TEST_F(RequestAuthorizationTest, UpdateItemHasTheNamesItWritesAndTheKeysNames) {
  auto requests = Build("UpdateItem", R"({"TableName": "Music",
      "Key": {"Artist": {"S": "Acme"}, "Song": {"S": "Hit"}},
      "UpdateExpression":
          "set #p = if_not_exists(Plays, :zero) + :one, Info.Label = list_append(A, B) remove Stale, #n[2] ADD Tags :t DELETE Crew :c",
      "ExpressionAttributeNames": {"#p": "Plays", "#n": "Notes"},
      "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"},
          ":t": {"SS": ["x"]}, ":c": {"SS": ["y"]}}})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].action, "dynamodb:UpdateItem");
  EXPECT_THAT(Values(requests[0], keys::kLeadingKeys), ElementsAre("Acme"));
  // Read-only operands (if_not_exists's Plays, A, B) are not written.
  EXPECT_THAT(Values(requests[0], keys::kAttributes),
              ElementsAre("Plays", "Info", "Stale", "Notes", "Tags", "Crew", "Artist", "Song"));

  requests = Build("UpdateItem", R"({"TableName": "Music",
      "Key": {"Artist": {"S": "Acme"}, "Song": {"S": "Hit"}},
      "AttributeUpdates": {"Plays": {"Action": "ADD", "Value": {"N": "1"}},
                           "Stale": {"Action": "DELETE"}}})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(Values(requests[0], keys::kAttributes),
              UnorderedElementsAre("Plays", "Stale", "Artist", "Song"));
}

TEST_F(RequestAuthorizationTest, DeleteItemHasTheKeysNamesAndABinaryKeyAsBase64) {
  auto requests = Build("DeleteItem", R"({"TableName": "Blobs",
      "Key": {"Digest": {"B": "AAEC"}}, "ReturnValues": "ALL_OLD"})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].action, "dynamodb:DeleteItem");
  EXPECT_THAT(Values(requests[0], keys::kLeadingKeys), ElementsAre("AAEC"));
  EXPECT_THAT(Values(requests[0], keys::kAttributes), ElementsAre("Digest"));
}

TEST_F(RequestAuthorizationTest, QueryOfAnIndexTakesTheIndexArnAndItsPartitionKey) {
  auto requests = Build("Query", R"({"TableName": "Music", "IndexName": "ByYear",
      "KeyConditionExpression": "#y = :y", "ExpressionAttributeNames": {"#y": "Year"},
      "ExpressionAttributeValues": {":y": {"N": "1999"}}, "Select": "COUNT"})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].action, "dynamodb:Query");
  EXPECT_EQ(requests[0].resource, Arn("Music") + "/index/ByYear");
  EXPECT_THAT(Values(requests[0], keys::kLeadingKeys), ElementsAre("1999"));
  EXPECT_THAT(Values(requests[0], keys::kSelect), ElementsAre("COUNT"));
  EXPECT_THAT(Values(requests[0], keys::kAttributes), ElementsAre("<absent>"));
}

TEST_F(RequestAuthorizationTest, QueryWithLegacyKeyConditionsAndAProjection) {
  auto requests = Build("Query", R"({"TableName": "Music",
      "KeyConditions": {"Artist": {"ComparisonOperator": "EQ",
                                   "AttributeValueList": [{"S": "Acme"}]}},
      "ProjectionExpression": "Song, Title"})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].resource, Arn("Music"));
  EXPECT_THAT(Values(requests[0], keys::kLeadingKeys), ElementsAre("Acme"));
  EXPECT_THAT(Values(requests[0], keys::kAttributes), ElementsAre("Song", "Title"));
}

TEST_F(RequestAuthorizationTest, ScanHasNoLeadingKeys) {
  auto requests = Build("Scan", R"({"TableName": "Music", "IndexName": "ByYear"})");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].action, "dynamodb:Scan");
  EXPECT_EQ(requests[0].resource, Arn("Music") + "/index/ByYear");
  EXPECT_EQ(requests[0].context.Find(keys::kLeadingKeys), nullptr);
}

TEST_F(RequestAuthorizationTest, BatchGetItemAsksPerKeyOnItsTable) {
  auto requests = Build("BatchGetItem", R"({"RequestItems": {
      "Music": {"Keys": [{"Artist": {"S": "A"}, "Song": {"S": "1"}},
                         {"Artist": {"S": "B"}, "Song": {"S": "2"}}],
                "ProjectionExpression": "Title"},
      "Counters": {"Keys": [{"Id": {"N": "5"}}]}}})");
  ASSERT_EQ(requests.size(), 3u);
  for (const AuthorizationRequest& request : requests) {
    EXPECT_EQ(request.action, "dynamodb:BatchGetItem");
  }
  EXPECT_EQ(requests[0].resource, Arn("Music"));
  EXPECT_THAT(Values(requests[0], keys::kLeadingKeys), ElementsAre("A"));
  EXPECT_THAT(Values(requests[0], keys::kAttributes), ElementsAre("Title"));
  EXPECT_THAT(Values(requests[1], keys::kLeadingKeys), ElementsAre("B"));
  EXPECT_THAT(Values(requests[1], keys::kAttributes), ElementsAre("Title"));
  EXPECT_EQ(requests[2].resource, Arn("Counters"));
  EXPECT_THAT(Values(requests[2], keys::kLeadingKeys), ElementsAre("5"));
  EXPECT_THAT(Values(requests[2], keys::kAttributes), ElementsAre("<absent>"));
}

TEST_F(RequestAuthorizationTest, BatchWriteItemAsksPerWrite) {
  auto requests = Build("BatchWriteItem", R"({"RequestItems": {"Music": [
      {"PutRequest": {"Item": {"Artist": {"S": "A"}, "Song": {"S": "1"}, "Title": {"S": "t"}}}},
      {"DeleteRequest": {"Key": {"Artist": {"S": "B"}, "Song": {"S": "2"}}}}]},
      "ReturnConsumedCapacity": "INDEXES"})");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].action, "dynamodb:BatchWriteItem");
  EXPECT_EQ(requests[0].resource, Arn("Music"));
  EXPECT_THAT(Values(requests[0], keys::kLeadingKeys), ElementsAre("A"));
  EXPECT_THAT(Values(requests[0], keys::kAttributes),
              UnorderedElementsAre("Artist", "Song", "Title"));
  EXPECT_THAT(Values(requests[0], keys::kReturnConsumedCapacity), ElementsAre("INDEXES"));
  EXPECT_THAT(Values(requests[1], keys::kLeadingKeys), ElementsAre("B"));
  EXPECT_THAT(Values(requests[1], keys::kAttributes), UnorderedElementsAre("Artist", "Song"));
}

TEST_F(RequestAuthorizationTest, TransactWriteItemsAsksPerActionWithItsEnclosingOperation) {
  auto requests = Build("TransactWriteItems", R"({"TransactItems": [
      {"Put": {"TableName": "Counters", "Item": {"Id": {"N": "1"}, "V": {"N": "2"}}}},
      {"Update": {"TableName": "Music", "Key": {"Artist": {"S": "A"}, "Song": {"S": "1"}},
                  "UpdateExpression": "SET Plays = :p",
                  "ExpressionAttributeValues": {":p": {"N": "3"}}}},
      {"Delete": {"TableName": "Counters", "Key": {"Id": {"N": "9"}}}},
      {"ConditionCheck": {"TableName": "Blobs", "Key": {"Digest": {"B": "AQ=="}},
                          "ConditionExpression": "attribute_exists(Digest) AND Size > :z",
                          "ExpressionAttributeValues": {":z": {"N": "0"}}}}]})");
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].action, "dynamodb:PutItem");
  EXPECT_EQ(requests[0].resource, Arn("Counters"));
  EXPECT_THAT(Values(requests[0], keys::kLeadingKeys), ElementsAre("1"));
  EXPECT_THAT(Values(requests[0], keys::kAttributes), UnorderedElementsAre("Id", "V"));
  EXPECT_EQ(requests[1].action, "dynamodb:UpdateItem");
  EXPECT_EQ(requests[1].resource, Arn("Music"));
  EXPECT_THAT(Values(requests[1], keys::kAttributes), ElementsAre("Plays", "Artist", "Song"));
  EXPECT_EQ(requests[2].action, "dynamodb:DeleteItem");
  EXPECT_THAT(Values(requests[2], keys::kLeadingKeys), ElementsAre("9"));
  EXPECT_EQ(requests[3].action, "dynamodb:ConditionCheckItem");
  EXPECT_EQ(requests[3].resource, Arn("Blobs"));
  EXPECT_THAT(Values(requests[3], keys::kLeadingKeys), ElementsAre("AQ=="));
  EXPECT_THAT(Values(requests[3], keys::kAttributes), ElementsAre("Digest"));
  for (const AuthorizationRequest& request : requests) {
    EXPECT_THAT(Values(request, keys::kEnclosingOperation), ElementsAre("TransactWriteItems"));
  }
}

TEST_F(RequestAuthorizationTest, TransactGetItemsAsksGetItemPerItem) {
  auto requests = Build("TransactGetItems",
                        R"({"TransactItems": [
      {"Get": {"TableName": "Music", "Key": {"Artist": {"S": "A"}, "Song": {"S": "1"}},
               "ProjectionExpression": "#t", "ExpressionAttributeNames": {"#t": "Title"}}},
      {"Get": {"TableName": "Counters", "Key": {"Id": {"N": "2"}}}}]})");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].action, "dynamodb:GetItem");
  EXPECT_THAT(Values(requests[0], keys::kAttributes), ElementsAre("Title"));
  EXPECT_THAT(Values(requests[1], keys::kLeadingKeys), ElementsAre("2"));
  EXPECT_THAT(Values(requests[1], keys::kEnclosingOperation), ElementsAre("TransactGetItems"));
}

TEST_F(RequestAuthorizationTest, StreamsActOnTheStreamArn) {
  Result<TableDescription> table = engine_->DescribeTable("Music");
  ASSERT_TRUE(table.ok());
  const std::string label = table->stream_label;
  const std::string stream_arn = streams::StreamArn(kRegion, "Music", label);
  // An ARN of another region names this server's stream.
  auto requests =
      Build("DescribeStream",
            R"({"StreamArn": ")" + streams::StreamArn("eu-west-1", "Music", label) + R"("})",
            kStreamsPrefix);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].action, "dynamodb:DescribeStream");
  EXPECT_EQ(requests[0].resource, stream_arn);

  ShardPosition position;
  position.table = "Music";
  position.table_id = table->table_id;
  position.stream_label = label;
  const std::string iterator = iterators_.Encode(position);
  requests = Build("GetRecords", R"({"ShardIterator": ")" + iterator + R"("})", kStreamsPrefix);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].action, "dynamodb:GetRecords");
  EXPECT_EQ(requests[0].resource, stream_arn);
  // An iterator that does not decode is left to the handler.
  EXPECT_TRUE(Build("GetRecords", R"({"ShardIterator": "forged"})", kStreamsPrefix).empty());

  requests = Build("ListStreams", "{}", kStreamsPrefix);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].resource, "*");
}

TEST_F(RequestAuthorizationTest, TableLevelAndOtherApisOperations) {
  struct Case {
    std::string_view prefix, operation;
    std::string body, action, resource;
  };
  const std::string music = Arn("Music");
  const std::vector<Case> cases = {
      {kDynamoDbPrefix, "CreateTable", R"({"TableName": "New"})", "dynamodb:CreateTable",
       Arn("New")},
      {kDynamoDbPrefix, "DescribeTable", R"({"TableName": "Music"})", "dynamodb:DescribeTable",
       music},
      {kDynamoDbPrefix, "UpdateTimeToLive", R"({"TableName": "Music"})",
       "dynamodb:UpdateTimeToLive", music},
      {kDynamoDbPrefix, "ListTables", "{}", "dynamodb:ListTables", "*"},
      {kDynamoDbPrefix, "ListBackups", R"({"TableName": "Music"})", "dynamodb:ListBackups", "*"},
      {kDynamoDbPrefix, "DescribeLimits", "{}", "dynamodb:DescribeLimits", "*"},
      {kDynamoDbPrefix, "TagResource", R"({"ResourceArn": ")" + music + R"("})",
       "dynamodb:TagResource", music},
      {kDynamoDbPrefix, "ExportTableToPointInTime", R"({"TableArn": ")" + music + R"("})",
       "dynamodb:ExportTableToPointInTime", music},
      {kDynamoDbPrefix, "ImportTable", R"({"TableCreationParameters": {"TableName": "In"}})",
       "dynamodb:ImportTable", Arn("In")},
      {kAutoScalingTargetPrefix, "RegisterScalableTarget", "{}",
       "application-autoscaling:RegisterScalableTarget", "*"},
      {kAdminPrefix, "PutPolicy", R"({"Principal": "bob"})", "tidewater:PutPolicy", "*"},
  };
  for (const Case& c : cases) {
    auto requests = Build(c.operation, c.body, c.prefix);
    ASSERT_EQ(requests.size(), 1u) << c.operation;
    EXPECT_EQ(requests[0].action, c.action) << c.operation;
    EXPECT_EQ(requests[0].resource, c.resource) << c.operation;
  }
  // Restoring needs the source (a backup, or a table) and the target table.
  auto requests = Build("RestoreTableToPointInTime",
                        R"({"SourceTableName": "Music", "TargetTableName": "Copy"})");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].resource, music);
  EXPECT_EQ(requests[1].resource, Arn("Copy"));
}

TEST_F(RequestAuthorizationTest, ReplicationBatchesActOnTheirTable) {
  v1::ReplicationBatch batch;
  batch.set_source_region("eu-west-1");
  batch.set_table("Music");
  const std::string body = batch.SerializeAsString();
  auto requests =
      BinaryAuthorizationRequests(service_, "ApplyReplicationBatch", body, {"r", "", kNowMicros});
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].action, "tidewater:ApplyReplicationBatch");
  EXPECT_EQ(requests[0].resource, Arn("Music"));
  EXPECT_EQ(requests[0].context.Find(keys::kSourceIp), nullptr);
  requests = BinaryAuthorizationRequests(service_, "ShardDigests", "", {"r", "", kNowMicros});
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].action, "tidewater:ShardDigests");
  EXPECT_EQ(requests[0].resource, "*");
}

// Decisions against a principal's policies: default deny, an Allow on the own partition,
// an explicit Deny that wins, and every item of a batch must be allowed.
TEST_F(RequestAuthorizationTest, AuthorizerAllowsOnlyWhatThePoliciesAllow) {
  auto own_items = security::ParsePolicy(R"({"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": "dynamodb:*", "Resource": ")" +
                                         Arn("Music") + R"(",
       "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}}},
      {"Sid": "NoDeletes", "Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}]})");
  ASSERT_TRUE(own_items.ok()) << own_items.status().ToString();
  auto store = ServerPolicyStore::Open("", {{"alice", {"OwnItems", *own_items}}});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  RequestAuthorizer authorizer(store->get(), /*audit_allowed=*/true);

  auto own = Build("GetItem", R"({"TableName": "Music",
      "Key": {"Artist": {"S": "alice"}, "Song": {"S": "x"}}})");
  EXPECT_TRUE(authorizer.Authorize("alice", own, "r1").ok());

  auto other = Build("GetItem", R"({"TableName": "Music",
      "Key": {"Artist": {"S": "bob"}, "Song": {"S": "x"}}})");
  Status denied = authorizer.Authorize("alice", other, "r2");
  EXPECT_EQ(denied.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(denied.message().find("dynamodb:GetItem"), std::string::npos) << denied.message();

  auto batch = Build("BatchGetItem", R"({"RequestItems": {"Music": {"Keys": [
      {"Artist": {"S": "alice"}, "Song": {"S": "1"}},
      {"Artist": {"S": "bob"}, "Song": {"S": "2"}}]}}})");
  EXPECT_EQ(authorizer.Authorize("alice", batch, "r3").code(), ErrorCode::kAccessDenied);

  auto own_delete = Build("DeleteItem", R"({"TableName": "Music",
      "Key": {"Artist": {"S": "alice"}, "Song": {"S": "x"}}})");
  denied = authorizer.Authorize("alice", own_delete, "r4");
  EXPECT_EQ(denied.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(denied.message().find("explicit deny"), std::string::npos) << denied.message();

  // Another principal has no policies at all.
  EXPECT_EQ(authorizer.Authorize("bob", own, "r5").code(), ErrorCode::kAccessDenied);
}

// Policies given at start sit beside stored ones: both apply, the given ones cannot be
// changed through the store, and they are never written.
TEST(ServerPolicyStoreTest, GivenPoliciesSitBesideStoredOnes) {
  testing::TempDir dir;
  auto allow_all = security::ParsePolicy(
      R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})");
  ASSERT_TRUE(allow_all.ok());
  const std::filesystem::path path = dir.Sub("policies.json");
  {
    auto store = ServerPolicyStore::Open(path, {{"admin", {"Everything", *allow_all}}});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->Put("admin", "Everything", *allow_all).code(), ErrorCode::kValidation);
    EXPECT_EQ((*store)->Delete("admin", "Everything").code(), ErrorCode::kValidation);
    ASSERT_TRUE((*store)->Put("admin", "Extra", *allow_all).ok());
    EXPECT_THAT((*store)->List("admin"), ElementsAre("Everything", "Extra"));
    EXPECT_EQ((*store)->PoliciesOf("admin")->size(), 2u);
    EXPECT_TRUE((*store)->IsGiven("admin", "Everything"));
    EXPECT_FALSE((*store)->IsGiven("admin", "Extra"));
  }
  auto reopened = ServerPolicyStore::Open(path, {});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_THAT((*reopened)->List("admin"), ElementsAre("Extra"));
}

}  // namespace
}  // namespace tidewater::server
