// Private: where the publisher stands in each table and shard, and which records are in
// flight (handed to librdkafka, not yet reported).
//
// Per shard, with sequences growing to the right:
//     persisted_next <= published_next <= (in flight ...) < send_next <= (pending ...)
// published_next moves only over a contiguous run of acknowledged records; a failure
// rewinds send_next to it, so nothing after an unacknowledged record counts as published.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "publisher_metrics.h"
#include "shard_reader.h"

namespace tidewater::connectors {

class ShardCursor;

// One record in flight. Its address is the Kafka message's opaque: std::deque keeps
// element addresses stable while elements are appended at the back and removed at the
// front, which is all ShardCursor does.
struct InFlightRecord {
  ShardCursor* shard = nullptr;
  uint64_t sequence = 0;
  int64_t created_micros = 0;
  size_t bytes = 0;
  bool acknowledged = false;
  // The message value. librdkafka reads it without a copy until the delivery report.
  std::string value;
};

struct TableCursor;

// A shard split from another (its `parent`) sends nothing until every record of the
// parent is acknowledged, and goes to the parent's partition: a partition holds a
// lineage's records parent first (kafka_wire.h).
//
// Thread safety: owned and changed by the publisher thread; published_next and
// persisted_next may be read from any thread.
class ShardCursor {
 public:
  // `parent` (null for a shard the table was created with) is a cursor of the same table,
  // which outlives this one.
  ShardCursor(TableCursor* table, uint32_t index, ShardCursor* parent, uint64_t start)
      : table_(table),
        index_(index),
        parent_(parent),
        partition_(parent != nullptr ? parent->partition() : static_cast<int32_t>(index)),
        send_next_(start),
        published_next_(start),
        persisted_next_(start) {}

  TableCursor& table() const { return *table_; }
  uint32_t index() const { return index_; }
  const ShardCursor* parent() const { return parent_; }
  int32_t partition() const { return partition_; }
  uint64_t send_next() const { return send_next_; }
  uint64_t published_next() const { return published_next_.load(std::memory_order_relaxed); }
  uint64_t persisted_next() const { return persisted_next_.load(std::memory_order_relaxed); }
  bool has_in_flight() const { return !in_flight_.empty(); }
  const InFlightRecord& oldest_in_flight() const { return in_flight_.front(); }

  // Every record the shard will ever have is acknowledged: it was split (closed at
  // final_sequence) or its deleted table's log was read to its end.
  bool finished() const {
    if (final_sequence) return published_next() > *final_sequence;
    return read_to_end && !has_pending() && !has_in_flight();
  }
  // Whether its records may be sent now: its parent, if any, is finished.
  bool may_send() const { return parent_ == nullptr || parent_->finished(); }

  // Records that `sequence` was handed to the producer; the result is its opaque.
  // Takes over the record's value (see InFlightRecord::value).
  InFlightRecord* Sent(EncodedRecord& record) {
    send_next_ = record.sequence + 1;
    sent_created_micros_ = record.created_micros;
    const size_t bytes = record.message.key.size() + record.message.value.size();
    return &in_flight_.emplace_back(InFlightRecord{this, record.sequence, record.created_micros,
                                                   bytes, /*acknowledged=*/false,
                                                   std::move(record.message.value)});
  }

  // The producer refused `record`, Sent last: it is not in flight; it gets its value back.
  void Unsend(EncodedRecord& record) {
    record.message.value = std::move(in_flight_.back().value);
    send_next_ = in_flight_.back().sequence;
    in_flight_.pop_back();
    sent_created_micros_ = in_flight_.empty() ? 0 : in_flight_.back().created_micros;
  }

  // Kafka acknowledged `record`.
  void Acknowledge(InFlightRecord& record) {
    record.acknowledged = true;
    uint64_t next = published_next();
    while (!in_flight_.empty() && in_flight_.front().acknowledged) {
      next = in_flight_.front().sequence + 1;
      in_flight_.pop_front();
    }
    published_next_.store(next, std::memory_order_relaxed);
  }

  // After the producer that had these records in flight is gone: send again from the
  // first unacknowledged record.
  void Rewind() {
    if (has_in_flight() || has_pending()) read_to_end = false;  // they are read again
    in_flight_.clear();
    sent_created_micros_ = 0;
    send_next_ = published_next();
    pending_.clear();
    pending_index_ = 0;
  }

  // Records before `first_available` are no longer in the log (trimmed before the
  // publisher pinned them): skip them. Only when nothing is in flight or pending.
  void SkipTo(uint64_t first_available) {
    if (send_next_ < first_available) send_next_ = first_available;
    if (published_next() < first_available) {
      published_next_.store(first_available, std::memory_order_relaxed);
    }
  }

  // Records read and encoded but not produced yet; the first one is at send_next().
  bool has_pending() const { return pending_index_ < pending_.size(); }
  EncodedRecord& next_pending() { return pending_[pending_index_]; }
  void PendingSent() { ++pending_index_; }
  void SetPending(std::vector<EncodedRecord> records) {
    pending_ = std::move(records);
    pending_index_ = 0;
  }

  void Persisted(uint64_t next) { persisted_next_.store(next, std::memory_order_relaxed); }

  // The creation time of the last record handed to this producer (0: none since the last
  // rewind). Record times never decrease in a shard, so every record created before it
  // was handed over before it.
  int64_t sent_created_micros() const { return sent_created_micros_; }

  PublisherMetrics::Shard metrics{};
  // The next batch, being read ahead (see ReadAhead); it is used only if it starts at
  // send_next() when the publisher gets to it.
  std::future<EncodedBatch> read_ahead;
  // Records per read, sized from the shard's recent records to about kReadBatchBytes.
  size_t read_limit = 64;
  // A deleted table's shard whose final record has been read: nothing more will come.
  bool read_to_end = false;
  // The shard was split: its last sequence (0 when it had none), as the engine says.
  std::optional<uint64_t> final_sequence;
  // The resolved time of the last watermark message produced to the partition named after
  // this shard (milliseconds).
  int64_t watermark_sent_ms = 0;

 private:
  TableCursor* table_;
  uint32_t index_;
  ShardCursor* parent_;
  int32_t partition_;
  uint64_t send_next_;
  std::atomic<uint64_t> published_next_;
  std::atomic<uint64_t> persisted_next_;
  std::deque<InFlightRecord> in_flight_;
  std::vector<EncodedRecord> pending_;
  size_t pending_index_ = 0;
  int64_t sent_created_micros_ = 0;
};

// A table being published. Owned by the publisher; the publisher thread changes it, with
// the publisher's snapshot lock held for what Snapshot reads (error, shards).
struct TableCursor {
  std::string name;
  uint64_t table_id = 0;
  std::string partition_key;
  std::string topic;
  int topic_partitions = 0;  // verified in Kafka; 0 until the topic is verified
  std::string error;         // why the table is not published now ("" when it is)
  // Gone from the engine (deleted, or deleted and created again): its log is final. The
  // publisher sends what is left of it, then drops it once all of it is acknowledged.
  bool deleted = false;
  std::vector<std::unique_ptr<ShardCursor>> shards;
  // Partitions the topic needs: one per shard the table was created with (a shard split
  // from another shares its parent's).
  int partitions_needed = 0;
  PublisherMetrics::Table metrics{};

  bool ready() const { return topic_partitions >= partitions_needed; }
  // The cursor of shard `index`, null when not tracked. AddShards tracks shards in index
  // order without a gap (the engine lists them so), so a shard's cursor is at its index.
  ShardCursor* Find(uint32_t index) const {
    return index < shards.size() ? shards[index].get() : nullptr;
  }
  // A deleted table whose every record was read and acknowledged.
  bool drained() const {
    return std::all_of(shards.begin(), shards.end(), [](const auto& shard) {
      return shard->read_to_end && !shard->has_pending() && !shard->has_in_flight();
    });
  }
};

}  // namespace tidewater::connectors
