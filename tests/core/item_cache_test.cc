// ItemCache: hits and misses, fill tokens, what a change drops, the byte bound and LRU
// eviction, and coherence under concurrent finds, fills and invalidations.
#include "tidewater/core/item_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tidewater/core/key_codec.h"

namespace tidewater {
namespace {

constexpr uint32_t kTable = 7;
constexpr uint32_t kOtherTable = 8;
constexpr size_t kLargeCapacity = 64 << 20;
constexpr size_t kStripes = 64;  // the stripe count item_cache.cc uses

// An item storage key of partition `partition_hash` (the first 8 bytes are its hash).
std::string ItemKey(uint64_t partition_hash, std::string_view rest) {
  std::string key;
  keycodec::AppendHash(partition_hash, &key);
  key.append(rest);
  return key;
}

std::shared_ptr<const Item> VersionItem(uint64_t version) {
  return std::make_shared<const Item>(Item{{"v", AttributeValue::S(std::to_string(version))}});
}

uint64_t VersionOf(const Item& item) { return std::stoull(item.at("v").s()); }

std::shared_ptr<const ItemPage> VersionPage(uint64_t version) {
  auto page = std::make_shared<ItemPage>();
  page->items.push_back(*VersionItem(version));
  return page;
}

uint64_t VersionOf(const ItemPage& page) { return VersionOf(page.items.at(0)); }

// Misses, then fills `item` with the token of the miss.
void CacheItem(ItemCache& cache, uint32_t table, const std::string& key,
               std::shared_ptr<const Item> item, size_t item_bytes = 50) {
  auto lookup = cache.FindItem(table, key);
  ASSERT_FALSE(lookup.hit);
  cache.FillItem(table, key, std::move(item), item_bytes, lookup.fill_token);
}

void CachePage(ItemCache& cache, uint32_t table, const std::string& page_key,
               std::optional<uint64_t> partition_hash, std::shared_ptr<const ItemPage> page,
               size_t page_bytes = 50) {
  auto lookup = cache.FindPage(table, page_key, partition_hash);
  ASSERT_FALSE(lookup.hit);
  cache.FillPage(table, page_key, partition_hash, std::move(page), page_bytes, lookup.fill_token);
}

// The version a hit returns; nullopt on a miss.
std::optional<uint64_t> CachedItemVersion(ItemCache& cache, uint32_t table,
                                          const std::string& key) {
  auto lookup = cache.FindItem(table, key);
  if (!lookup.hit) return std::nullopt;
  return VersionOf(*lookup.value);
}

std::optional<uint64_t> CachedPageVersion(ItemCache& cache, uint32_t table,
                                          const std::string& page_key,
                                          std::optional<uint64_t> partition_hash) {
  auto lookup = cache.FindPage(table, page_key, partition_hash);
  if (!lookup.hit) return std::nullopt;
  return VersionOf(*lookup.value);
}

TEST(ItemCacheTest, MissGivesATokenAndTheFilledItemIsThenAHit) {
  ItemCache cache(kLargeCapacity);
  const std::string key = ItemKey(1, "a");
  auto miss = cache.FindItem(kTable, key);
  EXPECT_FALSE(miss.hit);
  EXPECT_EQ(miss.value, nullptr);
  EXPECT_NE(miss.fill_token, 0u);
  cache.FillItem(kTable, key, VersionItem(3), 50, miss.fill_token);

  auto hit = cache.FindItem(kTable, key);
  ASSERT_TRUE(hit.hit);
  ASSERT_NE(hit.value, nullptr);
  EXPECT_EQ(VersionOf(*hit.value), 3u);
  EXPECT_EQ(hit.fill_token, 0u);
  EXPECT_FALSE(cache.FindItem(kOtherTable, key).hit);  // tables are told apart

  const ItemCacheStats stats = cache.Stats();
  EXPECT_EQ(stats.item_hits, 1u);
  EXPECT_EQ(stats.item_misses, 2u);
  EXPECT_EQ(stats.entries, 2u);  // the item and the other table's pending fill
  EXPECT_GT(stats.bytes, 50u);
  EXPECT_EQ(stats.capacity_bytes, kLargeCapacity);
  EXPECT_EQ(stats.fills_refused, 0u);
}

TEST(ItemCacheTest, NegativeEntryIsAHitWithoutValue) {
  ItemCache cache(kLargeCapacity);
  const std::string key = ItemKey(1, "absent");
  CacheItem(cache, kTable, key, nullptr, 0);
  auto lookup = cache.FindItem(kTable, key);
  EXPECT_TRUE(lookup.hit);
  EXPECT_EQ(lookup.value, nullptr);
  EXPECT_EQ(lookup.fill_token, 0u);
  EXPECT_EQ(cache.Stats().item_hits, 1u);
}

TEST(ItemCacheTest, SecondMissRearmsAndRefusesTheFirstFill) {
  ItemCache cache(kLargeCapacity);
  const std::string key = ItemKey(1, "a");
  auto first = cache.FindItem(kTable, key);
  auto second = cache.FindItem(kTable, key);
  EXPECT_FALSE(second.hit);
  EXPECT_NE(second.fill_token, 0u);
  EXPECT_NE(second.fill_token, first.fill_token);

  cache.FillItem(kTable, key, VersionItem(1), 50, first.fill_token);
  EXPECT_EQ(cache.Stats().fills_refused, 1u);
  cache.FillItem(kTable, key, VersionItem(2), 50, second.fill_token);
  EXPECT_EQ(CachedItemVersion(cache, kTable, key), 2u);
}

TEST(ItemCacheTest, FillWithAnUnknownTokenIsRefused) {
  ItemCache cache(kLargeCapacity);
  const std::string key = ItemKey(1, "a");
  auto miss = cache.FindItem(kTable, key);
  cache.FillItem(kTable, key, VersionItem(1), 50, miss.fill_token + 1000);
  cache.FillItem(kTable, ItemKey(1, "never looked up"), VersionItem(1), 50, miss.fill_token);
  EXPECT_EQ(cache.Stats().fills_refused, 2u);
  EXPECT_FALSE(cache.FindItem(kTable, key).hit);
}

TEST(ItemCacheTest, InvalidateBetweenFindAndFillRefusesTheFill) {
  ItemCache cache(kLargeCapacity);
  const std::string key = ItemKey(1, "a");
  auto miss = cache.FindItem(kTable, key);
  cache.Invalidate(kTable, key);
  cache.FillItem(kTable, key, VersionItem(1), 50, miss.fill_token);

  const ItemCacheStats stats = cache.Stats();
  EXPECT_EQ(stats.fills_refused, 1u);
  EXPECT_EQ(stats.invalidations, 1u);  // the pending fill
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.bytes, 0u);
  EXPECT_FALSE(cache.FindItem(kTable, key).hit);
}

TEST(ItemCacheTest, InvalidateDropsAFilledItem) {
  ItemCache cache(kLargeCapacity);
  const std::string key = ItemKey(1, "a");
  const std::string neighbour = ItemKey(1, "b");
  CacheItem(cache, kTable, key, VersionItem(1));
  CacheItem(cache, kTable, neighbour, VersionItem(1));
  cache.Invalidate(kTable, key);
  EXPECT_EQ(CachedItemVersion(cache, kTable, neighbour), 1u);
  EXPECT_EQ(CachedItemVersion(cache, kTable, key), std::nullopt);
  EXPECT_EQ(cache.Stats().invalidations, 1u);
}

TEST(ItemCacheTest, ClearDropsEntriesAndRefusesPendingFills) {
  ItemCache cache(kLargeCapacity);
  const std::string filled = ItemKey(1, "filled");
  const std::string pending = ItemKey(1, "pending");
  CacheItem(cache, kTable, filled, VersionItem(1));
  CachePage(cache, kTable, "scan", std::nullopt, VersionPage(1));
  auto miss = cache.FindItem(kTable, pending);
  cache.Clear();
  EXPECT_EQ(cache.Stats().entries, 0u);
  EXPECT_EQ(cache.Stats().bytes, 0u);

  cache.FillItem(kTable, pending, VersionItem(1), 50, miss.fill_token);
  EXPECT_EQ(cache.Stats().fills_refused, 1u);
  EXPECT_FALSE(cache.FindItem(kTable, pending).hit);
  EXPECT_FALSE(cache.FindItem(kTable, filled).hit);
  EXPECT_FALSE(cache.FindPage(kTable, "scan", std::nullopt).hit);
}

TEST(ItemCacheTest, QueryPageGoesWithAChangeInItsPartitionOnly) {
  ItemCache cache(kLargeCapacity);
  constexpr uint64_t kChanged = 0x1111'2222'3333'4444;
  constexpr uint64_t kOther = 0x5555'6666'7777'8888;
  CachePage(cache, kTable, "query changed", kChanged, VersionPage(1));
  CachePage(cache, kTable, "query other", kOther, VersionPage(2));
  CachePage(cache, kOtherTable, "query changed", kChanged, VersionPage(3));
  CacheItem(cache, kTable, ItemKey(kOther, "x"), VersionItem(4));

  cache.Invalidate(kTable, ItemKey(kChanged, "any sort key"));
  EXPECT_EQ(CachedPageVersion(cache, kTable, "query other", kOther), 2u);
  EXPECT_EQ(CachedPageVersion(cache, kOtherTable, "query changed", kChanged), 3u);
  EXPECT_EQ(CachedItemVersion(cache, kTable, ItemKey(kOther, "x")), 4u);
  EXPECT_EQ(CachedPageVersion(cache, kTable, "query changed", kChanged), std::nullopt);
  EXPECT_EQ(cache.Stats().invalidations, 1u);
}

TEST(ItemCacheTest, PendingQueryPageFillIsRefusedAfterAChangeInItsPartition) {
  ItemCache cache(kLargeCapacity);
  constexpr uint64_t kPartition = 42;
  auto miss = cache.FindPage(kTable, "query", kPartition);
  ASSERT_FALSE(miss.hit);
  cache.Invalidate(kTable, ItemKey(kPartition, "a"));
  cache.FillPage(kTable, "query", kPartition, VersionPage(1), 50, miss.fill_token);
  EXPECT_EQ(cache.Stats().fills_refused, 1u);
  EXPECT_FALSE(cache.FindPage(kTable, "query", kPartition).hit);
}

TEST(ItemCacheTest, ScanPagesGoWithAnyChangeInTheirTableOnly) {
  ItemCache cache(kLargeCapacity);
  CachePage(cache, kTable, "scan 1", std::nullopt, VersionPage(1));
  CachePage(cache, kTable, "scan 2", std::nullopt, VersionPage(2));
  CachePage(cache, kOtherTable, "scan 1", std::nullopt, VersionPage(3));
  CacheItem(cache, kOtherTable, ItemKey(9, "a"), VersionItem(4));
  auto pending_scan = cache.FindPage(kTable, "scan 3", std::nullopt);

  cache.Invalidate(kTable, ItemKey(9, "a"));
  cache.FillPage(kTable, "scan 3", std::nullopt, VersionPage(5), 50, pending_scan.fill_token);
  EXPECT_EQ(CachedPageVersion(cache, kOtherTable, "scan 1", std::nullopt), 3u);
  EXPECT_EQ(CachedItemVersion(cache, kOtherTable, ItemKey(9, "a")), 4u);
  EXPECT_EQ(CachedPageVersion(cache, kTable, "scan 1", std::nullopt), std::nullopt);
  EXPECT_EQ(CachedPageVersion(cache, kTable, "scan 2", std::nullopt), std::nullopt);
  EXPECT_EQ(CachedPageVersion(cache, kTable, "scan 3", std::nullopt), std::nullopt);
  const ItemCacheStats stats = cache.Stats();
  EXPECT_EQ(stats.invalidations, 3u);
  EXPECT_EQ(stats.fills_refused, 1u);
}

TEST(ItemCacheTest, KeyShorterThanAPartitionHashDropsTheEntryAndScanPages) {
  ItemCache cache(kLargeCapacity);
  const std::string short_key = "abc";
  CacheItem(cache, kTable, short_key, VersionItem(1));
  CachePage(cache, kTable, "scan", std::nullopt, VersionPage(2));
  const uint64_t prefix_hash = keycodec::ReadHash(short_key);
  CachePage(cache, kTable, "query", prefix_hash, VersionPage(3));

  cache.Invalidate(kTable, short_key);
  EXPECT_EQ(CachedPageVersion(cache, kTable, "query", prefix_hash), 3u);
  EXPECT_EQ(CachedItemVersion(cache, kTable, short_key), std::nullopt);
  EXPECT_EQ(CachedPageVersion(cache, kTable, "scan", std::nullopt), std::nullopt);
}

TEST(ItemCacheTest, NullPageIsNotCached) {
  ItemCache cache(kLargeCapacity);
  CachePage(cache, kTable, "scan", std::nullopt, nullptr);
  EXPECT_EQ(cache.Stats().entries, 0u);
  EXPECT_FALSE(cache.FindPage(kTable, "scan", std::nullopt).hit);
}

// The pages of one partition share a stripe, so their eviction order is the LRU order.
TEST(ItemCacheTest, EvictsTheLeastRecentlyUsedPageOfAStripe) {
  constexpr size_t kStripeBudget = 1000;
  constexpr size_t kPageBytes = 300;  // with key and bookkeeping two fit, three do not
  ItemCache cache(kStripes * kStripeBudget);
  constexpr uint64_t kPartition = 77;
  CachePage(cache, kTable, "p0", kPartition, VersionPage(0), kPageBytes);
  CachePage(cache, kTable, "p1", kPartition, VersionPage(1), kPageBytes);
  EXPECT_EQ(cache.Stats().evictions, 0u);
  EXPECT_EQ(CachedPageVersion(cache, kTable, "p0", kPartition), 0u);  // p1 is now the oldest

  CachePage(cache, kTable, "p2", kPartition, VersionPage(2), kPageBytes);
  ItemCacheStats stats = cache.Stats();
  EXPECT_EQ(stats.evictions, 1u);
  EXPECT_EQ(stats.entries, 2u);
  EXPECT_LE(stats.bytes, kStripeBudget);
  EXPECT_EQ(CachedPageVersion(cache, kTable, "p0", kPartition), 0u);
  EXPECT_EQ(CachedPageVersion(cache, kTable, "p2", kPartition), 2u);
  EXPECT_EQ(CachedPageVersion(cache, kTable, "p1", kPartition), std::nullopt);
}

TEST(ItemCacheTest, FillingMoreThanTheCapacityEvictsTheOldestAndStaysWithinIt) {
  constexpr size_t kCapacity = kStripes * 4096;
  constexpr int kItems = 5000;
  ItemCache cache(kCapacity);
  std::vector<std::string> keys;
  for (int i = 0; i < kItems; ++i) {
    keys.push_back(ItemKey(static_cast<uint64_t>(i) * 0x9e37'79b9'7f4a'7c15, "k"));
    CacheItem(cache, kTable, keys.back(), VersionItem(i), 200);
    ASSERT_LE(cache.Stats().bytes, kCapacity) << "after item " << i;
  }
  const ItemCacheStats stats = cache.Stats();
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_EQ(stats.entries + stats.evictions, static_cast<uint64_t>(kItems));
  EXPECT_GT(stats.bytes, kCapacity / 2);  // the stripes are used, not emptied
  EXPECT_EQ(CachedItemVersion(cache, kTable, keys.back()), static_cast<uint64_t>(kItems - 1));
  // About 78 items per stripe and room for 11: the first ones are gone.
  EXPECT_EQ(CachedItemVersion(cache, kTable, keys[0]), std::nullopt);
  EXPECT_EQ(CachedItemVersion(cache, kTable, keys[1]), std::nullopt);
}

TEST(ItemCacheTest, EntryLargerThanAStripeIsNotCached) {
  constexpr size_t kStripeBudget = 1000;
  ItemCache cache(kStripes * kStripeBudget);
  const std::string key = ItemKey(1, "big");
  CacheItem(cache, kTable, key, VersionItem(1), kStripeBudget);
  ItemCacheStats stats = cache.Stats();
  EXPECT_EQ(stats.fills_refused, 1u);
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.bytes, 0u);
  EXPECT_FALSE(cache.FindItem(kTable, key).hit);

  CachePage(cache, kTable, "big page", 5, VersionPage(1), kStripeBudget);
  EXPECT_EQ(cache.Stats().fills_refused, 2u);
  EXPECT_FALSE(cache.FindPage(kTable, "big page", 5).hit);
}

TEST(ItemCacheTest, CapacityZeroCachesNothing) {
  ItemCache cache(0);
  const std::string key = ItemKey(1, "a");
  for (int round = 0; round < 2; ++round) {
    auto item = cache.FindItem(kTable, key);
    EXPECT_FALSE(item.hit);
    EXPECT_NE(item.fill_token, 0u);
    cache.FillItem(kTable, key, VersionItem(1), 10, item.fill_token);
    auto page = cache.FindPage(kTable, "scan", std::nullopt);
    EXPECT_FALSE(page.hit);
    EXPECT_NE(page.fill_token, 0u);
    cache.FillPage(kTable, "scan", std::nullopt, VersionPage(1), 10, page.fill_token);
  }
  const ItemCacheStats stats = cache.Stats();
  EXPECT_EQ(stats.item_misses, 2u);
  EXPECT_EQ(stats.page_misses, 2u);
  EXPECT_EQ(stats.item_hits + stats.page_hits, 0u);
  EXPECT_EQ(stats.fills_refused, 4u);
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.bytes, 0u);
  EXPECT_EQ(stats.capacity_bytes, 0u);
}

TEST(ItemCacheTest, RecordsApplyDelays) {
  ItemCache cache(kLargeCapacity);
  cache.RecordApplyDelay(300);
  cache.RecordApplyDelay(1200);
  cache.RecordApplyDelay(500);
  const ItemCacheStats stats = cache.Stats();
  EXPECT_EQ(stats.applied_batches, 3u);
  EXPECT_EQ(stats.apply_delay_nanos_sum, 2000u);
  EXPECT_EQ(stats.apply_delay_nanos_max, 1200u);
}

// A value in "storage" and the largest version whose invalidation has completed.
struct ModelValue {
  std::atomic<uint64_t> version{0};
  std::atomic<uint64_t> invalidated{0};
};

void RaiseTo(std::atomic<uint64_t>& target, uint64_t value) {
  uint64_t current = target.load();
  while (current < value && !target.compare_exchange_weak(current, value)) {
  }
}

// The coherence rule: a hit returns a version at least the one whose invalidation had
// completed before the lookup began. Writers bump a key's, its partition's and the table's
// versions (storage), then Invalidate, then publish the versions as invalidated. Readers
// take a token, read the version and fill with it; version 0 is cached as a negative
// entry. Unrelated keys of another table add eviction pressure.
TEST(ItemCacheTest, ConcurrentFindsFillsAndInvalidationsStayCoherent) {
  constexpr size_t kCapacity = kStripes * 700;
  constexpr int kThreads = 6;
  constexpr int kKeys = 8;
  constexpr int kPartitions = 2;
  constexpr int kNoiseKeys = 300;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);

  ItemCache cache(kCapacity);
  std::vector<std::string> keys;
  for (int k = 0; k < kKeys; ++k) {
    keys.push_back(ItemKey(k % kPartitions + 1, "key " + std::to_string(k)));
  }
  std::vector<ModelValue> key_values(kKeys);
  std::vector<ModelValue> partition_values(kPartitions);
  ModelValue table_value;
  std::atomic<uint64_t> stale_hits{0};
  std::atomic<uint64_t> over_capacity{0};
  std::atomic<uint64_t> operations{0};

  auto work = [&](int thread_index) {
    std::mt19937 random(thread_index);
    for (uint64_t step = 0; std::chrono::steady_clock::now() < deadline; ++step) {
      const int choice = static_cast<int>(random() % 100);
      const int k = static_cast<int>(random() % kKeys);
      const int p = k % kPartitions;
      if (choice < 10) {  // write key k
        const uint64_t key_version = key_values[k].version.fetch_add(1) + 1;
        const uint64_t partition_version = partition_values[p].version.fetch_add(1) + 1;
        const uint64_t table_version = table_value.version.fetch_add(1) + 1;
        cache.Invalidate(kTable, keys[k]);
        RaiseTo(key_values[k].invalidated, key_version);
        RaiseTo(partition_values[p].invalidated, partition_version);
        RaiseTo(table_value.invalidated, table_version);
      } else if (choice < 55) {  // GetItem of key k
        const uint64_t floor = key_values[k].invalidated.load();
        auto lookup = cache.FindItem(kTable, keys[k]);
        if (lookup.hit) {
          const uint64_t version = lookup.value ? VersionOf(*lookup.value) : 0;
          if (version < floor) stale_hits.fetch_add(1);
        } else {
          const uint64_t version = key_values[k].version.load();
          cache.FillItem(kTable, keys[k], version == 0 ? nullptr : VersionItem(version), 100,
                         lookup.fill_token);
        }
      } else if (choice < 70) {  // Query of partition p
        const uint64_t floor = partition_values[p].invalidated.load();
        const std::string page_key = "query " + std::to_string(p);
        auto lookup = cache.FindPage(kTable, page_key, p + 1);
        if (lookup.hit) {
          if (VersionOf(*lookup.value) < floor) stale_hits.fetch_add(1);
        } else {
          cache.FillPage(kTable, page_key, p + 1, VersionPage(partition_values[p].version.load()),
                         250, lookup.fill_token);
        }
      } else if (choice < 80) {  // Scan
        const uint64_t floor = table_value.invalidated.load();
        auto lookup = cache.FindPage(kTable, "scan", std::nullopt);
        if (lookup.hit) {
          if (VersionOf(*lookup.value) < floor) stale_hits.fetch_add(1);
        } else {
          cache.FillPage(kTable, "scan", std::nullopt, VersionPage(table_value.version.load()), 250,
                         lookup.fill_token);
        }
      } else {  // GetItem of an unrelated item
        const std::string noise = ItemKey(random() % kNoiseKeys, "noise");
        auto lookup = cache.FindItem(kOtherTable, noise);
        if (lookup.hit) {
          if (VersionOf(*lookup.value) != 1) stale_hits.fetch_add(1);
        } else {
          cache.FillItem(kOtherTable, noise, VersionItem(1), 150, lookup.fill_token);
        }
      }
      if (step % 64 == 0 && cache.Stats().bytes > kCapacity) over_capacity.fetch_add(1);
      operations.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(work, t);
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(stale_hits.load(), 0u);
  EXPECT_EQ(over_capacity.load(), 0u);
  const ItemCacheStats stats = cache.Stats();
  EXPECT_LE(stats.bytes, kCapacity);
  // The run exercised what it checks.
  EXPECT_GT(operations.load(), 10'000u);
  EXPECT_GT(stats.item_hits, 0u);
  EXPECT_GT(stats.page_hits, 0u);
  EXPECT_GT(stats.invalidations, 0u);
  EXPECT_GT(stats.fills_refused, 0u);
  EXPECT_GT(stats.evictions, 0u);
}

}  // namespace
}  // namespace tidewater
