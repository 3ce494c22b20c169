#include "change_message.h"

#include <charconv>

#include "tidewater/streams/stream_record_json.h"

namespace tidewater::connectors {
namespace {

void AddHeader(rd_kafka_headers_t* headers, std::string_view name, std::string_view value) {
  rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                      static_cast<ssize_t>(value.size()));
}

void AddNumberHeader(rd_kafka_headers_t* headers, std::string_view name, uint64_t value) {
  char text[24];
  auto [end, ec] = std::to_chars(text, text + sizeof(text), value);
  AddHeader(headers, name, std::string_view(text, static_cast<size_t>(end - text)));
}

}  // namespace

KafkaMessage WatermarkMessage(const std::string& table, uint32_t shard, int64_t resolved_ms) {
  KafkaMessage message;
  message.timestamp_ms = resolved_ms;
  message.headers.reset(rd_kafka_headers_new(3));
  AddNumberHeader(message.headers.get(), kShardHeader, shard);
  AddHeader(message.headers.get(), kTableHeader, table);
  AddNumberHeader(message.headers.get(), kWatermarkHeader, static_cast<uint64_t>(resolved_ms));
  return message;
}

Result<EncodedRecord> ChangeMessageEncoder::Encode(std::string serialized,
                                                   const ShardSource& source) const {
  TW_ASSIGN_OR_RETURN(RecordFields fields, ReadRecordFields(serialized, source.partition_key));
  EncodedRecord encoded;
  encoded.sequence = fields.sequence;
  encoded.created_micros = fields.created_micros;
  KafkaMessage& message = encoded.message;
  message.key.assign(fields.partition_key);
  message.timestamp_ms = fields.created_micros / 1000;
  message.headers.reset(rd_kafka_headers_new(6));
  AddNumberHeader(message.headers.get(), kShardHeader, source.shard);
  AddNumberHeader(message.headers.get(), kSequenceHeader, fields.sequence);
  AddHeader(message.headers.get(), kEventHeader, v1::EventName_Name(fields.event));
  AddHeader(message.headers.get(), kOriginHeader, fields.origin_region);
  AddHeader(message.headers.get(), kTableHeader, source.table);
  if (source.parent_shard) {
    AddNumberHeader(message.headers.get(), kParentShardHeader, *source.parent_shard);
  }

  if (format_ == KafkaFormat::kJson) {
    ChangeRecord record;
    if (!record.ParseFromString(serialized)) {
      return Status::Internal("malformed change record in the log");
    }
    TW_ASSIGN_OR_RETURN(message.value, streams::StreamRecordJson(record, source.table_id, region_));
  } else {
    message.value = std::move(serialized);  // `fields` is not used past this point
  }
  return encoded;
}

}  // namespace tidewater::connectors
