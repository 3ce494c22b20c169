// The global index maintainer: applies each table's queued global index work (see
// storage::IndexWorkKey). A commit queues an item change's entry writes in the item's own
// WriteBatch; the maintainer applies them in queue order and deletes the queue entries in
// the same WriteBatch, so that after a crash each entry has been applied once or is still
// queued, and one item's changes reach the index in the order they were committed.
//
// An index created on a table with items is backfilled here too. From its creation on
// (installed with no write in flight) every change queues the new index's writes, so the
// queue holds every change since the items the backfill reads. While the backfill writes
// each item's entry, from whatever later state it reads the item in, the table's queue
// waits; applied after it, the queued changes end each item's entry where the item ended.
// Both steps rewrite whole entries, so a backfill that a crash cut short simply starts
// again.
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <set>

#include "engine_impl.h"
#include "secondary_index.h"
#include "storage_keys.h"
#include "tidewater/core/key_codec.h"
#include "tidewater/core/record_codec.h"
#include "tidewater/v1/change_record.pb.h"

namespace tidewater {
namespace {

// Queue entries applied per WriteBatch: bounds the batch and lets other tables have a turn.
constexpr size_t kWorkPerBatch = 256;
// Items a backfill indexes per WriteBatch.
constexpr size_t kBackfillPerBatch = 512;
// A wake-up without notice: retries after a failed write and refreshes the lag.
constexpr auto kIdleWake = std::chrono::milliseconds(200);

}  // namespace

EngineImpl::IndexWorkDone::IndexWorkDone(EngineImpl& engine, TableState& table,
                                         const PreparedChange& change)
    : engine_(&engine), table_(&table) {
  if (!change.index_work_key.empty()) number_ = change.index_work_number;
}

EngineImpl::IndexWorkDone::IndexWorkDone(IndexWorkDone&& other) noexcept
    : engine_(other.engine_), table_(other.table_), number_(other.number_) {
  other.number_.reset();
}

EngineImpl::IndexWorkDone::~IndexWorkDone() {
  if (!number_) return;
  table_->FinishIndexWork(*number_);
  engine_->NotifyGlobalIndexWork();
}

Result<TableDescription> EngineImpl::UpdateGlobalIndexes(const std::string& table,
                                                         const GlobalIndexUpdate& update) {
  Result<TableDescription> updated = catalog_->UpdateGlobalIndexes(table, update);
  if (updated.ok()) NotifyGlobalIndexWork();  // a backfill or dropped entries to remove
  return updated;
}

void EngineImpl::NotifyGlobalIndexWork() {
  {
    MutexLock lock(index_mu_);
    index_work_ = true;
  }
  index_cv_.NotifyOne();
}

void EngineImpl::GlobalIndexLoop() {
  while (true) {
    {
      MutexLock lock(index_mu_);
      if (!index_work_ && !index_stopping_) index_cv_.WaitFor(index_mu_, kIdleWake);
      if (index_stopping_) return;
      index_work_ = false;
    }
    bool more = false;
    for (const TablePtr& table : AllTables()) {
      if (table->index_entries() == nullptr) continue;
      // A failed write leaves its work (queued, or not yet backfilled) for the next pass.
      Result<bool> left = MaintainGlobalIndexes(*table);
      more = more || (left.ok() && *left);
    }
    if (more) {
      MutexLock lock(index_mu_);
      index_work_ = true;
    }
  }
}

Result<bool> EngineImpl::MaintainGlobalIndexes(TableState& table) {
  if (const std::vector<uint32_t> dropped = table.dropped_index_ordinals(); !dropped.empty()) {
    rocksdb::WriteBatch batch;
    for (uint32_t ordinal : dropped) {
      rocksdb::Status s =
          batch.DeleteRange(table.index_entries(), storage::IndexEntryPrefix(ordinal),
                            storage::IndexEntryPrefix(ordinal + 1));
      if (!s.ok()) return Status::IOError("storage: " + s.ToString());
    }
    rocksdb::Status written = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!written.ok()) return Status::IOError("storage: " + written.ToString());
    // Synced with the definition that forgets them.
    TW_RETURN_IF_ERROR(catalog_->ForgetDroppedIndexes(table, dropped));
  }
  const std::shared_ptr<const std::vector<SecondaryIndex>> indexes = table.global_indexes();
  std::vector<SecondaryIndex> backfilling;
  for (const SecondaryIndex& index : *indexes) {
    if (index.backfilling) backfilling.push_back(index);
  }
  if (!backfilling.empty()) return BackfillGlobalIndexes(table, backfilling);
  TW_RETURN_IF_ERROR(ApplyGlobalIndexWork(table, *indexes));
  return false;
}

Result<bool> EngineImpl::BackfillGlobalIndexes(TableState& table,
                                               const std::vector<SecondaryIndex>& backfilling) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, table.items()));
  if (table.backfill_after.empty()) {
    it->SeekToFirst();
  } else {
    it->Seek(table.backfill_after);
    if (it->Valid() && it->key() == table.backfill_after) it->Next();
  }
  rocksdb::WriteBatch batch;
  std::string last_key;
  size_t items = 0;
  for (; it->Valid() && items < kBackfillPerBatch; it->Next(), ++items) {
    v1::StoredItem stored;
    if (!stored.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::IOError("corrupt item in table '" + table.name() + "'");
    }
    last_key = it->key().ToString();
    if (stored.tombstone()) continue;
    TW_ASSIGN_OR_RETURN(Item item, FromProto(stored.attributes()));
    for (auto& [entry_key, entry] :
         IndexWrites(backfilling, table.key_schema(), last_key, nullptr, &item)) {
      batch.Put(table.index_entries(), entry_key, *entry);
    }
  }
  if (!it->status().ok()) return Status::IOError("storage: " + it->status().ToString());
  const bool done = !it->Valid();
  if (batch.Count() > 0) {
    rocksdb::Status written = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!written.ok()) return Status::IOError("storage: " + written.ToString());
  }
  if (!done) {
    table.backfill_after = std::move(last_key);
    return true;
  }
  table.backfill_after.clear();
  for (const SecondaryIndex& index : backfilling) {
    TW_RETURN_IF_ERROR(catalog_->FinishBackfill(table, index.ordinal));
  }
  return true;  // the queue's turn
}

Status EngineImpl::ApplyGlobalIndexWork(TableState& table,
                                        const std::vector<SecondaryIndex>& indexes) {
  std::set<std::string, std::less<>> live;  // the defined indexes' entry prefixes
  for (const SecondaryIndex& index : indexes) live.insert(storage::IndexEntryPrefix(index.ordinal));
  // Below `settled` every number is committed or abandoned: once this pass has applied what
  // it finds there, later passes start at `settled` and skip the deleted entries below it.
  const uint64_t settled = table.LowestUnfinishedIndexWork();
  // One iterator, so one snapshot, for the whole pass: an entry it cannot see yet hides
  // every later entry of the same item too (they were committed after it, in its shard),
  // so the pass never applies an item's changes out of order. The queue is the column
  // family's last range: the pass reads to its end.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, table.index_entries()));
  it->Seek(storage::IndexWorkKey(table.index_scan_from));
  while (true) {
    rocksdb::WriteBatch batch;
    size_t applied = 0;
    for (; it->Valid() && applied < kWorkPerBatch; it->Next()) {
      v1::GlobalIndexWork work;
      if (!work.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return Status::IOError("corrupt global index work in table '" + table.name() + "'");
      }
      if (applied == 0) {
        const uint64_t first = storage::IndexWorkNumber(it->key());
        const uint64_t next = table.PeekNextIndexWork();
        table.set_index_backlog(next > first ? next - first : 1, work.committed_micros());
      }
      for (const v1::GlobalIndexWork::EntryWrite& write : work.writes()) {
        if (!live.contains(std::string_view(write.entry_key()).substr(0, 4))) continue;
        if (write.has_entry()) {
          batch.Put(table.index_entries(), write.entry_key(), write.entry());
        } else {
          batch.Delete(table.index_entries(), write.entry_key());
        }
      }
      batch.Delete(table.index_entries(), it->key());
      ++applied;
    }
    if (!it->status().ok()) return Status::IOError("storage: " + it->status().ToString());
    if (applied == 0) {
      table.index_scan_from = std::max(table.index_scan_from, settled);
      table.set_index_backlog(0, 0);
      return Status::Ok();
    }
    // Not synced: a batch lost with the machine leaves its work queued (the queue entries
    // were synced with their items), and RocksDB recovers a prefix of its log.
    rocksdb::Status written = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!written.ok()) return Status::IOError("storage: " + written.ToString());
  }
}

}  // namespace tidewater
