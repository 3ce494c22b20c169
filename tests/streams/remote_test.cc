// The consumer SDK against a tidewaterd process: the remote Streams source returns the
// log's records field for field (the opt-in metadata extension), standard clients see
// DynamoDB's shape unchanged, and a consumer runs on remote leases.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <mutex>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"
#include "tidewater/streams/remote_source.h"
#include "tidewater/streams/service_client.h"
#include "tidewater/streams/stream_record_json.h"

namespace tidewater::streams {
namespace {

using std::chrono::milliseconds;
using testing::TempDir;
using testing::TidewaterdProcess;

class RemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<TidewaterdProcess>(TW_TIDEWATERD, dir_.Sub("data"), "eu-test-1");
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
    auto client = ServiceClient::Create(daemon_->url());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    Call("CreateTable",
         R"({"TableName":"orders","BillingMode":"PAY_PER_REQUEST",)"
         R"("KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
         R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
         R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}})");
  }

  std::string Call(const std::string& operation, const std::string& body,
                   const HttpHeaders& headers = {}) {
    const std::string target =
        operation.find('.') == std::string::npos ? "DynamoDB_20120810." + operation : operation;
    auto answer = client_->CallJson(target, body, headers);
    EXPECT_TRUE(answer.ok()) << operation << ": " << answer.status().ToString();
    return answer.ok() ? *answer : std::string();
  }

  // The first GetRecords page of a shard from TRIM_HORIZON, sent with `headers`.
  rapidjson::Document FirstPage(const std::string& arn, const std::string& shard_id,
                                const HttpHeaders& headers) {
    rapidjson::Document iterator;
    iterator.Parse(Call("DynamoDBStreams_20120810.GetShardIterator",
                        R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard_id +
                            R"(","ShardIteratorType":"TRIM_HORIZON"})")
                       .c_str());
    rapidjson::Document records;
    records.Parse(
        Call("DynamoDBStreams_20120810.GetRecords",
             std::string(R"({"ShardIterator":")") + iterator["ShardIterator"].GetString() + R"("})",
             headers)
            .c_str());
    return records;
  }

  void Put(const std::string& item) {
    Call("PutItem", R"({"TableName":"orders","Item":)" + item + "}");
  }

  // Every record of every shard through `source`, once each shard has `at_least` in all.
  std::vector<ChangeRecord> ReadAll(ChangeSource& source, size_t at_least) {
    std::vector<ChangeRecord> all;
    std::map<ShardIndex, SequenceNumber> next;
    for (int round = 0; round < 200 && all.size() < at_least; ++round) {
      auto shards = source.ListShards();
      EXPECT_TRUE(shards.ok()) << shards.status().ToString();
      if (!shards.ok()) return all;
      for (const SourceShard& shard : *shards) {
        SequenceNumber& from = next.try_emplace(shard.index, 1).first->second;
        auto batch = source.Read(shard.index, from, 1000, milliseconds(0));
        EXPECT_TRUE(batch.ok()) << batch.status().ToString();
        if (!batch.ok()) return all;
        for (ChangeRecord& record : batch->records) all.push_back(std::move(record));
        from = batch->next_sequence;
      }
      if (all.size() < at_least) std::this_thread::sleep_for(milliseconds(50));
    }
    return all;
  }

  TempDir dir_;
  std::unique_ptr<TidewaterdProcess> daemon_;
  std::unique_ptr<ServiceClient> client_;
};

TEST_F(RemoteTest, RemoteSourceReturnsEveryFieldOfTheLog) {
  Call(
      "UpdateTimeToLive",
      R"({"TableName":"orders","TimeToLiveSpecification":{"Enabled":true,"AttributeName":"expires"}})");
  Put(R"({"pk":{"S":"all-types"},"s":{"S":"héllo"},"n":{"N":"-12.500"},"b":{"B":"AAEC"},)"
      R"("t":{"BOOL":true},"z":{"NULL":true},"l":{"L":[{"N":"1"},{"S":"x"}]},)"
      R"("m":{"M":{"inner":{"SS":["a","b"]}}},"ns":{"NS":["1","2.5"]},"bs":{"BS":["AQ==","Ag=="]}})");
  Put(R"({"pk":{"S":"changed"},"v":{"N":"1"}})");
  Call("UpdateItem",
       R"({"TableName":"orders","Key":{"pk":{"S":"changed"}},"UpdateExpression":"SET v = :v",)"
       R"("ExpressionAttributeValues":{":v":{"N":"2"}}})");
  Call("DeleteItem", R"({"TableName":"orders","Key":{"pk":{"S":"changed"}}})");
  Call("TransactWriteItems",
       R"({"TransactItems":[{"Put":{"TableName":"orders","Item":{"pk":{"S":"tx-1"}}}},)"
       R"({"Put":{"TableName":"orders","Item":{"pk":{"S":"tx-2"}}}},)"
       R"({"Put":{"TableName":"orders","Item":{"pk":{"S":"tx-3"}}}}]})");
  const int64_t a_minute_ago = Clock::System()->NowSeconds() - 60;
  Put(R"({"pk":{"S":"expired"},"expires":{"N":")" + std::to_string(a_minute_ago) + R"("}})");
  // 1 + 3 + 3 + 1 writes, and the TTL sweeper's delete (within its 1 s interval).
  auto source = MakeRemoteStreamsSource(daemon_->url(), TableName("orders"));
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  const std::vector<ChangeRecord> remote = ReadAll(**source, 9);
  ASSERT_EQ(remote.size(), 9u);
  auto remote_shards = (*source)->ListShards();
  ASSERT_TRUE(remote_shards.ok());

  // A standard client sees DynamoDB's shape; asking for the extension adds "tidewater".
  rapidjson::Document described;
  described.Parse(
      Call("DynamoDBStreams_20120810.ListStreams", R"({"TableName":"orders"})").c_str());
  const std::string arn = described["Streams"][0]["StreamArn"].GetString();
  const std::string shard_id = [&] {
    rapidjson::Document d;
    d.Parse(Call("DynamoDBStreams_20120810.DescribeStream", R"({"StreamArn":")" + arn + R"("})")
                .c_str());
    for (const auto& shard : d["StreamDescription"]["Shards"].GetArray()) {
      EXPECT_FALSE(shard.HasMember("tidewater"));
    }
    return std::string(d["StreamDescription"]["Shards"][remote[0].shard()]["ShardId"].GetString());
  }();
  for (const bool extension : {false, true}) {
    HttpHeaders headers;
    if (extension) headers.emplace_back(kRecordMetadataHeader, "1");
    const rapidjson::Document records = FirstPage(arn, shard_id, headers);
    ASSERT_FALSE(records["Records"].Empty());
    for (const auto& record : records["Records"].GetArray()) {
      EXPECT_EQ(record.HasMember("tidewater"), extension);
    }
  }

  // The daemon's log, read directly, holds exactly the records the remote source returned.
  daemon_->Stop();
  auto engine = Engine::Open(testing::TestEngineOptions(dir_.Sub("data")));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto table = (*engine)->DescribeTable("orders");
  ASSERT_TRUE(table.ok());
  std::vector<ChangeRecord> logged;
  for (const ShardDescription& shard : table->shards) {
    auto read = (*engine)->ReadShard({TableName("orders"), shard.index, SequenceNumber(1), 1000});
    ASSERT_TRUE(read.ok());
    for (ChangeRecord& record : read->records) logged.push_back(std::move(record));
    const SourceShard& remote_shard = (*remote_shards)[shard.index.value()];
    EXPECT_EQ(remote_shard.index, shard.index);
    EXPECT_EQ(remote_shard.first_sequence, shard.first_sequence);
    EXPECT_EQ(remote_shard.last_sequence, shard.last_sequence);
    EXPECT_EQ(remote_shard.closed, shard.closed);
  }
  ASSERT_EQ(logged.size(), remote.size());
  std::map<std::pair<uint32_t, uint64_t>, const ChangeRecord*> by_id;
  for (const ChangeRecord& record : remote) by_id[{record.shard(), record.sequence()}] = &record;
  bool saw_ttl = false;
  bool saw_transaction = false;
  for (const ChangeRecord& record : logged) {
    const ChangeRecord* mirror = by_id[{record.shard(), record.sequence()}];
    ASSERT_NE(mirror, nullptr) << record.ShortDebugString();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(record, *mirror))
        << "log:    " << record.ShortDebugString() << "\nremote: " << mirror->ShortDebugString();
    saw_ttl |= record.provenance() == v1::TTL;
    saw_transaction |= !record.transaction_id().empty();
  }
  EXPECT_TRUE(saw_ttl);
  EXPECT_TRUE(saw_transaction);
}

// PositionAtTime over the Streams API (GetShardIterator AT_TIMESTAMP with the extension)
// answers what a scan of the shard's records does, to the micro-second.
TEST_F(RemoteTest, RemoteSourceFindsPositionsByTime) {
  for (int i = 0; i < 30; ++i) Put(R"({"pk":{"S":"item-)" + std::to_string(i) + R"("}})");
  auto source = MakeRemoteStreamsSource(daemon_->url(), TableName("orders"));
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  const std::vector<ChangeRecord> records = ReadAll(**source, 30);
  ASSERT_EQ(records.size(), 30u);
  std::map<uint32_t, std::vector<const ChangeRecord*>> by_shard;  // in sequence order
  for (const ChangeRecord& record : records) by_shard[record.shard()].push_back(&record);
  for (const auto& [shard, in_shard] : by_shard) {
    // (A structured binding is captured through an init-capture: clang 14 refuses it
    // otherwise.)
    auto expected = [&list = in_shard](int64_t time) {
      for (const ChangeRecord* record : list) {
        if (record->approximate_creation_time_micros() >= time) {
          return TimePosition{.sequence = SequenceNumber(record->sequence()),
                              .at_trim_horizon = record == list.front()};
        }
      }
      return TimePosition{.sequence = SequenceNumber(list.back()->sequence()).Next()};
    };
    for (const ChangeRecord* record : in_shard) {
      for (int64_t time : {record->approximate_creation_time_micros() - 1,
                           record->approximate_creation_time_micros(),
                           record->approximate_creation_time_micros() + 1}) {
        auto found = (*source)->PositionAtTime(ShardIndex(shard), time);
        ASSERT_TRUE(found.ok()) << found.status().ToString();
        EXPECT_EQ(*found, expected(time)) << "shard " << shard << " time " << time;
      }
    }
  }
}

TEST_F(RemoteTest, ConsumerRunsOnRemoteSourceAndRemoteLeases) {
  auto source = MakeRemoteStreamsSource(daemon_->url(), TableName("orders"));
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto leases = MakeRemoteLeaseStore(daemon_->url(), "consumer_leases");
  ASSERT_TRUE(leases.ok()) << leases.status().ToString();
  for (int i = 0; i < 60; ++i) Put(R"({"pk":{"S":"item-)" + std::to_string(i) + R"("}})");

  std::mutex mu;
  std::map<uint32_t, std::vector<uint64_t>> seen;
  ConsumerOptions options;
  options.table = "orders";
  options.application = "remote-app";
  options.worker_id = "w1";
  options.max_batch_records = 8;
  options.lease_duration = milliseconds(1000);
  auto consumer = StreamConsumer::Create(options, **source, **leases, [&](const ShardBatch& batch) {
    std::lock_guard lock(mu);
    for (const ChangeRecord& record : batch.records)
      seen[batch.shard.value()].push_back(record.sequence());
    return Status::Ok();
  });
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->Start().ok());
  for (int i = 60; i < 100; ++i) Put(R"({"pk":{"S":"item-)" + std::to_string(i) + R"("}})");

  auto shards = (*source)->ListShards();
  ASSERT_TRUE(shards.ok());
  auto all_checkpointed = [&] {
    auto listed = (*leases)->ListLeases("remote-app", TableName("orders"));
    if (!listed.ok() || listed->size() != shards->size()) return false;
    auto now = (*source)->ListShards();
    for (const Lease& lease : *listed) {
      if (lease.checkpoint.value_or(SequenceNumber(1)) !=
          (*now)[lease.shard.value()].last_sequence.Next()) {
        return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(testing::WaitFor(all_checkpointed, std::chrono::seconds(10), milliseconds(20)));
  (*consumer)->Stop();
  size_t total = 0;
  auto final_shards = (*source)->ListShards();
  ASSERT_TRUE(final_shards.ok());
  for (const SourceShard& shard : *final_shards) {
    std::vector<uint64_t> expected;
    for (uint64_t s = 1; s <= shard.last_sequence.value(); ++s) expected.push_back(s);
    EXPECT_EQ(seen[shard.index.value()], expected) << "shard " << shard.index;
    total += seen[shard.index.value()].size();
  }
  EXPECT_EQ(total, 100u);
  auto listed = (*leases)->ListLeases("remote-app", TableName("orders"));
  ASSERT_TRUE(listed.ok());
  for (const Lease& lease : *listed) EXPECT_EQ(lease.owner, "") << "released on Stop";
}

TEST_F(RemoteTest, RemoteLeaseWritesAreConditional) {
  auto leases = MakeRemoteLeaseStore(daemon_->url(), "leases");
  ASSERT_TRUE(leases.ok()) << leases.status().ToString();
  Lease lease{.application = "app",
              .table = TableName("orders"),
              .shard = ShardIndex(2),
              .parent = ShardIndex(1)};
  ASSERT_TRUE((*leases)->CreateLease(lease).ok());
  EXPECT_EQ((*leases)->CreateLease(lease).code(), ErrorCode::kConditionalCheckFailed);
  Lease taken = lease;
  taken.owner = "w1";
  taken.counter = 1;
  ASSERT_TRUE((*leases)->UpdateLease(lease, taken).ok());
  // A second worker that saw the free lease loses the race.
  Lease other = lease;
  other.owner = "w2";
  other.counter = 1;
  EXPECT_EQ((*leases)->UpdateLease(lease, other).code(), ErrorCode::kConditionalCheckFailed);
  Lease checkpointed = taken;
  checkpointed.counter = 2;
  checkpointed.checkpoint = SequenceNumber(42);
  ASSERT_TRUE((*leases)->UpdateLease(taken, checkpointed).ok());
  auto listed = (*leases)->ListLeases("app", TableName("orders"));
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0], checkpointed);
  EXPECT_TRUE((*leases)->ListLeases("other-app", TableName("orders"))->empty());
}

TEST_F(RemoteTest, RemoteSourceCarriesTheResolvedTimeOnlyWhenReadToTheEnd) {
  for (int i = 0; i < 20; ++i) Put(R"({"pk":{"S":"w)" + std::to_string(i) + R"("}})");
  auto source = MakeRemoteStreamsSource(daemon_->url(), TableName("orders"));
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto shards = (*source)->ListShards();
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  bool stopped_short = false;
  for (const SourceShard& shard : *shards) {
    auto all = (*source)->Read(shard.index, SequenceNumber(1), 1000, milliseconds(0));
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ASSERT_TRUE(all->resolved_micros.has_value()) << "shard " << shard.index.value();
    for (const ChangeRecord& record : all->records) {
      EXPECT_GT(*all->resolved_micros, record.approximate_creation_time_micros());
    }
    // Idle: a later read of the shard's end tells a later time.
    const int64_t first = *all->resolved_micros;
    EXPECT_TRUE(testing::WaitFor([&] {
      auto again = (*source)->Read(shard.index, all->next_sequence, 1000, milliseconds(0));
      return again.ok() && again->resolved_micros.value_or(0) > first;
    })) << "the resolved time of idle shard "
        << shard.index.value() << " did not advance";
    if (all->records.size() >= 2) {
      auto part = (*source)->Read(shard.index, SequenceNumber(1), 1, milliseconds(0));
      ASSERT_TRUE(part.ok()) << part.status().ToString();
      EXPECT_EQ(part->records.size(), 1u);
      EXPECT_FALSE(part->resolved_micros.has_value()) << "the read stopped short of the end";
      stopped_short = true;
    }
  }
  EXPECT_TRUE(stopped_short);

  // Only a client that asks gets the member (a standard client sees DynamoDB's shape).
  rapidjson::Document described;
  described.Parse(
      Call("DynamoDBStreams_20120810.ListStreams", R"({"TableName":"orders"})").c_str());
  const std::string arn = described["Streams"][0]["StreamArn"].GetString();
  rapidjson::Document stream;
  stream.Parse(
      Call("DynamoDBStreams_20120810.DescribeStream", R"({"StreamArn":")" + arn + R"("})").c_str());
  const std::string shard_id = stream["StreamDescription"]["Shards"][0]["ShardId"].GetString();
  for (const bool asked : {false, true}) {
    HttpHeaders headers;
    if (asked) headers.emplace_back(kWatermarkHeader, "1");
    const rapidjson::Document records = FirstPage(arn, shard_id, headers);
    EXPECT_EQ(records.HasMember(kResolvedTimeMember), asked);
  }
}

}  // namespace
}  // namespace tidewater::streams
