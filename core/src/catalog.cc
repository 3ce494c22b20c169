// The table catalog: tables and their lifecycle (create, describe, list, update, delete).
#include "catalog.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <set>
#include <tuple>

#include "storage_keys.h"
#include "tidewater/core/failure_point.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {
namespace {

constexpr std::string_view kTablePrefix = "table/";
constexpr std::string_view kRetiredTablePrefix = "retired_table/";
constexpr std::string_view kSequenceBasePrefix = "sequence_base/";
constexpr std::string_view kNextTableIdKey = "next_table_id";
constexpr uint32_t kMaxShards = 1024;

std::string ItemsCfName(uint64_t id) { return "items." + std::to_string(id); }
std::string LogCfName(uint64_t id) { return "log." + std::to_string(id); }
std::string IndexCfName(uint64_t id) { return "index." + std::to_string(id); }

// How a table class stores the items column family. STANDARD: Snappy and 4 KB blocks (fast
// point reads). STANDARD_INFREQUENT_ACCESS trades read speed for size: ZSTD at level 9 and
// 32 KB blocks, which compress better and cost more to read. ApplyTableClass sets the same
// options on a live column family.
constexpr int kInfrequentAccessZstdLevel = 9;
constexpr size_t kInfrequentAccessBlockBytes = 32 * 1024;
constexpr size_t kStandardBlockBytes = 4 * 1024;
// The change log is read in sequence runs (publishers, stream readers): large blocks mean
// fewer block lookups and checksums per record.
constexpr size_t kLogBlockBytes = 64 * 1024;

rocksdb::ColumnFamilyOptions ItemsCfOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                            TableClass table_class) {
  const bool infrequent = table_class == TableClass::kStandardInfrequentAccess;
  rocksdb::ColumnFamilyOptions options;
  options.compression = infrequent ? rocksdb::kZSTD : rocksdb::kSnappyCompression;
  if (infrequent) options.compression_opts.level = kInfrequentAccessZstdLevel;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = infrequent ? kInfrequentAccessBlockBytes : kStandardBlockBytes;
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
  table.block_size = kLogBlockBytes;
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

KeyAttribute KeyAttributeOf(const v1::KeyAttributeMeta& meta) {
  KeyAttribute attribute;
  attribute.name = meta.name();
  ParseKeyType(meta.type(), &attribute.type);
  return attribute;
}

void SetKeyAttribute(const KeyAttribute& attribute, v1::KeyAttributeMeta* meta) {
  meta->set_name(attribute.name);
  meta->set_type(TypeName(attribute.type));
}

SecondaryIndex IndexOf(const v1::SecondaryIndexMeta& stored) {
  SecondaryIndex index;
  index.name = stored.name();
  index.ordinal = stored.ordinal();
  index.key_schema.partition_key = KeyAttributeOf(stored.partition_key());
  if (stored.has_sort_key()) index.key_schema.sort_key = KeyAttributeOf(stored.sort_key());
  ParseProjectionType(stored.projection_type(), &index.projection.type);
  index.projection.non_key_attributes.assign(stored.non_key_attributes().begin(),
                                             stored.non_key_attributes().end());
  index.read_capacity_units = stored.read_capacity_units();
  index.write_capacity_units = stored.write_capacity_units();
  index.backfilling = stored.backfilling();
  index.capacity.last_increase_micros = stored.last_increase_micros();
  index.capacity.last_decrease_micros = stored.last_decrease_micros();
  index.capacity.decreases_on_last_decrease_day = stored.decreases_on_last_decrease_day();
  return index;
}

std::vector<SecondaryIndex> IndexesOf(
    const google::protobuf::RepeatedPtrField<v1::SecondaryIndexMeta>& metas) {
  std::vector<SecondaryIndex> indexes;
  for (const v1::SecondaryIndexMeta& stored : metas) indexes.push_back(IndexOf(stored));
  return indexes;
}

v1::SecondaryIndexMeta IndexMetaOf(const SecondaryIndex& index) {
  v1::SecondaryIndexMeta meta;
  meta.set_name(index.name);
  meta.set_ordinal(index.ordinal);
  SetKeyAttribute(index.key_schema.partition_key, meta.mutable_partition_key());
  if (index.key_schema.sort_key)
    SetKeyAttribute(*index.key_schema.sort_key, meta.mutable_sort_key());
  meta.set_projection_type(std::string(ProjectionTypeName(index.projection.type)));
  for (const std::string& name : index.projection.non_key_attributes) {
    meta.add_non_key_attributes(name);
  }
  meta.set_read_capacity_units(index.read_capacity_units);
  meta.set_write_capacity_units(index.write_capacity_units);
  meta.set_backfilling(index.backfilling);
  meta.set_last_increase_micros(index.capacity.last_increase_micros);
  meta.set_last_decrease_micros(index.capacity.last_decrease_micros);
  meta.set_decreases_on_last_decrease_day(index.capacity.decreases_on_last_decrease_day);
  return meta;
}

std::shared_ptr<const TableConfig> ConfigOf(const v1::TableMeta& meta) {
  auto config = std::make_shared<TableConfig>();
  config->stream.enabled = meta.stream_enabled();
  config->stream.view_type = FromProto(meta.view_type());
  config->stream_label = meta.stream_label();
  if (!meta.ttl_attribute().empty()) config->ttl_attribute = meta.ttl_attribute();
  config->keeps_history = meta.has_point_in_time_recovery();
  return config;
}

TableSettings SettingsOf(const v1::TableMeta& meta) {
  TableSettings settings;
  settings.billing_mode =
      meta.provisioned() ? BillingMode::kProvisioned : BillingMode::kPayPerRequest;
  settings.provisioned.read_capacity_units = meta.read_capacity_units();
  settings.provisioned.write_capacity_units = meta.write_capacity_units();
  // Stored as 0 when there is no maximum (-1 in the API).
  auto maximum = [](int64_t stored) { return stored > 0 ? stored : int64_t{-1}; };
  settings.on_demand.max_read_request_units = maximum(meta.max_read_request_units());
  settings.on_demand.max_write_request_units = maximum(meta.max_write_request_units());
  settings.deletion_protection = meta.deletion_protection();
  settings.tags.insert(meta.tags().begin(), meta.tags().end());
  CapacityHistory& capacity = settings.capacity;
  capacity.last_increase_micros = meta.last_increase_micros();
  capacity.last_decrease_micros = meta.last_decrease_micros();
  capacity.decreases_on_last_decrease_day = meta.decreases_on_last_decrease_day();
  capacity.last_pay_per_request_micros = meta.last_pay_per_request_micros();
  capacity.pay_per_request_switch_micros.assign(meta.pay_per_request_switch_micros().begin(),
                                                meta.pay_per_request_switch_micros().end());
  capacity.on_demand_peak_units = meta.on_demand_peak_units();
  settings.table_class =
      meta.infrequent_access() ? TableClass::kStandardInfrequentAccess : TableClass::kStandard;
  settings.table_class_set_micros = meta.table_class_set_micros();
  settings.sse_kms_master_key_id = meta.sse_kms_master_key_id();
  return settings;
}

void SetSettings(const TableSettings& settings, v1::TableMeta& meta) {
  meta.set_provisioned(settings.billing_mode == BillingMode::kProvisioned);
  meta.set_read_capacity_units(settings.provisioned.read_capacity_units);
  meta.set_write_capacity_units(settings.provisioned.write_capacity_units);
  meta.set_max_read_request_units(std::max<int64_t>(settings.on_demand.max_read_request_units, 0));
  meta.set_max_write_request_units(
      std::max<int64_t>(settings.on_demand.max_write_request_units, 0));
  meta.set_deletion_protection(settings.deletion_protection);
  meta.mutable_tags()->clear();
  meta.mutable_tags()->insert(settings.tags.begin(), settings.tags.end());
  const CapacityHistory& capacity = settings.capacity;
  meta.set_last_increase_micros(capacity.last_increase_micros);
  meta.set_last_decrease_micros(capacity.last_decrease_micros);
  meta.set_decreases_on_last_decrease_day(capacity.decreases_on_last_decrease_day);
  meta.set_last_pay_per_request_micros(capacity.last_pay_per_request_micros);
  meta.clear_pay_per_request_switch_micros();
  for (int64_t micros : capacity.pay_per_request_switch_micros) {
    meta.add_pay_per_request_switch_micros(micros);
  }
  meta.set_on_demand_peak_units(capacity.on_demand_peak_units);
  meta.set_infrequent_access(settings.table_class == TableClass::kStandardInfrequentAccess);
  meta.set_table_class_set_micros(settings.table_class_set_micros);
  meta.set_sse_kms_master_key_id(settings.sse_kms_master_key_id);
}

// Sets `table_class`'s options (see ItemsCfOptions) on a live items column family: files
// written from now on follow them (and RocksDB's options file records them for the next
// open).
Status ApplyTableClass(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* items,
                       TableClass table_class) {
  const bool infrequent = table_class == TableClass::kStandardInfrequentAccess;
  const rocksdb::Status s = db.SetOptions(
      items,
      {{"compression", infrequent ? "kZSTD" : "kSnappyCompression"},
       {"compression_opts",
        "{level=" +
            std::to_string(infrequent ? kInfrequentAccessZstdLevel
                                      : rocksdb::CompressionOptions::kDefaultCompressionLevel) +
            "}"},
       {"block_based_table_factory",
        "{block_size=" +
            std::to_string(infrequent ? kInfrequentAccessBlockBytes : kStandardBlockBytes) + "}"}});
  return s.ok() ? Status::Ok() : Status::IOError("table class options: " + s.ToString());
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

std::string RetiredTableKey(uint64_t id) {
  return std::string(kRetiredTablePrefix) + std::to_string(id);
}
std::string SequenceBaseKey(const std::string& name) {
  return std::string(kSequenceBasePrefix) + name;
}

// The enabled stream of `meta` (over `table`'s shards), as disabled now: each shard's
// stream ends at its last committed sequence. Requires the shards held (LockedShards).
v1::DisabledStreamMeta DisableStream(const v1::TableMeta& meta, TableState& table,
                                     int64_t now_micros) {
  v1::DisabledStreamMeta stream;
  stream.set_label(meta.stream_label());
  stream.set_view_type(meta.view_type());
  stream.set_disabled_time_micros(now_micros);
  for (uint32_t i = 0; i < table.shard_count(); ++i) {
    const int first = static_cast<int>(i);
    stream.add_first_sequence(
        first < meta.stream_first_sequence_size() ? meta.stream_first_sequence(first) : 1);
    stream.add_last_sequence(table.shard(i).committed_sequence.load());
  }
  return stream;
}

// A shard's range and lineage; closed after a split, or when `stream_closed` (a disabled
// stream's shards). The sequences are the caller's to fill.
ShardDescription DescribeShard(const Shard& shard, bool stream_closed) {
  ShardDescription sd;
  sd.index = ShardIndex(shard.index);
  sd.hash_begin = shard.hash_begin;
  sd.hash_end = shard.hash_end;
  if (shard.parent) sd.parent = ShardIndex(*shard.parent);
  sd.closed = stream_closed || shard.closed.load(std::memory_order_acquire);
  return sd;
}

// A stream's part of `table`'s shards: records [first[i], last[i]] of shard i (an enabled
// stream: up to the last committed), less what retention trimmed.
std::vector<ShardDescription> StreamShards(TableState& table,
                                           const google::protobuf::RepeatedField<uint64_t>& first,
                                           const google::protobuf::RepeatedField<uint64_t>* last) {
  std::vector<ShardDescription> shards;
  for (uint32_t i = 0; i < table.shard_count(); ++i) {
    const int at = static_cast<int>(i);
    // A disabled stream ends with the shards it had: later splits' children are not in it.
    if (last != nullptr && at >= last->size()) break;
    shards.push_back(DescribeShard(table.shard(i), last != nullptr));
    ShardDescription& sd = shards.back();
    const uint64_t last_sequence =
        last != nullptr ? last->Get(at) : table.shard(i).committed_sequence.load();
    const uint64_t stream_first = at < first.size() ? first.Get(at) : 1;
    const uint64_t retained = std::max(stream_first, table.shard(i).first_sequence.load());
    sd.last_sequence = SequenceNumber(last_sequence);
    sd.first_sequence = SequenceNumber(retained <= last_sequence ? retained : 0);
  }
  return shards;
}

}  // namespace

// --- TableState ---

uint64_t TableState::StartIndexWork() {
  std::lock_guard lock(index_work_mu_);
  const uint64_t number = next_index_work_.fetch_add(1, std::memory_order_relaxed);
  unfinished_index_work_.insert(number);
  return number;
}

void TableState::FinishIndexWork(uint64_t number) {
  std::lock_guard lock(index_work_mu_);
  unfinished_index_work_.erase(number);
}

uint64_t TableState::LowestUnfinishedIndexWork() const {
  std::lock_guard lock(index_work_mu_);
  return unfinished_index_work_.empty() ? next_index_work_.load(std::memory_order_relaxed)
                                        : *unfinished_index_work_.begin();
}

TableState::TableState(rocksdb::DB* db, v1::TableMeta meta, rocksdb::ColumnFamilyHandle* items,
                       rocksdb::ColumnFamilyHandle* log, rocksdb::ColumnFamilyHandle* index_entries)
    : db_(db),
      name_(meta.name()),
      id_(meta.table_id()),
      local_indexes_(IndexesOf(meta.local_indexes())),
      items_(items),
      log_(log),
      index_entries_(index_entries),
      shards_(std::make_unique<std::unique_ptr<Shard>[]>(kShardCapacity)) {
  AdoptMetaLocked(std::move(meta));  // not yet shared: no lock needed
  key_schema_ = KeySchemaOf(meta_);
  if (index_entries != nullptr) {
    // Queue numbers continue after the last entry still queued (every one before it may be
    // applied and gone; none after it was ever committed).
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, index_entries));
    it->SeekForPrev(storage::IndexWorkKey(UINT64_MAX));
    const std::string prefix = storage::IndexEntryPrefix(storage::kIndexWorkOrdinal);
    if (it->Valid() && it->key().starts_with(prefix)) {
      next_index_work_.store(storage::IndexWorkNumber(it->key()) + 1);
    }
  }
  const auto add = [&](uint32_t i, uint64_t begin, uint64_t end) -> Shard& {
    auto& shard = shards_[i];
    shard = std::make_unique<Shard>();
    shard->table_id = meta_.table_id();
    shard->index = i;
    shard->hash_begin = begin;
    shard->hash_end = end;
    return *shard;
  };
  uint32_t count = 0;
  if (meta_.shards_size() == 0) {
    // Tables never split keep no layout: equal ranges.
    count = std::min(meta_.shard_count(), kShardCapacity);
    for (uint32_t i = 0; i < count; ++i) {
      add(i, keycodec::RangeBegin(i, count),
          i + 1 < count ? keycodec::RangeBegin(i + 1, count) - 1 : UINT64_MAX);
    }
  } else {
    count = std::min(static_cast<uint32_t>(meta_.shards_size()), kShardCapacity);
    for (uint32_t i = 0; i < count; ++i) {
      const v1::ShardLayoutMeta& layout = meta_.shards(static_cast<int>(i));
      Shard& shard = add(i, layout.hash_begin(), layout.hash_end());
      if (layout.has_parent()) shard.parent = layout.parent();
      shard.closed.store(layout.closed());
    }
  }
  shard_count_.store(count, std::memory_order_release);
  std::lock_guard lock(mu_);
  for (uint32_t i = 0; i < count; ++i) {
    if (!shards_[i]->closed.load()) routes_[shards_[i]->hash_begin] = i;
  }
}

TableState::~TableState() {
  if (items_ != nullptr) db_->DestroyColumnFamilyHandle(items_);
  if (index_entries() != nullptr) db_->DestroyColumnFamilyHandle(index_entries());
  db_->DestroyColumnFamilyHandle(log_);
}

void TableState::set_index_entries(rocksdb::ColumnFamilyHandle* index_entries) {
  index_entries_.store(index_entries, std::memory_order_release);
}

std::shared_ptr<const std::vector<SecondaryIndex>> TableState::global_indexes() const {
  std::lock_guard lock(mu_);
  return global_indexes_;
}

std::vector<uint32_t> TableState::dropped_index_ordinals() const {
  std::lock_guard lock(mu_);
  return {meta_.dropped_index_ordinals().begin(), meta_.dropped_index_ordinals().end()};
}

std::shared_ptr<const SecondaryIndex> TableState::FindIndex(std::string_view name) const {
  // Local indexes live as long as the TableState, which the caller holds: no owner needed.
  for (const SecondaryIndex& index : local_indexes_) {
    if (index.name == name)
      return std::shared_ptr<const SecondaryIndex>(std::shared_ptr<const void>(), &index);
  }
  const auto globals = global_indexes();
  for (const SecondaryIndex& index : *globals) {
    if (index.name == name) return std::shared_ptr<const SecondaryIndex>(globals, &index);
  }
  return nullptr;
}

std::vector<Shard*> TableState::all_shards() {
  const uint32_t count = shard_count();
  std::vector<Shard*> shards;
  shards.reserve(count);
  for (uint32_t i = 0; i < count; ++i) shards.push_back(shards_[i].get());
  return shards;
}

uint32_t TableState::ShardFor(uint64_t hash) const {
  std::lock_guard lock(mu_);
  // The open ranges cover every hash: the last one beginning at or before `hash` holds it.
  auto it = routes_.upper_bound(hash);
  return std::prev(it)->second;
}

void TableState::InstallSplit(v1::TableMeta meta, Shard& parent,
                              std::vector<std::unique_ptr<Shard>> children) {
  parent.commit_mu.AssertHeld();
  std::lock_guard lock(mu_);
  uint32_t count = shard_count_.load(std::memory_order_relaxed);
  routes_.erase(parent.hash_begin);
  for (auto& child : children) {
    routes_[child->hash_begin] = child->index;
    shards_[count++] = std::move(child);
  }
  shard_count_.store(count, std::memory_order_release);
  parent.closed.store(true, std::memory_order_release);
  AdoptMetaLocked(std::move(meta));
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
  AdoptMetaLocked(std::move(meta));
}

void TableState::AdoptMetaLocked(v1::TableMeta meta) {
  meta_ = std::move(meta);
  config_ = ConfigOf(meta_);
  restoring_.store(meta_.has_restore() && meta_.restore().in_progress(), std::memory_order_release);
  global_indexes_ =
      std::make_shared<const std::vector<SecondaryIndex>>(IndexesOf(meta_.global_indexes()));
}

TableDescription DefinitionOf(const v1::TableMeta& meta) {
  TableDescription d;
  d.name = meta.name();
  d.table_id = meta.table_id();
  d.key_schema = KeySchemaOf(meta);
  d.stream.enabled = meta.stream_enabled();
  d.stream.view_type = FromProto(meta.view_type());
  d.stream_label = meta.stream_label();
  d.creation_time_micros = meta.creation_time_micros();
  d.settings = SettingsOf(meta);
  if (!meta.ttl_attribute().empty()) d.ttl_attribute = meta.ttl_attribute();
  for (const SecondaryIndex& index : IndexesOf(meta.local_indexes())) {
    d.local_indexes.push_back(IndexDescription{index, 0, 0});
  }
  for (const SecondaryIndex& index : IndexesOf(meta.global_indexes())) {
    d.global_indexes.push_back(IndexDescription{index, 0, 0});
  }
  return d;
}

// --- Catalog ---

Catalog::Catalog(rocksdb::DB& db, rocksdb::ColumnFamilyHandle& default_cf, CommitPipeline& pipeline,
                 const Clock& clock, size_t block_cache_bytes, int64_t stream_retention_micros)
    : db_(db),
      default_cf_(default_cf),
      pipeline_(pipeline),
      clock_(clock),
      block_cache_bytes_(block_cache_bytes),
      stream_retention_micros_(stream_retention_micros) {}

rocksdb::ColumnFamilyOptions Catalog::ColumnFamilyOptions(
    const std::string& name, const std::shared_ptr<rocksdb::Cache>& cache,
    const rocksdb::ColumnFamilyOptions* stored) {
  if (name.rfind("items.", 0) == 0) {
    // Only an infrequent-access table's items are compressed with ZSTD.
    return ItemsCfOptions(cache, stored != nullptr && stored->compression == rocksdb::kZSTD
                                     ? TableClass::kStandardInfrequentAccess
                                     : TableClass::kStandard);
  }
  if (name.rfind("log.", 0) == 0 || name.rfind("index.", 0) == 0) return LogCfOptions(cache);
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
    if (meta.infrequent_access()) {  // also when the options file could not tell at open
      TW_RETURN_IF_ERROR(
          ApplyTableClass(db_, items.mapped(), TableClass::kStandardInfrequentAccess));
    }
    // A table that ever had an index keeps its column family (also once the last global
    // index is deleted: its queue and dropped entries may still be there).
    auto index = column_families.extract(IndexCfName(meta.table_id()));
    if (index.empty() && (meta.local_indexes_size() > 0 || meta.global_indexes_size() > 0)) {
      return Status::IOError("index column family of table '" + meta.name() + "' is missing");
    }
    rocksdb::ColumnFamilyHandle* index_entries = index.empty() ? nullptr : index.mapped();
    auto table =
        std::make_shared<TableState>(&db_, meta, items.mapped(), log.mapped(), index_entries);
    RecoverShards(*table);
    tables_[meta.name()] = std::move(table);
  }
  it.reset(db_.NewIterator({}, &default_cf_));
  for (it->Seek(kRetiredTablePrefix); it->Valid() && it->key().starts_with(kRetiredTablePrefix);
       it->Next()) {
    v1::TableMeta meta;
    if (!meta.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::IOError("corrupt catalog entry " + it->key().ToString());
    }
    auto log = column_families.extract(LogCfName(meta.table_id()));
    if (log.empty()) {
      return Status::IOError("change log of deleted table '" + meta.name() + "' is missing");
    }
    // Its items column family, if the deletion was interrupted before dropping it, goes
    // with the orphans below.
    auto table = std::make_shared<TableState>(&db_, meta, nullptr, log.mapped(), nullptr);
    RecoverShards(*table);
    retired_[meta.table_id()] = std::move(table);
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
  retired_.clear();
}

void Catalog::RecoverShards(TableState& table) {
  std::vector<int64_t> last_micros(table.shard_count(), 0);
  for (uint32_t s = 0; s < table.shard_count(); ++s) {
    Shard& shard = table.shard(s);
    MutexLock shard_lock(shard.commit_mu);  // not yet shared: uncontended
    RecoverShard(table, shard);
    // A split child's record times go on from its parent's (a lower index: recovered).
    if (shard.parent) shard.AssignTime(last_micros[*shard.parent]);
    last_micros[s] = shard.last_micros;
  }
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
  if (it->Valid() && it->key().compare(begin) >= 0) {
    last = storage::LogKeySequence(it->key());
    // Later records' times continue from the last one's (ChangeLog: non-decreasing). A
    // corrupt record is reported to whoever reads it.
    ChangeRecord record;
    if (record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      shard.AssignTime(record.approximate_creation_time_micros());
    }
  }
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
    shard.queued_records.clear();
    shard.durable_tag = shard.last_tag;
    RecoverShard(table, shard);
  }
}

Result<TablePtr> Catalog::Find(const std::string& name) const {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindIncludingRestoring(name));
  if (table->restoring()) return TableNotFound(name);
  return table;
}

Result<TablePtr> Catalog::FindIncludingRestoring(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    return TableNotFound(name);
  }
  return it->second;
}

Result<TablePtr> Catalog::FindById(const std::string& name, uint64_t id) const {
  std::shared_lock lock(mu_);
  auto live = tables_.find(name);
  if (live != tables_.end() && live->second->id() == id) return live->second;
  auto retired = retired_.find(id);
  if (retired != retired_.end() && retired->second->name() == name) return retired->second;
  return TableNotFound(name);
}

std::vector<TablePtr> Catalog::Retired() const {
  std::shared_lock lock(mu_);
  std::vector<TablePtr> tables;
  for (const auto& [id, table] : retired_) tables.push_back(table);
  return tables;
}

std::vector<TablePtr> Catalog::All() const {
  std::shared_lock lock(mu_);
  std::vector<TablePtr> tables;
  for (const auto& [name, table] : tables_) tables.push_back(table);
  return tables;
}

Result<v1::SequenceBase> Catalog::LoadSequenceBase(const std::string& name) const {
  v1::SequenceBase base;
  std::string stored;
  rocksdb::Status s = db_.Get({}, &default_cf_, SequenceBaseKey(name), &stored);
  if (s.IsNotFound()) return base;
  if (!s.ok()) return ToStatus(s);
  if (!base.ParseFromString(stored)) {
    return Status::IOError("corrupt catalog entry " + SequenceBaseKey(name));
  }
  return base;
}

Status Catalog::WriteSynced(rocksdb::WriteBatch& batch) {
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_.Write(sync, &batch);
  return s.ok() ? Status::Ok() : ToStatus(s);
}

Status Catalog::PersistMeta(const v1::TableMeta& meta) {
  rocksdb::WriteBatch batch;
  batch.Put(&default_cf_, std::string(kTablePrefix) + meta.name(), meta.SerializeAsString());
  return WriteSynced(batch);
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
  d.settings = SettingsOf(meta);
  if (!meta.ttl_attribute().empty()) d.ttl_attribute = meta.ttl_attribute();
  d.shards = StreamShards(table, {}, nullptr);  // the whole retained log of each shard
  uint64_t keys = 0;
  uint64_t bytes = 0;
  db_.GetIntProperty(table.items(), "rocksdb.estimate-num-keys", &keys);
  db_.GetIntProperty(table.items(), "rocksdb.estimate-live-data-size", &bytes);
  d.approximate_item_count = keys;
  d.approximate_size_bytes = bytes;
  std::vector<IndexDescription> indexes = DescribeIndexes(table);
  const auto globals = indexes.begin() + static_cast<std::ptrdiff_t>(table.local_indexes().size());
  d.global_indexes.assign(std::make_move_iterator(globals), std::make_move_iterator(indexes.end()));
  indexes.erase(globals, indexes.end());
  d.local_indexes = std::move(indexes);
  if (meta.has_restore() && !meta.restore().import_id().empty()) {
    if (meta.restore().in_progress()) d.import_in_progress = meta.restore().import_id();
  } else if (meta.has_restore()) {
    const v1::RestoreMeta& restore = meta.restore();
    d.restore = RestoreSummary{restore.source_backup_id(), restore.source_table(),
                               restore.source_table_id(), restore.restore_time_micros(),
                               restore.in_progress()};
  }
  d.global_index_backlog = table.index_backlog();
  if (const int64_t oldest = table.oldest_index_work_micros(); oldest != 0) {
    d.global_index_lag_micros = std::max<int64_t>(0, clock_.NowMicros() - oldest);
  }
  return d;
}

std::vector<IndexDescription> Catalog::DescribeIndexes(TableState& table) const {
  std::vector<IndexDescription> described;
  if (table.index_entries() == nullptr) return described;
  // Estimates, as DynamoDB's (refreshed about every six hours there): each index's share
  // of the index column family's bytes, its entries counted in the same proportion.
  uint64_t all_keys = 0;
  db_.GetIntProperty(table.index_entries(), "rocksdb.estimate-num-keys", &all_keys);
  std::vector<SecondaryIndex> indexes = table.local_indexes();
  const auto globals = table.global_indexes();
  indexes.insert(indexes.end(), globals->begin(), globals->end());
  std::vector<uint64_t> sizes;
  uint64_t all_bytes = 0;
  for (const SecondaryIndex& index : indexes) {
    const std::string begin = storage::IndexEntryPrefix(index.ordinal);
    const std::string end = storage::IndexEntryPrefix(index.ordinal + 1);
    rocksdb::Range range(begin, end);
    rocksdb::SizeApproximationOptions options;
    options.include_memtables = true;
    uint64_t size = 0;
    db_.GetApproximateSizes(options, table.index_entries(), &range, 1, &size)
        .PermitUncheckedError();
    sizes.push_back(size);
    all_bytes += size;
  }
  for (size_t i = 0; i < indexes.size(); ++i) {
    IndexDescription d;
    d.definition = indexes[i];
    d.approximate_size_bytes = sizes[i];
    d.approximate_item_count =
        all_bytes == 0
            ? 0
            : static_cast<uint64_t>(static_cast<long double>(all_keys) * sizes[i] / all_bytes);
    described.push_back(std::move(d));
  }
  return described;
}

Result<TableDescription> Catalog::Create(const CreateTableRequest& request,
                                         const v1::RestoreMeta* restore) {
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
    // A restore's error is TableAlreadyExistsException; CreateTable's and ImportTable's are
    // ResourceInUseException.
    if (restore != nullptr && restore->import_id().empty()) {
      return Status(ErrorCode::kTableAlreadyExists, "Table already exists: " + request.name);
    }
    return Status::InUse("Table already exists: " + request.name);
  }
  TW_ASSIGN_OR_RETURN(const v1::SequenceBase base, LoadSequenceBase(request.name));
  const uint64_t id = next_table_id_++;
  rocksdb::Status s = db_.Put({}, &default_cf_, kNextTableIdKey, std::to_string(next_table_id_));
  if (!s.ok()) return ToStatus(s);

  auto cache = rocksdb::NewLRUCache(block_cache_bytes_);
  rocksdb::ColumnFamilyHandle* items = nullptr;
  rocksdb::ColumnFamilyHandle* log = nullptr;
  s = db_.CreateColumnFamily(ItemsCfOptions(cache, request.settings.table_class), ItemsCfName(id),
                             &items);
  if (!s.ok()) return ToStatus(s);
  rocksdb::ColumnFamilyHandle* index_entries = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> created{items};
  const auto drop_created = [&] {
    for (rocksdb::ColumnFamilyHandle* handle : created) {
      db_.DropColumnFamily(handle).PermitUncheckedError();
      db_.DestroyColumnFamilyHandle(handle);
    }
  };
  s = db_.CreateColumnFamily(LogCfOptions(cache), LogCfName(id), &log);
  if (s.ok()) created.push_back(log);
  if (s.ok() && (!request.local_indexes.empty() || !request.global_indexes.empty())) {
    s = db_.CreateColumnFamily(LogCfOptions(cache), IndexCfName(id), &index_entries);
    if (s.ok()) created.push_back(index_entries);
  }
  if (!s.ok()) {
    drop_created();
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
  uint32_t ordinal = 1;
  for (SecondaryIndex index : request.local_indexes) {
    index.ordinal = ordinal++;
    *meta.add_local_indexes() = IndexMetaOf(index);
  }
  for (SecondaryIndex index : request.global_indexes) {
    index.ordinal = ordinal++;
    *meta.add_global_indexes() = IndexMetaOf(index);
  }
  meta.set_next_index_ordinal(ordinal);
  const int64_t now = CreationMicros(request.name, clock_.NowMicros());
  meta.set_creation_time_micros(now);
  meta.set_shard_count(request.shard_count);
  meta.set_stream_enabled(request.stream.enabled);
  meta.set_view_type(ToProto(request.stream.view_type));
  if (request.stream.enabled) meta.set_stream_label(StreamLabel(now));
  TableSettings settings = request.settings;
  settings.capacity = CapacityHistory();
  if (settings.billing_mode == BillingMode::kPayPerRequest) {
    settings.capacity.last_pay_per_request_micros = now;
  }
  SetSettings(settings, meta);
  if (restore != nullptr) *meta.mutable_restore() = *restore;

  // A table created again under a deleted one's name continues each shard's sequences
  // after the deleted table's last, so that readers deduplicating by (shard, sequence)
  // take the new records as new. The floor keys carry the start (as after trimming).
  rocksdb::WriteBatch batch;
  for (uint32_t i = 0; i < request.shard_count; ++i) {
    const int at = static_cast<int>(i);
    const uint64_t last = at < base.last_sequence_size() ? base.last_sequence(at) : 0;
    meta.add_stream_first_sequence(last + 1);
    if (last != 0) batch.Put(&default_cf_, storage::ShardFloorKey(id, i), std::to_string(last));
  }
  batch.Put(&default_cf_, std::string(kTablePrefix) + meta.name(), meta.SerializeAsString());
  if (Status written = WriteSynced(batch); !written.ok()) {
    drop_created();
    return written;
  }
  auto table = std::make_shared<TableState>(&db_, meta, items, log, index_entries);
  for (uint32_t i = 0; i < table->shard_count(); ++i) {
    Shard& shard = table->shard(i);
    MutexLock shard_lock(shard.commit_mu);  // not yet shared: uncontended
    shard.last_sequence = meta.stream_first_sequence(static_cast<int>(i)) - 1;
    shard.committed_sequence.store(shard.last_sequence);
    shard.first_sequence.store(shard.last_sequence + 1);
  }
  tables_[request.name] = table;
  return Describe(*table);
}

Result<TableDescription> Catalog::Delete(const std::string& name, bool failed_restore) {
  std::unique_lock lock(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    return TableNotFound(name);
  }
  TablePtr table = it->second;
  if (table->restoring() && !failed_restore) {
    const bool importing = !table->meta().restore().import_id().empty();
    return Status::InUse(std::string("Attempt to change a resource which is still in use: ") +
                         (importing ? "Table is being imported: " : "Table is being restored: ") +
                         name);
  }
  if (table->meta().deletion_protection()) {
    return Status::Validation(
        "Resource cannot be deleted as it is currently protected against deletion. Disable "
        "deletion protection first.");
  }
  TableDescription description = Describe(*table);
  // With every shard held and drained, the shards' last sequences are final: a write that
  // found the table before it went sees the stream disabled and logs nothing.
  LockedShards quiet(pipeline_, table->all_shards());
  const int64_t now = clock_.NowMicros();
  v1::TableMeta meta = table->meta();
  if (meta.stream_enabled()) {
    *meta.add_disabled_streams() = DisableStream(meta, *table, now);
    meta.set_stream_enabled(false);
  }
  PruneStreams(meta);
  const bool keep_streams = meta.disabled_streams_size() > 0;

  TW_ASSIGN_OR_RETURN(v1::SequenceBase base, LoadSequenceBase(name));
  for (uint32_t s = 0; s < table->shard_count(); ++s) {
    if (static_cast<int>(s) >= base.last_sequence_size()) base.add_last_sequence(0);
    const uint64_t last = table->shard(s).committed_sequence.load();
    if (last > base.last_sequence(static_cast<int>(s))) {
      base.set_last_sequence(static_cast<int>(s), last);
    }
  }
  // Catalog entry first: a crash after it leaves orphan column families, dropped at open.
  rocksdb::WriteBatch batch;
  batch.Delete(&default_cf_, std::string(kTablePrefix) + name);
  batch.Put(&default_cf_, SequenceBaseKey(name), base.SerializeAsString());
  if (keep_streams) {
    meta.set_deletion_time_micros(now);
    batch.Put(&default_cf_, RetiredTableKey(table->id()), meta.SerializeAsString());
  }
  for (uint32_t s = 0; s < table->shard_count(); ++s) {
    // A kept log needs its floors: they hold the sequence counters of trimmed shards.
    if (!keep_streams) batch.Delete(&default_cf_, storage::ShardFloorKey(table->id(), s));
    const std::string checkpoints = storage::CheckpointPrefix(table->id(), s);
    batch.DeleteRange(&default_cf_, checkpoints, checkpoints + '\xff');
  }
  for (const std::string& prefix : {storage::TombstoneIndexPrefix(table->id()),
                                    storage::ReplicationCheckpointPrefix(table->id())}) {
    batch.DeleteRange(&default_cf_, prefix, prefix + '\xff');
  }
  TW_RETURN_IF_ERROR(WriteSynced(batch));
  table->set_meta(std::move(meta));
  tables_.erase(it);
  db_.DropColumnFamily(table->items()).PermitUncheckedError();
  if (table->index_entries() != nullptr) {
    db_.DropColumnFamily(table->index_entries()).PermitUncheckedError();
  }
  if (keep_streams) {
    retired_[table->id()] = table;
  } else {
    db_.DropColumnFamily(table->log()).PermitUncheckedError();
  }
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
  const int64_t now = clock_.NowMicros();
  {
    // Writes read the config under their shard lock: with every shard locked and drained,
    // no commit straddles the change, and the shards' last sequences are where the
    // disabled stream ends and the new one begins.
    LockedShards quiet(pipeline_, table.all_shards());
    PruneStreams(meta);
    if (spec.enabled) {
      meta.set_view_type(ToProto(spec.view_type));
      meta.set_stream_label(StreamLabel(CreationMicros(name, now)));
      meta.clear_stream_first_sequence();
      for (uint32_t i = 0; i < table.shard_count(); ++i) {
        meta.add_stream_first_sequence(table.shard(i).committed_sequence.load() + 1);
      }
    } else {
      *meta.add_disabled_streams() = DisableStream(meta, table, now);
    }
    meta.set_stream_enabled(spec.enabled);
    TW_RETURN_IF_ERROR(PersistMeta(meta));
    table.set_meta(std::move(meta));
  }
  return Describe(table);
}

Result<TableDescription> Catalog::UpdateSettings(const std::string& name,
                                                 const TableSettingsUpdater& update) {
  std::unique_lock lock(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    return TableNotFound(name);
  }
  TableState& table = *it->second;
  const TableDescription current = Describe(table);
  TableSettings settings = current.settings;
  TW_RETURN_IF_ERROR(update(current, clock_.NowMicros(), settings));
  if (settings.table_class != current.settings.table_class) {
    // New files take the class's options now; existing ones as compaction rewrites them.
    TW_RETURN_IF_ERROR(ApplyTableClass(db_, table.items(), settings.table_class));
  }
  v1::TableMeta meta = table.meta();
  SetSettings(settings, meta);
  TW_RETURN_IF_ERROR(PersistMeta(meta));
  table.set_meta(std::move(meta));
  return Describe(table);
}

namespace {

// DynamoDB's limit of global secondary indexes per table.
constexpr int kMaxGlobalIndexes = 20;

// The ordinal an index created now gets: never one a deleted index had.
uint32_t NextIndexOrdinal(const v1::TableMeta& meta) {
  if (meta.next_index_ordinal() != 0) return meta.next_index_ordinal();
  uint32_t highest = 0;
  for (const auto* indexes : {&meta.local_indexes(), &meta.global_indexes()}) {
    for (const v1::SecondaryIndexMeta& index : *indexes)
      highest = std::max(highest, index.ordinal());
  }
  return highest + 1;
}

Status IndexNotFound(const std::string& name) {
  return Status::NotFound("Requested resource not found: Index: " + name + " not found");
}

}  // namespace

Result<TableDescription> Catalog::UpdateGlobalIndexes(const std::string& name,
                                                      const GlobalIndexUpdate& update) {
  std::unique_lock lock(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) return TableNotFound(name);
  TableState& table = *it->second;
  v1::TableMeta meta = table.meta();
  auto* globals = meta.mutable_global_indexes();
  const auto found = std::find_if(globals->begin(), globals->end(), [&](const auto& index) {
    return index.name() == update.index.name;
  });
  switch (update.kind) {
    case GlobalIndexUpdate::Kind::kCreate:
      return CreateGlobalIndex(table, std::move(meta), update.index);
    case GlobalIndexUpdate::Kind::kDelete:
      if (found == globals->end()) return IndexNotFound(update.index.name);
      // Writes may still queue entries for it: the maintainer skips the writes of indexes
      // no longer defined, and removes its entries.
      meta.add_dropped_index_ordinals(found->ordinal());
      globals->erase(found);
      break;
    case GlobalIndexUpdate::Kind::kUpdateThroughput: {
      if (found == globals->end()) return IndexNotFound(update.index.name);
      const SecondaryIndex current = IndexOf(*found);
      SecondaryIndex changed = current;
      if (update.change_throughput) {
        TW_RETURN_IF_ERROR(update.change_throughput(current, clock_.NowMicros(), changed));
      } else {
        changed.read_capacity_units = update.index.read_capacity_units;
        changed.write_capacity_units = update.index.write_capacity_units;
      }
      *found = IndexMetaOf(changed);
      break;
    }
  }
  TW_RETURN_IF_ERROR(PersistMeta(meta));
  table.set_meta(std::move(meta));
  return Describe(table);
}

Result<TableDescription> Catalog::CreateGlobalIndex(TableState& table, v1::TableMeta meta,
                                                    SecondaryIndex index) {
  if (table.FindIndex(index.name) != nullptr) {
    return Status::Validation("One or more parameter values were invalid: Index " + index.name +
                              " already exists");
  }
  for (const v1::SecondaryIndexMeta& other : meta.global_indexes()) {
    if (other.backfilling()) {
      return Status(ErrorCode::kLimitExceeded,
                    "Subscriber limit exceeded: Only 1 online index can be created or deleted "
                    "simultaneously per table");
    }
  }
  if (meta.global_indexes_size() >= kMaxGlobalIndexes) {
    return Status(ErrorCode::kLimitExceeded,
                  "One or more parameter values were invalid: GlobalSecondaryIndex count "
                  "exceeds the per-table limit of " +
                      std::to_string(kMaxGlobalIndexes));
  }
  index.ordinal = NextIndexOrdinal(meta);
  index.backfilling = true;
  *meta.add_global_indexes() = IndexMetaOf(index);
  meta.set_next_index_ordinal(index.ordinal + 1);
  // With no write in flight: every change committed from here on reads the new index list
  // (under its shard's lock) and queues the new index's entries; every change before is in
  // the items the backfill reads.
  TW_RETURN_IF_ERROR(InstallWithIndexColumnFamily(table, std::move(meta), nullptr));
  return Describe(table);
}

Status Catalog::InstallWithIndexColumnFamily(TableState& table, v1::TableMeta meta,
                                             const std::function<void(LockedShards&)>& then) {
  rocksdb::ColumnFamilyHandle* created = nullptr;
  if (table.index_entries() == nullptr) {
    rocksdb::Status s = db_.CreateColumnFamily(
        LogCfOptions(rocksdb::NewLRUCache(block_cache_bytes_)), IndexCfName(table.id()), &created);
    if (!s.ok()) return ToStatus(s);
  }
  LockedShards quiet(pipeline_, table.all_shards());
  if (Status persisted = PersistMeta(meta); !persisted.ok()) {
    if (created != nullptr) {
      db_.DropColumnFamily(created).PermitUncheckedError();
      db_.DestroyColumnFamilyHandle(created);
    }
    return persisted;
  }
  if (created != nullptr) table.set_index_entries(created);
  table.set_meta(std::move(meta));
  if (then) then(quiet);
  return Status::Ok();
}

bool Catalog::IsLive(const TableState& table) const {
  auto it = tables_.find(table.name());
  return it != tables_.end() && it->second.get() == &table;
}

Status Catalog::FinishBackfill(TableState& table, uint32_t ordinal) {
  std::unique_lock lock(mu_);
  if (!IsLive(table)) return Status::Ok();
  v1::TableMeta meta = table.meta();
  for (v1::SecondaryIndexMeta& index : *meta.mutable_global_indexes()) {
    if (index.ordinal() != ordinal || !index.backfilling()) continue;
    index.set_backfilling(false);
    TW_RETURN_IF_ERROR(PersistMeta(meta));  // synced: also the backfill's writes before it
    table.set_meta(std::move(meta));
    return Status::Ok();
  }
  return Status::Ok();
}

Status Catalog::ForgetDroppedIndexes(TableState& table, const std::vector<uint32_t>& ordinals) {
  std::unique_lock lock(mu_);
  if (!IsLive(table)) return Status::Ok();
  v1::TableMeta meta = table.meta();
  auto* dropped = meta.mutable_dropped_index_ordinals();
  dropped->erase(std::remove_if(dropped->begin(), dropped->end(),
                                [&](uint32_t ordinal) {
                                  return std::find(ordinals.begin(), ordinals.end(), ordinal) !=
                                         ordinals.end();
                                }),
                 dropped->end());
  TW_RETURN_IF_ERROR(PersistMeta(meta));
  table.set_meta(std::move(meta));
  return Status::Ok();
}

Result<ShardSplit> Catalog::SplitShard(const std::string& name, uint32_t index) {
  // Exclusive: the layout is read, changed and persisted with the rest of the table's
  // definition, which other catalog changes replace whole.
  std::unique_lock lock(mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) return TableNotFound(name);
  TableState& table = *it->second;
  if (index >= table.shard_count()) {
    return Status::NotFound("Requested resource not found: Shard " + std::to_string(index) +
                            " of table " + name + " does not exist");
  }
  if (table.shard_count() + 2 > TableState::kShardCapacity) {
    return Status(ErrorCode::kLimitExceeded,
                  "Table " + name + " already has " + std::to_string(table.shard_count()) +
                      " shards; a table has at most " + std::to_string(TableState::kShardCapacity));
  }
  Shard& parent = table.shard(index);
  if (parent.hash_begin == parent.hash_end) {
    return Status::Validation("Shard " + std::to_string(index) + " of table " + name +
                              " holds a single hash and cannot be split");
  }
  TW_ASSIGN_OR_RETURN(const v1::SequenceBase base, LoadSequenceBase(name));

  // With the parent locked and drained (its queued group-commit writes durable), its last
  // sequence is final. Writers waiting for it find it closed and route to a child.
  LockedShards quiet(pipeline_, {&parent});
  parent.commit_mu.AssertHeld();  // by `quiet`
  if (parent.closed.load()) {
    return Status::Validation("Shard " + std::to_string(index) + " of table " + name +
                              " is closed: it was split already");
  }
  TW_RETURN_IF_ERROR(pipeline_.WriteFailure());

  v1::TableMeta meta = table.meta();
  const uint32_t count = table.shard_count();
  if (meta.shards_size() == 0) {
    for (uint32_t i = 0; i < count; ++i) {
      v1::ShardLayoutMeta* layout = meta.add_shards();
      layout->set_hash_begin(table.shard(i).hash_begin);
      layout->set_hash_end(table.shard(i).hash_end);
    }
  }
  meta.mutable_shards(static_cast<int>(index))->set_closed(true);
  // Records of an enabled stream start at each child's first sequence (below: padding for
  // catalogs written before stream history, whose streams start at 1).
  if (meta.stream_enabled()) {
    while (static_cast<uint32_t>(meta.stream_first_sequence_size()) < count) {
      meta.add_stream_first_sequence(1);
    }
  }
  const uint64_t middle = parent.hash_begin + (parent.hash_end - parent.hash_begin) / 2;
  const std::pair<uint64_t, uint64_t> ranges[] = {{parent.hash_begin, middle},
                                                  {middle + 1, parent.hash_end}};
  rocksdb::WriteBatch batch;
  std::vector<std::unique_ptr<Shard>> children;
  for (const auto& [begin, end] : ranges) {
    const uint32_t child_index = count + static_cast<uint32_t>(children.size());
    const int at = static_cast<int>(child_index);
    // As a table created again: continue after the deleted table's shard of this index.
    const uint64_t before = at < base.last_sequence_size() ? base.last_sequence(at) : 0;
    if (before != 0) {
      batch.Put(&default_cf_, storage::ShardFloorKey(table.id(), child_index),
                std::to_string(before));
    }
    v1::ShardLayoutMeta* layout = meta.add_shards();
    layout->set_hash_begin(begin);
    layout->set_hash_end(end);
    layout->set_parent(index);
    if (meta.stream_enabled()) meta.add_stream_first_sequence(before + 1);

    auto child = std::make_unique<Shard>();
    child->table_id = table.id();
    child->index = child_index;
    child->hash_begin = begin;
    child->hash_end = end;
    child->parent = index;
    {
      MutexLock child_lock(child->commit_mu);  // not yet shared: uncontended
      child->last_sequence = before;
      child->committed_sequence.store(before);
      child->first_sequence.store(before + 1);
      // Record times go on from the parent's: a reader following lineage sees them in order.
      child->AssignTime(parent.last_micros);
    }
    children.push_back(std::move(child));
  }
  batch.Put(&default_cf_, std::string(kTablePrefix) + name, meta.SerializeAsString());
  // The layout is one more commit, through the same durable step as the writes (synced only
  // when they are): the log is a prefix, so a child's record never survives a crash without
  // the layout before it, and the parent's writers wait no fsync of their own. A failure
  // leaves the outcome unknown, so the pipeline stops writes until storage recovers.
  TW_FAILURE_POINT("split.before_layout");
  TW_RETURN_IF_ERROR(quiet.Commit(batch));
  TW_FAILURE_POINT("split.after_layout");

  ShardSplit split;
  split.parent = DescribeShard(parent, false);
  split.parent.closed = true;
  const uint64_t parent_last = parent.committed_sequence.load();
  const uint64_t parent_first = parent.first_sequence.load();
  split.parent.last_sequence = SequenceNumber(parent_last);
  split.parent.first_sequence = SequenceNumber(parent_first <= parent_last ? parent_first : 0);
  split.lower_child = DescribeShard(*children[0], false);
  split.lower_child.last_sequence = SequenceNumber(children[0]->committed_sequence.load());
  split.upper_child = DescribeShard(*children[1], false);
  split.upper_child.last_sequence = SequenceNumber(children[1]->committed_sequence.load());
  table.InstallSplit(std::move(meta), parent, std::move(children));
  return split;
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

int64_t Catalog::CreationMicros(const std::string& name, int64_t now_micros) const {
  std::string latest_label;
  int64_t latest_creation = -1;
  const auto consider = [&](const v1::TableMeta& meta) {
    latest_label = std::max(latest_label, meta.stream_label());
    for (const auto& stream : meta.disabled_streams()) {
      latest_label = std::max(latest_label, stream.label());
    }
    latest_creation = std::max(latest_creation, meta.creation_time_micros());
  };
  if (auto live = tables_.find(name); live != tables_.end()) consider(live->second->meta());
  for (const auto& [id, table] : retired_) {
    if (table->name() == name) consider(table->meta());
  }
  int64_t micros = now_micros;
  if (latest_creation >= 0 && micros / 1000 <= latest_creation / 1000) {
    micros = (latest_creation / 1000 + 1) * 1000;
  }
  while (StreamLabel(micros) <= latest_label) micros += 1000;
  return micros;
}

bool Catalog::PruneStreams(v1::TableMeta& meta) const {
  const int64_t cutoff = clock_.NowMicros() - stream_retention_micros_;
  auto* streams = meta.mutable_disabled_streams();
  const int before = streams->size();
  streams->erase(std::remove_if(streams->begin(), streams->end(),
                                [cutoff](const v1::DisabledStreamMeta& stream) {
                                  return stream.disabled_time_micros() <= cutoff;
                                }),
                 streams->end());
  return streams->size() != before;
}

std::vector<StreamDescription> Catalog::StreamsOf(TableState& table, int64_t cutoff_micros) const {
  const v1::TableMeta meta = table.meta();
  std::vector<StreamDescription> streams;
  const auto describe = [&](const std::string& label, v1::StreamViewType view_type) {
    StreamDescription stream;
    stream.table = meta.name();
    stream.table_id = meta.table_id();
    stream.label = label;
    stream.view_type = FromProto(view_type);
    stream.key_schema = table.key_schema();
    stream.table_creation_time_micros = meta.creation_time_micros();
    return stream;
  };
  for (const v1::DisabledStreamMeta& disabled : meta.disabled_streams()) {
    if (disabled.disabled_time_micros() <= cutoff_micros) continue;
    StreamDescription stream = describe(disabled.label(), disabled.view_type());
    stream.shards = StreamShards(table, disabled.first_sequence(), &disabled.last_sequence());
    streams.push_back(std::move(stream));
  }
  if (meta.stream_enabled()) {
    StreamDescription stream = describe(meta.stream_label(), meta.view_type());
    stream.enabled = true;
    stream.shards = StreamShards(table, meta.stream_first_sequence(), nullptr);
    streams.push_back(std::move(stream));
  }
  std::sort(
      streams.begin(), streams.end(),
      [](const StreamDescription& a, const StreamDescription& b) { return a.label < b.label; });
  return streams;
}

Result<std::vector<StreamDescription>> Catalog::ListStreams(
    const std::optional<std::string>& table) const {
  const int64_t cutoff = clock_.NowMicros() - stream_retention_micros_;
  std::shared_lock lock(mu_);
  std::vector<StreamDescription> streams;
  const auto add = [&](TableState& state) {
    for (StreamDescription& stream : StreamsOf(state, cutoff)) streams.push_back(std::move(stream));
  };
  bool found = false;
  for (const auto& [id, retired] : retired_) {
    if (!table || retired->name() == *table) add(*retired);
  }
  if (table) {
    auto live = tables_.find(*table);
    if (live != tables_.end()) {
      found = true;
      add(*live->second);
    }
  } else {
    for (const auto& [name, live] : tables_) add(*live);
  }
  if (table && !found && streams.empty()) return TableNotFound(*table);
  std::stable_sort(streams.begin(), streams.end(),
                   [](const StreamDescription& a, const StreamDescription& b) {
                     return std::tie(a.table, a.label) < std::tie(b.table, b.label);
                   });
  return streams;
}

Result<StreamDescription> Catalog::DescribeStream(const std::string& table,
                                                  const std::string& label) const {
  TW_ASSIGN_OR_RETURN(std::vector<StreamDescription> streams, ListStreams(table));
  for (StreamDescription& stream : streams) {
    if (stream.label == label) return std::move(stream);
  }
  return Status::NotFound("Requested resource not found: Stream: " + table + "/" + label +
                          " not found");
}

Status Catalog::FinishRestore(TableState& table) {
  std::unique_lock lock(mu_);
  if (!IsLive(table)) return Status::Ok();
  v1::TableMeta meta = table.meta();
  meta.mutable_restore()->set_in_progress(false);
  TW_RETURN_IF_ERROR(PersistMeta(meta));  // synced: also the restored items before it
  table.set_meta(std::move(meta));
  return Status::Ok();
}

Result<std::optional<HistoryStart>> Catalog::EnableHistory(TableState& table,
                                                           uint32_t recovery_period_days) {
  std::unique_lock lock(mu_);
  if (!IsLive(table)) return TableNotFound(table.name());
  v1::TableMeta meta = table.meta();
  const bool enabled = meta.has_point_in_time_recovery();
  meta.mutable_point_in_time_recovery()->set_recovery_period_days(recovery_period_days);
  // On with its copy complete: only the period changes. (On without it: a crash stopped
  // the copy, which starts again.)
  if (enabled && meta.point_in_time_recovery().base_micros() != 0) {
    TW_RETURN_IF_ERROR(PersistMeta(meta));
    table.set_meta(std::move(meta));
    return std::optional<HistoryStart>();
  }
  meta.mutable_point_in_time_recovery()->set_base_micros(0);
  // With no write in flight: every change committed from here on reads the new config
  // (under its shard's lock) and writes its history entry at a time at or after `start`;
  // every change before is in the snapshot, at a time at or before it.
  HistoryStart start;
  TW_RETURN_IF_ERROR(InstallWithIndexColumnFamily(table, std::move(meta), [&](LockedShards& quiet) {
    start.start_micros = quiet.AssignTime(clock_.NowMicros());
    start.snapshot = db_.GetSnapshot();
  }));
  return std::optional<HistoryStart>(start);
}

Status Catalog::SetHistoryBase(TableState& table, int64_t base_micros) {
  std::unique_lock lock(mu_);
  if (!IsLive(table)) return Status::Ok();
  v1::TableMeta meta = table.meta();
  if (!meta.has_point_in_time_recovery()) return Status::Ok();  // disabled meanwhile
  meta.mutable_point_in_time_recovery()->set_base_micros(base_micros);
  TW_RETURN_IF_ERROR(PersistMeta(meta));  // synced: also the copied items before it
  table.set_meta(std::move(meta));
  return Status::Ok();
}

Status Catalog::DisableHistory(TableState& table) {
  std::unique_lock lock(mu_);
  if (!IsLive(table)) return TableNotFound(table.name());
  v1::TableMeta meta = table.meta();
  if (!meta.has_point_in_time_recovery()) return Status::Ok();
  meta.clear_point_in_time_recovery();
  {
    LockedShards quiet(pipeline_, table.all_shards());
    TW_RETURN_IF_ERROR(PersistMeta(meta));
    table.set_meta(std::move(meta));
  }
  // No change writes history any more: forget it.
  const std::string begin = storage::IndexEntryPrefix(storage::kHistoryOrdinal);
  const std::string end = storage::IndexEntryPrefix(storage::kHistoryOrdinal + 1);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_.DeleteRange(sync, table.index_entries(), begin, end);
  return s.ok() ? Status::Ok() : ToStatus(s);
}

Status Catalog::ExpireStreams() {
  std::unique_lock lock(mu_);
  for (const auto& [name, table] : tables_) {
    v1::TableMeta meta = table->meta();
    if (!PruneStreams(meta)) continue;
    TW_RETURN_IF_ERROR(PersistMeta(meta));
    table->set_meta(std::move(meta));
  }
  for (auto it = retired_.begin(); it != retired_.end();) {
    TableState& table = *it->second;
    v1::TableMeta meta = table.meta();
    if (!PruneStreams(meta)) {
      ++it;
      continue;
    }
    rocksdb::WriteBatch batch;
    const bool reclaim = meta.disabled_streams_size() == 0;
    if (reclaim) {
      batch.Delete(&default_cf_, RetiredTableKey(table.id()));
      for (uint32_t s = 0; s < table.shard_count(); ++s) {
        batch.Delete(&default_cf_, storage::ShardFloorKey(table.id(), s));
      }
    } else {
      batch.Put(&default_cf_, RetiredTableKey(table.id()), meta.SerializeAsString());
    }
    TW_RETURN_IF_ERROR(WriteSynced(batch));
    if (!reclaim) {
      table.set_meta(std::move(meta));
      ++it;
      continue;
    }
    // Entry first: a crash before the drop leaves an orphan column family, dropped at open.
    db_.DropColumnFamily(table.log()).PermitUncheckedError();
    it = retired_.erase(it);
  }
  return Status::Ok();
}

}  // namespace tidewater
