// The index checker: recomputes each secondary index of a table from a scan of the table
// (sparse entries, projections) and compares it, entry by entry, with a scan of the index.
// Local indexes must match at once; global ones, maintained after the commit, within a
// wait. Fails the running test on any difference.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tidewater/core/engine.h"
#include "tidewater/core/key_codec.h"

namespace tidewater::testing {

// Every page of a Scan of `table` (or of its index `index`), following LastEvaluatedKey.
inline std::vector<Item> ScanEverything(Engine& engine, const std::string& table,
                                        const std::string& index = "") {
  std::vector<Item> items;
  ScanRequest scan;
  scan.table = table;
  scan.index.name = index;
  scan.limit = 97;
  for (;;) {
    auto page = engine.Scan(scan);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return items;
    items.insert(items.end(), page->items.begin(), page->items.end());
    if (!page->last_evaluated_key) return items;
    scan.exclusive_start_key = page->last_evaluated_key;
  }
}

// The encoded table key of `item` (one map key per item).
inline std::string TableKeyOf(const KeySchema& schema, const Item& item) {
  const AttributeValue* sort = schema.sort_key ? &item.at(schema.sort_key->name) : nullptr;
  return keycodec::EncodeItemKey(item.at(schema.partition_key.name), sort);
}

// The first difference between the table's local (or global) indexes and a recomputation
// from the table, "" if none; adds the entries compared to `compared`.
inline std::string IndexDifference(Engine& engine, const std::string& table, bool global,
                                   size_t& compared) {
  auto description = engine.DescribeTable(table);
  if (!description.ok()) return description.status().ToString();
  const KeySchema& keys = description->key_schema;
  const std::vector<Item> items = ScanEverything(engine, table);
  for (const IndexDescription& described :
       global ? description->global_indexes : description->local_indexes) {
    const SecondaryIndex& index = described.definition;
    if (index.backfilling) return index.name + " is still backfilling";
    std::map<std::string, Item> expected;
    for (const Item& item : items) {
      // Sparse: an item without an index key value (absent, or stored before the index
      // existed with another type or empty) has no entry.
      const auto keyed = [&](const KeyAttribute& key) {
        auto found = item.find(key.name);
        return found != item.end() && found->second.type() == key.type &&
               (key.type == AttributeType::kN || !found->second.s().empty());
      };
      if (!keyed(index.key_schema.partition_key) ||
          (index.key_schema.sort_key && !keyed(*index.key_schema.sort_key))) {
        continue;
      }
      Item entry;
      for (const auto& [name, value] : item) {
        if (IndexProjects(index, keys, name)) entry.emplace(name, value);
      }
      expected.emplace(TableKeyOf(keys, item), std::move(entry));
    }
    std::map<std::string, Item> actual;
    for (Item& entry : ScanEverything(engine, table, index.name)) {
      const std::string key = TableKeyOf(keys, entry);
      if (!actual.emplace(key, std::move(entry)).second) {
        return "an item has two entries in " + index.name;
      }
    }
    for (const auto& [key, entry] : expected) {
      auto found = actual.find(key);
      if (found == actual.end()) return "an item has no entry in " + index.name;
      if (!(found->second == entry)) return "a stale entry in " + index.name;
    }
    if (actual.size() != expected.size()) {
      return std::to_string(actual.size()) + " entries in " + index.name + ", expected " +
             std::to_string(expected.size());
    }
    compared += expected.size();
  }
  return "";
}

// Returns the number of entries compared over all the table's indexes.
inline size_t ExpectIndexesMatchTable(
    Engine& engine, const std::string& table,
    std::chrono::milliseconds global_wait = std::chrono::seconds(20)) {
  size_t compared = 0;
  EXPECT_EQ(IndexDifference(engine, table, /*global=*/false, compared), "") << table;
  const auto deadline = std::chrono::steady_clock::now() + global_wait;
  for (;;) {
    size_t global_compared = 0;
    const std::string difference = IndexDifference(engine, table, /*global=*/true, global_compared);
    if (difference.empty()) return compared + global_compared;
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << table << ": " << difference;
      return compared;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace tidewater::testing
