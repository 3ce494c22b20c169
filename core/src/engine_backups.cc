// Backups, point-in-time recovery and restores (table_backups.h). A backup is a directory
// of its own under the backup dir (backup_file.h), written from one RocksDB snapshot taken
// with every shard of the table drained; a point-in-time restore first writes such a
// backup from the table's history at the requested time, so that every restore loads a
// verified file and can start again after a crash.
#include <rocksdb/file_system.h>
#include <rocksdb/iterator.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <random>

#include "backup_support.h"
#include "commit_support.h"
#include "engine_impl.h"
#include "storage_keys.h"
#include "tidewater/core/durable_file.h"
#include "tidewater/core/failure_point.h"
#include "tidewater/core/key_codec.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMicrosPerDay = 24LL * 3600 * 1'000'000;
constexpr uint32_t kMaxRecoveryPeriodDays = 35;
constexpr size_t kRestoreBatchItems = 1000;

}  // namespace

Status BackupNotFound(const std::string& id) {
  return Status(ErrorCode::kBackupNotFound, "Backup not found: " + id);
}

Status FsError(const std::string& what, const std::error_code& error) {
  return Status::IOError(what + ": " + error.message());
}

namespace {

Status TableNotFoundForBackup(const std::string& table) {
  return Status(ErrorCode::kTableNotFound, "Table not found: " + table);
}

// The source table's definition as a backup keeps it (what a restore recreates).
v1::TableMeta DefinitionToKeep(v1::TableMeta meta) {
  meta.clear_point_in_time_recovery();
  meta.clear_restore();
  meta.clear_disabled_streams();
  meta.clear_shards();
  meta.clear_stream_first_sequence();
  return meta;
}

// Calls `visit` with every live item of `table` (tombstones left out) at `snapshot`.
Status ForEachItem(rocksdb::DB& db, TableState& table, const rocksdb::Snapshot* snapshot,
                   const std::function<Status(rocksdb::Slice key, v1::StoredItem&)>& visit) {
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read, table.items()));
  v1::StoredItem stored;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!stored.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::IOError("corrupt item in table " + table.name());
    }
    if (stored.tombstone()) continue;
    TW_RETURN_IF_ERROR(visit(it->key(), stored));
  }
  return it->status().ok() ? Status::Ok() : StorageError(it->status());
}

}  // namespace

std::string_view BackupTypeName(BackupType type) {
  return type == BackupType::kSystem ? "SYSTEM" : "USER";
}

bool ParseBackupType(std::string_view name, BackupType* out) {
  if (name == "USER") {
    *out = BackupType::kUser;
  } else if (name == "SYSTEM") {
    *out = BackupType::kSystem;
  } else {
    return false;
  }
  return true;
}

std::string_view BackupStatusName(BackupStatus status) {
  switch (status) {
    case BackupStatus::kCreating:
      return "CREATING";
    case BackupStatus::kDeleted:
      return "DELETED";
    case BackupStatus::kAvailable:
      break;
  }
  return "AVAILABLE";
}

BackupDescription DescriptionOf(const v1::BackupMeta& meta) {
  BackupDescription d;
  d.backup_id = meta.backup_id();
  d.name = meta.name();
  d.type = meta.type() == v1::BackupMeta::SYSTEM ? BackupType::kSystem : BackupType::kUser;
  d.creation_time_micros = meta.creation_time_micros();
  d.expiry_time_micros = meta.expiry_time_micros();
  d.size_bytes = meta.items_bytes();
  d.item_count = meta.item_count();
  d.table = DefinitionOf(meta.table());
  d.table.approximate_item_count = meta.item_count();
  d.table.approximate_size_bytes = meta.items_bytes();
  return d;
}

std::string NewBackupId(int64_t now_micros) {
  static std::mutex mu;
  static std::mt19937_64 random{std::random_device{}()};
  uint32_t suffix;
  {
    std::lock_guard lock(mu);
    suffix = static_cast<uint32_t>(random());
  }
  char id[40];
  std::snprintf(id, sizeof id, "%013" PRId64 "-%08" PRIx32, now_micros / 1000, suffix);
  return id;
}

std::string EngineImpl::BackupDir() const {
  return options_.backup_dir.empty() ? options_.data_dir + "/backups" : options_.backup_dir;
}

rocksdb::FileSystem& EngineImpl::BackupFiles() const {
  return options_.file_system ? *options_.file_system : *rocksdb::FileSystem::Default();
}

Status EngineImpl::OpenBackups() {
  std::error_code error;
  fs::create_directories(BackupDir(), error);
  if (error) return FsError("cannot create " + BackupDir(), error);
  std::map<std::string, v1::BackupMeta> found;
  for (const fs::directory_entry& entry : fs::directory_iterator(BackupDir(), error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kTemporaryPrefix, 0) == 0) {
      // A backup a crash interrupted, or one being deleted: never visible.
      fs::remove_all(entry.path(), error);
      continue;
    }
    Result<v1::BackupMeta> meta =
        backup_file::ReadMeta(entry.path().string() + "/" + backup_file::kMetaFile);
    if (!meta.ok()) {
      std::fprintf(stderr, "event=backup_unreadable dir=%s reason=\"%s\"\n", entry.path().c_str(),
                   meta.status().message().c_str());
      continue;
    }
    found[meta->backup_id()] = std::move(*meta);
  }
  if (error) return FsError("cannot list " + BackupDir(), error);
  {
    MutexLock lock(backups_mu_);
    backups_ = std::move(found);
  }
  for (const TablePtr& table : AllTables()) {
    const v1::TableMeta meta = table->meta();
    if (meta.has_restore() && meta.restore().in_progress() && !meta.restore().import_id().empty()) {
      // An import the close interrupted: its caller is gone, and so goes its table.
      std::fprintf(stderr, "event=import_dropped table=%s import=%s\n", table->name().c_str(),
                   meta.restore().import_id().c_str());
      TW_RETURN_IF_ERROR(catalog_->Delete(table->name(), /*failed_restore=*/true).status());
      continue;
    }
    if (meta.has_restore() && meta.restore().in_progress()) {
      MutexLock lock(backups_mu_);
      ++backups_in_use_[meta.restore().load_backup_id()];
      restores_.emplace_back([this, name = table->name()] { RunRestore(name); });
    }
    if (meta.has_point_in_time_recovery() && meta.point_in_time_recovery().base_micros() == 0) {
      TW_ASSIGN_OR_RETURN(
          std::optional<HistoryStart> start,
          catalog_->EnableHistory(*table, meta.point_in_time_recovery().recovery_period_days()));
      if (start) TW_RETURN_IF_ERROR(CopyIntoHistory(*table, *start));
    }
  }
  return Status::Ok();
}

Result<v1::BackupMeta> EngineImpl::PublishBackup(
    v1::BackupMeta meta, const std::function<Status(backup_file::ItemsWriter&)>& fill) {
  const std::string final_dir = BackupDir() + "/" + meta.backup_id();
  const std::string temporary = BackupDir() + "/" + kTemporaryPrefix + meta.backup_id();
  std::error_code error;
  fs::create_directories(temporary, error);
  if (error) return FsError("cannot create " + temporary, error);
  Status written = [&]() -> Status {
    TW_ASSIGN_OR_RETURN(auto writer, backup_file::ItemsWriter::Create(
                                         BackupFiles(), temporary + "/" + backup_file::kItemsFile));
    TW_RETURN_IF_ERROR(fill(*writer));
    TW_RETURN_IF_ERROR(writer->Finish(meta));
    TW_FAILURE_POINT("backup.before_publish");
    TW_RETURN_IF_ERROR(backup_file::WriteMeta(temporary + "/" + backup_file::kMetaFile, meta));
    fs::rename(temporary, final_dir, error);
    if (error) return FsError("cannot publish " + final_dir, error);
    return SyncDirectory(BackupDir());
  }();
  if (!written.ok()) {
    fs::remove_all(temporary, error);
    return written;
  }
  MutexLock lock(backups_mu_);
  backups_[meta.backup_id()] = meta;
  return meta;
}

Result<v1::BackupMeta> EngineImpl::BackupTable(TableState& table, v1::BackupMeta::Type type,
                                               const std::string& name, int64_t expiry_micros) {
  v1::BackupMeta meta;
  const rocksdb::Snapshot* snapshot = nullptr;
  {
    // Drained: the snapshot holds every change committed before `at`, none after.
    LockedShards quiet(*pipeline_, table.all_shards());
    meta.set_creation_time_micros(quiet.AssignTime(options_.clock->NowMicros()));
    snapshot = db_->GetSnapshot();
    for (Shard* shard : table.all_shards()) {
      meta.add_shard_last_sequences(shard->committed_sequence.load(std::memory_order_acquire));
    }
  }
  meta.set_backup_id(NewBackupId(meta.creation_time_micros()));
  meta.set_name(name);
  meta.set_type(type);
  meta.set_expiry_time_micros(expiry_micros);
  *meta.mutable_table() = DefinitionToKeep(table.meta());
  Result<v1::BackupMeta> published =
      PublishBackup(std::move(meta), [&](backup_file::ItemsWriter& writer) {
        return ForEachItem(*db_, table, snapshot,
                           [&](rocksdb::Slice, v1::StoredItem& item) { return writer.Add(item); });
      });
  db_->ReleaseSnapshot(snapshot);
  return published;
}

Status EngineImpl::ForEachItemHistory(TableState& table, int64_t until_micros,
                                      const Status& too_early, const HistoryVisitor& visit) {
  const rocksdb::Snapshot* snapshot = nullptr;
  {
    // Drained: every change with a commit time at or before `until_micros` is in the
    // snapshot, as long as that time is before `now` (later commits get `now` or later).
    LockedShards quiet(*pipeline_, table.all_shards());
    const int64_t now = quiet.AssignTime(options_.clock->NowMicros());
    if (until_micros >= now) return too_early;
    snapshot = db_->GetSnapshot();
  }
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  read.fill_cache = false;
  const std::string begin = storage::IndexEntryPrefix(storage::kHistoryOrdinal);
  const std::string end = storage::IndexEntryPrefix(storage::kHistoryOrdinal + 1);
  const rocksdb::Slice upper(end);
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, table.index_entries()));
  // One item's entries are contiguous, oldest first.
  std::string item_key;
  std::vector<HistoryEntry> entries;
  Status status;
  for (it->Seek(begin); status.ok() && it->Valid(); it->Next()) {
    const std::string_view key = storage::HistoryItemKey(it->key());
    if (key != item_key) {
      if (!entries.empty()) status = visit(entries);
      entries.clear();
      item_key.assign(key);
    }
    HistoryEntry& entry = entries.emplace_back();
    entry.commit_micros = storage::HistoryCommitMicros(it->key());
    if (!entry.state.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      status = Status::IOError("corrupt history entry in table " + table.name());
    }
  }
  if (status.ok() && !entries.empty()) status = visit(entries);
  if (status.ok() && !it->status().ok()) status = StorageError(it->status());
  it.reset();
  db_->ReleaseSnapshot(snapshot);
  return status;
}

namespace {

// The newest of an item's entries (oldest first) at or before `time` (null: none).
const v1::StoredItem* StateAt(const std::vector<HistoryEntry>& entries, int64_t time) {
  const v1::StoredItem* state = nullptr;
  for (const HistoryEntry& entry : entries) {
    if (entry.commit_micros > time) break;
    state = &entry.state;
  }
  return state;
}

bool Exists(const v1::StoredItem* state) { return state != nullptr && !state->tombstone(); }

Status InvalidExportTime(const std::string& why) {
  return Status(ErrorCode::kInvalidExportTime, why);
}

}  // namespace

Result<v1::BackupMeta> EngineImpl::BackupHistoryAt(TableState& table, int64_t time_micros) {
  v1::BackupMeta meta;
  meta.set_creation_time_micros(time_micros);
  meta.set_backup_id(NewBackupId(options_.clock->NowMicros()));
  meta.set_name("point in time restore of " + table.name());
  meta.set_type(v1::BackupMeta::RESTORE);
  *meta.mutable_table() = DefinitionToKeep(table.meta());
  const Status too_early(ErrorCode::kInvalidRestoreTime,
                         "Restore time must be before the latest restorable time");
  return PublishBackup(std::move(meta), [&](backup_file::ItemsWriter& writer) {
    return ForEachItemHistory(table, time_micros, too_early,
                              [&](const std::vector<HistoryEntry>& entries) -> Status {
                                const v1::StoredItem* state = StateAt(entries, time_micros);
                                return Exists(state) ? writer.Add(*state) : Status::Ok();
                              });
  });
}

Result<TablePtr> EngineImpl::ExportableTable(const std::string& table_name, int64_t from_micros,
                                             int64_t to_micros) {
  Result<TablePtr> found = FindTable(table_name);
  if (!found.ok()) return TableNotFoundForBackup(table_name);
  const ContinuousBackupsDescription pitr = ContinuousBackupsOf((*found)->meta());
  if (!pitr.point_in_time_recovery || pitr.earliest_restorable_micros == 0) {
    return Status(ErrorCode::kPointInTimeRecoveryUnavailable,
                  "Point in time recovery is not enabled for table '" + table_name + "'");
  }
  if (from_micros < pitr.earliest_restorable_micros) {
    return InvalidExportTime("Export time is before the earliest restorable time of the table");
  }
  if (to_micros > pitr.latest_restorable_micros) {
    return InvalidExportTime("Export time is after the latest restorable time of the table");
  }
  return found;
}

Status EngineImpl::ReadTableAt(const std::string& table_name, int64_t time_micros,
                               const std::function<Status(const Item& item)>& visit) {
  TW_ASSIGN_OR_RETURN(TablePtr table, ExportableTable(table_name, time_micros, time_micros));
  return ForEachItemHistory(*table, time_micros,
                            InvalidExportTime("Export time must be in the past"),
                            [&](const std::vector<HistoryEntry>& entries) -> Status {
                              const v1::StoredItem* state = StateAt(entries, time_micros);
                              if (!Exists(state)) return Status::Ok();
                              TW_ASSIGN_OR_RETURN(const Item item, FromProto(state->attributes()));
                              return visit(item);
                            });
}

Status EngineImpl::ReadChangesBetween(
    const std::string& table_name, int64_t from_micros, int64_t to_micros,
    const std::function<Status(const ItemChangeOverWindow& change)>& visit) {
  if (from_micros >= to_micros) {
    return InvalidExportTime("The export's from time must be before its to time");
  }
  TW_ASSIGN_OR_RETURN(TablePtr table, ExportableTable(table_name, from_micros, to_micros));
  const KeySchema& schema = table->key_schema();
  return ForEachItemHistory(
      *table, to_micros, InvalidExportTime("Export time must be in the past"),
      [&](const std::vector<HistoryEntry>& entries) -> Status {
        ItemChangeOverWindow change;
        for (const HistoryEntry& entry : entries) {
          if (entry.commit_micros > from_micros && entry.commit_micros <= to_micros) {
            change.last_change_micros = entry.commit_micros;
          }
        }
        if (change.last_change_micros == 0) return Status::Ok();  // unchanged in the window
        const v1::StoredItem* before = StateAt(entries, from_micros);
        const v1::StoredItem* after = StateAt(entries, to_micros);
        if (!Exists(before) && !Exists(after)) return Status::Ok();
        if (Exists(before)) {
          TW_ASSIGN_OR_RETURN(change.before, FromProto(before->attributes()));
        }
        if (Exists(after)) {
          TW_ASSIGN_OR_RETURN(change.after, FromProto(after->attributes()));
        }
        change.keys = KeyOf(schema, change.after ? *change.after : *change.before);
        return visit(change);
      });
}

Status EngineImpl::RemoveBackup(const std::string& backup_id) {
  {
    // Checked and erased at one instant: a backup a restore holds stays, and of a
    // DeleteBackup racing maintenance one removes the files and the other sees it gone.
    MutexLock lock(backups_mu_);
    if (backups_in_use_.count(backup_id) != 0) {
      return Status(ErrorCode::kBackupInUse,
                    "Backup is being used to restore a table: " + backup_id);
    }
    if (backups_.erase(backup_id) == 0) return BackupNotFound(backup_id);
  }
  // Renamed first, so that a crash halfway leaves nothing that looks like a backup.
  const std::string doomed = BackupDir() + "/" + kTemporaryPrefix + backup_id;
  std::error_code error;
  fs::rename(BackupDir() + "/" + backup_id, doomed, error);
  if (error) return FsError("cannot delete backup " + backup_id, error);
  fs::remove_all(doomed, error);
  return error ? FsError("cannot delete backup " + backup_id, error) : Status::Ok();
}

Result<BackupDescription> EngineImpl::CreateBackup(const std::string& table_name,
                                                   const std::string& backup_name) {
  if (backup_name.size() < 3 || backup_name.size() > 255 ||
      backup_name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789_.-") != std::string::npos) {
    return Status::Validation(
        "1 validation error detected: Value '" + backup_name +
        "' at 'backupName' failed to satisfy constraint: Member must satisfy regular expression "
        "pattern: [a-zA-Z0-9_.-]+ and have length between 3 and 255");
  }
  Result<TablePtr> table = FindTable(table_name);
  if (!table.ok()) return TableNotFoundForBackup(table_name);
  TW_ASSIGN_OR_RETURN(v1::BackupMeta meta,
                      BackupTable(**table, v1::BackupMeta::USER, backup_name, 0));
  return DescriptionOf(meta);
}

Result<BackupDescription> EngineImpl::DescribeBackup(const std::string& backup_id) {
  MutexLock lock(backups_mu_);
  auto it = backups_.find(backup_id);
  if (it == backups_.end() || it->second.type() == v1::BackupMeta::RESTORE) {
    return BackupNotFound(backup_id);
  }
  return DescriptionOf(it->second);
}

Result<ListBackupsPage> EngineImpl::ListBackups(const ListBackupsRequest& request) {
  std::vector<const v1::BackupMeta*> matching;
  MutexLock lock(backups_mu_);
  for (const auto& [id, meta] : backups_) {
    if (meta.type() == v1::BackupMeta::RESTORE) continue;
    const BackupType type =
        meta.type() == v1::BackupMeta::SYSTEM ? BackupType::kSystem : BackupType::kUser;
    if (request.type && *request.type != type) continue;
    if (request.table && meta.table().name() != *request.table) continue;
    if (request.created_at_or_after_micros &&
        meta.creation_time_micros() < *request.created_at_or_after_micros) {
      continue;
    }
    if (request.created_before_micros &&
        meta.creation_time_micros() >= *request.created_before_micros) {
      continue;
    }
    matching.push_back(&meta);
  }
  std::sort(matching.begin(), matching.end(), [](const auto* a, const auto* b) {
    return std::pair(a->creation_time_micros(), a->backup_id()) <
           std::pair(b->creation_time_micros(), b->backup_id());
  });
  auto begin = matching.begin();
  if (request.exclusive_start_backup_id) {
    begin = std::find_if(matching.begin(), matching.end(), [&](const auto* meta) {
      return meta->backup_id() == *request.exclusive_start_backup_id;
    });
    if (begin != matching.end()) ++begin;
  }
  ListBackupsPage page;
  for (auto it = begin; it != matching.end(); ++it) {
    if (request.limit != 0 && page.backups.size() == request.limit) {
      page.last_evaluated_backup_id = page.backups.back().backup_id;
      break;
    }
    page.backups.push_back(DescriptionOf(**it));
  }
  return page;
}

Result<BackupDescription> EngineImpl::DeleteBackup(const std::string& backup_id) {
  BackupDescription description;
  {
    MutexLock lock(backups_mu_);
    auto it = backups_.find(backup_id);
    if (it == backups_.end() || it->second.type() == v1::BackupMeta::RESTORE) {
      return BackupNotFound(backup_id);
    }
    description = DescriptionOf(it->second);
  }
  TW_RETURN_IF_ERROR(RemoveBackup(backup_id));  // refuses a backup a restore holds
  description.status = BackupStatus::kDeleted;
  return description;
}

Result<TableDescription> EngineImpl::RestoreTableFromBackup(const std::string& backup_id,
                                                            const CreateTableRequest& table) {
  v1::BackupMeta load;
  {
    MutexLock lock(backups_mu_);
    auto it = backups_.find(backup_id);
    if (it == backups_.end() || it->second.type() == v1::BackupMeta::RESTORE) {
      return BackupNotFound(backup_id);
    }
    load = it->second;
  }
  v1::RestoreMeta restore;
  restore.set_source_backup_id(backup_id);
  restore.set_restore_time_micros(load.creation_time_micros());
  return StartRestore(load, table, std::move(restore));
}

Result<TableDescription> EngineImpl::StartRestore(const v1::BackupMeta& load,
                                                  const CreateTableRequest& table,
                                                  v1::RestoreMeta restore) {
  TW_RETURN_IF_ERROR(RefuseInClusterMode("Restoring a table"));
  if (DefinitionOf(load.table()).key_schema != table.key_schema) {
    return Status::Validation("The restored table's key schema must be the source table's");
  }
  if (catalog_->FindIncludingRestoring(table.name).ok()) {
    return Status(ErrorCode::kTableAlreadyExists, "Table already exists: " + table.name);
  }
  // Verified before anything is created: a damaged backup is never restored half.
  TW_RETURN_IF_ERROR(backup_file::VerifyItems(
      BackupFiles(), BackupDir() + "/" + load.backup_id() + "/" + backup_file::kItemsFile, load));
  restore.set_source_table(load.table().name());
  restore.set_source_table_id(load.table().table_id());
  restore.set_in_progress(true);
  restore.set_load_backup_id(load.backup_id());
  restore.set_backfill_stream(table.backfill_stream && table.stream.enabled);
  {
    MutexLock lock(backups_mu_);
    ++backups_in_use_[load.backup_id()];
  }
  Result<TableDescription> created = catalog_->Create(table, &restore);
  MutexLock lock(backups_mu_);
  if (!created.ok()) {
    if (--backups_in_use_[load.backup_id()] == 0) backups_in_use_.erase(load.backup_id());
    return created;
  }
  restores_.emplace_back([this, name = table.name] { RunRestore(name); });
  return created;
}

void EngineImpl::RunRestore(const std::string& table_name) {
  Result<TablePtr> found = catalog_->FindIncludingRestoring(table_name);
  if (!found.ok()) return;
  TableState& table = **found;
  const v1::RestoreMeta restore = table.meta().restore();
  v1::BackupMeta load;
  {
    MutexLock lock(backups_mu_);
    auto it = backups_.find(restore.load_backup_id());
    if (it != backups_.end()) load = it->second;
  }
  const std::string items =
      BackupDir() + "/" + restore.load_backup_id() + "/" + backup_file::kItemsFile;
  bool loaded = false;
  Status status = [&]() -> Status {
    if (load.backup_id().empty()) return BackupNotFound(restore.load_backup_id());
    TW_RETURN_IF_ERROR(backup_file::VerifyItems(BackupFiles(), items, load));
    TW_ASSIGN_OR_RETURN(auto reader, backup_file::ItemsReader::Open(BackupFiles(), items));
    std::vector<v1::StoredItem> batch;
    for (;;) {
      if (restores_stopping_) return Status::Ok();  // goes on after the next open
      batch.emplace_back();
      TW_ASSIGN_OR_RETURN(const bool more, reader->Next(batch.back()));
      if (!more) batch.pop_back();
      if (batch.size() == kRestoreBatchItems || (!more && !batch.empty())) {
        TW_RETURN_IF_ERROR(WriteRestoredItems(table, batch));
        batch.clear();
        TW_FAILURE_POINT("restore.after_batch");
      }
      if (!more) break;
    }
    loaded = true;
    return Status::Ok();
  }();
  if (status.ok() && !loaded) return;  // stopped by Close: the hold on the backup stays
  bool drop_load = false;
  {
    MutexLock lock(backups_mu_);
    // The table turns ACTIVE and its backup is free again at one instant: whoever sees the
    // restored table can delete the backup at once.
    if (status.ok()) status = catalog_->FinishRestore(table);
    if (--backups_in_use_[restore.load_backup_id()] <= 0) {
      backups_in_use_.erase(restore.load_backup_id());
      drop_load = load.type() == v1::BackupMeta::RESTORE;
    }
  }
  if (!status.ok()) {
    // Never a half-restored table: the failed restore's table goes.
    std::fprintf(stderr, "event=restore_failed table=%s backup=%s reason=\"%s\"\n",
                 table_name.c_str(), restore.load_backup_id().c_str(), status.message().c_str());
    (void)catalog_->Delete(table_name, /*failed_restore=*/true);
  }
  if (drop_load) (void)RemoveBackup(load.backup_id());
}

Status EngineImpl::WriteRestoredItems(TableState& table, std::vector<v1::StoredItem>& items) {
  std::vector<Item> loaded;
  std::vector<v1::Version> versions;
  loaded.reserve(items.size());
  versions.reserve(items.size());
  for (v1::StoredItem& stored : items) {
    TW_ASSIGN_OR_RETURN(Item item, FromProto(stored.attributes()));
    loaded.push_back(std::move(item));
    versions.push_back(stored.version());
  }
  return WriteLoadedItems(table, std::move(loaded), &versions);
}

Status EngineImpl::WriteLoadedItems(TableState& table, std::vector<Item> items,
                                    const std::vector<v1::Version>* versions) {
  TW_ASSIGN_OR_RETURN(TablePtr shared, catalog_->FindIncludingRestoring(table.name()));
  const KeySchema& schema = table.key_schema();
  std::vector<Target> targets;
  targets.reserve(items.size());
  for (Item& item : items) {
    Target t;
    t.table = shared;
    t.mutation.kind = Mutation::Kind::kPut;
    t.mutation.table = table.name();
    const AttributeValue* sk = schema.sort_key ? &item.at(schema.sort_key->name) : nullptr;
    t.key = keycodec::EncodeItemKey(item.at(schema.partition_key.name), sk);
    t.shard = table.ShardFor(keycodec::ReadHash(t.key));
    t.mutation.item = std::move(item);
    targets.push_back(std::move(t));
  }
  std::optional<LockedShards> locked;
  LockTargetShards(*pipeline_, targets, locked);
  const auto config = table.config();
  const bool backfill = config->stream.enabled && table.meta().restore().backfill_stream();
  static const std::string kNoTransaction;
  const WriteOrigin origin{v1::RESTORE};
  const int64_t now = locked->AssignTime(options_.clock->NowMicros());
  const RecordContext context{&options_.region,
                              &origin,
                              now,
                              &kNoTransaction,
                              0,
                              nullptr,
                              options_.replicated_log != nullptr};
  rocksdb::WriteBatch write;
  CommitManifest manifest;
  std::vector<IndexWorkDone> work_done;
  for (size_t i = 0; i < targets.size(); ++i) {
    Target& t = targets[i];
    table.shard(t.shard).commit_mu.AssertHeld();  // by `locked`
    TW_RETURN_IF_ERROR(LoadCurrent(*db_, table.shard(t.shard), t));
    const v1::Version version =
        versions != nullptr ? (*versions)[i] : hlc_.LocalVersion(t.current_version);
    // Written already by this restore before a restart: the same item, the same version.
    if (versions != nullptr && t.current &&
        t.current_version.hlc_micros() == version.hlc_micros() &&
        t.current_version.region() == version.region()) {
      continue;
    }
    t.next = t.mutation.item;
    t.changes = true;
    // Backfilled: each item enters the stream once, as the skip above holds after a restart.
    const uint64_t sequence = backfill ? locked->AssignSequence(table.shard(t.shard)) : 0;
    PreparedChange prepared = PrepareChange(t, version, sequence, *config, context);
    prepared.AddTo(write);
    if (prepared.committed) manifest.push_back(std::move(*prepared.committed));
    work_done.emplace_back(*this, table, prepared);
  }
  return locked->Commit(write, std::move(manifest));
}

Result<TableDescription> EngineImpl::DeleteTable(const std::string& name) {
  Result<TablePtr> table = FindTable(name);
  if (table.ok()) {
    const v1::TableMeta meta = (*table)->meta();
    if (meta.has_point_in_time_recovery() && !meta.deletion_protection()) {
      // DynamoDB keeps a SYSTEM backup of a table deleted with recovery on, for the period.
      const int64_t expiry = options_.clock->NowMicros() +
                             meta.point_in_time_recovery().recovery_period_days() * kMicrosPerDay;
      TW_RETURN_IF_ERROR(
          BackupTable(**table, v1::BackupMeta::SYSTEM, name + "$DeletedTableBackup", expiry)
              .status());
    }
  }
  TW_ASSIGN_OR_RETURN(TableDescription deleted, catalog_->Delete(name));
  if (options_.replicated_log != nullptr) options_.replicated_log->CloseTable(TableName(name));
  return deleted;
}

// --- Point-in-time recovery ---

ContinuousBackupsDescription EngineImpl::ContinuousBackupsOf(const v1::TableMeta& meta) const {
  ContinuousBackupsDescription d;
  if (!meta.has_point_in_time_recovery()) return d;
  const v1::PointInTimeRecoveryMeta& pitr = meta.point_in_time_recovery();
  d.point_in_time_recovery = true;
  d.recovery_period_days = pitr.recovery_period_days();
  if (pitr.base_micros() != 0) {
    const int64_t now = options_.clock->NowMicros();
    d.earliest_restorable_micros =
        std::max(pitr.base_micros(), now - pitr.recovery_period_days() * kMicrosPerDay);
    d.latest_restorable_micros = std::max(d.earliest_restorable_micros, now - 1);
  }
  return d;
}

Result<ContinuousBackupsDescription> EngineImpl::UpdateContinuousBackups(
    const std::string& table_name, bool enabled, std::optional<uint32_t> recovery_period_days) {
  Result<TablePtr> found = FindTable(table_name);
  if (!found.ok()) return TableNotFoundForBackup(table_name);
  TableState& table = **found;
  if (!enabled) {
    TW_RETURN_IF_ERROR(catalog_->DisableHistory(table));
    return ContinuousBackupsOf(table.meta());
  }
  const uint32_t days = recovery_period_days.value_or(kMaxRecoveryPeriodDays);
  if (days < 1 || days > kMaxRecoveryPeriodDays) {
    return Status::Validation("RecoveryPeriodInDays must be between 1 and 35");
  }
  TW_ASSIGN_OR_RETURN(std::optional<HistoryStart> start, catalog_->EnableHistory(table, days));
  if (start) TW_RETURN_IF_ERROR(CopyIntoHistory(table, *start));
  return ContinuousBackupsOf(table.meta());
}

Status EngineImpl::CopyIntoHistory(TableState& table, HistoryStart start) {
  // The copy is the state just before `start`: changes from `start` on are the writers'.
  const int64_t copy_micros = start.start_micros - 1;
  rocksdb::WriteBatch batch;
  const auto flush = [&]() -> Status {
    rocksdb::Status s = db_->Write(write_options_, &batch);
    batch.Clear();
    return s.ok() ? Status::Ok() : StorageError(s);
  };
  Status copied = ForEachItem(
      *db_, table, start.snapshot, [&](rocksdb::Slice key, v1::StoredItem& item) -> Status {
        batch.Put(table.index_entries(),
                  storage::HistoryKey(std::string_view(key.data(), key.size()), copy_micros),
                  item.SerializeAsString());
        return batch.Count() >= kRestoreBatchItems ? flush() : Status::Ok();
      });
  db_->ReleaseSnapshot(start.snapshot);
  TW_RETURN_IF_ERROR(copied);
  TW_RETURN_IF_ERROR(flush());
  return catalog_->SetHistoryBase(table, start.start_micros);
}

Result<ContinuousBackupsDescription> EngineImpl::DescribeContinuousBackups(
    const std::string& table_name) {
  Result<TablePtr> found = FindTable(table_name);
  if (!found.ok()) return TableNotFoundForBackup(table_name);
  return ContinuousBackupsOf((*found)->meta());
}

Result<TableDescription> EngineImpl::RestoreTableToPointInTime(
    const std::string& source, std::optional<int64_t> restore_time_micros,
    const CreateTableRequest& table) {
  Result<TablePtr> found = FindTable(source);
  if (!found.ok()) {
    return Status(ErrorCode::kSourceTableNotFound, "Source table not found: " + source);
  }
  const ContinuousBackupsDescription pitr = ContinuousBackupsOf((*found)->meta());
  if (!pitr.point_in_time_recovery || pitr.earliest_restorable_micros == 0) {
    return Status(ErrorCode::kPointInTimeRecoveryUnavailable,
                  "Point in time recovery is not enabled for table '" + source + "'");
  }
  const int64_t time = restore_time_micros.value_or(pitr.latest_restorable_micros);
  if (time < pitr.earliest_restorable_micros || time > pitr.latest_restorable_micros) {
    return Status(ErrorCode::kInvalidRestoreTime,
                  "Restore time must be between the earliest and the latest restorable date "
                  "times of the source table");
  }
  if (catalog_->FindIncludingRestoring(table.name).ok()) {
    return Status(ErrorCode::kTableAlreadyExists, "Table already exists: " + table.name);
  }
  TW_ASSIGN_OR_RETURN(v1::BackupMeta load, BackupHistoryAt(**found, time));
  v1::RestoreMeta restore;
  restore.set_restore_time_micros(time);
  Result<TableDescription> started = StartRestore(load, table, std::move(restore));
  if (!started.ok()) (void)RemoveBackup(load.backup_id());
  return started;
}

Result<size_t> EngineImpl::CompactHistory(TableState& table, int64_t cutoff_micros) {
  const std::string begin = storage::IndexEntryPrefix(storage::kHistoryOrdinal);
  const std::string end = storage::IndexEntryPrefix(storage::kHistoryOrdinal + 1);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions read;
  read.iterate_upper_bound = &upper;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, table.index_entries()));
  rocksdb::WriteBatch batch;
  size_t removed = 0;
  // Per item, of its entries at or before the cutoff only the newest is needed (the state
  // at the cutoff), and not even that when it is a deletion.
  std::string item_key;
  std::optional<std::string> newest_old;  // the newest entry key at or before the cutoff
  v1::StoredItem stored;
  const auto finish_item = [&]() -> Status {
    if (newest_old && stored.tombstone()) {
      batch.Delete(table.index_entries(), *newest_old);
      ++removed;
    }
    newest_old.reset();
    if (batch.Count() < kRestoreBatchItems) return Status::Ok();
    rocksdb::Status s = db_->Write(write_options_, &batch);
    batch.Clear();
    return s.ok() ? Status::Ok() : StorageError(s);
  };
  for (it->Seek(begin); it->Valid(); it->Next()) {
    const std::string_view key = storage::HistoryItemKey(it->key());
    if (key != item_key) {
      TW_RETURN_IF_ERROR(finish_item());
      item_key.assign(key);
    }
    if (storage::HistoryCommitMicros(it->key()) > cutoff_micros) continue;
    if (newest_old) {
      batch.Delete(table.index_entries(), *newest_old);
      ++removed;
    }
    newest_old = it->key().ToString();
    if (!stored.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::IOError("corrupt history entry in table " + table.name());
    }
  }
  TW_RETURN_IF_ERROR(it->status().ok() ? Status::Ok() : StorageError(it->status()));
  TW_RETURN_IF_ERROR(finish_item());
  rocksdb::Status s = db_->Write(write_options_, &batch);
  return s.ok() ? Result<size_t>(removed) : StorageError(s);
}

Result<size_t> EngineImpl::RunBackupMaintenance() {
  const int64_t now = options_.clock->NowMicros();
  size_t removed = 0;
  std::vector<std::string> expired;
  {
    MutexLock lock(backups_mu_);
    for (const auto& [id, meta] : backups_) {
      if (meta.expiry_time_micros() != 0 && meta.expiry_time_micros() <= now) {
        expired.push_back(id);
      }
    }
  }
  for (const std::string& id : expired) {
    const Status status = RemoveBackup(id);
    // Deleted meanwhile, or held by a restore: the next pass takes it.
    if (status.code() == ErrorCode::kBackupNotFound || status.code() == ErrorCode::kBackupInUse) {
      continue;
    }
    TW_RETURN_IF_ERROR(status);
    ++removed;
  }
  for (const TablePtr& table : AllTables()) {
    const v1::TableMeta meta = table->meta();
    if (!meta.has_point_in_time_recovery() || meta.point_in_time_recovery().base_micros() == 0) {
      continue;
    }
    const int64_t cutoff =
        now - meta.point_in_time_recovery().recovery_period_days() * kMicrosPerDay;
    if (cutoff <= meta.point_in_time_recovery().base_micros()) continue;
    TW_ASSIGN_OR_RETURN(const size_t compacted, CompactHistory(*table, cutoff));
    removed += compacted;
  }
  return removed;
}

}  // namespace tidewater
