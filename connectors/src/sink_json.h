// Private: the JSON and time texts the sinks write (see ImageJson in sink.h).
#pragma once

#include <cstdint>
#include <string>

#include "tidewater/connectors/sink.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/v1/change_record.pb.h"

namespace tidewater::connectors {

void WriteSinkValue(const v1::AttributeValue& value, ImageJson format, json::Writer& writer);
// An item, a key or an image as a JSON object.
void WriteSinkMap(const v1::MapValue& map, ImageJson format, json::Writer& writer);
std::string SinkMapJson(const v1::MapValue& map, ImageJson format);
std::string SinkValueJson(const v1::AttributeValue& value, ImageJson format);

// "INSERT", "MODIFY", "REMOVE".
std::string_view EventText(v1::EventName event);

// UTC time with microseconds: "2024-05-01T12:00:00.000123Z" (kIso) or
// "2024-05-01 12:00:00.000123+00" (kPostgres, a timestamptz literal).
enum class TimeText { kIso, kPostgres };
std::string FormatMicros(int64_t micros, TimeText style);

}  // namespace tidewater::connectors
