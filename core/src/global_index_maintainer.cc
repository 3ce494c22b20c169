// The global index maintainer: applies each table's queued global index work (see
// storage::IndexWorkKey). A commit queues an item change's entry writes in the item's own
// WriteBatch; the maintainer applies them in queue order and deletes the queue entries in
// the same WriteBatch, so that after a crash each entry has been applied once or is still
// queued, and one item's changes reach the index in the order they were committed.
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "engine_impl.h"
#include "storage_keys.h"
#include "tidewater/v1/change_record.pb.h"

namespace tidewater {
namespace {

// Queue entries applied per WriteBatch: bounds the batch and lets other tables have a turn.
constexpr size_t kWorkPerBatch = 256;
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
  engine_->NotifyGlobalIndexWork(*table_);
}

void EngineImpl::NotifyGlobalIndexWork(const TableState& table) {
  if (table.global_indexes().empty()) return;
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
    for (const TablePtr& table : AllTables()) {
      if (table->global_indexes().empty() || table->index_entries() == nullptr) continue;
      (void)ApplyGlobalIndexWork(*table);  // a failed write stays queued for the next pass
    }
  }
}

Status EngineImpl::ApplyGlobalIndexWork(TableState& table) {
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
