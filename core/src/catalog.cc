// The table catalog: tables and their lifecycle (create, describe, list, update, delete).
#include "catalog.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>

#include <chrono>
#include <ctime>
#include <set>

#include "storage_keys.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {
namespace {

constexpr std::string_view kTablePrefix = "table/";
constexpr std::string_view kNextTableIdKey = "next_table_id";
constexpr uint32_t kMaxShards = 1024;

std::string ItemsCfName(uint64_t id) { return "items." + std::to_string(id); }
std::string LogCfName(uint64_t id) { return "log." + std::to_string(id); }

rocksdb::ColumnFamilyOptions ItemsCfOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.02;
  options.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(8));
  return options;
}

rocksdb::ColumnFamilyOptions LogCfOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

Status TableNotFound(const std::string& name) {
  return Status::NotFound("Requested resource not found: Table: " + name + " not found");
}

std::string TypeName(AttributeType type) { return std::string(AttributeTypeName(type)); }

bool ParseKeyType(const std::string& name, AttributeType* out) {
  for (auto type : {AttributeType::kS, AttributeType::kN, AttributeType::kB}) {
    if (AttributeTypeName(type) == name) {
      *out = type;
      return true;
    }
  }
  return false;
}

KeySchema KeySchemaOf(const v1::TableMeta& meta) {
  KeySchema schema;
  schema.partition_key.name = meta.partition_key().name();
  ParseKeyType(meta.partition_key().type(), &schema.partition_key.type);
  if (meta.has_sort_key()) {
    KeyAttribute sk;
    sk.name = meta.sort_key().name();
    ParseKeyType(meta.sort_key().type(), &sk.type);
    schema.sort_key = sk;
  }
  return schema;
}

std::shared_ptr<const TableConfig> ConfigOf(const v1::TableMeta& meta) {
  auto config = std::make_shared<TableConfig>();
  config->stream.enabled = meta.stream_enabled();
  config->stream.view_type = FromProto(meta.view_type());
  config->stream_label = meta.stream_label();
  if (!meta.ttl_attribute().empty()) config->ttl_attribute = meta.ttl_attribute();
  return config;
}

// DynamoDB's stream label: the stream's creation time, ISO 8601 with milliseconds.
std::string StreamLabel(int64_t micros) {
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((micros / 1000) % 1000));
  return buffer;
}

Status ValidateTableName(const std::string& name) {
  if (name.size() < 3 || name.size() > 255) {
    return Status::Validation("1 validation error detected: Value '" + name +
                              "' at 'tableName' failed to satisfy constraint: Member must have "
                              "length less than or equal to 255 and greater than or equal to 3");
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return Status::Validation("1 validation error detected: Value '" + name +
                                "' at 'tableName' failed to satisfy constraint: Member must "
                                "satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
  }
  return Status::Ok();
}

Status ToStatus(const rocksdb::Status& s) { return Status::IOError("storage: " + s.ToString()); }

}  // namespace

// --- TableState ---

TableState::TableState(rocksdb::DB* db, v1::TableMeta meta, rocksdb::ColumnFamilyHandle* items,
                       rocksdb::ColumnFamilyHandle* log)
    : db_(db), meta_(std::move(meta)), items_(items), log_(log) {
  key_schema_ = KeySchemaOf(meta_);
  config_ = ConfigOf(meta_);
  const uint32_t count = meta_.shard_count();
  for (uint32_t i = 0; i < count; ++i) {
    auto shard = std::make_unique<Shard>();
    shard->table_id = meta_.table_id();
    shard->index = i;
    shard->hash_begin = keycodec::RangeBegin(i, count);
    shard->hash_end = i + 1 < count ? keycodec::RangeBegin(i + 1, count) - 1 : UINT64_MAX;
    shards_.push_back(std::move(shard));
  }
}

TableState::~TableState() {
  db_->DestroyColumnFamilyHandle(items_);
  db_->DestroyColumnFamilyHandle(log_);
}

std::vector<Shard*> TableState::all_shards() {
  std::vector<Shard*> shards;
  shards.reserve(shards_.size());
  for (auto& shard : shards_) shards.push_back(shard.get());
  return shards;
}

std::shared_ptr<const TableConfig> TableState::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

v1::TableMeta TableState::meta() const {
  std::lock_guard lock(mu_);
  return meta_;
}

void TableState::set_meta(v1::TableMeta meta) {
  std::lock_guard lock(mu_);
  meta_ = std::move(meta);
  config_ = ConfigOf(meta_);
}

// --- Catalog ---

Catalog::Catalog(rocksdb::DB& db, rocksdb::ColumnFamilyHandle& default_cf, CommitPipeline& pipeline,
                 const Clock& clock, size_t block_cache_bytes)
    : db_(db),
      default_cf_(default_cf),
      pipeline_(pipeline),
      clock_(clock),
      block_cache_bytes_(block_cache_bytes) {}

rocksdb::ColumnFamilyOptions Catalog::ColumnFamilyOptions(
    const std::string& name, const std::shared_ptr<rocksdb::Cache>& cache) {
  if (name.rfind("items.", 0) == 0) return ItemsCfOptions(cache);
  if (name.rfind("log.", 0) == 0) return LogCfOptions(cache);
  return rocksdb::ColumnFamilyOptions();
}

Status Catalog::Load(std::map<std::string, rocksdb::ColumnFamilyHandle*> column_families) {
  std::unique_lock lock(mu_);
  std::string next_id;
  if (db_.Get({}, &default_cf_, kNextTableIdKey, &next_id).ok()) {
    next_table_id_ = std::stoull(next_id);
  }
  std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator({}, &default_cf_));
  for (it->Seek(kTablePrefix); it->Valid() && it->key().starts_with(kTablePrefix); it->Next()) {
    v1::TableMeta meta;
    if (!meta.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::IOError("corrupt catalog entry " + it->key().ToString());
    }
    auto items = column_families.extract(ItemsCfName(meta.table_id()));
    auto log = column_families.extract(LogCfName(meta.table_id()));
    if (items.empty() || log.empty()) {
      return Status::IOError("column families of table '" + meta.name() + "' are missing");
    }
    auto table = std::make_shared<TableState>(&db_, meta, items.mapped(), log.mapped());
    for (uint32_t s = 0; s < table->shard_count(); ++s) {
      Shard& shard = table->shard(s);
      MutexLock shard_lock(shard.commit_mu);  // not yet shared: uncontended
      RecoverShard(*table, shard);
    }
    tables_[meta.name()] = std::move(table);
  }
  // Column families no catalog entry names belong to a table whose creation or deletion
  // was interrupted: drop them.
  for (auto& [name, handle] : column_families) {
    db_.DropColumnFamily(handle).PermitUncheckedError();
    db_.DestroyColumnFamilyHandle(handle);
  }
  return Status::Ok();
}

void Catalog::Close() {
  std::unique_lock lock(mu_);
  tables_.clear();
}

void Catalog::RecoverShard(TableState& table, Shard& shard) {
  uint64_t last = 0;
  uint64_t first = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator({}, table.log()));
  const std::string begin = storage::LogKey(shard.index, 0);
  const std::string end = storage::LogKey(shard.index + 1, 0);
  it->Seek(begin);
  if (it->Valid() && it->key().compare(end) < 0) first = storage::LogKeySequence(it->key());
  it->SeekForPrev(storage::LogKey(shard.index, UINT64_MAX));
  if (it->Valid() && it->key().compare(begin) >= 0) last = storage::LogKeySequence(it->key());
  std::string floor;
  uint64_t trimmed = 0;
  if (db_.Get({}, &default_cf_, storage::ShardFloorKey(table.id(), shard.index), &floor).ok()) {
    trimmed = std::stoull(floor);
  }
  shard.last_sequence = std::max(last, trimmed);
  shard.committed_sequence.store(shard.last_sequence);
  shard.first_sequence.store(first != 0 ? first : shard.last_sequence + 1);
}

void Catalog::ResetShards(TableState& table) {
  for (uint32_t i = 0; i < table.shard_count(); ++i) {
    Shard& shard = table.shard(i);
    shard.commit_mu.AssertHeld();  // the caller holds every shard (LockedShards)
    shard.overlay.clear();
    shard.durable_tag = shard.last_tag;
    RecoverShard(table, shard);
  }
}

Result<TablePtr> Catalog::Find(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    return TableNotFound(name);
  }
  return it->second;
}

std::vector<TablePtr> Catalog::All() const {
  std::shared_lock lock(mu_);
  std::vector<TablePtr> tables;
  for (const auto& [name, table] : tables_) tables.push_back(table);
  return tables;
}

Status Catalog::PersistMeta(const v1::TableMeta& meta) {
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_.Put(sync, &default_cf_, std::string(kTablePrefix) + meta.name(),
                              meta.SerializeAsString());
  return s.ok() ? Status::Ok() : ToStatus(s);
}

TableDescription Catalog::Describe(TableState& table) const {
  const v1::TableMeta meta = table.meta();
  TableDescription d;
  d.name = meta.name();
  d.table_id = meta.table_id();
  d.key_schema = table.key_schema();
  d.stream.enabled = meta.stream_enabled();
  d.stream.view_type = FromProto(meta.view_type());
  d.stream_label = meta.stream_label();
  d.creation_time_micros = meta.creation_time_micros();
  d.billing_mode = meta.provisioned() ? BillingMode::kProvisioned : BillingMode::kPayPerRequest;
  d.provisioned.read_capacity_units = meta.read_capacity_units();
  d.provisioned.write_capacity_units = meta.write_capacity_units();
  if (!meta.ttl_attribute().empty()) d.ttl_attribute = meta.ttl_attribute();
  for (uint32_t i = 0; i < table.shard_count(); ++i) {
    Shard& shard = table.shard(i);
    ShardDescription sd;
    sd.index = i;
    sd.hash_begin = shard.hash_begin;
    sd.hash_end = shard.hash_end;
    sd.last_sequence = shard.committed_sequence.load();
    const uint64_t first = shard.first_sequence.load();
    sd.first_sequence = first <= sd.last_sequence ? first : 0;
    d.shards.push_back(sd);
  }
  uint64_t keys = 0;
  uint64_t bytes = 0;
  db_.GetIntProperty(table.items(), "rocksdb.estimate-num-keys", &keys);
  db_.GetIntProperty(table.items(), "rocksdb.estimate-live-data-size", &bytes);
  d.approximate_item_count = keys;
  d.approximate_size_bytes = bytes;
  return d;
}

Result<TableDescription> Catalog::Create(const CreateTableRequest& request) {
  TW_RETURN_IF_ERROR(ValidateTableName(request.name));
  const auto valid_key_type = [](AttributeType t) {
    return t == AttributeType::kS || t == AttributeType::kN || t == AttributeType::kB;
  };
  if (request.key_schema.partition_key.name.empty() ||
      !valid_key_type(request.key_schema.partition_key.type) ||
      (request.key_schema.sort_key && (request.key_schema.sort_key->name.empty() ||
                                       !valid_key_type(request.key_schema.sort_key->type)))) {
    return Status::Validation(
        "One or more parameter values were invalid: key attributes must be scalars "
        "(S, N or B) with non-empty names");
  }
  if (request.key_schema.sort_key &&
      request.key_schema.sort_key->name == request.key_schema.partition_key.name) {
    return Status::Validation("Invalid KeySchema: Some index key attribute have no definition");
  }
  if (request.shard_count == 0 || request.shard_count > kMaxShards) {
    return Status::Validation("shard count must be between 1 and " + std::to_string(kMaxShards));
  }

  std::unique_lock lock(mu_);
  if (tables_.count(request.name) != 0) {
    return Status::InUse("Table already exists: " + request.name);
  }
  const uint64_t id = next_table_id_++;
  rocksdb::Status s = db_.Put({}, &default_cf_, kNextTableIdKey, std::to_string(next_table_id_));
  if (!s.ok()) return ToStatus(s);

  auto cache = rocksdb::NewLRUCache(block_cache_bytes_);
  rocksdb::ColumnFamilyHandle* items = nullptr;
  rocksdb::ColumnFamilyHandle* log = nullptr;
  s = db_.CreateColumnFamily(ItemsCfOptions(cache), ItemsCfName(id), &items);
  if (!s.ok()) return ToStatus(s);
  s = db_.CreateColumnFamily(LogCfOptions(cache), LogCfName(id), &log);
  if (!s.ok()) {
    db_.DropColumnFamily(items).PermitUncheckedError();
    db_.DestroyColumnFamilyHandle(items);
    return ToStatus(s);
  }

  v1::TableMeta meta;
  meta.set_name(request.name);
  meta.set_table_id(id);
  meta.mutable_partition_key()->set_name(request.key_schema.partition_key.name);
  meta.mutable_partition_key()->set_type(TypeName(request.key_schema.partition_key.type));
  if (request.key_schema.sort_key) {
    meta.mutable_sort_key()->set_name(request.key_schema.sort_key->name);
    meta.mutable_sort_key()->set_type(TypeName(request.key_schema.sort_key->type));
  }
  const int64_t now = clock_.NowMicros();
  meta.set_creation_time_micros(now);
  meta.set_shard_count(request.shard_count);
  meta.set_stream_enabled(request.stream.enabled);
  meta.set_view_type(ToProto(request.stream.view_type));
  if (request.stream.enabled) meta.set_stream_label(StreamLabel(now));
  meta.set_provisioned(request.billing_mode == BillingMode::kProvisioned);
  meta.set_read_capacity_units(request.provisioned.read_capacity_units);
  meta.set_write_capacity_units(request.provisioned.write_capacity_units);

  auto table = std::make_shared<TableState>(&db_, meta, items, log);
  Status persisted = PersistMeta(meta);
  if (!persisted.ok()) {
    db_.DropColumnFamily(items).PermitUncheckedError();
    db_.DropColumnFamily(log).PermitUncheckedError();
    return persisted;
  }
  tables_[request.name] = table;
  return Describe(*table);
}

Result<TableDescription> Catalog::Delete(const std::string& name) {
  std::unique_lock lock(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    return TableNotFound(name);
  }
  TablePtr table = it->second;
  TableDescription description = Describe(*table);
  // Catalog entry first: a crash after it leaves orphan column families, dropped at open.
  rocksdb::WriteBatch batch;
  batch.Delete(&default_cf_, std::string(kTablePrefix) + name);
  for (uint32_t s = 0; s < table->shard_count(); ++s) {
    batch.Delete(&default_cf_, storage::ShardFloorKey(table->id(), s));
    const std::string checkpoints = storage::CheckpointPrefix(table->id(), s);
    batch.DeleteRange(&default_cf_, checkpoints, checkpoints + '\xff');
  }
  for (const std::string& prefix : {storage::TombstoneIndexPrefix(table->id()),
                                    storage::ReplicationCheckpointPrefix(table->id())}) {
    batch.DeleteRange(&default_cf_, prefix, prefix + '\xff');
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_.Write(sync, &batch);
  if (!s.ok()) return ToStatus(s);
  tables_.erase(it);
  db_.DropColumnFamily(table->items()).PermitUncheckedError();
  db_.DropColumnFamily(table->log()).PermitUncheckedError();
  return description;
}

Result<ListTablesPage> Catalog::List(const std::optional<std::string>& exclusive_start,
                                     size_t limit) const {
  std::shared_lock lock(mu_);
  ListTablesPage page;
  auto it = exclusive_start ? tables_.upper_bound(*exclusive_start) : tables_.begin();
  for (; it != tables_.end(); ++it) {
    if (limit != 0 && page.names.size() == limit) {
      page.last_evaluated_table_name = page.names.back();
      break;
    }
    page.names.push_back(it->first);
  }
  return page;
}

Result<TableDescription> Catalog::UpdateStream(const std::string& name,
                                               const StreamSpecification& spec) {
  std::unique_lock lock(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    return TableNotFound(name);
  }
  TableState& table = *it->second;
  v1::TableMeta meta = table.meta();
  // As DynamoDB: a stream's view type changes by disabling it and enabling a new one.
  if (spec.enabled && meta.stream_enabled()) {
    return Status::Validation("Table already has an enabled stream: TableName: " + name);
  }
  if (!spec.enabled && !meta.stream_enabled()) {
    return Status::Validation("Table already has no stream: TableName: " + name);
  }
  meta.set_stream_enabled(spec.enabled);
  if (spec.enabled) {
    meta.set_view_type(ToProto(spec.view_type));
    meta.set_stream_label(StreamLabel(clock_.NowMicros()));
  }
  TW_RETURN_IF_ERROR(PersistMeta(meta));
  {
    // Writes read the config under their shard lock: with every shard locked and drained,
    // no commit straddles the change.
    LockedShards quiet(pipeline_, table.all_shards());
    table.set_meta(std::move(meta));
  }
  return Describe(table);
}

Status Catalog::UpdateTimeToLive(const std::string& name,
                                 const std::optional<std::string>& attribute) {
  std::unique_lock lock(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    return TableNotFound(name);
  }
  TableState& table = *it->second;
  v1::TableMeta meta = table.meta();
  if (attribute) {
    if (attribute->empty()) {
      return Status::Validation("TimeToLiveSpecification.AttributeName must not be empty");
    }
    if (!meta.ttl_attribute().empty()) {
      return Status::Validation("TimeToLive is already enabled");
    }
    meta.set_ttl_attribute(*attribute);
  } else {
    if (meta.ttl_attribute().empty()) {
      return Status::Validation("TimeToLive is already disabled");
    }
    meta.clear_ttl_attribute();
  }
  TW_RETURN_IF_ERROR(PersistMeta(meta));
  table.set_meta(std::move(meta));
  return Status::Ok();
}

}  // namespace tidewater
