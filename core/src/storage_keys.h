// Private: keys of the change log column family and of engine metadata.
//
// Change log key = shard (4 bytes, big-endian) || sequence (8 bytes, big-endian), so a
// shard's records are one contiguous range in sequence order.
#pragma once

#include <rocksdb/slice.h>

#include <cstdint>
#include <string>

#include "tidewater/core/key_codec.h"

namespace tidewater::storage {

// Appends `value` as 4 bytes, big-endian (so that keys sort by it).
inline void AppendUint32(uint32_t value, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

inline std::string LogKey(uint32_t shard, uint64_t sequence) {
  std::string key;
  key.reserve(12);
  AppendUint32(shard, &key);
  keycodec::AppendHash(sequence, &key);
  return key;
}

inline uint64_t LogKeySequence(const rocksdb::Slice& key) {
  return keycodec::ReadHash(std::string_view(key.data() + 4, key.size() - 4));
}

// The highest sequence retention has trimmed from a shard, kept so that the sequence
// counter survives a shard whose every record was trimmed.
inline std::string ShardFloorKey(uint64_t table_id, uint32_t shard) {
  return "shard_floor/" + std::to_string(table_id) + "/" + std::to_string(shard);
}

// A consumer's checkpoint in a shard: "checkpoint/<table id>/<shard>/<consumer>".
inline std::string CheckpointPrefix(uint64_t table_id, uint32_t shard) {
  return "checkpoint/" + std::to_string(table_id) + "/" + std::to_string(shard) + "/";
}
inline std::string CheckpointKey(uint64_t table_id, uint32_t shard, const std::string& consumer) {
  return CheckpointPrefix(table_id, shard) + consumer;
}

// A tombstone's entry in the purge index, ordered by deletion time:
// "tombstone/<table id>/" || deleted_at (8 bytes, big-endian) || item key. Empty value.
inline std::string TombstoneIndexPrefix(uint64_t table_id) {
  return "tombstone/" + std::to_string(table_id) + "/";
}
inline std::string TombstoneIndexKey(uint64_t table_id, int64_t deleted_at_micros,
                                     const std::string& item_key) {
  std::string key = TombstoneIndexPrefix(table_id);
  keycodec::AppendHash(static_cast<uint64_t>(deleted_at_micros), &key);
  key += item_key;
  return key;
}

// A replication checkpoint: "replication/<table id>/<source region>/<source shard>",
// value 8-byte big-endian next sequence. Region names contain no '/'.
inline std::string ReplicationCheckpointPrefix(uint64_t table_id) {
  return "replication/" + std::to_string(table_id) + "/";
}
inline std::string ReplicationCheckpointPrefix(uint64_t table_id, const std::string& region) {
  return ReplicationCheckpointPrefix(table_id) + region + "/";
}
inline std::string ReplicationCheckpointKey(uint64_t table_id, const std::string& region,
                                            uint32_t shard) {
  return ReplicationCheckpointPrefix(table_id, region) + std::to_string(shard);
}

// Where cluster mode's reader of a shard's log stands: "shardlog/<table id>/<shard>", value
// opaque to the engine (the cluster module's encoding), written in the WriteBatch of the
// changes it applied (ShardLogTarget).
inline std::string ShardLogPositionKey(uint64_t table_id, uint32_t shard) {
  return "shardlog/" + std::to_string(table_id) + "/" + std::to_string(shard);
}

// A secondary index entry, in the table's "index.<id>" column family:
// ordinal (4 bytes, big-endian) || encoded index key (hash(index partition key) ||
// ordered(index partition key) || ordered(index sort key)) || encoded item key.
// One index's entries are a contiguous range, in index key order; entries with equal index
// keys are ordered by item key, so that every entry key is unique.
inline std::string IndexEntryPrefix(uint32_t ordinal) {
  std::string key;
  AppendUint32(ordinal, &key);
  return key;
}

// The global index work queue, in the same column family after every index's entries:
// 0xFFFFFFFF (an ordinal no index gets) || number (8 bytes, big-endian), value a
// GlobalIndexWork. Numbers grow with commits; one item's changes are queued in its order.
inline constexpr uint32_t kIndexWorkOrdinal = 0xFFFFFFFF;
inline std::string IndexWorkKey(uint64_t number) {
  std::string key = IndexEntryPrefix(kIndexWorkOrdinal);
  keycodec::AppendHash(number, &key);
  return key;
}
inline uint64_t IndexWorkNumber(const rocksdb::Slice& key) {
  return keycodec::ReadHash(std::string_view(key.data() + 4, key.size() - 4));
}

// Point-in-time recovery's history of a table's items, in the same column family before
// the work queue: history prefix ‖ item key ‖ commit time (8 bytes BE) -> StoredItem (the
// item as the change left it, or a tombstone holding its key). One item's entries are
// contiguous, oldest first.
inline constexpr uint32_t kHistoryOrdinal = 0xFFFFFFFE;
inline std::string HistoryKey(std::string_view item_key, int64_t commit_micros) {
  std::string key = IndexEntryPrefix(kHistoryOrdinal);
  key.append(item_key);
  keycodec::AppendHash(static_cast<uint64_t>(commit_micros), &key);
  return key;
}
// The item key of a history entry's key.
inline std::string_view HistoryItemKey(const rocksdb::Slice& key) {
  return std::string_view(key.data() + 4, key.size() - 12);
}
inline int64_t HistoryCommitMicros(const rocksdb::Slice& key) {
  return static_cast<int64_t>(keycodec::ReadHash(std::string_view(key.data() + key.size() - 8, 8)));
}

}  // namespace tidewater::storage
