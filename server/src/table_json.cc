#include "table_json.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "billing_changes.h"
#include "handler_support.h"
#include "table_encryption.h"
#include "tidewater/streams/resource_names.h"

namespace tidewater::server {

using streams::StreamArn;
using streams::TableArn;
namespace {

void WriteAttributeDefinition(const KeyAttribute& attribute, json::Writer& writer) {
  writer.StartObject();
  writer.Key("AttributeName");
  WriteString(writer, attribute.name);
  writer.Key("AttributeType");
  WriteString(writer, AttributeTypeName(attribute.type));
  writer.EndObject();
}

void WriteKeyElement(const KeyAttribute& attribute, std::string_view key_type,
                     json::Writer& writer) {
  writer.StartObject();
  writer.Key("AttributeName");
  WriteString(writer, attribute.name);
  writer.Key("KeyType");
  WriteString(writer, key_type);
  writer.EndObject();
}

}  // namespace

std::string TableIdText(uint64_t table_id) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "00000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(table_id & 0xffffffffffffULL));
  return buffer;
}

std::string BackupArn(std::string_view region, std::string_view table, std::string_view backup_id) {
  return TableArn(region, table) + "/backup/" + std::string(backup_id);
}

double EpochSeconds(int64_t micros) { return static_cast<double>(micros) / 1'000'000.0; }

std::string_view BillingModeName(BillingMode mode) {
  return mode == BillingMode::kProvisioned ? "PROVISIONED" : "PAY_PER_REQUEST";
}

std::string_view TableClassName(TableClass table_class) {
  return table_class == TableClass::kStandardInfrequentAccess ? "STANDARD_INFREQUENT_ACCESS"
                                                              : "STANDARD";
}

int64_t StreamLabelMicros(std::string_view label) {
  std::tm tm{};
  int millis = 0;
  std::string text(label);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) != 7) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000 + millis * 1000;
}

void WriteKeySchema(const KeySchema& schema, json::Writer& writer) {
  writer.StartArray();
  WriteKeyElement(schema.partition_key, "HASH", writer);
  if (schema.sort_key) WriteKeyElement(*schema.sort_key, "RANGE", writer);
  writer.EndArray();
}

void WriteProjection(const IndexProjection& projection, json::Writer& writer) {
  writer.StartObject();
  writer.Key("ProjectionType");
  WriteString(writer, ProjectionTypeName(projection.type));
  if (projection.type == ProjectionType::kInclude) {
    writer.Key("NonKeyAttributes");
    writer.StartArray();
    for (const std::string& name : projection.non_key_attributes) WriteString(writer, name);
    writer.EndArray();
  }
  writer.EndObject();
}

namespace {

// ProvisionedThroughput of a table or a global index: its units and the history of their
// changes.
void WriteProvisionedThroughput(const CapacityHistory& capacity, int64_t read_units,
                                int64_t write_units, int64_t now_micros, json::Writer& writer) {
  writer.Key("ProvisionedThroughput");
  writer.StartObject();
  if (capacity.last_increase_micros != 0) {
    writer.Key("LastIncreaseDateTime");
    writer.Double(EpochSeconds(capacity.last_increase_micros));
  }
  if (capacity.last_decrease_micros != 0) {
    writer.Key("LastDecreaseDateTime");
    writer.Double(EpochSeconds(capacity.last_decrease_micros));
  }
  writer.Key("NumberOfDecreasesToday");
  writer.Uint(DecreasesToday(capacity, now_micros));
  writer.Key("ReadCapacityUnits");
  writer.Int64(read_units);
  writer.Key("WriteCapacityUnits");
  writer.Int64(write_units);
  writer.EndObject();
}

void WriteProvisionedThroughput(const TableDescription& table, int64_t now_micros,
                                json::Writer& writer) {
  WriteProvisionedThroughput(table.settings.capacity,
                             table.settings.provisioned.read_capacity_units,
                             table.settings.provisioned.write_capacity_units, now_micros, writer);
}

// DynamoDB's OnDemandThroughput of a PAY_PER_REQUEST table (-1: no maximum).
void WriteOnDemandThroughput(const TableDescription& table, json::Writer& writer) {
  if (table.settings.billing_mode != BillingMode::kPayPerRequest) return;
  writer.Key("OnDemandThroughput");
  writer.StartObject();
  writer.Key("MaxReadRequestUnits");
  writer.Int64(table.settings.on_demand.max_read_request_units);
  writer.Key("MaxWriteRequestUnits");
  writer.Int64(table.settings.on_demand.max_write_request_units);
  writer.EndObject();
}

void WriteBillingModeSummary(const TableDescription& table, json::Writer& writer) {
  writer.Key("BillingModeSummary");
  writer.StartObject();
  writer.Key("BillingMode");
  WriteString(writer, BillingModeName(table.settings.billing_mode));
  if (table.settings.capacity.last_pay_per_request_micros != 0) {
    writer.Key("LastUpdateToPayPerRequestDateTime");
    writer.Double(EpochSeconds(table.settings.capacity.last_pay_per_request_micros));
  }
  writer.EndObject();
}

// Every key attribute of the table and of its indexes, once each.
void WriteAttributeDefinitions(const TableDescription& table, json::Writer& writer) {
  std::vector<std::string_view> written;
  writer.StartArray();
  const auto write = [&](const KeySchema& schema) {
    for (const KeyAttribute* key :
         {&schema.partition_key, schema.sort_key ? &*schema.sort_key : nullptr}) {
      if (key == nullptr || std::find(written.begin(), written.end(), key->name) != written.end()) {
        continue;
      }
      written.push_back(key->name);
      WriteAttributeDefinition(*key, writer);
    }
  };
  write(table.key_schema);
  for (const auto* indexes : {&table.local_indexes, &table.global_indexes}) {
    for (const IndexDescription& index : *indexes) write(index.definition.key_schema);
  }
  writer.EndArray();
}

// LocalSecondaryIndexes or GlobalSecondaryIndexes (`global`: with IndexStatus, CREATING
// with Backfilling while an index added by UpdateTable is backfilled, and the index's
// ProvisionedThroughput, 0 for on-demand tables).
void WriteIndexes(const TableDescription& table, bool global, std::string_view region,
                  int64_t now_micros, json::Writer& writer) {
  const std::vector<IndexDescription>& indexes =
      global ? table.global_indexes : table.local_indexes;
  if (indexes.empty()) return;
  writer.Key(global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes");
  writer.StartArray();
  for (const IndexDescription& index : indexes) {
    writer.StartObject();
    writer.Key("IndexName");
    WriteString(writer, index.definition.name);
    writer.Key("KeySchema");
    WriteKeySchema(index.definition.key_schema, writer);
    writer.Key("Projection");
    WriteProjection(index.definition.projection, writer);
    if (global) {
      writer.Key("IndexStatus");
      WriteString(writer, index.definition.backfilling ? "CREATING" : "ACTIVE");
      if (index.definition.backfilling) {
        writer.Key("Backfilling");
        writer.Bool(true);
      }
      WriteProvisionedThroughput(
          index.definition.capacity, static_cast<int64_t>(index.definition.read_capacity_units),
          static_cast<int64_t>(index.definition.write_capacity_units), now_micros, writer);
    }
    writer.Key("IndexSizeBytes");
    writer.Uint64(index.approximate_size_bytes);
    writer.Key("ItemCount");
    writer.Uint64(index.approximate_item_count);
    writer.Key("IndexArn");
    WriteString(writer, TableArn(region, table.name) + "/index/" + index.definition.name);
    writer.EndObject();
  }
  writer.EndArray();
}

// Where a restored table came from: the backup (when restored from one) and its source
// table, the time it was restored as of, and whether its items are still being restored.
void WriteRestoreSummary(const RestoreSummary& restore, std::string_view region,
                         json::Writer& writer) {
  writer.Key("RestoreSummary");
  writer.StartObject();
  if (!restore.source_backup_id.empty()) {
    writer.Key("SourceBackupArn");
    WriteString(writer, BackupArn(region, restore.source_table, restore.source_backup_id));
  }
  writer.Key("SourceTableArn");
  WriteString(writer, TableArn(region, restore.source_table));
  writer.Key("RestoreDateTime");
  writer.Double(EpochSeconds(restore.restore_time_micros));
  writer.Key("RestoreInProgress");
  writer.Bool(restore.in_progress);
  writer.EndObject();
}

}  // namespace

void WriteDeletedTableDescription(const TableDescription& table, std::string_view region,
                                  int64_t now_micros, json::Writer& writer) {
  writer.StartObject();
  writer.Key("TableName");
  WriteString(writer, table.name);
  writer.Key("TableStatus");
  WriteString(writer, "DELETING");
  WriteProvisionedThroughput(table, now_micros, writer);
  writer.Key("TableSizeBytes");
  writer.Uint64(table.approximate_size_bytes);
  writer.Key("ItemCount");
  writer.Uint64(table.approximate_item_count);
  writer.Key("TableArn");
  WriteString(writer, TableArn(region, table.name));
  writer.Key("TableId");
  WriteString(writer, TableIdText(table.table_id));
  WriteBillingModeSummary(table, writer);
  writer.EndObject();
}

void WriteTableDescription(const TableDescription& table, std::string_view region,
                           std::string_view status, int64_t now_micros, json::Writer& writer) {
  writer.StartObject();
  writer.Key("AttributeDefinitions");
  WriteAttributeDefinitions(table, writer);
  writer.Key("TableName");
  WriteString(writer, table.name);
  writer.Key("KeySchema");
  WriteKeySchema(table.key_schema, writer);
  writer.Key("TableStatus");
  WriteString(writer, (table.restore && table.restore->in_progress) || table.import_in_progress
                          ? "CREATING"
                          : status);
  writer.Key("CreationDateTime");
  writer.Double(EpochSeconds(table.creation_time_micros));
  WriteProvisionedThroughput(table, now_micros, writer);
  writer.Key("TableSizeBytes");
  writer.Uint64(table.approximate_size_bytes);
  writer.Key("ItemCount");
  writer.Uint64(table.approximate_item_count);
  writer.Key("TableArn");
  WriteString(writer, TableArn(region, table.name));
  writer.Key("TableId");
  WriteString(writer, TableIdText(table.table_id));
  WriteBillingModeSummary(table, writer);
  WriteOnDemandThroughput(table, writer);
  WriteIndexes(table, /*global=*/false, region, now_micros, writer);
  WriteIndexes(table, /*global=*/true, region, now_micros, writer);
  if (table.stream.enabled) {
    writer.Key("StreamSpecification");
    writer.StartObject();
    writer.Key("StreamEnabled");
    writer.Bool(true);
    writer.Key("StreamViewType");
    WriteString(writer, StreamViewTypeName(table.stream.view_type));
    writer.EndObject();
  }
  if (!table.stream_label.empty()) {
    writer.Key("LatestStreamLabel");
    WriteString(writer, table.stream_label);
    writer.Key("LatestStreamArn");
    WriteString(writer, StreamArn(region, table.name, table.stream_label));
  }
  if (table.restore) WriteRestoreSummary(*table.restore, region, writer);
  if (table.settings.table_class_set_micros != 0) {  // as DynamoDB: once a class was given
    writer.Key("TableClassSummary");
    writer.StartObject();
    writer.Key("TableClass");
    WriteString(writer, TableClassName(table.settings.table_class));
    writer.Key("LastUpdateDateTime");
    writer.Double(EpochSeconds(table.settings.table_class_set_micros));
    writer.EndObject();
  }
  WriteSseDescription(table.settings, region, writer);
  writer.Key("DeletionProtectionEnabled");
  writer.Bool(table.settings.deletion_protection);
  writer.EndObject();
}

void WriteTimeToLiveDescription(const TableDescription& table, json::Writer& writer) {
  writer.StartObject();
  writer.Key("TimeToLiveStatus");
  WriteString(writer, table.ttl_attribute ? "ENABLED" : "DISABLED");
  if (table.ttl_attribute) {
    writer.Key("AttributeName");
    WriteString(writer, *table.ttl_attribute);
  }
  writer.EndObject();
}

}  // namespace tidewater::server
