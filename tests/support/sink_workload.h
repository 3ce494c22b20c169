// Shared by the sink tests and the sink benchmark: a table with every attribute type,
// a deterministic workload of puts, updates and deletes on it, and a loop that drains a
// table's stream into a sink shard by shard (what the consumer SDK does, without leases).
#pragma once

#include <random>
#include <stop_token>
#include <string>

#include "support/throttle_retry.h"
#include "tidewater/connectors/sink.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::testing {

// Key: id (S) + n (N). Shards: 4. Stream: NEW_AND_OLD_IMAGES.
inline Status CreateSinkTable(Engine& engine, const std::string& name, uint32_t shards = 4) {
  CreateTableRequest request;
  request.name = name;
  request.key_schema.partition_key = {"id", AttributeType::kS};
  request.key_schema.sort_key = KeyAttribute{"n", AttributeType::kN};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = shards;
  return engine.CreateTable(request).status();
}

// An item of the workload table: every attribute type, exact numbers beyond a double.
inline Item WorkloadItem(int key, int version) {
  auto n = [](const std::string& text) { return AttributeValue::N(*Number::Parse(text)); };
  Item item;
  item["id"] = AttributeValue::S("key-" + std::to_string(key));
  item["n"] = AttributeValue::N(Number::FromInt64(key % 3));
  item["name"] = AttributeValue::S("name, \"quoted\"\tand\nnewline " + std::to_string(version));
  item["price"] = n("12345678901234567890.12345678901234567" + std::to_string(version % 10));
  item["tiny"] = n("0.000000000000000000000000000001");
  item["version"] = AttributeValue::N(Number::FromInt64(version));
  item["tags"] = AttributeValue::SS({"red", "v" + std::to_string(version)});
  item["blob"] = AttributeValue::B(std::string("\x00\x01\xff\\", 4));
  item["flag"] = AttributeValue::Bool(version % 2 == 0);
  item["nothing"] = AttributeValue::Null();
  item["nested"] =
      AttributeValue::M({{"city", AttributeValue::S("Lisbon")},
                         {"geo", AttributeValue::M({{"lat", n("38.7223")}, {"lon", n("-9.1393")}})},
                         {"list", AttributeValue::L({AttributeValue::S("x"), n("1")})}});
  if (version % 3 == 0) item["extra" + std::to_string(version % 4)] = AttributeValue::S("new");
  return item;
}

inline Item WorkloadKey(int key) {
  return Item{{"id", AttributeValue::S("key-" + std::to_string(key))},
              {"n", AttributeValue::N(Number::FromInt64(key % 3))}};
}

// `operations` random puts (70%) and deletes (30%) over `keys` keys. Stops early when
// `stop` is requested.
inline Status RunWorkload(Engine& engine, const std::string& table, int operations, int keys,
                          uint32_t seed, std::stop_token stop = {}) {
  std::mt19937 random(seed);
  for (int i = 0; i < operations && !stop.stop_requested(); ++i) {
    const int key = static_cast<int>(random() % static_cast<uint32_t>(keys));
    if (random() % 10 < 7) {
      TW_RETURN_IF_ERROR(engine.PutItem(table, WorkloadItem(key, i)).status());
    } else {
      TW_RETURN_IF_ERROR(engine.DeleteItem(table, WorkloadKey(key)).status());
    }
  }
  return Status::Ok();
}

// The workload table through a tidewaterd's DynamoDB API (the daemon's default shards).
inline Status CreateSinkTableRemote(streams::ServiceClient& client, const std::string& name) {
  return client
      .CallJson("DynamoDB_20120810.CreateTable",
                R"({"TableName":")" + name +
                    R"(","BillingMode":"PAY_PER_REQUEST",)"
                    R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"},)"
                    R"({"AttributeName":"n","KeyType":"RANGE"}],)"
                    R"("AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"},)"
                    R"({"AttributeName":"n","AttributeType":"N"}],)"
                    R"("StreamSpecification":{"StreamEnabled":true,)"
                    R"("StreamViewType":"NEW_AND_OLD_IMAGES"}})")
      .status();
}

// RunWorkload's operations (same mix and seed use) through a tidewaterd.
inline Status RunRemoteWorkload(streams::ServiceClient& client, const std::string& table,
                                int operations, int keys, uint32_t seed) {
  std::mt19937 random(seed);
  for (int i = 0; i < operations; ++i) {
    const int key = static_cast<int>(random() % static_cast<uint32_t>(keys));
    const bool put = random() % 10 < 7;
    const std::string body = put ? R"({"TableName":")" + table + R"(","Item":)" +
                                       json::ItemToJson(WorkloadItem(key, i)) + "}"
                                 : R"({"TableName":")" + table + R"(","Key":)" +
                                       json::ItemToJson(WorkloadKey(key)) + "}";
    TW_RETURN_IF_ERROR(
        CallJsonRetryingThrottles(
            client, put ? "DynamoDB_20120810.PutItem" : "DynamoDB_20120810.DeleteItem", body)
            .status());
  }
  return Status::Ok();
}

// Reads every shard of the source from the sink's position to the shard's current end,
// writing batches of `batch_records`. Returns the number of records written.
inline Result<size_t> DrainIntoSink(streams::ChangeSource& source, connectors::Sink& sink,
                                    const std::string& table, size_t batch_records) {
  TW_ASSIGN_OR_RETURN(std::vector<streams::SourceShard> shards, source.ListShards());
  size_t written = 0;
  for (const streams::SourceShard& shard : shards) {
    TW_ASSIGN_OR_RETURN(std::optional<SequenceNumber> position,
                        sink.Load(TableName(table), shard.index));
    SequenceNumber next = position.value_or(SequenceNumber(1));
    while (true) {
      TW_ASSIGN_OR_RETURN(streams::ChangeBatch batch, source.Read(shard.index, next, batch_records,
                                                                  std::chrono::milliseconds(0)));
      if (batch.records.empty()) break;
      streams::ShardBatch shard_batch;
      shard_batch.table = TableName(table);
      shard_batch.shard = shard.index;
      shard_batch.records = std::move(batch.records);
      TW_RETURN_IF_ERROR(sink.Write(shard_batch));
      written += shard_batch.records.size();
      next = batch.next_sequence;
    }
  }
  return written;
}

}  // namespace tidewater::testing
