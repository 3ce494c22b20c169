#include "export_jobs.h"

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
constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;

Status InvalidExportTime(std::string message) {
  return Status(ErrorCode::kInvalidExportTime, std::move(message));
}

Status TableNotFound(const std::string& table) {
  return Status(ErrorCode::kTableNotFound, "Table not found: " + table);
}

// "15 minutes", "1 second", "0.5 seconds".
std::string DurationText(int64_t micros) {
  auto plural = [](int64_t n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  };
  if (micros % kMicrosPerMinute == 0) return plural(micros / kMicrosPerMinute, "minute");
  if (micros % kMicrosPerSecond == 0) return plural(micros / kMicrosPerSecond, "second");
  char text[32];
  std::snprintf(text, sizeof(text), "%g seconds",
                static_cast<double>(micros) / static_cast<double>(kMicrosPerSecond));
  return text;
}

// An incremental export's window [from, to): DynamoDB's rules on its length.
Status CheckWindow(int64_t from, int64_t to, int64_t min_window) {
  if (to <= from) return InvalidExportTime("ExportFromTime must be earlier than ExportToTime");
  if (to - from < min_window) {
    return InvalidExportTime(
        "Difference between export period from time and to time must be at least " +
        DurationText(min_window));
  }
  if (to - from > ExportJobs::kMaxIncrementalWindowMicros) {
    return InvalidExportTime(
        "Difference between export period from time and to time must not exceed 24 hours");
  }
  return Status::Ok();
}

// S3Prefix as the writer takes it: without a trailing slash.
std::string WriterPrefix(const std::optional<std::string>& prefix) {
  std::string text = prefix.value_or("");
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

bool ParseExportFormat(std::string_view name, ExportFormat* out) {
  if (name == "DYNAMODB_JSON")
    *out = ExportFormat::kDynamoDbJson;
  else if (name == "ION")
    *out = ExportFormat::kIon;
  else
    return false;
  return true;
}

bool ParseExportType(std::string_view name, ExportType* out) {
  if (name == "FULL_EXPORT")
    *out = ExportType::kFullExport;
  else if (name == "INCREMENTAL_EXPORT")
    *out = ExportType::kIncrementalExport;
  else
    return false;
  return true;
}

bool ParseExportViewType(std::string_view name, ExportViewType* out) {
  if (name == "NEW_IMAGE")
    *out = ExportViewType::kNewImage;
  else if (name == "NEW_AND_OLD_IMAGES")
    *out = ExportViewType::kNewAndOldImages;
  else
    return false;
  return true;
}

bool ParseExportStatus(std::string_view name, ExportStatus* out) {
  if (name == "IN_PROGRESS")
    *out = ExportStatus::kInProgress;
  else if (name == "COMPLETED")
    *out = ExportStatus::kCompleted;
  else if (name == "FAILED")
    *out = ExportStatus::kFailed;
  else
    return false;
  return true;
}

// --- The record file ---

std::string Serialize(const ExportRecord& record) {
  const ExportParameters& p = record.parameters;
  rapidjson::StringBuffer buffer;
  RecordWriter w(buffer);
  w.StartObject();
  PutInt(w, "version", kFormatVersion);
  PutText(w, "export_id", record.export_id);
  PutText(w, "export_arn", record.export_arn);
  PutText(w, "table", p.table);
  PutText(w, "table_arn", p.table_arn);
  PutText(w, "table_id", record.table_id);
  PutText(w, "client_token", record.client_token);
  PutOptionalText(w, "requested_client_token", p.client_token);
  PutText(w, "s3_bucket", p.s3_bucket);
  PutOptionalText(w, "s3_bucket_owner", p.s3_bucket_owner);
  PutOptionalText(w, "s3_prefix", p.s3_prefix);
  PutOptionalText(w, "s3_sse_algorithm", p.s3_sse_algorithm);
  PutOptionalText(w, "s3_sse_kms_key_id", p.s3_sse_kms_key_id);
  PutText(w, "format", ExportFormatName(p.format));
  PutText(w, "type", ExportTypeName(p.type));
  w.Key("type_given");
  w.Bool(p.type_given);
  PutOptionalInt(w, "requested_export_time", p.export_time_micros);
  PutOptionalInt(w, "requested_from", p.from_micros);
  PutOptionalInt(w, "requested_to", p.to_micros);
  PutText(w, "view_type", ExportViewTypeName(p.view_type));
  PutInt(w, "export_time", record.export_time_micros);
  PutInt(w, "from", record.from_micros);
  PutInt(w, "to", record.to_micros);
  PutText(w, "status", ExportStatusName(record.status));
  PutInt(w, "start", record.start_time_micros);
  PutInt(w, "end", record.end_time_micros);
  PutText(w, "manifest", record.manifest);
  PutUint(w, "item_count", record.item_count);
  PutUint(w, "billed_size_bytes", record.billed_size_bytes);
  PutText(w, "failure_code", record.failure_code);
  PutText(w, "failure_message", record.failure_message);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<ExportRecord> ParseRecord(const std::string& text, const std::string& path) {
  const Status damaged = Status::IOError(path + " is damaged (not an export record of version " +
                                         std::to_string(kFormatVersion) + ")");
  rapidjson::Document document;
  document.Parse(text.c_str());
  if (document.HasParseError() || !document.IsObject() ||
      RecordInt(document, "version") != kFormatVersion) {
    return damaged;
  }
  const rapidjson::Value& v = document;
  ExportRecord record;
  ExportParameters& p = record.parameters;
  record.export_id = RecordText(v, "export_id");
  record.export_arn = RecordText(v, "export_arn");
  p.table = RecordText(v, "table");
  p.table_arn = RecordText(v, "table_arn");
  record.table_id = RecordText(v, "table_id");
  record.client_token = RecordText(v, "client_token");
  p.client_token = RecordOptionalText(v, "requested_client_token");
  p.s3_bucket = RecordText(v, "s3_bucket");
  p.s3_bucket_owner = RecordOptionalText(v, "s3_bucket_owner");
  p.s3_prefix = RecordOptionalText(v, "s3_prefix");
  p.s3_sse_algorithm = RecordOptionalText(v, "s3_sse_algorithm");
  p.s3_sse_kms_key_id = RecordOptionalText(v, "s3_sse_kms_key_id");
  const rapidjson::Value* type_given = RecordMember(v, "type_given");
  p.type_given = type_given != nullptr && type_given->IsBool() && type_given->GetBool();
  p.export_time_micros = RecordOptionalInt(v, "requested_export_time");
  p.from_micros = RecordOptionalInt(v, "requested_from");
  p.to_micros = RecordOptionalInt(v, "requested_to");
  record.export_time_micros = RecordInt(v, "export_time");
  record.from_micros = RecordInt(v, "from");
  record.to_micros = RecordInt(v, "to");
  record.start_time_micros = RecordInt(v, "start");
  record.end_time_micros = RecordInt(v, "end");
  record.manifest = RecordText(v, "manifest");
  record.item_count = RecordUint(v, "item_count");
  record.billed_size_bytes = RecordUint(v, "billed_size_bytes");
  record.failure_code = RecordText(v, "failure_code");
  record.failure_message = RecordText(v, "failure_message");
  if (record.export_id.empty() || record.export_arn.empty() || p.table.empty() ||
      !ParseExportFormat(RecordText(v, "format"), &p.format) ||
      !ParseExportType(RecordText(v, "type"), &p.type) ||
      !ParseExportViewType(RecordText(v, "view_type"), &p.view_type) ||
      !ParseExportStatus(RecordText(v, "status"), &record.status)) {
    return damaged;
  }
  return record;
}

}  // namespace

std::string_view ExportStatusName(ExportStatus status) {
  switch (status) {
    case ExportStatus::kInProgress:
      return "IN_PROGRESS";
    case ExportStatus::kCompleted:
      return "COMPLETED";
    case ExportStatus::kFailed:
      return "FAILED";
  }
  return "FAILED";
}

std::string_view ExportFormatName(ExportFormat format) {
  return format == ExportFormat::kIon ? "ION" : "DYNAMODB_JSON";
}

std::string_view ExportTypeName(ExportType type) {
  return type == ExportType::kIncrementalExport ? "INCREMENTAL_EXPORT" : "FULL_EXPORT";
}

std::string_view ExportViewTypeName(ExportViewType view_type) {
  return view_type == ExportViewType::kNewImage ? "NEW_IMAGE" : "NEW_AND_OLD_IMAGES";
}

bool ExportParameters::SameAs(const ExportParameters& other) const {
  return table_arn == other.table_arn && s3_bucket == other.s3_bucket &&
         s3_bucket_owner == other.s3_bucket_owner && s3_prefix == other.s3_prefix &&
         s3_sse_algorithm == other.s3_sse_algorithm &&
         s3_sse_kms_key_id == other.s3_sse_kms_key_id && format == other.format &&
         type == other.type && export_time_micros == other.export_time_micros &&
         from_micros == other.from_micros && to_micros == other.to_micros &&
         view_type == other.view_type;
}

ExportJobs::ExportJobs(Options options)
    : options_(std::move(options)), dir_((fs::path(options_.data_dir) / "exports").string()) {}

ExportJobs::~ExportJobs() { Shutdown(); }

Result<std::unique_ptr<ExportJobs>> ExportJobs::Open(Options options) {
  if (options.engine == nullptr) return Status::Internal("ExportJobs needs an engine");
  std::unique_ptr<ExportJobs> jobs(new ExportJobs(std::move(options)));
  TW_RETURN_IF_ERROR(jobs->Load());
  return jobs;
}

int64_t ExportJobs::Now() const { return options_.engine->options().clock->NowMicros(); }

Status ExportJobs::Load() {
  TW_ASSIGN_OR_RETURN(std::vector<RecordFile> files, ReadRecordFiles(dir_));
  std::vector<ExportRecord> records;
  for (const RecordFile& file : files) {
    Result<ExportRecord> record = ParseRecord(file.text, file.path);
    if (!record.ok()) {
      // Written atomically, so only damage to the disk makes one unreadable: the other
      // exports stay available.
      spdlog::error("event=export_record_unreadable path={} error=\"{}\"", file.path,
                    record.status().message());
      continue;
    }
    records.push_back(std::move(*record));
  }
  const int64_t now = Now();
  for (ExportRecord& record : records) {
    if (record.status == ExportStatus::kInProgress) {
      // Its tidewaterd stopped or was killed while the export ran.
      record.status = ExportStatus::kFailed;
      record.end_time_micros = now;
      record.failure_code = "InternalServerError";
      record.failure_message =
          "tidewaterd restarted while the export was in progress; request the export again";
      TW_RETURN_IF_ERROR(Persist(record));
      spdlog::warn("event=export_failed export_arn={} reason=server_restarted", record.export_arn);
    }
  }
  MutexLock lock(mutex_);
  for (ExportRecord& record : records) {
    std::string arn = record.export_arn;
    exports_.emplace(std::move(arn), std::move(record));
  }
  return Status::Ok();
}

Status ExportJobs::Persist(const ExportRecord& record) const {
  return WriteRecordFile(dir_, record.export_id, Serialize(record));
}

Result<std::optional<ExportRecord>> ExportJobs::FindByToken(const ExportParameters& parameters,
                                                            int64_t now) const {
  if (!parameters.client_token) return std::optional<ExportRecord>();
  const ExportRecord* found = nullptr;
  for (const auto& [arn, record] : exports_) {
    if (record.client_token != *parameters.client_token) continue;
    if (now - record.start_time_micros >= kClientTokenMicros) continue;  // the token expired
    if (found == nullptr || record.start_time_micros > found->start_time_micros) found = &record;
  }
  if (found == nullptr) return std::optional<ExportRecord>();
  if (!found->parameters.SameAs(parameters)) {
    return Status(ErrorCode::kExportConflict,
                  "Duplicate request detected: the ClientToken " + *parameters.client_token +
                      " was used by export " + found->export_arn + " with different parameters");
  }
  return std::optional<ExportRecord>(*found);
}

Status ExportJobs::Resolve(ExportRecord& record) const {
  const ExportParameters& p = record.parameters;
  const bool incremental = p.type == ExportType::kIncrementalExport;
  if (incremental && p.from_micros && p.to_micros) {
    TW_RETURN_IF_ERROR(
        CheckWindow(*p.from_micros, *p.to_micros, options_.min_incremental_window_micros));
  }
  Result<TableDescription> table = options_.engine->DescribeTable(p.table);
  if (!table.ok()) {
    const ErrorCode code = table.status().code();
    if (code == ErrorCode::kResourceNotFound || code == ErrorCode::kTableNotFound) {
      return TableNotFound(p.table);
    }
    return table.status();
  }
  record.table_id = TableIdText(table->table_id);
  Result<ContinuousBackupsDescription> pitr = options_.engine->DescribeContinuousBackups(p.table);
  if (!pitr.ok()) {
    const ErrorCode code = pitr.status().code();
    if (code == ErrorCode::kResourceNotFound || code == ErrorCode::kTableNotFound) {
      return TableNotFound(p.table);
    }
    return pitr.status();
  }
  if (!pitr->point_in_time_recovery || pitr->earliest_restorable_micros == 0) {
    return Status(ErrorCode::kPointInTimeRecoveryUnavailable,
                  "Point in time recovery is not enabled for table '" + p.table + "'");
  }
  const int64_t earliest = pitr->earliest_restorable_micros;
  const int64_t latest = pitr->latest_restorable_micros;
  if (!incremental) {
    const int64_t time = p.export_time_micros.value_or(latest);
    if (time < earliest) {
      return InvalidExportTime(
          "ExportTime is before the earliest restorable date time of the table");
    }
    if (time > latest) return InvalidExportTime("ExportTime must be in the past");
    record.export_time_micros = time;
    return Status::Ok();
  }
  const int64_t from = p.from_micros.value_or(earliest);
  const int64_t to = p.to_micros.value_or(latest);
  if (!p.to_micros) {
    TW_RETURN_IF_ERROR(CheckWindow(from, to, options_.min_incremental_window_micros));
  }
  if (from < earliest) {
    return InvalidExportTime(
        "ExportFromTime is before the earliest restorable date time of the table");
  }
  if (to > latest) return InvalidExportTime("ExportToTime must be in the past");
  record.from_micros = from;
  record.to_micros = to;
  return Status::Ok();
}

Result<ExportRecord> ExportJobs::Start(const ExportParameters& parameters) {
  const Status stopping = Status::Internal("tidewaterd is stopping");
  {
    MutexLock lock(mutex_);
    if (shut_down_) return stopping;
    TW_ASSIGN_OR_RETURN(std::optional<ExportRecord> existing, FindByToken(parameters, Now()));
    if (existing) return std::move(*existing);
  }
  ExportRecord record;
  record.parameters = parameters;
  record.client_token = parameters.client_token.value_or(NewClientToken());
  TW_RETURN_IF_ERROR(Resolve(record));

  MutexLock lock(mutex_);
  if (shut_down_) return stopping;
  const int64_t now = Now();
  // A request with the same token may have been recorded while this one was checked.
  TW_ASSIGN_OR_RETURN(std::optional<ExportRecord> existing, FindByToken(parameters, now));
  if (existing) return std::move(*existing);
  ReapFinished();
  const size_t running =
      static_cast<size_t>(std::count_if(exports_.begin(), exports_.end(), [](const auto& entry) {
        return entry.second.status == ExportStatus::kInProgress;
      }));
  if (running >= kMaxConcurrentExports) {
    return Status(ErrorCode::kLimitExceeded,
                  "There is a limit of " + std::to_string(kMaxConcurrentExports) +
                      " exports in progress at a time; wait for one to end");
  }
  record.start_time_micros = now;
  do {
    record.export_id = NewJobId(now);
    record.export_arn = parameters.table_arn + std::string(kExportArnSeparator) + record.export_id;
  } while (exports_.count(record.export_arn) != 0);
  TW_RETURN_IF_ERROR(Persist(record));
  exports_[record.export_arn] = record;
  spdlog::info(
      "event=export_started export_arn={} table={} type={} format={} bucket={} prefix=\"{}\"",
      record.export_arn, parameters.table, ExportTypeName(parameters.type),
      ExportFormatName(parameters.format), parameters.s3_bucket, parameters.s3_prefix.value_or(""));
  auto done = std::make_shared<std::atomic<bool>>(false);
  try {
    jobs_.push_back(Job{std::thread([this, record, done] {
                          Run(record);
                          done->store(true);
                        }),
                        done});
  } catch (const std::exception& e) {  // no thread to run it
    record.status = ExportStatus::kFailed;
    record.end_time_micros = Now();
    record.failure_code = "InternalServerError";
    record.failure_message = std::string("cannot start the export: ") + e.what();
    (void)Persist(record);
    exports_[record.export_arn] = record;
  }
  return record;
}

void ExportJobs::ReapFinished() {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (it->done->load()) {
      if (it->thread.joinable()) it->thread.join();
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

void ExportJobs::Run(ExportRecord record) {
  const ExportParameters& p = record.parameters;
  auto fail = [&](const JobFailure& failure) {
    record.status = ExportStatus::kFailed;
    record.end_time_micros = Now();
    record.failure_code = failure.code;
    record.failure_message = failure.message;
    Finish(std::move(record));
  };
  TableExportOptions export_options;
  export_options.export_arn = record.export_arn;
  export_options.export_id = record.export_id;
  export_options.table_arn = p.table_arn;
  export_options.table_id = record.table_id;
  export_options.bucket = p.s3_bucket;
  export_options.prefix = WriterPrefix(p.s3_prefix);
  export_options.format = p.format;
  export_options.type = p.type;
  export_options.view_type = p.view_type;
  export_options.start_time_micros = record.start_time_micros;
  export_options.export_time_micros = record.export_time_micros;
  export_options.export_from_micros = record.from_micros;
  export_options.export_to_micros = record.to_micros;
  if (options_.data_file_bytes != 0) export_options.data_file_bytes = options_.data_file_bytes;

  Result<std::unique_ptr<TableExportWriter>> started =
      TableExportWriter::Start(options_.store, export_options);
  if (!started.ok()) return fail(ObjectStoreFailure(started.status()));
  TableExportWriter& writer = **started;
  const Status stopped = Status::Internal("tidewaterd stopped before the export completed");
  Status store_error;  // set when the writer (the object store) failed
  Status read;
  if (p.type == ExportType::kFullExport) {
    read = options_.engine->ReadTableAt(p.table, record.export_time_micros,
                                        [&](const Item& item) -> Status {
                                          if (stopping_.load()) return stopped;
                                          Status added = writer.AddItem(item);
                                          if (!added.ok()) store_error = added;
                                          return added;
                                        });
  } else {
    // DynamoDB's window is [from, to); the engine's is (lower, upper]: in microseconds,
    // (from - 1, to - 1]. The old image is then the item's state just before `from`.
    int64_t lower = record.from_micros - 1;
    Result<ContinuousBackupsDescription> pitr = options_.engine->DescribeContinuousBackups(p.table);
    if (pitr.ok() && lower < pitr->earliest_restorable_micros) lower = record.from_micros;
    read = options_.engine->ReadChangesBetween(
        p.table, lower, record.to_micros - 1, [&](const ItemChangeOverWindow& change) -> Status {
          if (stopping_.load()) return stopped;
          ExportedChange exported;
          exported.keys = change.keys;
          exported.old_image = change.before;
          exported.new_image = change.after;
          exported.write_time_micros = change.last_change_micros;
          Status added = writer.AddChange(exported);
          if (!added.ok()) store_error = added;
          return added;
        });
  }
  if (!read.ok()) {
    return fail(!store_error.ok() ? ObjectStoreFailure(store_error) : EngineFailure(read));
  }
  Result<TableExportSummary> summary = writer.Finish(Now());
  if (!summary.ok()) return fail(ObjectStoreFailure(summary.status()));
  record.status = ExportStatus::kCompleted;
  record.end_time_micros = summary->end_time_micros != 0 ? summary->end_time_micros : Now();
  record.manifest = summary->manifest_files_key;
  record.item_count = summary->item_count;
  record.billed_size_bytes = summary->billed_size_bytes;
  Finish(std::move(record));
}

void ExportJobs::Finish(ExportRecord record) {
  if (record.status == ExportStatus::kCompleted) {
    spdlog::info("event=export_completed export_arn={} items={} billed_bytes={} manifest={}",
                 record.export_arn, record.item_count, record.billed_size_bytes, record.manifest);
  } else {
    spdlog::warn("event=export_failed export_arn={} failure_code={} failure=\"{}\"",
                 record.export_arn, record.failure_code, record.failure_message);
  }
  Status persisted = Persist(record);
  if (!persisted.ok()) {
    // DescribeExport answers from memory; after a restart the export reads FAILED.
    spdlog::error("event=export_record_not_written export_arn={} error=\"{}\"", record.export_arn,
                  persisted.message());
  }
  MutexLock lock(mutex_);
  exports_[record.export_arn] = std::move(record);
}

Result<ExportRecord> ExportJobs::Describe(const std::string& export_arn) const {
  MutexLock lock(mutex_);
  auto it = exports_.find(export_arn);
  if (it == exports_.end()) {
    return Status(ErrorCode::kExportNotFound, "Export not found: " + export_arn);
  }
  return it->second;
}

ListExportsPage ExportJobs::List(const ListExportsRequest& request) const {
  ListExportsPage page;
  const int64_t now = Now();
  MutexLock lock(mutex_);
  auto it = request.before_arn ? exports_.lower_bound(*request.before_arn) : exports_.end();
  while (it != exports_.begin()) {
    --it;
    const ExportRecord& record = it->second;
    if (now - record.start_time_micros > kListedMicros) continue;
    if (request.table && record.parameters.table != *request.table) continue;
    if (request.table_id && record.table_id != *request.table_id) continue;
    if (request.limit != 0 && page.exports.size() == request.limit) {
      page.last_arn = page.exports.back().export_arn;
      break;
    }
    page.exports.push_back(record);
  }
  return page;
}

void ExportJobs::Shutdown() {
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
