// Reading the objects of a table import (ImportTable): one S3 object's bytes in DynamoDB's
// import formats ("Amazon S3 import formats for DynamoDB" in the Developer Guide) turned
// into items, record by record.
//
//   DYNAMODB_JSON  one {"Item":{...}} a line, in DynamoDB JSON (what full exports write).
//   ION            Amazon Ion text, one $ion_1_0 {Item:{...}} a line (what full exports
//                  write): string -> S, decimal (and int) -> N, blob -> B, bool -> BOOL,
//                  null -> NULL, list -> L, struct -> M, lists annotated $dynamodb_SS,
//                  $dynamodb_NS, $dynamodb_BS -> SS, NS, BS. The reader knows the subset
//                  of Ion text that carries these types; other Ion values (timestamps,
//                  floats, symbols, clobs, s-expressions, long strings) are bad records.
//   CSV            RFC 4180 records with a header (the first line, or HeaderList): the
//                  key attributes typed from AttributeDefinitions, every other column a
//                  String; an empty field adds no attribute.
//
// A bad record (malformed, not an item, an item over 400 KB, nested deeper than 32
// levels) is reported and the rest of the object is read: DynamoDB's import counts such
// records as errors and goes on. Records are numbered by the line they start on in the
// decompressed object (blank lines and a CSV header count as lines). The reader checks
// what the format itself says about an item; whether an item has the table's keys is the
// caller's to check (the engine validates imported items as it loads them).
//
// Functions of their arguments only: thread-safe. Exceptions never escape; the input may
// be anything (compressed or not, any bytes) without crashing or unbounded recursion.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/attribute_value.h"
#include "tidewater/core/status.h"

namespace tidewater {

enum class ImportFormat { kCsv, kDynamoDbJson, kIon };
enum class ImportCompression { kNone, kGzip, kZstd };

// ImportTable's InputFormatOptions.Csv.
struct ImportCsvOptions {
  char delimiter = ',';             // DynamoDB's allowed set: , \t : ; | and space
  std::vector<std::string> header;  // HeaderList; empty: the object's first line is the header
};

// How the objects of one import are written (ImportTable's InputFormat,
// InputCompressionType and InputFormatOptions).
struct ImportFormatOptions {
  ImportFormat format = ImportFormat::kDynamoDbJson;
  ImportCompression compression = ImportCompression::kNone;
  ImportCsvOptions csv;
  // CSV only: the scalar type (AttributeType::kS, kN or kB) of each key attribute of the
  // table and its indexes (from AttributeDefinitions); every other column imports as S.
  std::map<std::string, AttributeType> key_types;
};

// One record of an object that could not be read as an item.
struct ImportRowError {
  std::string object_key;
  uint64_t line = 0;  // 1-based record number in the decompressed object
  std::string message;
};

// Decompresses `data` (the object at `object_key`) as `options.compression` says, then
// parses it record by record: `item` is called with each item read and its record number,
// `bad_row` with each record that cannot be read (the rest go on). A failure of the object
// as a whole (corrupt compression, not UTF-8 at all...) is the returned Status; an error a
// callback returns stops the read and is returned.
//
// The record number is the line the record starts on (see the file comment). An empty
// object holds no records, whatever its compression. Object failures are
// ValidationException naming the object: corrupt, truncated or over-large compressed data
// (decompress.h), an object that starts as gzip or zstd data does (read with compression
// NONE) or whose first character is not UTF-8, invalid CSV options, or a CSV header that
// is not one (an empty, repeated or non-UTF-8 column name, malformed quoting). A UTF-8
// byte order mark at the start is skipped.
Status ReadImportObject(std::string_view object_key, std::string_view data,
                        const ImportFormatOptions& options,
                        const std::function<Status(Item item, uint64_t line)>& item,
                        const std::function<Status(const ImportRowError& error)>& bad_row);

}  // namespace tidewater
