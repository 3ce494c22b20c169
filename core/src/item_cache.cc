#include "tidewater/core/item_cache.h"

#include <array>
#include <atomic>
#include <functional>
#include <iterator>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

#include "fmix64.h"
#include "tidewater/core/key_codec.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater {
namespace {

constexpr size_t kStripeCount = 64;
constexpr int kStripeShift = 58;  // the top 6 bits of a mixed hash pick one of 64 stripes
static_assert(kStripeCount == size_t{1} << (64 - kStripeShift));

// Bytes charged for an entry besides its full key and its value: the LRU list node, the
// hash-map node, the entry's fields and the allocators' headers (about 128 on 64-bit).
constexpr size_t kEntryOverheadBytes = 128;

// The first byte of a full key: what the entry holds.
enum class EntryKind : char { kItem = 'I', kQueryPage = 'P', kScanPage = 'S' };

// Full key: kind || column family (4 bytes, big-endian) || item key or page key. Written
// into `out`, which the caller reuses so that a lookup allocates only when it caches.
void BuildFullKey(EntryKind kind, uint32_t column_family, std::string_view key, std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(kind));
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(column_family >> shift));
  }
  out->append(key);
}

// The calling thread's buffer for full keys (see BuildFullKey).
std::string& FullKeyBuffer() {
  thread_local std::string buffer;
  return buffer;
}

// Page entries are grouped by tag: every page that one change drops has the same tag. Tags
// are hashes; two groups sharing a tag are dropped together, which only drops more.
uint64_t QueryPageTag(uint32_t column_family, uint64_t partition_hash) {
  return Fmix64(Fmix64(column_family) ^ partition_hash);
}
uint64_t ScanPageTag(uint32_t column_family) {
  return Fmix64(Fmix64(column_family) + static_cast<uint64_t>(EntryKind::kScanPage));
}

// One cached value, or a pending fill (fill_token != 0) holding no value yet. An item
// entry's value is an Item (nullptr: the item is absent), a page entry's an ItemPage.
struct Entry {
  std::string full_key;
  std::shared_ptr<const void> value;
  uint64_t fill_token = 0;
  size_t charge = 0;
  // Page entries only: their tag and their neighbours in the stripe's chain of that tag.
  uint64_t tag = 0;
  Entry* tag_previous = nullptr;
  Entry* tag_next = nullptr;

  bool is_page() const { return full_key[0] != static_cast<char>(EntryKind::kItem); }
};

// Hits and misses of one kind of lookup.
struct LookupCounters {
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};
};

// A 64th of the cache: its own lock, LRU order, entries by full key and page chains by
// tag. Its bytes never exceed the budget its owner passes. The counters are written only
// with `mu` held and read by Stats() without it.
struct alignas(64) Stripe {
  Mutex mu;
  std::list<Entry> lru TW_GUARDED_BY(mu);  // front: most recently used
  // Keys view the full_key of the entry they point to.
  std::unordered_map<std::string_view, std::list<Entry>::iterator> by_key TW_GUARDED_BY(mu);
  std::unordered_map<uint64_t, Entry*> tag_heads TW_GUARDED_BY(mu);

  LookupCounters items;
  LookupCounters pages;
  std::atomic<uint64_t> evictions{0};
  std::atomic<uint64_t> invalidations{0};
  std::atomic<uint64_t> fills_refused{0};
  std::atomic<uint64_t> entries{0};
  std::atomic<uint64_t> bytes{0};

  void LinkTag(Entry& entry, uint64_t tag) TW_REQUIRES(mu) {
    entry.tag = tag;
    auto [head, inserted] = tag_heads.try_emplace(tag, &entry);
    if (inserted) return;
    entry.tag_next = head->second;
    head->second->tag_previous = &entry;
    head->second = &entry;
  }

  void UnlinkTag(Entry& entry) TW_REQUIRES(mu) {
    if (entry.tag_next != nullptr) entry.tag_next->tag_previous = entry.tag_previous;
    if (entry.tag_previous != nullptr) {
      entry.tag_previous->tag_next = entry.tag_next;
    } else if (entry.tag_next != nullptr) {
      tag_heads[entry.tag] = entry.tag_next;
    } else {
      tag_heads.erase(entry.tag);
    }
  }

  void Erase(std::list<Entry>::iterator position) TW_REQUIRES(mu) {
    if (position->is_page()) UnlinkTag(*position);
    by_key.erase(std::string_view(position->full_key));
    bytes.fetch_sub(position->charge, std::memory_order_relaxed);
    entries.fetch_sub(1, std::memory_order_relaxed);
    lru.erase(position);
  }

  // Evicts least recently used entries until `charge` more bytes fit in `budget`. The
  // caller has checked charge <= budget.
  void MakeRoom(size_t charge, size_t budget) TW_REQUIRES(mu) {
    while (!lru.empty() && bytes.load(std::memory_order_relaxed) + charge > budget) {
      Erase(std::prev(lru.end()));
      evictions.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // Drops the entry under `full_key`, filled or pending.
  void Invalidate(std::string_view full_key) TW_EXCLUDES(mu) {
    MutexLock lock(mu);
    auto found = by_key.find(full_key);
    if (found == by_key.end()) return;
    Erase(found->second);
    invalidations.fetch_add(1, std::memory_order_relaxed);
  }

  // Drops every page entry with `tag`, filled or pending.
  void InvalidateTag(uint64_t tag) TW_EXCLUDES(mu) {
    MutexLock lock(mu);
    auto head = tag_heads.find(tag);
    if (head == tag_heads.end()) return;
    Entry* entry = head->second;
    while (entry != nullptr) {
      Entry* next = entry->tag_next;
      Erase(by_key.find(entry->full_key)->second);
      invalidations.fetch_add(1, std::memory_order_relaxed);
      entry = next;
    }
  }

  void Clear() TW_EXCLUDES(mu) {
    MutexLock lock(mu);
    by_key.clear();
    tag_heads.clear();
    lru.clear();
    bytes.store(0, std::memory_order_relaxed);
    entries.store(0, std::memory_order_relaxed);
  }
};

Stripe& StripeOf(std::array<Stripe, kStripeCount>& stripes, uint64_t mixed_hash) {
  return stripes[mixed_hash >> kStripeShift];
}

}  // namespace

// The stripes, the fill-token counter and the apply-delay statistics. Every stripe gets
// capacity / 64 bytes, so the cache as a whole stays within the capacity.
struct ItemCache::Impl {
  explicit Impl(size_t capacity)
      : capacity_bytes(capacity), stripe_budget(capacity / kStripeCount) {}

  Stripe& ItemStripe(std::string_view full_key) {
    return StripeOf(stripes, Fmix64(std::hash<std::string_view>{}(full_key)));
  }
  Stripe& TagStripe(uint64_t tag) { return StripeOf(stripes, tag); }

  uint64_t NewFillToken() {
    const uint64_t token = next_fill_token.fetch_add(1, std::memory_order_relaxed);
    return token != 0 ? token : next_fill_token.fetch_add(1, std::memory_order_relaxed);
  }

  // A hit returns the value and makes the entry the most recently used. A miss (no entry,
  // or a pending one) arms a pending entry with a new token, withdrawing any earlier one.
  // `tag` is set for page entries.
  template <typename T>
  Lookup<T> Find(Stripe& stripe, LookupCounters& counters, std::string_view full_key,
                 std::optional<uint64_t> tag) TW_EXCLUDES(stripe.mu) {
    Lookup<T> lookup;
    MutexLock lock(stripe.mu);
    auto found = stripe.by_key.find(full_key);
    if (found != stripe.by_key.end()) {
      stripe.lru.splice(stripe.lru.begin(), stripe.lru, found->second);
      Entry& entry = *found->second;
      if (entry.fill_token == 0) {
        counters.hits.fetch_add(1, std::memory_order_relaxed);
        lookup.hit = true;
        lookup.value = std::static_pointer_cast<const T>(entry.value);
        return lookup;
      }
      counters.misses.fetch_add(1, std::memory_order_relaxed);
      entry.fill_token = NewFillToken();
      lookup.fill_token = entry.fill_token;
      return lookup;
    }
    counters.misses.fetch_add(1, std::memory_order_relaxed);
    lookup.fill_token = NewFillToken();
    const size_t charge = full_key.size() + kEntryOverheadBytes;
    if (charge > stripe_budget) return lookup;  // the fill will be refused
    stripe.MakeRoom(charge, stripe_budget);
    Entry& entry = stripe.lru.emplace_front();
    entry.full_key = full_key;
    entry.fill_token = lookup.fill_token;
    entry.charge = charge;
    stripe.by_key.emplace(entry.full_key, stripe.lru.begin());
    if (tag.has_value()) stripe.LinkTag(entry, *tag);
    stripe.bytes.fetch_add(charge, std::memory_order_relaxed);
    stripe.entries.fetch_add(1, std::memory_order_relaxed);
    return lookup;
  }

  // Stores `value` in the pending entry armed with `fill_token`, if it is still there and
  // the value fits in the stripe; refuses it otherwise. `cacheable` false drops the
  // pending entry without counting a refusal.
  void Fill(Stripe& stripe, std::string_view full_key, std::shared_ptr<const void> value,
            size_t value_bytes, uint64_t fill_token, bool cacheable) TW_EXCLUDES(stripe.mu) {
    MutexLock lock(stripe.mu);
    auto found = stripe.by_key.find(full_key);
    if (found == stripe.by_key.end() || found->second->fill_token != fill_token) {
      stripe.fills_refused.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const auto position = found->second;
    if (!cacheable) {
      stripe.Erase(position);
      return;
    }
    const size_t fixed_charge = full_key.size() + kEntryOverheadBytes;
    if (value_bytes > stripe_budget - fixed_charge) {  // pending, so fixed_charge fits
      stripe.Erase(position);
      stripe.fills_refused.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    Entry& entry = *position;
    stripe.lru.splice(stripe.lru.begin(), stripe.lru, position);
    // The entry leaves the stripe's bytes while room is made: it is the most recently
    // used, and every other entry goes before the new charge could not fit.
    stripe.bytes.fetch_sub(entry.charge, std::memory_order_relaxed);
    entry.charge = fixed_charge + value_bytes;
    stripe.MakeRoom(entry.charge, stripe_budget);
    stripe.bytes.fetch_add(entry.charge, std::memory_order_relaxed);
    entry.value = std::move(value);
    entry.fill_token = 0;
  }

  const size_t capacity_bytes;
  const size_t stripe_budget;
  std::array<Stripe, kStripeCount> stripes;
  std::atomic<uint64_t> next_fill_token{1};
  std::atomic<uint64_t> applied_batches{0};
  std::atomic<uint64_t> apply_delay_nanos_sum{0};
  std::atomic<uint64_t> apply_delay_nanos_max{0};
};

ItemCache::ItemCache(size_t capacity_bytes) : impl_(std::make_unique<Impl>(capacity_bytes)) {}

ItemCache::~ItemCache() = default;

ItemCache::Lookup<Item> ItemCache::FindItem(uint32_t column_family, std::string_view item_key) {
  std::string& full_key = FullKeyBuffer();
  BuildFullKey(EntryKind::kItem, column_family, item_key, &full_key);
  Stripe& stripe = impl_->ItemStripe(full_key);
  return impl_->Find<Item>(stripe, stripe.items, full_key, std::nullopt);
}

void ItemCache::FillItem(uint32_t column_family, std::string_view item_key,
                         std::shared_ptr<const Item> item, size_t item_bytes, uint64_t fill_token) {
  std::string& full_key = FullKeyBuffer();
  BuildFullKey(EntryKind::kItem, column_family, item_key, &full_key);
  impl_->Fill(impl_->ItemStripe(full_key), full_key, std::move(item), item_bytes, fill_token,
              /*cacheable=*/true);
}

ItemCache::Lookup<ItemPage> ItemCache::FindPage(uint32_t column_family, std::string_view page_key,
                                                std::optional<uint64_t> partition_hash) {
  const uint64_t tag = partition_hash.has_value() ? QueryPageTag(column_family, *partition_hash)
                                                  : ScanPageTag(column_family);
  std::string& full_key = FullKeyBuffer();
  BuildFullKey(partition_hash.has_value() ? EntryKind::kQueryPage : EntryKind::kScanPage,
               column_family, page_key, &full_key);
  Stripe& stripe = impl_->TagStripe(tag);
  return impl_->Find<ItemPage>(stripe, stripe.pages, full_key, tag);
}

void ItemCache::FillPage(uint32_t column_family, std::string_view page_key,
                         std::optional<uint64_t> partition_hash,
                         std::shared_ptr<const ItemPage> page, size_t page_bytes,
                         uint64_t fill_token) {
  const uint64_t tag = partition_hash.has_value() ? QueryPageTag(column_family, *partition_hash)
                                                  : ScanPageTag(column_family);
  std::string& full_key = FullKeyBuffer();
  BuildFullKey(partition_hash.has_value() ? EntryKind::kQueryPage : EntryKind::kScanPage,
               column_family, page_key, &full_key);
  // A page hit must carry a page: a null one is not cached.
  const bool cacheable = page != nullptr;
  impl_->Fill(impl_->TagStripe(tag), full_key, std::move(page), page_bytes, fill_token, cacheable);
}

void ItemCache::Invalidate(uint32_t column_family, std::string_view item_key) {
  std::string& full_key = FullKeyBuffer();
  BuildFullKey(EntryKind::kItem, column_family, item_key, &full_key);
  impl_->ItemStripe(full_key).Invalidate(full_key);
  if (item_key.size() >= sizeof(uint64_t)) {
    const uint64_t tag = QueryPageTag(column_family, keycodec::ReadHash(item_key));
    impl_->TagStripe(tag).InvalidateTag(tag);
  }
  const uint64_t scan_tag = ScanPageTag(column_family);
  impl_->TagStripe(scan_tag).InvalidateTag(scan_tag);
}

void ItemCache::RecordApplyDelay(uint64_t nanos) {
  impl_->applied_batches.fetch_add(1, std::memory_order_relaxed);
  impl_->apply_delay_nanos_sum.fetch_add(nanos, std::memory_order_relaxed);
  uint64_t largest = impl_->apply_delay_nanos_max.load(std::memory_order_relaxed);
  while (nanos > largest && !impl_->apply_delay_nanos_max.compare_exchange_weak(
                                largest, nanos, std::memory_order_relaxed)) {
  }
}

void ItemCache::Clear() {
  for (Stripe& stripe : impl_->stripes) stripe.Clear();
}

ItemCacheStats ItemCache::Stats() const {
  ItemCacheStats stats;
  constexpr auto kRelaxed = std::memory_order_relaxed;
  for (const Stripe& stripe : impl_->stripes) {
    stats.item_hits += stripe.items.hits.load(kRelaxed);
    stats.item_misses += stripe.items.misses.load(kRelaxed);
    stats.page_hits += stripe.pages.hits.load(kRelaxed);
    stats.page_misses += stripe.pages.misses.load(kRelaxed);
    stats.evictions += stripe.evictions.load(kRelaxed);
    stats.invalidations += stripe.invalidations.load(kRelaxed);
    stats.fills_refused += stripe.fills_refused.load(kRelaxed);
    stats.entries += stripe.entries.load(kRelaxed);
    stats.bytes += stripe.bytes.load(kRelaxed);
  }
  stats.capacity_bytes = impl_->capacity_bytes;
  stats.applied_batches = impl_->applied_batches.load(kRelaxed);
  stats.apply_delay_nanos_sum = impl_->apply_delay_nanos_sum.load(kRelaxed);
  stats.apply_delay_nanos_max = impl_->apply_delay_nanos_max.load(kRelaxed);
  return stats;
}

}  // namespace tidewater
