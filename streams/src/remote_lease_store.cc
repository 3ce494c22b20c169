// Leases in a remote tidewaterd's table through its DynamoDB API: Scan to list, PutItem
// with a ConditionExpression for every write.
#include <thread>
#include <utility>

#include "client_pool.h"
#include "lease_item.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/lease_store.h"

namespace tidewater::streams {
namespace {

constexpr std::string_view kDynamoDb = "DynamoDB_20120810.";

std::string Target(std::string_view operation) {
  return std::string(kDynamoDb) + std::string(operation);
}

void Key(json::Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string Text(const rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

class RemoteLeaseStore final : public LeaseStore {
 public:
  RemoteLeaseStore(std::unique_ptr<ClientPool> pool, std::string table)
      : pool_(std::move(pool)), table_(std::move(table)) {}

  // Creates the table when missing and waits until it is ACTIVE.
  Status EnsureTable() {
    for (int attempt = 0; attempt < 100; ++attempt) {
      rapidjson::StringBuffer buffer;
      json::Writer w(buffer);
      w.StartObject();
      Key(w, "TableName", table_);
      w.EndObject();
      auto described = pool_->Call(Target("DescribeTable"), Text(buffer));
      if (described.ok()) {
        const auto& table = (*described)["Table"];
        if (table.IsObject() && table.HasMember("TableStatus") &&
            std::string_view(table["TableStatus"].GetString()) == "ACTIVE") {
          return Status::Ok();
        }
      } else if (described.status().code() == ErrorCode::kResourceNotFound) {
        TW_RETURN_IF_ERROR(CreateTable());
        continue;
      } else {
        return described.status();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Status::Internal("lease table " + table_ + " did not become ACTIVE");
  }

  Result<std::vector<Lease>> ListAllLeases() override {
    std::vector<Lease> leases;
    std::optional<std::string> start_key;
    do {
      rapidjson::StringBuffer buffer;
      json::Writer w(buffer);
      w.StartObject();
      Key(w, "TableName", table_);
      w.Key("ConsistentRead");
      w.Bool(true);
      if (start_key) {
        w.Key("ExclusiveStartKey");
        w.RawValue(start_key->data(), start_key->size(), rapidjson::kObjectType);
      }
      w.EndObject();
      TW_ASSIGN_OR_RETURN(rapidjson::Document page, pool_->Call(Target("Scan"), Text(buffer)));
      if (!page.HasMember("Items") || !page["Items"].IsArray()) {
        return Status::Internal("Scan of " + table_ + " answered no Items");
      }
      for (const auto& json_item : page["Items"].GetArray()) {
        TW_ASSIGN_OR_RETURN(Item item, json::ParseItem(json_item));
        TW_ASSIGN_OR_RETURN(Lease lease, LeaseFromItem(item));
        leases.push_back(std::move(lease));
      }
      start_key.reset();
      if (page.HasMember("LastEvaluatedKey")) {
        rapidjson::StringBuffer key_buffer;
        json::Writer key_writer(key_buffer);
        page["LastEvaluatedKey"].Accept(key_writer);
        start_key = Text(key_buffer);
      }
    } while (start_key);
    return leases;
  }

  Status CreateLease(const Lease& lease) override {
    return Put(lease, "attribute_not_exists(leaseKey)", nullptr);
  }

  Status UpdateLease(const Lease& expected, const Lease& updated) override {
    return Put(updated,
               expected.owner.empty() ? "#counter = :counter AND attribute_not_exists(#owner)"
                                      : "#counter = :counter AND #owner = :owner",
               &expected);
  }

 private:
  Status CreateTable() {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    Key(w, "TableName", table_);
    w.Key("KeySchema");
    w.StartArray();
    w.StartObject();
    Key(w, "AttributeName", kLeaseKeyAttribute);
    Key(w, "KeyType", "HASH");
    w.EndObject();
    w.EndArray();
    w.Key("AttributeDefinitions");
    w.StartArray();
    w.StartObject();
    Key(w, "AttributeName", kLeaseKeyAttribute);
    Key(w, "AttributeType", "S");
    w.EndObject();
    w.EndArray();
    Key(w, "BillingMode", "PAY_PER_REQUEST");
    w.EndObject();
    auto created = pool_->Call(Target("CreateTable"), Text(buffer));
    // Another worker may have created it meanwhile.
    if (!created.ok() && created.status().code() != ErrorCode::kResourceInUse) {
      return created.status();
    }
    return Status::Ok();
  }

  // PutItem of `lease` under `condition`; `expected` supplies :counter and :owner.
  Status Put(const Lease& lease, std::string_view condition, const Lease* expected) {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    Key(w, "TableName", table_);
    w.Key("Item");
    json::WriteItem(LeaseToItem(lease), w);
    Key(w, "ConditionExpression", condition);
    if (expected != nullptr) {
      w.Key("ExpressionAttributeNames");
      w.StartObject();
      Key(w, "#counter", "leaseCounter");
      Key(w, "#owner", "owner");
      w.EndObject();
      w.Key("ExpressionAttributeValues");
      w.StartObject();
      w.Key(":counter");
      json::WriteAttributeValue(
          AttributeValue::N(*Number::Parse(std::to_string(expected->counter))), w);
      if (!expected->owner.empty()) {
        w.Key(":owner");
        json::WriteAttributeValue(AttributeValue::S(expected->owner), w);
      }
      w.EndObject();
    }
    w.EndObject();
    return pool_->Call(Target("PutItem"), Text(buffer)).status();
  }

  std::unique_ptr<ClientPool> pool_;
  const std::string table_;
};

}  // namespace

Result<std::unique_ptr<LeaseStore>> MakeRemoteLeaseStore(std::string endpoint_url,
                                                         std::string table,
                                                         std::chrono::milliseconds timeout) {
  TW_ASSIGN_OR_RETURN(std::unique_ptr<ClientPool> pool,
                      ClientPool::Create(std::move(endpoint_url), timeout));
  auto store = std::make_unique<RemoteLeaseStore>(std::move(pool), std::move(table));
  TW_RETURN_IF_ERROR(store->EnsureTable());
  return std::unique_ptr<LeaseStore>(std::move(store));
}

}  // namespace tidewater::streams
