// Private: secondary index entries: which entry an item has in an index, what the entry
// holds, and the index writes that go with an item's change.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tidewater/core/attribute_value.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table.h"

namespace tidewater {

// The key of `item`'s entry in `index` (storage::IndexEntryPrefix + index key + item key),
// or nullopt when the item lacks one of the index's key attributes (sparse index) or
// holds one of another type or empty (stored before the index existed: not indexed).
// `item_key` is the item's encoded table key.
std::optional<std::string> IndexEntryKey(const SecondaryIndex& index, const Item& item,
                                         const std::string& item_key);

// The attributes of `item` that `index` stores: the table's and the index's keys and what
// the projection names.
Item ProjectForIndex(const SecondaryIndex& index, const KeySchema& table_keys, const Item& item);

// The writes to the index entries when an item (encoded table key `item_key`) changes
// from `before` to `after` (nullptr: absent): (entry key, stored entry or nullopt to
// delete). An entry whose key and projection did not change is not rewritten.
std::vector<std::pair<std::string, std::optional<std::string>>> IndexWrites(
    const std::vector<SecondaryIndex>& indexes, const KeySchema& table_keys,
    const std::string& item_key, const Item* before, const Item* after);

// The global index work of an item change (`IndexWrites` of `indexes`, committed at
// `committed_micros`) as a serialized GlobalIndexWork, or nullopt when no entry changes.
std::optional<std::string> GlobalIndexWork(const std::vector<SecondaryIndex>& indexes,
                                           const KeySchema& table_keys, const std::string& item_key,
                                           const Item* before, const Item* after,
                                           int64_t committed_micros);

}  // namespace tidewater
