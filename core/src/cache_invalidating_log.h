// Private: the durable step that keeps the read cache (item_cache.h) exact. It wraps the
// engine's WriteAheadLog, so every batch the commit pipeline writes passes through it,
// whatever wrote it (user writes, transactions, replicated applies, TTL deletes, tombstone
// purges), and a durable step put under it later (cluster mode's replicated log) keeps the
// cache exact too.
#pragma once

#include <rocksdb/write_batch.h>

#include <chrono>
#include <memory>
#include <utility>

#include "tidewater/core/item_cache.h"
#include "write_ahead_log.h"

namespace tidewater {

// Commits through `inner`, then invalidates the cache entries of every key the batch
// wrote, before the commit returns (so before any of its writes is acknowledged). A
// failed commit invalidates too: its outcome is unknown. Keys of the default column family
// (engine metadata) are skipped; a range deletion clears the whole cache. Thread-safe as
// `inner` and the cache are. The cache must outlive it.
class CacheInvalidatingLog final : public WriteAheadLog {
 public:
  CacheInvalidatingLog(std::unique_ptr<WriteAheadLog> inner, ItemCache& cache)
      : inner_(std::move(inner)), cache_(cache) {}

  Status Admit() override { return inner_->Admit(); }

  Status Commit(rocksdb::WriteBatch& batch, CommitManifest& manifest) override {
    Status committed = inner_->Commit(batch, manifest);
    const auto written = std::chrono::steady_clock::now();
    Invalidator invalidator(cache_);
    // Iterate only fails on a corrupt batch, which the commit above would have refused;
    // clear the cache rather than trust a partial walk.
    if (!batch.Iterate(&invalidator).ok()) cache_.Clear();
    cache_.RecordApplyDelay(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::steady_clock::now() - written)
                                  .count()));
    return committed;
  }

 private:
  class Invalidator final : public rocksdb::WriteBatch::Handler {
   public:
    explicit Invalidator(ItemCache& cache) : cache_(cache) {}
    rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice&) override {
      Drop(cf, key);
      return rocksdb::Status::OK();
    }
    rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
      Drop(cf, key);
      return rocksdb::Status::OK();
    }
    rocksdb::Status SingleDeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
      Drop(cf, key);
      return rocksdb::Status::OK();
    }
    rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
      cache_.Clear();
      return rocksdb::Status::OK();
    }
    rocksdb::Status MergeCF(uint32_t cf, const rocksdb::Slice& key,
                            const rocksdb::Slice&) override {
      Drop(cf, key);
      return rocksdb::Status::OK();
    }

   private:
    void Drop(uint32_t cf, const rocksdb::Slice& key) {
      if (cf != 0) cache_.Invalidate(cf, std::string_view(key.data(), key.size()));
    }
    ItemCache& cache_;
  };

  const std::unique_ptr<WriteAheadLog> inner_;
  ItemCache& cache_;
};

}  // namespace tidewater
