#include "lease_item.h"

#include <algorithm>
#include <cstdint>

namespace tidewater::streams {
namespace {

AttributeValue Integer(uint64_t value) {
  return AttributeValue::N(*Number::Parse(std::to_string(value)));
}

// The attribute as a non-negative integer, or nullopt when absent or malformed.
std::optional<uint64_t> GetInteger(const Item& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || !it->second.is(AttributeType::kN)) return std::nullopt;
  int64_t value = 0;
  if (!it->second.n().ToInt64(&value) || value < 0) return std::nullopt;
  return static_cast<uint64_t>(value);
}

const std::string* GetString(const Item& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || !it->second.is(AttributeType::kS)) return nullptr;
  return &it->second.s();
}

}  // namespace

std::string Lease::Key() const {
  return application + "/" + table.value() + "/" + std::to_string(shard.value());
}

Result<std::vector<Lease>> LeaseStore::ListLeases(const std::string& application,
                                                  const TableName& table) {
  TW_ASSIGN_OR_RETURN(std::vector<Lease> all, ListAllLeases());
  std::vector<Lease> leases;
  for (Lease& lease : all) {
    if (lease.application == application && lease.table == table) {
      leases.push_back(std::move(lease));
    }
  }
  std::sort(leases.begin(), leases.end(),
            [](const Lease& a, const Lease& b) { return a.shard < b.shard; });
  return leases;
}

Item LeaseToItem(const Lease& lease) {
  Item item;
  item[kLeaseKeyAttribute] = AttributeValue::S(lease.Key());
  item["application"] = AttributeValue::S(lease.application);
  item["tableName"] = AttributeValue::S(lease.table.value());
  item["shard"] = Integer(lease.shard.value());
  if (lease.parent) item["parentShard"] = Integer(lease.parent->value());
  if (!lease.owner.empty()) item["owner"] = AttributeValue::S(lease.owner);
  item["leaseCounter"] = Integer(lease.counter);
  if (lease.checkpoint) item["checkpoint"] = Integer(lease.checkpoint->value());
  if (lease.checkpoint_millis > 0) {
    item["checkpointTime"] = Integer(static_cast<uint64_t>(lease.checkpoint_millis));
  }
  item["finished"] = AttributeValue::Bool(lease.finished);
  return item;
}

Result<Lease> LeaseFromItem(const Item& item) {
  const std::string* key = GetString(item, kLeaseKeyAttribute);
  const std::string* application = GetString(item, "application");
  const std::string* table = GetString(item, "tableName");
  std::optional<uint64_t> shard = GetInteger(item, "shard");
  std::optional<uint64_t> counter = GetInteger(item, "leaseCounter");
  if (key == nullptr || application == nullptr || table == nullptr || !shard || !counter ||
      *shard > UINT32_MAX) {
    return Status::Serialization("malformed lease item" + (key ? " " + *key : std::string()));
  }
  Lease lease;
  lease.application = *application;
  lease.table = TableName(*table);
  lease.shard = ShardIndex(static_cast<uint32_t>(*shard));
  if (auto parent = GetInteger(item, "parentShard")) {
    lease.parent = ShardIndex(static_cast<uint32_t>(*parent));
  }
  if (const std::string* owner = GetString(item, "owner")) lease.owner = *owner;
  lease.counter = *counter;
  if (auto checkpoint = GetInteger(item, "checkpoint")) {
    lease.checkpoint = SequenceNumber(*checkpoint);
  }
  if (auto millis = GetInteger(item, "checkpointTime"); millis && *millis <= INT64_MAX) {
    lease.checkpoint_millis = static_cast<int64_t>(*millis);
  }
  auto finished = item.find("finished");
  lease.finished = finished != item.end() && finished->second.is(AttributeType::kBool) &&
                   finished->second.boolean();
  return lease;
}

bool LeaseMatches(const Item* stored, const Lease& expected) {
  if (stored == nullptr) return false;
  const std::string* owner = GetString(*stored, "owner");
  const std::string stored_owner = owner ? *owner : std::string();
  return stored_owner == expected.owner && GetInteger(*stored, "leaseCounter") == expected.counter;
}

}  // namespace tidewater::streams
