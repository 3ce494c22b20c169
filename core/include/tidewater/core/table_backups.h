// The backup role of the engine: on-demand backups, continuous backups with point-in-time
// recovery, and restores into new tables (DynamoDB's CreateBackup ... RestoreTableToPointInTime).
//
// Guarantees (tested in tests/core/table_backups_test.cc):
//  * A backup holds the table as of one instant: every shard drained and read at one RocksDB
//    snapshot, with each shard's last sequence at it (its log position).
//  * A backup is a file of its own (EngineOptions::backup_dir), independent of the table's
//    RocksDB files, with a SHA-256 checksum; a damaged backup is refused before a restore
//    creates anything. A backup is visible only once complete (an interrupted one leaves
//    nothing behind after the next open).
//  * With point-in-time recovery on, every change of the table is also kept, by its commit
//    time (the change record's approximate_creation_time_micros: one time for all changes
//    of a transaction), for the recovery period; a restore to time T yields exactly the
//    changes committed at or before T, none after.
//  * A restore creates a new table, described with a RestoreSummary and status CREATING
//    until every item is in; reads and writes of it are refused meanwhile. Its stream starts
//    empty (the new table has no stream unless the request enables one, and restored items
//    are not logged), unless the request asks for a backfill (CreateTableRequest::
//    backfill_stream): then each restored item enters the stream once, as an INSERT with
//    provenance RESTORE, also across a crash. A restore interrupted by a crash is finished
//    after the next open.
//
// Thread safety: every method is safe to call concurrently. Exceptions never escape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tidewater/core/status.h"
#include "tidewater/core/table.h"

namespace tidewater {

enum class BackupType { kUser, kSystem };
std::string_view BackupTypeName(BackupType type);  // "USER", "SYSTEM"
bool ParseBackupType(std::string_view name, BackupType* out);

enum class BackupStatus { kCreating, kAvailable, kDeleted };
std::string_view BackupStatusName(BackupStatus status);  // "CREATING", "AVAILABLE", "DELETED"

struct BackupDescription {
  std::string backup_id;  // "<13-digit epoch millis>-<8 hex digits>", unique
  std::string name;
  BackupType type = BackupType::kUser;
  BackupStatus status = BackupStatus::kAvailable;
  int64_t creation_time_micros = 0;  // the instant the backup holds the table at
  int64_t expiry_time_micros = 0;    // a SYSTEM backup's deletion time; 0: kept until deleted
  uint64_t size_bytes = 0;           // the backup's items, as stored
  uint64_t item_count = 0;
  // The source table as of the backup: name, id, creation time, key schema, stream, TTL,
  // settings and secondary indexes (no shards; approximate counts are the backup's).
  TableDescription table;
};

struct ListBackupsRequest {
  std::optional<std::string> table;                   // only this table's backups
  std::optional<int64_t> created_at_or_after_micros;  // inclusive
  std::optional<int64_t> created_before_micros;       // exclusive
  std::optional<BackupType> type;                     // none: every type
  std::optional<std::string> exclusive_start_backup_id;
  size_t limit = 0;  // 0: no limit
};

// Backups in creation order (then by id).
struct ListBackupsPage {
  std::vector<BackupDescription> backups;
  // Set when more may follow: the id of the page's last backup.
  std::optional<std::string> last_evaluated_backup_id;
};

// One item's change over a window of time (an incremental export's line).
struct ItemChangeOverWindow {
  Item keys;
  std::optional<Item> before;      // the item at the window's start (absent: it did not exist)
  std::optional<Item> after;       // the item at its end (absent: deleted)
  int64_t last_change_micros = 0;  // commit time of its last change in the window
};

// What LoadImportedItems wrote and left out.
struct ImportBatchResult {
  uint64_t written = 0;
  // (position in the batch, why): items that are not valid items of the table.
  std::vector<std::pair<size_t, Status>> rejected;
};

struct ContinuousBackupsDescription {
  bool point_in_time_recovery = false;
  uint32_t recovery_period_days = 35;
  // While enabled: the range of times a restore may name (epoch microseconds).
  int64_t earliest_restorable_micros = 0;
  int64_t latest_restorable_micros = 0;
};

class TableBackups {
 public:
  virtual ~TableBackups() = default;

  // A USER backup of `table` as of now, complete (AVAILABLE) when this returns.
  // TableNotFoundException: no such table; ValidationException: a bad name.
  virtual Result<BackupDescription> CreateBackup(const std::string& table,
                                                 const std::string& backup_name) = 0;
  // BackupNotFoundException when there is no such backup.
  virtual Result<BackupDescription> DescribeBackup(const std::string& backup_id) = 0;
  virtual Result<ListBackupsPage> ListBackups(const ListBackupsRequest& request) = 0;
  // Deletes the backup; answers its description with status DELETED.
  // BackupNotFoundException; BackupInUseException while a restore reads it.
  virtual Result<BackupDescription> DeleteBackup(const std::string& backup_id) = 0;
  // Creates `table` (its key schema must be the backup's; indexes, settings and stream as
  // the caller chose from the backup and the request's overrides) and fills it with the
  // backup's items in the background. The backup is verified first: a damaged one is
  // refused (InternalServerError naming the damage) and nothing is created.
  // BackupNotFoundException, TableAlreadyExistsException.
  virtual Result<TableDescription> RestoreTableFromBackup(const std::string& backup_id,
                                                          const CreateTableRequest& table) = 0;

  // Turns point-in-time recovery on (keeping every change for `recovery_period_days`,
  // 1-35, default 35) or off (forgetting the kept changes). ValidationException for a
  // period out of range; TableNotFoundException.
  virtual Result<ContinuousBackupsDescription> UpdateContinuousBackups(
      const std::string& table, bool enabled, std::optional<uint32_t> recovery_period_days) = 0;
  virtual Result<ContinuousBackupsDescription> DescribeContinuousBackups(
      const std::string& table) = 0;
  // Creates `table` with `source`'s items as of `restore_time_micros` (none: the latest
  // restorable time), filled in the background. PointInTimeRecoveryUnavailableException
  // when recovery is off; InvalidRestoreTimeException outside the restorable range;
  // TableAlreadyExistsException; SourceTableNotFoundException.
  virtual Result<TableDescription> RestoreTableToPointInTime(
      const std::string& source, std::optional<int64_t> restore_time_micros,
      const CreateTableRequest& table) = 0;

  // Exports (point-in-time recovery must be on and cover the times; InvalidExportTimeException
  // otherwise, or when a time is not yet past; PointInTimeRecoveryUnavailableException;
  // TableNotFoundException). Each reads one snapshot taken after the times have passed.
  // Every item of `table` as of `time_micros`, in storage order.
  virtual Status ReadTableAt(const std::string& table, int64_t time_micros,
                             const std::function<Status(const Item& item)>& visit) = 0;
  // Every item changed in (from_micros, to_micros], with its states at both ends (items
  // whose state at both ends is the same absence are left out).
  virtual Status ReadChangesBetween(
      const std::string& table, int64_t from_micros, int64_t to_micros,
      const std::function<Status(const ItemChangeOverWindow& change)>& visit) = 0;

  // Imports (ImportTable): the caller reads the files and hands the items over in batches.
  // Creates `table` (TableAlreadyExistsException, ValidationException as CreateTable) to be
  // filled by import `import_id`: CREATING, reads and writes refused, no stream records
  // unless `table.backfill_stream`.
  // An import not finished when the engine closes (a stop, a crash) is dropped at the next
  // open: its table goes, so no half-imported table is ever visible.
  virtual Result<TableDescription> BeginImport(const CreateTableRequest& table,
                                               const std::string& import_id) = 0;
  // Writes `items` into the importing table; a later item replaces an earlier one with the
  // same key. An item that is not a valid item of the table (a key attribute missing or of
  // the wrong type, an index key of the wrong type, too large) is left out and reported with
  // its reason, by its position in `items`; the rest are written. ResourceNotFoundException
  // when `table` is not being imported.
  virtual Result<ImportBatchResult> LoadImportedItems(const std::string& table,
                                                      std::vector<Item> items) = 0;
  // Makes the imported table ACTIVE (durably: every loaded item with it).
  virtual Status FinishImport(const std::string& table) = 0;
  // Drops an import's table (a failed or cancelled import).
  virtual Status AbandonImport(const std::string& table) = 0;

  // Copying a backup to another tidewaterd (tidewater backup copy). A backup travels as its
  // sealed description (backup.meta's bytes) and its items file, read and written in chunks.
  // BackupNotFoundException for an unknown backup.
  virtual Result<std::string> ReadBackupMeta(const std::string& backup_id) = 0;
  // Up to `length` bytes of the items file from `offset` (fewer at its end; none past it).
  virtual Result<std::string> ReadBackupItems(const std::string& backup_id, uint64_t offset,
                                              size_t length) = 0;
  // Receiving end: starts a copy from the source's backup.meta bytes (ValidationException
  // when they are not a sealed backup description) and answers the copy's id. The copy is
  // staged apart and never listed until finished; an unfinished one is gone after a reopen.
  virtual Result<std::string> BeginBackupCopy(const std::string& meta) = 0;
  // Appends items bytes at `offset` (which must be the bytes received so far: a repeated
  // chunk is accepted again, a gap is a ValidationException).
  virtual Status AppendBackupCopy(const std::string& copy_id, uint64_t offset,
                                  std::string_view data) = 0;
  // Verifies the items against the description's size and SHA-256 (a mismatch refuses the
  // copy, with a clear message, and drops it) and makes it an AVAILABLE USER backup with a
  // new backup id, the source's name, creation time and table description.
  virtual Result<BackupDescription> FinishBackupCopy(const std::string& copy_id) = 0;

  // Background work, also callable directly: deletes expired SYSTEM backups and the
  // kept changes older than each table's recovery period. Returns how many entries went.
  virtual Result<size_t> RunBackupMaintenance() = 0;
};

}  // namespace tidewater
