// Reads: GetItem, Query (a prefix scan of one partition) and Scan (a hash range).
#include <rocksdb/snapshot.h>

#include "commit_support.h"
#include "engine_impl.h"
#include "item_validation.h"
#include "secondary_index.h"
#include "storage_keys.h"
#include "tidewater/core/key_codec.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {
namespace {

// The smallest string greater than every string that starts with `prefix`
// ("" when there is none: no upper bound).
std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

std::string Append(const std::string& prefix, const AttributeValue& value) {
  std::string key = prefix;
  keycodec::AppendOrdered(value, &key);
  return key;
}

// The stored item, or nullopt for a tombstone (reads never show tombstones).
Result<std::optional<Item>> DecodeStored(const rocksdb::Slice& value) {
  v1::StoredItem stored;
  if (!stored.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Status::IOError("corrupt stored item");
  }
  if (stored.tombstone()) return std::optional<Item>();
  TW_ASSIGN_OR_RETURN(Item item, FromProto(stored.attributes()));
  return std::optional<Item>(std::move(item));
}

std::string EncodedKey(const KeySchema& schema, const Item& key) {
  const AttributeValue* sk = schema.sort_key ? &key.at(schema.sort_key->name) : nullptr;
  return keycodec::EncodeItemKey(key.at(schema.partition_key.name), sk);
}

Status ValidateExclusiveStartKey(const KeySchema& schema, const Item& key) {
  Status s = ValidateKeyItem(schema, key);
  if (!s.ok()) {
    return Status::Validation("The provided starting key is invalid: " + s.message());
  }
  return Status::Ok();
}

}  // namespace

Status EngineImpl::ValidateKey(const std::string& table_name, const Item& key) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(table_name));
  return ValidateKeyItem(table->key_schema(), key);
}

Result<ShardIndex> EngineImpl::ShardForKey(const std::string& table_name, const Item& key) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(table_name));
  auto partition_key = key.find(table->key_schema().partition_key.name);
  if (partition_key == key.end()) {
    return Status::Validation("The provided key element does not match the schema");
  }
  return ShardIndex(table->ShardFor(keycodec::PartitionHash(partition_key->second)));
}

Result<std::optional<Item>> EngineImpl::GetItem(const std::string& table_name, const Item& key) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(table_name));
  TW_RETURN_IF_ERROR(ValidateKeyItem(table->key_schema(), key));
  const std::string item_key = EncodedKey(table->key_schema(), key);
  TW_RETURN_IF_ERROR(AdmitReplicatedRead(*table, item_key));
  std::string value;
  rocksdb::Status s = db_->Get({}, table->items(), item_key, &value);
  if (s.IsNotFound()) return std::optional<Item>();
  if (!s.ok()) return Status::IOError("storage: " + s.ToString());
  return DecodeStored(value);
}

Result<std::shared_ptr<const Item>> EngineImpl::ReadItem(const std::string& table_name,
                                                         const Item& key,
                                                         ReadConsistency consistency) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(table_name));
  TW_RETURN_IF_ERROR(ValidateKeyItem(table->key_schema(), key));
  const std::string item_key = EncodedKey(table->key_schema(), key);
  TW_RETURN_IF_ERROR(AdmitReplicatedRead(*table, item_key));
  const bool cached = cache_ != nullptr && consistency == ReadConsistency::kEventual;
  const uint32_t column_family = table->items()->GetID();
  uint64_t fill_token = 0;
  if (cached) {
    ItemCache::Lookup<Item> found = cache_->FindItem(column_family, item_key);
    if (found.hit) return std::move(found.value);
    fill_token = found.fill_token;
  }
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get({}, table->items(), item_key, &value);
  std::shared_ptr<const Item> item;
  if (!s.IsNotFound()) {
    if (!s.ok()) return Status::IOError("storage: " + s.ToString());
    TW_ASSIGN_OR_RETURN(std::optional<Item> decoded, DecodeStored(value));
    if (decoded) item = std::make_shared<const Item>(std::move(*decoded));
  }
  if (cached) {
    cache_->FillItem(column_family, item_key, item, item ? ItemSize(*item) : 0, fill_token);
  }
  return item;
}

Result<ItemPage> EngineImpl::ReadPage(TableState& table, const ReadSource& source,
                                      const PageRange& range, ReadConsistency consistency,
                                      std::optional<uint64_t> partition_hash) {
  // Pages of the table itself only: an index's entries may change without a write to
  // the partition (a global index's backfill and asynchronous maintenance).
  if (cache_ == nullptr || consistency != ReadConsistency::kEventual || source.index != nullptr) {
    return ReadRange(table, source, range.begin, range.end, range.forward, range.limit,
                     range.max_page_bytes);
  }
  // The page is determined by its range and limits: that is its cache key.
  std::string page_key;
  const auto append_size = [&page_key](uint64_t n) {
    page_key.append(reinterpret_cast<const char*>(&n), sizeof n);
  };
  append_size(range.begin.size());
  page_key += range.begin;
  append_size(range.end.size());
  page_key += range.end;
  append_size(range.limit);
  append_size(range.max_page_bytes);
  page_key += range.forward ? 'F' : 'B';
  const uint32_t column_family = table.items()->GetID();
  ItemCache::Lookup<ItemPage> found = cache_->FindPage(column_family, page_key, partition_hash);
  if (found.hit) return ItemPage(*found.value);
  TW_ASSIGN_OR_RETURN(ItemPage page, ReadRange(table, source, range.begin, range.end, range.forward,
                                               range.limit, range.max_page_bytes));
  size_t page_bytes = page.scanned_bytes;
  if (page.last_evaluated_key) page_bytes += ItemSize(*page.last_evaluated_key);
  cache_->FillPage(column_family, page_key, partition_hash, std::make_shared<const ItemPage>(page),
                   page_bytes, found.fill_token);
  return page;
}

Result<ItemPage> EngineImpl::Query(const QueryRequest& request) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(request.table));
  TW_ASSIGN_OR_RETURN(ReadSource source, SourceOf(*table, request.index));
  const KeySchema& schema = *source.keys;
  if (request.partition_key.type() != schema.partition_key.type) {
    return Status::Validation(
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type");
  }
  // Ranges end at the successor of a prefix: an index entry's key goes on past its index
  // key (with the item key), a table item's key does not.
  const std::string partition = keycodec::EncodeItemKey(request.partition_key, nullptr);
  // The table's partition lives in one shard; an index's entries may come from any.
  TW_RETURN_IF_ERROR(AdmitReplicatedRead(
      *table, source.index == nullptr ? std::optional<std::string_view>(partition) : std::nullopt));
  std::string prefix = source.prefix + partition;
  std::string begin = prefix;
  std::string end = PrefixSuccessor(prefix);
  using Op = SortKeyCondition::Op;
  const SortKeyCondition& sk = request.sort_key;
  if (sk.op != Op::kNone) {
    if (!schema.sort_key) {
      return Status::Validation("Query key condition not supported: the table has no sort key");
    }
    const bool type_ok = sk.value.type() == schema.sort_key->type &&
                         (sk.op != Op::kBetween || sk.value2.type() == schema.sort_key->type);
    if (!type_ok) {
      return Status::Validation(
          "One or more parameter values were invalid: Condition parameter type does not match "
          "schema type");
    }
    switch (sk.op) {
      case Op::kEq:
        begin = Append(prefix, sk.value);
        end = PrefixSuccessor(begin);
        break;
      case Op::kLt:
        end = Append(prefix, sk.value);
        break;
      case Op::kLe:
        end = PrefixSuccessor(Append(prefix, sk.value));
        break;
      case Op::kGt:
        begin = PrefixSuccessor(Append(prefix, sk.value));
        break;
      case Op::kGe:
        begin = Append(prefix, sk.value);
        break;
      case Op::kBetween:
        begin = Append(prefix, sk.value);
        end = PrefixSuccessor(Append(prefix, sk.value2));
        break;
      case Op::kBeginsWith: {
        if (schema.sort_key->type == AttributeType::kN) {
          return Status::Validation(
              "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
              "operator or function: begins_with, operand type: N");
        }
        begin = prefix;
        keycodec::AppendOrderedPrefix(sk.value.s(), &begin);
        end = PrefixSuccessor(begin);
        break;
      }
      case Op::kNone:
        break;
    }
  }
  if (request.exclusive_start_key) {
    TW_ASSIGN_OR_RETURN(const std::string start,
                        StartKeyOf(*table, source, *request.exclusive_start_key));
    if (request.forward) {
      begin = std::max(begin, start + '\0');
    } else if (end.empty() || start < end) {
      end = start;
    }
  }
  if (!end.empty() && begin >= end) return ItemPage{};
  return ReadPage(*table, source,
                  {begin, end, request.forward, request.limit, request.max_page_bytes},
                  request.consistency, keycodec::PartitionHash(request.partition_key));
}

Result<ItemPage> EngineImpl::Scan(const ScanRequest& request) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(request.table));
  TW_ASSIGN_OR_RETURN(ReadSource source, SourceOf(*table, request.index));
  if (request.total_segments == 0 || request.total_segments > 1'000'000 ||
      request.segment >= request.total_segments) {
    return Status::Validation(
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: " +
        std::to_string(request.segment) +
        " is not less than TotalSegments: " + std::to_string(request.total_segments));
  }
  const uint64_t first_hash = keycodec::RangeBegin(request.segment, request.total_segments);
  if (source.index == nullptr && options_.replicated_log != nullptr) {
    // Cluster mode: the shards the segment's hashes fall in, so that a segment within one
    // shard is served by that shard's owner alone. (An index's hashes are not the table's.)
    const uint64_t last_hash =
        request.segment + 1 < request.total_segments
            ? keycodec::RangeBegin(request.segment + 1, request.total_segments) - 1
            : UINT64_MAX;
    for (uint64_t hash = first_hash;;) {
      const Shard& shard = table->shard(table->ShardFor(hash));
      TW_RETURN_IF_ERROR(
          options_.replicated_log->AdmitRead(TableName(table->name()), ShardIndex(shard.index)));
      if (shard.hash_end >= last_hash) break;
      hash = shard.hash_end + 1;
    }
  } else {
    TW_RETURN_IF_ERROR(AdmitReplicatedRead(*table, std::nullopt));
  }
  std::string begin = source.prefix;
  keycodec::AppendHash(first_hash, &begin);
  std::string end;
  if (request.segment + 1 < request.total_segments) {
    end = source.prefix;
    keycodec::AppendHash(keycodec::RangeBegin(request.segment + 1, request.total_segments), &end);
  } else if (source.index != nullptr) {
    end = storage::IndexEntryPrefix(source.index->ordinal + 1);
  }
  if (request.exclusive_start_key) {
    TW_ASSIGN_OR_RETURN(const std::string start,
                        StartKeyOf(*table, source, *request.exclusive_start_key));
    begin = std::max(begin, start + '\0');
  }
  if (!end.empty() && begin >= end) return ItemPage{};
  return ReadPage(*table, source, {begin, end, true, request.limit, request.max_page_bytes},
                  request.consistency, std::nullopt);
}

Result<ItemPage> EngineImpl::ReadRange(TableState& table, const ReadSource& source,
                                       const std::string& begin, const std::string& end,
                                       bool forward, size_t limit, size_t max_page_bytes) {
  // A fetch reads the items under the entries' snapshot: a local index entry and its item
  // are written in one batch, so each entry finds its item. Without fetches the iterator's
  // own implicit snapshot is enough (taking one costs the DB mutex on every read).
  std::optional<rocksdb::ManagedSnapshot> snapshot;
  if (source.fetch_items) snapshot.emplace(db_.get());
  rocksdb::ReadOptions read;
  if (snapshot) read.snapshot = snapshot->snapshot();
  read.total_order_seek = true;
  rocksdb::Slice lower(begin);
  rocksdb::Slice upper(end);
  read.iterate_lower_bound = &lower;
  if (!end.empty()) read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, source.cf));
  if (forward) {
    it->Seek(lower);
  } else {
    it->SeekToLast();
  }
  rocksdb::ReadOptions fetch;
  fetch.snapshot = read.snapshot;
  ItemPage page;
  bool stopped_early = false;
  for (; it->Valid(); forward ? it->Next() : it->Prev()) {
    if ((limit != 0 && page.items.size() == limit) ||
        (page.scanned_bytes >= max_page_bytes && !page.items.empty())) {
      stopped_early = true;
      break;
    }
    TW_ASSIGN_OR_RETURN(std::optional<Item> item, DecodeStored(it->value()));
    if (!item) continue;
    page.scanned_bytes += ItemSize(*item);
    if (source.fetch_items) {
      std::string value;
      const std::string key = EncodedKey(table.key_schema(), *item);
      rocksdb::Status s = db_->Get(fetch, table.items(), key, &value);
      if (!s.ok() && !s.IsNotFound()) return Status::IOError("storage: " + s.ToString());
      if (s.IsNotFound()) return Status::IOError("index entry without its item");
      TW_ASSIGN_OR_RETURN(std::optional<Item> whole, DecodeStored(value));
      if (!whole) return Status::IOError("index entry of a deleted item");
      page.scanned_bytes += ItemSize(*whole);
      page.fetched_bytes += ItemSize(*whole);
      item = std::move(whole);
    }
    page.items.push_back(std::move(*item));
  }
  if (!it->status().ok()) return Status::IOError("storage: " + it->status().ToString());
  // As DynamoDB: a page that ends because it hit Limit or the size cap names its last key.
  const bool hit_limit = limit != 0 && page.items.size() == limit;
  if ((stopped_early || hit_limit) && !page.items.empty()) {
    Item last = KeyOf(table.key_schema(), page.items.back());
    if (source.index != nullptr) {
      for (const auto& [name, value] : KeyOf(source.index->key_schema, page.items.back())) {
        last.emplace(name, value);
      }
    }
    page.last_evaluated_key = std::move(last);
  }
  return page;
}

Result<uint64_t> EngineImpl::ItemCollectionBytes(const std::string& table_name,
                                                 const AttributeValue& partition_key) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(table_name));
  if (partition_key.type() != table->key_schema().partition_key.type) {
    return Status::Validation("The provided key element does not match the schema");
  }
  return CollectionBytes(*table, partition_key);
}

uint64_t EngineImpl::CollectionBytes(TableState& table, const AttributeValue& partition_key) {
  const std::string partition = keycodec::EncodeItemKey(partition_key, nullptr);
  std::vector<std::pair<rocksdb::ColumnFamilyHandle*, std::string>> prefixes{
      {table.items(), partition}};
  for (const SecondaryIndex& index : table.local_indexes()) {
    prefixes.emplace_back(table.index_entries(),
                          storage::IndexEntryPrefix(index.ordinal) + partition);
  }
  rocksdb::SizeApproximationOptions options;
  options.include_memtables = true;
  uint64_t total = 0;
  for (const auto& [cf, prefix] : prefixes) {
    const std::string end = PrefixSuccessor(prefix);
    rocksdb::Range range(prefix, end);
    uint64_t size = 0;
    if (db_->GetApproximateSizes(options, cf, &range, 1, &size).ok()) total += size;
  }
  return total;
}

Status EngineImpl::CheckCollectionLimit(const Target& t, uint64_t collection_bytes) const {
  if (t.table->local_indexes().empty() || !t.next) return Status::Ok();
  const bool grows = !t.current || ItemSize(*t.next) > ItemSize(*t.current);
  if (!grows || collection_bytes < options_.item_collection_limit_bytes) return Status::Ok();
  return Status(ErrorCode::kItemCollectionSizeLimitExceeded,
                "Item collection size limit exceeded: the items with this partition key and their "
                "local secondary index entries are at the limit of " +
                    std::to_string(options_.item_collection_limit_bytes) + " bytes");
}

Result<EngineImpl::ReadSource> EngineImpl::SourceOf(TableState& table, const IndexRead& read) {
  ReadSource source;
  if (read.name.empty()) {
    source.cf = table.items();
    source.keys = &table.key_schema();
    return source;
  }
  std::shared_ptr<const SecondaryIndex> index = table.FindIndex(read.name);
  if (index == nullptr) {
    return Status::Validation("The table does not have the specified index: " + read.name);
  }
  if (index->backfilling) {
    return Status::Validation("Cannot read from backfilling global secondary index: " + read.name);
  }
  source.cf = table.index_entries();
  source.prefix = storage::IndexEntryPrefix(index->ordinal);
  source.keys = &index->key_schema;
  source.index = std::move(index);
  source.fetch_items = read.fetch_items;
  return source;
}

Result<std::string> EngineImpl::StartKeyOf(TableState& table, const ReadSource& source,
                                           const Item& start) {
  const KeySchema& table_keys = table.key_schema();
  if (source.index == nullptr) {
    TW_RETURN_IF_ERROR(ValidateExclusiveStartKey(table_keys, start));
    return EncodedKey(table_keys, start);
  }
  // An index's start key: the table's key attributes and the index's, nothing else.
  Item table_key;
  Item index_key;
  for (const auto& [name, value] : start) {
    const bool of_table = name == table_keys.partition_key.name ||
                          (table_keys.sort_key && name == table_keys.sort_key->name);
    const KeySchema& index_keys = source.index->key_schema;
    const bool of_index = name == index_keys.partition_key.name ||
                          (index_keys.sort_key && name == index_keys.sort_key->name);
    if (!of_table && !of_index) {
      return Status::Validation(
          "The provided starting key is invalid: The provided key element does not match the "
          "schema");
    }
    if (of_table) table_key.emplace(name, value);
    if (of_index) index_key.emplace(name, value);
  }
  TW_RETURN_IF_ERROR(ValidateExclusiveStartKey(table_keys, table_key));
  TW_RETURN_IF_ERROR(ValidateExclusiveStartKey(source.index->key_schema, index_key));
  std::optional<std::string> entry =
      IndexEntryKey(*source.index, start, EncodedKey(table_keys, table_key));
  if (!entry) return Status::Validation("The provided starting key is invalid");
  return *entry;
}

}  // namespace tidewater
