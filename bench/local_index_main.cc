// Local secondary indexes: what they cost a write, and what a Query on one costs.
//
//   build/bench/tw_local_index_bench [--items N] [--writers W] [--queries N]
//
// Four tables, each in its own engine, with 0, 1, 2 and 5 LSIs (each on its own number attribute,
// projection ALL, so every index holds a copy of the item), get the same N PutItems of
// ~300-byte items from W writer threads, spread over 1,000 partitions; the throughput of
// each is printed with its ratio to the table without indexes. Then N random Queries of 10
// items each run on the 1-LSI table, through the index and through the table itself, with
// their p50/p99 latency and the ratio index/table.
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

AttributeValue Num(uint64_t n) {
  return AttributeValue::N(Number::FromInt64(static_cast<int64_t>(n)));
}

std::string BenchTable(int indexes) { return "lsi" + std::to_string(indexes); }

Status CreateTable(Engine& engine, int indexes) {
  CreateTableRequest request;
  request.name = BenchTable(indexes);
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kN};
  for (int i = 0; i < indexes; ++i) {
    SecondaryIndex index;
    index.name = "by_a" + std::to_string(i);
    index.key_schema = {{"pk", AttributeType::kS},
                        KeyAttribute{"a" + std::to_string(i), AttributeType::kN}};
    request.local_indexes.push_back(index);
  }
  return engine.CreateTable(request).status();
}

Item MakeItem(uint64_t i) {
  Item item{{"pk", AttributeValue::S("p" + std::to_string(i % 1000))},
            {"sk", Num(i)},
            {"body", AttributeValue::S(std::string(250, 'b'))}};
  for (int a = 0; a < 5; ++a) item["a" + std::to_string(a)] = Num((i * 7919 + a) % 100000);
  return item;
}

using bench::Percentile;

}  // namespace

int main(int argc, char** argv) {
  uint64_t items = 100000;
  int writers = 4;
  uint64_t queries = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--items") == 0) items = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--writers") == 0) writers = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--queries") == 0) queries = std::strtoull(argv[i + 1], nullptr, 10);
  }
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
    if (!CreateTable(engine, indexes).ok()) return 1;
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
    std::printf("PutItem with %d LSI(s): %.0f items/s, %.2fx the table without indexes\n", indexes,
                rate, rate / base_rate);
    if (indexes == 1) query_engine = std::move(*opened);
  }
  Engine& engine = *query_engine;

  std::mt19937 rng(1);
  std::vector<double> index_micros;
  std::vector<double> table_micros;
  for (uint64_t q = 0; q < queries; ++q) {
    QueryRequest query;
    query.table = BenchTable(1);
    query.partition_key = AttributeValue::S("p" + std::to_string(rng() % 1000));
    query.limit = 10;
    const bool through_index = q % 2 == 0;
    if (through_index) query.index.name = "by_a0";
    const auto start = SteadyClock::now();
    auto page = engine.Query(query);
    const double micros =
        std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count();
    if (!page.ok() || page->items.size() != 10) return 1;
    (through_index ? index_micros : table_micros).push_back(micros);
  }
  const double index_p50 = Percentile(index_micros, 0.5);
  const double table_p50 = Percentile(table_micros, 0.5);
  const double index_p99 = Percentile(index_micros, 0.99);
  const double table_p99 = Percentile(table_micros, 0.99);
  std::printf(
      "Query of 10 items: index p50 %.1f us p99 %.1f us; table p50 %.1f us p99 %.1f us; "
      "index/table %.2fx p50, %.2fx p99\n",
      index_p50, index_p99, table_p50, table_p99, index_p50 / table_p50, index_p99 / table_p99);
  return 0;
}
