// The quarantine table (quarantine.h) in an engine of this process or a remote tidewaterd.
#include <cstdio>
#include <utility>

#include "client_pool.h"
#include "remote_table.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/quarantine.h"

namespace tidewater::streams {
namespace {

constexpr char kPartitionAttribute[] = "quarantineKey";
constexpr char kSortAttribute[] = "position";

AttributeValue Integer(uint64_t value) {
  return AttributeValue::N(*Number::Parse(std::to_string(value)));
}

Item ToItem(const QuarantinedRecord& record) {
  Item item;
  item = QuarantineItemKey(record);
  item["sequence"] = Integer(record.sequence.value());
  item["consumer"] = AttributeValue::S(record.consumer);
  item["tableName"] = AttributeValue::S(record.table.value());
  item["shard"] = Integer(record.shard.value());
  item["key"] = AttributeValue::S(record.key);
  item["reason"] = AttributeValue::S(record.reason);
  item["parkedTime"] = Integer(static_cast<uint64_t>(record.parked_millis));
  item["record"] = AttributeValue::S(record.record_json);
  return item;
}

Result<uint64_t> IntegerOf(const Item& item, std::string_view name) {
  auto it = item.find(name);
  int64_t value = 0;
  if (it == item.end() || !it->second.is(AttributeType::kN) || !it->second.n().ToInt64(&value) ||
      value < 0) {
    return Status::Serialization("quarantine item: " + std::string(name) + " is not an integer");
  }
  return static_cast<uint64_t>(value);
}

Result<std::string> StringOf(const Item& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || !it->second.is(AttributeType::kS)) {
    return Status::Serialization("quarantine item: " + std::string(name) + " is not a string");
  }
  return it->second.s();
}

Result<QuarantinedRecord> FromItem(const Item& item) {
  QuarantinedRecord record;
  TW_ASSIGN_OR_RETURN(record.consumer, StringOf(item, "consumer"));
  TW_ASSIGN_OR_RETURN(std::string table, StringOf(item, "tableName"));
  record.table = TableName(std::move(table));
  TW_ASSIGN_OR_RETURN(uint64_t shard, IntegerOf(item, "shard"));
  record.shard = ShardIndex(static_cast<uint32_t>(shard));
  TW_ASSIGN_OR_RETURN(uint64_t sequence, IntegerOf(item, "sequence"));
  record.sequence = SequenceNumber(sequence);
  TW_ASSIGN_OR_RETURN(record.key, StringOf(item, "key"));
  TW_ASSIGN_OR_RETURN(record.reason, StringOf(item, "reason"));
  TW_ASSIGN_OR_RETURN(uint64_t parked, IntegerOf(item, "parkedTime"));
  record.parked_millis = static_cast<int64_t>(parked);
  TW_ASSIGN_OR_RETURN(record.record_json, StringOf(item, "record"));
  return record;
}

class EngineQuarantineStore final : public QuarantineStore {
 public:
  EngineQuarantineStore(Engine& engine, std::string table)
      : engine_(engine), table_(std::move(table)) {}

  Status Park(const QuarantinedRecord& record) override {
    auto absent = [](const Item* current) {
      return current == nullptr ? Status::Ok() : Status::ConditionFailed();
    };
    Status put = engine_.PutItem(table_, ToItem(record), absent).status();
    if (put.code() == ErrorCode::kConditionalCheckFailed) return Status::Ok();
    return put;
  }

  Result<std::vector<QuarantinedRecord>> List(const std::string& consumer,
                                              const TableName& table) override {
    std::vector<QuarantinedRecord> records;
    QueryRequest query;
    query.table = table_;
    query.partition_key = AttributeValue::S(QuarantinePartition(consumer, table));
    do {
      TW_ASSIGN_OR_RETURN(ItemPage page, engine_.Query(query));
      for (const Item& item : page.items) {
        TW_ASSIGN_OR_RETURN(QuarantinedRecord record, FromItem(item));
        records.push_back(std::move(record));
      }
      query.exclusive_start_key = std::move(page.last_evaluated_key);
    } while (query.exclusive_start_key);
    return records;
  }

 private:
  Engine& engine_;
  const std::string table_;
};

class RemoteQuarantineStore final : public QuarantineStore {
 public:
  RemoteQuarantineStore(std::unique_ptr<ClientPool> pool, std::string table)
      : pool_(std::move(pool)), table_(std::move(table)) {}

  // Creates the table when missing and waits until it is ACTIVE.
  Status EnsureTable() {
    return EnsureRemoteTable(*pool_, table_, "quarantine table", kPartitionAttribute,
                             kSortAttribute);
  }

  Status Park(const QuarantinedRecord& record) override {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    WriteStringMember(w, "TableName", table_);
    w.Key("Item");
    json::WriteItem(ToItem(record), w);
    WriteStringMember(w, "ConditionExpression", "attribute_not_exists(quarantineKey)");
    w.EndObject();
    Status put = pool_->Call(DynamoDbTarget("PutItem"), BufferText(buffer)).status();
    if (put.code() == ErrorCode::kConditionalCheckFailed) return Status::Ok();
    return put;
  }

  Result<std::vector<QuarantinedRecord>> List(const std::string& consumer,
                                              const TableName& table) override {
    std::vector<QuarantinedRecord> records;
    TW_RETURN_IF_ERROR(ReadRemoteItems(
        *pool_, "Query", table_,
        [&](json::Writer& w) {
          WriteStringMember(w, "KeyConditionExpression", "quarantineKey = :partition");
          w.Key("ExpressionAttributeValues");
          w.StartObject();
          w.Key(":partition");
          json::WriteAttributeValue(AttributeValue::S(QuarantinePartition(consumer, table)), w);
          w.EndObject();
        },
        [&](const Item& item) {
          TW_ASSIGN_OR_RETURN(QuarantinedRecord record, FromItem(item));
          records.push_back(std::move(record));
          return Status::Ok();
        }));
    return records;
  }

 private:
  std::unique_ptr<ClientPool> pool_;
  const std::string table_;
};

}  // namespace

std::string QuarantinePartition(const std::string& consumer, const TableName& table) {
  return consumer + "/" + table.value();
}

std::string QuarantinePosition(ShardIndex shard, SequenceNumber sequence) {
  char text[40];
  std::snprintf(text, sizeof(text), "%010u/%020llu", shard.value(),
                static_cast<unsigned long long>(sequence.value()));
  return text;
}

Item QuarantineItemKey(const QuarantinedRecord& record) {
  return {
      {kPartitionAttribute, AttributeValue::S(QuarantinePartition(record.consumer, record.table))},
      {kSortAttribute, AttributeValue::S(QuarantinePosition(record.shard, record.sequence))}};
}

Result<std::set<std::string>> QuarantineStore::QuarantinedKeys(const std::string& consumer,
                                                               const TableName& table) {
  TW_ASSIGN_OR_RETURN(std::vector<QuarantinedRecord> records, List(consumer, table));
  std::set<std::string> keys;
  for (QuarantinedRecord& record : records) keys.insert(std::move(record.key));
  return keys;
}

Result<std::unique_ptr<QuarantineStore>> MakeEngineQuarantineStore(Engine& engine,
                                                                   std::string table) {
  auto described = engine.DescribeTable(table);
  if (!described.ok()) {
    if (described.status().code() != ErrorCode::kResourceNotFound) return described.status();
    CreateTableRequest create;
    create.name = table;
    create.key_schema.partition_key = KeyAttribute{kPartitionAttribute, AttributeType::kS};
    create.key_schema.sort_key = KeyAttribute{kSortAttribute, AttributeType::kS};
    create.shard_count = 1;
    auto created = engine.CreateTable(create);
    // Another store may have created it meanwhile.
    if (!created.ok() && created.status().code() != ErrorCode::kResourceInUse) {
      return created.status();
    }
  }
  return std::unique_ptr<QuarantineStore>(
      std::make_unique<EngineQuarantineStore>(engine, std::move(table)));
}

Result<std::unique_ptr<QuarantineStore>> MakeRemoteQuarantineStore(
    std::string endpoint_url, std::string table, std::chrono::milliseconds timeout) {
  TW_ASSIGN_OR_RETURN(std::optional<security::SigningIdentity> identity, ResolveClientIdentity());
  return MakeRemoteQuarantineStore(std::move(endpoint_url), std::move(table),
                                   ServiceClientOptions{timeout, std::move(identity)});
}

Result<std::unique_ptr<QuarantineStore>> MakeRemoteQuarantineStore(std::string endpoint_url,
                                                                   std::string table,
                                                                   ServiceClientOptions client) {
  TW_ASSIGN_OR_RETURN(std::unique_ptr<ClientPool> pool,
                      ClientPool::Create(std::move(endpoint_url), std::move(client)));
  auto store = std::make_unique<RemoteQuarantineStore>(std::move(pool), std::move(table));
  TW_RETURN_IF_ERROR(store->EnsureTable());
  return std::unique_ptr<QuarantineStore>(std::move(store));
}

}  // namespace tidewater::streams
