// Applying changes replicated from another region (last writer wins by version) with the
// source's checkpoint in the same WriteBatch, and reading the stored checkpoints.
// See docs/REPLICATION.md.
#include <rocksdb/write_batch.h>

#include <functional>
#include <optional>
#include <set>
#include <unordered_map>

#include "commit_support.h"
#include "engine_impl.h"
#include "storage_keys.h"
#include "tidewater/core/key_codec.h"

namespace tidewater {
namespace {

Status InvalidChange(size_t index, const std::string& why) {
  return Status::Validation("replication change " + std::to_string(index) + ": " + why);
}

Status ValidateRegion(const std::string& region) {
  if (region.empty() || region.size() > 64 || region.find('/') != std::string::npos) {
    return Status::Validation("source region must be 1 to 64 characters without '/'");
  }
  return Status::Ok();
}

Status ValidateCheckpointOrder(const ReplicationBatch& batch) {
  if (!batch.checkpoint) return Status::Ok();
  const ReplicationCheckpoint& checkpoint = *batch.checkpoint;
  if (checkpoint.next_sequence == SequenceNumber(0)) {
    return Status::Validation("checkpoint next_sequence must be at least 1");
  }
  uint64_t previous = 0;
  for (size_t i = 0; i < batch.changes.size(); ++i) {
    const ChangeRecord& change = batch.changes[i];
    if (change.sequence() == 0) continue;
    if (ShardIndex(change.shard()) != checkpoint.shard) {
      return InvalidChange(i, "shard " + std::to_string(change.shard()) +
                                  " is not the checkpoint's shard " +
                                  std::to_string(checkpoint.shard.value()));
    }
    if (change.sequence() <= previous ||
        SequenceNumber(change.sequence()) >= checkpoint.next_sequence) {
      return InvalidChange(i, "sequence " + std::to_string(change.sequence()) +
                                  " is out of order or not below the checkpoint");
    }
    previous = change.sequence();
  }
  return Status::Ok();
}

// The change as a put (INSERT, MODIFY) or delete (REMOVE) of its target item.
Result<Target> ResolveChange(const TablePtr& table, const ChangeRecord& change, size_t index) {
  const bool puts = change.event() == v1::INSERT || change.event() == v1::MODIFY;
  if (puts && !change.has_new_image()) {
    return InvalidChange(index,
                         "an INSERT or MODIFY needs its new image (the source stream's view "
                         "type must be NEW_IMAGE or NEW_AND_OLD_IMAGES)");
  }
  Result<Target> target = LoggedChangeTarget(table, change, &change.new_image());
  if (!target.ok()) return InvalidChange(index, target.status().message());
  target->shard = table->ShardFor(keycodec::ReadHash(target->key));
  return target;
}

std::string EncodeSequence(uint64_t sequence) {
  std::string value;
  keycodec::AppendHash(sequence, &value);
  return value;
}

}  // namespace

Result<ReplicationApplyResult> EngineImpl::ApplyReplicationBatch(const ReplicationBatch& batch) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(batch.table.value()));
  TW_RETURN_IF_ERROR(ValidateRegion(batch.source_region));
  TW_RETURN_IF_ERROR(ValidateCheckpointOrder(batch));
  std::vector<Target> targets;
  targets.reserve(batch.changes.size());
  for (size_t i = 0; i < batch.changes.size(); ++i) {
    TW_ASSIGN_OR_RETURN(Target target, ResolveChange(table, batch.changes[i], i));
    targets.push_back(std::move(target));
  }

  ReplicationApplyResult result;
  // The stored checkpoint is checked and written under its stripe lock.
  std::unique_lock<std::mutex> stripe;
  std::string checkpoint_key;
  uint64_t stored_next = 0;
  if (batch.checkpoint) {
    checkpoint_key = storage::ReplicationCheckpointKey(table->id(), batch.source_region,
                                                       batch.checkpoint->shard.value());
    stripe = std::unique_lock(replication_stripes_[std::hash<std::string>{}(checkpoint_key) %
                                                   replication_stripes_.size()]);
    std::string value;
    rocksdb::Status s = db_->Get({}, default_cf_, checkpoint_key, &value);
    if (s.ok() && value.size() == 8) {
      stored_next = keycodec::ReadHash(value);
    } else if (!s.IsNotFound()) {
      return s.ok() ? Status::IOError("corrupt replication checkpoint") : StorageError(s);
    }
    if (batch.checkpoint->next_sequence <= SequenceNumber(stored_next)) {
      result.duplicates = batch.changes.size();
      result.checkpoint_next_sequence = SequenceNumber(stored_next);
      return result;
    }
  }
  const auto duplicate = [&](size_t i) {
    return batch.changes[i].sequence() != 0 && batch.changes[i].sequence() < stored_next;
  };

  // Lock every target shard, in order, each drained of queued groups (as TransactWrite).
  std::optional<LockedShards> locked;
  LockTargetShards(*pipeline_, targets, locked, [&](size_t i) { return !duplicate(i); });
  // Cluster mode: every shard the batch writes must be one this node serves now; otherwise
  // ServiceUnavailable (retried by the replicator) before anything is prepared.
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!duplicate(i)) {
      TW_RETURN_IF_ERROR(AdmitReplicatedWrite(*table, ShardIndex(targets[i].shard)));
    }
  }

  const auto config = table->config();
  const WriteOrigin origin{v1::REPLICATION};
  static const std::string kNoTransaction;
  const int64_t now = locked->AssignTime(options_.clock->NowMicros());
  rocksdb::WriteBatch write;
  CommitManifest manifest;
  std::vector<IndexWorkDone> work_done;
  // Items this batch already wrote (later changes of the same key see them).
  std::unordered_map<std::string, std::optional<std::string>> written;
  uint64_t newest_hlc = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (duplicate(i)) {
      ++result.duplicates;
      continue;
    }
    Target& t = targets[i];
    const ChangeRecord& change = batch.changes[i];
    Status loaded;
    if (auto it = written.find(t.key); it != written.end()) {
      if (it->second) loaded = ParseStored(*it->second, t);
    } else {
      loaded = LoadCurrent(*db_, table->shard(t.shard), t);
    }
    TW_RETURN_IF_ERROR(loaded);
    if (!NewerVersion(change.version(), t.current_version)) {
      ++result.skipped;
      continue;
    }
    if (t.mutation.kind == Mutation::Kind::kPut) t.next = t.mutation.item;
    t.changes = t.next != t.current;
    const uint64_t sequence =
        t.changes && config->stream.enabled ? locked->AssignSequence(table->shard(t.shard)) : 0;
    const std::string& origin_region =
        change.origin_region().empty() ? change.version().region() : change.origin_region();
    const RecordContext context{&origin_region,
                                &origin,
                                now,
                                &kNoTransaction,
                                0,
                                TombstoneIndex(),
                                options_.replicated_log != nullptr};
    PreparedChange prepared = PrepareChange(t, change.version(), sequence, *config, context);
    prepared.AddTo(write);
    if (prepared.committed) manifest.push_back(std::move(*prepared.committed));
    work_done.emplace_back(*this, *table, prepared);
    written[t.key] = std::move(prepared.stored);
    newest_hlc = std::max<uint64_t>(newest_hlc, change.version().hlc_micros());
    ++result.applied;
  }
  if (batch.checkpoint) {
    write.Put(default_cf_, checkpoint_key, EncodeSequence(batch.checkpoint->next_sequence.value()));
    result.checkpoint_next_sequence = batch.checkpoint->next_sequence;
  }

  TW_RETURN_IF_ERROR(locked->Commit(write, std::move(manifest)));
  // The hybrid-logical clock's receive rule: later local writes stamp newer versions.
  if (newest_hlc != 0) hlc_.Observe(newest_hlc);
  return result;
}

Result<std::map<ShardIndex, SequenceNumber>> EngineImpl::LoadReplicationCheckpoints(
    const TableName& table_name, const std::string& source_region) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(table_name.value()));
  TW_RETURN_IF_ERROR(ValidateRegion(source_region));
  const std::string prefix = storage::ReplicationCheckpointPrefix(table->id(), source_region);
  std::map<ShardIndex, SequenceNumber> checkpoints;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, default_cf_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string shard(it->key().data() + prefix.size(), it->key().size() - prefix.size());
    if (it->value().size() != 8 || shard.empty() ||
        shard.find_first_not_of("0123456789") != std::string::npos) {
      return Status::IOError("corrupt replication checkpoint " + it->key().ToString());
    }
    checkpoints[ShardIndex(static_cast<uint32_t>(std::stoul(shard)))] =
        SequenceNumber(keycodec::ReadHash(std::string_view(it->value().data(), 8)));
  }
  if (!it->status().ok()) return StorageError(it->status());
  return checkpoints;
}

}  // namespace tidewater
