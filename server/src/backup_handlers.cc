// CreateBackup, DescribeBackup, ListBackups, DeleteBackup, RestoreTableFromBackup;
// UpdateContinuousBackups, DescribeContinuousBackups, RestoreTableToPointInTime: the engine's
// TableBackups role (core table_backups.h) in DynamoDB's JSON shapes. A backup's ARN is its
// source table's ARN, "/backup/", the backup id. A restore creates its table from the source's
// definition (the backup's, or the source table's as it is now) and the request's overrides;
// like DynamoDB it restores neither stream nor TTL, tags nor deletion protection.
#include <algorithm>
#include <cctype>
#include <utility>

#include "backup_handler_support.h"
#include "billing_changes.h"
#include "handler_support.h"
#include "handlers.h"
#include "index_input.h"
#include "table_definition_input.h"
#include "table_encryption.h"
#include "table_json.h"
#include "table_tags.h"
#include "tidewater/streams/resource_names.h"

namespace tidewater::server {
namespace {

using streams::TableArn;

constexpr int64_t kMaxListBackupsLimit = 100;
constexpr int64_t kMaxRecoveryPeriodDays = 35;
constexpr size_t kMinBackupArnLength = 37;
constexpr size_t kMaxBackupArnLength = 1024;
constexpr std::string_view kBackupArnSeparator = "/backup/";

int64_t EngineNow(const ServiceContext& service) {
  return service.engine->options().clock->NowMicros();
}

// The backup operations answer TableNotFoundException where the engine's table lookup
// answers ResourceNotFoundException.
Status TableNotFound(const Status& status, const std::string& table) {
  if (status.code() != ErrorCode::kResourceNotFound) return status;
  return Status(ErrorCode::kTableNotFound, "Table not found: " + table);
}

Status BackupNotFound(std::string_view arn) {
  return Status(ErrorCode::kBackupNotFound, "Backup not found: " + std::string(arn));
}

Status SourceTableNotFound(std::string_view source) {
  return Status(ErrorCode::kSourceTableNotFound, "Source table not found: " + std::string(source));
}

struct ParsedBackupArn {
  std::string table;
  std::string backup_id;
};

// A backup ARN of this region and account: ValidationException when it is not shaped
// `<table ARN>/backup/<id>`, BackupNotFoundException when it names another region or account.
Result<ParsedBackupArn> ParseBackupArn(std::string_view arn, std::string_view region) {
  const Status invalid = Status::Validation(
      "Invalid BackupArn: Invalid ResourceArn provided as input " + std::string(arn));
  const size_t separator = arn.rfind(kBackupArnSeparator);
  if (separator == std::string_view::npos) return invalid;
  const std::string_view id = arn.substr(separator + kBackupArnSeparator.size());
  const bool id_shaped = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
  if (!id_shaped) return invalid;
  Result<std::string> table = TableOfArn(arn.substr(0, separator), region);
  if (!table.ok()) {
    return table.status().code() == ErrorCode::kValidation ? invalid : BackupNotFound(arn);
  }
  return ParsedBackupArn{std::move(*table), std::string(id)};
}

}  // namespace

Result<BackupDescription> BackupOfArn(ServiceContext& service, std::string_view arn) {
  TW_ASSIGN_OR_RETURN(ParsedBackupArn parsed, ParseBackupArn(arn, service.region));
  Result<BackupDescription> backup = service.engine->DescribeBackup(parsed.backup_id);
  if (!backup.ok()) {
    if (backup.status().code() == ErrorCode::kBackupNotFound) return BackupNotFound(arn);
    return backup.status();
  }
  if (backup->table.name != parsed.table) return BackupNotFound(arn);
  return backup;
}

Result<std::string_view> ReadBackupArn(const rapidjson::Value& request, ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(auto arn, GetString(request, "BackupArn"));
  errors.RequireNotNull("backupArn", arn.has_value());
  errors.CheckLength("backupArn", arn, kMinBackupArnLength, kMaxBackupArnLength);
  return arn.value_or("");
}

namespace {

// A ProvisionedThroughput of only units, as backup descriptions show one.
void WriteUnits(int64_t read_units, int64_t write_units, json::Writer& w) {
  w.Key("ProvisionedThroughput");
  w.StartObject();
  w.Key("ReadCapacityUnits");
  w.Int64(read_units);
  w.Key("WriteCapacityUnits");
  w.Int64(write_units);
  w.EndObject();
}

// The members BackupDetails and BackupSummary share.
void WriteBackupMembers(const BackupDescription& backup, std::string_view region, json::Writer& w) {
  w.Key("BackupArn");
  WriteString(w, BackupArn(region, backup.table.name, backup.backup_id));
  w.Key("BackupName");
  WriteString(w, backup.name);
  w.Key("BackupSizeBytes");
  w.Uint64(backup.size_bytes);
  w.Key("BackupStatus");
  WriteString(w, BackupStatusName(backup.status));
  w.Key("BackupType");
  WriteString(w, BackupTypeName(backup.type));
  w.Key("BackupCreationDateTime");
  w.Double(EpochSeconds(backup.creation_time_micros));
  if (backup.expiry_time_micros != 0) {
    w.Key("BackupExpiryDateTime");
    w.Double(EpochSeconds(backup.expiry_time_micros));
  }
}

void WriteBackupDetails(const BackupDescription& backup, std::string_view region, json::Writer& w) {
  w.StartObject();
  WriteBackupMembers(backup, region, w);
  w.EndObject();
}

void WriteBackupSummary(const BackupDescription& backup, std::string_view region, json::Writer& w) {
  w.StartObject();
  w.Key("TableName");
  WriteString(w, backup.table.name);
  w.Key("TableId");
  WriteString(w, TableIdText(backup.table.table_id));
  w.Key("TableArn");
  WriteString(w, TableArn(region, backup.table.name));
  WriteBackupMembers(backup, region, w);
  w.EndObject();
}

// SourceTableDetails: the source table as the backup holds it (units 0 when on demand).
void WriteSourceTableDetails(const BackupDescription& backup, std::string_view region,
                             json::Writer& w) {
  const TableDescription& table = backup.table;
  const TableSettings& settings = table.settings;
  w.StartObject();
  w.Key("TableName");
  WriteString(w, table.name);
  w.Key("TableId");
  WriteString(w, TableIdText(table.table_id));
  w.Key("TableArn");
  WriteString(w, TableArn(region, table.name));
  w.Key("TableSizeBytes");
  w.Uint64(table.approximate_size_bytes);
  w.Key("KeySchema");
  WriteKeySchema(table.key_schema, w);
  w.Key("TableCreationDateTime");
  w.Double(EpochSeconds(table.creation_time_micros));
  WriteUnits(settings.provisioned.read_capacity_units, settings.provisioned.write_capacity_units,
             w);
  if (settings.billing_mode == BillingMode::kPayPerRequest) {
    w.Key("OnDemandThroughput");
    w.StartObject();
    w.Key("MaxReadRequestUnits");
    w.Int64(settings.on_demand.max_read_request_units);
    w.Key("MaxWriteRequestUnits");
    w.Int64(settings.on_demand.max_write_request_units);
    w.EndObject();
  }
  w.Key("ItemCount");
  w.Uint64(backup.item_count);
  w.Key("BillingMode");
  WriteString(w, BillingModeName(settings.billing_mode));
  w.EndObject();
}

// LocalSecondaryIndexes or GlobalSecondaryIndexes of SourceTableFeatureDetails (a global
// index with its units), when the table has such indexes.
void WriteIndexInfos(const std::vector<IndexDescription>& indexes, bool global, json::Writer& w) {
  if (indexes.empty()) return;
  w.Key(global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes");
  w.StartArray();
  for (const IndexDescription& described : indexes) {
    const SecondaryIndex& index = described.definition;
    w.StartObject();
    w.Key("IndexName");
    WriteString(w, index.name);
    w.Key("KeySchema");
    WriteKeySchema(index.key_schema, w);
    w.Key("Projection");
    WriteProjection(index.projection, w);
    if (global) {
      WriteUnits(static_cast<int64_t>(index.read_capacity_units),
                 static_cast<int64_t>(index.write_capacity_units), w);
    }
    w.EndObject();
  }
  w.EndArray();
}

// SourceTableFeatureDetails: the source table's indexes, stream and TTL.
void WriteSourceTableFeatures(const TableDescription& table, json::Writer& w) {
  w.StartObject();
  WriteIndexInfos(table.local_indexes, /*global=*/false, w);
  WriteIndexInfos(table.global_indexes, /*global=*/true, w);
  if (table.stream.enabled) {
    w.Key("StreamDescription");
    w.StartObject();
    w.Key("StreamEnabled");
    w.Bool(true);
    w.Key("StreamViewType");
    WriteString(w, StreamViewTypeName(table.stream.view_type));
    w.EndObject();
  }
  w.Key("TimeToLiveDescription");
  WriteTimeToLiveDescription(table, w);
  w.EndObject();
}

}  // namespace

Status WriteBackupDescription(const BackupDescription& backup, std::string_view region,
                              json::Writer& w) {
  w.StartObject();
  w.Key("BackupDescription");
  w.StartObject();
  w.Key("BackupDetails");
  WriteBackupDetails(backup, region, w);
  w.Key("SourceTableDetails");
  WriteSourceTableDetails(backup, region, w);
  w.Key("SourceTableFeatureDetails");
  WriteSourceTableFeatures(backup.table, w);
  w.EndObject();
  w.EndObject();
  return Status::Ok();
}

namespace {

// {"ContinuousBackupsDescription": ...}: continuous backups are always on, as in DynamoDB;
// point-in-time recovery, when on, with its period and restorable range.
Status WriteContinuousBackups(const ContinuousBackupsDescription& backups, json::Writer& w) {
  w.StartObject();
  w.Key("ContinuousBackupsDescription");
  w.StartObject();
  w.Key("ContinuousBackupsStatus");
  WriteString(w, "ENABLED");
  w.Key("PointInTimeRecoveryDescription");
  w.StartObject();
  w.Key("PointInTimeRecoveryStatus");
  WriteString(w, backups.point_in_time_recovery ? "ENABLED" : "DISABLED");
  if (backups.point_in_time_recovery) {
    w.Key("RecoveryPeriodInDays");
    w.Uint(backups.recovery_period_days);
    w.Key("EarliestRestorableDateTime");
    w.Double(EpochSeconds(backups.earliest_restorable_micros));
    w.Key("LatestRestorableDateTime");
    w.Double(EpochSeconds(backups.latest_restorable_micros));
  }
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return Status::Ok();
}

// {"TableDescription": ...} of a restore: CREATING, with its RestoreSummary.
Status WriteRestoredTable(const ServiceContext& service, const TableDescription& table,
                          json::Writer& w) {
  w.StartObject();
  w.Key("TableDescription");
  WriteTableDescription(table, service.region, "CREATING", EngineNow(service), w);
  w.EndObject();
  return Status::Ok();
}

// One member of GlobalSecondaryIndexOverride or LocalSecondaryIndexOverride as sent.
struct IndexOverride {
  std::string name;
  std::vector<KeyElement> key_schema;
  IndexProjection projection;
  std::optional<ProvisionedThroughput> throughput;  // a global index's
};

// The overrides both restore operations take.
struct RestoreOverrides {
  BillingChange billing;  // BillingModeOverride, Provisioned/OnDemandThroughputOverride
  std::optional<std::vector<IndexOverride>> local_indexes;
  std::optional<std::vector<IndexOverride>> global_indexes;
  std::optional<StreamViewType> stream_backfill;  // TidewaterStreamBackfill
  // SSESpecificationOverride's master key id ("" for DynamoDB's AWS owned key); nullopt: the
  // source's.
  std::optional<std::string> sse_key;
};

// One override member's shape: IndexName, KeySchema, Projection and, for a global index,
// ProvisionedThroughput.
Result<IndexOverride> ReadIndexOverride(const rapidjson::Value& member, const std::string& path,
                                        bool global, ConstraintErrors& errors) {
  TW_RETURN_IF_ERROR(ExpectObject(member));
  IndexOverride index;
  TW_ASSIGN_OR_RETURN(auto name, GetString(member, "IndexName"));
  errors.CheckTableName(path + "indexName", name);
  index.name = std::string(name.value_or(""));
  TW_ASSIGN_OR_RETURN(index.key_schema, ReadIndexKeyElements(member, path, errors));
  TW_ASSIGN_OR_RETURN(index.projection, ReadProjection(member, path, errors));
  if (global) {
    TW_ASSIGN_OR_RETURN(const rapidjson::Value* throughput,
                        GetObject(member, "ProvisionedThroughput"));
    if (throughput != nullptr) {
      TW_ASSIGN_OR_RETURN(index.throughput,
                          ReadThroughput(*throughput, path + "provisionedThroughput.", errors));
    }
  }
  return index;
}

// GlobalSecondaryIndexOverride or LocalSecondaryIndexOverride (`member`; `path` its name in
// constraint errors): none when absent. An empty list keeps no index of that kind.
Result<std::optional<std::vector<IndexOverride>>> ReadIndexOverrides(
    const rapidjson::Value& request, std::string_view member, const std::string& path, bool global,
    ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* given, GetArray(request, member));
  if (given == nullptr) return std::optional<std::vector<IndexOverride>>();
  std::vector<IndexOverride> indexes;
  int position = 0;
  for (const rapidjson::Value& element : given->GetArray()) {
    ++position;
    const std::string element_path = path + "." + std::to_string(position) + ".member.";
    TW_ASSIGN_OR_RETURN(IndexOverride index,
                        ReadIndexOverride(element, element_path, global, errors));
    indexes.push_back(std::move(index));
  }
  return std::optional<std::vector<IndexOverride>>(std::move(indexes));
}

// OnDemandThroughputOverride: at least one maximum, each at least 1 or -1 (no maximum).
Status ReadOnDemandOverride(const rapidjson::Value& request, BillingChange& billing) {
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* on_demand,
                      GetObject(request, "OnDemandThroughputOverride"));
  if (on_demand == nullptr) return Status::Ok();
  TW_ASSIGN_OR_RETURN(billing.max_read_request_units,
                      GetInteger(*on_demand, "MaxReadRequestUnits"));
  TW_ASSIGN_OR_RETURN(billing.max_write_request_units,
                      GetInteger(*on_demand, "MaxWriteRequestUnits"));
  if (!billing.on_demand_given()) {
    return Status::Validation(
        "One or more parameter values were invalid: OnDemandThroughput must specify "
        "MaxReadRequestUnits, MaxWriteRequestUnits, or both");
  }
  for (auto [name, value] : {std::pair{"MaxReadRequestUnits", billing.max_read_request_units},
                             std::pair{"MaxWriteRequestUnits", billing.max_write_request_units}}) {
    if (value && *value != -1 && *value < 1) {
      return Status::Validation(std::string("One or more parameter values were invalid: ") + name +
                                " must be at least 1, or -1 for no maximum");
    }
  }
  return Status::Ok();
}

// Every override member's shape (constraint errors collected in `errors`); the master keys
// of SSESpecificationOverride are `keys` (null: none configured).
Result<RestoreOverrides> ReadRestoreOverrides(const rapidjson::Value& request,
                                              const security::MasterKeyring* keys,
                                              ConstraintErrors& errors) {
  RestoreOverrides overrides;
  TW_ASSIGN_OR_RETURN(auto mode, GetString(request, "BillingModeOverride"));
  errors.CheckEnum("billingModeOverride", mode, {"PROVISIONED", "PAY_PER_REQUEST"});
  if (mode == "PROVISIONED") overrides.billing.mode = BillingMode::kProvisioned;
  if (mode == "PAY_PER_REQUEST") overrides.billing.mode = BillingMode::kPayPerRequest;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* throughput,
                      GetObject(request, "ProvisionedThroughputOverride"));
  if (throughput != nullptr) {
    TW_ASSIGN_OR_RETURN(overrides.billing.throughput,
                        ReadThroughput(*throughput, "provisionedThroughputOverride.", errors));
  }
  TW_RETURN_IF_ERROR(ReadOnDemandOverride(request, overrides.billing));
  TW_ASSIGN_OR_RETURN(overrides.local_indexes,
                      ReadIndexOverrides(request, "LocalSecondaryIndexOverride",
                                         "localSecondaryIndexOverride", /*global=*/false, errors));
  TW_ASSIGN_OR_RETURN(overrides.global_indexes,
                      ReadIndexOverrides(request, "GlobalSecondaryIndexOverride",
                                         "globalSecondaryIndexOverride", /*global=*/true, errors));
  TW_RETURN_IF_ERROR(CheckSseSpecification(request, "SSESpecificationOverride",
                                           "sSESpecificationOverride", errors));
  TW_ASSIGN_OR_RETURN(overrides.sse_key,
                      ReadSseSpecification(request, keys, "SSESpecificationOverride"));
  TW_ASSIGN_OR_RETURN(overrides.stream_backfill, ReadStreamBackfill(request));
  return overrides;
}

// TargetTableName, with TableName's rules.
Result<std::string> ReadTargetTableName(const rapidjson::Value& request, ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(auto name, GetString(request, "TargetTableName"));
  errors.CheckTableName("targetTableName", name);
  return std::string(name.value_or(""));
}

// The restored table's billing: the source's mode and throughput unless overridden, with
// CreateTable's rules for the result: ProvisionedThroughputOverride only when PROVISIONED (and
// needed then if the source was PAY_PER_REQUEST), OnDemandThroughputOverride only when
// PAY_PER_REQUEST (an on-demand source's maximums are kept unless overridden).
Status ApplyBillingOverrides(const TableSettings& source, const BillingChange& change,
                             TableSettings& settings) {
  settings.billing_mode = change.mode.value_or(source.billing_mode);
  if (settings.billing_mode == BillingMode::kPayPerRequest) {
    if (change.throughput) {
      return Status::Validation(
          "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
          "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    }
    if (source.billing_mode == BillingMode::kPayPerRequest) settings.on_demand = source.on_demand;
    if (change.max_read_request_units) {
      settings.on_demand.max_read_request_units = *change.max_read_request_units;
    }
    if (change.max_write_request_units) {
      settings.on_demand.max_write_request_units = *change.max_write_request_units;
    }
    return Status::Ok();
  }
  if (change.on_demand_given()) return OnDemandThroughputNotAllowed();
  if (change.throughput) {
    settings.provisioned = *change.throughput;
  } else if (source.billing_mode == BillingMode::kProvisioned) {
    settings.provisioned = source.provisioned;
  } else {
    return Status::Validation(
        "One or more parameter values were invalid: ProvisionedThroughputOverride must be "
        "specified when BillingModeOverride is PROVISIONED");
  }
  return Status::Ok();
}

// Projections are the same whatever the order of their NonKeyAttributes.
bool SameProjection(IndexProjection a, IndexProjection b) {
  std::sort(a.non_key_attributes.begin(), a.non_key_attributes.end());
  std::sort(b.non_key_attributes.begin(), b.non_key_attributes.end());
  return a == b;
}

// Whether `given` has the key schema and projection of `index`.
bool MatchesIndex(const IndexOverride& given, const SecondaryIndex& index) {
  std::vector<KeyElement> key_schema = {{index.key_schema.partition_key.name, "HASH"}};
  if (index.key_schema.sort_key) key_schema.push_back({index.key_schema.sort_key->name, "RANGE"});
  return given.key_schema == key_schema && SameProjection(given.projection, index.projection);
}

// A source index kept by a restore, with the units its override asks for (if any).
struct KeptIndex {
  const SecondaryIndex* source;
  std::optional<ProvisionedThroughput> throughput;
};

// The source's indexes of one kind (`kind`: "local" or "global") a restore keeps: all, or
// those its override lists, each one of them by name with the same key schema and projection.
Result<std::vector<KeptIndex>> KeptIndexes(const std::vector<IndexDescription>& source,
                                           const std::optional<std::vector<IndexOverride>>& given,
                                           std::string_view kind) {
  std::vector<KeptIndex> kept;
  if (!given) {
    for (const IndexDescription& index : source) kept.push_back({&index.definition, {}});
    return kept;
  }
  const std::string invalid = "One or more parameter values were invalid: ";
  for (const IndexOverride& index : *given) {
    auto named = [&](const auto& other) { return other.name == index.name; };
    auto in_source = std::find_if(source.begin(), source.end(),
                                  [&](const IndexDescription& d) { return named(d.definition); });
    if (in_source == source.end()) {
      return Status::Validation(invalid + "Index " + index.name + " is not a " + std::string(kind) +
                                " secondary index of the source table");
    }
    if (!MatchesIndex(index, in_source->definition)) {
      return Status::Validation(invalid + "Index " + index.name +
                                " must have the KeySchema and Projection it has in the source "
                                "table");
    }
    if (std::any_of(kept.begin(), kept.end(),
                    [&](const KeptIndex& k) { return named(*k.source); })) {
      return Status::Validation(invalid + "Duplicate index name: " + index.name);
    }
    kept.push_back({&in_source->definition, index.throughput});
  }
  return kept;
}

// A global index's units on the restored table, with CreateTable's rules: on a PROVISIONED
// table the override's, else the source's (required: a PAY_PER_REQUEST source has none); on a
// PAY_PER_REQUEST table none, and none may be given.
Status SetIndexUnits(const std::optional<ProvisionedThroughput>& given, BillingMode billing,
                     SecondaryIndex& index) {
  const std::string invalid = "One or more parameter values were invalid: ProvisionedThroughput ";
  if (billing == BillingMode::kPayPerRequest) {
    if (given) {
      return Status::Validation(invalid + "should not be specified for index: " + index.name +
                                " when BillingMode is PAY_PER_REQUEST");
    }
    index.read_capacity_units = 0;
    index.write_capacity_units = 0;
    return Status::Ok();
  }
  if (given) {
    index.read_capacity_units = static_cast<uint64_t>(given->read_capacity_units);
    index.write_capacity_units = static_cast<uint64_t>(given->write_capacity_units);
  }
  if (index.read_capacity_units == 0) {
    return Status::Validation(invalid + "is not specified for index: " + index.name);
  }
  return Status::Ok();
}

// The indexes of one kind of the restored table, as new indexes (the catalog assigns their
// ordinals; no backfill, no capacity history).
Result<std::vector<SecondaryIndex>> RestoredIndexes(
    const std::vector<IndexDescription>& source,
    const std::optional<std::vector<IndexOverride>>& given, bool global, BillingMode billing) {
  TW_ASSIGN_OR_RETURN(std::vector<KeptIndex> kept,
                      KeptIndexes(source, given, global ? "global" : "local"));
  std::vector<SecondaryIndex> indexes;
  for (const KeptIndex& index : kept) {
    SecondaryIndex restored;
    restored.name = index.source->name;
    restored.key_schema = index.source->key_schema;
    restored.projection = index.source->projection;
    restored.read_capacity_units = index.source->read_capacity_units;
    restored.write_capacity_units = index.source->write_capacity_units;
    if (global) TW_RETURN_IF_ERROR(SetIndexUnits(index.throughput, billing, restored));
    indexes.push_back(std::move(restored));
  }
  return indexes;
}

// The table a restore creates: `source`'s key schema, indexes, billing, table class and
// encryption setting with the request's overrides; no stream, TTL, tags or deletion protection, as
// DynamoDB restores none of them (a stream only for a TidewaterStreamBackfill). The shard count is
// CreateTable's default.
Result<CreateTableRequest> RestoredTable(const ServiceContext& service, const std::string& target,
                                         const TableDescription& source,
                                         const RestoreOverrides& overrides) {
  CreateTableRequest create;
  create.name = target;
  create.key_schema = source.key_schema;
  TW_RETURN_IF_ERROR(ApplyBillingOverrides(source.settings, overrides.billing, create.settings));
  const BillingMode billing = create.settings.billing_mode;
  TW_ASSIGN_OR_RETURN(create.local_indexes,
                      RestoredIndexes(source.local_indexes, overrides.local_indexes,
                                      /*global=*/false, billing));
  TW_ASSIGN_OR_RETURN(create.global_indexes,
                      RestoredIndexes(source.global_indexes, overrides.global_indexes,
                                      /*global=*/true, billing));
  create.settings.table_class = source.settings.table_class;
  create.settings.sse_kms_master_key_id =
      overrides.sse_key.value_or(source.settings.sse_kms_master_key_id);
  if (source.settings.table_class_set_micros != 0) {
    create.settings.table_class_set_micros = EngineNow(service);
  }
  if (overrides.stream_backfill) {
    create.stream = {true, *overrides.stream_backfill};
    create.backfill_stream = true;
  }
  return create;
}

// A restored table is new: cached state of an earlier table of its name must go.
void ForgetTable(ServiceContext& service, const std::string& table) {
  service.schemas->Forget(table);
  service.throughput->Forget(table);
}

// The source of a RestoreTableToPointInTime: SourceTableName or SourceTableArn, exactly one.
Result<std::string> SourceTableOf(const ServiceContext& service,
                                  std::optional<std::string_view> name,
                                  std::optional<std::string_view> arn) {
  if (name.has_value() == arn.has_value()) {
    return Status::Validation(
        "One or more parameter values were invalid: Exactly one of SourceTableName and "
        "SourceTableArn must be specified");
  }
  if (name) return std::string(*name);
  Result<std::string> table = TableOfArn(*arn, service.region);
  if (!table.ok() && table.status().code() == ErrorCode::kResourceNotFound) {
    return SourceTableNotFound(*arn);
  }
  return table;
}

// The definition of the source of a RestoreTableToPointInTime, as it is now.
Result<TableDescription> DescribeSource(ServiceContext& service, const std::string& source) {
  Result<TableDescription> described = service.engine->DescribeTable(source);
  if (!described.ok() && described.status().code() == ErrorCode::kResourceNotFound) {
    return SourceTableNotFound(source);
  }
  return described;
}

// The time a RestoreTableToPointInTime names: RestoreDateTime, or none (the latest restorable
// time) with UseLatestRestorableTime true; exactly one of the two.
Result<std::optional<int64_t>> RestoreTime(std::optional<bool> use_latest,
                                           std::optional<int64_t> restore_time) {
  const bool latest = use_latest.value_or(false);
  if (latest && restore_time) {
    return Status::Validation(
        "One or more parameter values were invalid: RestoreDateTime cannot be specified when "
        "UseLatestRestorableTime is true");
  }
  if (!latest && !restore_time) {
    return Status::Validation(
        "One or more parameter values were invalid: Either RestoreDateTime or "
        "UseLatestRestorableTime must be specified");
  }
  return restore_time;
}

// ListBackups' members as the engine's request; none for BackupType AWS_BACKUP (what AWS
// Backup made: nothing here). As DynamoDB, USER backups are listed unless another type is asked.
Result<std::optional<ListBackupsRequest>> ReadListBackups(const rapidjson::Value& request,
                                                          std::string_view region) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto table, GetString(request, "TableName"));
  errors.CheckTableName("tableName", table, /*required=*/false);
  TW_ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  errors.CheckRange("limit", limit, 1, kMaxListBackupsLimit);
  TW_ASSIGN_OR_RETURN(auto lower, GetTimestampMicros(request, "TimeRangeLowerBound"));
  TW_ASSIGN_OR_RETURN(auto upper, GetTimestampMicros(request, "TimeRangeUpperBound"));
  TW_ASSIGN_OR_RETURN(auto start, GetString(request, "ExclusiveStartBackupArn"));
  errors.CheckLength("exclusiveStartBackupArn", start, kMinBackupArnLength, kMaxBackupArnLength);
  TW_ASSIGN_OR_RETURN(auto type, GetString(request, "BackupType"));
  errors.CheckEnum("backupType", type, {"USER", "SYSTEM", "AWS_BACKUP", "ALL"});
  TW_RETURN_IF_ERROR(errors.ToStatus());
  ListBackupsRequest list;
  if (table) list.table = std::string(*table);
  list.created_at_or_after_micros = lower;
  list.created_before_micros = upper;
  list.limit = static_cast<size_t>(limit.value_or(0));
  if (start) {
    TW_ASSIGN_OR_RETURN(ParsedBackupArn parsed, ParseBackupArn(*start, region));
    list.exclusive_start_backup_id = std::move(parsed.backup_id);
  }
  if (type == "AWS_BACKUP") return std::optional<ListBackupsRequest>();
  if (type != "ALL") {
    list.type.emplace();
    ParseBackupType(type.value_or("USER"), &*list.type);
  }
  return std::optional<ListBackupsRequest>(std::move(list));
}

// LastEvaluatedBackupArn: the ARN of the page's last evaluated backup.
Result<std::string> LastEvaluatedArn(ServiceContext& service, const ListBackupsPage& page) {
  const std::string& id = *page.last_evaluated_backup_id;
  for (auto it = page.backups.rbegin(); it != page.backups.rend(); ++it) {
    if (it->backup_id == id) return BackupArn(service.region, it->table.name, id);
  }
  TW_ASSIGN_OR_RETURN(BackupDescription backup, service.engine->DescribeBackup(id));
  return BackupArn(service.region, backup.table.name, id);
}

}  // namespace

Status CreateBackup(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string table, ReadTableName(request, "tableName", errors));
  TW_ASSIGN_OR_RETURN(auto name, GetString(request, "BackupName"));
  errors.CheckTableName("backupName", name);  // the same length and characters
  TW_RETURN_IF_ERROR(errors.ToStatus());
  Result<BackupDescription> backup = service.engine->CreateBackup(table, std::string(*name));
  if (!backup.ok()) return TableNotFound(backup.status(), table);
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("BackupDetails");
  WriteBackupDetails(*backup, service.region, w);
  w.EndObject();
  return Status::Ok();
}

Status DescribeBackup(ServiceContext& service, const rapidjson::Value& request,
                      RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string_view arn, ReadBackupArn(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(BackupDescription backup, BackupOfArn(service, arn));
  return WriteBackupDescription(backup, service.region, scope.writer);
}

Status ListBackups(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  TW_ASSIGN_OR_RETURN(std::optional<ListBackupsRequest> list,
                      ReadListBackups(request, service.region));
  ListBackupsPage page;
  if (list) {
    TW_ASSIGN_OR_RETURN(page, service.engine->ListBackups(*list));
  }
  std::optional<std::string> last_evaluated;
  if (page.last_evaluated_backup_id) {
    TW_ASSIGN_OR_RETURN(last_evaluated, LastEvaluatedArn(service, page));
  }
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("BackupSummaries");
  w.StartArray();
  for (const BackupDescription& backup : page.backups) {
    WriteBackupSummary(backup, service.region, w);
  }
  w.EndArray();
  if (last_evaluated) {
    w.Key("LastEvaluatedBackupArn");
    WriteString(w, *last_evaluated);
  }
  w.EndObject();
  return Status::Ok();
}

Status DeleteBackup(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string_view arn, ReadBackupArn(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(BackupDescription backup, BackupOfArn(service, arn));
  Result<BackupDescription> deleted = service.engine->DeleteBackup(backup.backup_id);
  if (!deleted.ok()) {
    if (deleted.status().code() == ErrorCode::kBackupNotFound) return BackupNotFound(arn);
    return deleted.status();
  }
  return WriteBackupDescription(*deleted, service.region, scope.writer);
}

Status RestoreTableFromBackup(ServiceContext& service, const rapidjson::Value& request,
                              RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string target, ReadTargetTableName(request, errors));
  TW_ASSIGN_OR_RETURN(std::string_view arn, ReadBackupArn(request, errors));
  TW_ASSIGN_OR_RETURN(RestoreOverrides overrides,
                      ReadRestoreOverrides(request, service.master_keys, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(BackupDescription backup, BackupOfArn(service, arn));
  TW_ASSIGN_OR_RETURN(CreateTableRequest create,
                      RestoredTable(service, target, backup.table, overrides));
  Result<TableDescription> table = service.engine->RestoreTableFromBackup(backup.backup_id, create);
  if (!table.ok()) {
    if (table.status().code() == ErrorCode::kBackupNotFound) return BackupNotFound(arn);
    return table.status();
  }
  ForgetTable(service, target);
  return WriteRestoredTable(service, *table, scope.writer);
}

Status UpdateContinuousBackups(ServiceContext& service, const rapidjson::Value& request,
                               RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string table, ReadTableName(request, "tableName", errors));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* spec,
                      GetObject(request, "PointInTimeRecoverySpecification"));
  errors.RequireNotNull("pointInTimeRecoverySpecification", spec != nullptr);
  std::optional<bool> enabled;
  std::optional<int64_t> days;
  if (spec != nullptr) {
    TW_ASSIGN_OR_RETURN(enabled, GetBool(*spec, "PointInTimeRecoveryEnabled"));
    TW_ASSIGN_OR_RETURN(days, GetInteger(*spec, "RecoveryPeriodInDays"));
    errors.RequireNotNull("pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled",
                          enabled.has_value());
    errors.CheckRange("pointInTimeRecoverySpecification.recoveryPeriodInDays", days, 1,
                      kMaxRecoveryPeriodDays);
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());
  // The period matters only while recovery is on; turning it off ignores one given.
  std::optional<uint32_t> period;
  if (*enabled && days) period = static_cast<uint32_t>(*days);
  Result<ContinuousBackupsDescription> backups =
      service.engine->UpdateContinuousBackups(table, *enabled, period);
  if (!backups.ok()) return TableNotFound(backups.status(), table);
  return WriteContinuousBackups(*backups, scope.writer);
}

Status DescribeContinuousBackups(ServiceContext& service, const rapidjson::Value& request,
                                 RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string table, ReadTableName(request, "tableName", errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  Result<ContinuousBackupsDescription> backups = service.engine->DescribeContinuousBackups(table);
  if (!backups.ok()) return TableNotFound(backups.status(), table);
  return WriteContinuousBackups(*backups, scope.writer);
}

Status RestoreTableToPointInTime(ServiceContext& service, const rapidjson::Value& request,
                                 RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto source_arn, GetString(request, "SourceTableArn"));
  TW_ASSIGN_OR_RETURN(auto source_name, GetString(request, "SourceTableName"));
  errors.CheckLength("sourceTableArn", source_arn, 1, 1024);
  errors.CheckTableName("sourceTableName", source_name, /*required=*/false);
  TW_ASSIGN_OR_RETURN(std::string target, ReadTargetTableName(request, errors));
  TW_ASSIGN_OR_RETURN(auto use_latest, GetBool(request, "UseLatestRestorableTime"));
  TW_ASSIGN_OR_RETURN(auto restore_time, GetTimestampMicros(request, "RestoreDateTime"));
  TW_ASSIGN_OR_RETURN(RestoreOverrides overrides,
                      ReadRestoreOverrides(request, service.master_keys, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(std::optional<int64_t> time, RestoreTime(use_latest, restore_time));
  TW_ASSIGN_OR_RETURN(std::string source, SourceTableOf(service, source_name, source_arn));
  TW_ASSIGN_OR_RETURN(TableDescription described, DescribeSource(service, source));
  TW_ASSIGN_OR_RETURN(CreateTableRequest create,
                      RestoredTable(service, target, described, overrides));
  TW_ASSIGN_OR_RETURN(TableDescription table,
                      service.engine->RestoreTableToPointInTime(source, time, create));
  ForgetTable(service, target);
  return WriteRestoredTable(service, table, scope.writer);
}

}  // namespace tidewater::server
