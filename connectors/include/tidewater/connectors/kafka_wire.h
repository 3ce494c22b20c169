// The Kafka wire contract: what the publisher (kafka_publisher.h) writes and the consumer
// (kafka_consumer.h) reads. docs/KAFKA.md describes the same for users; both sides
// include this header, neither includes the other.
//
// Per change record of table T, shard S, sequence N:
//   topic      <topic_prefix><T> (KafkaTopicName), one topic per table, at least one
//              partition per shard the table was created with. Topic names use ASCII
//              letters, digits, '.', '_' and '-', at most 249 characters (Kafka's rules).
//   partition  S for a shard the table was created with; a shard split from another
//              goes to its parent's partition (so to the partition of the shard its
//              lineage starts from). A partition holds a shard's records in sequence
//              order, and every record of a parent before any of its children's: a
//              child's hash range is part of its parent's, so each key's changes are in
//              one partition, in commit order, across splits.
//   key        the item's partition key in canonical bytes: S as its UTF-8 bytes, B as its
//              raw bytes, N as its canonical decimal text (what GetItem returns, "1.5").
//   headers    tw-shard = S and tw-seq = N (decimal text),
//              tw-event (INSERT | MODIFY | REMOVE), tw-origin (the region the change
//              originated in), tw-table = T; on a shard split from another, also
//              tw-parent-shard = the parent's index.
//   value      KafkaFormat::kProtobuf: the tidewater.v1.ChangeRecord (change_record.proto)
//              as the change log stores it, carrying every field (shard and sequence
//              included); KafkaFormat::kJson: the DynamoDB Streams record as GetRecords
//              returns it (stream_record_json.h), which lacks shard and table: a reader
//              takes them from tw-shard and tw-table.
//   timestamp  the record's approximate creation time, in milliseconds.
// Within a partition tw-seq increases per tw-shard; after a publisher failure records may
// appear again (in order), so a reader drops a record whose (tw-shard, tw-seq) it has
// already seen.
//
// Watermark messages (only with KafkaPublisherOptions::watermark_interval > 0): in
// partition S, a message with no key and no value and headers tw-shard = S, tw-table = T
// and tw-watermark = W (decimal text, milliseconds since the Unix epoch; also its
// timestamp): every change record created before W of every shard that goes to the
// partition is in the partition before this message. It carries no record and no
// tw-seq; W never decreases within a partition while one publisher runs. A reader uses it
// as progress and skips it as a record.
//
// Values and functions only; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tidewater::connectors {

enum class KafkaFormat { kProtobuf, kJson };

// "protobuf" or "json".
std::string_view KafkaFormatName(KafkaFormat format);
// False (and *out unchanged) for any other name.
bool ParseKafkaFormat(std::string_view name, KafkaFormat* out);

inline constexpr std::string_view kShardHeader = "tw-shard";
inline constexpr std::string_view kSequenceHeader = "tw-seq";
inline constexpr std::string_view kEventHeader = "tw-event";
inline constexpr std::string_view kOriginHeader = "tw-origin";
inline constexpr std::string_view kTableHeader = "tw-table";
inline constexpr std::string_view kWatermarkHeader = "tw-watermark";
inline constexpr std::string_view kParentShardHeader = "tw-parent-shard";

inline constexpr std::string_view kDefaultTopicPrefix = "tidewater.";
inline constexpr size_t kMaxTopicName = 249;

// The topic of `table`: the prefix followed by the table name.
std::string KafkaTopicName(std::string_view topic_prefix, std::string_view table);

// Whether `text` uses only the characters Kafka allows in topic names.
bool IsKafkaTopicText(std::string_view text);

// A tw-shard or tw-seq value; nullopt when it is not decimal digits (at most 20) that fit
// in 64 bits.
std::optional<uint64_t> ParseHeaderNumber(std::string_view text);

}  // namespace tidewater::connectors
