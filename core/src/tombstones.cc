// Purging tombstones: a delete leaves a versioned tombstone in place of the item (see
// StoredItem), indexed by deletion time; once older than tombstone_retention_micros it
// goes, committed under its shard's LockedShards so that no write races the purge.
#include <rocksdb/write_batch.h>

#include <map>

#include "commit_support.h"
#include "engine_impl.h"
#include "storage_keys.h"

namespace tidewater {
namespace {

// Index entries handled per shard lock.
constexpr size_t kPurgeBatch = 4096;

struct IndexEntry {
  std::string index_key;
  std::string item_key;
  int64_t deleted_at_micros;
};

}  // namespace

Result<size_t> EngineImpl::PurgeTombstones() {
  if (options_.tombstone_retention_micros <= 0) return size_t{0};
  const int64_t cutoff = options_.clock->NowMicros() - options_.tombstone_retention_micros;
  size_t purged = 0;
  for (const TablePtr& table : AllTables()) {
    const std::string prefix = storage::TombstoneIndexPrefix(table->id());
    // Entries deleted at or before the cutoff sort before this key.
    std::string end = prefix;
    keycodec::AppendHash(static_cast<uint64_t>(cutoff) + 1, &end);
    bool more = true;
    while (more) {
      std::map<uint32_t, std::vector<IndexEntry>> by_shard;
      size_t collected = 0;
      {
        rocksdb::ReadOptions read;
        rocksdb::Slice upper(end);
        read.iterate_upper_bound = &upper;
        std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, default_cf_));
        for (it->Seek(prefix); it->Valid() && collected < kPurgeBatch; it->Next(), ++collected) {
          const std::string_view key(it->key().data(), it->key().size());
          if (key.size() < prefix.size() + 8 + 8) return Status::IOError("corrupt tombstone index");
          const std::string_view item_key = key.substr(prefix.size() + 8);
          by_shard[table->ShardFor(keycodec::ReadHash(item_key))].push_back(
              {std::string(key), std::string(item_key),
               static_cast<int64_t>(keycodec::ReadHash(key.substr(prefix.size())))});
        }
        if (!it->status().ok()) return StorageError(it->status());
        more = collected == kPurgeBatch;
      }
      for (auto& [shard_index, entries] : by_shard) {
        Shard& shard = table->shard(shard_index);
        LockedShards locked(*pipeline_, {&shard});
        if (shard.closed.load(std::memory_order_acquire)) {
          // Split since the entries were routed: the writes that may replace their
          // tombstones go to the children. Read the index again.
          more = true;
          continue;
        }
        rocksdb::WriteBatch batch;
        size_t removed = 0;
        for (const IndexEntry& entry : entries) {
          std::string value;
          rocksdb::Status s = db_->Get({}, table->items(), entry.item_key, &value);
          if (!s.ok() && !s.IsNotFound()) return StorageError(s);
          v1::StoredItem stored;
          // Only the tombstone this entry indexes: a later write replaced the others.
          if (s.ok() && stored.ParseFromString(value) && stored.tombstone() &&
              stored.deleted_at_micros() == entry.deleted_at_micros) {
            batch.Delete(table->items(), entry.item_key);
            ++removed;
          }
          batch.Delete(default_cf_, entry.index_key);
        }
        TW_RETURN_IF_ERROR(locked.Commit(batch));
        purged += removed;
      }
    }
  }
  return purged;
}

}  // namespace tidewater
