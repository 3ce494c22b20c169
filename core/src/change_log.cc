// Reading a shard's change log, and retention (trimming records older than the
// retention period by range delete; expiring disabled streams).
#include <rocksdb/write_batch.h>

#include "engine_impl.h"
#include "storage_keys.h"

namespace tidewater {

Result<ShardReadResult> EngineImpl::ReadShard(const ShardReadRequest& request) {
  TW_ASSIGN_OR_RETURN(TablePtr table,
                      request.table_id != 0
                          ? catalog_->FindById(request.table.value(), request.table_id)
                          : FindTable(request.table.value()));
  const uint32_t shard_index = request.shard.value();
  if (shard_index >= table->shard_count()) {
    return Status::NotFound("Requested resource not found: Shard does not exist");
  }
  Shard& shard = table->shard(shard_index);
  ShardReadResult result;
  const uint64_t last_written = shard.committed_sequence.load(std::memory_order_acquire);
  const uint64_t first_available = shard.first_sequence.load();
  result.last_written = SequenceNumber(last_written);
  result.first_available = SequenceNumber(first_available);
  const uint64_t from =
      std::max<uint64_t>({request.from_sequence.value(), first_available, uint64_t{1}});
  result.next_sequence = SequenceNumber(from);
  if (from > last_written || request.limit == 0) return result;

  const std::string begin = storage::LogKey(shard_index, from);
  const std::string end = storage::LogKey(shard_index, last_written + 1);
  rocksdb::ReadOptions read;
  rocksdb::Slice upper(end);
  read.iterate_upper_bound = &upper;
  // Log readers pass over each record once: their blocks would only push the items'
  // blocks out of the block cache (and the cache's bookkeeping costs a draining
  // publisher about 40% of its read time). The OS page cache still serves them.
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, table->log()));
  size_t count = 0;
  for (it->Seek(begin); it->Valid() && count < request.limit; it->Next(), ++count) {
    if (request.serialized) {
      result.next_sequence = SequenceNumber(storage::LogKeySequence(it->key()) + 1);
      result.serialized.emplace_back(it->value().data(), it->value().size());
      continue;
    }
    ChangeRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::IOError("corrupt change record in shard " + std::to_string(shard_index));
    }
    result.next_sequence = SequenceNumber(record.sequence() + 1);
    result.records.push_back(std::move(record));
  }
  if (!it->status().ok()) return Status::IOError("storage: " + it->status().ToString());
  // Retention may have trimmed past `from` while we read.
  result.first_available =
      std::max(result.first_available, SequenceNumber(shard.first_sequence.load()));
  return result;
}

Result<ShardWatermark> EngineImpl::ResolvedWatermark(const TableName& table_name,
                                                     ShardIndex shard_index) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(table_name.value()));
  if (shard_index.value() >= table->shard_count()) {
    return Status::NotFound("Requested resource not found: Shard does not exist");
  }
  Shard& shard = table->shard(shard_index.value());
  // Under the commit lock no write of this shard is between taking its time and
  // committing or queuing it: a later one gets a time at or after the watermark.
  MutexLock lock(shard.commit_mu);
  const auto [resolved_micros, last_sequence] = shard.Watermark(options_.clock->NowMicros());
  return ShardWatermark{resolved_micros, SequenceNumber(last_sequence)};
}

Result<size_t> EngineImpl::TrimStreams() {
  const int64_t cutoff = options_.clock->NowMicros() - options_.stream_retention_micros;
  size_t trimmed = 0;
  // Disabled streams past retention go first (with the logs of deleted tables they kept).
  TW_RETURN_IF_ERROR(catalog_->ExpireStreams());
  std::vector<TablePtr> tables = AllTables();
  for (TablePtr& retired : catalog_->Retired()) tables.push_back(std::move(retired));
  for (const TablePtr& table : tables) {
    for (uint32_t s = 0; s < table->shard_count(); ++s) {
      TW_ASSIGN_OR_RETURN(size_t n, TrimShard(*table, table->shard(s), cutoff));
      trimmed += n;
    }
  }
  return trimmed;
}

Result<size_t> EngineImpl::TrimShard(TableState& table, Shard& shard, int64_t cutoff_micros) {
  const uint64_t first = shard.first_sequence.load();
  const uint64_t committed = shard.committed_sequence.load(std::memory_order_acquire);
  if (first > committed) return size_t{0};
  const std::string end = storage::LogKey(shard.index, committed + 1);
  rocksdb::ReadOptions read;
  rocksdb::Slice upper(end);
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, table.log()));
  uint64_t last_expired = 0;
  size_t count = 0;
  // Records a retaining consumer still needs stay, however old.
  const uint64_t pin = RetentionPin(table, shard.index);
  for (it->Seek(storage::LogKey(shard.index, first)); it->Valid(); it->Next()) {
    if (storage::LogKeySequence(it->key()) >= pin) break;
    ChangeRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::IOError("corrupt change record in shard " + std::to_string(shard.index));
    }
    if (record.approximate_creation_time_micros() >= cutoff_micros) break;
    last_expired = record.sequence();
    ++count;
  }
  if (!it->status().ok()) return Status::IOError("storage: " + it->status().ToString());
  if (last_expired == 0) return size_t{0};
  rocksdb::WriteBatch batch;
  batch.DeleteRange(table.log(), storage::LogKey(shard.index, 0),
                    storage::LogKey(shard.index, last_expired + 1));
  batch.Put(default_cf_, storage::ShardFloorKey(table.id(), shard.index),
            std::to_string(last_expired));
  rocksdb::Status s = db_->Write(write_options_, &batch);
  if (!s.ok()) return Status::IOError("storage: " + s.ToString());
  shard.first_sequence.store(last_expired + 1);
  return count;
}

}  // namespace tidewater
