// Secondary indexes: what they cost a write, and what a read through one costs.
//
//   build/bench/tw_local_index_bench [--items N] [--writers W] [--queries N]
//                                    [--lag-writes N] [--global]
//
// Four tables, each in its own engine, with 0, 1, 2 and 5 indexes (each on its own number
// attribute, projection ALL, so every index holds a copy of the item), get the same N
// PutItems of ~300-byte items from W writer threads, spread over 1,000 partitions; the
// throughput of each is printed with its ratio to the table without indexes. Then N random
// Queries of up to 10 items run on the 1-index table, alternately through the index and
// through the table, with their p50/p99 latency and the ratio index/table.
// Local indexes by default; --global: global indexes (hash key only) instead, with the
// time the maintainer takes to apply the backlog each load leaves, and the index lag of
// --lag-writes writes at a steady 2,000 per second (p50/p99/max), and the time an index
// added by UpdateTable takes to backfill the 1-index table's N items.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "percentile.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"

namespace {

using namespace tidewater;
using SteadyClock = std::chrono::steady_clock;
using bench::Percentile;

AttributeValue Num(uint64_t n) {
  return AttributeValue::N(Number::FromInt64(static_cast<int64_t>(n)));
}

// Values of each index attribute: about ten items share one among 100,000.
constexpr uint64_t kIndexValues = 10000;

std::string BenchTable(int indexes) { return "lsi" + std::to_string(indexes); }

Item MakeItem(uint64_t i) {
  Item item{{"pk", AttributeValue::S("p" + std::to_string(i % 1000))},
            {"sk", Num(i)},
            {"body", AttributeValue::S(std::string(250, 'b'))}};
  for (int a = 0; a < 5; ++a) item["a" + std::to_string(a)] = Num((i * 7919 + a) % kIndexValues);
  return item;
}

Status CreateTable(Engine& engine, int indexes, bool global) {
  CreateTableRequest request;
  request.name = BenchTable(indexes);
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kN};
  for (int i = 0; i < indexes; ++i) {
    SecondaryIndex index;
    index.name = "by_a" + std::to_string(i);
    const KeyAttribute attribute{"a" + std::to_string(i), AttributeType::kN};
    if (global) {
      index.key_schema = {attribute, std::nullopt};
      request.global_indexes.push_back(index);
    } else {
      index.key_schema = {{"pk", AttributeType::kS}, attribute};
      request.local_indexes.push_back(index);
    }
  }
  return engine.CreateTable(request).status();
}

// Waits until the maintainer has applied every queued global index update of `table`.
double SecondsToCatchUp(Engine& engine, const std::string& table) {
  const auto start = SteadyClock::now();
  for (;;) {
    auto described = engine.DescribeTable(table);
    if (!described.ok() || described->global_index_backlog == 0) break;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// The lag of `samples` writes to the 1-GSI table at a steady `rate` per second: from
// PutItem's return until a probing thread's Query of the index finds the item (the probe
// follows the writes in order, so a slow probe counts against the index, never for it).
bool MeasureLag(Engine& engine, uint64_t first, uint64_t samples, double rate) {
  std::vector<std::atomic<int64_t>> acked(samples);  // steady-clock ns of each write's return
  for (auto& a : acked) a = 0;
  std::atomic<bool> failed{false};
  std::vector<double> micros;
  std::thread probe([&] {
    for (uint64_t k = 0; k < samples && !failed; ++k) {
      QueryRequest query;
      query.table = BenchTable(1);
      query.index.name = "by_a0";
      query.partition_key = Num(1000000 + first + k);  // a value no other item has
      for (;;) {
        auto page = engine.Query(query);
        if (!page.ok()) failed = true;
        if (failed || !page->items.empty()) break;
      }
      while (acked[k] == 0 && !failed) std::this_thread::yield();
      const int64_t now = SteadyClock::now().time_since_epoch().count();
      micros.push_back(static_cast<double>(std::max<int64_t>(0, now - acked[k])) / 1000);
    }
  });
  const auto start = SteadyClock::now();
  for (uint64_t k = 0; k < samples && !failed; ++k) {
    std::this_thread::sleep_until(start + std::chrono::nanoseconds(static_cast<int64_t>(
                                              static_cast<double>(k) * 1e9 / rate)));
    Item item = MakeItem(first + k);
    item["a0"] = Num(1000000 + first + k);
    if (!engine.PutItem(BenchTable(1), item).ok()) failed = true;
    acked[k] = SteadyClock::now().time_since_epoch().count();
  }
  probe.join();
  if (failed) return false;
  std::printf(
      "Global index lag at %.0f writes/s: p50 %.1f us, p99 %.1f us, max %.1f us (%llu "
      "writes)\n",
      rate, Percentile(micros, 0.5), Percentile(micros, 0.99), Percentile(micros, 1.0),
      static_cast<unsigned long long>(samples));
  return true;
}

// `queries` Queries of up to 10 items, alternately through index by_a0 (LSI: a partition
// of the table; GSI: one a0 value, ~10 items) and through the table; p50/p99 of each.
bool CompareQueries(Engine& engine, uint64_t queries, bool global) {
  std::mt19937 rng(1);
  std::vector<double> index_micros;
  std::vector<double> table_micros;
  for (uint64_t q = 0; q < queries; ++q) {
    QueryRequest query;
    query.table = BenchTable(1);
    query.partition_key = AttributeValue::S("p" + std::to_string(rng() % 1000));
    query.limit = 10;
    const bool through_index = q % 2 == 0;
    if (through_index) {
      query.index.name = "by_a0";
      if (global) query.partition_key = Num(rng() % kIndexValues);
    }
    const auto start = SteadyClock::now();
    auto page = engine.Query(query);
    const double micros =
        std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count();
    if (!page.ok() || page->items.empty()) return false;
    (through_index ? index_micros : table_micros).push_back(micros);
  }
  const double index_p50 = Percentile(index_micros, 0.5);
  const double table_p50 = Percentile(table_micros, 0.5);
  const double index_p99 = Percentile(index_micros, 0.99);
  const double table_p99 = Percentile(table_micros, 0.99);
  std::printf(
      "Query of up to 10 items: index p50 %.1f us p99 %.1f us; table p50 %.1f us p99 %.1f us; "
      "index/table %.2fx p50, %.2fx p99\n",
      index_p50, index_p99, table_p50, table_p99, index_p50 / table_p50, index_p99 / table_p99);
  return true;
}

// Adds a global index (on "a4", projection ALL) to the 1-index table and prints how long
// its backfill of the table's `items` items takes, until the index is readable.
bool MeasureBackfill(Engine& engine, uint64_t items) {
  GlobalIndexUpdate create;
  create.kind = GlobalIndexUpdate::Kind::kCreate;
  create.index.name = "added";
  create.index.key_schema.partition_key = {"a4", AttributeType::kN};
  create.index.projection.type = ProjectionType::kAll;
  const auto start = SteadyClock::now();
  if (!engine.UpdateGlobalIndexes(BenchTable(1), create).ok()) return false;
  for (bool backfilling = true; backfilling;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto described = engine.DescribeTable(BenchTable(1));
    if (!described.ok()) return false;
    backfilling = described->global_indexes.back().definition.backfilling;
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::printf("GSI added by UpdateTable: backfill of %llu items in %.2f s (%.0f items/s)\n",
              static_cast<unsigned long long>(items), seconds,
              static_cast<double>(items) / seconds);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t items = 100000;
  int writers = 4;
  uint64_t queries = 20000;
  uint64_t lag_writes = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--items") == 0) items = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--writers") == 0) writers = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--queries") == 0) queries = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--lag-writes") == 0) {
      lag_writes = std::strtoull(argv[i + 1], nullptr, 10);
    }
  }
  const bool global = std::strcmp(argv[argc - 1], "--global") == 0;
  const char* kind = global ? "GSI" : "LSI";
  // Each table in its own engine, so that no table's writes wait behind the compactions
  // of an earlier one's; the 1-LSI engine stays open for the queries.
  double base_rate = 0;
  std::vector<std::unique_ptr<testing::TempDir>> dirs;
  std::unique_ptr<Engine> query_engine;
  for (int indexes : {0, 1, 2, 5}) {
    dirs.push_back(std::make_unique<testing::TempDir>());
    auto opened = Engine::Open(testing::TestEngineOptions(dirs.back()->path()));
    if (!opened.ok()) {
      std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
      return 1;
    }
    Engine& engine = **opened;
    if (!CreateTable(engine, indexes, global).ok()) return 1;
    std::atomic<uint64_t> next{0};
    std::atomic<bool> failed{false};
    const auto start = SteadyClock::now();
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&] {
        for (uint64_t i; (i = next.fetch_add(1)) < items;) {
          if (!engine.PutItem(BenchTable(indexes), MakeItem(i)).ok()) failed = true;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    if (failed) return 1;
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    const double rate = static_cast<double>(items) / seconds;
    if (indexes == 0) base_rate = rate;
    std::printf("PutItem with %d %s(s): %.0f items/s, %.2fx the table without indexes", indexes,
                kind, rate, rate / base_rate);
    if (global && indexes > 0) {
      std::printf("; backlog applied %.2f s after the last write",
                  SecondsToCatchUp(engine, BenchTable(indexes)));
    }
    std::printf("\n");
    if (indexes == 1) query_engine = std::move(*opened);
  }
  Engine& engine = *query_engine;
  if (!CompareQueries(engine, queries, global)) return 1;
  if (global && !MeasureLag(engine, items, lag_writes, 2000)) return 1;
  if (global && !MeasureBackfill(engine, items + lag_writes)) return 1;
  return 0;
}
