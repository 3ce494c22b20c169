#include "job_support.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <system_error>
#include <utility>

#include "table_tags.h"
#include "tidewater/core/durable_file.h"

namespace tidewater::server {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxBucketLength = 255;
constexpr std::string_view kRecordSuffix = ".json";
constexpr std::string_view kTemporarySuffix = ".json.tmp";  // WriteFileAtomically's leftovers

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// S3Bucket's pattern ^[a-z0-9A-Z]+[\.\-\w]*[a-z0-9A-Z]+$: letters and digits at both ends,
// letters, digits, '.', '-' and '_' between.
bool BucketShaped(std::string_view bucket) {
  if (bucket.size() < 2 || !IsAlnum(bucket.front()) || !IsAlnum(bucket.back())) return false;
  return std::all_of(bucket.begin(), bucket.end(),
                     [](char c) { return IsAlnum(c) || c == '.' || c == '-' || c == '_'; });
}

// The S3 error code of an object store failure: its messages for an S3 error answer read
// "S3 <code>: <message> (<where>)" (connectors object_store.h); empty for others (a
// connection that failed, a local directory).
std::string S3ErrorCode(const std::string& message) {
  constexpr std::string_view kLead = "S3 ";
  if (message.compare(0, kLead.size(), kLead) != 0) return "";
  const size_t colon = message.find(':', kLead.size());
  if (colon == std::string::npos || colon == kLead.size()) return "";
  const std::string code = message.substr(kLead.size(), colon - kLead.size());
  const bool code_shaped = std::all_of(code.begin(), code.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.';
  });
  return code_shaped ? code : "";
}

}  // namespace

std::string NewJobId(int64_t now_micros) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  char text[40];
  std::snprintf(text, sizeof(text), "%014lld-%08x",
                static_cast<long long>(std::max<int64_t>(0, now_micros / 1000)),
                static_cast<unsigned>(generator() & 0xffffffffULL));
  return text;
}

std::string NewClientToken() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  const uint64_t high = generator();
  const uint64_t low = generator();
  char text[40];
  std::snprintf(text, sizeof(text), "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xffff),
                static_cast<unsigned>(high & 0x0fff),
                static_cast<unsigned>(0x8000 | ((low >> 48) & 0x3fff)),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return text;
}

JobFailure ObjectStoreFailure(const Status& status) {
  const std::string code = S3ErrorCode(status.message());
  // A 404 writing an object is a bucket that is not there; so is a bucket no store serves
  // (the embedded default, without endpoint or local buckets).
  const bool not_found = status.code() == ErrorCode::kResourceNotFound &&
                         (code.empty() || code == "NotFound" || code == "NoSuchKey");
  if (code == "NoSuchBucket" || not_found) {
    return {"S3NoSuchBucket", "The specified bucket does not exist"};
  }
  if (!code.empty()) return {"S3" + code, status.message()};
  return {"UNKNOWN", status.message()};
}

JobFailure EngineFailure(const Status& status) {
  return {std::string(ErrorTypeName(status.code())), status.message()};
}

Result<JobArn> ParseJobArn(std::string_view arn, std::string_view separator,
                           std::string_view region) {
  const Status invalid = Status::Validation("not a job ARN: " + std::string(arn));
  const size_t at = arn.rfind(separator);
  if (at == std::string_view::npos) return invalid;
  const std::string_view id = arn.substr(at + separator.size());
  const bool id_shaped = !id.empty() && std::all_of(id.begin(), id.end(),
                                                    [](char c) { return IsAlnum(c) || c == '-'; });
  if (!id_shaped) return invalid;
  Result<std::string> table = TableOfArn(arn.substr(0, at), region);
  if (!table.ok()) {
    if (table.status().code() == ErrorCode::kValidation) return invalid;
    return Status::NotFound("no job of this region and account: " + std::string(arn));
  }
  return JobArn{std::move(*table), std::string(id)};
}

void CheckClientToken(std::optional<std::string_view> token, ConstraintErrors& errors) {
  if (token && (token->empty() || token->find('$') != std::string_view::npos)) {
    errors.Add("clientToken", token, "Member must satisfy regular expression pattern: ^[^\\$]+$");
  }
}

void CheckS3Bucket(std::string_view path, std::optional<std::string_view> bucket,
                   std::optional<std::string_view> owner, ConstraintErrors& errors) {
  const std::string bucket_path = std::string(path) + "s3Bucket";
  errors.RequireNotNull(bucket_path, bucket.has_value());
  if (bucket && !BucketShaped(*bucket)) {
    errors.Add(
        bucket_path, bucket,
        "Member must satisfy regular expression pattern: ^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$");
  }
  errors.CheckLength(bucket_path, bucket, std::nullopt, kMaxBucketLength);
  if (owner && (owner->size() != 12 || !std::all_of(owner->begin(), owner->end(),
                                                    [](char c) { return c >= '0' && c <= '9'; }))) {
    errors.Add(std::string(path) + "s3BucketOwner", owner,
               "Member must satisfy regular expression pattern: [0-9]{12}");
  }
}

void PutText(RecordWriter& w, std::string_view key, std::string_view text) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void PutOptionalText(RecordWriter& w, std::string_view key,
                     const std::optional<std::string>& text) {
  if (text) PutText(w, key, *text);
}

void PutInt(RecordWriter& w, std::string_view key, int64_t number) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Int64(number);
}

void PutOptionalInt(RecordWriter& w, std::string_view key, const std::optional<int64_t>& number) {
  if (number) PutInt(w, key, *number);
}

void PutUint(RecordWriter& w, std::string_view key, uint64_t number) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Uint64(number);
}

const rapidjson::Value* RecordMember(const rapidjson::Value& object, std::string_view key) {
  return FindMember(object, key);
}

std::string RecordText(const rapidjson::Value& object, std::string_view key) {
  return RecordOptionalText(object, key).value_or("");
}

std::optional<std::string> RecordOptionalText(const rapidjson::Value& object,
                                              std::string_view key) {
  const rapidjson::Value* value = RecordMember(object, key);
  if (value == nullptr || !value->IsString()) return std::nullopt;
  return std::string(value->GetString(), value->GetStringLength());
}

int64_t RecordInt(const rapidjson::Value& object, std::string_view key) {
  return RecordOptionalInt(object, key).value_or(0);
}

std::optional<int64_t> RecordOptionalInt(const rapidjson::Value& object, std::string_view key) {
  const rapidjson::Value* value = RecordMember(object, key);
  if (value == nullptr || !value->IsInt64()) return std::nullopt;
  return value->GetInt64();
}

uint64_t RecordUint(const rapidjson::Value& object, std::string_view key) {
  const rapidjson::Value* value = RecordMember(object, key);
  return value != nullptr && value->IsUint64() ? value->GetUint64() : 0;
}

Result<std::vector<RecordFile>> ReadRecordFiles(const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return Status::IOError("cannot create " + dir + ": " + error.message());
  std::vector<RecordFile> files;
  for (fs::directory_iterator it(dir, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (EndsWith(name, kTemporarySuffix)) {  // a replacement interrupted by a crash
      std::error_code ignored;
      fs::remove(it->path(), ignored);
      continue;
    }
    if (!EndsWith(name, kRecordSuffix)) continue;
    RecordFile file;
    file.path = it->path().string();
    std::ifstream in(file.path, std::ios::binary);
    file.text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    files.push_back(std::move(file));
  }
  if (error) return Status::IOError("cannot list " + dir + ": " + error.message());
  return files;
}

Status WriteRecordFile(const std::string& dir, const std::string& id, std::string_view json) {
  return WriteFileAtomically(dir + "/" + id + std::string(kRecordSuffix), json);
}

}  // namespace tidewater::server
