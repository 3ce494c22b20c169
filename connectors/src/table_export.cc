// The table export writer: DynamoDB's export layout (S3DataExport.Output in the DynamoDB
// Developer Guide), object by object:
//
//   <prefix>/AWSDynamoDB/<export id>/_started            empty, written first (DynamoDB:
//                                                         "verifies that the destination
//                                                         bucket is writable")
//   <prefix>/AWSDynamoDB/<export id>/data/<name>.json.gz  full export data
//   <prefix>/AWSDynamoDB/data/<name>.json.gz              incremental export data (the
//                                                         "shared data folder" of
//                                                         incremental exports)
//   <prefix>/AWSDynamoDB/<export id>/manifest-files.json  (+ manifest-files.md5)
//   <prefix>/AWSDynamoDB/<export id>/manifest-summary.json (+ manifest-summary.md5)
//
// <name> is 26 random characters of the lowercase base32 alphabet, as DynamoDB's
// ("2wqa2g4rai7lxd5wxhbd2x5hcm"). Data files are gzip members, one JSON (or Ion) value a
// line. DynamoDB writes an empty data file for an empty partition; an empty table here is
// one partition, so its export has one data file holding nothing.
//
// Lines:
//   DYNAMODB_JSON full         {"Item":{...}}
//   DYNAMODB_JSON incremental  {"Metadata":{"WriteTimestampMicros":{"N":"..."}},
//                               "Keys":{...},"NewImage":{...},"OldImage":{...}}
//   ION full                   $ion_1_0 {Item:{...}}
//   ION incremental            $ion_1_0 {Record:{Metadata:{WriteTimestampMicros:<n>.},
//                               Keys:{...},NewImage:{...},OldImage:{...}}}
// An incremental record has NewImage unless the item was deleted, and OldImage only under
// NEW_AND_OLD_IMAGES when the item existed at the window's start; an item inserted and
// deleted within the window is not exported.
//
// The manifests: manifest-files.json has one JSON line per data file (itemCount,
// md5Checksum = base64 MD5 of the gzip object, etag = the ETag PutObject returned,
// dataFileS3Key = the object's full key); manifest-summary.json is one JSON object
// (version "2020-06-30" for full exports, "2023-08-01" for incremental ones, which carry
// exportFromTime / exportToTime and outputView instead of exportTime). Each .md5 object
// holds the base64 MD5 of its manifest (24 characters, no newline, as DynamoDB's).
#include "tidewater/connectors/table_export.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

#include "gzip_writer.h"
#include "ion_text.h"
#include "tidewater/core/json_codec.h"

namespace tidewater {
namespace {

using connectors::GzipWriter;

constexpr std::string_view kFullVersion = "2020-06-30";
constexpr std::string_view kIncrementalVersion = "2023-08-01";
constexpr std::string_view kIonVersionMarker = "$ion_1_0 ";
constexpr size_t kDataFileNameLength = 26;
constexpr std::string_view kNameAlphabet = "abcdefghijklmnopqrstuvwxyz234567";

Result<std::string> Md5Base64(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_md5(), nullptr) != 1) {
    return Status::Internal("export: MD5 failed");
  }
  return json::Base64Encode(std::string_view(reinterpret_cast<const char*>(digest.data()), size));
}

Result<std::string> RandomDataFileName() {
  std::array<unsigned char, kDataFileNameLength> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return Status::Internal("export: no random bytes for a data file name");
  }
  std::string name;
  name.reserve(kDataFileNameLength);
  for (unsigned char byte : random) name.push_back(kNameAlphabet[byte % kNameAlphabet.size()]);
  return name;
}

// ISO-8601 UTC with milliseconds: "2020-11-04T07:28:34.028Z".
std::string IsoMillis(int64_t micros) {
  int64_t millis = micros / 1000;
  if (micros % 1000 < 0) --millis;  // floor
  int64_t seconds = millis / 1000;
  int64_t fraction = millis % 1000;
  if (fraction < 0) {
    fraction += 1000;
    --seconds;
  }
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm parts{};
  gmtime_r(&time, &parts);
  char text[128];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<int>(fraction));
  return text;
}

void WriteString(json::Writer& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void WriteKey(json::Writer& writer, std::string_view text) {
  writer.Key(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

std::string_view FormatName(ExportFormat format) {
  return format == ExportFormat::kIon ? "ION" : "DYNAMODB_JSON";
}

std::string_view ViewName(ExportViewType view) {
  return view == ExportViewType::kNewImage ? "NEW_IMAGE" : "NEW_AND_OLD_IMAGES";
}

struct DataFileEntry {
  uint64_t item_count = 0;
  std::string md5_base64;
  std::string etag;
  std::string key;
};

class TableExportWriterImpl final : public TableExportWriter {
 public:
  TableExportWriterImpl(std::shared_ptr<ObjectStore> store, TableExportOptions options)
      : store_(std::move(store)), options_(std::move(options)) {
    const std::string root = options_.prefix.empty() ? "" : options_.prefix + "/";
    export_dir_ = root + "AWSDynamoDB/" + options_.export_id + "/";
    data_dir_ = options_.type == ExportType::kFullExport ? export_dir_ + "data/"
                                                         : root + "AWSDynamoDB/data/";
  }

  // The empty "_started" object DynamoDB writes first.
  Status WriteStarted() {
    return store_->PutObject(options_.bucket, export_dir_ + "_started", "").status();
  }

  Status AddItem(const Item& item) override {
    TW_RETURN_IF_ERROR(CheckWritable(ExportType::kFullExport, "AddItem"));
    std::string line;
    if (options_.format == ExportFormat::kIon) {
      line.append(kIonVersionMarker);
      line.append("{Item:");
      TW_RETURN_IF_ERROR(Sticky(connectors::ion::AppendStruct(item, &line)));
      line.push_back('}');
    } else {
      rapidjson::StringBuffer buffer;
      json::Writer writer(buffer);
      writer.StartObject();
      WriteKey(writer, "Item");
      json::WriteItem(item, writer);
      writer.EndObject();
      line.assign(buffer.GetString(), buffer.GetSize());
    }
    line.push_back('\n');
    return Sticky(AppendLine(line));
  }

  Status AddChange(const ExportedChange& change) override {
    TW_RETURN_IF_ERROR(CheckWritable(ExportType::kIncrementalExport, "AddChange"));
    // Inserted and deleted within the window: DynamoDB exports nothing for it.
    if (!change.old_image && !change.new_image) return Status::Ok();
    const bool with_old =
        options_.view_type == ExportViewType::kNewAndOldImages && change.old_image.has_value();
    std::string line;
    if (options_.format == ExportFormat::kIon) {
      line.append(kIonVersionMarker);
      line.append("{Record:{Metadata:{WriteTimestampMicros:");
      line.append(std::to_string(change.write_time_micros));
      line.append(".},Keys:");
      TW_RETURN_IF_ERROR(Sticky(connectors::ion::AppendStruct(change.keys, &line)));
      if (change.new_image) {
        line.append(",NewImage:");
        TW_RETURN_IF_ERROR(Sticky(connectors::ion::AppendStruct(*change.new_image, &line)));
      }
      if (with_old) {
        line.append(",OldImage:");
        TW_RETURN_IF_ERROR(Sticky(connectors::ion::AppendStruct(*change.old_image, &line)));
      }
      line.append("}}");
    } else {
      rapidjson::StringBuffer buffer;
      json::Writer writer(buffer);
      writer.StartObject();
      WriteKey(writer, "Metadata");
      writer.StartObject();
      WriteKey(writer, "WriteTimestampMicros");
      writer.StartObject();
      WriteKey(writer, "N");
      WriteString(writer, std::to_string(change.write_time_micros));
      writer.EndObject();
      writer.EndObject();
      WriteKey(writer, "Keys");
      json::WriteItem(change.keys, writer);
      if (change.new_image) {
        WriteKey(writer, "NewImage");
        json::WriteItem(*change.new_image, writer);
      }
      if (with_old) {
        WriteKey(writer, "OldImage");
        json::WriteItem(*change.old_image, writer);
      }
      writer.EndObject();
      line.assign(buffer.GetString(), buffer.GetSize());
    }
    line.push_back('\n');
    return Sticky(AppendLine(line));
  }

  Result<TableExportSummary> Finish(int64_t end_time_micros) override {
    if (!failure_.ok()) return failure_;
    if (finished_) return Status::Internal("export: Finish called twice");
    finished_ = true;
    Status status = WriteManifests(end_time_micros);
    if (!status.ok()) {
      failure_ = status;
      return status;
    }
    TableExportSummary summary;
    summary.item_count = item_count_;
    summary.billed_size_bytes = billed_size_bytes_;
    summary.manifest_files_key = export_dir_ + "manifest-summary.json";
    summary.end_time_micros = end_time_micros;
    return summary;
  }

 private:
  Status CheckWritable(ExportType type, std::string_view operation) const {
    if (!failure_.ok()) return failure_;
    if (finished_) return Status::Internal("export: " + std::string(operation) + " after Finish");
    if (options_.type != type) {
      return Status::Internal(
          "export: " + std::string(operation) + " does not apply to " +
          (options_.type == ExportType::kFullExport ? "a full export" : "an incremental export"));
    }
    return Status::Ok();
  }

  // A failure ends the export: every later call reports it.
  Status Sticky(Status status) {
    if (!status.ok() && failure_.ok()) failure_ = status;
    return status;
  }

  Status AppendLine(std::string_view line) {
    if (file_ == nullptr) {
      TW_ASSIGN_OR_RETURN(file_, GzipWriter::Create());
      file_items_ = 0;
    }
    TW_RETURN_IF_ERROR(file_->Write(line));
    ++file_items_;
    ++item_count_;
    billed_size_bytes_ += line.size();
    if (file_->bytes_in() >= options_.data_file_bytes) return CloseDataFile();
    return Status::Ok();
  }

  // Uploads the open data file (or, with none open, an empty one) and lists it.
  Status CloseDataFile() {
    if (file_ == nullptr) {
      TW_ASSIGN_OR_RETURN(file_, GzipWriter::Create());
      file_items_ = 0;
    }
    TW_ASSIGN_OR_RETURN(std::string compressed, file_->Finish());
    file_.reset();
    TW_ASSIGN_OR_RETURN(std::string name, RandomDataFileName());
    DataFileEntry entry;
    entry.item_count = file_items_;
    entry.key = data_dir_ + name + (options_.format == ExportFormat::kIon ? ".ion.gz" : ".json.gz");
    TW_ASSIGN_OR_RETURN(entry.md5_base64, Md5Base64(compressed));
    TW_ASSIGN_OR_RETURN(entry.etag, store_->PutObject(options_.bucket, entry.key, compressed));
    data_files_.push_back(std::move(entry));
    return Status::Ok();
  }

  // Puts `text` at `key` and its base64 MD5 at `key` with ".json" replaced by ".md5".
  Status PutWithMd5(const std::string& key, const std::string& text) {
    TW_RETURN_IF_ERROR(store_->PutObject(options_.bucket, key, text).status());
    TW_ASSIGN_OR_RETURN(std::string md5, Md5Base64(text));
    const std::string md5_key =
        key.substr(0, key.size() - std::string_view(".json").size()) + ".md5";
    return store_->PutObject(options_.bucket, md5_key, md5).status();
  }

  Status WriteManifests(int64_t end_time_micros) {
    if (file_ != nullptr || data_files_.empty()) TW_RETURN_IF_ERROR(CloseDataFile());

    std::string files_manifest;
    for (const DataFileEntry& entry : data_files_) {
      rapidjson::StringBuffer buffer;
      json::Writer writer(buffer);
      writer.StartObject();
      WriteKey(writer, "itemCount");
      writer.Uint64(entry.item_count);
      WriteKey(writer, "md5Checksum");
      WriteString(writer, entry.md5_base64);
      WriteKey(writer, "etag");
      WriteString(writer, entry.etag);
      WriteKey(writer, "dataFileS3Key");
      WriteString(writer, entry.key);
      writer.EndObject();
      files_manifest.append(buffer.GetString(), buffer.GetSize());
      files_manifest.push_back('\n');
    }
    const std::string files_key = export_dir_ + "manifest-files.json";
    TW_RETURN_IF_ERROR(PutWithMd5(files_key, files_manifest));

    const bool incremental = options_.type == ExportType::kIncrementalExport;
    rapidjson::StringBuffer buffer;
    json::Writer writer(buffer);
    writer.StartObject();
    WriteKey(writer, "version");
    WriteString(writer, incremental ? kIncrementalVersion : kFullVersion);
    WriteKey(writer, "exportArn");
    WriteString(writer, options_.export_arn);
    WriteKey(writer, "startTime");
    WriteString(writer, IsoMillis(options_.start_time_micros));
    WriteKey(writer, "endTime");
    WriteString(writer, IsoMillis(end_time_micros));
    WriteKey(writer, "tableArn");
    WriteString(writer, options_.table_arn);
    WriteKey(writer, "tableId");
    WriteString(writer, options_.table_id);
    if (incremental) {
      WriteKey(writer, "exportFromTime");
      WriteString(writer, IsoMillis(options_.export_from_micros));
      WriteKey(writer, "exportToTime");
      WriteString(writer, IsoMillis(options_.export_to_micros));
    } else {
      WriteKey(writer, "exportTime");
      WriteString(writer, IsoMillis(options_.export_time_micros));
    }
    WriteKey(writer, "s3Bucket");
    WriteString(writer, options_.bucket);
    WriteKey(writer, "s3Prefix");
    if (options_.prefix.empty()) {
      writer.Null();
    } else {
      WriteString(writer, options_.prefix);
    }
    // DynamoDB's default (S3-managed keys); there is no KMS key.
    WriteKey(writer, "s3SseAlgorithm");
    WriteString(writer, "AES256");
    WriteKey(writer, "s3SseKmsKeyId");
    writer.Null();
    WriteKey(writer, "manifestFilesS3Key");
    WriteString(writer, files_key);
    WriteKey(writer, "billedSizeBytes");
    writer.Uint64(billed_size_bytes_);
    WriteKey(writer, "itemCount");
    writer.Uint64(item_count_);
    WriteKey(writer, "outputFormat");
    WriteString(writer, FormatName(options_.format));
    if (incremental) {
      WriteKey(writer, "outputView");
      WriteString(writer, ViewName(options_.view_type));
    }
    WriteKey(writer, "exportType");
    WriteString(writer, incremental ? "INCREMENTAL_EXPORT" : "FULL_EXPORT");
    writer.EndObject();
    return PutWithMd5(export_dir_ + "manifest-summary.json",
                      std::string(buffer.GetString(), buffer.GetSize()));
  }

  std::shared_ptr<ObjectStore> store_;
  const TableExportOptions options_;
  std::string export_dir_;  // "<prefix>/AWSDynamoDB/<export id>/"
  std::string data_dir_;
  std::unique_ptr<GzipWriter> file_;  // the data file being written, if any
  uint64_t file_items_ = 0;
  std::vector<DataFileEntry> data_files_;
  uint64_t item_count_ = 0;
  uint64_t billed_size_bytes_ = 0;
  bool finished_ = false;
  Status failure_;
};

}  // namespace

Result<std::unique_ptr<TableExportWriter>> TableExportWriter::Start(
    std::shared_ptr<ObjectStore> store, const TableExportOptions& options) {
  if (store == nullptr) return Status::Internal("export: no object store");
  if (options.bucket.empty()) return Status::Validation("export: S3Bucket is required");
  if (options.export_id.empty()) return Status::Internal("export: no export id");
  TW_RETURN_IF_ERROR(store->CheckBucket(options.bucket));
  auto writer = std::make_unique<TableExportWriterImpl>(std::move(store), options);
  TW_RETURN_IF_ERROR(writer->WriteStarted());
  return std::unique_ptr<TableExportWriter>(std::move(writer));
}

}  // namespace tidewater
