// Reading a table for replication: the catch-up snapshot scan (items with their versions,
// plus the log positions the snapshot contains) and content digests for `tidewater
// verify`. See docs/REPLICATION.md.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <rocksdb/db.h>

#include <algorithm>

#include "commit_support.h"
#include "engine_impl.h"
#include "fmix64.h"
#include "item_validation.h"
#include "tidewater/core/key_codec.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {
namespace {

constexpr uint32_t kMaxDigestRanges = 1 << 16;

// Releases a RocksDB snapshot when it goes out of scope.
class SnapshotHolder {
 public:
  SnapshotHolder(rocksdb::DB* db, const rocksdb::Snapshot* snapshot)
      : db_(db), snapshot_(snapshot) {}
  ~SnapshotHolder() { db_->ReleaseSnapshot(snapshot_); }
  SnapshotHolder(const SnapshotHolder&) = delete;
  SnapshotHolder& operator=(const SnapshotHolder&) = delete;
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

Result<std::string> StartAfter(const KeySchema& schema, const std::optional<Item>& key) {
  if (!key) return std::string();
  Status valid = ValidateKeyItem(schema, *key);
  if (!valid.ok()) {
    return Status::Validation("The provided starting key is invalid: " + valid.message());
  }
  const AttributeValue* sk = schema.sort_key ? &key->at(schema.sort_key->name) : nullptr;
  return keycodec::EncodeItemKey(key->at(schema.partition_key.name), sk) + '\0';
}

Result<v1::StoredItem> ParseStoredItem(const rocksdb::Slice& value) {
  v1::StoredItem stored;
  if (!stored.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Status::IOError("corrupt stored item");
  }
  return stored;
}

// Sets are unordered: sort their members (recursively) so that equal items encode equally.
void Canonicalize(v1::AttributeValue& value) {
  switch (value.value_case()) {
    case v1::AttributeValue::kSs:
      std::sort(value.mutable_ss()->mutable_values()->begin(),
                value.mutable_ss()->mutable_values()->end());
      break;
    case v1::AttributeValue::kNs:
      std::sort(value.mutable_ns()->mutable_values()->begin(),
                value.mutable_ns()->mutable_values()->end());
      break;
    case v1::AttributeValue::kBs:
      std::sort(value.mutable_bs()->mutable_values()->begin(),
                value.mutable_bs()->mutable_values()->end());
      break;
    case v1::AttributeValue::kL:
      for (auto& element : *value.mutable_l()->mutable_values()) Canonicalize(element);
      break;
    case v1::AttributeValue::kM:
      for (auto& named : *value.mutable_m()->mutable_attributes()) {
        Canonicalize(*named.mutable_value());
      }
      break;
    default:
      break;
  }
}

// A 128-bit hash of `bytes` as two 64-bit lanes (not cryptographic: it detects
// differences between replicas, it does not resist an adversary).
std::pair<uint64_t, uint64_t> Hash128(std::string_view bytes) {
  uint64_t a = 0x9e3779b97f4a7c15ULL ^ bytes.size();
  uint64_t b = 0xc2b2ae3d27d4eb4fULL + bytes.size();
  for (size_t i = 0; i < bytes.size(); i += 8) {
    uint64_t word = 0;
    const size_t n = std::min<size_t>(8, bytes.size() - i);
    for (size_t j = 0; j < n; ++j) {
      word |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i + j])) << (8 * j);
    }
    a = Fmix64(a ^ word) + b;
    b = Fmix64(b + word * 0x87c37b91114253d5ULL) ^ a;
  }
  return {Fmix64(a ^ b), Fmix64(b + a)};
}

// The hash of an item's attributes (its key included, its version not).
Result<std::pair<uint64_t, uint64_t>> ItemHashOf(const v1::StoredItem& stored) {
  // Decode and re-encode: the canonical form does not depend on how the item was stored.
  TW_ASSIGN_OR_RETURN(Item item, FromProto(stored.attributes()));
  v1::MapValue canonical;
  ToProto(item, &canonical);
  for (auto& named : *canonical.mutable_attributes()) Canonicalize(*named.mutable_value());
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    canonical.SerializeToCodedStream(&out);
  }
  return Hash128(bytes);
}

std::string Bytes128(uint64_t high, uint64_t low) {
  std::string out;
  keycodec::AppendHash(high, &out);
  keycodec::AppendHash(low, &out);
  return out;
}

struct HashRange {
  std::string begin;
  std::string end;  // empty: to the end
};

HashRange RangeKeys(uint32_t range, uint32_t ranges) {
  HashRange keys;
  keycodec::AppendHash(keycodec::RangeBegin(range, ranges), &keys.begin);
  if (range + 1 < ranges) keycodec::AppendHash(keycodec::RangeBegin(range + 1, ranges), &keys.end);
  return keys;
}

Result<uint32_t> RangeCount(const TableState& table, uint32_t ranges) {
  if (ranges == 0) return table.shard_count();
  if (ranges > kMaxDigestRanges) {
    return Status::Validation("ranges must be at most " + std::to_string(kMaxDigestRanges));
  }
  return ranges;
}

}  // namespace

Result<SnapshotPage> EngineImpl::SnapshotScan(const SnapshotScanRequest& request) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(request.table));
  if (request.limit == 0) return Status::Validation("snapshot scan limit must be positive");
  const KeySchema& schema = table->key_schema();
  TW_ASSIGN_OR_RETURN(std::string begin, StartAfter(schema, request.exclusive_start_key));

  SnapshotPage page;
  const rocksdb::Snapshot* snapshot = nullptr;
  if (!request.exclusive_start_key) {
    // With every shard locked and drained, RocksDB holds exactly the committed records:
    // the snapshot contains each shard's log up to committed_sequence and nothing after.
    LockedShards quiet(*pipeline_, table->all_shards());
    snapshot = db_->GetSnapshot();
    for (uint32_t i = 0; i < table->shard_count(); ++i) {
      page.shard_last_sequences.push_back(
          SequenceNumber(table->shard(i).committed_sequence.load(std::memory_order_acquire)));
    }
  } else {
    snapshot = db_->GetSnapshot();
  }
  SnapshotHolder holder(db_.get(), snapshot);

  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  read.total_order_seek = true;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, table->items()));
  size_t bytes = 0;
  bool more = false;
  for (it->Seek(begin); it->Valid(); it->Next()) {
    TW_ASSIGN_OR_RETURN(v1::StoredItem stored, ParseStoredItem(it->value()));
    if (stored.tombstone() && !request.include_tombstones) continue;
    if (page.items.size() == request.limit ||
        (bytes >= request.max_page_bytes && !page.items.empty())) {
      more = true;
      break;
    }
    VersionedItem entry;
    TW_ASSIGN_OR_RETURN(entry.item, FromProto(stored.attributes()));
    entry.version = stored.version();
    entry.deleted = stored.tombstone();
    bytes += it->value().size();
    page.items.push_back(std::move(entry));
  }
  if (!it->status().ok()) return StorageError(it->status());
  if (more) page.last_evaluated_key = KeyOf(schema, page.items.back().item);
  return page;
}

Result<std::vector<RangeDigest>> EngineImpl::ComputeDigests(const std::string& table_name,
                                                            uint32_t ranges) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(table_name));
  TW_ASSIGN_OR_RETURN(const uint32_t count, RangeCount(*table, ranges));
  struct Sum {
    uint64_t high = 0;
    uint64_t low = 0;
    uint64_t items = 0;
  };
  std::vector<Sum> sums(count);
  rocksdb::ReadOptions read;
  read.total_order_seek = true;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, table->items()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    TW_ASSIGN_OR_RETURN(v1::StoredItem stored, ParseStoredItem(it->value()));
    if (stored.tombstone()) continue;
    TW_ASSIGN_OR_RETURN(auto hash, ItemHashOf(stored));
    Sum& sum = sums[keycodec::ShardOf(
        keycodec::ReadHash(std::string_view(it->key().data(), it->key().size())), count)];
    sum.high += hash.first;  // a sum: independent of the order items are visited in
    sum.low += hash.second;
    ++sum.items;
  }
  if (!it->status().ok()) return StorageError(it->status());
  std::vector<RangeDigest> digests;
  digests.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    RangeDigest digest;
    digest.range = i;
    digest.hash_begin = keycodec::RangeBegin(i, count);
    digest.hash_end = i + 1 < count ? keycodec::RangeBegin(i + 1, count) - 1 : UINT64_MAX;
    digest.item_count = sums[i].items;
    digest.digest = Bytes128(sums[i].high, sums[i].low);
    digests.push_back(std::move(digest));
  }
  return digests;
}

Result<RangeEntriesPage> EngineImpl::ListRangeEntries(const RangeEntriesRequest& request) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(request.table));
  TW_ASSIGN_OR_RETURN(const uint32_t count, RangeCount(*table, request.ranges));
  if (request.range >= count) {
    return Status::Validation("range " + std::to_string(request.range) + " is not below " +
                              std::to_string(count));
  }
  if (request.limit == 0) return Status::Validation("listing limit must be positive");
  const KeySchema& schema = table->key_schema();
  HashRange keys = RangeKeys(request.range, count);
  TW_ASSIGN_OR_RETURN(std::string start, StartAfter(schema, request.exclusive_start_key));
  const std::string begin = std::max(keys.begin, start);
  RangeEntriesPage page;
  if (!keys.end.empty() && begin >= keys.end) return page;

  rocksdb::ReadOptions read;
  read.total_order_seek = true;
  read.fill_cache = false;
  rocksdb::Slice upper(keys.end);
  if (!keys.end.empty()) read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, table->items()));
  for (it->Seek(begin); it->Valid(); it->Next()) {
    TW_ASSIGN_OR_RETURN(v1::StoredItem stored, ParseStoredItem(it->value()));
    if (stored.tombstone()) continue;
    if (page.entries.size() == request.limit) {
      page.last_evaluated_key = page.entries.back().key;
      break;
    }
    TW_ASSIGN_OR_RETURN(Item item, FromProto(stored.attributes()));
    TW_ASSIGN_OR_RETURN(auto hash, ItemHashOf(stored));
    page.entries.push_back({KeyOf(schema, item), Bytes128(hash.first, hash.second)});
  }
  if (!it->status().ok()) return StorageError(it->status());
  return page;
}

}  // namespace tidewater
