// libFuzzer target for the import readers (connectors/include/tidewater/connectors/
// table_import.h): the first byte of the input picks the format (CSV, DYNAMODB_JSON, ION),
// the compression (NONE, GZIP, ZSTD) and the CSV delimiter; the rest is the object.
//
// Properties: no input crashes, reports a sanitizer error or recurses without bound; every
// record is either an item or a bad row with a message, numbered within the object's lines;
// and every item read, written back as a DYNAMODB_JSON line, is read again as the same item
// (what the reader accepts is an item DynamoDB JSON can carry).
//
// Built by scripts/fuzz.sh (CMake option TIDEWATER_FUZZ) with the reader's sources only.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/connectors/table_import.h"
#include "tidewater/core/json_codec.h"

namespace {

using tidewater::AttributeType;
using tidewater::ImportCompression;
using tidewater::ImportFormat;
using tidewater::ImportFormatOptions;
using tidewater::ImportRowError;
using tidewater::Item;
using tidewater::Status;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "table_import_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

ImportFormatOptions OptionsFrom(uint8_t selector) {
  static constexpr char kDelimiters[] = {',', '\t', ':', ';', '|', ' '};
  ImportFormatOptions options;
  options.format = static_cast<ImportFormat>(selector % 3);
  options.compression = static_cast<ImportCompression>((selector / 3) % 3);
  options.csv.delimiter = kDelimiters[(selector / 9) % 6];
  if ((selector / 54) % 2 == 1) options.csv.header = {"pk", "sk", "data"};
  options.key_types = {{"pk", AttributeType::kS}, {"sk", AttributeType::kN}};
  return options;
}

// Reads `text` as one DYNAMODB_JSON object: its items, or a failure.
std::vector<Item> ReadJsonLines(const std::string& text) {
  std::vector<Item> items;
  ImportFormatOptions options;
  const Status status = tidewater::ReadImportObject(
      "again", text, options,
      [&](Item item, uint64_t) {
        items.push_back(std::move(item));
        return Status::Ok();
      },
      [&](const ImportRowError& error) {
        Fail("an item written back is a bad row", text + "\n" + error.message);
        return Status::Ok();
      });
  if (!status.ok()) Fail("an item written back fails its object", status.ToString());
  return items;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ImportFormatOptions options = OptionsFrom(data[0]);
  const std::string_view object(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t lines = 1;
  for (char c : object) lines += c == '\n' ? 1 : 0;
  std::vector<Item> items;
  const Status status = tidewater::ReadImportObject(
      "fuzz", object, options,
      [&](Item item, uint64_t line) {
        if (line == 0) Fail("an item numbered 0", tidewater::json::ItemToJson(item));
        items.push_back(std::move(item));
        return Status::Ok();
      },
      [&](const ImportRowError& error) {
        if (error.message.empty()) Fail("a bad row without a reason", std::to_string(error.line));
        if (options.compression == ImportCompression::kNone &&
            (error.line == 0 || error.line > lines)) {
          Fail("a bad row numbered outside the object", std::to_string(error.line));
        }
        return Status::Ok();
      });
  if (!status.ok() && status.message().empty()) Fail("a failure without a reason", "");
  for (const Item& item : items) {
    const std::string line = "{\"Item\":" + tidewater::json::ItemToJson(item) + "}\n";
    const std::vector<Item> again = ReadJsonLines(line);
    if (again.size() != 1 || !(again[0] == item)) Fail("an item did not read back", line);
  }
  return 0;
}
