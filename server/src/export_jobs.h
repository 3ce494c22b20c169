// The table exports of one tidewaterd (ExportTableToPointInTime, DescribeExport, ListExports):
// each export is validated and recorded IN_PROGRESS when requested, then a thread of its own
// reads the engine's point-in-time history (TableBackups::ReadTableAt for a full export,
// ReadChangesBetween for an incremental one) into a TableExportWriter (DynamoDB's export
// layout in an S3 bucket or a bucket mapped to a local directory), and records COMPLETED
// (manifest, item count, billed size, end time) or FAILED (FailureCode / FailureMessage).
//
// Times follow DynamoDB: a full export holds every change committed at or before ExportTime;
// an incremental export holds the changes committed in [ExportFromTime, ExportToTime), each
// item's old image being its state just before ExportFromTime. Incremental windows are at
// least 15 minutes (Options::min_incremental_window) and at most 24 hours long.
//
// Idempotency: an export request carrying a ClientToken that an export of the last 8 hours
// used (counted from that export's end, or its start while in progress) answers that export
// when every parameter is the same as it was sent, ExportConflictException otherwise. A
// request without a token gets a fresh one (reported as its ClientToken, as DynamoDB does).
//
// Durability: every export is a JSON file <data_dir>/exports/<export id>.json, replaced
// atomically (durable_file.h) when the export is recorded and when it ends, so DescribeExport
// and ListExports survive a restart. An export found IN_PROGRESS when the registry is opened
// (its tidewaterd stopped or was killed while it ran) is recorded FAILED then: an export
// either completes or is reported FAILED.
//
// Thread safety: every method may be called concurrently. Shutdown() (also the destructor)
// stops the running exports (they are recorded FAILED) and joins their threads; it must
// run before the engine closes.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tidewater/connectors/object_store.h"
#include "tidewater/connectors/table_export.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/status.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::server {

// An export's ARN is its table's ARN, this, and the export id.
inline constexpr std::string_view kExportArnSeparator = "/export/";

enum class ExportStatus { kInProgress, kCompleted, kFailed };
std::string_view ExportStatusName(ExportStatus status);  // "IN_PROGRESS", "COMPLETED", "FAILED"

std::string_view ExportFormatName(ExportFormat format);  // "DYNAMODB_JSON", "ION"
std::string_view ExportTypeName(ExportType type);        // "FULL_EXPORT", "INCREMENTAL_EXPORT"
std::string_view ExportViewTypeName(ExportViewType view_type);  // "NEW_IMAGE", ...

// What an ExportTableToPointInTime request asked for, its shape already checked by the
// handler; times as sent (defaults are resolved by ExportJobs::Start).
struct ExportParameters {
  std::string table;      // the table the TableArn names
  std::string table_arn;  // its canonical ARN
  std::optional<std::string> client_token;
  std::string s3_bucket;
  std::optional<std::string> s3_bucket_owner;
  std::optional<std::string> s3_prefix;
  std::optional<std::string> s3_sse_algorithm;  // "AES256" or "KMS"
  std::optional<std::string> s3_sse_kms_key_id;
  ExportFormat format = ExportFormat::kDynamoDbJson;
  ExportType type = ExportType::kFullExport;
  // DynamoDB reports ExportType in the export's description only when the request named it.
  bool type_given = false;
  std::optional<int64_t> export_time_micros;  // full exports: ExportTime
  std::optional<int64_t> from_micros;         // incremental exports: ExportFromTime (required)
  std::optional<int64_t> to_micros;           // incremental exports: ExportToTime
  ExportViewType view_type = ExportViewType::kNewAndOldImages;

  // The same request, for ClientToken idempotency (the token itself aside).
  bool SameAs(const ExportParameters& other) const;
};

struct ExportRecord {
  std::string export_id;   // shaped as NewJobId (job_support.h) makes them
  std::string export_arn;  // <table arn>/export/<export id>
  std::string table_id;    // TableId (UUID-shaped) of the table when the export started
  std::string client_token;
  ExportParameters parameters;
  // Resolved times: a full export's point in time; an incremental export's [from, to).
  int64_t export_time_micros = 0;
  int64_t from_micros = 0;
  int64_t to_micros = 0;
  ExportStatus status = ExportStatus::kInProgress;
  int64_t start_time_micros = 0;
  int64_t end_time_micros = 0;  // once COMPLETED or FAILED
  // Once COMPLETED:
  std::string manifest;  // ExportManifest: the key of manifest-summary.json
  uint64_t item_count = 0;
  uint64_t billed_size_bytes = 0;
  // Once FAILED:
  std::string failure_code;
  std::string failure_message;
};

struct ListExportsRequest {
  // Only the exports of this table (name and TableId: an export of an earlier table of the
  // same name is not listed, as DynamoDB lists by table).
  std::optional<std::string> table;
  std::optional<std::string> table_id;
  // Only exports whose ARN sorts before this one (the previous page's last ARN).
  std::optional<std::string> before_arn;
  size_t limit = 0;  // 0: no limit
};

struct ListExportsPage {
  std::vector<ExportRecord> exports;    // in reverse order of ExportArn
  std::optional<std::string> last_arn;  // set when more may follow
};

class ExportJobs {
 public:
  // DynamoDB's limits.
  static constexpr int64_t kMaxIncrementalWindowMicros = 24LL * 3600 * 1'000'000;
  static constexpr int64_t kDefaultMinIncrementalWindowMicros = 15LL * 60 * 1'000'000;
  static constexpr int64_t kClientTokenMicros = 8LL * 3600 * 1'000'000;   // token validity
  static constexpr int64_t kListedMicros = 90LL * 24 * 3600 * 1'000'000;  // ListExports' 90 days
  static constexpr size_t kMaxConcurrentExports = 300;

  struct Options {
    Engine* engine = nullptr;  // not owned; must outlive the jobs (Shutdown first)
    std::string data_dir;      // the registry is <data_dir>/exports
    std::string region;
    std::shared_ptr<ObjectStore> store;  // where exports are written
    // The shortest incremental export window (DynamoDB: 15 minutes; shorter only for tests).
    int64_t min_incremental_window_micros = kDefaultMinIncrementalWindowMicros;
    // TableExportOptions::data_file_bytes (0: the writer's default).
    uint64_t data_file_bytes = 0;
  };

  // Loads the registry (creating <data_dir>/exports), failing what was left IN_PROGRESS.
  // IOError when the directory cannot be created or a record cannot be rewritten.
  static Result<std::unique_ptr<ExportJobs>> Open(Options options);
  ~ExportJobs();

  // ExportTableToPointInTime: the export this ClientToken already names (same parameters),
  // or a new one, recorded IN_PROGRESS and started. Errors: ExportConflictException (token
  // reused with other parameters), InvalidExportTimeException (times outside the table's
  // point-in-time recovery window, in the future, or an incremental window shorter than the
  // minimum or longer than 24 hours), TableNotFoundException,
  // PointInTimeRecoveryUnavailableException, LimitExceededException (300 exports running),
  // InternalServerError (the record cannot be written).
  Result<ExportRecord> Start(const ExportParameters& parameters);

  // ExportNotFoundException when no export has this ARN.
  Result<ExportRecord> Describe(const std::string& export_arn) const;

  // Exports started in the last 90 days, in reverse order of ExportArn.
  ListExportsPage List(const ListExportsRequest& request) const;

  // Stops running exports (recorded FAILED) and joins their threads. Idempotent; after it,
  // Start answers InternalServerError.
  void Shutdown();

 private:
  explicit ExportJobs(Options options);
  Status Load();
  int64_t Now() const;
  // The export of `parameters.client_token` started within the token's validity, if any;
  // ExportConflictException when its parameters differ.
  Result<std::optional<ExportRecord>> FindByToken(const ExportParameters& parameters,
                                                  int64_t now) const TW_REQUIRES(mutex_);
  // Checks the table, point-in-time recovery and the times; fills the record's table id and
  // resolved times.
  Status Resolve(ExportRecord& record) const;
  Status Persist(const ExportRecord& record) const;
  void Run(ExportRecord record);
  // Records the export's end (COMPLETED or FAILED) and persists it.
  void Finish(ExportRecord record);
  void ReapFinished() TW_REQUIRES(mutex_);

  const Options options_;
  const std::string dir_;
  std::atomic<bool> stopping_{false};
  mutable Mutex mutex_;
  std::map<std::string, ExportRecord> exports_ TW_GUARDED_BY(mutex_);  // by export ARN
  struct Job {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Job> jobs_ TW_GUARDED_BY(mutex_);
  bool shut_down_ TW_GUARDED_BY(mutex_) = false;
};

}  // namespace tidewater::server
