// Item logic of local writes. Every write goes through its shard's commit order: it reads
// the current item, checks its condition, assigns the shard's next sequence number and
// commits the new item together with its change record in ONE WriteBatch through the
// commit pipeline (ShardWriter for one item, LockedShards for a transaction; see
// commit_pipeline.h).
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <optional>
#include <set>

#include "commit_support.h"
#include "engine_impl.h"
#include "item_validation.h"
#include "secondary_index.h"
#include "storage_keys.h"
#include "tidewater/core/key_codec.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {

namespace {

Status ValidateIndexKeys(const TableState& table, const Item& item) {
  TW_RETURN_IF_ERROR(ValidateIndexKeys(table.local_indexes(), item));
  return ValidateIndexKeys(*table.global_indexes(), item);
}

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
      TW_ASSIGN_OR_RETURN(std::optional<Item> updated, target.mutation.updater(current));
      if (!updated) {
        if (current != nullptr) return Status::Internal("an updater removed an existing item");
        target.next.reset();
        break;
      }
      TW_RETURN_IF_ERROR(
          ValidateUpdatedItem(target.table->key_schema(), target.mutation.item, *updated));
      TW_RETURN_IF_ERROR(ValidateIndexKeys(*target.table, *updated));
      target.next = std::move(*updated);
      break;
    }
    case Mutation::Kind::kConditionCheck:
      target.next = target.current;
      break;
  }
  target.changes = target.next != target.current;
  return Status::Ok();
}

v1::EventName EventOf(const Target& target) {
  if (!target.next) return v1::REMOVE;
  return target.current ? v1::MODIFY : v1::INSERT;
}

}  // namespace

Item KeyOf(const KeySchema& schema, const Item& item) {
  Item key;
  key.emplace(schema.partition_key.name, item.at(schema.partition_key.name));
  if (schema.sort_key) key.emplace(schema.sort_key->name, item.at(schema.sort_key->name));
  return key;
}

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

Result<Target> LoggedChangeTarget(const TablePtr& table, const v1::ChangeRecord& record,
                                  const v1::MapValue* image) {
  if (record.version().hlc_micros() == 0 || record.version().region().empty()) {
    return Status::Validation("a version (hlc_micros and region) is required");
  }
  const KeySchema& schema = table->key_schema();
  Target target;
  target.table = table;
  switch (record.event()) {
    case v1::INSERT:
    case v1::MODIFY: {
      if (image == nullptr) return Status::Validation("an INSERT or MODIFY needs its item");
      TW_ASSIGN_OR_RETURN(Item item, FromProto(*image));
      TW_RETURN_IF_ERROR(ValidatePutItem(schema, item));
      target.mutation.kind = Mutation::Kind::kPut;
      target.mutation.item = std::move(item);
      break;
    }
    case v1::REMOVE: {
      TW_ASSIGN_OR_RETURN(Item key, FromProto(record.keys()));
      TW_RETURN_IF_ERROR(ValidateKeyItem(schema, key));
      target.mutation.kind = Mutation::Kind::kDelete;
      target.mutation.item = std::move(key);
      break;
    }
    default:
      return Status::Validation("unknown event");
  }
  target.mutation.table = table->name();
  const Item& item = target.mutation.item;
  const AttributeValue* sk = schema.sort_key ? &item.at(schema.sort_key->name) : nullptr;
  target.key = keycodec::EncodeItemKey(item.at(schema.partition_key.name), sk);
  return target;
}

Status LoadCurrent(rocksdb::DB& db, const Shard& shard, Target& target)
    TW_REQUIRES(shard.commit_mu) {
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
  v1::StoredItem next_item;  // as stored; also what a shard's log carries in cluster mode
  if (t.next) {
    ToProto(*t.next, next_item.mutable_attributes());
    *next_item.mutable_version() = version;
    change.stored = next_item.SerializeAsString();
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
  const Item* before = t.current ? &*t.current : nullptr;
  const Item* after = t.next ? &*t.next : nullptr;
  change.index_entries = t.table->index_entries();
  if (!t.table->local_indexes().empty()) {
    change.index_writes = IndexWrites(t.table->local_indexes(), schema, t.key, before, after);
  }
  // Read under the shard's commit lock: see TableState::global_indexes.
  if (const auto globals = t.table->global_indexes(); !globals->empty()) {
    std::optional<std::string> work =
        GlobalIndexWork(*globals, schema, t.key, before, after, context.now_micros);
    if (work) {
      change.index_work_number = t.table->StartIndexWork();
      change.index_work_key = storage::IndexWorkKey(change.index_work_number);
      change.index_work = std::move(*work);
    }
  }
  if (config.keeps_history && (t.next || t.current)) {
    v1::StoredItem state;
    if (t.next) {
      ToProto(*t.next, state.mutable_attributes());
    } else {
      ToProto(KeyOf(schema, *t.current), state.mutable_attributes());
      state.set_tombstone(true);
    }
    *state.mutable_version() = version;
    change.history_key = storage::HistoryKey(t.key, context.now_micros);
    change.history = state.SerializeAsString();
  }
  if ((sequence == 0 && !context.replicated) || (!t.next && !t.current)) return change;

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
  if (sequence != 0) {
    change.log = t.table->log();
    change.log_key = storage::LogKey(t.shard, sequence);
    change.record = record.SerializeAsString();
  }
  if (context.replicated) {
    ManifestEntry entry{t.table->id(), t.table->name(), t.shard, {}};
    *entry.change.mutable_record() = std::move(record);
    if (t.next) *entry.change.mutable_item() = std::move(next_item);
    change.committed = std::move(entry);
  }
  return change;
}

uint64_t EngineImpl::CollectionBytesFor(const Target& t) {
  if (t.table->local_indexes().empty() || t.mutation.kind == Mutation::Kind::kDelete ||
      t.mutation.kind == Mutation::Kind::kConditionCheck) {
    return 0;
  }
  return CollectionBytes(*t.table, t.mutation.item.at(t.table->key_schema().partition_key.name));
}

rocksdb::ColumnFamilyHandle* EngineImpl::TombstoneIndex() const {
  return options_.tombstone_retention_micros > 0 ? default_cf_ : nullptr;
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

namespace {

template <typename FindTable>
Result<Target> Resolve(Mutation mutation, const FindTable& find) {
  Target target;
  TW_ASSIGN_OR_RETURN(target.table, find(mutation.table));
  const KeySchema& schema = target.table->key_schema();
  if (mutation.kind == Mutation::Kind::kPut) {
    TW_RETURN_IF_ERROR(ValidatePutItem(schema, mutation.item));
    TW_RETURN_IF_ERROR(ValidateIndexKeys(*target.table, mutation.item));
  } else {
    TW_RETURN_IF_ERROR(ValidateKeyItem(schema, mutation.item));
  }
  const AttributeValue& pk = mutation.item.at(schema.partition_key.name);
  const AttributeValue* sk = schema.sort_key ? &mutation.item.at(schema.sort_key->name) : nullptr;
  target.key = keycodec::EncodeItemKey(pk, sk);
  target.shard = target.table->ShardFor(keycodec::ReadHash(target.key));
  target.mutation = std::move(mutation);
  return target;
}

}  // namespace

Result<WriteResult> EngineImpl::WriteOne(Mutation mutation, const WriteOrigin& origin) {
  const auto find = [this](const std::string& name) { return FindTable(name); };
  TW_ASSIGN_OR_RETURN(Target t, Resolve(std::move(mutation), find));
  // Estimated before the lock (an estimate either way): only writes to tables with local
  // indexes have an item collection limit.
  const uint64_t collection = CollectionBytesFor(t);
  for (;;) {
    Shard& shard = t.table->shard(t.shard);
    ShardWriter writer(*pipeline_, shard);
    if (shard.closed.load(std::memory_order_acquire)) {
      // Split since it was routed: the write goes to the child now holding its hash.
      t.shard = t.table->ShardFor(keycodec::ReadHash(t.key));
      continue;
    }
    TW_RETURN_IF_ERROR(AdmitReplicatedWrite(*t.table, ShardIndex(t.shard)));
    TW_RETURN_IF_ERROR(LoadCurrent(*db_, shard, t));
    Status evaluated = Evaluate(t);
    if (evaluated.ok()) evaluated = CheckCollectionLimit(t, collection);
    if (!evaluated.ok() || !t.changes) {
      // An answer that rests on a queued write is given only once that write is durable.
      TW_RETURN_IF_ERROR(writer.AwaitDurable(t.depends_on_tag));
      TW_RETURN_IF_ERROR(evaluated);
      return WriteResult{std::move(t.current), std::move(t.next)};
    }

    const auto config = t.table->config();
    const uint64_t sequence = config->stream.enabled ? writer.NextSequence() : 0;
    static const std::string kNoTransaction;
    const RecordContext context{&options_.region,
                                &origin,
                                writer.AssignTime(options_.clock->NowMicros()),
                                &kNoTransaction,
                                0,
                                TombstoneIndex(),
                                options_.replicated_log != nullptr};
    PreparedChange change =
        PrepareChange(t, hlc_.LocalVersion(t.current_version), sequence, *config, context);
    const IndexWorkDone work_done(*this, *t.table, change);
    TW_RETURN_IF_ERROR(writer.Commit(std::move(change), sequence));
    return WriteResult{std::move(t.current), std::move(t.next)};
  }
}

void LockTargetShards(CommitPipeline& pipeline, std::vector<Target>& targets,
                      std::optional<LockedShards>& locked,
                      const std::function<bool(size_t)>& locks) {
  bool split = false;
  do {
    locked.reset();
    std::vector<Shard*> involved;
    involved.reserve(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      if (!locks || locks(i)) involved.push_back(&targets[i].table->shard(targets[i].shard));
    }
    locked.emplace(pipeline, std::move(involved));
    split = false;
    for (Target& t : targets) {
      if (!t.table->shard(t.shard).closed.load(std::memory_order_acquire)) continue;
      t.shard = t.table->ShardFor(keycodec::ReadHash(t.key));
      split = true;
    }
  } while (split);
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
          one.status().code() == ErrorCode::kIOError ||
          one.status().code() == ErrorCode::kServiceUnavailable) {
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

  std::vector<uint64_t> collections;
  for (const Target& t : targets) collections.push_back(CollectionBytesFor(t));

  // Lock every shard involved, in (table id, shard) order, each drained of queued groups.
  std::optional<LockedShards> locked;
  LockTargetShards(*pipeline_, targets, locked);

  for (const Target& t : targets) {
    TW_RETURN_IF_ERROR(AdmitReplicatedWrite(*t.table, ShardIndex(t.shard)));
  }

  // Read current items, evaluate conditions and updates.
  std::vector<Status> reasons(targets.size());
  bool canceled = false;
  for (size_t i = 0; i < targets.size(); ++i) {
    Shard& shard = targets[i].table->shard(targets[i].shard);
    shard.commit_mu.AssertHeld();  // by `locked`
    TW_RETURN_IF_ERROR(LoadCurrent(*db_, shard, targets[i]));
    reasons[i] = Evaluate(targets[i]);
    if (reasons[i].ok()) reasons[i] = CheckCollectionLimit(targets[i], collections[i]);
    if (!reasons[i].ok()) canceled = true;
  }
  if (canceled) return Status::TransactionCanceled(std::move(reasons));

  // One batch: items plus records, sequences assigned per shard in action order.
  using ShardKey = std::pair<uint64_t, uint32_t>;
  std::map<ShardKey, uint32_t> participants;
  std::set<ShardKey> changed_shards;
  for (auto& t : targets) {
    if (t.changes && t.table->config()->stream.enabled) ++participants[{t.table->id(), t.shard}];
    if (t.changes) changed_shards.insert({t.table->id(), t.shard});
  }
  // Cluster mode appends each shard's changes to its own log: all-or-nothing across logs
  // needs the cross-shard protocol of docs/CLUSTER.md, not built yet.
  if (options_.replicated_log != nullptr && changed_shards.size() > 1) {
    return Status::Validation(
        "TransactWriteItems whose writes span more than one shard is not supported in cluster "
        "mode yet");
  }
  const std::string transaction_id =
      participants.empty() ? std::string()
                           : options_.region + "-" + std::to_string(options_.clock->NowMicros()) +
                                 "-" + std::to_string(next_transaction_.fetch_add(1));
  // One time for the whole transaction, not below any involved shard's last record.
  const int64_t now = locked->AssignTime(options_.clock->NowMicros());
  rocksdb::WriteBatch batch;
  CommitManifest manifest;
  std::vector<IndexWorkDone> work_done;
  work_done.reserve(targets.size());
  for (auto& t : targets) {
    if (!t.changes) continue;
    const auto config = t.table->config();
    const uint64_t sequence =
        config->stream.enabled ? locked->AssignSequence(t.table->shard(t.shard)) : 0;
    const RecordContext context{&options_.region,
                                &origin,
                                now,
                                &transaction_id,
                                participants[{t.table->id(), t.shard}],
                                TombstoneIndex(),
                                options_.replicated_log != nullptr};
    PreparedChange change =
        PrepareChange(t, hlc_.LocalVersion(t.current_version), sequence, *config, context);
    change.AddTo(batch);
    if (change.committed) manifest.push_back(std::move(*change.committed));
    work_done.emplace_back(*this, *t.table, change);
  }
  TW_RETURN_IF_ERROR(locked->Commit(batch, std::move(manifest)));

  std::vector<WriteResult> results;
  results.reserve(targets.size());
  for (auto& t : targets) results.push_back({std::move(t.current), std::move(t.next)});
  return results;
}

}  // namespace tidewater
