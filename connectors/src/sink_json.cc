#include "sink_json.h"

#include <ctime>

namespace tidewater::connectors {
namespace {

void WriteBase64(const std::string& bytes, json::Writer& writer) {
  const std::string text = json::Base64Encode(bytes);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void WriteString(const std::string& s, json::Writer& writer) {
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Numbers are stored as canonical decimal text (plain notation): valid JSON numbers, kept
// digit for digit. (RapidJSON 1.1's RawNumber writes a string; RawValue does not.)
void WriteNumber(const std::string& text, json::Writer& writer) {
  writer.RawValue(text.data(), static_cast<rapidjson::SizeType>(text.size()),
                  rapidjson::kNumberType);
}

// The DynamoDB JSON type tag of a value ("S", "N", ..., "NULL").
const char* TypeTag(v1::AttributeValue::ValueCase value_case) {
  switch (value_case) {
    case v1::AttributeValue::kS:
      return "S";
    case v1::AttributeValue::kN:
      return "N";
    case v1::AttributeValue::kB:
      return "B";
    case v1::AttributeValue::kBoolValue:
      return "BOOL";
    case v1::AttributeValue::kL:
      return "L";
    case v1::AttributeValue::kM:
      return "M";
    case v1::AttributeValue::kSs:
      return "SS";
    case v1::AttributeValue::kNs:
      return "NS";
    case v1::AttributeValue::kBs:
      return "BS";
    case v1::AttributeValue::kNullValue:
    case v1::AttributeValue::VALUE_NOT_SET:
      break;
  }
  return "NULL";
}

template <typename Values>
void WriteArray(const Values& values, void (*write)(const std::string&, json::Writer&),
                json::Writer& writer) {
  writer.StartArray();
  for (const std::string& member : values) write(member, writer);
  writer.EndArray();
}

}  // namespace

std::string_view ImageJsonName(ImageJson format) {
  return format == ImageJson::kPlain ? "plain" : "dynamodb";
}

bool ParseImageJson(std::string_view name, ImageJson* out) {
  if (name == "plain") {
    *out = ImageJson::kPlain;
  } else if (name == "dynamodb") {
    *out = ImageJson::kDynamoDb;
  } else {
    return false;
  }
  return true;
}

// kPlain: the value itself (numbers as JSON numbers, sets as arrays, NULL as null).
// kDynamoDb: {"<type tag>": value}, numbers as strings, NULL as {"NULL":true}.
void WriteSinkValue(const v1::AttributeValue& value, ImageJson format, json::Writer& writer) {
  const bool tagged = format == ImageJson::kDynamoDb;
  if (tagged) {
    writer.StartObject();
    writer.Key(TypeTag(value.value_case()));
  }
  switch (value.value_case()) {
    case v1::AttributeValue::kS:
      WriteString(value.s(), writer);
      break;
    case v1::AttributeValue::kN:
      (tagged ? WriteString : WriteNumber)(value.n(), writer);
      break;
    case v1::AttributeValue::kB:
      WriteBase64(value.b(), writer);
      break;
    case v1::AttributeValue::kBoolValue:
      writer.Bool(value.bool_value());
      break;
    case v1::AttributeValue::kL:
      writer.StartArray();
      for (const v1::AttributeValue& member : value.l().values()) {
        WriteSinkValue(member, format, writer);
      }
      writer.EndArray();
      break;
    case v1::AttributeValue::kM:
      WriteSinkMap(value.m(), format, writer);
      break;
    case v1::AttributeValue::kSs:
      WriteArray(value.ss().values(), WriteString, writer);
      break;
    case v1::AttributeValue::kNs:
      WriteArray(value.ns().values(), tagged ? WriteString : WriteNumber, writer);
      break;
    case v1::AttributeValue::kBs:
      WriteArray(value.bs().values(), WriteBase64, writer);
      break;
    case v1::AttributeValue::kNullValue:
    case v1::AttributeValue::VALUE_NOT_SET:
      if (tagged) {
        writer.Bool(true);
      } else {
        writer.Null();
      }
      break;
  }
  if (tagged) writer.EndObject();
}

void WriteSinkMap(const v1::MapValue& map, ImageJson format, json::Writer& writer) {
  writer.StartObject();
  for (const v1::NamedValue& attribute : map.attributes()) {
    writer.Key(attribute.name().data(), static_cast<rapidjson::SizeType>(attribute.name().size()));
    WriteSinkValue(attribute.value(), format, writer);
  }
  writer.EndObject();
}

std::string SinkMapJson(const v1::MapValue& map, ImageJson format) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  WriteSinkMap(map, format, writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string SinkValueJson(const v1::AttributeValue& value, ImageJson format) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  WriteSinkValue(value, format, writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string_view EventText(v1::EventName event) {
  switch (event) {
    case v1::INSERT:
      return "INSERT";
    case v1::MODIFY:
      return "MODIFY";
    case v1::REMOVE:
      return "REMOVE";
    default:
      return "UNKNOWN";
  }
}

std::string FormatMicros(int64_t micros, TimeText style) {
  int64_t seconds = micros / 1'000'000;
  int64_t fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const time_t t = static_cast<time_t>(seconds);
  tm utc{};
  gmtime_r(&t, &utc);
  char text[64];
  snprintf(text, sizeof(text), "%04d-%02d-%02d%c%02d:%02d:%02d.%06lld%s", utc.tm_year + 1900,
           utc.tm_mon + 1, utc.tm_mday, style == TimeText::kIso ? 'T' : ' ', utc.tm_hour,
           utc.tm_min, utc.tm_sec, static_cast<long long>(fraction),
           style == TimeText::kIso ? "Z" : "+00");
  return text;
}

}  // namespace tidewater::connectors
