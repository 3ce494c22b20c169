// The TTL sweeper: deletes items whose TTL attribute (epoch seconds, type N) has passed.
// Each deletion is an ordinary conditional delete (the TTL is re-checked under the shard
// lock) whose change record has provenance TTL, DynamoDB's service-made REMOVE.
#include "engine_impl.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {
namespace {

// As DynamoDB: TTL values more than five years in the past are not processed.
constexpr int64_t kMaxTtlAgeSeconds = 5LL * 365 * 24 * 3600;

bool IsExpired(const AttributeValue* ttl, int64_t now_seconds) {
  if (ttl == nullptr || !ttl->is(AttributeType::kN)) return false;
  int64_t expiry = 0;
  if (!ttl->n().ToInt64(&expiry)) {
    // Fractional or out of int64 range: compare as the integer part.
    const double value = ttl->n().ToDouble();
    if (!(value >= 0 && value < 9.2e18)) return false;
    expiry = static_cast<int64_t>(value);
  }
  return expiry > 0 && expiry <= now_seconds && expiry >= now_seconds - kMaxTtlAgeSeconds;
}

const AttributeValue* Find(const Item& item, const std::string& name) {
  auto it = item.find(name);
  return it == item.end() ? nullptr : &it->second;
}

}  // namespace

Result<size_t> EngineImpl::RunTtlSweep() {
  size_t deleted = 0;
  for (const TablePtr& table : AllTables()) {
    const auto config = table->config();
    if (!config->ttl_attribute) continue;
    const std::string attribute = *config->ttl_attribute;
    const int64_t now = options_.clock->NowSeconds();
    std::vector<Item> expired_keys;
    {
      rocksdb::ReadOptions read;
      read.total_order_seek = true;
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, table->items()));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        v1::StoredItem stored;
        if (!stored.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
          return Status::IOError("corrupt stored item");
        }
        if (stored.tombstone()) continue;
        TW_ASSIGN_OR_RETURN(Item item, FromProto(stored.attributes()));
        if (!IsExpired(Find(item, attribute), now)) continue;
        const KeySchema& schema = table->key_schema();
        Item key;
        key.emplace(schema.partition_key.name, item.at(schema.partition_key.name));
        if (schema.sort_key) key.emplace(schema.sort_key->name, item.at(schema.sort_key->name));
        expired_keys.push_back(std::move(key));
      }
      if (!it->status().ok()) return Status::IOError("storage: " + it->status().ToString());
    }
    const WriteCondition still_expired = [&attribute, now](const Item* current) {
      if (current != nullptr && IsExpired(Find(*current, attribute), now)) return Status::Ok();
      return Status::ConditionFailed("item no longer expired");
    };
    for (const Item& key : expired_keys) {
      auto result = DeleteItem(table->name(), key, still_expired, WriteOrigin{v1::TTL});
      if (result.ok()) {
        ++deleted;
      } else if (result.status().code() != ErrorCode::kConditionalCheckFailed &&
                 result.status().code() != ErrorCode::kResourceNotFound) {
        return result.status();
      }
    }
  }
  return deleted;
}

}  // namespace tidewater
