// Opening and closing the engine: the RocksDB instance, the commit pipeline, the catalog,
// and the background loop (TTL sweeps, retention, tombstone purges).
#include <rocksdb/convenience.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/utilities/options_util.h>

#include <chrono>
#include <map>
#include <optional>

#include "cache_invalidating_log.h"
#include "engine_impl.h"
#include "replicated_write_ahead_log.h"
#include "write_ahead_log.h"

namespace tidewater {

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  return EngineImpl::OpenImpl(options);
}

EngineImpl::EngineImpl(const EngineOptions& options)
    : options_(options), hlc_(*options.clock, options.region) {
  write_options_.sync = options.sync;
}

EngineImpl::~EngineImpl() {
  restores_stopping_ = true;
  std::vector<std::thread> restores;
  {
    MutexLock lock(backups_mu_);
    restores.swap(restores_);
  }
  for (std::thread& restore : restores) restore.join();
  {
    MutexLock lock(background_mu_);
    stopping_ = true;
  }
  background_cv_.NotifyAll();
  if (background_.joinable()) background_.join();
  {
    MutexLock lock(index_mu_);
    index_stopping_ = true;
  }
  index_cv_.NotifyAll();
  if (index_maintainer_.joinable()) index_maintainer_.join();
  if (catalog_) catalog_->Close();  // destroys the column family handles before the DB closes
  if (db_) {
    db_->DestroyColumnFamilyHandle(default_cf_);
    db_->Close().PermitUncheckedError();
  }
}

Result<std::unique_ptr<Engine>> EngineImpl::OpenImpl(const EngineOptions& options) {
  if (options.clock == nullptr) return Status::Validation("EngineOptions.clock must be set");
  std::unique_ptr<EngineImpl> engine(new EngineImpl(options));
  TW_RETURN_IF_ERROR(engine->OpenDatabase());
  TW_RETURN_IF_ERROR(engine->OpenBackups());
  engine->index_maintainer_ = std::thread([raw = engine.get()] { raw->GlobalIndexLoop(); });
  // Before the background loop's TTL deletes: every shard is served once its log is applied.
  TW_RETURN_IF_ERROR(engine->OpenReplicatedTables());
  if (options.ttl_sweep_interval_micros > 0 || options.retention_interval_micros > 0 ||
      options.storage_recovery_interval_micros > 0) {
    engine->background_ = std::thread([raw = engine.get()] { raw->BackgroundLoop(); });
  }
  return std::unique_ptr<Engine>(std::move(engine));
}

Status EngineImpl::OpenDatabase() {
  auto cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.enable_pipelined_write = false;
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
  // RocksDB is not built with ThreadSanitizer: a write-group leader copying the batches of
  // other writers, handed over through RocksDB's own atomics, reads as a data race. Under
  // TSan every write is its own group (the engine's concurrency is unchanged).
  db_options.max_write_batch_group_size_bytes = 0;
#endif
#endif
  if (options_.file_system) {
    env_ = rocksdb::NewCompositeEnv(options_.file_system);
    db_options.env = env_.get();
  }

  std::vector<std::string> cf_names;
  rocksdb::Status listed =
      rocksdb::DB::ListColumnFamilies(db_options, options_.data_dir, &cf_names);
  if (!listed.ok()) cf_names = {rocksdb::kDefaultColumnFamilyName};

  // The options each column family last ran with (RocksDB's options file), so that a
  // table's storage class applies from the first file written, the recovery flush included.
  std::map<std::string, rocksdb::ColumnFamilyOptions> stored;
  {
    rocksdb::ConfigOptions config;
    config.ignore_unknown_options = true;
    config.ignore_unsupported_options = true;
    config.env = db_options.env;
    rocksdb::DBOptions stored_db;
    std::vector<rocksdb::ColumnFamilyDescriptor> stored_families;
    if (rocksdb::LoadLatestOptions(config, options_.data_dir, &stored_db, &stored_families).ok()) {
      for (auto& family : stored_families) stored[family.name] = std::move(family.options);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : cf_names) {
    const auto found = stored.find(name);
    descriptors.emplace_back(
        name, Catalog::ColumnFamilyOptions(name, cache,
                                           found == stored.end() ? nullptr : &found->second));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened =
      rocksdb::DB::Open(db_options, options_.data_dir, descriptors, &handles, &raw);
  if (!opened.ok())
    return Status::IOError("cannot open data directory '" + options_.data_dir +
                           "': " + opened.ToString());
  db_.reset(raw);
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
  for (auto* handle : handles) {
    if (handle->GetName() == rocksdb::kDefaultColumnFamilyName) {
      default_cf_ = handle;
    } else {
      by_name[handle->GetName()] = handle;
    }
  }
  auto disk_space = std::make_unique<DiskSpaceGuard>(
      options_.file_system ? options_.file_system : rocksdb::FileSystem::Default(),
      options_.data_dir, options_.min_free_disk_bytes);
  std::unique_ptr<WriteAheadLog> wal =
      std::make_unique<LocalWriteAheadLog>(*db_, options_.sync, std::move(disk_space));
  if (options_.replicated_log != nullptr) {
    wal = std::make_unique<ReplicatedWriteAheadLog>(std::move(wal), *options_.replicated_log,
                                                    default_cf_);
  }
  if (options_.item_cache_bytes > 0) {
    cache_ = std::make_unique<ItemCache>(options_.item_cache_bytes);
    wal = std::make_unique<CacheInvalidatingLog>(std::move(wal), *cache_);
  }
  pipeline_ = std::make_unique<CommitPipeline>(std::move(wal), /*group_commit=*/options_.sync);
  catalog_ =
      std::make_unique<Catalog>(*db_, *default_cf_, *pipeline_, *options_.clock,
                                options_.block_cache_bytes, options_.stream_retention_micros);
  return catalog_->Load(std::move(by_name));
}

Result<TableDescription> EngineImpl::DescribeTable(const std::string& name) {
  TW_ASSIGN_OR_RETURN(TablePtr table, catalog_->FindIncludingRestoring(name));
  return catalog_->Describe(*table);
}

Status EngineImpl::RecoverStorage() {
  if (pipeline_->WriteFailure().ok()) return Status::Ok();
  const std::vector<TablePtr> tables = AllTables();
  std::vector<Shard*> shards;
  for (const TablePtr& table : tables) {
    for (Shard* shard : table->all_shards()) shards.push_back(shard);
  }
  std::optional<LockedShards> quiet(std::in_place, *pipeline_, std::move(shards));
  rocksdb::Status resumed = db_->Resume();
  if (!resumed.ok()) return Status::IOError("storage: " + resumed.ToString());
  // The failed batches' outcome was unknown; what storage holds now is what counts.
  if (cache_) cache_->Clear();
  for (const TablePtr& table : tables) catalog_->ResetShards(*table);
  pipeline_->ClearWriteFailure();
  quiet.reset();
  // The shards whose appends had an unknown outcome apply their logs (through the pipeline,
  // so only now) and are admitted again; their writers are refused meanwhile (Admit).
  if (options_.replicated_log != nullptr) return options_.replicated_log->Recover(*this);
  return Status::Ok();
}

void EngineImpl::BackgroundLoop() {
  // Scheduling follows real elapsed time; what expires is decided by the injected clock.
  using Steady = std::chrono::steady_clock;
  constexpr Steady::time_point kNever = Steady::time_point::max();
  const auto every = [](int64_t micros) { return std::chrono::microseconds(micros); };
  Steady::time_point next_sweep = options_.ttl_sweep_interval_micros > 0 ? Steady::now() : kNever;
  Steady::time_point next_trim = options_.retention_interval_micros > 0 ? Steady::now() : kNever;
  Steady::time_point next_recovery = Steady::now();
  while (true) {
    {
      MutexLock lock(background_mu_);
      if (stopping_) return;
    }
    const Steady::time_point now = Steady::now();
    // A full disk's refusal (DiskSpaceGuard) is not a failure: trimming may free space.
    const bool writable = pipeline_->WriteFailure().ok();
    if (options_.storage_recovery_interval_micros > 0 && now >= next_recovery) {
      if (!writable) {
        (void)RecoverStorage();
      } else if (options_.replicated_log != nullptr) {
        // Shards whose recovery failed (Kafka still unreachable) try again.
        (void)options_.replicated_log->Recover(*this);
      }
      next_recovery = now + every(options_.storage_recovery_interval_micros);
    }
    if (writable && now >= next_sweep) {
      (void)RunTtlSweep();
      next_sweep = now + every(options_.ttl_sweep_interval_micros);
    }
    if (writable && now >= next_trim) {
      (void)TrimStreams();
      (void)PurgeTombstones();
      (void)RunBackupMaintenance();
      next_trim = now + every(options_.retention_interval_micros);
    }
    Steady::time_point wake = std::min(next_sweep, next_trim);
    if (options_.storage_recovery_interval_micros > 0) {
      // Look at the storage's health at least this often; retry recovery when it fails.
      wake = std::min(wake, pipeline_->WriteFailure().ok()
                                ? Steady::now() + every(options_.storage_recovery_interval_micros)
                                : next_recovery);
    }
    MutexLock lock(background_mu_);
    while (!stopping_ && background_cv_.WaitUntil(background_mu_, wake)) {
    }
  }
}

}  // namespace tidewater
