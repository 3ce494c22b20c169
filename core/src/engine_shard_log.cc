// Cluster mode: applying the committed changes of a shard's replicated log, with the log
// reader's position in the same WriteBatch, and reading that position back.
// See docs/CLUSTER.md and shard_log_target.h.
#include <rocksdb/write_batch.h>

#include <optional>
#include <string_view>
#include <unordered_map>

#include "commit_support.h"
#include "engine_impl.h"
#include "storage_keys.h"
#include "tidewater/core/key_codec.h"

namespace tidewater {
namespace {

Status InvalidChange(size_t index, const std::string& why) {
  return Status::Validation("committed change " + std::to_string(index) + ": " + why);
}

// The change as a put (INSERT, MODIFY: the item it stores) or a delete (REMOVE: its key)
// of an item of `shard`.
Result<Target> ResolveCommitted(const TablePtr& table, const Shard& shard,
                                const v1::CommittedChange& change, size_t index) {
  if (change.record().event() == v1::REMOVE && change.has_item()) {
    return InvalidChange(index, "a REMOVE stores no item");
  }
  const bool stores_item = change.has_item() && !change.item().tombstone();
  Result<Target> target = LoggedChangeTarget(table, change.record(),
                                             stores_item ? &change.item().attributes() : nullptr);
  if (!target.ok()) return InvalidChange(index, target.status().message());
  // The shard's own hash range, not the shard that holds the hash now: a log may still be
  // applied after its shard was split.
  const uint64_t hash = keycodec::ReadHash(target->key);
  if (hash < shard.hash_begin || hash > shard.hash_end) {
    return InvalidChange(index, "its key is not in shard " + std::to_string(shard.index));
  }
  target->shard = shard.index;
  return target;
}

}  // namespace

Status EngineImpl::ApplyCommittedChanges(const CommittedBatch& batch) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(batch.table.value()));
  const uint32_t shard_index = batch.shard.value();
  if (shard_index >= table->shard_count()) {
    return Status::NotFound("Requested resource not found: Shard does not exist");
  }
  Shard& shard = table->shard(shard_index);
  std::vector<Target> targets;
  targets.reserve(batch.changes.size());
  for (size_t i = 0; i < batch.changes.size(); ++i) {
    TW_ASSIGN_OR_RETURN(Target target, ResolveCommitted(table, shard, batch.changes[i], i));
    targets.push_back(std::move(target));
  }

  LockedShards locked(*pipeline_, {&shard});
  shard.commit_mu.AssertHeld();  // by `locked`
  const auto config = table->config();
  rocksdb::WriteBatch write;
  std::vector<IndexWorkDone> work_done;
  // Items this batch already wrote (later changes of the same key see them).
  std::unordered_map<std::string, std::optional<std::string>> written;
  uint64_t newest_hlc = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    Target& t = targets[i];
    const v1::ChangeRecord& record = batch.changes[i].record();
    if (auto it = written.find(t.key); it != written.end()) {
      if (it->second) TW_RETURN_IF_ERROR(ParseStored(*it->second, t));
    } else {
      TW_RETURN_IF_ERROR(LoadCurrent(*db_, shard, t));
    }
    if (t.mutation.kind == Mutation::Kind::kPut) {
      t.next = t.mutation.item;
    } else if (!t.current) {
      // The owner deleted an item it had: this node's storage does not hold what the log
      // built, and applying more would build on that.
      return Status::Internal("shard " + std::to_string(shard_index) + " of " + table->name() +
                              " differs from its log: a REMOVE of an item it does not hold");
    }
    t.changes = true;
    const uint64_t sequence = record.sequence();
    if (sequence != 0 && !locked.AdoptSequence(shard, sequence)) {
      return InvalidChange(i, "sequence " + std::to_string(sequence) + " is not shard " +
                                  std::to_string(shard_index) + "'s next");
    }
    // The owner's record time, which the shard's later records must not fall below.
    const int64_t now = record.approximate_creation_time_micros();
    locked.AssignTime(now);
    const WriteOrigin origin{record.provenance()};
    const RecordContext context{&record.origin_region(),
                                &origin,
                                now,
                                &record.transaction_id(),
                                record.transaction_shard_participants(),
                                TombstoneIndex()};
    PreparedChange prepared = PrepareChange(t, record.version(), sequence, *config, context);
    // The stream shows the owner's record, whatever this node would have made of it, in
    // this node's stream: each node creates the table (and enables its stream) itself
    // until the catalog topic carries tables (docs/CLUSTER.md).
    if (!prepared.log_key.empty()) {
      if (record.stream_label() == config->stream_label) {
        prepared.record = record.SerializeAsString();
      } else {
        v1::ChangeRecord shown = record;
        shown.set_stream_label(config->stream_label);
        prepared.record = shown.SerializeAsString();
      }
    }
    prepared.AddTo(write);
    work_done.emplace_back(*this, *table, prepared);
    written[t.key] = std::move(prepared.stored);
    newest_hlc = std::max<uint64_t>(newest_hlc, record.version().hlc_micros());
  }
  write.Put(default_cf_, storage::ShardLogPositionKey(table->id(), shard_index), batch.position);
  TW_RETURN_IF_ERROR(locked.Commit(write));
  // Later local writes (after a take-over) stamp versions newer than the log's.
  if (newest_hlc != 0) hlc_.Observe(newest_hlc);
  return Status::Ok();
}

Result<std::optional<std::string>> EngineImpl::LoadShardLogPosition(const TableName& table_name,
                                                                    ShardIndex shard) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(table_name.value()));
  if (shard.value() >= table->shard_count()) {
    return Status::NotFound("Requested resource not found: Shard does not exist");
  }
  std::string value;
  rocksdb::Status s =
      db_->Get({}, default_cf_, storage::ShardLogPositionKey(table->id(), shard.value()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return StorageError(s);
  return std::optional<std::string>(std::move(value));
}

// --- The replicated log's view of the tables (ReplicatedCommitLog's lifecycle) ---

Status EngineImpl::RefuseInClusterMode(const std::string& what) const {
  if (options_.replicated_log == nullptr) return Status::Ok();
  return Status::Validation(what +
                            " is not available in cluster mode yet (docs/CLUSTER.md, \"What runs "
                            "today\")");
}

Status EngineImpl::OpenReplicatedTable(const TablePtr& table) {
  if (table->meta().shards_size() > 0) {
    return Status::Validation("table " + table->name() +
                              " has split shards: cluster mode serves only tables whose shards "
                              "never split (docs/CLUSTER.md)");
  }
  return options_.replicated_log->OpenTable(*this, TableName(table->name()), table->id(),
                                            table->shard_count());
}

Status EngineImpl::OpenReplicatedTables() {
  if (options_.replicated_log == nullptr) return Status::Ok();
  for (const TablePtr& table : AllTables()) TW_RETURN_IF_ERROR(OpenReplicatedTable(table));
  return Status::Ok();
}

Result<TableDescription> EngineImpl::CreateTable(const CreateTableRequest& request) {
  TW_ASSIGN_OR_RETURN(TableDescription created, catalog_->Create(request));
  if (options_.replicated_log == nullptr) return created;
  Result<TablePtr> table = FindTable(created.name);
  Status opened = table.ok() ? OpenReplicatedTable(*table) : table.status();
  if (!opened.ok()) {
    // Never a table whose shards no node serves.
    options_.replicated_log->CloseTable(TableName(created.name));
    (void)catalog_->Delete(created.name);
    return opened;
  }
  return created;
}

Status EngineImpl::AdmitReplicatedWrite(const TableState& table, ShardIndex shard) {
  if (options_.replicated_log == nullptr) return Status::Ok();
  return options_.replicated_log->Admit(TableName(table.name()), shard);
}

Status EngineImpl::AdmitReplicatedRead(const TableState& table,
                                       std::optional<std::string_view> key) {
  if (options_.replicated_log == nullptr) return Status::Ok();
  const TableName name(table.name());
  if (key) {
    return options_.replicated_log->AdmitRead(name,
                                              ShardIndex(table.ShardFor(keycodec::ReadHash(*key))));
  }
  for (uint32_t index = 0; index < table.shard_count(); ++index) {
    TW_RETURN_IF_ERROR(options_.replicated_log->AdmitRead(name, ShardIndex(index)));
  }
  return Status::Ok();
}

}  // namespace tidewater
