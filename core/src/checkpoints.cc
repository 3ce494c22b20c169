// Consumer checkpoints: what log followers (the Kafka publisher, consumers, sinks) use to
// resume, and what holds retention back for them.
#include <rocksdb/write_batch.h>

#include "engine_impl.h"
#include "storage_keys.h"

namespace tidewater {
namespace {

// Stored value: 8-byte big-endian next sequence, then 1 byte "retain".
std::string EncodeCheckpoint(uint64_t next_sequence, bool retain) {
  std::string value;
  keycodec::AppendHash(next_sequence, &value);
  value.push_back(retain ? '\1' : '\0');
  return value;
}

}  // namespace

Status EngineImpl::SaveCheckpoint(const std::string& consumer, const TableName& table_name,
                                  ShardIndex shard, SequenceNumber next_sequence, bool retain) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(table_name.value()));
  if (shard.value() >= table->shard_count()) {
    return Status::NotFound("Requested resource not found: Shard does not exist");
  }
  if (consumer.empty()) return Status::Validation("checkpoint consumer name must not be empty");
  rocksdb::Status s = db_->Put(write_options_, default_cf_,
                               storage::CheckpointKey(table->id(), shard.value(), consumer),
                               EncodeCheckpoint(next_sequence.value(), retain));
  return s.ok() ? Status::Ok() : Status::IOError("storage: " + s.ToString());
}

Result<std::optional<SequenceNumber>> EngineImpl::LoadCheckpoint(const std::string& consumer,
                                                                 const TableName& table_name,
                                                                 ShardIndex shard) {
  TW_ASSIGN_OR_RETURN(TablePtr table, FindTable(table_name.value()));
  std::string value;
  rocksdb::Status s = db_->Get(
      {}, default_cf_, storage::CheckpointKey(table->id(), shard.value(), consumer), &value);
  if (s.IsNotFound()) return std::optional<SequenceNumber>();
  if (!s.ok() || value.size() != 9) return Status::IOError("storage: bad checkpoint " + consumer);
  return std::optional<SequenceNumber>(SequenceNumber(keycodec::ReadHash(value)));
}

uint64_t EngineImpl::RetentionPin(TableState& table, uint32_t shard) {
  uint64_t pin = UINT64_MAX;
  const std::string prefix = storage::CheckpointPrefix(table.id(), shard);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, default_cf_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const rocksdb::Slice value = it->value();
    if (value.size() == 9 && value[8] == '\1') {
      pin = std::min(pin, keycodec::ReadHash(std::string_view(value.data(), 8)));
    }
  }
  return pin;
}

}  // namespace tidewater
