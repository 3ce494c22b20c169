// Private: refuses writes while the data directory's filesystem is nearly full, before
// they reach storage.
//
// Why: a write that RocksDB attempts on a full disk sets its background error (every
// later write fails until DB::Resume), and a second write through a file writer that
// already failed trips an assertion inside RocksDB (Debian's build keeps them), aborting
// the process. Stopping user writes at a reserve of free space keeps RocksDB away from
// ENOSPC: flushes and compactions still have room, and writes resume by themselves once
// space is freed, with nothing to recover.
#pragma once

#include <rocksdb/file_system.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tidewater/core/status.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater {

// Thread-safe. Admit costs one relaxed atomic read and a steady-clock reading between
// checks; a check (one statvfs through the FileSystem) happens at most every interval.
class DiskSpaceGuard {
 public:
  // `min_free_bytes` 0: admits everything without checking.
  DiskSpaceGuard(std::shared_ptr<rocksdb::FileSystem> file_system, std::string path,
                 uint64_t min_free_bytes,
                 std::chrono::milliseconds check_interval = std::chrono::milliseconds(100));

  // Ok while the free space was at or above the reserve at the last check; otherwise an
  // IOError saying how much is free. A filesystem that cannot tell its free space admits.
  Status Admit() TW_EXCLUDES(mu_);

 private:
  void Check() TW_EXCLUDES(mu_);

  const std::shared_ptr<rocksdb::FileSystem> file_system_;
  const std::string path_;
  const uint64_t min_free_bytes_;
  const std::chrono::nanoseconds check_interval_;

  std::atomic<int64_t> next_check_nanos_{0};  // steady-clock time of the next check
  std::atomic<bool> low_{false};
  Mutex mu_;
  Status refusal_ TW_GUARDED_BY(mu_);  // while low_
};

}  // namespace tidewater
