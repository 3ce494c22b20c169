// The local index checker: recomputes each local secondary index of a table from a scan of
// the table (sparse entries, projections) and compares it, entry by entry, with a scan of
// the index. Fails the running test on any difference.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
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

// Returns the number of entries compared over all the table's local indexes.
inline size_t ExpectLocalIndexesMatchTable(Engine& engine, const std::string& table) {
  auto description = engine.DescribeTable(table);
  EXPECT_TRUE(description.ok()) << description.status().ToString();
  if (!description.ok()) return 0;
  const KeySchema& keys = description->key_schema;
  const std::vector<Item> items = ScanEverything(engine, table);
  size_t compared = 0;
  for (const IndexDescription& described : description->local_indexes) {
    const SecondaryIndex& index = described.definition;
    std::map<std::string, Item> expected;
    for (const Item& item : items) {
      if (!item.count(index.key_schema.sort_key->name)) continue;  // sparse
      Item entry;
      for (const auto& [name, value] : item) {
        if (IndexProjects(index, keys, name)) entry.emplace(name, value);
      }
      expected.emplace(TableKeyOf(keys, item), std::move(entry));
    }
    std::map<std::string, Item> actual;
    for (Item& entry : ScanEverything(engine, table, index.name)) {
      const std::string key = TableKeyOf(keys, entry);
      EXPECT_TRUE(actual.emplace(key, std::move(entry)).second)
          << "an item has two entries in " << index.name;
    }
    EXPECT_EQ(actual.size(), expected.size()) << "entries in " << index.name;
    for (const auto& [key, entry] : expected) {
      auto found = actual.find(key);
      if (found == actual.end()) {
        ADD_FAILURE() << "an item has no entry in " << index.name;
        continue;
      }
      EXPECT_TRUE(found->second == entry) << "a stale entry in " << index.name;
    }
    compared += expected.size();
  }
  return compared;
}

}  // namespace tidewater::testing
