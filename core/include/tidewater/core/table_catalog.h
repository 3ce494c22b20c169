// The table catalog role of the engine: tables, their key schemas, streams and TTL
// settings, and their lifecycle. `TableDirectory` is the read-only part that log readers
// need (which tables exist, their shards); `TableCatalog` adds the changes.
//
// Thread safety: every method is safe to call concurrently. Exceptions never escape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tidewater/core/status.h"
#include "tidewater/core/table.h"

namespace tidewater {

struct ListTablesPage {
  std::vector<std::string> names;
  std::optional<std::string> last_evaluated_table_name;
};

// Which tables exist and how their streams are laid out (shards, sequence ranges).
class TableDirectory {
 public:
  virtual ~TableDirectory() = default;
  virtual Result<TableDescription> DescribeTable(const std::string& name) = 0;
  // Table names in ascending order, after exclusive_start (if any), at most limit (0: all).
  virtual Result<ListTablesPage> ListTables(const std::optional<std::string>& exclusive_start,
                                            size_t limit) = 0;
  // The readable streams of `table` (of every table when nullopt): each enabled stream and
  // each disabled one, also of deleted tables, until retention has passed since it was
  // disabled; ordered by table name, then stream label. NotFound when `table` names
  // neither a table nor a readable stream.
  virtual Result<std::vector<StreamDescription>> ListStreams(
      const std::optional<std::string>& table) = 0;
  // The readable stream `label` of `table` (NotFound when there is none).
  virtual Result<StreamDescription> DescribeStream(const std::string& table,
                                                   const std::string& label) = 0;
};

// Edits `settings` (the table's current ones, as `table` describes) into the new ones, or
// refuses the change with an error Status. `now_micros` is the engine clock's time.
using TableSettingsUpdater = std::function<Status(const TableDescription& table, int64_t now_micros,
                                                  TableSettings& settings)>;

// One change to a table's global secondary indexes (UpdateTable's
// GlobalSecondaryIndexUpdates). `index` is the new index for kCreate (its ordinal and
// backfilling are the catalog's to set); for kDelete only its name counts; for
// kUpdateThroughput its name and provisioned units.
struct GlobalIndexUpdate {
  enum class Kind { kCreate, kDelete, kUpdateThroughput };
  Kind kind = Kind::kCreate;
  SecondaryIndex index;
  // kUpdateThroughput only, when set: called under the catalog's lock with the index as it
  // is and the engine clock's time, to set `index`'s units and capacity history from
  // `current` (starting as a copy of it) or refuse the change (nothing is changed then).
  // Unset: `index`'s units are taken as they are.
  std::function<Status(const SecondaryIndex& current, int64_t now_micros, SecondaryIndex& index)>
      change_throughput;
};

// Creating, changing and deleting tables.
class TableCatalog : public virtual TableDirectory {
 public:
  virtual Result<TableDescription> CreateTable(const CreateTableRequest& request) = 0;
  // Deletes the table, unless its settings protect it from deletion (then
  // ValidationException, DynamoDB's message). Its stream (if enabled) becomes a disabled stream,
  // readable until retention passes (ListStreams, DescribeStream, ReadShard by table id). A table
  // created again under the name continues each shard's sequence numbers after the deleted one's.
  virtual Result<TableDescription> DeleteTable(const std::string& name) = 0;
  // Turns the stream on (a new stream label, with spec.view_type) or off. As DynamoDB,
  // enabling an enabled stream is a ValidationException: to change the view type, turn
  // the stream off and on again. The stream turned off (or replaced) stays readable
  // as a disabled stream until retention passes (ListStreams, DescribeStream).
  virtual Result<TableDescription> UpdateStream(const std::string& table,
                                                const StreamSpecification& spec) = 0;
  // Changes the table's settings in one step: `update` runs once, under the catalog's
  // lock (it must be quick and must not call the catalog), and what it leaves in its
  // `settings` is persisted and answered. An error from `update` changes nothing and is
  // returned.
  virtual Result<TableDescription> UpdateTableSettings(const std::string& table,
                                                       const TableSettingsUpdater& update) = 0;
  // Enables TTL on `attribute`, or disables it when nullopt.
  virtual Status UpdateTimeToLive(const std::string& table,
                                  const std::optional<std::string>& attribute) = 0;
  // Changes the table's global secondary indexes, durably once this returns.
  // kCreate: the index is written by every change committed from now on and backfilled
  // from the items already there in the background; it is described as backfilling, and
  // reads of it are refused, until the backfill ends. ValidationException when a local or
  // global index already has the name; LimitExceededException while another index is
  // backfilling or when the table has as many global indexes as it may.
  // kDelete: the index disappears at once; its entries are removed in the background.
  // kUpdateThroughput: sets the index's provisioned units.
  // ResourceNotFoundException: no such table, or (kDelete, kUpdateThroughput) no such
  // global index.
  virtual Result<TableDescription> UpdateGlobalIndexes(const std::string& table,
                                                       const GlobalIndexUpdate& update) = 0;
  // Splits the open shard `shard` of `table` online: the shard is closed at its last
  // sequence (no write lands in it afterwards) and two new shards, appended to the table's
  // shards, take the lower and upper half of its hash range, each naming it as parent and
  // numbering its own records from 1 (a table created again under a deleted one's name:
  // after the deleted table's shard of that index). Writes to the shard wait for the
  // split (milliseconds), none fails. The layout is durable once this returns.
  // ResourceNotFoundException: no such table or shard; ValidationException: the shard is
  // closed or its range holds a single hash; LimitExceededException: the table has as many
  // shards as it may.
  virtual Result<ShardSplit> SplitShard(const std::string& table, ShardIndex shard) = 0;
};

}  // namespace tidewater
