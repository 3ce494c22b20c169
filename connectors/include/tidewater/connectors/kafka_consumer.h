// A consumer of the topics the Kafka publisher writes (the wire contract of kafka_wire.h):
// a StreamReader (streams/stream_reader.h) calling the BatchHandler with each partition's
// records, in order, a batch holding records of one shard (a partition carries a shard and
// the shards split from it, parents' records first: kafka_wire.h).
//
// Workers sharing a table are a librdkafka consumer group (`group_id`): the group's
// partition assignment plays the role of the SDK's leases, and a worker that dies loses
// its partitions after the group's session timeout.
//
// Guarantees:
//  * At-least-once and in order per shard and per key, like StreamConsumer: a batch holds
//    consecutive messages of one partition and one shard; a failed batch is delivered
//    again (same records) after a backoff; the offset is committed only after the handler
//    accepts a batch.
//  * Duplicates dropped: the publisher may resend records after a restart. A record
//    whose sequence is below the next one expected in its shard is dropped. The next
//    expected sequence of each shard the partition carries travels in the committed
//    offset's metadata, so a restarted or newly assigned worker drops resent records too.
//  * With a CheckpointStore (KafkaConsumerOptions::checkpoints: a sink that commits its
//    output and position together, sink.h), the store's position wins over the group's
//    committed offsets when a partition is assigned: the next expected sequence is the
//    store's (for a shard split from another, read when its first record comes). When
//    the store is at or past the committed metadata, reading continues at the committed
//    offset; when it is behind (a file sink's staged records were lost in a
//    crash, the database was restored) or the group has no usable commit, the partition is
//    read again from its earliest retained offset and the records below the position are
//    dropped. A store that cannot be read is retried with backoff before the partition is
//    read (the worker's other partitions wait). A gap (the record after the position is
//    no longer in the topic: Kafka's retention) is reported in last_error, not hidden.
//  * Stop is graceful: the batch in progress finishes (ShardBatch::stop is set), its
//    offset is committed, and the worker leaves the group.
//
// Threading: one thread polls Kafka and calls the handler, one partition's batch at a
// time (a batch being retried holds up the worker's other partitions). Start, Stop and
// Progress may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tidewater/connectors/kafka_wire.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/consumer.h"

namespace tidewater::connectors {

struct KafkaConsumerOptions {
  std::string brokers;   // bootstrap servers; required
  std::string topic;     // the publisher's topic, e.g. "tidewater.orders"; required
  std::string group_id;  // the consumer's name: workers with one group_id share; required
  KafkaFormat format = KafkaFormat::kProtobuf;  // as the publisher was configured
  // Where a partition without a committed offset (nor a store position) starts
  // (auto.offset.reset). AT_TIMESTAMP: at its first record created at or after the time:
  // the partition is read from its earliest offset and the records created before the
  // time are dropped (also those produced later: unlike the Streams readers, a time in
  // the future is not "LATEST now").
  streams::StartingPosition starting_position = streams::StartingPosition::kTrimHorizon;
  int64_t starting_time_micros = 0;  // with kAtTimestamp
  size_t max_batch_records = 100;
  std::chrono::milliseconds max_batching_window{0};
  std::chrono::milliseconds retry_backoff_initial{100};
  std::chrono::milliseconds retry_backoff_max{10'000};
  // librdkafka properties passed through (security.protocol, sasl.*, session.timeout.ms,
  // ...). group.id, enable.auto.commit and enable.auto.offset.store are the consumer's own.
  std::map<std::string, std::string> properties;
  // Where the handler keeps its positions (see the file comment); nullptr: only the
  // commit metadata. Load is called with `table` and the partition index. Not owned;
  // must outlive the consumer. Save is never called (the handler stores positions).
  streams::CheckpointStore* checkpoints = nullptr;
  std::string table;  // the table the topic carries; required with checkpoints
  // Told of each Kafka error, undecodable message and sequence gap ("read"). Optional.
  streams::ReadErrorListener on_read_error;
  // Told each time the table's resolved time (streams::TableResolvedTime over Progress())
  // advances, from the publisher's watermark messages (kafka_wire.h), as
  // streams::ConsumerOptions::on_resolved_time. Optional.
  std::function<void(int64_t resolved_micros)> on_resolved_time;
  // Times retry backoff and the batching window; iterator ages are measured against its
  // wall time. Not owned; must outlive the consumer.
  Clock* clock = Clock::System();
};

class KafkaStreamConsumer final : public streams::StreamReader {
 public:
  // Validates the options (librdkafka's text for a bad property).
  static Result<std::unique_ptr<KafkaStreamConsumer>> Create(KafkaConsumerOptions options,
                                                             streams::BatchHandler handler);
  ~KafkaStreamConsumer() override;  // stops (gracefully) if running
  KafkaStreamConsumer(const KafkaStreamConsumer&) = delete;
  KafkaStreamConsumer& operator=(const KafkaStreamConsumer&) = delete;

  // Joins the group and starts consuming.
  Status Start() override;
  // Graceful stop: see the file comment. Idempotent.
  void Stop() override;
  // Per partition this worker has been assigned (held: assigned now); last_sequence is
  // not known.
  std::vector<streams::ConsumerShardStatus> Progress() const override;

 private:
  class Impl;
  explicit KafkaStreamConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidewater::connectors
