// The file sink: writes change records to JSON Lines or CSV files, one directory per table,
// exactly once across restarts.
//
// Layout: <dir>/<table>/shard-<SSSSS>-<first>-<last>.<jsonl|csv>, one file per shard and
// rotation, <first>/<last> the first and last sequence it holds (20 digits, so that name
// order is sequence order). A file is written as .shard-<SSSSS>-<first>.<ext>.tmp, then
// fsynced, renamed and the directory fsynced when complete: readers only ever see
// complete files. A file completes when it reaches `rotate_bytes`, when it is
// `rotate_interval` old (checked on each Write and Tick, against the injected clock), and
// on Flush (graceful stop).
//
// Position: <dir>/<table>/_positions.json ({"<shard>": <next sequence>, ...}) is rewritten
// atomically (temp, fsync, rename, fsync) after each completed file. Load returns the
// larger of that and the last sequence + 1 of the shard's completed files, so files moved
// away or a crash between rename and manifest still resume right. Temporary files are
// deleted by Load: their records are read again from the stream. Exactly-once per completed
// file: no record is in two completed files, none is missing.
//
// JSON Lines: one object per record:
//   {"table":"orders","shard":3,"sequence":42,"event":"INSERT"|"MODIFY"|"REMOVE",
//    "time":"2024-05-01T12:00:00.000123Z","keys":{..},"old_image":{..},"new_image":{..}}
// images absent when the record does not carry them; images and keys in `image_json` form.
//
// CSV (RFC 4180, header line first): columns tw_shard, tw_sequence, tw_event, tw_time,
// then the union of the file's item columns in name order. A row's item is the new image,
// or for a REMOVE the old image (the keys when the stream carries no image). Flattening
// (CsvCells): scalars as text (S as is, N exact decimal, B base64, BOOL true/false, NULL
// empty); a map M under name `a` becomes columns `a.<member>` recursively ("{}" when
// empty); lists and sets (L, SS, NS, BS) are one column holding their plain JSON text. An
// absent attribute is an empty cell. CSV rows of a file are kept in memory until it
// completes (the header needs all of them): memory about rotate_bytes per shard.
//
// Thread safety: see sink.h (one internal lock; a file completion holds it).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "tidewater/connectors/sink.h"
#include "tidewater/core/clock.h"
#include "tidewater/v1/change_record.pb.h"

namespace prometheus {
class Registry;
}

namespace tidewater::connectors {

enum class FileFormat { kJsonLines, kCsv };

// "jsonl" or "csv".
std::string_view FileFormatName(FileFormat format);
bool ParseFileFormat(std::string_view name, FileFormat* out);

struct FileSinkOptions {
  std::string dir;  // created when missing
  FileFormat format = FileFormat::kJsonLines;
  ImageJson image_json = ImageJson::kPlain;
  size_t rotate_bytes = 64 << 20;
  std::chrono::milliseconds rotate_interval{5 * 60 * 1000};
  Clock* clock = Clock::System();  // not owned
  std::string sink_name = "files";
  // Metrics (label sink=<sink_name>). Not owned; must outlive the sink. Null: private.
  prometheus::Registry* registry = nullptr;
};

class FileSink : public Sink {
 public:
  static Result<std::unique_ptr<FileSink>> Create(FileSinkOptions options);
};

// The CSV cells of an item or image by the flattening rule above: column -> text.
std::map<std::string, std::string> CsvCells(const v1::MapValue& image);

}  // namespace tidewater::connectors
