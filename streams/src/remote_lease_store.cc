// Leases in a remote tidewaterd's table through its DynamoDB API: Scan to list, PutItem
// with a ConditionExpression for every write.
#include <utility>

#include "client_pool.h"
#include "lease_item.h"
#include "remote_table.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/lease_store.h"

namespace tidewater::streams {
namespace {

class RemoteLeaseStore final : public LeaseStore {
 public:
  RemoteLeaseStore(std::unique_ptr<ClientPool> pool, std::string table)
      : pool_(std::move(pool)), table_(std::move(table)) {}

  // Creates the table when missing and waits until it is ACTIVE.
  Status EnsureTable() {
    return EnsureRemoteTable(*pool_, table_, "lease table", kLeaseKeyAttribute);
  }

  Result<std::vector<Lease>> ListAllLeases() override {
    std::vector<Lease> leases;
    TW_RETURN_IF_ERROR(ReadRemoteItems(
        *pool_, "Scan", table_, [](json::Writer&) {},
        [&](const Item& item) {
          TW_ASSIGN_OR_RETURN(Lease lease, LeaseFromItem(item));
          leases.push_back(std::move(lease));
          return Status::Ok();
        }));
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
  // PutItem of `lease` under `condition`; `expected` supplies :counter and :owner.
  Status Put(const Lease& lease, std::string_view condition, const Lease* expected) {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    WriteStringMember(w, "TableName", table_);
    w.Key("Item");
    json::WriteItem(LeaseToItem(lease), w);
    WriteStringMember(w, "ConditionExpression", condition);
    if (expected != nullptr) {
      w.Key("ExpressionAttributeNames");
      w.StartObject();
      WriteStringMember(w, "#counter", "leaseCounter");
      WriteStringMember(w, "#owner", "owner");
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
    return pool_->Call(DynamoDbTarget("PutItem"), BufferText(buffer)).status();
  }

  std::unique_ptr<ClientPool> pool_;
  const std::string table_;
};

}  // namespace

Result<std::unique_ptr<LeaseStore>> MakeRemoteLeaseStore(std::string endpoint_url,
                                                         std::string table,
                                                         std::chrono::milliseconds timeout) {
  TW_ASSIGN_OR_RETURN(std::optional<security::SigningIdentity> identity, ResolveClientIdentity());
  return MakeRemoteLeaseStore(std::move(endpoint_url), std::move(table),
                              ServiceClientOptions{timeout, std::move(identity)});
}

Result<std::unique_ptr<LeaseStore>> MakeRemoteLeaseStore(std::string endpoint_url,
                                                         std::string table,
                                                         ServiceClientOptions client) {
  TW_ASSIGN_OR_RETURN(std::unique_ptr<ClientPool> pool,
                      ClientPool::Create(std::move(endpoint_url), std::move(client)));
  auto store = std::make_unique<RemoteLeaseStore>(std::move(pool), std::move(table));
  TW_RETURN_IF_ERROR(store->EnsureTable());
  return std::unique_ptr<LeaseStore>(std::move(store));
}

}  // namespace tidewater::streams
