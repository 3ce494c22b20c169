#include "capacity.h"

#include <algorithm>

#include "json_request.h"

namespace tidewater::server {
namespace {

constexpr size_t kWriteUnitBytes = 1024;
constexpr size_t kReadUnitBytes = 4096;

size_t StartedUnits(size_t bytes, size_t unit) {
  size_t units = (bytes + unit - 1) / unit;
  return units == 0 ? 1 : units;
}

void WriteUnitsMembers(double read, double write, json::Writer& writer) {
  writer.Key("CapacityUnits");
  writer.Double(read + write);
  if (read > 0) {
    writer.Key("ReadCapacityUnits");
    writer.Double(read);
  }
  if (write > 0) {
    writer.Key("WriteCapacityUnits");
    writer.Double(write);
  }
}

}  // namespace

Result<CapacityDetail> ParseCapacityDetail(const rapidjson::Value& request) {
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> value,
                      GetString(request, "ReturnConsumedCapacity"));
  if (!value || *value == "NONE") return CapacityDetail::kNone;
  if (*value == "TOTAL") return CapacityDetail::kTotal;
  if (*value == "INDEXES") return CapacityDetail::kIndexes;
  ConstraintErrors errors;
  errors.CheckEnum("returnConsumedCapacity", value, {"INDEXES", "TOTAL", "NONE"});
  return errors.ToStatus();
}

double WriteUnits(size_t item_bytes) {
  return static_cast<double>(StartedUnits(item_bytes, kWriteUnitBytes));
}

double ReadUnits(size_t bytes, bool consistent_read) {
  double units = static_cast<double>(StartedUnits(bytes, kReadUnitBytes));
  return consistent_read ? units : units / 2;
}

double WriteCost::total() const {
  double sum = table;
  for (const Index& index : indexes) sum += index.units;
  return sum;
}

WriteCost WriteCostOf(const TableKeys& keys, const WriteResult& result, double multiplier) {
  const Item* before = result.old_item ? &*result.old_item : nullptr;
  const Item* after = result.new_item ? &*result.new_item : nullptr;
  WriteCost cost;
  const size_t before_bytes = before != nullptr ? ItemSize(*before) : 0;
  const size_t after_bytes = after != nullptr ? ItemSize(*after) : 0;
  cost.table = multiplier * WriteUnits(std::max(before_bytes, after_bytes));
  for (const bool global : {false, true}) {
    for (const IndexEntryChange& change : IndexEntryChanges(
             global ? keys.global_indexes : keys.local_indexes, keys.key_schema, before, after)) {
      double units = 0;
      if (change.deleted) units += WriteUnits(ItemSize(*change.deleted));
      if (change.written) units += WriteUnits(ItemSize(*change.written));
      cost.indexes.push_back({change.index->name, global, multiplier * units});
    }
  }
  return cost;
}

CapacityTally::Entry& CapacityTally::EntryFor(std::string_view table) {
  for (Entry& entry : entries_) {
    if (entry.table == table) return entry;
  }
  entries_.push_back(Entry{std::string(table)});
  return entries_.back();
}

WriteCost ChargedWriteCost(TableSchemas& schemas, const std::string& table,
                           const WriteResult& result, double multiplier) {
  auto keys = schemas.GetKeys(table);
  return WriteCostOf(keys.ok() ? **keys : TableKeys{}, result, multiplier);
}

CapacityTally::Units& CapacityTally::IndexUnits(Entry& entry, std::string_view index, bool global) {
  for (Units& units : entry.indexes) {
    if (units.name == index) return units;
  }
  entry.indexes.push_back(Units{std::string(index), global});
  return entry.indexes.back();
}

void CapacityTally::AddRead(std::string_view table, double units) {
  EntryFor(table).own.read += units;
}

void CapacityTally::AddWrite(std::string_view table, double units) {
  EntryFor(table).own.write += units;
}

void CapacityTally::AddWrite(std::string_view table, const WriteCost& cost) {
  Entry& entry = EntryFor(table);
  entry.own.write += cost.table;
  for (const WriteCost::Index& index : cost.indexes) {
    IndexUnits(entry, index.name, index.global).write += index.units;
  }
}

void CapacityTally::AddIndexRead(std::string_view table, std::string_view index, bool global,
                                 double units) {
  IndexUnits(EntryFor(table), index, global).read += units;
}

void CapacityTally::WriteEntry(const Entry& entry, json::Writer& writer) const {
  writer.StartObject();
  writer.Key("TableName");
  writer.String(entry.table.data(), static_cast<rapidjson::SizeType>(entry.table.size()));
  double read = entry.own.read;
  double write = entry.own.write;
  for (const Units& index : entry.indexes) {
    read += index.read;
    write += index.write;
  }
  WriteUnitsMembers(read, write, writer);
  if (detail_ == CapacityDetail::kIndexes) {
    writer.Key("Table");
    writer.StartObject();
    WriteUnitsMembers(entry.own.read, entry.own.write, writer);
    writer.EndObject();
    for (const bool global : {false, true}) {
      bool started = false;
      for (const Units& index : entry.indexes) {
        if (index.global != global) continue;
        if (!started) {
          writer.Key(global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes");
          writer.StartObject();
          started = true;
        }
        writer.Key(index.name.data(), static_cast<rapidjson::SizeType>(index.name.size()));
        writer.StartObject();
        WriteUnitsMembers(index.read, index.write, writer);
        writer.EndObject();
      }
      if (started) writer.EndObject();
    }
  }
  writer.EndObject();
}

void CapacityTally::WriteSingle(json::Writer& writer) const {
  if (!wanted() || entries_.empty()) return;
  writer.Key("ConsumedCapacity");
  WriteEntry(entries_.front(), writer);
}

void CapacityTally::WriteList(json::Writer& writer) const {
  if (!wanted()) return;
  writer.Key("ConsumedCapacity");
  writer.StartArray();
  for (const Entry& entry : entries_) WriteEntry(entry, writer);
  writer.EndArray();
}

}  // namespace tidewater::server
