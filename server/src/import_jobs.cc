#include "import_jobs.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <utility>

#include "job_support.h"
#include "table_json.h"

namespace tidewater::server {
namespace {

namespace fs = std::filesystem;

constexpr int kFormatVersion = 1;
constexpr std::string_view kItemValidationError = "ItemValidationError";
constexpr std::string_view kItemValidationMessage =
    "Some of the items failed validation checks and were not imported. Please check "
    "tidewaterd's log (event=import_bad_row) for more details.";
constexpr std::string_view kStoppedMessage = "tidewaterd stopped before the import ended";

bool ParseImportFormat(std::string_view name, ImportFormat* out) {
  if (name == "CSV")
    *out = ImportFormat::kCsv;
  else if (name == "DYNAMODB_JSON")
    *out = ImportFormat::kDynamoDbJson;
  else if (name == "ION")
    *out = ImportFormat::kIon;
  else
    return false;
  return true;
}

bool ParseImportCompression(std::string_view name, ImportCompression* out) {
  if (name == "NONE")
    *out = ImportCompression::kNone;
  else if (name == "GZIP")
    *out = ImportCompression::kGzip;
  else if (name == "ZSTD")
    *out = ImportCompression::kZstd;
  else
    return false;
  return true;
}

bool ParseImportStatus(std::string_view name, ImportStatus* out) {
  if (name == "IN_PROGRESS")
    *out = ImportStatus::kInProgress;
  else if (name == "COMPLETED")
    *out = ImportStatus::kCompleted;
  else if (name == "FAILED")
    *out = ImportStatus::kFailed;
  else
    return false;
  return true;
}

// Text for a log line's quoted value: quotes, backslashes and control characters escaped, so
// that a row's content cannot end the line or forge another field.
std::string LogQuoted(std::string_view text) {
  std::string quoted;
  quoted.reserve(text.size());
  for (char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", static_cast<unsigned char>(c));
      quoted += escaped;
    } else {
      quoted += c;
    }
  }
  return quoted;
}

// The type of every key attribute of the table and its indexes (how a CSV import types
// those columns; every other column is a string).
std::map<std::string, AttributeType> KeyTypes(const CreateTableRequest& table) {
  std::map<std::string, AttributeType> types;
  const auto add = [&types](const KeySchema& schema) {
    types[schema.partition_key.name] = schema.partition_key.type;
    if (schema.sort_key) types[schema.sort_key->name] = schema.sort_key->type;
  };
  add(table.key_schema);
  for (const auto* indexes : {&table.local_indexes, &table.global_indexes}) {
    for (const SecondaryIndex& index : *indexes) add(index.key_schema);
  }
  return types;
}

ImportFormatOptions ReaderOptions(const ImportParameters& parameters) {
  ImportFormatOptions options;
  options.format = parameters.format;
  options.compression = parameters.compression;
  if (parameters.csv) {
    if (parameters.csv->delimiter) options.csv.delimiter = *parameters.csv->delimiter;
    if (parameters.csv->header_list) options.csv.header = *parameters.csv->header_list;
  }
  options.key_types = KeyTypes(parameters.table_definition);
  return options;
}

// --- The record file ---

std::string Serialize(const ImportRecord& record) {
  const ImportParameters& p = record.parameters;
  rapidjson::StringBuffer buffer;
  RecordWriter w(buffer);
  w.StartObject();
  PutInt(w, "version", kFormatVersion);
  PutText(w, "import_id", record.import_id);
  PutText(w, "import_arn", record.import_arn);
  PutText(w, "table", p.table);
  PutText(w, "table_arn", p.table_arn);
  PutText(w, "table_id", record.table_id);
  PutText(w, "client_token", record.client_token);
  PutOptionalText(w, "requested_client_token", p.client_token);
  PutText(w, "s3_bucket", p.s3_bucket);
  PutOptionalText(w, "s3_bucket_owner", p.s3_bucket_owner);
  PutOptionalText(w, "s3_key_prefix", p.s3_key_prefix);
  PutText(w, "format", ImportFormatName(p.format));
  PutText(w, "compression", ImportCompressionName(p.compression));
  if (p.csv) {
    w.Key("csv");
    w.StartObject();
    if (p.csv->delimiter) PutText(w, "delimiter", std::string_view(&*p.csv->delimiter, 1));
    if (p.csv->header_list) {
      w.Key("header_list");
      w.StartArray();
      for (const std::string& header : *p.csv->header_list) {
        w.String(header.data(), static_cast<rapidjson::SizeType>(header.size()));
      }
      w.EndArray();
    }
    w.EndObject();
  }
  PutText(w, "table_creation_parameters", p.table_creation_parameters);
  PutText(w, "status", ImportStatusName(record.status));
  PutInt(w, "start", record.start_time_micros);
  PutInt(w, "end", record.end_time_micros);
  w.Key("loaded");
  w.Bool(record.loaded);
  PutUint(w, "processed_size_bytes", record.processed_size_bytes);
  PutUint(w, "processed_item_count", record.processed_item_count);
  PutUint(w, "imported_item_count", record.imported_item_count);
  PutUint(w, "error_count", record.error_count);
  PutText(w, "failure_code", record.failure_code);
  PutText(w, "failure_message", record.failure_message);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// The "csv" member of a record: nullopt when absent; false when damaged.
bool ParseCsvOptions(const rapidjson::Value& record, std::optional<CsvInputOptions>* out) {
  const rapidjson::Value* csv = RecordMember(record, "csv");
  if (csv == nullptr) return true;
  if (!csv->IsObject()) return false;
  CsvInputOptions options;
  std::optional<std::string> delimiter = RecordOptionalText(*csv, "delimiter");
  if (delimiter) {
    if (delimiter->size() != 1) return false;
    options.delimiter = delimiter->front();
  }
  if (const rapidjson::Value* headers = RecordMember(*csv, "header_list")) {
    if (!headers->IsArray()) return false;
    std::vector<std::string> header_list;
    for (const rapidjson::Value& header : headers->GetArray()) {
      if (!header.IsString()) return false;
      header_list.emplace_back(header.GetString(), header.GetStringLength());
    }
    options.header_list = std::move(header_list);
  }
  *out = std::move(options);
  return true;
}

Result<ImportRecord> ParseRecord(const std::string& text, const std::string& path) {
  const Status damaged = Status::IOError(path + " is damaged (not an import record of version " +
                                         std::to_string(kFormatVersion) + ")");
  rapidjson::Document document;
  document.Parse(text.c_str());
  if (document.HasParseError() || !document.IsObject() ||
      RecordInt(document, "version") != kFormatVersion) {
    return damaged;
  }
  const rapidjson::Value& v = document;
  ImportRecord record;
  ImportParameters& p = record.parameters;
  record.import_id = RecordText(v, "import_id");
  record.import_arn = RecordText(v, "import_arn");
  p.table = RecordText(v, "table");
  p.table_arn = RecordText(v, "table_arn");
  record.table_id = RecordText(v, "table_id");
  record.client_token = RecordText(v, "client_token");
  p.client_token = RecordOptionalText(v, "requested_client_token");
  p.s3_bucket = RecordText(v, "s3_bucket");
  p.s3_bucket_owner = RecordOptionalText(v, "s3_bucket_owner");
  p.s3_key_prefix = RecordOptionalText(v, "s3_key_prefix");
  p.table_creation_parameters = RecordText(v, "table_creation_parameters");
  record.start_time_micros = RecordInt(v, "start");
  record.end_time_micros = RecordInt(v, "end");
  const rapidjson::Value* loaded = RecordMember(v, "loaded");
  record.loaded = loaded != nullptr && loaded->IsBool() && loaded->GetBool();
  record.processed_size_bytes = RecordUint(v, "processed_size_bytes");
  record.processed_item_count = RecordUint(v, "processed_item_count");
  record.imported_item_count = RecordUint(v, "imported_item_count");
  record.error_count = RecordUint(v, "error_count");
  record.failure_code = RecordText(v, "failure_code");
  record.failure_message = RecordText(v, "failure_message");
  if (record.import_id.empty() || record.import_arn.empty() || p.table.empty() ||
      !ParseImportFormat(RecordText(v, "format"), &p.format) ||
      !ParseImportCompression(RecordText(v, "compression"), &p.compression) ||
      !ParseImportStatus(RecordText(v, "status"), &record.status) || !ParseCsvOptions(v, &p.csv)) {
    return damaged;
  }
  return record;
}

// The rows of one import on their way to the engine: items gathered in batches of
// ImportJobs::kBatchItems, bad rows logged (up to ImportJobs::kMaxLoggedBadRows), and every
// row counted. Used by the import's own thread only.
class ImportLoader {
 public:
  ImportLoader(Engine& engine, const std::string& table, const std::string& import_id,
               const std::atomic<bool>& stopping)
      : engine_(engine), table_(table), import_id_(import_id), stopping_(stopping) {}

  // The rows that follow come from the object `key`.
  void BeginObject(const std::string& key) { object_key_ = key; }

  // An item read at `line` of the current object. A failure (the engine's, or tidewaterd
  // stopping) ends the import.
  Status AddItem(Item item, uint64_t line) {
    if (stopping_.load()) return Status::Internal(std::string(kStoppedMessage));
    ++processed_;
    batch_.push_back(std::move(item));
    batch_lines_.push_back(line);
    if (batch_.size() < ImportJobs::kBatchItems) return Status::Ok();
    return Flush();
  }

  // A row of the current object that is not an item (line 0: the object as a whole).
  void AddBadRow(uint64_t line, std::string_view reason) {
    ++processed_;
    CountError(line, reason);
  }

  // Hands the gathered items to the engine; those it leaves out count as errors.
  Status Flush() {
    if (batch_.empty()) return Status::Ok();
    const size_t count = batch_.size();
    const std::vector<uint64_t> lines = std::move(batch_lines_);
    batch_lines_.clear();
    Result<ImportBatchResult> loaded = engine_.LoadImportedItems(table_, std::move(batch_));
    batch_.clear();
    if (!loaded.ok()) return loaded.status();
    for (const auto& [position, why] : loaded->rejected) {
      CountError(position < lines.size() ? lines[position] : 0, why.message());
    }
    imported_ += count - loaded->rejected.size();
    return Status::Ok();
  }

  // The summary line for the bad rows past the logging cap, if any.
  void LogUnloggedBadRows() const {
    if (errors_ <= ImportJobs::kMaxLoggedBadRows) return;
    std::fprintf(stderr, "event=import_bad_rows_not_logged import=%s count=%llu\n",
                 import_id_.c_str(),
                 static_cast<unsigned long long>(errors_ - ImportJobs::kMaxLoggedBadRows));
  }

  uint64_t processed() const { return processed_; }
  uint64_t imported() const { return imported_; }
  uint64_t errors() const { return errors_; }

 private:
  // A row already counted as processed that is left out: counted, and logged below the cap.
  void CountError(uint64_t line, std::string_view reason) {
    ++errors_;
    if (errors_ > ImportJobs::kMaxLoggedBadRows) return;
    std::fprintf(stderr, "event=import_bad_row import=%s object=\"%s\" line=%llu reason=\"%s\"\n",
                 import_id_.c_str(), LogQuoted(object_key_).c_str(),
                 static_cast<unsigned long long>(line), LogQuoted(reason).c_str());
  }

  Engine& engine_;
  const std::string& table_;
  const std::string& import_id_;
  const std::atomic<bool>& stopping_;
  std::string object_key_;
  std::vector<Item> batch_;
  std::vector<uint64_t> batch_lines_;  // the line of each item of batch_
  uint64_t processed_ = 0;
  uint64_t imported_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace

std::string_view ImportStatusName(ImportStatus status) {
  switch (status) {
    case ImportStatus::kInProgress:
      return "IN_PROGRESS";
    case ImportStatus::kCompleted:
      return "COMPLETED";
    case ImportStatus::kFailed:
      return "FAILED";
  }
  return "FAILED";
}

std::string_view ImportFormatName(ImportFormat format) {
  switch (format) {
    case ImportFormat::kCsv:
      return "CSV";
    case ImportFormat::kDynamoDbJson:
      return "DYNAMODB_JSON";
    case ImportFormat::kIon:
      return "ION";
  }
  return "DYNAMODB_JSON";
}

std::string_view ImportCompressionName(ImportCompression compression) {
  switch (compression) {
    case ImportCompression::kNone:
      return "NONE";
    case ImportCompression::kGzip:
      return "GZIP";
    case ImportCompression::kZstd:
      return "ZSTD";
  }
  return "NONE";
}

bool ImportParameters::SameAs(const ImportParameters& other) const {
  return table_arn == other.table_arn && s3_bucket == other.s3_bucket &&
         s3_bucket_owner == other.s3_bucket_owner && s3_key_prefix == other.s3_key_prefix &&
         format == other.format && compression == other.compression && csv == other.csv &&
         table_creation_parameters == other.table_creation_parameters &&
         table_definition.backfill_stream == other.table_definition.backfill_stream &&
         table_definition.stream.enabled == other.table_definition.stream.enabled &&
         table_definition.stream.view_type == other.table_definition.stream.view_type;
}

ImportJobs::ImportJobs(Options options)
    : options_(std::move(options)), dir_((fs::path(options_.data_dir) / "imports").string()) {}

ImportJobs::~ImportJobs() { Shutdown(); }

Result<std::unique_ptr<ImportJobs>> ImportJobs::Open(Options options) {
  if (options.engine == nullptr) return Status::Internal("ImportJobs needs an engine");
  if (options.store == nullptr) return Status::Internal("ImportJobs needs an object store");
  std::unique_ptr<ImportJobs> jobs(new ImportJobs(std::move(options)));
  TW_RETURN_IF_ERROR(jobs->Load());
  return jobs;
}

int64_t ImportJobs::Now() const { return options_.engine->options().clock->NowMicros(); }

Status ImportJobs::Load() {
  TW_ASSIGN_OR_RETURN(std::vector<RecordFile> files, ReadRecordFiles(dir_));
  std::vector<ImportRecord> records;
  for (const RecordFile& file : files) {
    Result<ImportRecord> record = ParseRecord(file.text, file.path);
    if (!record.ok()) {
      // Written atomically, so only damage to the disk makes one unreadable: the other
      // imports stay available.
      spdlog::error("event=import_record_unreadable path={} error=\"{}\"", file.path,
                    record.status().message());
      continue;
    }
    records.push_back(std::move(*record));
  }
  const int64_t now = Now();
  for (ImportRecord& record : records) {
    if (record.status != ImportStatus::kInProgress) continue;
    RecordInterrupted(record, now);
    TW_RETURN_IF_ERROR(Persist(record));
  }
  MutexLock lock(mutex_);
  for (ImportRecord& record : records) {
    std::string arn = record.import_arn;
    imports_.emplace(std::move(arn), std::move(record));
  }
  return Status::Ok();
}

void ImportJobs::RecordInterrupted(ImportRecord& record, int64_t now) const {
  record.end_time_micros = now;
  // Every object read and the table turned ACTIVE, only the end not recorded: the import
  // ended as its counts say. The table it created is the one of that name and id, ACTIVE.
  Result<TableDescription> table = options_.engine->DescribeTable(record.parameters.table);
  const bool finished = record.loaded && table.ok() &&
                        TableIdText(table->table_id) == record.table_id &&
                        !table->import_in_progress;
  if (finished && record.error_count == 0) {
    record.status = ImportStatus::kCompleted;
    spdlog::info("event=import_completed import_arn={} items={} reason=recorded_after_restart",
                 record.import_arn, record.imported_item_count);
    return;
  }
  record.status = ImportStatus::kFailed;
  if (finished) {
    record.failure_code = std::string(kItemValidationError);
    record.failure_message = std::string(kItemValidationMessage);
    return;
  }
  // Its tidewaterd stopped or was killed while the import ran; the engine dropped its table
  // when it opened. Counts of a run that did not end are not reported.
  record.loaded = false;
  record.processed_size_bytes = 0;
  record.processed_item_count = 0;
  record.imported_item_count = 0;
  record.error_count = 0;
  record.failure_code = "InternalServerError";
  record.failure_message =
      "tidewaterd restarted while the import was in progress; its table was dropped. Request "
      "the import again";
  spdlog::warn("event=import_failed import_arn={} reason=server_restarted", record.import_arn);
}

Status ImportJobs::Persist(const ImportRecord& record) const {
  return WriteRecordFile(dir_, record.import_id, Serialize(record));
}

Result<std::optional<ImportRecord>> ImportJobs::FindByToken(const ImportParameters& parameters,
                                                            int64_t now) const {
  if (!parameters.client_token) return std::optional<ImportRecord>();
  const ImportRecord* found = nullptr;
  for (const auto& [arn, record] : imports_) {
    if (record.client_token != *parameters.client_token) continue;
    const int64_t since = record.status == ImportStatus::kInProgress ? record.start_time_micros
                                                                     : record.end_time_micros;
    if (now - since >= kClientTokenMicros) continue;  // the token expired
    if (found == nullptr || record.start_time_micros > found->start_time_micros) found = &record;
  }
  if (found == nullptr) return std::optional<ImportRecord>();
  if (!found->parameters.SameAs(parameters)) {
    return Status(ErrorCode::kImportConflict,
                  "Duplicate request detected: the ClientToken " + *parameters.client_token +
                      " was used by import " + found->import_arn + " with different parameters");
  }
  return std::optional<ImportRecord>(*found);
}

Result<ImportRecord> ImportJobs::Start(const ImportParameters& parameters) {
  // Held throughout, so that two requests with one token create one table.
  MutexLock lock(mutex_);
  if (shut_down_) return Status::Internal("tidewaterd is stopping");
  const int64_t now = Now();
  TW_ASSIGN_OR_RETURN(std::optional<ImportRecord> existing, FindByToken(parameters, now));
  if (existing) return std::move(*existing);
  ReapFinished();
  const size_t running =
      static_cast<size_t>(std::count_if(imports_.begin(), imports_.end(), [](const auto& entry) {
        return entry.second.status == ImportStatus::kInProgress;
      }));
  if (running >= kMaxConcurrentImports) {
    return Status(ErrorCode::kLimitExceeded,
                  "There is a limit of " + std::to_string(kMaxConcurrentImports) +
                      " imports in progress at a time; wait for one to end");
  }

  ImportRecord record;
  record.parameters = parameters;
  record.client_token = parameters.client_token.value_or(NewClientToken());
  record.start_time_micros = now;
  do {
    record.import_id = NewJobId(now);
    record.import_arn = parameters.table_arn + std::string(kImportArnSeparator) + record.import_id;
  } while (imports_.count(record.import_arn) != 0);

  Result<TableDescription> table =
      options_.engine->BeginImport(parameters.table_definition, record.import_id);
  if (!table.ok()) {
    // DynamoDB answers ResourceInUseException for an import into an existing table.
    if (table.status().code() == ErrorCode::kTableAlreadyExists) {
      return Status::InUse(table.status().message());
    }
    return table.status();
  }
  record.table_id = TableIdText(table->table_id);
  if (Status persisted = Persist(record); !persisted.ok()) {
    (void)options_.engine->AbandonImport(parameters.table);
    return persisted;
  }
  imports_[record.import_arn] = record;
  spdlog::info(
      "event=import_started import_arn={} table={} format={} compression={} bucket={} "
      "prefix=\"{}\"",
      record.import_arn, parameters.table, ImportFormatName(parameters.format),
      ImportCompressionName(parameters.compression), parameters.s3_bucket,
      parameters.s3_key_prefix.value_or(""));
  auto done = std::make_shared<std::atomic<bool>>(false);
  try {
    jobs_.push_back(Job{std::thread([this, record, done] {
                          Run(record);
                          done->store(true);
                        }),
                        done});
  } catch (const std::exception& e) {  // no thread to run it
    (void)options_.engine->AbandonImport(parameters.table);
    record.status = ImportStatus::kFailed;
    record.end_time_micros = Now();
    record.failure_code = "InternalServerError";
    record.failure_message = std::string("cannot start the import: ") + e.what();
    (void)Persist(record);
    imports_[record.import_arn] = record;
  }
  return record;
}

void ImportJobs::ReapFinished() {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (it->done->load()) {
      if (it->thread.joinable()) it->thread.join();
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

void ImportJobs::Run(ImportRecord record) {
  const ImportParameters& p = record.parameters;
  Result<std::vector<ObjectInfo>> objects =
      options_.store->ListObjects(p.s3_bucket, p.s3_key_prefix.value_or(""));
  if (!objects.ok()) {
    const JobFailure failure = ObjectStoreFailure(objects.status());
    return Fail(std::move(record), failure.code, failure.message);
  }
  const ImportFormatOptions reader_options = ReaderOptions(p);
  ImportLoader loader(*options_.engine, p.table, record.import_id, stopping_);
  uint64_t processed_bytes = 0;
  for (const ObjectInfo& object : *objects) {
    if (stopping_.load()) {
      return Fail(std::move(record), "InternalServerError", std::string(kStoppedMessage));
    }
    Result<std::string> data = options_.store->GetObject(p.s3_bucket, object.key);
    if (!data.ok()) {
      const JobFailure failure = ObjectStoreFailure(data.status());
      return Fail(std::move(record), failure.code, failure.message);
    }
    processed_bytes += data->size();
    loader.BeginObject(object.key);
    // Set when the loader fails (the engine, or a stop): that ends the import. Any other
    // failure of the reader is the object's own (not of its format, or damaged): it counts
    // as a bad row and the import goes on with the next object.
    Status load_failure;
    const Status read = ReadImportObject(
        object.key, *data, reader_options,
        [&](Item item, uint64_t line) -> Status {
          Status added = loader.AddItem(std::move(item), line);
          if (!added.ok()) load_failure = added;
          return added;
        },
        [&](const ImportRowError& error) -> Status {
          loader.AddBadRow(error.line, error.message);
          return Status::Ok();
        });
    if (load_failure.ok() && !read.ok()) loader.AddBadRow(0, read.message());
    if (load_failure.ok()) load_failure = loader.Flush();
    if (!load_failure.ok()) {
      const JobFailure failure = EngineFailure(load_failure);
      return Fail(std::move(record), failure.code, failure.message);
    }
  }
  loader.LogUnloggedBadRows();

  record.loaded = true;
  record.processed_size_bytes = processed_bytes;
  record.processed_item_count = loader.processed();
  record.imported_item_count = loader.imported();
  record.error_count = loader.errors();
  // Recorded before the table turns ACTIVE: a restart in between still knows how it ended.
  if (Status persisted = Persist(record); !persisted.ok()) {
    const JobFailure failure = EngineFailure(persisted);
    return Fail(std::move(record), failure.code, failure.message);
  }
  if (Status finished = options_.engine->FinishImport(p.table); !finished.ok()) {
    const JobFailure failure = EngineFailure(finished);
    return Fail(std::move(record), failure.code, failure.message);
  }
  record.end_time_micros = Now();
  if (record.error_count == 0) {
    record.status = ImportStatus::kCompleted;
  } else {
    record.status = ImportStatus::kFailed;
    record.failure_code = std::string(kItemValidationError);
    record.failure_message = std::string(kItemValidationMessage);
  }
  Finish(std::move(record));
}

void ImportJobs::Fail(ImportRecord record, std::string code, std::string message) {
  // Never a half-imported table.
  const Status abandoned = options_.engine->AbandonImport(record.parameters.table);
  if (!abandoned.ok()) {
    spdlog::error("event=import_table_not_dropped import_arn={} table={} error=\"{}\"",
                  record.import_arn, record.parameters.table, abandoned.message());
  }
  record.status = ImportStatus::kFailed;
  record.end_time_micros = Now();
  record.loaded = false;
  record.processed_size_bytes = 0;
  record.processed_item_count = 0;
  record.imported_item_count = 0;
  record.error_count = 0;
  record.failure_code = std::move(code);
  record.failure_message = std::move(message);
  Finish(std::move(record));
}

void ImportJobs::Finish(ImportRecord record) {
  if (record.status == ImportStatus::kCompleted) {
    spdlog::info("event=import_completed import_arn={} items={} bytes={}", record.import_arn,
                 record.imported_item_count, record.processed_size_bytes);
  } else {
    spdlog::warn(
        "event=import_failed import_arn={} failure_code={} failure=\"{}\" items={} errors={}",
        record.import_arn, record.failure_code, record.failure_message, record.imported_item_count,
        record.error_count);
  }
  Status persisted = Persist(record);
  if (!persisted.ok()) {
    // DescribeImport answers from memory; after a restart the import ends as the record
    // written before its table turned ACTIVE says (or FAILED, its table dropped).
    spdlog::error("event=import_record_not_written import_arn={} error=\"{}\"", record.import_arn,
                  persisted.message());
  }
  MutexLock lock(mutex_);
  imports_[record.import_arn] = std::move(record);
}

Result<ImportRecord> ImportJobs::Describe(const std::string& import_arn) const {
  MutexLock lock(mutex_);
  auto it = imports_.find(import_arn);
  if (it == imports_.end()) {
    return Status(ErrorCode::kImportNotFound, "Import not found: " + import_arn);
  }
  return it->second;
}

ListImportsPage ImportJobs::List(const ListImportsRequest& request) const {
  ListImportsPage page;
  const int64_t now = Now();
  MutexLock lock(mutex_);
  auto it = request.before_arn ? imports_.lower_bound(*request.before_arn) : imports_.end();
  while (it != imports_.begin()) {
    --it;
    const ImportRecord& record = it->second;
    if (now - record.start_time_micros > kListedMicros) continue;
    if (request.table && record.parameters.table != *request.table) continue;
    if (request.limit != 0 && page.imports.size() == request.limit) {
      page.last_arn = page.imports.back().import_arn;
      break;
    }
    page.imports.push_back(record);
  }
  return page;
}

void ImportJobs::Shutdown() {
  std::vector<Job> jobs;
  {
    MutexLock lock(mutex_);
    if (shut_down_) return;
    shut_down_ = true;
    jobs = std::move(jobs_);
    jobs_.clear();
  }
  stopping_.store(true);
  for (Job& job : jobs) {
    if (job.thread.joinable()) job.thread.join();
  }
}

}  // namespace tidewater::server
