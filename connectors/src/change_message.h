// Private: a stored change record as the Kafka message the publisher sends (key, headers,
// value, timestamp), following the wire contract in kafka_wire.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kafka_producer.h"
#include "record_fields.h"
#include "tidewater/connectors/kafka_wire.h"

namespace tidewater::connectors {

// What a message says about its record besides the Kafka message itself.
struct EncodedRecord {
  KafkaMessage message;
  uint64_t sequence = 0;
  int64_t created_micros = 0;
};

// The watermark message of `table`'s `shard` (kafka_wire.h): no key, no value, headers
// tw-shard, tw-table and tw-watermark = `resolved_ms`, timestamp `resolved_ms`.
KafkaMessage WatermarkMessage(const std::string& table, uint32_t shard, int64_t resolved_ms);

// Which shard's records to encode (and read: shard_reader.h).
struct ShardSource {
  std::string table;
  uint64_t table_id = 0;  // names the table in JSON eventIDs
  uint32_t shard = 0;
  std::optional<uint32_t> parent_shard;  // the shard this one was split from
  std::string partition_key;             // the table's partition key attribute
};

// Thread safety: immutable after construction; Encode may run concurrently.
class ChangeMessageEncoder {
 public:
  // `region` is the awsRegion of JSON records.
  ChangeMessageEncoder(KafkaFormat format, std::string region)
      : format_(format), region_(std::move(region)) {}

  // Encodes one record of `source`, given as stored in the log (its Protobuf
  // serialization, which becomes the value as it is in the Protobuf format).
  // Errors: Internal for a malformed record.
  Result<EncodedRecord> Encode(std::string serialized, const ShardSource& source) const;

 private:
  KafkaFormat format_;
  std::string region_;
};

}  // namespace tidewater::connectors
