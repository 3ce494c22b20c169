// A RocksDB FileSystem for storage-failure tests: it passes everything to the machine's
// filesystem until a test injects a fault, then fails writes to new and open files as a
// full disk or a broken device would (Append / PositionedAppend, and, for a sync fault,
// Sync / Fsync). Clearing the fault makes the "disk" work again, as when space is freed.
// SetFreeSpace makes GetFreeSpace report a chosen number of free bytes (what the engine's
// free-space reserve reads) instead of the real disk's.
//
// Thread safety: Inject/Clear may be called from the test thread while RocksDB's threads
// write; the fault is one atomic read per file operation.
#pragma once

#include <rocksdb/file_system.h>

#include <atomic>
#include <memory>
#include <string>

namespace tidewater::testing {

class FaultyFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  enum class Fault { kNone, kNoSpace, kWriteError, kSyncError };

  FaultyFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultyFileSystem"; }

  void Inject(Fault fault) { fault_.store(fault, std::memory_order_release); }
  void Clear() { Inject(Fault::kNone); }
  // How many file operations failed because of an injected fault.
  int failures() const { return failures_.load(std::memory_order_acquire); }
  // -1: report the real disk's free space again.
  void SetFreeSpace(int64_t bytes) { free_space_.store(bytes, std::memory_order_release); }

  rocksdb::IOStatus GetFreeSpace(const std::string& path, const rocksdb::IOOptions& options,
                                 uint64_t* free_bytes, rocksdb::IODebugContext* dbg) override {
    const int64_t reported = free_space_.load(std::memory_order_acquire);
    if (reported < 0) return target()->GetFreeSpace(path, options, free_bytes, dbg);
    *free_bytes = static_cast<uint64_t>(reported);
    return rocksdb::IOStatus::OK();
  }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (rocksdb::IOStatus s = WriteFault(); !s.ok()) return s;
    return Wrap(target()->NewWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    return Wrap(target()->ReopenWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    return Wrap(target()->ReuseWritableFile(name, old_name, options, result, dbg), result);
  }

 private:
  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file, FaultyFileSystem& fs)
        : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_.WriteFault(); !s.ok()) return s;
      return target()->Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_.WriteFault(); !s.ok()) return s;
      return target()->Append(data, options, info, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_.WriteFault(); !s.ok()) return s;
      return target()->PositionedAppend(data, offset, options, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& options,
                                       const rocksdb::DataVerificationInfo& info,
                                       rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_.WriteFault(); !s.ok()) return s;
      return target()->PositionedAppend(data, offset, options, info, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_.SyncFault(); !s.ok()) return s;
      return target()->Sync(options, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = fs_.SyncFault(); !s.ok()) return s;
      return target()->Fsync(options, dbg);
    }

   private:
    FaultyFileSystem& fs_;
  };

  rocksdb::IOStatus Wrap(rocksdb::IOStatus opened,
                         std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (opened.ok()) *result = std::make_unique<File>(std::move(*result), *this);
    return opened;
  }

  rocksdb::IOStatus WriteFault() {
    switch (fault_.load(std::memory_order_acquire)) {
      case Fault::kNoSpace:
        failures_.fetch_add(1);
        return rocksdb::IOStatus::NoSpace("injected: no space left on device");
      case Fault::kWriteError:
        failures_.fetch_add(1);
        return rocksdb::IOStatus::IOError("injected: write error");
      default:
        return rocksdb::IOStatus::OK();
    }
  }
  rocksdb::IOStatus SyncFault() {
    if (fault_.load(std::memory_order_acquire) != Fault::kSyncError) return WriteFault();
    failures_.fetch_add(1);
    return rocksdb::IOStatus::IOError("injected: fsync failed");
  }

  std::atomic<Fault> fault_{Fault::kNone};
  std::atomic<int> failures_{0};
  std::atomic<int64_t> free_space_{-1};
};

}  // namespace tidewater::testing
