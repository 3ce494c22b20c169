// The engine's read cache: items (GetItem, BatchGetItem) and Query/Scan pages, in memory,
// bounded in bytes, kept exact by the commit path instead of by a time to live.
//
// Coherence (tested in tests/core/item_cache_model_test.cc):
//  * Every batch the commit pipeline writes (user writes, transactions, replicated
//    applies, TTL deletes, tombstone purges) passes through Invalidate before the writes in
//    it are acknowledged, also when the durable step failed (its outcome is unknown). An
//    item change drops the item's entry, every cached page of its partition and every
//    cached scan page of its table.
//  * A reader that misses gets a fill token (Lookup) BEFORE it reads storage and fills
//    with it afterwards. An invalidation of the entry in between withdraws the token, so
//    a value read before a change can never be cached after it.
//  So a read served from the cache returns what storage held at some moment after the
//  last write acknowledged before the read began: on the node that acknowledged a write,
//  a later read sees it. Tables are told apart by their items column family id, which
//  RocksDB never reuses; a table created again under a deleted one's name starts empty.
//
// Memory: the bytes charged (keys, items, pages and bookkeeping) never exceed the
// capacity; the least recently used entries of a stripe are evicted first.
//
// Thread safety: every method is safe to call concurrently. The cache is striped: a
// lookup, fill or invalidation locks one stripe (three for an item change).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "tidewater/core/attribute_value.h"
#include "tidewater/core/item_store.h"

namespace tidewater {

// Counters since the cache was made, and its size now.
struct ItemCacheStats {
  uint64_t item_hits = 0;
  uint64_t item_misses = 0;
  uint64_t page_hits = 0;
  uint64_t page_misses = 0;
  uint64_t evictions = 0;      // entries dropped to stay within the capacity
  uint64_t invalidations = 0;  // entries (or pending fills) dropped by a change
  uint64_t fills_refused = 0;  // fills whose token a change withdrew
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t capacity_bytes = 0;
  // Time from a batch's durable write to the end of its invalidations (the staleness
  // window of the cache): the number of batches, their sum and the largest, in ns.
  uint64_t applied_batches = 0;
  uint64_t apply_delay_nanos_sum = 0;
  uint64_t apply_delay_nanos_max = 0;
};

class ItemCache {
 public:
  // What a lookup found. On a hit `value` is set (an item entry whose `value` is nullptr
  // is a negative entry: the item is known absent). On a miss `fill_token` is non-zero:
  // read storage, then call Fill* with it.
  template <typename T>
  struct Lookup {
    bool hit = false;
    std::shared_ptr<const T> value;
    uint64_t fill_token = 0;
  };

  explicit ItemCache(size_t capacity_bytes);
  ~ItemCache();
  ItemCache(const ItemCache&) = delete;
  ItemCache& operator=(const ItemCache&) = delete;

  // --- Items: `column_family` is the table's items column family id, `item_key` the
  // item's storage key (keycodec::EncodeItemKey). ---
  Lookup<Item> FindItem(uint32_t column_family, std::string_view item_key);
  // Caches `item` (nullptr: absent) if `fill_token` is still valid. `item_bytes` is the
  // item's size (ItemSize), charged with the key and bookkeeping.
  void FillItem(uint32_t column_family, std::string_view item_key, std::shared_ptr<const Item> item,
                size_t item_bytes, uint64_t fill_token);

  // --- Pages: `page_key` identifies the request (the engine's canonical encoding).
  // `partition_hash` is the partition's keycodec::PartitionHash for a Query page (the
  // page goes when an item of that partition changes); nullopt for a Scan page (it goes
  // when any item of the table changes). ---
  Lookup<ItemPage> FindPage(uint32_t column_family, std::string_view page_key,
                            std::optional<uint64_t> partition_hash);
  void FillPage(uint32_t column_family, std::string_view page_key,
                std::optional<uint64_t> partition_hash, std::shared_ptr<const ItemPage> page,
                size_t page_bytes, uint64_t fill_token);

  // --- Changes ---
  // An item of the table whose items column family is `column_family` changed (or may
  // have): drops its entry, its partition's pages and the table's scan pages, cached or
  // being filled. `item_key` shorter than a partition hash (8 bytes) has no partition: it
  // drops the entry and the table's scan pages.
  void Invalidate(uint32_t column_family, std::string_view item_key);
  // Records the staleness window of one batch (see ItemCacheStats).
  void RecordApplyDelay(uint64_t nanos);
  // Drops everything (after a storage recovery, whose replay the cache did not see).
  void Clear();

  ItemCacheStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidewater
