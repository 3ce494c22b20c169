// The commit path. Every write goes through its shard's commit order: it reads the current
// item, checks its condition, assigns the shard's next sequence number and commits the new
// item together with its change record in ONE RocksDB WriteBatch. Writers to one shard
// share RocksDB writes (group commit, see Shard in engine_impl.h); transactions drain
// their shards, lock them in a global order and commit one batch.
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <set>

#include "commit_support.h"
#include "engine_impl.h"
#include "item_validation.h"
#include "storage_keys.h"
#include "tidewater/core/key_codec.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {

void PreparedChange::AddTo(rocksdb::WriteBatch& batch) const {
  if (stored) {
    batch.Put(items, key, *stored);
  } else {
    batch.Delete(items, key);
  }
  if (!log_key.empty()) batch.Put(log, log_key, record);
  if (!tombstone_index_key.empty()) batch.Put(index, tombstone_index_key, rocksdb::Slice());
}

namespace {

// Runs the condition and computes the new item. Does not touch storage.
Status Evaluate(Target& target) {
  const Item* current = target.current ? &*target.current : nullptr;
  if (target.mutation.condition) TW_RETURN_IF_ERROR(target.mutation.condition(current));
  switch (target.mutation.kind) {
    case Mutation::Kind::kPut:
      target.next = std::move(target.mutation.item);
      break;
    case Mutation::Kind::kDelete:
      target.next.reset();
      break;
    case Mutation::Kind::kUpdate: {
      if (!target.mutation.updater) return Status::Validation("UpdateItem without an update");
      TW_ASSIGN_OR_RETURN(Item updated, target.mutation.updater(current));
      TW_RETURN_IF_ERROR(
          ValidateUpdatedItem(target.table->key_schema(), target.mutation.item, updated));
      target.next = std::move(updated);
      break;
    }
    case Mutation::Kind::kConditionCheck:
      target.next = target.current;
      break;
  }
  target.changes = target.next != target.current;
  return Status::Ok();
}

Item KeyOf(const KeySchema& schema, const Item& item) {
  Item key;
  key.emplace(schema.partition_key.name, item.at(schema.partition_key.name));
  if (schema.sort_key) key.emplace(schema.sort_key->name, item.at(schema.sort_key->name));
  return key;
}

v1::EventName EventOf(const Target& target) {
  if (!target.next) return v1::REMOVE;
  return target.current ? v1::MODIFY : v1::INSERT;
}

}  // namespace

Status StorageError(const rocksdb::Status& s) {
  return Status::IOError("storage: " + s.ToString());
}

Status ParseStored(std::string_view value, Target& target) {
  v1::StoredItem stored;
  if (!stored.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Status::IOError("corrupt stored item");
  }
  target.current_version = stored.version();
  if (stored.tombstone()) return Status::Ok();
  TW_ASSIGN_OR_RETURN(Item item, FromProto(stored.attributes()));
  target.current = std::move(item);
  return Status::Ok();
}

Status LoadCurrent(rocksdb::DB& db, const Shard& shard, Target& target) {
  std::string value;
  auto pending = shard.overlay.find(target.key);
  if (pending != shard.overlay.end()) {
    target.depends_on_tag = pending->second.first;
    if (!pending->second.second) return Status::Ok();
    return ParseStored(*pending->second.second, target);
  }
  rocksdb::Status s = db.Get({}, target.table->items(), target.key, &value);
  if (s.IsNotFound()) return Status::Ok();
  if (!s.ok()) return StorageError(s);
  return ParseStored(value, target);
}

bool NewerVersion(const v1::Version& a, const v1::Version& b) {
  if (a.hlc_micros() != b.hlc_micros()) return a.hlc_micros() > b.hlc_micros();
  return a.region() > b.region();
}

PreparedChange PrepareChange(const Target& t, const v1::Version& version, uint64_t sequence,
                             const TableConfig& config, const RecordContext& context) {
  PreparedChange change;
  change.items = t.table->items();
  change.key = t.key;
  const KeySchema& schema = t.table->key_schema();
  if (t.next) {
    v1::StoredItem stored;
    ToProto(*t.next, stored.mutable_attributes());
    *stored.mutable_version() = version;
    change.stored = stored.SerializeAsString();
  } else if (context.tombstone_index != nullptr) {
    v1::StoredItem tombstone;
    ToProto(KeyOf(schema, t.current ? *t.current : t.mutation.item),
            tombstone.mutable_attributes());
    *tombstone.mutable_version() = version;
    tombstone.set_tombstone(true);
    tombstone.set_deleted_at_micros(context.now_micros);
    change.stored = tombstone.SerializeAsString();
    change.index = context.tombstone_index;
    change.tombstone_index_key =
        storage::TombstoneIndexKey(t.table->id(), context.now_micros, t.key);
  }
  if (sequence == 0 || (!t.next && !t.current)) return change;

  v1::ChangeRecord record;
  record.set_table(t.table->name());
  record.set_shard(t.shard);
  record.set_sequence(sequence);
  record.set_event(EventOf(t));
  Item keys = KeyOf(schema, t.next ? *t.next : *t.current);
  size_t size = ItemSize(keys);
  ToProto(keys, record.mutable_keys());
  const StreamViewType view = config.stream.view_type;
  const bool wants_new =
      view == StreamViewType::kNewImage || view == StreamViewType::kNewAndOldImages;
  const bool wants_old =
      view == StreamViewType::kOldImage || view == StreamViewType::kNewAndOldImages;
  if (wants_new && t.next) {
    ToProto(*t.next, record.mutable_new_image());
    size += ItemSize(*t.next);
  }
  if (wants_old && t.current) {
    ToProto(*t.current, record.mutable_old_image());
    size += ItemSize(*t.current);
  }
  record.set_approximate_creation_time_micros(context.now_micros);
  record.set_size_bytes(size);
  record.set_view_type(ToProto(view));
  record.set_provenance(context.origin->provenance);
  record.set_origin_region(*context.origin_region);
  *record.mutable_version() = version;
  record.set_stream_label(config.stream_label);
  if (!context.transaction_id->empty()) {
    record.set_transaction_id(*context.transaction_id);
    record.set_transaction_shard_participants(context.shard_participants);
  }
  change.log = t.table->log();
  change.log_key = storage::LogKey(t.shard, sequence);
  change.record = record.SerializeAsString();
  return change;
}

v1::Version EngineImpl::LocalVersion(const v1::Version& current) {
  v1::Version version;
  version.set_hlc_micros(NextVersion(current.hlc_micros() + 1));
  version.set_region(options_.region);
  return version;
}

rocksdb::ColumnFamilyHandle* EngineImpl::TombstoneIndex() const {
  return options_.tombstone_retention_micros > 0 ? default_cf_ : nullptr;
}

uint64_t EngineImpl::NextVersion(uint64_t at_least) {
  const uint64_t now = static_cast<uint64_t>(options_.clock->NowMicros());
  uint64_t last = last_version_.load(std::memory_order_relaxed);
  uint64_t next;
  do {
    next = std::max({now, last + 1, at_least});
  } while (!last_version_.compare_exchange_weak(last, next, std::memory_order_relaxed));
  return next;
}

Result<WriteResult> EngineImpl::PutItem(const std::string& table, Item item,
                                        const WriteCondition& condition,
                                        const WriteOrigin& origin) {
  return WriteOne({Mutation::Kind::kPut, table, std::move(item), condition, {}}, origin);
}

Result<WriteResult> EngineImpl::DeleteItem(const std::string& table, const Item& key,
                                           const WriteCondition& condition,
                                           const WriteOrigin& origin) {
  return WriteOne({Mutation::Kind::kDelete, table, key, condition, {}}, origin);
}

Result<WriteResult> EngineImpl::UpdateItem(const std::string& table, const Item& key,
                                           const ItemUpdater& updater,
                                           const WriteCondition& condition,
                                           const WriteOrigin& origin) {
  return WriteOne({Mutation::Kind::kUpdate, table, key, condition, updater}, origin);
}

void CommitGroup::Add(Shard* shard, uint64_t sequence, uint64_t tag) {
  for (auto& progress : shards) {
    if (progress.shard == shard) {
      progress.last_sequence = std::max(progress.last_sequence, sequence);
      progress.last_tag = std::max(progress.last_tag, tag);
      ++progress.writes;
      return;
    }
  }
  shards.push_back({shard, sequence, tag, 1});
}

Result<std::shared_ptr<CommitGroup>> EngineImpl::OpenGroup() {
  if (!write_failure_.ok()) return write_failure_;
  if (!open_group_) open_group_ = std::make_shared<CommitGroup>();
  return open_group_;
}

Status EngineImpl::AwaitGroup(const std::shared_ptr<CommitGroup>& group) {
  std::unique_lock lock(group_mu_);
  while (!group->done) {
    if (leader_active_) {
      group_cv_.wait(lock);
      continue;
    }
    // Lead. Groups are written in order and ours is not done, so it is the open one.
    leader_active_ = true;
    std::shared_ptr<CommitGroup> writing = std::move(open_group_);
    lock.unlock();
    rocksdb::Status s = writing->batch.Count() > 0 ? db_->Write(write_options_, &writing->batch)
                                                   : rocksdb::Status::OK();
    // Make each shard's progress visible before the next group can be written, so that
    // committed sequences only grow.
    bool published = false;
    for (const auto& progress : writing->shards) {
      Shard& shard = *progress.shard;
      std::lock_guard shard_lock(shard.commit_mu);
      shard.pending -= progress.writes;
      if (s.ok()) {
        shard.durable_tag = std::max(shard.durable_tag, progress.last_tag);
        std::erase_if(shard.overlay,
                      [&](const auto& entry) { return entry.second.first <= progress.last_tag; });
        if (progress.last_sequence != 0) {
          shard.committed_sequence.store(progress.last_sequence, std::memory_order_release);
          published = true;
        }
      }
      shard.commit_cv.notify_all();
    }
    if (published) NotifyCommit();
    lock.lock();
    leader_active_ = false;
    writing->done = true;
    if (!s.ok()) {
      // What is queued behind was prepared on top of the failed writes: the engine stops
      // accepting writes until it is reopened (RocksDB too is read-only after a failed
      // write), and recovery restores a consistent log.
      write_failure_ = StorageError(s);
      writing->status = write_failure_;
      if (open_group_) {
        open_group_->done = true;
        open_group_->status = write_failure_;
        open_group_.reset();
      }
    }
    group_cv_.notify_all();
  }
  return group->status;
}

Status EngineImpl::CommitDirect(Shard& shard, const PreparedChange& change, uint64_t sequence,
                                uint64_t tag) {
  {
    std::lock_guard group_lock(group_mu_);
    if (!write_failure_.ok()) return write_failure_;
  }
  rocksdb::WriteBatch batch;
  change.AddTo(batch);
  rocksdb::Status s = db_->Write(write_options_, &batch);
  if (!s.ok()) {
    std::lock_guard group_lock(group_mu_);
    write_failure_ = StorageError(s);
    return write_failure_;
  }
  shard.last_tag = shard.durable_tag = tag;
  if (sequence != 0) {
    shard.last_sequence = sequence;
    shard.committed_sequence.store(sequence, std::memory_order_release);
    NotifyCommit();
  }
  return Status::Ok();
}

void EngineImpl::DrainShard(Shard& shard, std::unique_lock<std::mutex>& lock) {
  ++shard.exclusive_waiters;
  shard.commit_cv.wait(lock, [&] { return shard.pending == 0; });
  --shard.exclusive_waiters;
}

namespace {

template <typename FindTable>
Result<Target> Resolve(Mutation mutation, const FindTable& find) {
  Target target;
  TW_ASSIGN_OR_RETURN(target.table, find(mutation.table));
  const KeySchema& schema = target.table->key_schema();
  if (mutation.kind == Mutation::Kind::kPut) {
    TW_RETURN_IF_ERROR(ValidatePutItem(schema, mutation.item));
  } else {
    TW_RETURN_IF_ERROR(ValidateKeyItem(schema, mutation.item));
  }
  const AttributeValue& pk = mutation.item.at(schema.partition_key.name);
  const AttributeValue* sk = schema.sort_key ? &mutation.item.at(schema.sort_key->name) : nullptr;
  target.key = keycodec::EncodeItemKey(pk, sk);
  target.shard = keycodec::ShardOf(keycodec::ReadHash(target.key), target.table->shard_count());
  target.mutation = std::move(mutation);
  return target;
}

}  // namespace

Result<WriteResult> EngineImpl::WriteOne(Mutation mutation, const WriteOrigin& origin) {
  const auto find = [this](const std::string& name) { return FindTable(name); };
  TW_ASSIGN_OR_RETURN(Target t, Resolve(std::move(mutation), find));
  Shard& shard = t.table->shard(t.shard);
  std::unique_lock lock(shard.commit_mu);
  shard.commit_cv.wait(lock, [&] { return shard.exclusive_waiters == 0; });
  TW_RETURN_IF_ERROR(LoadCurrent(*db_, shard, t));
  Status evaluated = Evaluate(t);
  if (!evaluated.ok() || !t.changes) {
    // The answer rests on a queued write: give it only once that write is durable, by
    // joining the open group (written after the one holding that write).
    if (t.depends_on_tag > shard.durable_tag) {
      std::shared_ptr<CommitGroup> group;
      {
        std::lock_guard group_lock(group_mu_);
        TW_ASSIGN_OR_RETURN(group, OpenGroup());
      }
      lock.unlock();
      TW_RETURN_IF_ERROR(AwaitGroup(group));
    }
    TW_RETURN_IF_ERROR(evaluated);
    return WriteResult{std::move(t.current), std::move(t.next)};
  }

  const auto config = t.table->config();
  const uint64_t sequence = config->stream.enabled ? shard.last_sequence + 1 : 0;
  const uint64_t tag = shard.last_tag + 1;
  static const std::string kNoTransaction;
  const RecordContext context{&options_.region, &origin, options_.clock->NowMicros(),
                              &kNoTransaction,  0,       TombstoneIndex()};
  PreparedChange change =
      PrepareChange(t, LocalVersion(t.current_version), sequence, *config, context);
  if (!options_.sync) {
    // Without fsync a RocksDB write costs microseconds: writing under the shard lock is
    // cheaper than handing the write to a group leader (a thread wake-up per write).
    TW_RETURN_IF_ERROR(CommitDirect(shard, change, sequence, tag));
    return WriteResult{std::move(t.current), std::move(t.next)};
  }
  std::shared_ptr<CommitGroup> group;
  {
    std::lock_guard group_lock(group_mu_);
    TW_ASSIGN_OR_RETURN(group, OpenGroup());
    change.AddTo(group->batch);
    group->Add(&shard, sequence, tag);
  }
  if (sequence != 0) shard.last_sequence = sequence;
  shard.last_tag = tag;
  ++shard.pending;
  shard.overlay[t.key] = {tag, std::move(change.stored)};
  lock.unlock();
  TW_RETURN_IF_ERROR(AwaitGroup(group));
  return WriteResult{std::move(t.current), std::move(t.next)};
}

Result<std::vector<WriteResult>> EngineImpl::TransactWrite(std::vector<Mutation> mutations,
                                                           const WriteOrigin& origin) {
  if (mutations.empty()) {
    return Status::Validation("A transaction must contain at least one action");
  }
  if (mutations.size() == 1 && mutations.front().kind != Mutation::Kind::kConditionCheck) {
    auto one = WriteOne(std::move(mutations.front()), origin);
    if (!one.ok()) {
      if (one.status().code() == ErrorCode::kValidation ||
          one.status().code() == ErrorCode::kResourceNotFound ||
          one.status().code() == ErrorCode::kIOError) {
        return one.status();
      }
      return Status::TransactionCanceled({one.status()});
    }
    std::vector<WriteResult> results;
    results.push_back(std::move(*one));
    return results;
  }

  // Resolve tables and keys, validate input (no locks held).
  const auto find = [this](const std::string& name) { return FindTable(name); };
  std::vector<Target> targets;
  targets.reserve(mutations.size());
  std::set<std::pair<uint64_t, std::string>> seen_keys;
  for (auto& mutation : mutations) {
    TW_ASSIGN_OR_RETURN(Target target, Resolve(std::move(mutation), find));
    if (!seen_keys.emplace(target.table->id(), target.key).second) {
      return Status::Validation(
          "Transaction request cannot include multiple operations on one item");
    }
    targets.push_back(std::move(target));
  }

  // Lock every shard involved, in (table id, shard) order, each drained of queued groups.
  using ShardKey = std::pair<uint64_t, uint32_t>;
  std::map<ShardKey, Shard*> shards;
  for (auto& t : targets)
    shards.emplace(ShardKey{t.table->id(), t.shard}, &t.table->shard(t.shard));
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(shards.size());
  for (auto& [key, shard] : shards) {
    locks.emplace_back(shard->commit_mu);
    DrainShard(*shard, locks.back());
  }
  const auto wake_writers = [&] {
    for (auto& [key, shard] : shards) shard->commit_cv.notify_all();
  };

  // Read current items, evaluate conditions and updates.
  std::vector<Status> reasons(targets.size());
  bool canceled = false;
  for (size_t i = 0; i < targets.size(); ++i) {
    Status loaded =
        LoadCurrent(*db_, *shards.at({targets[i].table->id(), targets[i].shard}), targets[i]);
    if (!loaded.ok()) {
      wake_writers();
      return loaded;
    }
    reasons[i] = Evaluate(targets[i]);
    if (!reasons[i].ok()) canceled = true;
  }
  if (canceled) {
    wake_writers();
    return Status::TransactionCanceled(std::move(reasons));
  }

  // One batch: items plus records, sequences assigned per shard in action order.
  std::map<ShardKey, uint32_t> participants;
  for (auto& t : targets) {
    if (t.changes && t.table->config()->stream.enabled) ++participants[{t.table->id(), t.shard}];
  }
  const std::string transaction_id =
      participants.empty() ? std::string()
                           : options_.region + "-" + std::to_string(options_.clock->NowMicros()) +
                                 "-" + std::to_string(next_transaction_.fetch_add(1));
  const int64_t now = options_.clock->NowMicros();
  rocksdb::WriteBatch batch;
  std::map<ShardKey, uint64_t> next_sequence;
  for (auto& t : targets) {
    if (!t.changes) continue;
    const ShardKey shard_key{t.table->id(), t.shard};
    const auto config = t.table->config();
    uint64_t sequence = 0;
    if (config->stream.enabled) {
      auto [it, inserted] = next_sequence.try_emplace(shard_key, 0);
      if (inserted) it->second = shards.at(shard_key)->last_sequence;
      sequence = ++it->second;
    }
    const RecordContext context{&options_.region,        &origin,         now, &transaction_id,
                                participants[shard_key], TombstoneIndex()};
    PrepareChange(t, LocalVersion(t.current_version), sequence, *config, context).AddTo(batch);
  }
  {
    std::lock_guard group_lock(group_mu_);
    if (!write_failure_.ok()) {
      wake_writers();
      return write_failure_;
    }
  }
  if (batch.Count() > 0) {
    rocksdb::Status s = db_->Write(write_options_, &batch);
    if (!s.ok()) {
      std::lock_guard group_lock(group_mu_);
      write_failure_ = StorageError(s);
      wake_writers();
      return write_failure_;
    }
  }
  for (const auto& [shard_key, sequence] : next_sequence) {
    Shard& shard = *shards.at(shard_key);
    shard.last_sequence = sequence;
    shard.committed_sequence.store(sequence, std::memory_order_release);
  }
  if (!next_sequence.empty()) NotifyCommit();
  wake_writers();

  std::vector<WriteResult> results;
  results.reserve(targets.size());
  for (auto& t : targets) results.push_back({std::move(t.current), std::move(t.next)});
  return results;
}

}  // namespace tidewater
