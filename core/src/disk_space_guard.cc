#include "disk_space_guard.h"

#include <utility>

namespace tidewater {
namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

DiskSpaceGuard::DiskSpaceGuard(std::shared_ptr<rocksdb::FileSystem> file_system, std::string path,
                               uint64_t min_free_bytes, std::chrono::milliseconds check_interval)
    : file_system_(std::move(file_system)),
      path_(std::move(path)),
      min_free_bytes_(min_free_bytes),
      check_interval_(check_interval) {}

Status DiskSpaceGuard::Admit() {
  if (min_free_bytes_ == 0) return Status::Ok();
  int64_t due = next_check_nanos_.load(std::memory_order_relaxed);
  const int64_t now = SteadyNanos();
  // One caller per interval wins the exchange and checks; the others go on with the last
  // answer.
  if (now >= due && next_check_nanos_.compare_exchange_strong(due, now + check_interval_.count(),
                                                              std::memory_order_relaxed)) {
    Check();
  }
  if (!low_.load(std::memory_order_acquire)) return Status::Ok();
  MutexLock lock(mu_);
  return refusal_;
}

void DiskSpaceGuard::Check() {
  uint64_t free_bytes = 0;
  const rocksdb::IOStatus s =
      file_system_->GetFreeSpace(path_, rocksdb::IOOptions(), &free_bytes, nullptr);
  const bool low = s.ok() && free_bytes < min_free_bytes_;
  if (low) {
    MutexLock lock(mu_);
    refusal_ = Status::IOError("storage full: " + std::to_string(free_bytes) + " bytes free in " +
                               path_ + ", below the reserve of " + std::to_string(min_free_bytes_) +
                               " bytes; writes resume once space is freed");
  }
  low_.store(low, std::memory_order_release);
}

}  // namespace tidewater
