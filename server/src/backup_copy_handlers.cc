// Tidewater's backup copy operations, on the DynamoDB JSON protocol (X-Amz-Target
// "DynamoDB_20120810.<Op>"): `tidewater backup copy` reads a backup from one tidewaterd and
// writes it into another (core table_backups.h). Binary members are base64; a chunk holds at
// most 4 MiB of items (5,592,408 characters of base64, within the default --max-body-bytes).
//
// TidewaterReadBackup {"BackupArn", "Offset" (default 0), "Length" (1 to 4 MiB, default
//   4 MiB)} answers {"BackupMeta" (the sealed backup.meta; only when Offset is 0), "Items"
//   (up to Length bytes of the items file from Offset: fewer at its end, none past it),
//   "ItemsSize" (the items file's size)}. BackupNotFoundException as DescribeBackup.
// TidewaterBeginBackupCopy {"BackupMeta"} starts receiving a copy and answers {"CopyId"};
//   ValidationException when BackupMeta is not a sealed backup description.
// TidewaterAppendBackupCopy {"CopyId", "Offset", "Data"} appends Data (at most 4 MiB) at
//   Offset, which must be the bytes received so far; a chunk sent again is accepted again, a
//   gap is a ValidationException. Answers {}.
// TidewaterFinishBackupCopy {"CopyId"} verifies the items (size and SHA-256) and answers the
//   new backup as DescribeBackup would ({"BackupDescription": ...}): a USER backup of this
//   region with a new id and the source's name, creation time and table. A mismatch drops
//   the copy (ValidationException naming the damage). Until finished, a copy is listed
//   nowhere, and one left unfinished is gone after tidewaterd restarts.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "backup_handler_support.h"
#include "handler_support.h"
#include "handlers.h"
#include "tidewater/core/json_codec.h"

namespace tidewater::server {
namespace {

constexpr int64_t kMaxChunkBytes = 4 << 20;
// A backup.meta holds the source table's definition: kilobytes.
constexpr int64_t kMaxBackupMetaBytes = 1 << 20;
constexpr size_t kMaxCopyIdLength = 255;

// The length of the base64 text of `bytes` bytes.
constexpr size_t Base64Length(int64_t bytes) { return static_cast<size_t>((bytes + 2) / 3 * 4); }

// The text of a required base64 member (`name`; `path` in constraint errors) of at most
// `max_bytes` bytes once decoded; DecodeBase64 decodes it once every member is checked.
Result<std::string_view> ReadBase64Member(const rapidjson::Value& request, std::string_view name,
                                          std::string_view path, int64_t max_bytes,
                                          ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(auto text, GetString(request, name));
  errors.RequireNotNull(path, text.has_value());
  errors.CheckLength(path, text, std::nullopt, Base64Length(max_bytes));
  return text.value_or("");
}

Result<std::string> DecodeBase64(std::string_view name, std::string_view text) {
  std::string bytes;
  if (!json::Base64Decode(text, &bytes)) {
    return Status::Serialization(std::string(name) + " is not valid base64");
  }
  return bytes;
}

// The member CopyId (required).
Result<std::string> ReadCopyId(const rapidjson::Value& request, ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(auto copy_id, GetString(request, "CopyId"));
  errors.RequireNotNull("copyId", copy_id.has_value());
  errors.CheckLength("copyId", copy_id, 1, kMaxCopyIdLength);
  return std::string(copy_id.value_or(""));
}

void WriteBase64(json::Writer& w, std::string_view name, std::string_view bytes) {
  WriteKey(w, name);
  WriteString(w, json::Base64Encode(bytes));
}

}  // namespace

Status TidewaterReadBackup(ServiceContext& service, const rapidjson::Value& request,
                           RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string_view arn, ReadBackupArn(request, errors));
  TW_ASSIGN_OR_RETURN(auto offset, GetInteger(request, "Offset"));
  errors.CheckRange("offset", offset, 0, std::nullopt);
  TW_ASSIGN_OR_RETURN(auto length, GetInteger(request, "Length"));
  errors.CheckRange("length", length, 1, kMaxChunkBytes);
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(BackupDescription backup, BackupOfArn(service, arn));
  const auto from = static_cast<uint64_t>(offset.value_or(0));
  std::optional<std::string> meta;
  if (from == 0) {
    TW_ASSIGN_OR_RETURN(meta, service.engine->ReadBackupMeta(backup.backup_id));
  }
  const auto wanted = static_cast<size_t>(length.value_or(kMaxChunkBytes));
  TW_ASSIGN_OR_RETURN(std::string items,
                      service.engine->ReadBackupItems(backup.backup_id, from, wanted));
  json::Writer& w = scope.writer;
  w.StartObject();
  if (meta) WriteBase64(w, "BackupMeta", *meta);
  WriteBase64(w, "Items", items);
  w.Key("ItemsSize");
  w.Uint64(backup.size_bytes);
  w.EndObject();
  return Status::Ok();
}

Status TidewaterBeginBackupCopy(ServiceContext& service, const rapidjson::Value& request,
                                RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string_view text, ReadBase64Member(request, "BackupMeta", "backupMeta",
                                                              kMaxBackupMetaBytes, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(std::string meta, DecodeBase64("BackupMeta", text));
  TW_ASSIGN_OR_RETURN(std::string copy_id, service.engine->BeginBackupCopy(meta));
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("CopyId");
  WriteString(w, copy_id);
  w.EndObject();
  return Status::Ok();
}

Status TidewaterAppendBackupCopy(ServiceContext& service, const rapidjson::Value& request,
                                 RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string copy_id, ReadCopyId(request, errors));
  TW_ASSIGN_OR_RETURN(auto offset, GetInteger(request, "Offset"));
  errors.RequireNotNull("offset", offset.has_value());
  errors.CheckRange("offset", offset, 0, std::nullopt);
  TW_ASSIGN_OR_RETURN(std::string_view text,
                      ReadBase64Member(request, "Data", "data", kMaxChunkBytes, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(std::string data, DecodeBase64("Data", text));
  TW_RETURN_IF_ERROR(
      service.engine->AppendBackupCopy(copy_id, static_cast<uint64_t>(*offset), data));
  json::Writer& w = scope.writer;
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status TidewaterFinishBackupCopy(ServiceContext& service, const rapidjson::Value& request,
                                 RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string copy_id, ReadCopyId(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(BackupDescription backup, service.engine->FinishBackupCopy(copy_id));
  return WriteBackupDescription(backup, service.region, scope.writer);
}

}  // namespace tidewater::server
