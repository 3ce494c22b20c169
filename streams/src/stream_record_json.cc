#include "tidewater/streams/stream_record_json.h"

#include <cstdio>
#include <optional>

#include "tidewater/core/record_codec.h"

namespace tidewater::streams {
namespace {

// A record's creation time, in epoch seconds, is read only within [0, this]: the
// microseconds then fit int64 (and the year 5138 is far enough).
constexpr int64_t kMaxCreationSeconds = 100'000'000'000;

constexpr size_t kSequenceDigits = 21;

void WriteString(json::Writer& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

Status WriteImage(const char* member, const v1::MapValue& image, json::Writer& writer) {
  Result<Item> item = FromProto(image);
  // The record came from the log: a bad value there is our fault, not the caller's.
  if (!item.ok()) {
    return Status::Internal(std::string("malformed change record ") + member + ": " +
                            item.status().message());
  }
  writer.Key(member);
  json::WriteItem(*item, writer);
  return Status::Ok();
}

void WriteTidewaterMetadata(const ChangeRecord& record, json::Writer& w) {
  w.Key("tidewater");
  w.StartObject();
  w.Key("originRegion");
  WriteString(w, record.origin_region());
  w.Key("provenance");
  WriteString(w, v1::Provenance_Name(record.provenance()));
  w.Key("version");
  w.StartObject();
  w.Key("hlcMicros");
  w.Uint64(record.version().hlc_micros());
  w.Key("region");
  WriteString(w, record.version().region());
  w.EndObject();
  w.Key("transactionId");
  WriteString(w, record.transaction_id());
  w.Key("participants");
  w.Uint(record.transaction_shard_participants());
  w.Key("creationTimeMicros");
  w.Int64(record.approximate_creation_time_micros());
  w.Key("streamLabel");
  WriteString(w, record.stream_label());
  w.EndObject();
}

Status Malformed(std::string_view what) {
  return Status::Serialization("malformed stream record: " + std::string(what));
}

const rapidjson::Value* Member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string_view> StringMember(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* value = Member(object, name);
  if (value == nullptr || !value->IsString()) return std::nullopt;
  return std::string_view(value->GetString(), value->GetStringLength());
}

Status ParseImage(const rapidjson::Value& dynamodb, const char* name, v1::MapValue* out) {
  const rapidjson::Value* image = Member(dynamodb, name);
  if (image == nullptr) return Status::Ok();
  Result<Item> item = json::ParseItem(*image);
  if (!item.ok()) return Malformed(std::string(name) + ": " + item.status().message());
  ToProto(*item, out);
  return Status::Ok();
}

Status ParseTidewaterMetadata(const rapidjson::Value& metadata, ChangeRecord& record) {
  if (!metadata.IsObject()) return Malformed("tidewater");
  if (auto origin = StringMember(metadata, "originRegion")) {
    record.set_origin_region(std::string(*origin));
  }
  if (auto provenance = StringMember(metadata, "provenance")) {
    v1::Provenance parsed;
    if (!v1::Provenance_Parse(std::string(*provenance), &parsed)) return Malformed("provenance");
    record.set_provenance(parsed);
  }
  if (const rapidjson::Value* version = Member(metadata, "version")) {
    const rapidjson::Value* hlc = Member(*version, "hlcMicros");
    auto region = StringMember(*version, "region");
    if (hlc == nullptr || !hlc->IsUint64() || !region) return Malformed("version");
    if (hlc->GetUint64() != 0 || !region->empty()) {
      record.mutable_version()->set_hlc_micros(hlc->GetUint64());
      record.mutable_version()->set_region(std::string(*region));
    }
  }
  if (auto transaction = StringMember(metadata, "transactionId")) {
    record.set_transaction_id(std::string(*transaction));
  }
  if (const rapidjson::Value* participants = Member(metadata, "participants")) {
    if (!participants->IsUint()) return Malformed("participants");
    record.set_transaction_shard_participants(participants->GetUint());
  }
  if (const rapidjson::Value* micros = Member(metadata, "creationTimeMicros")) {
    if (!micros->IsInt64() || micros->GetInt64() < 0 ||
        micros->GetInt64() > kMaxCreationSeconds * 1'000'000) {
      return Malformed("creationTimeMicros");
    }
    record.set_approximate_creation_time_micros(micros->GetInt64());
  }
  if (auto label = StringMember(metadata, "streamLabel")) {
    record.set_stream_label(std::string(*label));
  }
  return Status::Ok();
}

}  // namespace

Result<ChangeRecord> ParseStreamRecord(const rapidjson::Value& json, std::string_view table,
                                       ShardIndex shard) {
  ChangeRecord record;
  record.set_table(std::string(table));
  record.set_shard(shard.value());
  auto event = StringMember(json, "eventName");
  v1::EventName event_name;
  if (!event || !v1::EventName_Parse(std::string(*event), &event_name)) {
    return Malformed("eventName");
  }
  record.set_event(event_name);
  const rapidjson::Value* dynamodb = Member(json, "dynamodb");
  if (dynamodb == nullptr || !dynamodb->IsObject()) return Malformed("dynamodb");
  auto sequence = StringMember(*dynamodb, "SequenceNumber");
  uint64_t sequence_value = 0;
  if (!sequence || sequence->empty() || sequence->size() > 20 + 1)
    return Malformed("SequenceNumber");
  for (char c : *sequence) {
    if (c < '0' || c > '9') return Malformed("SequenceNumber");
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (sequence_value > (UINT64_MAX - digit) / 10) return Malformed("SequenceNumber");
    sequence_value = sequence_value * 10 + digit;
  }
  record.set_sequence(sequence_value);
  if (!Member(*dynamodb, "Keys")) return Malformed("Keys");
  TW_RETURN_IF_ERROR(ParseImage(*dynamodb, "Keys", record.mutable_keys()));
  TW_RETURN_IF_ERROR(ParseImage(*dynamodb, "NewImage", record.mutable_new_image()));
  TW_RETURN_IF_ERROR(ParseImage(*dynamodb, "OldImage", record.mutable_old_image()));
  if (!Member(*dynamodb, "NewImage")) record.clear_new_image();
  if (!Member(*dynamodb, "OldImage")) record.clear_old_image();
  if (const rapidjson::Value* created = Member(*dynamodb, "ApproximateCreationDateTime")) {
    if (!created->IsNumber() ||
        !(created->GetDouble() >= 0 && created->GetDouble() <= double(kMaxCreationSeconds))) {
      return Malformed("ApproximateCreationDateTime");
    }
    record.set_approximate_creation_time_micros(
        static_cast<int64_t>(created->GetDouble() * 1'000'000));
  }
  if (const rapidjson::Value* size = Member(*dynamodb, "SizeBytes")) {
    if (!size->IsUint64()) return Malformed("SizeBytes");
    record.set_size_bytes(size->GetUint64());
  }
  // Every DynamoDB Streams record names its view type.
  auto view = StringMember(*dynamodb, "StreamViewType");
  StreamViewType type;
  if (!view || !ParseStreamViewType(*view, &type)) return Malformed("StreamViewType");
  record.set_view_type(ToProto(type));
  const rapidjson::Value* identity = Member(json, "userIdentity");
  record.set_provenance(identity != nullptr ? v1::TTL : v1::USER_WRITE);
  if (const rapidjson::Value* metadata = Member(json, "tidewater")) {
    TW_RETURN_IF_ERROR(ParseTidewaterMetadata(*metadata, record));
  }
  return record;
}

std::string SequenceNumberText(SequenceNumber sequence) {
  std::string digits = std::to_string(sequence.value());
  if (digits.size() >= kSequenceDigits) return digits;
  return std::string(kSequenceDigits - digits.size(), '0') + digits;
}

std::string EventId(uint64_t table_id, ShardIndex shard, SequenceNumber sequence) {
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%016llx%08x%016llx",
                static_cast<unsigned long long>(table_id), shard.value(),
                static_cast<unsigned long long>(sequence.value()));
  return buffer;
}

Status WriteStreamRecord(const ChangeRecord& record, uint64_t table_id, std::string_view region,
                         json::Writer& w, bool tidewater_metadata, IdentityNames identity_names) {
  w.StartObject();
  w.Key("eventID");
  WriteString(w, EventId(table_id, ShardIndex(record.shard()), SequenceNumber(record.sequence())));
  w.Key("eventName");
  WriteString(w, v1::EventName_Name(record.event()));
  w.Key("eventVersion");
  WriteString(w, "1.1");
  w.Key("eventSource");
  WriteString(w, "aws:dynamodb");
  w.Key("awsRegion");
  WriteString(w, region);
  w.Key("dynamodb");
  w.StartObject();
  w.Key("ApproximateCreationDateTime");
  w.Int64(record.approximate_creation_time_micros() / 1'000'000);
  TW_RETURN_IF_ERROR(WriteImage("Keys", record.keys(), w));
  if (record.has_new_image()) TW_RETURN_IF_ERROR(WriteImage("NewImage", record.new_image(), w));
  if (record.has_old_image()) TW_RETURN_IF_ERROR(WriteImage("OldImage", record.old_image(), w));
  w.Key("SequenceNumber");
  WriteString(w, SequenceNumberText(SequenceNumber(record.sequence())));
  w.Key("SizeBytes");
  w.Uint64(record.size_bytes());
  w.Key("StreamViewType");
  WriteString(w, StreamViewTypeName(FromProto(record.view_type())));
  w.EndObject();
  if (record.provenance() == v1::TTL) {
    w.Key("userIdentity");
    w.StartObject();
    const bool model_names = identity_names == IdentityNames::kStreamsApi;
    w.Key(model_names ? "Type" : "type");
    WriteString(w, "Service");
    w.Key(model_names ? "PrincipalId" : "principalId");
    WriteString(w, "dynamodb.amazonaws.com");
    w.EndObject();
  }
  if (tidewater_metadata) WriteTidewaterMetadata(record, w);
  w.EndObject();
  return Status::Ok();
}

Result<std::string> StreamRecordJson(const ChangeRecord& record, uint64_t table_id,
                                     std::string_view region, bool tidewater_metadata) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  TW_RETURN_IF_ERROR(WriteStreamRecord(record, table_id, region, writer, tidewater_metadata));
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace tidewater::streams
