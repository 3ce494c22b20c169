// One node's handle on one shard's log in cluster mode (docs/CLUSTER.md): a Kafka
// partition that the node reads with the validity rule (shard_log_fence.h), takes over
// by starting a term, and appends to as the shard's owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tidewater/cluster/shard_log_fence.h"
#include "tidewater/core/status.h"
#include "tidewater/v1/cluster.pb.h"

namespace tidewater::cluster {

struct ShardLogOptions {
  std::string brokers;     // bootstrap.servers
  std::string node_id;     // this node (tidewaterd --node-id); written into every entry
  std::string advertised;  // HOST:PORT this node serves on, written into its TermStarts
  std::string topic;
  int32_t partition = 0;
  std::string message_key;  // the Kafka key of every entry (the shard's name)
  // librdkafka properties for both clients (TLS, SASL); the ones the log's guarantees
  // depend on (brokers, idempotence, acks, isolation) are the log's own.
  std::map<std::string, std::string> kafka_properties;
  // Bound of an append (produce and read back) and of reading to the end.
  std::chrono::milliseconds timeout{10000};
  // Where reading starts: the offset after the last entry applied, and the fence's
  // position there (both stored with the applied state).
  int64_t start_offset = 0;
  FencePosition start_position;
};

// Receives each valid entry (kNewTerm and kValid), in log order, with its offset. An
// error stops the read; the entry is read again by the next one.
using EntryApplier = std::function<Status(int64_t offset, const v1::ShardLogEntry& entry)>;

// [Ownership] Owns its Kafka producer and consumer.
// [Threading] Not thread-safe: one thread at a time (the shard's writer).
// [Guarantees] Every valid entry reaches the applier once per ShardLog, in log order;
// Append returns ok only when every appended entry was read back valid, so an
// acknowledged write is in the shard's history whatever other nodes do.
class ShardLog {
 public:
  static Result<std::unique_ptr<ShardLog>> Open(ShardLogOptions options, EntryApplier applier);
  ~ShardLog();
  ShardLog(const ShardLog&) = delete;
  ShardLog& operator=(const ShardLog&) = delete;

  // Reads what the partition holds now, to its end (a reader that does not own the
  // shard). Errors: Internal (Kafka unreachable within the timeout, or entries deleted by
  // retention before this node read them), or the applier's.
  Status CatchUp();

  // Starts the next term: appends a TermStart above every term read so far and reads up
  // to it (a few times, if other nodes start terms meanwhile). Ok: this node owns the
  // shard; position() is the history it continues. Errors: Internal, when other nodes kept
  // starting newer terms or Kafka did not answer within the timeout.
  Status TakeOver();

  // Appends changes as the owner: sets each entry's term, writer and sequence (the next
  // ones after position()), and returns once all were read back. Ok: all are valid and
  // may be acknowledged. Errors (Internal), after which none may be acknowledged: this node
  // lost the shard (owner() is false: another node started a term), or the outcome is
  // unknown (a produce failed or timed out, or an entry was not the history's next); the
  // next Append then first starts a new term of this node's, which makes whatever of its
  // own still lands afterwards invalid, and continues from the history read up to it.
  Status Append(std::vector<v1::ShardLogEntry>& entries);

  bool owner() const { return owner_; }
  // The term this node started when it last took the shard over (0: never).
  uint64_t owned_term() const { return owned_term_; }
  const ShardLogOptions& options() const { return options_; }
  const FencePosition& position() const { return fence_.position(); }
  // The offset of the next entry to read.
  int64_t next_offset() const { return next_offset_; }

 private:
  struct Clients;
  ShardLog(ShardLogOptions options, EntryApplier applier, std::unique_ptr<Clients> clients);

  // Fetching the partition from next_offset_, and no longer.
  Status StartReading();
  void StopReading();
  // Produces `entries`; their offsets go to `offsets`.
  Status Produce(const std::vector<v1::ShardLogEntry>& entries, std::vector<int64_t>& offsets);
  // Reads up to and including `last_offset`, applying the valid entries.
  Status ReadThrough(int64_t last_offset);
  // Admits one entry through the fence and applies it if valid; an applier error leaves
  // the fence and next_offset_ as they were.
  Status ReadEntry(int64_t offset, std::string_view value);

  const ShardLogOptions options_;
  const EntryApplier applier_;
  std::unique_ptr<Clients> clients_;
  ShardLogFence fence_;
  int64_t next_offset_;
  bool owner_ = false;
  uint64_t owned_term_ = 0;
  bool must_start_term_ = false;
};

}  // namespace tidewater::cluster
