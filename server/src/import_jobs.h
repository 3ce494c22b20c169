// The table imports of one tidewaterd (ImportTable, DescribeImport, ListImports): each import
// is validated and its table created when requested (TableBackups::BeginImport: the table is
// CREATING, refused to reads and writes, until the import ends), then a thread of its own
// lists every object under S3KeyPrefix in S3Bucket, reads each (ReadImportObject: CSV,
// DynamoDB JSON or Ion, uncompressed, gzip or zstd) and hands the items to the engine in
// batches (LoadImportedItems), and ends the import:
//  * every row an item of the table: the table turns ACTIVE (FinishImport), COMPLETED;
//  * some rows not items of the table (unreadable, a key missing or of the wrong type, too
//    large): those are left out and the others imported, the table turns ACTIVE, and the
//    import is FAILED with FailureCode ItemValidationError, as DynamoDB reports it (also when
//    no row at all was an item: the table is then empty);
//  * the objects cannot be listed or read (the bucket does not exist), the engine fails, or
//    tidewaterd stops: the table is dropped (AbandonImport) and the import is FAILED with
//    DynamoDB's FailureCode ("S3NoSuchBucket", ...).
// No prefix matching an object is an empty import: COMPLETED, the table empty.
//
// Counts: ProcessedItemCount is every row read (items and bad rows); ErrorCount the rows
// left out; ImportedItemCount the others (ProcessedItemCount = ImportedItemCount +
// ErrorCount: an item replacing an earlier one of the same key counts as imported, not as an
// error, as DynamoDB counts duplicates); ProcessedSizeBytes the objects' bytes as stored
// (compressed). Like DynamoDB's, the counts are reported once the import has ended (zeros
// while it runs).
//
// Bad rows: DynamoDB writes one CloudWatch Logs event per bad row; tidewaterd has no
// CloudWatch and writes one line per bad row to stderr instead:
//   event=import_bad_row import=<id> object="<key>" line=<n> reason="..."
// (quotes, backslashes and control characters in the key and the reason escaped; line 0: the
// object as a whole could not be read), at most kMaxLoggedBadRows per import, then one
// event=import_bad_rows_not_logged line with how many more there were. ErrorCount counts
// them all.
//
// Idempotency: a request carrying a ClientToken that an import used within the last 8 hours
// (counted from that import's end, or its start while in progress) answers that import when
// every parameter is the same as it was sent, ImportConflictException otherwise. A request
// without a token gets a fresh one (reported as its ClientToken).
//
// Durability: every import is a JSON file <data_dir>/imports/<import id>.json, replaced
// atomically when the import is recorded, just before its table turns ACTIVE, and when it
// ends, so DescribeImport and ListImports survive a restart. An import found IN_PROGRESS when
// the registry is opened (its tidewaterd stopped or was killed while it ran) is recorded
// FAILED then, the engine having dropped its table at its own open: no half-imported table is
// ever visible. One that had reached FinishImport (its table ACTIVE) is recorded as it ended.
//
// Thread safety: every method may be called concurrently. Shutdown() (also the destructor)
// stops the running imports (recorded FAILED, their tables dropped) and joins their threads;
// it must run before the engine closes.
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
#include "tidewater/connectors/table_import.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::server {

// An import's ARN is its table's ARN, this, and the import id.
inline constexpr std::string_view kImportArnSeparator = "/import/";

// DynamoDB's statuses also have CANCELLING and CANCELLED, which only a cancellation makes;
// DynamoDB's API has no operation that cancels an import, so neither is ever reported.
enum class ImportStatus { kInProgress, kCompleted, kFailed };
std::string_view ImportStatusName(ImportStatus status);  // "IN_PROGRESS", "COMPLETED", "FAILED"

std::string_view ImportFormatName(ImportFormat format);  // "CSV", "DYNAMODB_JSON", "ION"
std::string_view ImportCompressionName(ImportCompression compression);  // "NONE", "GZIP", "ZSTD"

// InputFormatOptions.Csv as the request sent it (each member absent when not sent).
struct CsvInputOptions {
  std::optional<char> delimiter;                        // Delimiter
  std::optional<std::vector<std::string>> header_list;  // HeaderList
  friend bool operator==(const CsvInputOptions&, const CsvInputOptions&) = default;
};

// What an ImportTable request asked for, its shape and table definition already checked by
// the handler.
struct ImportParameters {
  std::string table;      // TableCreationParameters.TableName
  std::string table_arn;  // its ARN
  std::optional<std::string> client_token;
  std::string s3_bucket;
  std::optional<std::string> s3_bucket_owner;
  std::optional<std::string> s3_key_prefix;
  ImportFormat format = ImportFormat::kDynamoDbJson;
  ImportCompression compression = ImportCompression::kNone;
  std::optional<CsvInputOptions> csv;  // InputFormatOptions.Csv, when sent
  // TableCreationParameters as sent (the model's members, in the model's order, as JSON):
  // what descriptions show, and what idempotency compares.
  std::string table_creation_parameters;
  // The table BeginImport creates. Only Start uses it: not kept in the record file.
  CreateTableRequest table_definition;

  // The same request, for ClientToken idempotency (the token itself aside).
  bool SameAs(const ImportParameters& other) const;
};

struct ImportRecord {
  std::string import_id;
  std::string import_arn;  // <table arn>/import/<import id>
  std::string table_id;    // TableId (UUID-shaped) of the table the import created
  std::string client_token;
  ImportParameters parameters;
  ImportStatus status = ImportStatus::kInProgress;
  int64_t start_time_micros = 0;
  int64_t end_time_micros = 0;  // once COMPLETED or FAILED
  // Set once every object is read, just before the table turns ACTIVE: the counts below are
  // final, and so is how the import ends if tidewaterd stops before recording it.
  bool loaded = false;
  // Once loaded:
  uint64_t processed_size_bytes = 0;
  uint64_t processed_item_count = 0;
  uint64_t imported_item_count = 0;
  uint64_t error_count = 0;
  // Once FAILED:
  std::string failure_code;
  std::string failure_message;
};

struct ListImportsRequest {
  std::optional<std::string> table;  // only the imports into the table of this name
  // Only imports whose ARN sorts before this one (the previous page's last ARN).
  std::optional<std::string> before_arn;
  size_t limit = 0;  // 0: no limit
};

struct ListImportsPage {
  std::vector<ImportRecord> imports;    // in reverse order of ImportArn
  std::optional<std::string> last_arn;  // set when more may follow
};

class ImportJobs {
 public:
  // DynamoDB's limits.
  static constexpr int64_t kClientTokenMicros = 8LL * 3600 * 1'000'000;   // token validity
  static constexpr int64_t kListedMicros = 90LL * 24 * 3600 * 1'000'000;  // ListImports' 90 days
  static constexpr size_t kMaxConcurrentImports = 50;
  // Items handed to LoadImportedItems at a time.
  static constexpr size_t kBatchItems = 1000;
  // Bad rows logged per import (DynamoDB documents no cap for its CloudWatch events; this one
  // keeps a file of garbage from flooding the log).
  static constexpr uint64_t kMaxLoggedBadRows = 10'000;

  struct Options {
    Engine* engine = nullptr;            // not owned; must outlive the jobs (Shutdown first)
    std::string data_dir;                // the registry is <data_dir>/imports
    std::shared_ptr<ObjectStore> store;  // where imports are read from
  };

  // Loads the registry (creating <data_dir>/imports), recording the end of what was left
  // IN_PROGRESS. IOError when the directory cannot be created or a record cannot be rewritten.
  static Result<std::unique_ptr<ImportJobs>> Open(Options options);
  ~ImportJobs();

  // ImportTable: the import this ClientToken already names (same parameters), or a new one:
  // its table created (CREATING), recorded IN_PROGRESS and started. Errors:
  // ImportConflictException (token reused with other parameters), ResourceInUseException
  // (a table of that name exists), ValidationException (the engine's table checks),
  // LimitExceededException (50 imports running), InternalServerError (the record cannot be
  // written; the table is dropped again).
  Result<ImportRecord> Start(const ImportParameters& parameters);

  // ImportNotFoundException when no import has this ARN.
  Result<ImportRecord> Describe(const std::string& import_arn) const;

  // Imports started in the last 90 days, in reverse order of ImportArn.
  ListImportsPage List(const ListImportsRequest& request) const;

  // Stops running imports (recorded FAILED, their tables dropped) and joins their threads.
  // Idempotent; after it, Start answers InternalServerError.
  void Shutdown();

 private:
  explicit ImportJobs(Options options);
  Status Load();
  int64_t Now() const;
  // How an import left IN_PROGRESS by a stop or a crash ends, now that the engine is open.
  void RecordInterrupted(ImportRecord& record, int64_t now) const;
  // The import of `parameters.client_token` started within the token's validity, if any;
  // ImportConflictException when its parameters differ.
  Result<std::optional<ImportRecord>> FindByToken(const ImportParameters& parameters,
                                                  int64_t now) const TW_REQUIRES(mutex_);
  Status Persist(const ImportRecord& record) const;
  void Run(ImportRecord record);
  // Drops the import's table and records it FAILED with `code` and `message`.
  void Fail(ImportRecord record, std::string code, std::string message);
  // Records the import's end (COMPLETED or FAILED) and persists it.
  void Finish(ImportRecord record);
  void ReapFinished() TW_REQUIRES(mutex_);

  const Options options_;
  const std::string dir_;
  std::atomic<bool> stopping_{false};
  mutable Mutex mutex_;
  std::map<std::string, ImportRecord> imports_ TW_GUARDED_BY(mutex_);  // by import ARN
  struct Job {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Job> jobs_ TW_GUARDED_BY(mutex_);
  bool shut_down_ TW_GUARDED_BY(mutex_) = false;
};

}  // namespace tidewater::server
