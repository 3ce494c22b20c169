// Table classes: what STANDARD_INFREQUENT_ACCESS saves on disk and what it costs on reads.
//
//   build/bench/tw_table_class_bench [--items N] [--reads N] [--cache-mib M]
//
// Two tables of one engine, one per class, get the same N items of ~1 KB of log-like text
// (words and numbers, as items often hold). The engine is reopened so that every item is in
// table files, then each table's size (DescribeTable's approximate size: its files) per
// item is printed, and random GetItems (eventually consistent) run against each table in
// turn through a small block cache (--cache-mib, default 8: most reads leave the cache, as
// on a table larger than memory), their latency p50/p99 printed with the ratio IA/STANDARD.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "percentile.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"

namespace {

using namespace tidewater;

std::string Text(std::mt19937& rng) {
  static const char* const kWords[] = {"order",  "shipped",   "customer", "invoice", "pending",
                                       "region", "warehouse", "status",   "payment", "address"};
  std::string text;
  while (text.size() < 1000) {
    text += kWords[rng() % 10];
    text += rng() % 3 == 0 ? " " + std::to_string(rng() % 100000) + " " : " ";
  }
  return text;
}

Item Key(uint64_t i) { return {{"pk", AttributeValue::S("item-" + std::to_string(i))}}; }

using bench::Percentile;

}  // namespace

int main(int argc, char** argv) {
  uint64_t items = 100000;
  uint64_t reads = 50000;
  size_t cache_mib = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--items") == 0) items = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--reads") == 0) reads = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--cache-mib") == 0)
      cache_mib = std::strtoull(argv[i + 1], nullptr, 10);
  }
  testing::TempDir dir;
  const std::pair<const char*, TableClass> classes[] = {
      {"STANDARD", TableClass::kStandard},
      {"STANDARD_INFREQUENT_ACCESS", TableClass::kStandardInfrequentAccess}};
  {
    auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
    if (!engine.ok()) return 1;
    for (const auto& [name, table_class] : classes) {
      CreateTableRequest request;
      request.name = name;
      request.key_schema.partition_key = {"pk", AttributeType::kS};
      request.settings.table_class = table_class;
      request.settings.table_class_set_micros = 1;
      if (!(*engine)->CreateTable(request).ok()) return 1;
      std::mt19937 rng(42);  // the same items in both tables
      for (uint64_t i = 0; i < items; ++i) {
        Item item = Key(i);
        item["body"] = AttributeValue::S(Text(rng));
        if (!(*engine)->PutItem(name, item).ok()) return 1;
      }
    }
  }
  EngineOptions options = testing::TestEngineOptions(dir.path());
  options.block_cache_bytes = cache_mib << 20;
  auto engine = Engine::Open(options);  // the recovered writes are flushed into table files
  if (!engine.ok()) return 1;

  double bytes_per_item[2] = {};
  std::vector<double> latencies[2];
  for (int c = 0; c < 2; ++c) {
    auto description = (*engine)->DescribeTable(classes[c].first);
    if (!description.ok()) return 1;
    bytes_per_item[c] =
        static_cast<double>(description->approximate_size_bytes) / static_cast<double>(items);
  }
  std::mt19937_64 rng(7);
  // Alternating blocks of reads, so both classes see the same machine state.
  for (uint64_t done = 0; done < reads; done += 1000) {
    for (int c = 0; c < 2; ++c) {
      for (int r = 0; r < 1000; ++r) {
        const Item key = Key(rng() % items);
        const auto start = std::chrono::steady_clock::now();
        auto item = (*engine)->GetItem(classes[c].first, key);
        const auto end = std::chrono::steady_clock::now();
        if (!item.ok() || !item->has_value()) return 1;
        latencies[c].push_back(std::chrono::duration<double, std::micro>(end - start).count());
      }
    }
  }
  std::printf("%llu items of ~1 KB, %llu GetItems per class, block cache %zu MiB\n",
              static_cast<unsigned long long>(items), static_cast<unsigned long long>(reads),
              cache_mib);
  for (int c = 0; c < 2; ++c) {
    std::printf("%-27s %7.1f bytes/item on disk, GetItem p50 %6.1f us, p99 %6.1f us\n",
                classes[c].first, bytes_per_item[c], Percentile(latencies[c], 0.5),
                Percentile(latencies[c], 0.99));
  }
  std::printf("IA / STANDARD: bytes %.2fx, GetItem p50 %.2fx, p99 %.2fx\n",
              bytes_per_item[1] / bytes_per_item[0],
              Percentile(latencies[1], 0.5) / Percentile(latencies[0], 0.5),
              Percentile(latencies[1], 0.99) / Percentile(latencies[0], 0.99));
  return 0;
}
