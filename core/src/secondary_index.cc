#include "secondary_index.h"

#include "storage_keys.h"
#include "tidewater/core/key_codec.h"
#include "tidewater/core/record_codec.h"
#include "tidewater/v1/change_record.pb.h"

namespace tidewater {

Status ValidateIndexKeys(const std::vector<SecondaryIndex>& indexes, const Item& item) {
  for (const SecondaryIndex& index : indexes) {
    for (const KeyAttribute* key :
         {&index.key_schema.partition_key,
          index.key_schema.sort_key ? &*index.key_schema.sort_key : nullptr}) {
      if (key == nullptr) continue;
      auto it = item.find(key->name);
      if (it == item.end()) continue;
      if (it->second.type() != key->type) {
        return Status::Validation(
            "One or more parameter values were invalid: Type mismatch for Index Key " + key->name +
            " Expected: " + std::string(AttributeTypeName(key->type)) + " Actual: " +
            std::string(AttributeTypeName(it->second.type())) + " IndexName: " + index.name);
      }
      if ((key->type == AttributeType::kS || key->type == AttributeType::kB) &&
          it->second.s().empty()) {
        return Status::Validation(
            "One or more parameter values are not valid. A value specified for a secondary index "
            "key is not supported. The AttributeValue for a key attribute cannot contain an "
            "empty " +
            std::string(key->type == AttributeType::kS ? "string" : "binary") +
            " value. IndexName: " + index.name + ", IndexKey: " + key->name);
      }
    }
  }
  return Status::Ok();
}

namespace {

// Whether `value` can be the index key attribute `key`: of its type and, for a string or
// binary, not empty. Writes refuse other values (ValidateIndexKeys); items stored before
// their index was created may still hold one, and are left out of it, as DynamoDB's index
// key violations.
bool IsIndexKeyValue(const KeyAttribute& key, const AttributeValue& value) {
  if (value.type() != key.type) return false;
  return key.type == AttributeType::kN || !value.s().empty();
}

}  // namespace

std::optional<std::string> IndexEntryKey(const SecondaryIndex& index, const Item& item,
                                         const std::string& item_key) {
  auto partition = item.find(index.key_schema.partition_key.name);
  if (partition == item.end() ||
      !IsIndexKeyValue(index.key_schema.partition_key, partition->second)) {
    return std::nullopt;
  }
  const AttributeValue* sort = nullptr;
  if (index.key_schema.sort_key) {
    auto it = item.find(index.key_schema.sort_key->name);
    if (it == item.end() || !IsIndexKeyValue(*index.key_schema.sort_key, it->second)) {
      return std::nullopt;
    }
    sort = &it->second;
  }
  std::string key = storage::IndexEntryPrefix(index.ordinal);
  key += keycodec::EncodeItemKey(partition->second, sort);
  key += item_key;
  return key;
}

Item ProjectForIndex(const SecondaryIndex& index, const KeySchema& table_keys, const Item& item) {
  if (index.projection.type == ProjectionType::kAll) return item;
  Item projected;
  for (const auto& [name, value] : item) {
    if (IndexProjects(index, table_keys, name)) projected.emplace(name, value);
  }
  return projected;
}

namespace {

// Whether `item` has a value for every key attribute of `index` (and so an entry in it).
bool HasIndexKey(const SecondaryIndex& index, const Item& item) {
  const auto valued = [&item](const KeyAttribute& key) {
    auto found = item.find(key.name);
    return found != item.end() && IsIndexKeyValue(key, found->second);
  };
  return valued(index.key_schema.partition_key) &&
         (!index.key_schema.sort_key || valued(*index.key_schema.sort_key));
}

bool SameIndexKey(const SecondaryIndex& index, const Item& a, const Item& b) {
  const auto same = [&](const std::string& name) { return a.at(name) == b.at(name); };
  return same(index.key_schema.partition_key.name) &&
         (!index.key_schema.sort_key || same(index.key_schema.sort_key->name));
}

}  // namespace

std::vector<IndexEntryChange> IndexEntryChanges(const std::vector<SecondaryIndex>& indexes,
                                                const KeySchema& table_keys, const Item* before,
                                                const Item* after) {
  std::vector<IndexEntryChange> changes;
  for (const SecondaryIndex& index : indexes) {
    const bool had = before != nullptr && HasIndexKey(index, *before);
    const bool has = after != nullptr && HasIndexKey(index, *after);
    IndexEntryChange change;
    change.index = &index;
    if (has) change.written = ProjectForIndex(index, table_keys, *after);
    if (had) {
      Item old_entry = ProjectForIndex(index, table_keys, *before);
      if (has && SameIndexKey(index, *before, *after)) {
        if (old_entry == *change.written) continue;  // the entry stays as it is
      } else {
        change.deleted = std::move(old_entry);
      }
    }
    if (change.deleted || change.written) changes.push_back(std::move(change));
  }
  return changes;
}

std::vector<std::pair<std::string, std::optional<std::string>>> IndexWrites(
    const std::vector<SecondaryIndex>& indexes, const KeySchema& table_keys,
    const std::string& item_key, const Item* before, const Item* after) {
  std::vector<std::pair<std::string, std::optional<std::string>>> writes;
  for (IndexEntryChange& change : IndexEntryChanges(indexes, table_keys, before, after)) {
    if (change.deleted) {
      writes.emplace_back(*IndexEntryKey(*change.index, *change.deleted, item_key), std::nullopt);
    }
    if (change.written) {
      v1::StoredItem stored;
      ToProto(*change.written, stored.mutable_attributes());
      writes.emplace_back(*IndexEntryKey(*change.index, *change.written, item_key),
                          stored.SerializeAsString());
    }
  }
  return writes;
}

std::optional<std::string> GlobalIndexWork(const std::vector<SecondaryIndex>& indexes,
                                           const KeySchema& table_keys, const std::string& item_key,
                                           const Item* before, const Item* after,
                                           int64_t committed_micros) {
  v1::GlobalIndexWork work;
  for (auto& [entry_key, entry] : IndexWrites(indexes, table_keys, item_key, before, after)) {
    v1::GlobalIndexWork::EntryWrite* write = work.add_writes();
    write->set_entry_key(std::move(entry_key));
    if (entry) write->set_entry(std::move(*entry));
  }
  if (work.writes().empty()) return std::nullopt;
  work.set_committed_micros(committed_micros);
  return work.SerializeAsString();
}

}  // namespace tidewater
