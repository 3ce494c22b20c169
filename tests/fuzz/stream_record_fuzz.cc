// libFuzzer target for ParseStreamRecord: the reader of DynamoDB Streams JSON records that
// come over the network (a remote tidewaterd's GetRecords, JSON Kafka messages).
//
// Input is parsed as the readers parse it (iteratively, UTF-8 validated).
// Property: any record ParseStreamRecord accepts is written back by StreamRecordJson (with
// the Tidewater metadata member) as text that parses again to an equal ChangeRecord.
// Everything else is rejected with a Status: no crash, no sanitizer report.
// Run through scripts/fuzz.sh (seeds in tests/fuzz/corpus/stream_record).
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tidewater/streams/stream_record_json.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "stream_record_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
      text.data(), text.size());
  if (document.HasParseError()) return 0;
  auto record = tidewater::streams::ParseStreamRecord(document, "table", tidewater::ShardIndex(3));
  if (!record.ok()) {
    if (record.status().message().empty()) Fail("error without a message", text);
    return 0;
  }
  auto written = tidewater::streams::StreamRecordJson(*record, 7, "us-test-1", true);
  if (!written.ok()) Fail("an accepted record does not write back", written.status().ToString());
  rapidjson::Document again;
  again.Parse(written->data(), written->size());
  if (again.HasParseError()) Fail("written record is not JSON", *written);
  auto reparsed = tidewater::streams::ParseStreamRecord(again, "table", tidewater::ShardIndex(3));
  if (!reparsed.ok()) Fail("written record does not parse", *written);
  if (reparsed->SerializeAsString() != record->SerializeAsString()) {
    Fail("round trip changed the record", text + "\n" + *written);
  }
  return 0;
}
