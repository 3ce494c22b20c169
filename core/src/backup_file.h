// Private: a backup's files (table_backups.h). `items` is a sequence of (varint length,
// StoredItem) with each item's attributes and version; `backup.meta` is the BackupMeta,
// sealed by its own SHA-256. Both are written beside their final directory and made visible
// by one rename, so that a backup exists whole or not at all. The items file is written and
// read through the engine's FileSystem (EngineOptions::file_system): encrypted with the data
// directory when encryption at rest is on; its size and SHA-256 are those of the plain items.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tidewater/core/status.h"
#include "tidewater/v1/catalog.pb.h"
#include "tidewater/v1/change_record.pb.h"

namespace rocksdb {
class FileSystem;
class FSSequentialFile;
class FSWritableFile;
}  // namespace rocksdb

namespace tidewater::backup_file {

inline constexpr const char* kItemsFile = "items";
inline constexpr const char* kMetaFile = "backup.meta";

// Appends items to a new items file, hashing as it goes. Not thread-safe.
class ItemsWriter {
 public:
  // Creates (truncates) `path` in `files`.
  static Result<std::unique_ptr<ItemsWriter>> Create(rocksdb::FileSystem& files,
                                                     const std::string& path);
  ~ItemsWriter();
  ItemsWriter(const ItemsWriter&) = delete;
  ItemsWriter& operator=(const ItemsWriter&) = delete;

  Status Add(const v1::StoredItem& item);
  // Flushes and fsyncs; fills `meta`'s item_count, items_bytes and items_sha256.
  Status Finish(v1::BackupMeta& meta);

 private:
  ItemsWriter(std::unique_ptr<rocksdb::FSWritableFile> file, std::string path);
  Status Flush();

  std::unique_ptr<rocksdb::FSWritableFile> file_;
  std::string path_;
  std::string buffer_;
  struct Hash;
  std::unique_ptr<Hash> hash_;
  uint64_t items_ = 0;
  uint64_t bytes_ = 0;
};

// Checks that the items file at `path` is the one `meta` describes (size and SHA-256):
// an InternalServerError naming the damage otherwise.
Status VerifyItems(rocksdb::FileSystem& files, const std::string& path, const v1::BackupMeta& meta);

// Reads an items file in order. Not thread-safe.
class ItemsReader {
 public:
  static Result<std::unique_ptr<ItemsReader>> Open(rocksdb::FileSystem& files,
                                                   const std::string& path);
  ~ItemsReader();
  ItemsReader(const ItemsReader&) = delete;
  ItemsReader& operator=(const ItemsReader&) = delete;
  // The next item into `item`; false at the end. A truncated or unparsable entry is an
  // error (the file was verified first, so this means it changed since).
  Result<bool> Next(v1::StoredItem& item);

 private:
  ItemsReader(std::unique_ptr<rocksdb::FSSequentialFile> file, std::string path);
  Status Fill(size_t wanted);

  std::unique_ptr<rocksdb::FSSequentialFile> file_;
  std::string path_;
  std::string buffer_;
  size_t offset_ = 0;
  bool eof_ = false;
};

// backup.meta: the serialized meta followed by its SHA-256.
Status WriteMeta(const std::string& path, const v1::BackupMeta& meta);
Result<v1::BackupMeta> ReadMeta(const std::string& path);

}  // namespace tidewater::backup_file
