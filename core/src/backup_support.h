// Private: the pieces of the backup role that taking backups and restores
// (engine_backups.cc) and copying backups between tidewaterds (engine_backup_copy.cc) share.
// Defined in engine_backups.cc.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include "tidewater/core/status.h"
#include "tidewater/core/table_backups.h"
#include "tidewater/v1/catalog.pb.h"

namespace tidewater {

// A directory in the backup dir whose name starts with this is never a backup: one being
// written, received or deleted. The next open removes it.
inline constexpr const char* kTemporaryPrefix = ".tmp-";

// BackupNotFoundException for backup `id`.
Status BackupNotFound(const std::string& id);

// An IOError for a failed file system step: `what`, then the system's reason.
Status FsError(const std::string& what, const std::error_code& error);

// The public description of a backup as its backup.meta holds it.
BackupDescription DescriptionOf(const v1::BackupMeta& meta);

// A new backup id, "<13-digit epoch millis>-<8 hex digits>" as DynamoDB's: the time is
// `now_micros`, the suffix random. Thread-safe.
std::string NewBackupId(int64_t now_micros);

}  // namespace tidewater
