// A table export in DynamoDB's layout (ExportTableToPointInTime), so that the tools that read
// DynamoDB exports read ours:
//   <prefix>/AWSDynamoDB/<export id>/_started (written first: the bucket takes writes)
//   <prefix>/AWSDynamoDB/<export id>/manifest-summary.json (+ .md5: its base64 MD5)
//   <prefix>/AWSDynamoDB/<export id>/manifest-files.json   (+ .md5)
//   <prefix>/AWSDynamoDB/<export id>/data/<file>.json.gz | .ion.gz  (full exports)
//   <prefix>/AWSDynamoDB/data/<file>.json.gz | .ion.gz  (incremental: the shared data folder)
// (a prefix "" puts AWSDynamoDB/ at the bucket's root). A full export's data lines are
// {"Item":{...}} (DYNAMODB_JSON) or $ion_1_0 {Item:{...}} (ION); an incremental export's
// are {"Metadata":{"WriteTimestampMicros":{"N":"..."}},"Keys":{...},"NewImage":{...},
// "OldImage":{...}} (images as the export view type asks; none for a deleted item's new
// image), in ION wrapped in {Record:{...}}.
//
// Not thread-safe: one writer per export, on one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tidewater/connectors/object_store.h"
#include "tidewater/core/attribute_value.h"
#include "tidewater/core/status.h"

namespace tidewater {

enum class ExportFormat { kDynamoDbJson, kIon };
enum class ExportType { kFullExport, kIncrementalExport };
enum class ExportViewType { kNewImage, kNewAndOldImages };

struct TableExportOptions {
  std::string export_arn;
  std::string export_id;  // the last part of the export ARN
  std::string table_arn;
  std::string table_id;
  std::string bucket;
  std::string prefix;  // S3Prefix, without a trailing slash ("" for none)
  ExportFormat format = ExportFormat::kDynamoDbJson;
  ExportType type = ExportType::kFullExport;
  ExportViewType view_type = ExportViewType::kNewAndOldImages;  // incremental exports only
  int64_t start_time_micros = 0;   // when the export started (manifest startTime)
  int64_t export_time_micros = 0;  // full: the point in time exported
  int64_t export_from_micros = 0;  // incremental: (from, to]
  int64_t export_to_micros = 0;
  // A data file is closed and uploaded once it holds this many uncompressed bytes.
  uint64_t data_file_bytes = 64ULL << 20;
};

// One item's change over an incremental export's window.
struct ExportedChange {
  Item keys;
  std::optional<Item> old_image;  // the item at the window's start (absent: it did not exist)
  std::optional<Item> new_image;  // the item at its end (absent: deleted)
  int64_t write_time_micros = 0;  // commit time of its last change in the window
};

// What DescribeExport reports once the export is complete.
struct TableExportSummary {
  uint64_t item_count = 0;
  uint64_t billed_size_bytes = 0;  // the uncompressed size of the data written
  std::string manifest_files_key;  // ExportManifest: the manifest-summary.json key
  int64_t end_time_micros = 0;
};

class TableExportWriter {
 public:
  // Checks the bucket (ResourceNotFound: DynamoDB's S3 error for a missing bucket).
  static Result<std::unique_ptr<TableExportWriter>> Start(std::shared_ptr<ObjectStore> store,
                                                          const TableExportOptions& options);
  virtual ~TableExportWriter() = default;
  virtual Status AddItem(const Item& item) = 0;                // full exports
  virtual Status AddChange(const ExportedChange& change) = 0;  // incremental exports
  // Uploads the last data file, then manifest-files.json and manifest-summary.json with
  // their .md5 files; `end_time_micros` is the manifest's endTime.
  virtual Result<TableExportSummary> Finish(int64_t end_time_micros) = 0;
};

}  // namespace tidewater
