// The Kafka publisher: sends every table's change log to a Kafka-compatible cluster
// through librdkafka, one topic per table, one partition per shard the table was created
// with (a shard split later shares its parent's partition).
//
// What lands in Kafka is the wire contract of kafka_wire.h (topic <topic_prefix><table>,
// partition = shard or its lineage's first shard, key, tw-* headers, value in the
// configured format, timestamp). The publisher creates a missing topic (admin API) with
// one partition per shard; an existing topic with fewer partitions is an error.
//
// Guarantees:
//  * No loss. The producer is idempotent with acks=all, gap-less and without a local
//    message timeout. A shard's published position (the first sequence not yet
//    acknowledged) advances only on delivery reports, only over contiguous
//    acknowledgements, and is saved as an engine checkpoint (consumer
//    `checkpoint_consumer`, retain=true) every `checkpoint_interval`: retention never
//    trims a record before it is published, and after a restart publishing resumes there.
//  * Order. Within a partition, each shard's records appear in increasing tw-seq, and a
//    split shard's records all before its children's (per-key order). After a crash or a
//    producer failure the publisher resends from the last saved or acknowledged position,
//    so records Kafka already had may follow again, still in order; a consumer that drops
//    records whose (tw-shard, tw-seq) it has already seen gets every record once, in order.
//  * Bounded memory. At most max_in_flight_records / max_in_flight_bytes are handed to
//    librdkafka and not yet acknowledged; past that the publisher waits, and the change
//    log holds the backlog (lag shows in the metrics). Reading adds about 1 MB per shard
//    with a backlog, and 4 MB read ahead.
//  * Failures. A failed delivery or a fatal producer error destroys the producer; a new
//    one resumes from the acknowledged positions after a backoff. Nothing is skipped: a
//    record Kafka rejects for good (larger than the broker accepts) stalls publishing,
//    with restarts and logged errors, until the cluster accepts it.
//
// Tables are discovered when they have a stream enabled (checked every
// table_refresh_interval); a deleted table's cursor is dropped.
//
// Threading: one background thread does all Kafka and checkpoint work, a second one reads
// ahead in shards with a backlog. Start, Stop and Snapshot may be called from any thread.
// Ownership: the publisher uses the Engine, which must outlive it; destroying the publisher stops
// it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tidewater/connectors/kafka_wire.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"

namespace prometheus {
class Registry;
}

namespace tidewater::connectors {

struct KafkaPublisherOptions {
  std::string brokers;  // bootstrap servers, "HOST:PORT,HOST:PORT"; required
  std::string topic_prefix{kDefaultTopicPrefix};
  KafkaFormat format = KafkaFormat::kProtobuf;
  // librdkafka properties passed through unchanged (security.protocol, sasl.*,
  // compression.type, batch.size, ...); they win over linger_ms. The properties the
  // guarantees rest on are the publisher's own and are rejected here unless they hold the
  // publisher's value: bootstrap.servers (use `brokers`), enable.idempotence=true,
  // acks=all, enable.gapless.guarantee=true, message.timeout.ms=0, transactional.id.
  std::map<std::string, std::string> properties;
  int linger_ms = 5;  // librdkafka linger.ms; 0 favours latency over throughput
  size_t max_in_flight_records = 100'000;
  size_t max_in_flight_bytes = 256 << 20;
  int topic_replication_factor = -1;  // for topics the publisher creates; -1: broker default
  std::string checkpoint_consumer = "kafka-publisher";
  std::chrono::milliseconds checkpoint_interval{200};
  std::chrono::milliseconds table_refresh_interval{1000};
  // Topic metadata and creation requests wait this long for the cluster.
  std::chrono::milliseconds admin_timeout{10'000};
  // Stop waits this long for deliveries in flight before giving up on them (they are
  // resent after the next start).
  std::chrono::milliseconds stop_timeout{5'000};
  // How often each partition of a table being published gets a watermark message
  // (kafka_wire.h) telling the shard's resolved time, once everything before it was
  // sent; idle shards get them too. 0: none (the topics hold change records only).
  std::chrono::milliseconds watermark_interval{0};
  // The first wait before a new producer after a failure; doubles up to 10 s.
  std::chrono::milliseconds restart_backoff{100};
  // Times the checkpoint, table refresh and lag intervals and the restart backoff. Not
  // owned; must outlive the publisher. The waits for the cluster (admin_timeout,
  // stop_timeout) are real time, as librdkafka's own; record ages (lag seconds, latency)
  // are measured against the engine's clock, which stamps the records.
  Clock* clock = Clock::System();
  // Metrics (see publisher_metrics.h for the names). Not owned; must outlive the
  // publisher. Null: metrics are kept in a private registry.
  prometheus::Registry* registry = nullptr;
};

// Where publishing stands in one shard.
struct ShardPublishState {
  ShardIndex shard;
  SequenceNumber published_next{1};  // the first sequence Kafka has not acknowledged
  SequenceNumber persisted_next{1};  // the same, as last saved in the checkpoint
};

struct TablePublishState {
  TableName table;
  std::string topic;
  std::string error;  // why the table is not being published ("" when it is)
  std::vector<ShardPublishState> shards;
};

class KafkaPublisher {
 public:
  // Validates the options, connects, makes sure every stream-enabled table has its topic
  // (creating missing ones) and starts publishing. Errors: Validation for bad options
  // (with librdkafka's own text for a bad property) and for a topic with fewer partitions
  // than its table has shards; Internal when the cluster does not answer within
  // admin_timeout or a topic cannot be created. Tables that appear later are checked the
  // same way; their errors are logged and shown in Snapshot, and retried.
  static Result<std::unique_ptr<KafkaPublisher>> Start(Engine& engine,
                                                       KafkaPublisherOptions options);

  ~KafkaPublisher();
  KafkaPublisher(const KafkaPublisher&) = delete;
  KafkaPublisher& operator=(const KafkaPublisher&) = delete;

  // Waits up to stop_timeout for deliveries in flight, saves the checkpoints and stops.
  // Idempotent.
  void Stop();

  // The tables being published, in name order, with their shards' positions.
  std::vector<TablePublishState> Snapshot() const;

  // How many times a producer was replaced after a failure.
  uint64_t producer_restarts() const;

 private:
  class Impl;
  explicit KafkaPublisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidewater::connectors
