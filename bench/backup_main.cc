// Backups and point-in-time recovery: how long CreateBackup and a restore from it take
// against copying the engine's data directory with `cp -r`, and what point-in-time recovery
// (PITR) costs on disk and in writes, in one run. Prints figures and ratios; asserts nothing.
//
//   build/bench/tw_backup_bench [--megabytes M] [--pitr-items N] [--pitr-rewrites R]
//                               [--dir D]
//
// Defaults: M = 1024, N = 100,000, R = 3. Everything is written in a new directory
// D/tw-backup-bench-XXXXXX (D: the system's temporary directory unless given), removed at the
// end, also after an error. Give a D on the disk you mean to measure: on a tmpfs /tmp the
// figures are memory figures (the run says so). At its peak it holds a little over 3 × M MiB
// (data directory, backup, and the copy or the restored table). The load average
// (/proc/loadavg) is printed at the start and at the end. Wall times are steady_clock; before
// every timed step (backup, copy, restores) sync() is called, so that no dirty page of an
// earlier step is written back during it.
//
// Items: 1,024 bytes by DynamoDB's size rule (ItemSize): pk (S) a 12-digit number and b (B)
// 1,009 random bytes, so that no compression shrinks them. Tables: PAY_PER_REQUEST, no
// stream, 4 shards, partition key pk. The engine runs with its defaults (EngineOptions::sync
// off) and without its background loop (no TTL sweeps, trims or backup maintenance during
// the run). Backups are kept beside the data directory (EngineOptions::backup_dir), so that
// the data directory holds RocksDB's files only.
//
// 1. Fill: M × 1,024 items written with PutItem from 2 threads (each its half of the keys).
//    Then the files are made final: the engine is closed, its data directory opened with
//    RocksDB directly (with the options RocksDB stored for each column family, i.e. the
//    engine's), every column family compacted to the bottom (CompactRange, bottommost
//    kForceOptimized) and closed, sync() called and the engine opened again. No flush or
//    compaction runs during the steps that follow, and `cp` copies the files a table settles
//    into. Fill and compaction times are printed for information only.
// 2. CreateBackup of the table: its time (the call returns when the backup is complete and
//    fsynced); its size, the bytes of the backup's directory (items file and meta); MiB/s =
//    size / time.
// 3. Baseline: `cp -r <data dir> <copy>` through std::system, the engine open and idle. Timed
//    alone ("cp -r"), and with an fsync of every copied file and directory after it
//    ("cp -r + fsync"): the backup fsyncs its file and cp does not, so the second is the
//    like-for-like figure. Ratios are given against both. The copy is removed afterwards.
//    The backup and cp both read the files the compaction has just written, from the page
//    cache as far as memory holds them (dropping caches needs root; not done): the same for
//    both.
// 4. Restore: RestoreTableFromBackup into a new table, timed from the call until
//    DescribeTable(target).restore->in_progress is false (polled every 10 ms); items/s =
//    the backup's items / time; ratios against the cp figures. The restored items are written
//    as every engine write is (WAL without fsync, memtables flushed in the background): the
//    time does not include flushing or compacting them. Two restored items are read back as
//    a check.
// 5. PITR, in a second data directory (the first one removed). Tables A (PITR off) and B get
//    the same writes (the same keys and random bytes), one phase after the other:
//      A: PutItem of N items;  A: R rewrites of every item (new random bytes each round);
//      B: PutItem of N items;  B: UpdateContinuousBackups(enabled, 35 days), which copies
//      B's current items into its history;  B: R rewrites of every item (each change also
//      writes a history entry).
//    After each phase the data directory is compacted as in 1 (engine closed, every column
//    family compacted to the bottom, engine reopened) and its bytes counted: those of the
//    .sst files, and of all files (apparent sizes; WAL, MANIFEST, OPTIONS and the LOG files
//    that every open adds included). Compacted, an overwritten version is gone, so each
//    phase's delta is what the table keeps for good: A, its items; B, its items and then the
//    history (one version per item at enabling plus one per rewrite, kept for the recovery
//    period). Printed: each phase's time, items/s and deltas; A's bytes against B's, split
//    into items and history (B's growth from enabling on); the history's bytes per kept
//    version; PutItem throughput with PITR against without (the rewrite phases, R > 0).
//    Last, RestoreTableToPointInTime of B to the latest restorable time, timed from the call
//    until the restore is done as in 4 (the call itself reads the history into a temporary
//    backup file: its time is printed apart).
#include <fcntl.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/options_util.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "tidewater/core/engine.h"

namespace {

using namespace tidewater;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t kWriterThreads = 2;
constexpr size_t kItemBytes = 1024;  // by DynamoDB's rule: names + values
constexpr size_t kKeyDigits = 12;
constexpr size_t kPayloadBytes = kItemBytes - (sizeof "pk" - 1) - kKeyDigits - (sizeof "b" - 1);
constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr double kMiB = 1024.0 * 1024.0;
constexpr long kTmpfsMagic = 0x01021994;  // TMPFS_MAGIC, linux/magic.h

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

double MiB(double bytes) { return bytes / kMiB; }

std::string KeyName(uint64_t i) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%012llu", static_cast<unsigned long long>(i));
  return buffer;
}

Item ItemKey(uint64_t i) { return {{"pk", AttributeValue::S(KeyName(i))}}; }

// Item i, with kPayloadBytes random bytes from `random`.
Item MakeItem(uint64_t i, std::mt19937_64& random) {
  std::string payload(kPayloadBytes, '\0');
  for (size_t offset = 0; offset < payload.size(); offset += sizeof(uint64_t)) {
    const uint64_t word = random();
    std::memcpy(payload.data() + offset, &word,
                std::min(sizeof(uint64_t), payload.size() - offset));
  }
  Item item = ItemKey(i);
  item["b"] = AttributeValue::B(std::move(payload));
  return item;
}

CreateTableRequest TableRequest(const std::string& name) {
  CreateTableRequest request;
  request.name = name;
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream.enabled = false;
  request.settings.billing_mode = BillingMode::kPayPerRequest;
  return request;
}

// The engine's defaults, without the background loop; backups in `backup_dir`.
EngineOptions BenchOptions(const std::string& data_dir, const std::string& backup_dir) {
  EngineOptions options;
  options.data_dir = data_dir;
  options.backup_dir = backup_dir;
  options.ttl_sweep_interval_micros = 0;
  options.retention_interval_micros = 0;
  options.storage_recovery_interval_micros = 0;
  return options;
}

// PutItem of items [0, count) of `table` from kWriterThreads threads, each a contiguous range,
// with random bytes from `seed` (the same seed writes the same bytes); the seconds it took,
// or the first error.
Result<double> WriteItems(Engine& engine, const std::string& table, uint64_t count, uint64_t seed) {
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  Status error;
  std::vector<std::thread> writers;
  const auto start = SteadyClock::now();
  for (uint64_t t = 0; t < kWriterThreads; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937_64 random(seed * kWriterThreads + t);
      const uint64_t begin = count * t / kWriterThreads;
      const uint64_t end = count * (t + 1) / kWriterThreads;
      for (uint64_t i = begin; i < end && !failed.load(std::memory_order_relaxed); ++i) {
        Result<WriteResult> written = engine.PutItem(table, MakeItem(i, random));
        if (!written.ok()) {
          std::lock_guard lock(error_mu);
          if (!failed.exchange(true)) error = written.status();
          return;
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  if (failed.load()) return error;
  return SecondsSince(start);
}

// `rounds` rewrites of items [0, count) of `table` (round r with seed first_seed + r); the
// seconds they took together.
Result<double> RewriteItems(Engine& engine, const std::string& table, uint64_t count,
                            uint64_t rounds, uint64_t first_seed) {
  double seconds = 0;
  for (uint64_t round = 0; round < rounds; ++round) {
    Result<double> written = WriteItems(engine, table, count, first_seed + round);
    if (!written.ok()) return written.status();
    seconds += *written;
  }
  return seconds;
}

// Bytes of the files under `dir` (apparent sizes): all, and the .sst files'.
struct DiskBytes {
  uint64_t sst = 0;
  uint64_t all = 0;
};

DiskBytes BytesUnder(const std::string& dir) {
  DiskBytes bytes;
  std::error_code error;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    std::error_code file_error;
    if (!it->is_regular_file(file_error)) continue;
    const uintmax_t size = it->file_size(file_error);
    if (file_error) continue;
    bytes.all += size;
    if (it->path().extension() == ".sst") bytes.sst += size;
  }
  return bytes;
}

bool SyncPath(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) return false;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced;
}

// fsyncs `dir`, and every file and directory under it.
bool SyncTree(const std::string& dir) {
  bool synced = SyncPath(dir, true);
  std::error_code error;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    std::error_code type_error;
    const bool directory = it->is_directory(type_error);
    synced = SyncPath(it->path().string(), directory) && synced;
  }
  return synced && !error;
}

std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// Opens the (closed) engine's data directory with RocksDB itself, with the options RocksDB
// stored for it, and compacts every column family to the bottom. "" or the error.
std::string CompactDataDir(const std::string& dir) {
  rocksdb::ConfigOptions config;
  config.ignore_unknown_options = true;
  config.ignore_unsupported_options = true;
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> stored;
  rocksdb::Status status = rocksdb::LoadLatestOptions(config, dir, &db_options, &stored);
  if (!status.ok()) return "LoadLatestOptions(" + dir + "): " + status.ToString();
  // Every column family the directory has, with its stored options (RocksDB's defaults for
  // one the options file lacks).
  std::vector<std::string> names;
  status = rocksdb::DB::ListColumnFamilies(db_options, dir, &names);
  if (!status.ok()) return "ListColumnFamilies(" + dir + "): " + status.ToString();
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) {
    const auto found = std::find_if(stored.begin(), stored.end(),
                                    [&](const auto& family) { return family.name == name; });
    families.emplace_back(name,
                          found == stored.end() ? rocksdb::ColumnFamilyOptions() : found->options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  status = rocksdb::DB::Open(db_options, dir, families, &handles, &raw);
  if (!status.ok()) return "rocksdb::DB::Open(" + dir + "): " + status.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  std::string error;
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    if (!error.empty()) break;
    status = db->CompactRange(compact, handle, nullptr, nullptr);
    if (!status.ok()) error = "CompactRange(" + handle->GetName() + "): " + status.ToString();
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    status = db->DestroyColumnFamilyHandle(handle);
    if (!status.ok() && error.empty()) error = "DestroyColumnFamilyHandle: " + status.ToString();
  }
  status = db->Close();
  if (!status.ok() && error.empty()) error = "rocksdb::DB::Close: " + status.ToString();
  return error;
}

Result<std::unique_ptr<Engine>> OpenEngine(const EngineOptions& options) {
  return Engine::Open(options);
}

// Closes `engine`, compacts its data directory (CompactDataDir), sync()s and opens it again.
Status CompactAndReopen(std::unique_ptr<Engine>& engine, const EngineOptions& options) {
  engine.reset();
  const std::string error = CompactDataDir(options.data_dir);
  if (!error.empty()) return Status::IOError(error);
  ::sync();
  Result<std::unique_ptr<Engine>> opened = OpenEngine(options);
  if (!opened.ok()) return opened.status();
  engine = std::move(*opened);
  return Status::Ok();
}

// Waits until the restore into `table` is done (DescribeTable every 10 ms); the seconds since
// `start`. A failed restore deletes its table: that is an error here.
Result<double> WaitForRestore(Engine& engine, const std::string& table,
                              SteadyClock::time_point start) {
  for (;;) {
    Result<TableDescription> described = engine.DescribeTable(table);
    if (!described.ok()) return described.status();
    if (!described->restore) return Status::Internal(table + " is not a restored table");
    if (!described->restore->in_progress) return SecondsSince(start);
    std::this_thread::sleep_for(kPollInterval);
  }
}

// Items 0 and count - 1 are in `table`.
Status CheckItems(Engine& engine, const std::string& table, uint64_t count) {
  for (const uint64_t i : {uint64_t{0}, count - 1}) {
    Result<std::optional<Item>> item = engine.GetItem(table, ItemKey(i));
    if (!item.ok()) return item.status();
    if (!item->has_value()) return Status::Internal(table + " lacks item " + KeyName(i));
  }
  return Status::Ok();
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  if (!std::getline(in, line)) return "unavailable";
  return line;
}

// A new directory `parent`/tw-backup-bench-XXXXXX, removed (recursively) when this goes.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& parent) {
    std::string pattern = (fs::path(parent) / "tw-backup-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "tw_backup_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

int Usage() {
  std::fprintf(stderr,
               "usage: tw_backup_bench [--megabytes M >= 1] [--pitr-items N >= 1] "
               "[--pitr-rewrites R >= 0] [--dir D]\n");
  return 2;
}

// One row of the backup table: time, MiB, MiB/s, items/s (none when items is 0) and the
// ratios of the time to the two cp baselines.
void PrintRow(const char* step, double seconds, uint64_t bytes, uint64_t items, double cp_seconds,
              double cp_fsync_seconds) {
  char items_per_second[32] = "-";
  if (items != 0) {
    std::snprintf(items_per_second, sizeof items_per_second, "%.0f",
                  static_cast<double>(items) / seconds);
  }
  std::printf("%-36s %9.3f %10.1f %9.1f %11s %8.2f %11.2f\n", step, seconds,
              MiB(static_cast<double>(bytes)), MiB(static_cast<double>(bytes)) / seconds,
              items_per_second, seconds / cp_seconds, seconds / cp_fsync_seconds);
}

// A PITR phase: what it did, its time and item writes, and the compacted data directory's
// bytes before and after it.
struct Phase {
  std::string name;
  double seconds = 0;
  uint64_t writes = 0;
  DiskBytes before;
  DiskBytes after;
};

double Delta(uint64_t after, uint64_t before) {
  return static_cast<double>(after) - static_cast<double>(before);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t megabytes = 1024;
  uint64_t pitr_items = 100000;
  uint64_t pitr_rewrites = 3;
  std::error_code temp_error;
  std::string parent = fs::temp_directory_path(temp_error).string();
  if (temp_error) parent = "/tmp";
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* value = argv[i + 1];
    if (flag == "--megabytes") {
      megabytes = std::strtoull(value, nullptr, 10);
    } else if (flag == "--pitr-items") {
      pitr_items = std::strtoull(value, nullptr, 10);
    } else if (flag == "--pitr-rewrites") {
      pitr_rewrites = std::strtoull(value, nullptr, 10);
    } else if (flag == "--dir") {
      parent = value;
    } else {
      return Usage();
    }
  }
  if (megabytes == 0 || pitr_items == 0) return Usage();

  std::printf("load average at start: %s\n", LoadAverage().c_str());
  ScratchDir scratch(parent);  // declared before the engines: removed after they are closed
  if (scratch.path().empty()) {
    std::fprintf(stderr, "tw_backup_bench: cannot create a directory in %s: %s\n", parent.c_str(),
                 std::strerror(errno));
    return 1;
  }
  {
    struct statfs info {};
    const bool tmpfs = ::statfs(scratch.path().c_str(), &info) == 0 &&
                       static_cast<long>(info.f_type) == kTmpfsMagic;
    struct statvfs space {};
    const double free_bytes =
        ::statvfs(scratch.path().c_str(), &space) == 0
            ? static_cast<double>(space.f_bavail) * static_cast<double>(space.f_frsize)
            : 0;
    std::printf("working in %s%s: %.1f GiB free, the run needs a little over %.1f GiB\n",
                scratch.path().c_str(), tmpfs ? " (tmpfs: memory, not disk)" : "",
                free_bytes / kMiB / 1024, 3.0 * static_cast<double>(megabytes) / 1024);
  }
  {
    std::mt19937_64 random(0);
    std::printf("items: %zu bytes each by DynamoDB's rule (pk: %zu digits, b: %zu random bytes)\n",
                ItemSize(MakeItem(0, random)), kKeyDigits, kPayloadBytes);
  }

  // --- 1. Fill ---
  const uint64_t items = megabytes * 1024;  // 1 MiB of 1 KiB items
  const std::string table = "bench";
  const std::string restored = "bench_restored";
  const EngineOptions options = BenchOptions(scratch.Sub("data"), scratch.Sub("backups"));
  std::unique_ptr<Engine> engine;
  {
    Result<std::unique_ptr<Engine>> opened = OpenEngine(options);
    if (!opened.ok()) return Fail("Engine::Open", opened.status());
    engine = std::move(*opened);
  }
  if (auto created = engine->CreateTable(TableRequest(table)); !created.ok()) {
    return Fail("CreateTable", created.status());
  }
  Result<double> fill_seconds = WriteItems(*engine, table, items, 1);
  if (!fill_seconds.ok()) return Fail("PutItem", fill_seconds.status());
  const auto compact_start = SteadyClock::now();
  if (Status reopened = CompactAndReopen(engine, options); !reopened.ok()) {
    return Fail("compaction of " + options.data_dir, reopened);
  }
  const double compact_seconds = SecondsSince(compact_start);
  const DiskBytes data_bytes = BytesUnder(options.data_dir);
  std::printf("fill: %llu items by PutItem from %llu threads in %.1f s (%.0f items/s)\n",
              static_cast<unsigned long long>(items),
              static_cast<unsigned long long>(kWriterThreads), *fill_seconds,
              static_cast<double>(items) / *fill_seconds);
  std::printf(
      "close, full compaction, sync, reopen: %.1f s; data dir %.1f MiB (.sst files %.1f MiB)\n",
      compact_seconds, MiB(static_cast<double>(data_bytes.all)),
      MiB(static_cast<double>(data_bytes.sst)));

  // --- 2. CreateBackup ---
  ::sync();
  const auto backup_start = SteadyClock::now();
  Result<BackupDescription> backup = engine->CreateBackup(table, "bench-backup");
  const double backup_seconds = SecondsSince(backup_start);
  if (!backup.ok()) return Fail("CreateBackup", backup.status());
  const DiskBytes backup_bytes = BytesUnder(options.backup_dir + "/" + backup->backup_id);

  // --- 3. cp -r baseline ---
  const std::string copy = scratch.Sub("copy");
  ::sync();
  const auto cp_start = SteadyClock::now();
  const int cp_status =
      std::system(("cp -r " + ShellQuote(options.data_dir) + " " + ShellQuote(copy)).c_str());
  const double cp_seconds = SecondsSince(cp_start);
  if (cp_status != 0) {
    std::fprintf(stderr, "tw_backup_bench: cp -r %s %s failed (status %d)\n",
                 options.data_dir.c_str(), copy.c_str(), cp_status);
    return 1;
  }
  const auto fsync_start = SteadyClock::now();
  if (!SyncTree(copy)) {
    std::fprintf(stderr, "tw_backup_bench: cannot fsync the files of %s\n", copy.c_str());
    return 1;
  }
  const double cp_fsync_seconds = cp_seconds + SecondsSince(fsync_start);
  const DiskBytes copy_bytes = BytesUnder(copy);
  {
    std::error_code error;
    fs::remove_all(copy, error);
  }

  // --- 4. RestoreTableFromBackup ---
  ::sync();
  const auto restore_start = SteadyClock::now();
  if (auto started = engine->RestoreTableFromBackup(backup->backup_id, TableRequest(restored));
      !started.ok()) {
    return Fail("RestoreTableFromBackup", started.status());
  }
  Result<double> restore_seconds = WaitForRestore(*engine, restored, restore_start);
  if (!restore_seconds.ok()) return Fail("restore from backup", restore_seconds.status());
  if (Status checked = CheckItems(*engine, restored, items); !checked.ok()) {
    return Fail("restored table", checked);
  }

  std::printf("\nbackup: %llu items, %.1f MiB of items as stored, directory %.1f MiB\n",
              static_cast<unsigned long long>(backup->item_count),
              MiB(static_cast<double>(backup->size_bytes)),
              MiB(static_cast<double>(backup_bytes.all)));
  std::printf("%-36s %9s %10s %9s %11s %8s %11s\n", "step", "seconds", "MiB", "MiB/s", "items/s",
              "/ cp", "/ cp+fsync");
  PrintRow("CreateBackup", backup_seconds, backup_bytes.all, backup->item_count, cp_seconds,
           cp_fsync_seconds);
  PrintRow("cp -r data dir", cp_seconds, copy_bytes.all, 0, cp_seconds, cp_fsync_seconds);
  PrintRow("cp -r data dir + fsync", cp_fsync_seconds, copy_bytes.all, 0, cp_seconds,
           cp_fsync_seconds);
  PrintRow("RestoreTableFromBackup, until done", *restore_seconds, backup_bytes.all,
           backup->item_count, cp_seconds, cp_fsync_seconds);
  std::printf(
      "(MiB: the backup's directory for CreateBackup and the restore, the copied data "
      "dir for cp)\n");

  engine.reset();
  {
    std::error_code error;
    fs::remove_all(options.data_dir, error);
    fs::remove_all(options.backup_dir, error);
  }

  // --- 5. Point-in-time recovery ---
  const std::string off = "pitr_off";
  const std::string on = "pitr_on";
  const std::string pitr_restored = "pitr_restored";
  const EngineOptions pitr_options =
      BenchOptions(scratch.Sub("pitr-data"), scratch.Sub("pitr-backups"));
  {
    Result<std::unique_ptr<Engine>> opened = OpenEngine(pitr_options);
    if (!opened.ok()) return Fail("Engine::Open", opened.status());
    engine = std::move(*opened);
  }
  for (const std::string& name : {off, on}) {
    if (auto created = engine->CreateTable(TableRequest(name)); !created.ok()) {
      return Fail("CreateTable", created.status());
    }
  }
  if (Status reopened = CompactAndReopen(engine, pitr_options); !reopened.ok()) {
    return Fail("compaction of " + pitr_options.data_dir, reopened);
  }
  const DiskBytes empty = BytesUnder(pitr_options.data_dir);
  std::vector<Phase> phases;
  DiskBytes previous = empty;
  // Compacts, counts the data directory's bytes and notes the phase.
  const auto record = [&](std::string name, double seconds, uint64_t writes) -> Status {
    TW_RETURN_IF_ERROR(CompactAndReopen(engine, pitr_options));
    const DiskBytes now = BytesUnder(pitr_options.data_dir);
    phases.push_back({std::move(name), seconds, writes, previous, now});
    previous = now;
    return Status::Ok();
  };
  const std::string rewrites = std::to_string(pitr_rewrites) + " rewrites of every item";
  constexpr uint64_t kFillSeed = 100;
  constexpr uint64_t kRewriteSeed = 200;

  for (const std::string& name : {off, on}) {
    const bool is_on = name == on;
    Result<double> filled = WriteItems(*engine, name, pitr_items, kFillSeed);
    if (!filled.ok()) return Fail("PutItem", filled.status());
    const std::string fill = "PutItem of " + std::to_string(pitr_items) + " items";
    if (Status s = record(is_on ? "B: " + fill + " (PITR not on yet)" : "A (no PITR): " + fill,
                          *filled, pitr_items);
        !s.ok()) {
      return Fail("compaction", s);
    }
    if (is_on) {
      const auto enable_start = SteadyClock::now();
      Result<ContinuousBackupsDescription> enabled =
          engine->UpdateContinuousBackups(name, true, std::nullopt);
      const double enable_seconds = SecondsSince(enable_start);
      if (!enabled.ok()) return Fail("UpdateContinuousBackups", enabled.status());
      if (!enabled->point_in_time_recovery) {
        return Fail("UpdateContinuousBackups", Status::Internal("recovery is not on"));
      }
      if (Status s = record("B: UpdateContinuousBackups(enabled)", enable_seconds, 0); !s.ok()) {
        return Fail("compaction", s);
      }
    }
    Result<double> rewritten = RewriteItems(*engine, name, pitr_items, pitr_rewrites, kRewriteSeed);
    if (!rewritten.ok()) return Fail("PutItem", rewritten.status());
    if (Status s = record((is_on ? "B (PITR on): " : "A (no PITR): ") + rewrites, *rewritten,
                          pitr_items * pitr_rewrites);
        !s.ok()) {
      return Fail("compaction", s);
    }
  }

  ::sync();
  const auto pitr_start = SteadyClock::now();
  if (auto started =
          engine->RestoreTableToPointInTime(on, std::nullopt, TableRequest(pitr_restored));
      !started.ok()) {
    return Fail("RestoreTableToPointInTime", started.status());
  }
  const double pitr_call_seconds = SecondsSince(pitr_start);
  Result<double> pitr_seconds = WaitForRestore(*engine, pitr_restored, pitr_start);
  if (!pitr_seconds.ok()) return Fail("restore to a point in time", pitr_seconds.status());
  if (Status checked = CheckItems(*engine, pitr_restored, pitr_items); !checked.ok()) {
    return Fail("table restored to a point in time", checked);
  }
  engine.reset();

  std::printf(
      "\npoint-in-time recovery: %llu items of %zu bytes per table, %llu rewrites of each; "
      "bytes of the data dir after a full compaction following each phase\n",
      static_cast<unsigned long long>(pitr_items), kItemBytes,
      static_cast<unsigned long long>(pitr_rewrites));
  std::printf("%-46s %9s %11s %14s %14s\n", "phase", "seconds", "items/s", "sst delta MiB",
              "dir delta MiB");
  for (const Phase& phase : phases) {
    char items_per_second[32] = "-";
    if (phase.writes != 0 && phase.seconds > 0) {
      std::snprintf(items_per_second, sizeof items_per_second, "%.0f",
                    static_cast<double>(phase.writes) / phase.seconds);
    }
    std::printf("%-46s %9.3f %11s %+14.1f %+14.1f\n", phase.name.c_str(), phase.seconds,
                items_per_second, MiB(Delta(phase.after.sst, phase.before.sst)),
                MiB(Delta(phase.after.all, phase.before.all)));
  }
  // phases: 0 A fill, 1 A rewrites, 2 B fill, 3 B enabling, 4 B rewrites.
  const double a_total = Delta(phases[1].after.sst, empty.sst);
  const double b_items = Delta(phases[2].after.sst, phases[2].before.sst);
  const double history = Delta(phases[4].after.sst, phases[2].after.sst);
  const double b_total = b_items + history;
  const uint64_t versions = pitr_items * (pitr_rewrites + 1);
  std::printf(
      "A (.sst): %.1f MiB; B: %.1f MiB = items %.1f MiB + history %.1f MiB; "
      "B / A = %.2fx\n",
      MiB(a_total), MiB(b_total), MiB(b_items), MiB(history), b_total / a_total);
  std::printf(
      "history: %.0f bytes per kept version (%llu versions: 1 per item at enabling "
      "+ 1 per rewrite)\n",
      history / static_cast<double>(versions), static_cast<unsigned long long>(versions));
  if (pitr_rewrites > 0) {
    std::printf("PutItem throughput with PITR / without (rewrite phases): %.2fx\n",
                phases[1].seconds / phases[4].seconds);
  }
  std::printf(
      "RestoreTableToPointInTime (latest restorable time), until done: %.3f s, "
      "%.0f items/s (of which the call, history read into a temporary backup: %.3f s)\n",
      *pitr_seconds, static_cast<double>(pitr_items) / *pitr_seconds, pitr_call_seconds);
  std::printf("load average at end: %s\n", LoadAverage().c_str());
  return 0;
}
