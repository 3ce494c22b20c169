// Reads: GetItem, Query (a prefix scan of one partition) and Scan (a hash range).
#include "engine_impl.h"
#include "item_validation.h"
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

Item KeyOfItem(const KeySchema& schema, const Item& item) {
  Item key;
  key.emplace(schema.partition_key.name, item.at(schema.partition_key.name));
  if (schema.sort_key) key.emplace(schema.sort_key->name, item.at(schema.sort_key->name));
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
  std::string value;
  rocksdb::Status s = db_->Get({}, table->items(), EncodedKey(table->key_schema(), key), &value);
  if (s.IsNotFound()) return std::optional<Item>();
  if (!s.ok()) return Status::IOError("storage: " + s.ToString());
  return DecodeStored(value);
}

Result<ItemPage> EngineImpl::Query(const QueryRequest& request) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(request.table));
  const KeySchema& schema = table->key_schema();
  if (request.partition_key.type() != schema.partition_key.type) {
    return Status::Validation(
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type");
  }
  std::string prefix = keycodec::EncodeItemKey(request.partition_key, nullptr);
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
        end = begin + '\0';
        break;
      case Op::kLt:
        end = Append(prefix, sk.value);
        break;
      case Op::kLe:
        end = Append(prefix, sk.value) + '\0';
        break;
      case Op::kGt:
        begin = Append(prefix, sk.value) + '\0';
        break;
      case Op::kGe:
        begin = Append(prefix, sk.value);
        break;
      case Op::kBetween:
        begin = Append(prefix, sk.value);
        end = Append(prefix, sk.value2) + '\0';
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
    TW_RETURN_IF_ERROR(ValidateExclusiveStartKey(schema, *request.exclusive_start_key));
    const std::string start = EncodedKey(schema, *request.exclusive_start_key);
    if (request.forward) {
      begin = std::max(begin, start + '\0');
    } else if (end.empty() || start < end) {
      end = start;
    }
  }
  if (!end.empty() && begin >= end) return ItemPage{};
  return ReadRange(*table, begin, end, request.forward, request.limit, request.max_page_bytes);
}

Result<ItemPage> EngineImpl::Scan(const ScanRequest& request) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(request.table));
  if (request.total_segments == 0 || request.total_segments > 1'000'000 ||
      request.segment >= request.total_segments) {
    return Status::Validation(
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: " +
        std::to_string(request.segment) +
        " is not less than TotalSegments: " + std::to_string(request.total_segments));
  }
  std::string begin;
  keycodec::AppendHash(keycodec::RangeBegin(request.segment, request.total_segments), &begin);
  std::string end;
  if (request.segment + 1 < request.total_segments) {
    keycodec::AppendHash(keycodec::RangeBegin(request.segment + 1, request.total_segments), &end);
  }
  if (request.exclusive_start_key) {
    TW_RETURN_IF_ERROR(
        ValidateExclusiveStartKey(table->key_schema(), *request.exclusive_start_key));
    begin = std::max(begin, EncodedKey(table->key_schema(), *request.exclusive_start_key) + '\0');
  }
  if (!end.empty() && begin >= end) return ItemPage{};
  return ReadRange(*table, begin, end, true, request.limit, request.max_page_bytes);
}

Result<ItemPage> EngineImpl::ReadRange(TableState& table, const std::string& begin,
                                       const std::string& end, bool forward, size_t limit,
                                       size_t max_page_bytes) {
  rocksdb::ReadOptions read;
  read.total_order_seek = true;
  rocksdb::Slice lower(begin);
  rocksdb::Slice upper(end);
  read.iterate_lower_bound = &lower;
  if (!end.empty()) read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, table.items()));
  if (forward) {
    it->Seek(lower);
  } else {
    it->SeekToLast();
  }
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
    page.items.push_back(std::move(*item));
  }
  if (!it->status().ok()) return Status::IOError("storage: " + it->status().ToString());
  // As DynamoDB: a page that ends because it hit Limit or the size cap names its last key.
  const bool hit_limit = limit != 0 && page.items.size() == limit;
  if ((stopped_early || hit_limit) && !page.items.empty()) {
    page.last_evaluated_key = KeyOfItem(table.key_schema(), page.items.back());
  }
  return page;
}

}  // namespace tidewater
