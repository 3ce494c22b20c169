// ImportTable, DescribeImport, ListImports: the server's ImportJobs (import_jobs.h) in
// DynamoDB's JSON shapes. An import's ARN is its table's ARN, "/import/", the import id.
// ImportTable checks the request's shape here (DynamoDB's constraint errors) and its
// TableCreationParameters as CreateTable checks a table definition (an import's table has
// global secondary indexes only: no local ones, stream, tags or deletion protection, which
// DynamoDB's TableCreationParameters does not have either); ImportJobs::Start then creates
// the table (CREATING) and the answer is the import IN_PROGRESS. DescribeImport shows it
// COMPLETED or FAILED when its thread ends. DynamoDB's CloudWatchLogGroupArn is not
// reported: tidewaterd has no CloudWatch, and writes the bad rows to its own log instead.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "handler_support.h"
#include "handlers.h"
#include "import_jobs.h"
#include "job_support.h"
#include "table_definition_input.h"
#include "table_json.h"
#include "table_tags.h"
#include "tidewater/streams/resource_names.h"

namespace tidewater::server {
namespace {

constexpr size_t kMaxArnLength = 1024;
constexpr size_t kMinImportArnLength = 37;
constexpr size_t kMaxKeyPrefixLength = 1024;
constexpr size_t kMaxCsvHeaders = 255;
constexpr size_t kMaxCsvHeaderLength = 65536;
constexpr int64_t kMaxPageSize = 25;
constexpr size_t kMinNextTokenLength = 112;
constexpr size_t kMaxNextTokenLength = 1024;
constexpr size_t kNextTokenBlockLength = 16;  // ImportNextToken's pattern: ([0-9a-f]{16})+
constexpr std::string_view kCreationParametersPath = "tableCreationParameters.";
constexpr std::string_view kCsvDelimiters = ",;:|\t ";
constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kInvalidParameters = "One or more parameter values were invalid: ";
// TableCreationParameters' members in DynamoDB's model, in its order.
constexpr const char* kCreationParameterMembers[] = {
    "TableName",        "AttributeDefinitions",  "KeySchema",
    "BillingMode",      "ProvisionedThroughput", "OnDemandThroughput",
    "SSESpecification", "GlobalSecondaryIndexes"};

Status ImportNotFound(std::string_view arn) {
  return Status(ErrorCode::kImportNotFound, "Import not found: " + std::string(arn));
}

// CsvHeader's pattern [\x20-\x21\x23-\x2B\x2D-\x7E]*: printable ASCII but '"' and ','.
bool CsvHeaderCharacter(char c) { return c >= 0x20 && c <= 0x7e && c != '"' && c != ','; }

// InputFormatOptions (`format_options`, nullptr when absent): the shape of its Csv member,
// which is what it holds.
Result<std::optional<CsvInputOptions>> ReadCsvOptions(const rapidjson::Value* format_options,
                                                      ConstraintErrors& errors) {
  if (format_options == nullptr) return std::optional<CsvInputOptions>();
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* csv, GetObject(*format_options, "Csv"));
  if (csv == nullptr) return std::optional<CsvInputOptions>();
  CsvInputOptions options;
  TW_ASSIGN_OR_RETURN(auto delimiter, GetString(*csv, "Delimiter"));
  if (delimiter) {
    const std::string path = "inputFormatOptions.csv.delimiter";
    errors.CheckLength(path, delimiter, 1, 1);
    if (delimiter->size() == 1) {
      if (kCsvDelimiters.find(delimiter->front()) == std::string_view::npos) {
        errors.Add(path, delimiter, "Member must satisfy regular expression pattern: [,;:|\\t ]");
      }
      options.delimiter = delimiter->front();
    }
  }
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* headers, GetArray(*csv, "HeaderList"));
  if (headers != nullptr) {
    std::vector<std::string> header_list;
    int position = 0;
    for (const rapidjson::Value& header : headers->GetArray()) {
      ++position;
      TW_RETURN_IF_ERROR(ExpectString(header));
      const std::string_view text(header.GetString(), header.GetStringLength());
      const std::string path =
          "inputFormatOptions.csv.headerList." + std::to_string(position) + ".member";
      errors.CheckLength(path, text, 1, kMaxCsvHeaderLength);
      if (!std::all_of(text.begin(), text.end(), CsvHeaderCharacter)) {
        errors.Add(path, text,
                   "Member must satisfy regular expression pattern: "
                   "[\\x20-\\x21\\x23-\\x2B\\x2D-\\x7E]*");
      }
      header_list.emplace_back(text);
    }
    if (header_list.empty() || header_list.size() > kMaxCsvHeaders) {
      errors.Add("inputFormatOptions.csv.headerList", NameList(header_list),
                 header_list.empty() ? "Member must have length greater than or equal to 1"
                                     : "Member must have length less than or equal to " +
                                           std::to_string(kMaxCsvHeaders));
    }
    options.header_list = std::move(header_list);
  }
  return std::optional<CsvInputOptions>(std::move(options));
}

// TableCreationParameters as descriptions show it: the members of DynamoDB's model as sent,
// in the model's order (also what ClientToken idempotency compares).
std::string CreationParametersJson(const rapidjson::Value& creation) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  for (const char* member : kCreationParameterMembers) {
    const rapidjson::Value* value = FindMember(creation, member);
    if (value == nullptr) continue;
    w.Key(member);
    value->Accept(w);
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::optional<std::string> Owned(std::optional<std::string_view> text) {
  return text ? std::optional<std::string>(std::string(*text)) : std::nullopt;
}

ImportFormat FormatOf(std::string_view name) {
  if (name == "CSV") return ImportFormat::kCsv;
  if (name == "ION") return ImportFormat::kIon;
  return ImportFormat::kDynamoDbJson;
}

ImportCompression CompressionOf(std::optional<std::string_view> name) {
  if (name == "GZIP") return ImportCompression::kGzip;
  if (name == "ZSTD") return ImportCompression::kZstd;
  return ImportCompression::kNone;
}

// The members of an ImportTable request with DynamoDB's constraint errors, then the rules
// between them and the table definition's own (CreateTable's).
Result<ImportParameters> ReadImportRequest(const rapidjson::Value& request,
                                           std::string_view region) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto token, GetString(request, "ClientToken"));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* source, GetObject(request, "S3BucketSource"));
  std::optional<std::string_view> bucket;
  std::optional<std::string_view> owner;
  std::optional<std::string_view> prefix;
  if (source != nullptr) {
    TW_ASSIGN_OR_RETURN(bucket, GetString(*source, "S3Bucket"));
    TW_ASSIGN_OR_RETURN(owner, GetString(*source, "S3BucketOwner"));
    TW_ASSIGN_OR_RETURN(prefix, GetString(*source, "S3KeyPrefix"));
  }
  TW_ASSIGN_OR_RETURN(auto format, GetString(request, "InputFormat"));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* format_options,
                      GetObject(request, "InputFormatOptions"));
  TW_ASSIGN_OR_RETURN(auto compression, GetString(request, "InputCompressionType"));
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* creation,
                      GetObject(request, "TableCreationParameters"));

  CheckClientToken(token, errors);
  errors.RequireNotNull("s3BucketSource", source != nullptr);
  if (source != nullptr) {
    CheckS3Bucket("s3BucketSource.", bucket, owner, errors);
    errors.CheckLength("s3BucketSource.s3KeyPrefix", prefix, std::nullopt, kMaxKeyPrefixLength);
  }
  errors.RequireNotNull("inputFormat", format.has_value());
  errors.CheckEnum("inputFormat", format, {"DYNAMODB_JSON", "ION", "CSV"});
  TW_ASSIGN_OR_RETURN(std::optional<CsvInputOptions> csv, ReadCsvOptions(format_options, errors));
  errors.CheckEnum("inputCompressionType", compression, {"GZIP", "ZSTD", "NONE"});
  errors.RequireNotNull("tableCreationParameters", creation != nullptr);
  std::optional<TableDefinitionMembers> members;
  if (creation != nullptr) {
    TW_ASSIGN_OR_RETURN(members,
                        ReadTableDefinitionMembers(*creation, kCreationParametersPath, errors));
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());

  if (csv && format != "CSV") {
    return Status::Validation(std::string(kInvalidParameters) +
                              "InputFormatOptions.Csv can only be specified when InputFormat is "
                              "CSV");
  }
  TW_ASSIGN_OR_RETURN(CreateTableRequest table,
                      ResolveTableDefinition(*creation, *members, kCreationParametersPath,
                                             /*with_local_indexes=*/false, errors));
  TW_ASSIGN_OR_RETURN(const std::optional<StreamViewType> backfill, ReadStreamBackfill(request));
  if (backfill) {
    table.stream = {true, *backfill};
    table.backfill_stream = true;
  }
  ImportParameters p;
  p.table = table.name;
  p.table_arn = streams::TableArn(region, p.table);
  p.client_token = Owned(token);
  p.s3_bucket = std::string(bucket.value_or(""));
  p.s3_bucket_owner = Owned(owner);
  p.s3_key_prefix = Owned(prefix);
  p.format = FormatOf(format.value_or(""));
  p.compression = CompressionOf(compression);
  p.csv = std::move(csv);
  p.table_creation_parameters = CreationParametersJson(*creation);
  p.table_definition = std::move(table);
  return p;
}

void WriteBucketSource(const ImportParameters& p, json::Writer& w) {
  w.StartObject();
  if (p.s3_bucket_owner) {
    w.Key("S3BucketOwner");
    WriteString(w, *p.s3_bucket_owner);
  }
  w.Key("S3Bucket");
  WriteString(w, p.s3_bucket);
  if (p.s3_key_prefix) {
    w.Key("S3KeyPrefix");
    WriteString(w, *p.s3_key_prefix);
  }
  w.EndObject();
}

void WriteInputFormatOptions(const CsvInputOptions& csv, json::Writer& w) {
  w.StartObject();
  w.Key("Csv");
  w.StartObject();
  if (csv.delimiter) {
    w.Key("Delimiter");
    WriteString(w, std::string_view(&*csv.delimiter, 1));
  }
  if (csv.header_list) {
    w.Key("HeaderList");
    w.StartArray();
    for (const std::string& header : *csv.header_list) WriteString(w, header);
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
}

// The ImportTableDescription object. Like DynamoDB's: the counts are zeros while the import
// runs; EndTime and ProcessedSizeBytes once it ended; InputFormatOptions when the request
// had them; FailureCode and FailureMessage when it failed.
void WriteImportDescription(const ImportRecord& record, json::Writer& w) {
  const ImportParameters& p = record.parameters;
  const bool ended = record.status != ImportStatus::kInProgress;
  w.StartObject();
  w.Key("ImportArn");
  WriteString(w, record.import_arn);
  w.Key("ImportStatus");
  WriteString(w, ImportStatusName(record.status));
  w.Key("TableArn");
  WriteString(w, p.table_arn);
  w.Key("TableId");
  WriteString(w, record.table_id);
  w.Key("ClientToken");
  WriteString(w, record.client_token);
  w.Key("S3BucketSource");
  WriteBucketSource(p, w);
  w.Key("ErrorCount");
  w.Uint64(record.error_count);
  w.Key("InputFormat");
  WriteString(w, ImportFormatName(p.format));
  if (p.csv) {
    w.Key("InputFormatOptions");
    WriteInputFormatOptions(*p.csv, w);
  }
  w.Key("InputCompressionType");
  WriteString(w, ImportCompressionName(p.compression));
  w.Key("TableCreationParameters");
  w.RawValue(p.table_creation_parameters.data(), p.table_creation_parameters.size(),
             rapidjson::kObjectType);
  w.Key("StartTime");
  w.Double(EpochSeconds(record.start_time_micros));
  if (ended) {
    w.Key("EndTime");
    w.Double(EpochSeconds(record.end_time_micros));
    w.Key("ProcessedSizeBytes");
    w.Uint64(record.processed_size_bytes);
  }
  w.Key("ProcessedItemCount");
  w.Uint64(record.processed_item_count);
  w.Key("ImportedItemCount");
  w.Uint64(record.imported_item_count);
  if (record.status == ImportStatus::kFailed) {
    w.Key("FailureCode");
    WriteString(w, record.failure_code);
    w.Key("FailureMessage");
    WriteString(w, record.failure_message);
  }
  w.EndObject();
}

Status WriteDescriptionAnswer(const ImportRecord& record, json::Writer& w) {
  w.StartObject();
  w.Key("ImportTableDescription");
  WriteImportDescription(record, w);
  w.EndObject();
  return Status::Ok();
}

// ListImports' NextToken: the hex digits of the previous page's last ImportArn, padded with
// zero bytes to DynamoDB's token shape (a multiple of 16 digits, at least 112).
std::string EncodeNextToken(std::string_view arn) {
  std::string token;
  token.reserve(2 * arn.size() + kMinNextTokenLength);
  for (unsigned char c : arn) {
    token += kHexDigits[c >> 4];
    token += kHexDigits[c & 0xf];
  }
  while (token.size() < kMinNextTokenLength || token.size() % kNextTokenBlockLength != 0) {
    token += "00";
  }
  return token;
}

bool NextTokenShaped(std::string_view token) {
  return token.size() % kNextTokenBlockLength == 0 &&
         std::all_of(token.begin(), token.end(),
                     [](char c) { return kHexDigits.find(c) != std::string_view::npos; });
}

// The ImportArn a NextToken holds (its shape already checked).
std::string DecodeNextToken(std::string_view token) {
  std::string arn;
  arn.reserve(token.size() / 2);
  for (size_t i = 0; i + 1 < token.size(); i += 2) {
    arn += static_cast<char>(kHexDigits.find(token[i]) * 16 + kHexDigits.find(token[i + 1]));
  }
  while (!arn.empty() && arn.back() == '\0') arn.pop_back();
  return arn;
}

void WriteImportSummary(const ImportRecord& record, json::Writer& w) {
  w.StartObject();
  w.Key("ImportArn");
  WriteString(w, record.import_arn);
  w.Key("ImportStatus");
  WriteString(w, ImportStatusName(record.status));
  w.Key("TableArn");
  WriteString(w, record.parameters.table_arn);
  w.Key("S3BucketSource");
  WriteBucketSource(record.parameters, w);
  w.Key("InputFormat");
  WriteString(w, ImportFormatName(record.parameters.format));
  w.Key("StartTime");
  w.Double(EpochSeconds(record.start_time_micros));
  if (record.status != ImportStatus::kInProgress) {
    w.Key("EndTime");
    w.Double(EpochSeconds(record.end_time_micros));
  }
  w.EndObject();
}

}  // namespace

Status ImportTable(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  TW_ASSIGN_OR_RETURN(ImportParameters parameters, ReadImportRequest(request, service.region));
  // The table is new: nothing cached of an earlier one of that name applies (as CreateTable).
  service.schemas->Forget(parameters.table);
  service.throughput->Forget(parameters.table);
  TW_ASSIGN_OR_RETURN(ImportRecord record, service.imports->Start(parameters));
  return WriteDescriptionAnswer(record, scope.writer);
}

Status DescribeImport(ServiceContext& service, const rapidjson::Value& request,
                      RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto arn, GetString(request, "ImportArn"));
  errors.RequireNotNull("importArn", arn.has_value());
  errors.CheckLength("importArn", arn, kMinImportArnLength, kMaxArnLength);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  // ValidationException when it is not shaped as an import ARN; ImportNotFoundException when
  // it names another region or account, or no import.
  Result<JobArn> parsed = ParseJobArn(*arn, kImportArnSeparator, service.region);
  if (!parsed.ok()) {
    if (parsed.status().code() == ErrorCode::kValidation) {
      return Status::Validation("Invalid ImportArn: " + std::string(*arn));
    }
    return ImportNotFound(*arn);
  }
  TW_ASSIGN_OR_RETURN(ImportRecord record, service.imports->Describe(std::string(*arn)));
  return WriteDescriptionAnswer(record, scope.writer);
}

Status ListImports(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(auto table_arn, GetString(request, "TableArn"));
  TW_ASSIGN_OR_RETURN(auto page_size, GetInteger(request, "PageSize"));
  TW_ASSIGN_OR_RETURN(auto next_token, GetString(request, "NextToken"));
  errors.CheckLength("tableArn", table_arn, 1, kMaxArnLength);
  errors.CheckRange("pageSize", page_size, 1, kMaxPageSize);
  errors.CheckLength("nextToken", next_token, kMinNextTokenLength, kMaxNextTokenLength);
  if (next_token && !NextTokenShaped(*next_token)) {
    errors.Add("nextToken", next_token,
               "Member must satisfy regular expression pattern: ([0-9a-f]{16})+");
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());

  ListImportsRequest list;
  list.limit = static_cast<size_t>(page_size.value_or(0));
  if (next_token) {
    std::string arn = DecodeNextToken(*next_token);
    if (!ParseJobArn(arn, kImportArnSeparator, service.region).ok()) {
      return Status::Validation("Invalid NextToken provided to ListImports");
    }
    list.before_arn = std::move(arn);
  }
  // A table ARN of another region or account names none of this server's imports.
  bool foreign_table = false;
  if (table_arn) {
    Result<std::string> table = TableOfArn(*table_arn, service.region);
    if (table.ok()) {
      list.table = std::move(*table);
    } else if (table.status().code() == ErrorCode::kResourceNotFound) {
      foreign_table = true;
    } else {
      return table.status();
    }
  }
  const ListImportsPage page = foreign_table ? ListImportsPage() : service.imports->List(list);
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("ImportSummaryList");
  w.StartArray();
  for (const ImportRecord& record : page.imports) WriteImportSummary(record, w);
  w.EndArray();
  if (page.last_arn) {
    w.Key("NextToken");
    WriteString(w, EncodeNextToken(*page.last_arn));
  }
  w.EndObject();
  return Status::Ok();
}

}  // namespace tidewater::server
