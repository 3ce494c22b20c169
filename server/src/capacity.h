// ReturnConsumedCapacity with DynamoDB's unit arithmetic:
//  * write: one WCU per started KB of the larger of the item before and after (min 1);
//  * read: one RCU per started 4 KB (min 1), half for eventually consistent reads;
//    Query and Scan round the total size read, not each item;
//  * transactional reads and writes cost double.
// Answer shape: {"TableName":..,"CapacityUnits":..,"ReadCapacityUnits"|"WriteCapacityUnits":..}
// and with INDEXES additionally "Table":{...the table's own units...} and
// "LocalSecondaryIndexes" and "GlobalSecondaryIndexes":{name:{...}} (the totals include the
// indexes' units). Batch and transaction operations answer a list with one entry per table.
//  * a write to a table with indexes also costs, per index, one write per entry it deletes
//    or writes, by the entry's (projected) size; an index read costs the entries' size, and
//    a fetch of unprojected attributes (local indexes only) the items' size on the table.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "table_schemas.h"
#include "tidewater/core/item_store.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/status.h"

namespace tidewater::server {

enum class CapacityDetail { kNone, kTotal, kIndexes };

// Reads "ReturnConsumedCapacity" (INDEXES | TOTAL | NONE) from a request.
Result<CapacityDetail> ParseCapacityDetail(const rapidjson::Value& request);

double WriteUnits(size_t item_bytes);
double ReadUnits(size_t bytes, bool consistent_read);

// The units of one item write: the table's, and each index's whose entry changed.
struct WriteCost {
  struct Index {
    std::string name;
    bool global = false;
    double units = 0;
  };
  double table = 0;
  std::vector<Index> indexes;
  double total() const;
};
// The cost of `result` on a table with `keys`, times `multiplier` (2 in a transaction).
WriteCost WriteCostOf(const TableKeys& keys, const WriteResult& result, double multiplier = 1);
// WriteCostOf with `table`'s keys (a table deleted meanwhile: its own units only).
WriteCost ChargedWriteCost(TableSchemas& schemas, const std::string& table,
                           const WriteResult& result, double multiplier = 1);

// Sums units per table in first-use order and writes the ConsumedCapacity member.
class CapacityTally {
 public:
  explicit CapacityTally(CapacityDetail detail) : detail_(detail) {}

  bool wanted() const { return detail_ != CapacityDetail::kNone; }
  void AddRead(std::string_view table, double units);
  void AddWrite(std::string_view table, double units);
  void AddWrite(std::string_view table, const WriteCost& cost);
  void AddIndexRead(std::string_view table, std::string_view index, bool global, double units);

  // Writes "ConsumedCapacity": {...} for the first table (single-table operations).
  void WriteSingle(json::Writer& writer) const;
  // Writes "ConsumedCapacity": [{...}, ...] (batch and transaction operations).
  void WriteList(json::Writer& writer) const;

 private:
  struct Units {
    std::string name;  // the index's (empty for the table's own)
    bool global = false;
    double read = 0;
    double write = 0;
  };
  struct Entry {
    std::string table;
    Units own;                   // the table's
    std::vector<Units> indexes;  // its indexes', in first-use order
  };
  static Units& IndexUnits(Entry& entry, std::string_view index, bool global);
  Entry& EntryFor(std::string_view table);
  void WriteEntry(const Entry& entry, json::Writer& writer) const;

  CapacityDetail detail_;
  std::vector<Entry> entries_;
};

}  // namespace tidewater::server
