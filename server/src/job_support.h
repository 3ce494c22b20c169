// Private: what the table exports (export_jobs.cc, export_handlers.cc) and the table imports
// (import_jobs.cc, import_handlers.cc) share: job ids and ClientTokens, how a failed job's
// FailureCode is named, reading a job's ARN, the request members both check alike (ClientToken,
// S3Bucket, S3BucketOwner), and the record files that keep each job across restarts
// (<data_dir>/<kind>/<job id>.json, replaced atomically).
//
// Every function is thread-safe (ReadRecordFiles and WriteRecordFile as far as the file
// system is: each registry writes its own directory, one job's file at a time).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_request.h"
#include "tidewater/core/status.h"

namespace tidewater::server {

// --- Ids ---

// A job id as DynamoDB shapes export and import ids: the start time's epoch milliseconds on 14
// digits, a dash, 8 random hex digits ("01700000000000-a1b2c3d4"), so that ids sort by start
// time. Not unique by itself: the caller retries on a collision with a job it has.
std::string NewJobId(int64_t now_micros);

// A random version 4 UUID: the ClientToken of a request that sent none.
std::string NewClientToken();

// --- Failures ---

// What DescribeExport and DescribeImport report of a job that failed: FailureCode and
// FailureMessage.
struct JobFailure {
  std::string code;
  std::string message;
};

// A failure of the object store (checking the bucket, listing, reading or writing objects).
// As DynamoDB: an S3 error is "S3" + S3's code ("S3AccessDenied"), a bucket that does not
// exist (or that no store serves) "S3NoSuchBucket"; any other failure (a connection, a local
// directory) "UNKNOWN". The message is the store's.
JobFailure ObjectStoreFailure(const Status& status);

// A failure of the engine (reading or loading a table): the DynamoDB error type name of its
// code ("InternalServerError", ...) and its message.
JobFailure EngineFailure(const Status& status);

// --- Requests ---

// The parts of a job ARN: `<table ARN><separator><id>`.
struct JobArn {
  std::string table;  // the table the table ARN names
  std::string id;     // letters, digits and dashes
};

// A job ARN of `region` and Tidewater's account, `separator` being "/export/" or "/import/".
// ValidationException when `arn` is not shaped so; ResourceNotFoundException when its table ARN
// names another region or account. The messages are generic: each handler answers with its
// own (DynamoDB's "Invalid Export ARN: ...", ExportNotFoundException, ...).
Result<JobArn> ParseJobArn(std::string_view arn, std::string_view separator,
                           std::string_view region);

// ClientToken's pattern ^[^\$]+$ (the constraint error collected in `errors` as "clientToken").
void CheckClientToken(std::optional<std::string_view> token, ConstraintErrors& errors);

// S3Bucket (required, pattern ^[a-z0-9A-Z]+[\.\-\w]*[a-z0-9A-Z]+$, at most 255 characters) and
// S3BucketOwner (pattern [0-9]{12}), their constraint errors collected in `errors` as
// `path` + "s3Bucket" and `path` + "s3BucketOwner" (`path` "" or ending in '.').
void CheckS3Bucket(std::string_view path, std::optional<std::string_view> bucket,
                   std::optional<std::string_view> owner, ConstraintErrors& errors);

// --- Record files ---

// Writes a job's record: one JSON object of members written by the Put functions.
using RecordWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void PutText(RecordWriter& w, std::string_view key, std::string_view text);
void PutOptionalText(RecordWriter& w, std::string_view key, const std::optional<std::string>& text);
void PutInt(RecordWriter& w, std::string_view key, int64_t number);
void PutOptionalInt(RecordWriter& w, std::string_view key, const std::optional<int64_t>& number);
void PutUint(RecordWriter& w, std::string_view key, uint64_t number);

// Reading a record's members (`object` must be a JSON object). A member that is absent, null or
// of another type reads as nullptr / nullopt / empty / 0: the caller checks what it requires.
const rapidjson::Value* RecordMember(const rapidjson::Value& object, std::string_view key);
std::string RecordText(const rapidjson::Value& object, std::string_view key);
std::optional<std::string> RecordOptionalText(const rapidjson::Value& object, std::string_view key);
int64_t RecordInt(const rapidjson::Value& object, std::string_view key);
std::optional<int64_t> RecordOptionalInt(const rapidjson::Value& object, std::string_view key);
uint64_t RecordUint(const rapidjson::Value& object, std::string_view key);

// One record file as read: its path (for the log) and its content.
struct RecordFile {
  std::string path;
  std::string text;
};

// Every record file (*.json) of `dir`, in no particular order, creating `dir` when it does not
// exist and removing the leftovers of replacements a crash interrupted (*.json.tmp). IOError
// when `dir` cannot be created or listed. A file that cannot be read reads as empty text (the
// caller's parse then reports it damaged).
Result<std::vector<RecordFile>> ReadRecordFiles(const std::string& dir);

// Writes `json` as the record file of job `id` in `dir` (<dir>/<id>.json), replacing the
// previous one atomically (durable_file.h): a crash leaves the old record or the new one.
Status WriteRecordFile(const std::string& dir, const std::string& id, std::string_view json);

}  // namespace tidewater::server
