// ExportTableToPointInTime, DescribeExport, ListExports: the server's ExportJobs
// (export_jobs.h) in DynamoDB's JSON shapes. An export's ARN is its table's ARN, "/export/",
// the export id. ExportTableToPointInTime checks the request's shape here (DynamoDB's
// constraint errors) and leaves the table, point-in-time recovery, times and ClientToken to
// ExportJobs::Start; it answers at once with the export IN_PROGRESS, and DescribeExport
// shows it COMPLETED or FAILED when its thread ends.
#include <string>
#include <utility>

#include "export_jobs.h"
#include "handler_support.h"
#include "handlers.h"
#include "job_support.h"
#include "table_json.h"
#include "table_tags.h"
#include "tidewater/streams/resource_names.h"

namespace tidewater::server {
namespace {

constexpr size_t kMaxArnLength = 1024;
constexpr size_t kMinExportArnLength = 37;
constexpr size_t kMaxPrefixLength = 1024;
constexpr size_t kMaxKmsKeyIdLength = 2048;
constexpr int64_t kMaxListExportsResults = 25;
constexpr std::string_view kInvalidParameters = "One or more parameter values were invalid: ";

void WriteOptionalString(json::Writer& w, const char* key, const std::optional<std::string>& text) {
  if (!text) return;
  w.Key(key);
  WriteString(w, *text);
}

// The ExportDescription object. DynamoDB shows ExportType only when the request named it,
// ExportTime for full exports, IncrementalExportSpecification for incremental ones, EndTime
// once the export ended, ExportManifest, ItemCount and BilledSizeBytes once it completed,
// FailureCode and FailureMessage when it failed.
void WriteExportDescription(const ExportRecord& record, json::Writer& w) {
  const ExportParameters& p = record.parameters;
  const bool incremental = p.type == ExportType::kIncrementalExport;
  w.StartObject();
  w.Key("ExportArn");
  WriteString(w, record.export_arn);
  w.Key("ExportStatus");
  WriteString(w, ExportStatusName(record.status));
  w.Key("StartTime");
  w.Double(EpochSeconds(record.start_time_micros));
  if (record.status != ExportStatus::kInProgress) {
    w.Key("EndTime");
    w.Double(EpochSeconds(record.end_time_micros));
  }
  if (record.status == ExportStatus::kCompleted) {
    w.Key("ExportManifest");
    WriteString(w, record.manifest);
  }
  w.Key("TableArn");
  WriteString(w, p.table_arn);
  w.Key("TableId");
  WriteString(w, record.table_id);
  if (!incremental) {
    w.Key("ExportTime");
    w.Double(EpochSeconds(record.export_time_micros));
  }
  w.Key("ClientToken");
  WriteString(w, record.client_token);
  w.Key("S3Bucket");
  WriteString(w, p.s3_bucket);
  WriteOptionalString(w, "S3BucketOwner", p.s3_bucket_owner);
  WriteOptionalString(w, "S3Prefix", p.s3_prefix);
  WriteOptionalString(w, "S3SseAlgorithm", p.s3_sse_algorithm);
  WriteOptionalString(w, "S3SseKmsKeyId", p.s3_sse_kms_key_id);
  if (record.status == ExportStatus::kFailed) {
    w.Key("FailureCode");
    WriteString(w, record.failure_code);
    w.Key("FailureMessage");
    WriteString(w, record.failure_message);
  }
  w.Key("ExportFormat");
  WriteString(w, ExportFormatName(p.format));
  if (record.status == ExportStatus::kCompleted) {
    w.Key("BilledSizeBytes");
    w.Uint64(record.billed_size_bytes);
    w.Key("ItemCount");
    w.Uint64(record.item_count);
  }
  if (p.type_given) {
    w.Key("ExportType");
    WriteString(w, ExportTypeName(p.type));
  }
  if (incremental) {
    w.Key("IncrementalExportSpecification");
    w.StartObject();
    w.Key("ExportFromTime");
    w.Double(EpochSeconds(record.from_micros));
    w.Key("ExportToTime");
    w.Double(EpochSeconds(record.to_micros));
    w.Key("ExportViewType");
    WriteString(w, ExportViewTypeName(p.view_type));
    w.EndObject();
  }
  w.EndObject();
}

Status WriteDescriptionAnswer(const ExportRecord& record, json::Writer& w) {
  w.StartObject();
  w.Key("ExportDescription");
  WriteExportDescription(record, w);
  w.EndObject();
  return Status::Ok();
}

std::optional<std::string> Owned(std::optional<std::string_view> text) {
  return text ? std::optional<std::string>(std::string(*text)) : std::nullopt;
}

// The members of an ExportTableToPointInTime request with DynamoDB's constraint errors, then
// the rules between them (ExportType and IncrementalExportSpecification).
Result<ExportParameters> ReadExportRequest(const rapidjson::Value& request,
                                           std::string_view region) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto table_arn, GetString(request, "TableArn"));
  TW_ASSIGN_OR_RETURN(auto export_time, GetTimestampMicros(request, "ExportTime"));
  TW_ASSIGN_OR_RETURN(auto token, GetString(request, "ClientToken"));
  TW_ASSIGN_OR_RETURN(auto bucket, GetString(request, "S3Bucket"));
  TW_ASSIGN_OR_RETURN(auto owner, GetString(request, "S3BucketOwner"));
  TW_ASSIGN_OR_RETURN(auto prefix, GetString(request, "S3Prefix"));
  TW_ASSIGN_OR_RETURN(auto sse, GetString(request, "S3SseAlgorithm"));
  TW_ASSIGN_OR_RETURN(auto kms_key, GetString(request, "S3SseKmsKeyId"));
  TW_ASSIGN_OR_RETURN(auto format, GetString(request, "ExportFormat"));
  TW_ASSIGN_OR_RETURN(auto type, GetString(request, "ExportType"));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* spec,
                      GetObject(request, "IncrementalExportSpecification"));
  std::optional<int64_t> from;
  std::optional<int64_t> to;
  std::optional<std::string_view> view_type;
  if (spec != nullptr) {
    TW_ASSIGN_OR_RETURN(from, GetTimestampMicros(*spec, "ExportFromTime"));
    TW_ASSIGN_OR_RETURN(to, GetTimestampMicros(*spec, "ExportToTime"));
    TW_ASSIGN_OR_RETURN(view_type, GetString(*spec, "ExportViewType"));
  }

  errors.RequireNotNull("tableArn", table_arn.has_value());
  errors.CheckLength("tableArn", table_arn, 1, kMaxArnLength);
  CheckClientToken(token, errors);
  CheckS3Bucket("", bucket, owner, errors);
  // The model sets no minimum, but DynamoDB refuses an empty S3Prefix.
  errors.CheckLength("s3Prefix", prefix, 1, kMaxPrefixLength);
  errors.CheckEnum("s3SseAlgorithm", sse, {"AES256", "KMS"});
  errors.CheckLength("s3SseKmsKeyId", kms_key, 1, kMaxKmsKeyIdLength);
  errors.CheckEnum("exportFormat", format, {"DYNAMODB_JSON", "ION"});
  errors.CheckEnum("exportType", type, {"FULL_EXPORT", "INCREMENTAL_EXPORT"});
  errors.CheckEnum("incrementalExportSpecification.exportViewType", view_type,
                   {"NEW_IMAGE", "NEW_AND_OLD_IMAGES"});
  TW_RETURN_IF_ERROR(errors.ToStatus());

  ExportParameters p;
  Result<std::string> table = TableOfArn(*table_arn, region);
  if (!table.ok()) {
    if (table.status().code() != ErrorCode::kResourceNotFound) return table.status();
    return Status(ErrorCode::kTableNotFound, "Table not found: " + std::string(*table_arn));
  }
  p.table = std::move(*table);
  p.table_arn = streams::TableArn(region, p.table);
  p.client_token = Owned(token);
  p.s3_bucket = std::string(*bucket);
  p.s3_bucket_owner = Owned(owner);
  p.s3_prefix = Owned(prefix);
  p.s3_sse_algorithm = Owned(sse);
  p.s3_sse_kms_key_id = Owned(kms_key);
  p.format = format == "ION" ? ExportFormat::kIon : ExportFormat::kDynamoDbJson;
  p.type_given = type.has_value();
  p.type = type == "INCREMENTAL_EXPORT" ? ExportType::kIncrementalExport : ExportType::kFullExport;
  p.view_type =
      view_type == "NEW_IMAGE" ? ExportViewType::kNewImage : ExportViewType::kNewAndOldImages;
  const std::string invalid(kInvalidParameters);
  if (p.type == ExportType::kFullExport) {
    if (spec != nullptr) {
      return Status::Validation(
          invalid +
          "IncrementalExportSpecification can only be specified when ExportType is "
          "INCREMENTAL_EXPORT");
    }
    p.export_time_micros = export_time;
    return p;
  }
  if (spec == nullptr) {
    return Status::Validation(invalid +
                              "IncrementalExportSpecification must be specified when ExportType "
                              "is INCREMENTAL_EXPORT");
  }
  if (export_time) {
    return Status::Validation(invalid +
                              "ExportTime cannot be specified when ExportType is "
                              "INCREMENTAL_EXPORT; use IncrementalExportSpecification");
  }
  if (!from) {
    return Status::Validation(invalid +
                              "ExportFromTime must be specified when ExportType is "
                              "INCREMENTAL_EXPORT");
  }
  p.from_micros = from;
  p.to_micros = to;
  return p;
}

// ListExports' TableArn as the registry's filter; none when it names no table (another
// region or account, or a table that does not exist now): nothing is listed then.
Result<std::optional<ListExportsRequest>> ListFilter(ServiceContext& service,
                                                     std::optional<std::string_view> table_arn) {
  ListExportsRequest list;
  if (!table_arn) return std::optional<ListExportsRequest>(std::move(list));
  Result<std::string> table = TableOfArn(*table_arn, service.region);
  if (!table.ok()) {
    if (table.status().code() == ErrorCode::kResourceNotFound) {
      return std::optional<ListExportsRequest>();
    }
    return table.status();
  }
  Result<TableDescription> described = service.engine->DescribeTable(*table);
  if (!described.ok()) {
    if (described.status().code() == ErrorCode::kResourceNotFound) {
      return std::optional<ListExportsRequest>();
    }
    return described.status();
  }
  list.table = std::move(*table);
  list.table_id = TableIdText(described->table_id);
  return std::optional<ListExportsRequest>(std::move(list));
}

}  // namespace

Status ExportTableToPointInTime(ServiceContext& service, const rapidjson::Value& request,
                                RequestScope& scope) {
  TW_ASSIGN_OR_RETURN(ExportParameters parameters, ReadExportRequest(request, service.region));
  TW_ASSIGN_OR_RETURN(ExportRecord record, service.exports->Start(parameters));
  return WriteDescriptionAnswer(record, scope.writer);
}

Status DescribeExport(ServiceContext& service, const rapidjson::Value& request,
                      RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto arn, GetString(request, "ExportArn"));
  errors.RequireNotNull("exportArn", arn.has_value());
  errors.CheckLength("exportArn", arn, kMinExportArnLength, kMaxArnLength);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  // ValidationException when it is not shaped as an export ARN; ExportNotFoundException when
  // it names another region or account (or no export, below).
  Result<JobArn> parsed = ParseJobArn(*arn, kExportArnSeparator, service.region);
  if (!parsed.ok()) {
    if (parsed.status().code() == ErrorCode::kValidation) {
      return Status::Validation("Invalid Export ARN: " + std::string(*arn));
    }
    return Status(ErrorCode::kExportNotFound, "Export not found: " + std::string(*arn));
  }
  TW_ASSIGN_OR_RETURN(ExportRecord record, service.exports->Describe(std::string(*arn)));
  return WriteDescriptionAnswer(record, scope.writer);
}

Status ListExports(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto table_arn, GetString(request, "TableArn"));
  TW_ASSIGN_OR_RETURN(auto max_results, GetInteger(request, "MaxResults"));
  TW_ASSIGN_OR_RETURN(auto next_token, GetString(request, "NextToken"));
  errors.CheckLength("tableArn", table_arn, 1, kMaxArnLength);
  errors.CheckRange("maxResults", max_results, 1, kMaxListExportsResults);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  // NextToken is the ARN of the previous page's last export.
  if (next_token && !ParseJobArn(*next_token, kExportArnSeparator, service.region).ok()) {
    return Status::Validation("Invalid NextToken provided to ListExports: " +
                              std::string(*next_token));
  }
  TW_ASSIGN_OR_RETURN(std::optional<ListExportsRequest> list, ListFilter(service, table_arn));
  ListExportsPage page;
  if (list) {
    list->limit = static_cast<size_t>(max_results.value_or(0));
    if (next_token) list->before_arn = std::string(*next_token);
    page = service.exports->List(*list);
  }
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("ExportSummaries");
  w.StartArray();
  for (const ExportRecord& record : page.exports) {
    w.StartObject();
    w.Key("ExportArn");
    WriteString(w, record.export_arn);
    w.Key("ExportStatus");
    WriteString(w, ExportStatusName(record.status));
    w.Key("ExportType");
    WriteString(w, ExportTypeName(record.parameters.type));
    w.EndObject();
  }
  w.EndArray();
  if (page.last_arn) {
    w.Key("NextToken");
    WriteString(w, *page.last_arn);
  }
  w.EndObject();
  return Status::Ok();
}

}  // namespace tidewater::server
