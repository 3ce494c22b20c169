// Copying a backup from one tidewaterd to another (table_backups.h, `tidewater backup copy`).
// The source serves a backup as its sealed backup.meta and its items file, in chunks. The
// receiving end stages the copy in `<backup dir>/.tmp-<new backup id>/` (never listed; the
// next open removes it if unfinished), appends the chunks in order, and publishes the copy
// by one rename once the items match the description's size and SHA-256. Items files go
// through the engine's FileSystem (encrypted at rest when the data directory is): the bytes
// served and received are the plain items, so that the two ends need not share a key.
#include <fcntl.h>
#include <rocksdb/file_system.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "backup_file.h"
#include "backup_support.h"
#include "engine_impl.h"
#include "tidewater/core/durable_file.h"

namespace tidewater {
namespace {

namespace fs = std::filesystem;

// An IOError for a failed system call on a file: `what`, then errno's reason.
Status SystemError(const std::string& what) {
  return FsError(what, std::error_code(errno, std::generic_category()));
}

// A file descriptor, closed when the object goes away (-1: none).
class FileHandle {
 public:
  explicit FileHandle(int fd) : fd_(fd) {}
  ~FileHandle() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }

 private:
  int fd_;
};

Status StorageError(const std::string& what, const rocksdb::IOStatus& status) {
  return Status::IOError(what + ": " + status.ToString());
}

// `length` bytes of the file at `path` in `files` from `offset`, fewer where the file ends;
// `missing` when there is no such file (the backup was deleted meanwhile).
Result<std::string> ReadFileRange(rocksdb::FileSystem& files, const std::string& path,
                                  uint64_t offset, size_t length, const Status& missing) {
  if (files.FileExists(path, rocksdb::IOOptions(), nullptr).IsNotFound()) return missing;
  std::unique_ptr<rocksdb::FSRandomAccessFile> file;
  const rocksdb::IOStatus opened =
      files.NewRandomAccessFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (!opened.ok()) return StorageError("cannot open " + path, opened);
  std::string data(length, '\0');
  size_t filled = 0;
  while (filled < length) {
    rocksdb::Slice read;
    const rocksdb::IOStatus status =
        file->Read(offset + filled, length - filled, rocksdb::IOOptions(), &read,
                   data.data() + filled, nullptr);
    if (!status.ok()) return StorageError("cannot read " + path, status);
    if (read.empty()) break;
    if (read.data() != data.data() + filled) {
      std::memmove(data.data() + filled, read.data(), read.size());
    }
    filled += read.size();
  }
  data.resize(filled);
  return data;
}

// Writes `data` into the existing file at `path` in `files` from `offset`.
Status WriteFileAt(rocksdb::FileSystem& files, const std::string& path, uint64_t offset,
                   std::string_view data) {
  std::unique_ptr<rocksdb::FSRandomRWFile> file;
  const rocksdb::IOStatus opened =
      files.NewRandomRWFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (!opened.ok()) return StorageError("cannot open " + path, opened);
  const rocksdb::IOStatus written =
      file->Write(offset, rocksdb::Slice(data.data(), data.size()), rocksdb::IOOptions(), nullptr);
  if (!written.ok()) return StorageError("cannot write " + path, written);
  const rocksdb::IOStatus closed = file->Close(rocksdb::IOOptions(), nullptr);
  return closed.ok() ? Status::Ok() : StorageError("cannot close " + path, closed);
}

Status SyncFile(const std::string& path) {
  const FileHandle file(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!file.is_open()) return SystemError("cannot open " + path);
  return ::fsync(file.fd()) == 0 ? Status::Ok() : SystemError("cannot sync " + path);
}

// Fills the staging directory `staged` of copy `copy_id` from the source's backup.meta
// bytes: their seal is checked (ValidationException when they are not a sealed backup
// description), then the copy's own description replaces them (`copy_id`, a USER backup
// kept until deleted; the source's name, creation time, table and items) beside an empty
// items file. Answers that description.
Result<v1::BackupMeta> StageCopy(rocksdb::FileSystem& files, const std::string& staged,
                                 const std::string& source_meta, const std::string& copy_id) {
  const std::string meta_path = staged + "/" + backup_file::kMetaFile;
  TW_RETURN_IF_ERROR(WriteFileAtomically(meta_path, source_meta));
  Result<v1::BackupMeta> read = backup_file::ReadMeta(meta_path);
  if (!read.ok()) {
    // ReadMeta's InternalServerError: too short, its SHA-256 does not match, or no parse.
    if (read.status().code() != ErrorCode::kInternal) return read.status();
    return Status::Validation("BackupMeta is not a sealed backup description (" +
                              read.status().message() + ")");
  }
  v1::BackupMeta copy = std::move(*read);
  copy.set_backup_id(copy_id);
  copy.set_type(v1::BackupMeta::USER);
  copy.set_expiry_time_micros(0);
  TW_RETURN_IF_ERROR(backup_file::WriteMeta(meta_path, copy));
  const std::string items_path = staged + "/" + backup_file::kItemsFile;
  std::unique_ptr<rocksdb::FSWritableFile> items;
  rocksdb::IOStatus created =
      files.NewWritableFile(items_path, rocksdb::FileOptions(), &items, nullptr);
  if (created.ok()) created = items->Close(rocksdb::IOOptions(), nullptr);
  if (!created.ok()) return StorageError("cannot create " + items_path, created);
  return copy;
}

Status NoCopyInProgress(const std::string& copy_id) {
  return Status::Validation("No backup copy " + copy_id +
                            " is in progress (it was finished or refused, or tidewaterd "
                            "restarted since it began)");
}

}  // namespace

Result<std::string> EngineImpl::ReadBackupMeta(const std::string& backup_id) {
  // Only what DescribeBackup shows is served: RESTORE backups are internal.
  TW_RETURN_IF_ERROR(DescribeBackup(backup_id).status());
  const std::string path = BackupDir() + "/" + backup_id + "/" + backup_file::kMetaFile;
  std::error_code error;
  const auto size = fs::file_size(path, error);
  if (error) {
    return error == std::errc::no_such_file_or_directory ? BackupNotFound(backup_id)
                                                         : FsError("cannot read " + path, error);
  }
  // backup.meta is written as is (it describes the table, it holds no items).
  return ReadFileRange(*rocksdb::FileSystem::Default(), path, 0, static_cast<size_t>(size),
                       BackupNotFound(backup_id));
}

Result<std::string> EngineImpl::ReadBackupItems(const std::string& backup_id, uint64_t offset,
                                                size_t length) {
  TW_ASSIGN_OR_RETURN(const BackupDescription backup, DescribeBackup(backup_id));
  if (offset >= backup.size_bytes) return std::string();
  const size_t available =
      static_cast<size_t>(std::min<uint64_t>(length, backup.size_bytes - offset));
  return ReadFileRange(BackupFiles(), BackupDir() + "/" + backup_id + "/" + backup_file::kItemsFile,
                       offset, available, BackupNotFound(backup_id));
}

Result<std::string> EngineImpl::BeginBackupCopy(const std::string& meta) {
  const std::string copy_id = NewBackupId(options_.clock->NowMicros());
  const std::string staged = BackupDir() + "/" + kTemporaryPrefix + copy_id;
  std::error_code error;
  fs::create_directories(staged, error);
  if (error) return FsError("cannot create " + staged, error);
  Result<v1::BackupMeta> copy = StageCopy(BackupFiles(), staged, meta, copy_id);
  if (!copy.ok()) {
    fs::remove_all(staged, error);
    return copy.status();
  }
  MutexLock lock(backups_mu_);
  backup_copies_[copy_id] = BackupCopyInProgress{std::move(*copy), 0};
  return copy_id;
}

Status EngineImpl::AppendBackupCopy(const std::string& copy_id, uint64_t offset,
                                    std::string_view data) {
  // Held while the chunk is written: a copy's chunks land one at a time, in order, and a
  // finish never meets one half written. (Other copies and backups wait for one write.)
  MutexLock lock(backups_mu_);
  const auto it = backup_copies_.find(copy_id);
  if (it == backup_copies_.end()) return NoCopyInProgress(copy_id);
  BackupCopyInProgress& copy = it->second;
  if (offset > copy.received) {
    return Status::Validation("Backup copy " + copy_id + " has received " +
                              std::to_string(copy.received) + " bytes: a chunk at offset " +
                              std::to_string(offset) + " would leave a gap");
  }
  // The bytes before `received` were accepted already (a chunk sent again): only the rest
  // is new.
  const uint64_t repeated = copy.received - offset;
  if (repeated >= data.size()) return Status::Ok();
  const std::string_view fresh = data.substr(static_cast<size_t>(repeated));
  if (copy.received + fresh.size() > copy.meta.items_bytes()) {
    return Status::Validation("Backup copy " + copy_id + " would receive more than the " +
                              std::to_string(copy.meta.items_bytes()) +
                              " bytes of items its backup has");
  }
  const std::string items =
      BackupDir() + "/" + kTemporaryPrefix + copy_id + "/" + backup_file::kItemsFile;
  TW_RETURN_IF_ERROR(WriteFileAt(BackupFiles(), items, copy.received, fresh));
  copy.received += fresh.size();
  return Status::Ok();
}

Result<BackupDescription> EngineImpl::FinishBackupCopy(const std::string& copy_id) {
  BackupCopyInProgress copy;
  {
    MutexLock lock(backups_mu_);
    const auto it = backup_copies_.find(copy_id);
    if (it == backup_copies_.end()) return NoCopyInProgress(copy_id);
    // Taken out at once: from here on the copy is published or dropped, and a chunk sent
    // meanwhile is refused.
    copy = std::move(it->second);
    backup_copies_.erase(it);
  }
  const std::string staged = BackupDir() + "/" + kTemporaryPrefix + copy_id;
  const std::string final_dir = BackupDir() + "/" + copy_id;
  const std::string items = staged + "/" + backup_file::kItemsFile;
  std::error_code error;
  Status published = [&]() -> Status {
    if (copy.received != copy.meta.items_bytes()) {
      return Status::Validation("Backup copy " + copy_id + " was dropped: " +
                                std::to_string(copy.received) + " bytes of items were received " +
                                "of the backup's " + std::to_string(copy.meta.items_bytes()));
    }
    const Status verified = backup_file::VerifyItems(BackupFiles(), items, copy.meta);
    if (verified.code() == ErrorCode::kInternal) {  // the items are not the backup's
      return Status::Validation("Backup copy " + copy_id +
                                " was dropped: the items received do not match the backup's "
                                "description (" +
                                verified.message() + ")");
    }
    TW_RETURN_IF_ERROR(verified);
    TW_RETURN_IF_ERROR(SyncFile(items));
    fs::rename(staged, final_dir, error);
    if (error) return FsError("cannot publish " + final_dir, error);
    return SyncDirectory(BackupDir());
  }();
  if (!published.ok()) {
    fs::remove_all(staged, error);
    return published;
  }
  MutexLock lock(backups_mu_);
  backups_[copy_id] = copy.meta;
  return DescriptionOf(copy.meta);
}

}  // namespace tidewater
