// The item store role of the engine: reading and writing items, transactions, Query and
// Scan. Every write that changes an item is committed together with its change record
// (see change_log.h): an acknowledged write is in its shard's log exactly once, a failed
// or rejected one changes nothing and leaves no record.
//
// Thread safety: every method is safe to call concurrently. Writes to one shard are
// serialized in commit order; writes to different shards proceed in parallel.
// Exceptions never escape.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tidewater/core/attribute_value.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table.h"
#include "tidewater/v1/change_record.pb.h"

namespace tidewater {

// Decides whether a write may proceed, given the item as it is now (nullptr when absent).
// Return ok to proceed, or the error to fail the write with (ConditionalCheckFailed...).
// Called under the shard's commit lock: keep it fast and do not call the engine.
using WriteCondition = std::function<Status(const Item* current)>;

// Computes the new item from the current one (nullptr when absent) for UpdateItem.
// Same calling rules as WriteCondition. The result must keep the key attributes.
// nullopt means "the item stays absent" and is only allowed when `current` is nullptr:
// the write then changes nothing and logs no change record (DynamoDB's UpdateItem that
// only removes attributes of an item that does not exist).
using ItemUpdater = std::function<Result<std::optional<Item>>(const Item* current)>;

// Where a change came from (recorded as the record's provenance).
struct WriteOrigin {
  v1::Provenance provenance = v1::USER_WRITE;
};

// One write of a batch or transaction.
struct Mutation {
  enum class Kind { kPut, kDelete, kUpdate, kConditionCheck };
  Kind kind = Kind::kPut;
  std::string table;
  Item item;                 // kPut: the whole item; others: the key
  WriteCondition condition;  // optional
  ItemUpdater updater;       // kUpdate only
};

// The item before and after a write (absent when there was/is no item).
struct WriteResult {
  std::optional<Item> old_item;
  std::optional<Item> new_item;
};

// How fresh a read must be. kStrong reads storage. kEventual may be answered from the
// engine's read cache (item_cache.h), which the commit path keeps exact on this node: a
// write acknowledged before the read began is seen either way. Cluster mode's standbys
// are what make kEventual weaker than kStrong.
enum class ReadConsistency { kStrong, kEventual };

// The range condition on the sort key of a Query.
struct SortKeyCondition {
  enum class Op { kNone, kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };
  Op op = Op::kNone;
  AttributeValue value;   // the operand (lower bound for BETWEEN)
  AttributeValue value2;  // upper bound for BETWEEN
};

// Reading a secondary index instead of the table (Query and Scan).
struct IndexRead {
  std::string name;  // empty: read the table itself
  // Return each entry's whole item, read from the table (a local index only): DynamoDB's
  // fetch of attributes the index does not project.
  bool fetch_items = false;
};

struct QueryRequest {
  std::string table;
  AttributeValue partition_key;
  SortKeyCondition sort_key;
  bool forward = true;
  size_t limit = 0;  // items to evaluate; 0 = no limit (the 1 MB page still applies)
  std::optional<Item> exclusive_start_key;
  size_t max_page_bytes = 1024 * 1024;
  IndexRead index;
  // kEventual pages of the table and of its local indexes may come from the read cache.
  ReadConsistency consistency = ReadConsistency::kStrong;
};

struct ScanRequest {
  std::string table;
  uint32_t segment = 0;
  uint32_t total_segments = 1;
  size_t limit = 0;
  std::optional<Item> exclusive_start_key;
  size_t max_page_bytes = 1024 * 1024;
  IndexRead index;
  // kEventual pages of the table (not of an index) may come from the read cache.
  ReadConsistency consistency = ReadConsistency::kStrong;
};

// A page of items. An index page's keys hold the table's and the index's key attributes.
struct ItemPage {
  std::vector<Item> items;
  std::optional<Item> last_evaluated_key;  // set when more may follow
  size_t scanned_bytes = 0;                // sum of item sizes read (for capacity units)
  // The part of scanned_bytes that an index read fetched from the table (IndexRead).
  size_t fetched_bytes = 0;
};

class ItemStore {
 public:
  virtual ~ItemStore() = default;

  virtual Result<WriteResult> PutItem(const std::string& table, Item item,
                                      const WriteCondition& condition = {},
                                      const WriteOrigin& origin = {}) = 0;
  virtual Result<WriteResult> DeleteItem(const std::string& table, const Item& key,
                                         const WriteCondition& condition = {},
                                         const WriteOrigin& origin = {}) = 0;
  virtual Result<WriteResult> UpdateItem(const std::string& table, const Item& key,
                                         const ItemUpdater& updater,
                                         const WriteCondition& condition = {},
                                         const WriteOrigin& origin = {}) = 0;
  virtual Result<std::optional<Item>> GetItem(const std::string& table, const Item& key) = 0;
  // GetItem without a copy, answered from the read cache when `consistency` allows it
  // (and fills the cache on a miss). nullptr: the item is absent. The item is shared and
  // immutable.
  virtual Result<std::shared_ptr<const Item>> ReadItem(const std::string& table, const Item& key,
                                                       ReadConsistency consistency) = 0;
  // All mutations or none, across tables and shards, in one WriteBatch. A failed
  // condition or invalid action cancels all: Status::TransactionCanceled with one reason
  // per mutation. Each shard's records carry the transaction id and participant count.
  virtual Result<std::vector<WriteResult>> TransactWrite(std::vector<Mutation> mutations,
                                                         const WriteOrigin& origin = {}) = 0;

  virtual Result<ItemPage> Query(const QueryRequest& request) = 0;
  virtual Result<ItemPage> Scan(const ScanRequest& request) = 0;

  // The open shard of `table` that the item with key `key` routes to now (after a split:
  // one of the new shards). ValidationException when `key` lacks the partition key.
  virtual Result<ShardIndex> ShardForKey(const std::string& table, const Item& key) = 0;
  // Validates that `key` has exactly the table's key attributes with the right types.
  virtual Status ValidateKey(const std::string& table, const Item& key) = 0;
  // The estimated size of the item collection of `partition_key` in `table`: the bytes of
  // its items and of their local index entries (RocksDB's approximate sizes, memtables
  // included), as DynamoDB's ItemCollectionMetrics estimate it.
  virtual Result<uint64_t> ItemCollectionBytes(const std::string& table,
                                               const AttributeValue& partition_key) = 0;
};

}  // namespace tidewater
