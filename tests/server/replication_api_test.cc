// tidewaterd's internal replication operations (TidewaterReplication_20261126.*) over HTTP:
// Protobuf bodies in and out, DynamoDB-style error JSON, and versions that stay invisible
// through the DynamoDB and Streams APIs.
#include "test_server.h"
#include "tidewater/core/record_codec.h"
#include "tidewater/v1/replication.pb.h"

namespace tidewater::server::testing {
namespace {

constexpr char kPrefix[] = "TidewaterReplication_20261126.";
// A distinctive timestamp and region: neither may show through the DynamoDB API.
constexpr uint64_t kRemoteHlc = 1'799'999'999'123'457;
constexpr char kRemoteRegion[] = "zz-origin-9";

v1::ChangeRecord PutChange(const std::string& pk, const std::string& data, uint64_t hlc,
                           uint32_t shard, uint64_t sequence) {
  v1::ChangeRecord change;
  change.set_event(v1::INSERT);
  ToProto(Item{{"pk", AttributeValue::S(pk)}}, change.mutable_keys());
  ToProto(Item{{"pk", AttributeValue::S(pk)}, {"data", AttributeValue::S(data)}},
          change.mutable_new_image());
  change.mutable_version()->set_hlc_micros(hlc);
  change.mutable_version()->set_region(kRemoteRegion);
  change.set_origin_region(kRemoteRegion);
  change.set_shard(shard);
  change.set_sequence(sequence);
  return change;
}

class ReplicationApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    Ok("CreateTable", R"({"TableName":"Global",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
        "BillingMode":"PAY_PER_REQUEST",
        "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}})");
  }

  // Posts a Protobuf body to a replication operation.
  TestResponse CallBinary(const std::string& operation, const std::string& body) {
    return client_->Send({.headers = {{"Host", "localhost"},
                                      {"Content-Type", "application/x-protobuf"},
                                      {"X-Amz-Target", kPrefix + operation}},
                          .body = body});
  }

  // Calls an operation that must succeed and parses its Protobuf answer.
  template <typename Reply, typename Request>
  Reply OkBinary(const std::string& operation, const Request& request) {
    TestResponse response = CallBinary(operation, request.SerializeAsString());
    EXPECT_EQ(response.status, 200) << operation << ": " << response.body;
    EXPECT_EQ(response.header("Content-Type"), "application/x-protobuf");
    Reply reply;
    EXPECT_TRUE(reply.ParseFromString(response.body)) << operation;
    return reply;
  }

  // The error type of a replication operation that must fail with HTTP 400.
  std::string BinaryErrorType(const std::string& operation, const std::string& body) {
    TestResponse response = CallBinary(operation, body);
    EXPECT_EQ(response.status, 400) << operation;
    EXPECT_EQ(response.header("Content-Type"), "application/x-amz-json-1.0");
    rapidjson::Document document = ParseJson(response.body);
    if (!document.IsObject() || !document.HasMember("__type")) return "";
    std::string type = document["__type"].GetString();
    return type.substr(type.find('#') + 1);
  }

  v1::ReplicationBatch Batch(std::vector<v1::ChangeRecord> changes, uint32_t shard,
                             uint64_t next_sequence) {
    v1::ReplicationBatch batch;
    batch.set_table("Global");
    batch.set_source_region(kRemoteRegion);
    for (auto& change : changes) *batch.add_changes() = std::move(change);
    batch.mutable_checkpoint()->set_shard(shard);
    batch.mutable_checkpoint()->set_next_sequence(next_sequence);
    return batch;
  }

  // Every GetRecords answer of the table's stream, as raw bodies.
  std::string RawStreamRecords() {
    rapidjson::Document table = Ok("DescribeTable", R"({"TableName":"Global"})");
    const std::string arn = table["Table"]["LatestStreamArn"].GetString();
    rapidjson::Document stream =
        Ok("DynamoDBStreams_20120810.DescribeStream", R"({"StreamArn":")" + arn + "\"}");
    std::string bodies;
    for (const auto& shard : stream["StreamDescription"]["Shards"].GetArray()) {
      rapidjson::Document iterator =
          Ok("DynamoDBStreams_20120810.GetShardIterator",
             R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard["ShardId"].GetString() +
                 R"(","ShardIteratorType":"TRIM_HORIZON"})");
      bodies += client_
                    ->Call("DynamoDBStreams_20120810.GetRecords",
                           R"({"ShardIterator":")" +
                               std::string(iterator["ShardIterator"].GetString()) + "\"}")
                    .body;
    }
    return bodies;
  }
};

TEST_F(ReplicationApiTest, ApplyStoresChangesAndCheckpointAndVersionsStayHidden) {
  auto result = OkBinary<v1::ReplicationApplyResult>(
      "ApplyReplicationBatch",
      Batch({PutChange("a", "1", kRemoteHlc, 3, 7), PutChange("b", "1", kRemoteHlc, 3, 8)}, 3, 9));
  EXPECT_EQ(result.applied(), 2u);
  EXPECT_EQ(result.checkpoint_next_sequence(), 9u);

  // The same batch again: duplicates, nothing written.
  auto again = OkBinary<v1::ReplicationApplyResult>(
      "ApplyReplicationBatch",
      Batch({PutChange("a", "1", kRemoteHlc, 3, 7), PutChange("b", "1", kRemoteHlc, 3, 8)}, 3, 9));
  EXPECT_EQ(again.applied(), 0u);
  EXPECT_EQ(again.duplicates(), 2u);
  // An older change of a new batch loses to the stored version.
  auto older = OkBinary<v1::ReplicationApplyResult>(
      "ApplyReplicationBatch", Batch({PutChange("a", "old", kRemoteHlc - 1, 3, 9)}, 3, 10));
  EXPECT_EQ(older.skipped(), 1u);

  v1::GetReplicationCheckpointsRequest checkpoints_request;
  checkpoints_request.set_table("Global");
  checkpoints_request.set_source_region(kRemoteRegion);
  auto checkpoints = OkBinary<v1::GetReplicationCheckpointsResponse>("GetReplicationCheckpoints",
                                                                     checkpoints_request);
  ASSERT_EQ(checkpoints.checkpoints_size(), 1);
  EXPECT_EQ(checkpoints.checkpoints(0).shard(), 3u);
  EXPECT_EQ(checkpoints.checkpoints(0).next_sequence(), 10u);

  // Through the DynamoDB and Streams APIs: the items, never their versions.
  const std::string get =
      client_->Call("GetItem", R"({"TableName":"Global","Key":{"pk":{"S":"a"}}})").body;
  EXPECT_EQ(get, R"({"Item":{"data":{"S":"1"},"pk":{"S":"a"}}})");
  const std::string scan = client_->Call("Scan", R"({"TableName":"Global"})").body;
  const std::string records = RawStreamRecords();
  EXPECT_NE(records.find(R"("pk":{"S":"b"})"), std::string::npos) << records;
  for (const std::string& body : {get, scan, records}) {
    EXPECT_EQ(body.find(kRemoteRegion), std::string::npos) << body;
    EXPECT_EQ(body.find("123457"), std::string::npos) << body;
  }
}

TEST_F(ReplicationApiTest, SnapshotScanPagesWithPositionsAndShardDigests) {
  for (int i = 0; i < 25; ++i) {
    Ok("PutItem", R"({"TableName":"Global","Item":{"pk":{"S":"k)" + std::to_string(i) +
                      R"("},"data":{"S":"v"}}})");
  }
  Ok("DeleteItem", R"({"TableName":"Global","Key":{"pk":{"S":"k0"}}})");

  v1::SnapshotScanRequest scan;
  scan.set_table("Global");
  scan.set_limit(10);
  scan.set_include_tombstones(true);
  size_t items = 0;
  size_t tombstones = 0;
  uint64_t sequences = 0;
  for (int page = 0;; ++page) {
    auto reply = OkBinary<v1::SnapshotScanResponse>("SnapshotScan", scan);
    if (page == 0) {
      EXPECT_EQ(reply.positions_size(), 4);  // tidewaterd's default shard count
      for (const auto& position : reply.positions()) sequences += position.last_sequence();
    } else {
      EXPECT_EQ(reply.positions_size(), 0);
    }
    for (const auto& item : reply.items()) {
      EXPECT_GT(item.version().hlc_micros(), 0u);
      EXPECT_EQ(item.version().region(), "us-test-1");
      (item.deleted() ? tombstones : items) += 1;
    }
    if (!reply.has_last_evaluated_key()) break;
    *scan.mutable_exclusive_start_key() = reply.last_evaluated_key();
  }
  EXPECT_EQ(items, 24u);
  EXPECT_EQ(tombstones, 1u);
  EXPECT_EQ(sequences, 26u);  // every write so far is in the snapshot

  v1::ShardDigestsRequest digests_request;
  digests_request.set_table("Global");
  digests_request.set_ranges(2);
  auto digests = OkBinary<v1::ShardDigestsResponse>("ShardDigests", digests_request);
  ASSERT_EQ(digests.digests_size(), 2);
  EXPECT_EQ(digests.digests(0).item_count() + digests.digests(1).item_count(), 24u);
  EXPECT_EQ(digests.digests(0).digest().size(), 16u);
  EXPECT_EQ(digests.digests(1).hash_end(), UINT64_MAX);

  digests_request.set_list(true);
  digests_request.set_list_range(1);
  auto listing = OkBinary<v1::ShardDigestsResponse>("ShardDigests", digests_request);
  EXPECT_EQ(listing.entries_size(), static_cast<int>(digests.digests(1).item_count()));
  for (const auto& entry : listing.entries()) EXPECT_EQ(entry.hash().size(), 16u);
}

TEST_F(ReplicationApiTest, ErrorsAreDynamoDbStyleJson) {
  EXPECT_EQ(BinaryErrorType("ApplyReplicationBatch", "\xff\xff\xff not protobuf"),
            "SerializationException");
  v1::ReplicationBatch missing_table = Batch({}, 0, 1);
  missing_table.set_table("Nope");
  EXPECT_EQ(BinaryErrorType("ApplyReplicationBatch", missing_table.SerializeAsString()),
            "ResourceNotFoundException");
  v1::ChangeRecord no_image = PutChange("a", "1", kRemoteHlc, 0, 1);
  no_image.clear_new_image();
  EXPECT_EQ(BinaryErrorType("ApplyReplicationBatch", Batch({no_image}, 0, 2).SerializeAsString()),
            "ValidationException");
  v1::ShardDigestsRequest bad_range;
  bad_range.set_table("Global");
  bad_range.set_list(true);
  bad_range.set_list_range(99);
  EXPECT_EQ(BinaryErrorType("ShardDigests", bad_range.SerializeAsString()), "ValidationException");
  EXPECT_EQ(ErrorType("TidewaterReplication_20261126.NoSuchOperation", "{}"),
            "UnknownOperationException");
}

}  // namespace
}  // namespace tidewater::server::testing
