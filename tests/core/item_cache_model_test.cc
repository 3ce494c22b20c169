// The read cache's model checker (issue 21): writers change a few items in every way the
// engine knows (puts, updates, deletes, transactions, TTL deletes, replicated applies)
// while readers read them through the cache, and a small capacity keeps evicting. Every
// read must return a state the item really had, no older than the last write acknowledged
// before the read began; the cache must stay within its capacity. After a restart the
// last acknowledged writes are served, nothing older.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/item_cache.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {
namespace {

constexpr char kTable[] = "model";
constexpr char kFillerTable[] = "filler";
constexpr char kLocalRegion[] = "us-model-1";
constexpr char kSourceRegion[] = "eu-model-2";
constexpr int kPartitions = 4;
constexpr int kSortKeys = 4;
constexpr int kItems = kPartitions * kSortKeys;
// The filler items (about 1 KB each) are several times the cache's capacity: reading them
// keeps evicting the model's entries, which are then filled again.
constexpr int kFillerItems = 800;
constexpr size_t kCacheBytes = 256 * 1024;
constexpr auto kRunTime = std::chrono::milliseconds(3000);

AttributeValue S(std::string s) { return AttributeValue::S(std::move(s)); }
AttributeValue N(int64_t n) { return AttributeValue::N(Number::FromInt64(n)); }

std::string PartitionName(int partition) { return "p" + std::to_string(partition); }
std::string SortName(int sort) { return "s" + std::to_string(sort); }
Item KeyOf(int item) {
  return {{"pk", S(PartitionName(item / kSortKeys))}, {"sk", S(SortName(item % kSortKeys))}};
}
Item FillerKey(int filler) { return {{"pk", S("f" + std::to_string(filler))}}; }
std::string FillerData(int filler) {
  return std::string(1000, static_cast<char>('a' + filler % 26));
}

// What a version of an item is. kExpiring: present with a TTL already passed (the sweep may
// delete it at any moment after it is written). kDeleted: a delete.
enum class Written { kPresent, kExpiring, kLongLived, kDeleted };

// The item's contents at version `version`: sizes vary so that entries differ in cost.
std::string Payload(uint64_t version) {
  return std::to_string(version) + ":" +
         std::string(100 + (version * 7919) % 3000, static_cast<char>('a' + version % 26));
}

// The whole item of `version` (not kDeleted); `now_seconds` places the TTL attribute.
Item ItemAt(int item, uint64_t version, Written kind, int64_t now_seconds) {
  Item value = KeyOf(item);
  value["v"] = N(static_cast<int64_t>(version));
  value["data"] = S(Payload(version));
  if (kind == Written::kExpiring) value["exp"] = N(now_seconds - 1);
  if (kind == Written::kLongLived) value["exp"] = N(now_seconds + 1'000'000);
  return value;
}

// One item as the test knows it. The test's writes to an item are serialized by `writer`
// (the engine's TTL sweep is not), so its versions follow its commit order.
struct ItemModel {
  std::mutex writer;
  std::mutex mu;
  std::map<uint64_t, Written> issued;  // every version a write was issued with (guarded by mu)
  uint64_t acknowledged = 0;           // highest version whose write returned ok (guarded by mu)
};

// Records the first failures of the concurrent threads (the threads go on; the test fails).
class Failures {
 public:
  void Add(std::string message) {
    std::lock_guard lock(mu_);
    ++count_;
    if (messages_.size() < 20) messages_.push_back(std::move(message));
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }
  std::string Report() const {
    std::lock_guard lock(mu_);
    std::string report;
    for (const auto& message : messages_) report += message + "\n";
    return report;
  }

 private:
  mutable std::mutex mu_;
  size_t count_ = 0;
  std::vector<std::string> messages_;
};

class ItemCacheModel {
 public:
  ItemCacheModel(Engine& engine, ManualClock& clock) : engine_(engine), clock_(clock) {}

  // The last acknowledged version of `item` (0: never written), for a read about to begin.
  uint64_t Floor(int item) {
    std::lock_guard lock(models_[item].mu);
    return models_[item].acknowledged;
  }

  // Empty when `seen` (nullptr: absent) is a state item `item` had, not older than `floor`;
  // otherwise what is wrong.
  std::string Check(int item, uint64_t floor, const Item* seen) {
    ItemModel& model = models_[item];
    std::lock_guard lock(model.mu);
    const std::string name = PartitionName(item / kSortKeys) + "/" + SortName(item % kSortKeys);
    if (seen == nullptr) {
      if (floor == 0) return "";  // never written before the read: absent is its first state
      // Absent after `floor`: a delete (or a TTL delete of an expired version) issued at or
      // after the floor must exist.
      for (auto it = model.issued.lower_bound(floor); it != model.issued.end(); ++it) {
        if (it->second == Written::kDeleted || it->second == Written::kExpiring) return "";
      }
      return name + ": absent, but the last acknowledged write (v" + std::to_string(floor) +
             ") left it present and no delete followed";
    }
    int64_t version = 0;
    auto v = seen->find("v");
    if (v == seen->end() || !v->second.is(AttributeType::kN) || !v->second.n().ToInt64(&version)) {
      return name + ": no version attribute";
    }
    auto issued = model.issued.find(static_cast<uint64_t>(version));
    if (issued == model.issued.end() || issued->second == Written::kDeleted) {
      return name + ": v" + std::to_string(version) + " was never written";
    }
    const Item expected = ItemAt(item, issued->first, issued->second, 0);
    auto data = seen->find("data");
    if (data == seen->end() || !(data->second == expected.at("data")) ||
        seen->size() != expected.size()) {
      return name + ": v" + std::to_string(version) + " with other contents than written";
    }
    if (static_cast<uint64_t>(version) < floor) {
      return name + ": stale v" + std::to_string(version) + " after v" + std::to_string(floor) +
             " was acknowledged";
    }
    return "";
  }

  // --- Writers ---

  void Put(int item, Written kind) {
    WriteOne(item, kind, [&](uint64_t version) {
      return engine_.PutItem(kTable, ItemAt(item, version, kind, clock_.NowSeconds())).status();
    });
  }

  void Update(int item, Written kind) {
    WriteOne(item, kind, [&](uint64_t version) {
      const Item next = ItemAt(item, version, kind, clock_.NowSeconds());
      const ItemUpdater replace = [&next](const Item*) -> Result<std::optional<Item>> {
        return std::make_optional(next);
      };
      return engine_.UpdateItem(kTable, KeyOf(item), replace).status();
    });
  }

  void Delete(int item) {
    WriteOne(item, Written::kDeleted,
             [&](uint64_t) { return engine_.DeleteItem(kTable, KeyOf(item)).status(); });
  }

  // A transaction over `items` (distinct), each with its own kind of write.
  void Transact(std::vector<int> items, const std::vector<Written>& kinds, std::mt19937& rng) {
    std::vector<int> order = items;
    std::sort(order.begin(), order.end());
    std::vector<std::unique_lock<std::mutex>> locks;
    for (int item : order) locks.emplace_back(models_[item].writer);
    std::vector<Mutation> mutations;
    std::vector<uint64_t> versions;
    const int64_t now = clock_.NowSeconds();
    for (size_t i = 0; i < items.size(); ++i) {
      const uint64_t version = Issue(items[i], kinds[i]);
      versions.push_back(version);
      Mutation mutation;
      mutation.table = kTable;
      if (kinds[i] == Written::kDeleted) {
        mutation.kind = Mutation::Kind::kDelete;
        mutation.item = KeyOf(items[i]);
      } else if (rng() % 2 == 0) {
        mutation.kind = Mutation::Kind::kPut;
        mutation.item = ItemAt(items[i], version, kinds[i], now);
      } else {
        mutation.kind = Mutation::Kind::kUpdate;
        mutation.item = KeyOf(items[i]);
        mutation.updater = [next = ItemAt(items[i], version, kinds[i], now)](
                               const Item*) -> Result<std::optional<Item>> {
          return std::make_optional(next);
        };
      }
      mutations.push_back(std::move(mutation));
    }
    auto result = engine_.TransactWrite(std::move(mutations));
    if (!result.ok()) {
      failures_.Add("TransactWrite: " + result.status().ToString());
      return;
    }
    for (size_t i = 0; i < items.size(); ++i) Acknowledge(items[i], versions[i]);
  }

  // A change from another region, newer than anything local (last writer wins).
  void Replicate(int item, Written kind) {
    std::lock_guard writer(models_[item].writer);
    const uint64_t version = Issue(item, kind);
    ChangeRecord change;
    change.set_table(kTable);
    ToProto(KeyOf(item), change.mutable_keys());
    if (kind == Written::kDeleted) {
      change.set_event(v1::REMOVE);
    } else {
      change.set_event(v1::MODIFY);
      ToProto(ItemAt(item, version, kind, clock_.NowSeconds()), change.mutable_new_image());
    }
    change.mutable_version()->set_hlc_micros(replicated_hlc_.fetch_add(1'000'000));
    change.mutable_version()->set_region(kSourceRegion);
    change.set_origin_region(kSourceRegion);
    auto result = engine_.ApplyReplicationBatch(
        {TableName(kTable), kSourceRegion, {std::move(change)}, std::nullopt});
    if (!result.ok()) {
      failures_.Add("ApplyReplicationBatch: " + result.status().ToString());
      return;
    }
    if (result->applied == 1) {
      Acknowledge(item, version);
      replicated_applies_.fetch_add(1);
    } else {
      // Not newer than the item (local writes went past it): never written.
      std::lock_guard lock(models_[item].mu);
      models_[item].issued.erase(version);
    }
  }

  Failures& failures() { return failures_; }
  uint64_t replicated_applies() const { return replicated_applies_.load(); }
  uint64_t writes() const { return next_version_.load() - 1; }

 private:
  // Called with the item's writer lock held: the next version, recorded before the write.
  uint64_t Issue(int item, Written kind) {
    const uint64_t version = next_version_.fetch_add(1);
    std::lock_guard lock(models_[item].mu);
    models_[item].issued.emplace(version, kind);
    return version;
  }

  void Acknowledge(int item, uint64_t version) {
    std::lock_guard lock(models_[item].mu);
    models_[item].acknowledged = std::max(models_[item].acknowledged, version);
  }

  template <typename Write>
  void WriteOne(int item, Written kind, const Write& write) {
    std::lock_guard writer(models_[item].writer);
    const uint64_t version = Issue(item, kind);
    Status status = write(version);
    if (!status.ok()) {
      failures_.Add("write of v" + std::to_string(version) + ": " + status.ToString());
      return;
    }
    Acknowledge(item, version);
  }

  Engine& engine_;
  ManualClock& clock_;
  ItemModel models_[kItems];
  std::atomic<uint64_t> next_version_{1};
  // Far above the local clock: a replicated change is newer than the item it replaces.
  std::atomic<uint64_t> replicated_hlc_{static_cast<uint64_t>(clock_.NowMicros()) +
                                        1'000'000'000'000ULL};
  std::atomic<uint64_t> replicated_applies_{0};
  Failures failures_;
};

EngineOptions CachedEngineOptions(const std::string& dir, Clock* clock) {
  EngineOptions options = testing::TestEngineOptions(dir, clock);
  options.region = kLocalRegion;
  options.item_cache_bytes = kCacheBytes;
  return options;
}

void CreateTables(Engine& engine) {
  CreateTableRequest model;
  model.name = kTable;
  model.key_schema.partition_key = {"pk", AttributeType::kS};
  model.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kS};
  model.stream = {true, StreamViewType::kNewAndOldImages};
  model.shard_count = 2;
  ASSERT_TRUE(engine.CreateTable(model).ok());
  ASSERT_TRUE(engine.UpdateTimeToLive(kTable, std::string("exp")).ok());
  CreateTableRequest filler;
  filler.name = kFillerTable;
  filler.key_schema.partition_key = {"pk", AttributeType::kS};
  ASSERT_TRUE(engine.CreateTable(filler).ok());
  for (int i = 0; i < kFillerItems; ++i) {
    Item item = FillerKey(i);
    item["data"] = S(FillerData(i));
    ASSERT_TRUE(engine.PutItem(kFillerTable, std::move(item)).ok());
  }
}

Written RandomPresentKind(std::mt19937& rng) {
  const unsigned roll = rng() % 10;
  if (roll < 6) return Written::kPresent;
  if (roll < 8) return Written::kExpiring;
  return Written::kLongLived;
}

TEST(ItemCacheModelTest, ReadsAreNeverStaleUnderConcurrentChangesOfEveryKind) {
  testing::TempDir dir;
  ManualClock clock;
  auto opened = Engine::Open(CachedEngineOptions(dir.path(), &clock));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Engine& engine = **opened;
  ASSERT_NE(engine.item_cache(), nullptr);
  CreateTables(engine);

  ItemCacheModel model(engine, clock);
  const auto deadline = std::chrono::steady_clock::now() + kRunTime;
  const auto running = [&deadline] { return std::chrono::steady_clock::now() < deadline; };
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> ttl_deletes{0};
  std::atomic<uint64_t> stats_samples{0};
  std::vector<std::thread> threads;

  constexpr int kWriters = 3;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(100 + w);
      while (running()) {
        const int item = static_cast<int>(rng() % kItems);
        switch (rng() % 10) {
          case 0:
          case 1:
            model.Put(item, RandomPresentKind(rng));
            break;
          case 2:
          case 3:
            model.Update(item, RandomPresentKind(rng));
            break;
          case 4:
          case 5:
            model.Delete(item);
            break;
          case 6:
          case 7: {
            std::vector<int> items = {item};
            const size_t size = 2 + rng() % 3;
            while (items.size() < size) {
              const int other = static_cast<int>(rng() % kItems);
              if (std::find(items.begin(), items.end(), other) == items.end()) {
                items.push_back(other);
              }
            }
            std::vector<Written> kinds;
            for (size_t i = 0; i < items.size(); ++i) {
              kinds.push_back(rng() % 4 == 0 ? Written::kDeleted : RandomPresentKind(rng));
            }
            model.Transact(items, kinds, rng);
            break;
          }
          default:
            model.Replicate(item, rng() % 3 == 0 ? Written::kDeleted : RandomPresentKind(rng));
            break;
        }
        // Reads outnumber writes, so that entries live long enough to be hit.
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }

  // TTL: time passes and the sweep deletes the expired items, racing the readers and
  // writers. The cache's size is sampled on the way.
  threads.emplace_back([&] {
    while (running()) {
      clock.AdvanceSeconds(1);
      auto swept = engine.RunTtlSweep();
      if (!swept.ok()) {
        model.failures().Add("RunTtlSweep: " + swept.status().ToString());
      } else {
        ttl_deletes.fetch_add(*swept);
      }
      const ItemCacheStats stats = engine.item_cache()->Stats();
      stats_samples.fetch_add(1);
      if (stats.bytes > stats.capacity_bytes || stats.capacity_bytes != kCacheBytes) {
        model.failures().Add("cache holds " + std::to_string(stats.bytes) + " bytes, capacity " +
                             std::to_string(stats.capacity_bytes));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  constexpr int kReaders = 3;
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(200 + r);
      const auto check = [&](const char* how, int item, uint64_t floor, const Item* seen) {
        std::string problem = model.Check(item, floor, seen);
        if (!problem.empty()) model.failures().Add(std::string(how) + " " + problem);
      };
      while (running()) {
        reads.fetch_add(1);
        const unsigned roll = rng() % 20;
        if (roll < 10) {
          // Mostly the first partition's items: they are read far more often than written.
          const int item = static_cast<int>(rng() % (rng() % 2 == 0 ? kSortKeys : kItems));
          const ReadConsistency consistency =
              roll < 8 ? ReadConsistency::kEventual : ReadConsistency::kStrong;
          const uint64_t floor = model.Floor(item);
          auto read = engine.ReadItem(kTable, KeyOf(item), consistency);
          if (!read.ok()) {
            model.failures().Add("ReadItem: " + read.status().ToString());
            continue;
          }
          check(
              consistency == ReadConsistency::kEventual ? "ReadItem(eventual)" : "ReadItem(strong)",
              item, floor, read->get());
        } else if (roll < 13) {
          const int partition = static_cast<int>(rng() % kPartitions);
          uint64_t floors[kSortKeys];
          for (int s = 0; s < kSortKeys; ++s) floors[s] = model.Floor(partition * kSortKeys + s);
          QueryRequest query;
          query.table = kTable;
          query.partition_key = S(PartitionName(partition));
          query.consistency = ReadConsistency::kEventual;
          auto page = engine.Query(query);
          if (!page.ok()) {
            model.failures().Add("Query: " + page.status().ToString());
            continue;
          }
          std::map<std::string, const Item*> seen;
          for (const Item& item : page->items) {
            if (item.at("pk").s() != PartitionName(partition) ||
                !seen.emplace(item.at("sk").s(), &item).second) {
              model.failures().Add("Query: an item of another partition, or twice");
            }
          }
          for (int s = 0; s < kSortKeys; ++s) {
            auto found = seen.find(SortName(s));
            check("Query(eventual)", partition * kSortKeys + s, floors[s],
                  found == seen.end() ? nullptr : found->second);
          }
        } else if (roll < 14) {
          uint64_t floors[kItems];
          for (int i = 0; i < kItems; ++i) floors[i] = model.Floor(i);
          std::map<std::pair<std::string, std::string>, Item> seen;
          ScanRequest scan;
          scan.table = kTable;
          scan.consistency = ReadConsistency::kEventual;
          bool ok = true;
          do {
            auto page = engine.Scan(scan);
            if (!page.ok()) {
              model.failures().Add("Scan: " + page.status().ToString());
              ok = false;
              break;
            }
            for (Item& item : page->items) {
              if (!seen.emplace(std::make_pair(item.at("pk").s(), item.at("sk").s()), item)
                       .second) {
                model.failures().Add("Scan: an item twice");
              }
            }
            scan.exclusive_start_key = page->last_evaluated_key;
          } while (scan.exclusive_start_key);
          if (!ok) continue;
          for (int i = 0; i < kItems; ++i) {
            auto found = seen.find({PartitionName(i / kSortKeys), SortName(i % kSortKeys)});
            check("Scan(eventual)", i, floors[i], found == seen.end() ? nullptr : &found->second);
          }
        } else {
          const int filler = static_cast<int>(rng() % kFillerItems);
          auto read = engine.ReadItem(kFillerTable, FillerKey(filler), ReadConsistency::kEventual);
          if (!read.ok() || *read == nullptr || (*read)->at("data").s() != FillerData(filler)) {
            model.failures().Add("filler item " + std::to_string(filler) + " read wrong");
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(model.failures().count(), 0u) << model.failures().Report();
  const ItemCacheStats stats = engine.item_cache()->Stats();
  EXPECT_LE(stats.bytes, stats.capacity_bytes);
  // The run exercised what it means to check: every kind of change, hits, invalidations
  // and evictions.
  EXPECT_GT(model.writes(), 100u);
  EXPECT_GT(model.replicated_applies(), 0u);
  EXPECT_GT(ttl_deletes.load(), 0u);
  EXPECT_GT(stats_samples.load(), 10u);
  EXPECT_GT(stats.item_hits, 0u);
  EXPECT_GT(stats.page_hits, 0u);
  EXPECT_GT(stats.invalidations, 0u);
  EXPECT_GT(stats.evictions, 0u);
  std::printf(
      "reads %llu, writes %llu (replicated %llu, TTL deletes %llu); item hits %llu misses %llu, "
      "page hits %llu misses %llu, invalidations %llu, evictions %llu, fills refused %llu\n",
      static_cast<unsigned long long>(reads.load()),
      static_cast<unsigned long long>(model.writes()),
      static_cast<unsigned long long>(model.replicated_applies()),
      static_cast<unsigned long long>(ttl_deletes.load()),
      static_cast<unsigned long long>(stats.item_hits),
      static_cast<unsigned long long>(stats.item_misses),
      static_cast<unsigned long long>(stats.page_hits),
      static_cast<unsigned long long>(stats.page_misses),
      static_cast<unsigned long long>(stats.invalidations),
      static_cast<unsigned long long>(stats.evictions),
      static_cast<unsigned long long>(stats.fills_refused));
}

// The cache is memory: after a restart (the engine destroyed and opened again on its data)
// the reads serve the last acknowledged writes, whatever the cache held before.
TEST(ItemCacheModelTest, ARestartServesTheLastAcknowledgedWrites) {
  testing::TempDir dir;
  ManualClock clock;
  const int64_t now = clock.NowSeconds();
  {
    auto opened = Engine::Open(CachedEngineOptions(dir.path(), &clock));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Engine& engine = **opened;
    CreateTables(engine);
    for (int item = 0; item < 3; ++item) {
      ASSERT_TRUE(engine.PutItem(kTable, ItemAt(item, 1, Written::kPresent, now)).ok());
      // Cached at version 1, then changed.
      auto cached = engine.ReadItem(kTable, KeyOf(item), ReadConsistency::kEventual);
      ASSERT_TRUE(cached.ok() && *cached != nullptr);
    }
    ASSERT_TRUE(engine.PutItem(kTable, ItemAt(0, 2, Written::kPresent, now)).ok());
    const ItemUpdater to_v3 = [&](const Item*) -> Result<std::optional<Item>> {
      return std::make_optional(ItemAt(1, 3, Written::kPresent, now));
    };
    ASSERT_TRUE(engine.UpdateItem(kTable, KeyOf(1), to_v3).ok());
    ASSERT_TRUE(engine.DeleteItem(kTable, KeyOf(2)).ok());
    ASSERT_GT(engine.item_cache()->Stats().invalidations, 0u);
  }
  auto reopened = Engine::Open(CachedEngineOptions(dir.path(), &clock));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  Engine& engine = **reopened;
  EXPECT_EQ(engine.item_cache()->Stats().entries, 0u);
  // Twice: the first read fills the cache, the second is served from it.
  for (int round = 0; round < 2; ++round) {
    auto item0 = engine.ReadItem(kTable, KeyOf(0), ReadConsistency::kEventual);
    ASSERT_TRUE(item0.ok() && *item0 != nullptr);
    EXPECT_EQ(**item0, ItemAt(0, 2, Written::kPresent, now));
    auto item1 = engine.ReadItem(kTable, KeyOf(1), ReadConsistency::kEventual);
    ASSERT_TRUE(item1.ok() && *item1 != nullptr);
    EXPECT_EQ(**item1, ItemAt(1, 3, Written::kPresent, now));
    auto item2 = engine.ReadItem(kTable, KeyOf(2), ReadConsistency::kEventual);
    ASSERT_TRUE(item2.ok());
    EXPECT_EQ(*item2, nullptr);
  }
  EXPECT_GE(engine.item_cache()->Stats().item_hits, 3u);
}

}  // namespace
}  // namespace tidewater
