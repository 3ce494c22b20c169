#include "trigger_event.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>

#include "tidewater/streams/resource_names.h"
#include "tidewater/streams/stream_record_json.h"

namespace tidewater::streams {
namespace {

void WriteString(json::Writer& w, std::string_view text) {
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// ISO-8601 UTC; with milliseconds or whole seconds.
std::string IsoTime(int64_t micros, bool millis) {
  int64_t seconds = micros / 1'000'000;
  if (micros < 0 && micros % 1'000'000 != 0) --seconds;
  time_t t = static_cast<time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string text(buffer, n);
  if (millis) {
    char fraction[8];
    std::snprintf(fraction, sizeof(fraction), ".%03d",
                  static_cast<int>((micros - seconds * 1'000'000) / 1000));
    text += fraction;
  }
  return text + "Z";
}

std::string RequestId() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  uint64_t high = random();
  uint64_t low = random();
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;    // variant 10
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xffff),
                static_cast<unsigned>(high & 0xffff), static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return buffer;
}

}  // namespace

Result<std::string> EventRecordJson(const ChangeRecord& record, uint64_t table_id,
                                    std::string_view region, std::string_view stream_arn) {
  TW_ASSIGN_OR_RETURN(std::string text, StreamRecordJson(record, table_id, region));
  // The stream record is one object: reopen it to add the member Lambda adds.
  rapidjson::StringBuffer arn;
  json::Writer writer(arn);
  WriteString(writer, stream_arn);
  text.pop_back();
  text += ",\"eventSourceARN\":";
  text.append(arn.GetString(), arn.GetSize());
  text += '}';
  return text;
}

std::string EventJson(const std::vector<const std::string*>& records) {
  size_t size = 16;
  for (const std::string* record : records) size += record->size() + 1;
  std::string event;
  event.reserve(size);
  event += "{\"Records\":[";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) event += ',';
    event += *records[i];
  }
  event += "]}";
  return event;
}

BatchResponse ReadBatchResponse(std::string_view payload, const std::vector<uint64_t>& sequences) {
  const BatchResponse success{};
  const BatchResponse whole_batch{0};
  if (payload.find_first_not_of(" \t\r\n") == std::string_view::npos) return success;
  rapidjson::Document document;
  document.Parse(payload.data(), payload.size());
  if (document.HasParseError()) return whole_batch;
  if (document.IsNull()) return success;
  if (!document.IsObject()) return whole_batch;
  if (!document.HasMember("batchItemFailures")) return success;
  const rapidjson::Value& failures = document["batchItemFailures"];
  if (failures.IsNull()) return success;
  if (!failures.IsArray()) return whole_batch;
  if (failures.Empty()) return success;
  size_t first = sequences.size();
  for (const auto& failure : failures.GetArray()) {
    if (!failure.IsObject() || !failure.HasMember("itemIdentifier")) return whole_batch;
    const rapidjson::Value& id = failure["itemIdentifier"];
    if (!id.IsString()) return whole_batch;
    Result<SequenceNumber> sequence =
        ParseSequenceNumber(std::string_view(id.GetString(), id.GetStringLength()));
    if (!sequence.ok()) return whole_batch;
    auto it = std::find(sequences.begin(), sequences.end(), sequence->value());
    if (it == sequences.end()) return whole_batch;
    first = std::min(first, static_cast<size_t>(it - sequences.begin()));
  }
  return BatchResponse{first};
}

std::string FailureRecordJson(const FailureRecordInfo& info) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  w.Key("requestContext");
  w.StartObject();
  w.Key("requestId");
  WriteString(w, RequestId());
  w.Key("functionArn");
  WriteString(w, info.function_arn);
  w.Key("condition");
  WriteString(w, info.condition);
  w.Key("approximateInvokeCount");
  w.Int(info.approximate_invoke_count);
  w.EndObject();
  w.Key("responseContext");
  w.StartObject();
  w.Key("statusCode");
  w.Int(200);
  w.Key("executedVersion");
  WriteString(w, "$LATEST");
  if (info.function_error) {
    w.Key("functionError");
    WriteString(w, "Unhandled");
  }
  w.EndObject();
  w.Key("version");
  WriteString(w, "1.0");
  w.Key("timestamp");
  WriteString(w, IsoTime(info.now_micros, true));
  w.Key("DDBStreamBatchInfo");
  w.StartObject();
  w.Key("shardId");
  WriteString(w, info.shard_id);
  w.Key("startSequenceNumber");
  WriteString(w, SequenceNumberText(info.start_sequence));
  w.Key("endSequenceNumber");
  WriteString(w, SequenceNumberText(info.end_sequence));
  w.Key("approximateArrivalOfFirstRecord");
  WriteString(w, IsoTime(info.first_arrival_micros, false));
  w.Key("approximateArrivalOfLastRecord");
  WriteString(w, IsoTime(info.last_arrival_micros, false));
  w.Key("batchSize");
  w.Uint64(info.batch_size);
  w.Key("streamArn");
  WriteString(w, info.stream_arn);
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace tidewater::streams
