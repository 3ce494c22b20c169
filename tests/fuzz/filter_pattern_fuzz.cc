// libFuzzer target for the trigger filter pattern parser (streams/filter_pattern.h). Built
// by scripts/fuzz.sh with the other *_fuzz targets.
//
// Input: a filter pattern. Whatever parses is matched against fixed DynamoDB stream records
// (nested images, arrays, numbers as text, absent fields), so matching is fuzzed too.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tidewater/streams/filter_pattern.h"

namespace {

const rapidjson::Document& Record(int which) {
  static const rapidjson::Document* records = [] {
    static rapidjson::Document parsed[2];
    parsed[0].Parse(R"({"eventName":"INSERT","eventSource":"aws:dynamodb",
      "dynamodb":{"Keys":{"pk":{"S":"order#1"}},"SizeBytes":40,
      "NewImage":{"pk":{"S":"order#1"},"qty":{"N":"5"},"tags":{"SS":["a","b"]},
                  "m":{"M":{"x":{"L":[{"N":"-1e3"},{"BOOL":true},{"NULL":true}]}}}}}})");
    parsed[1].Parse(R"({"eventName":"REMOVE","dynamodb":{"Keys":{"pk":{"S":""}},
      "OldImage":{"pk":{"S":""}},"SizeBytes":0}})");
    return parsed;
  }();
  return records[which];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pattern = tidewater::streams::FilterPattern::Parse(text);
  if (pattern.ok()) {
    (void)pattern->Matches(Record(0));
    (void)pattern->Matches(Record(1));
  }
  return 0;
}
