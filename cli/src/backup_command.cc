// `tidewater backup copy --from URL --to URL BACKUP_ARN`: copies a backup from one tidewaterd
// (a region) to another's. BACKUP_ARN is the backup's ARN in the source region, as
// CreateBackup or ListBackups answered it there.
//
// The backup travels in chunks of at most 4 MiB (--chunk-bytes): TidewaterReadBackup on the
// source, then TidewaterBeginBackupCopy, TidewaterAppendBackupCopy per chunk and
// TidewaterFinishBackupCopy on the target (server/src/backup_copy_handlers.cc). The target
// checks the items against the backup's SHA-256 before it publishes the copy: a USER backup
// with a new id and an ARN of the target's region, and the source's name, creation time and
// table. A chunk read or appended again is harmless, so those calls are retried (up to three
// times in all) when the failure is one a retry can cure.
//
// Prints the new backup as DescribeBackup answers it ({"BackupDescription": ...}, the ARN in
// BackupDetails.BackupArn) on stdout, progress on stderr. Exit status: 0 when copied; 1 when
// a server refused (no such backup, a damaged copy, ...) or could not be reached, with the
// reason on stderr. A copy that fails midway is never listed on the target; its staged files
// go when the target's tidewaterd next starts.
//
// Requests are signed with --profile's credentials (signing_flags.h), for each tidewaterd's
// region, as `aws ... --source-region` does: the source's is --source-region, else the
// region in BACKUP_ARN; the target's is --region, else the profile's.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "commands.h"
#include "signing_flags.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/progress_meter.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::cli {
namespace {

// The largest chunk tidewaterd reads or appends at once.
constexpr size_t kMaxChunkBytes = 4 << 20;
// Calls that may be repeated (reading and appending a chunk) are made up to this many times.
constexpr int kRepeatableAttempts = 3;

struct CopyFlags {
  std::string from;
  std::string to;
  std::string backup_arn;
  size_t chunk_bytes = kMaxChunkBytes;
  int timeout_ms = 120'000;
  SigningFlags signing;       // signing.region: the target's
  std::string source_region;  // "": the region of backup_arn
};

// The region an ARN names ("arn:aws:dynamodb:REGION:ACCOUNT:..."); "" when it names none.
std::string RegionOfArn(std::string_view arn) {
  constexpr std::string_view kPrefix = "arn:aws:dynamodb:";
  if (!arn.starts_with(kPrefix)) return "";
  arn.remove_prefix(kPrefix.size());
  const size_t colon = arn.find(':');
  return colon == std::string_view::npos ? "" : std::string(arn.substr(0, colon));
}

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteText(JsonWriter& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// One tidewaterd of the copy: its URL, which errors name, and a client for it.
class Endpoint {
 public:
  // `region`: the tidewaterd's, which requests are signed for ("": the profile's).
  static Result<Endpoint> Open(const std::string& url, const CopyFlags& flags,
                               const std::string& region) {
    TW_ASSIGN_OR_RETURN(
        auto client,
        CreateClient(url, flags.signing, std::chrono::milliseconds(flags.timeout_ms), region));
    return Endpoint(url, std::move(client));
  }

  // Calls DynamoDB_20120810.<operation> with the JSON object `write_members` writes;
  // `attempts` times at most while the failure is one a retry can cure. The answer's text.
  template <typename WriteMembers>
  Result<std::string> Call(std::string_view operation, const WriteMembers& write_members,
                           int attempts = 1) {
    rapidjson::StringBuffer body;
    JsonWriter writer(body);
    writer.StartObject();
    write_members(writer);
    writer.EndObject();
    const std::string target = "DynamoDB_20120810." + std::string(operation);
    const std::string_view text(body.GetString(), body.GetSize());
    for (int attempt = 1;; ++attempt) {
      Result<std::string> answer = client_->CallJson(target, text);
      if (answer.ok()) return answer;
      if (attempt >= attempts || !streams::IsRetryable(answer.status())) {
        return Status(answer.status().code(),
                      std::string(operation) + " on " + url_ + ": " + answer.status().message());
      }
      std::this_thread::sleep_for(std::chrono::seconds(attempt));
    }
  }

  // `answer` parsed: a JSON object, or an error naming `operation`.
  Result<std::unique_ptr<rapidjson::Document>> Parse(std::string_view operation,
                                                     const std::string& answer) const {
    auto document = std::make_unique<rapidjson::Document>();
    document->Parse(answer.c_str());
    if (document->HasParseError() || !document->IsObject()) {
      return Unexpected(operation, "an answer that is not a JSON object");
    }
    return document;
  }

  // The string member `name` of an answer to `operation`.
  Result<std::string> StringMember(std::string_view operation, const rapidjson::Value& answer,
                                   const char* name) const {
    const auto member = answer.FindMember(name);
    if (member == answer.MemberEnd() || !member->value.IsString()) {
      return Unexpected(operation, std::string("an answer without ") + name);
    }
    return std::string(member->value.GetString(), member->value.GetStringLength());
  }

  Status Unexpected(std::string_view operation, const std::string& what) const {
    return Status::Internal(std::string(operation) + " on " + url_ + " returned " + what);
  }

 private:
  Endpoint(std::string url, std::unique_ptr<streams::ServiceClient> client)
      : url_(std::move(url)), client_(std::move(client)) {}

  std::string url_;
  std::unique_ptr<streams::ServiceClient> client_;
};

// One chunk of the source backup, as the source sent it.
struct SourceChunk {
  std::optional<std::string> meta_base64;  // backup.meta (the chunk at offset 0 only)
  std::string items_base64;
  uint64_t items_bytes = 0;  // how many bytes of items `items_base64` holds
  uint64_t items_size = 0;   // the size of the whole items file
};

Result<SourceChunk> ReadChunk(Endpoint& source, const CopyFlags& flags, uint64_t offset) {
  constexpr std::string_view kOperation = "TidewaterReadBackup";
  const auto members = [&](JsonWriter& w) {
    w.Key("BackupArn");
    WriteText(w, flags.backup_arn);
    w.Key("Offset");
    w.Uint64(offset);
    w.Key("Length");
    w.Uint64(flags.chunk_bytes);
  };
  TW_ASSIGN_OR_RETURN(const std::string answer,
                      source.Call(kOperation, members, kRepeatableAttempts));
  TW_ASSIGN_OR_RETURN(const auto document, source.Parse(kOperation, answer));
  SourceChunk chunk;
  if (document->HasMember("BackupMeta")) {
    TW_ASSIGN_OR_RETURN(chunk.meta_base64,
                        source.StringMember(kOperation, *document, "BackupMeta"));
  }
  TW_ASSIGN_OR_RETURN(chunk.items_base64, source.StringMember(kOperation, *document, "Items"));
  std::string items;
  if (!json::Base64Decode(chunk.items_base64, &items)) {
    return source.Unexpected(kOperation, "Items that are not base64");
  }
  chunk.items_bytes = items.size();
  const rapidjson::Value& read = *document;
  const auto size = read.FindMember("ItemsSize");
  if (size == read.MemberEnd() || !size->value.IsUint64()) {
    return source.Unexpected(kOperation, "an answer without ItemsSize");
  }
  chunk.items_size = size->value.GetUint64();
  return chunk;
}

// Starts the copy on the target; its copy id.
Result<std::string> BeginCopy(Endpoint& target, const std::string& meta_base64) {
  constexpr std::string_view kOperation = "TidewaterBeginBackupCopy";
  const auto members = [&](JsonWriter& w) {
    w.Key("BackupMeta");
    WriteText(w, meta_base64);
  };
  TW_ASSIGN_OR_RETURN(const std::string answer, target.Call(kOperation, members));
  TW_ASSIGN_OR_RETURN(const auto document, target.Parse(kOperation, answer));
  return target.StringMember(kOperation, *document, "CopyId");
}

Status AppendChunk(Endpoint& target, const std::string& copy_id, uint64_t offset,
                   const SourceChunk& chunk) {
  const auto members = [&](JsonWriter& w) {
    w.Key("CopyId");
    WriteText(w, copy_id);
    w.Key("Offset");
    w.Uint64(offset);
    w.Key("Data");
    WriteText(w, chunk.items_base64);
  };
  return target.Call("TidewaterAppendBackupCopy", members, kRepeatableAttempts).status();
}

// Publishes the copy on the target; its description as DescribeBackup shows it, indented
// as the AWS CLI prints it.
Result<std::string> FinishCopy(Endpoint& target, const std::string& copy_id) {
  constexpr std::string_view kOperation = "TidewaterFinishBackupCopy";
  const auto members = [&](JsonWriter& w) {
    w.Key("CopyId");
    WriteText(w, copy_id);
  };
  TW_ASSIGN_OR_RETURN(const std::string answer, target.Call(kOperation, members));
  TW_ASSIGN_OR_RETURN(const auto document, target.Parse(kOperation, answer));
  rapidjson::StringBuffer pretty;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(pretty);
  document->Accept(writer);
  return std::string(pretty.GetString(), pretty.GetSize());
}

// Copies the backup chunk by chunk; the new backup's description.
Result<std::string> CopyBackup(const CopyFlags& flags) {
  const std::string source_region =
      flags.source_region.empty() ? RegionOfArn(flags.backup_arn) : flags.source_region;
  TW_ASSIGN_OR_RETURN(Endpoint source, Endpoint::Open(flags.from, flags, source_region));
  TW_ASSIGN_OR_RETURN(Endpoint target, Endpoint::Open(flags.to, flags, flags.signing.region));
  TW_ASSIGN_OR_RETURN(SourceChunk chunk, ReadChunk(source, flags, 0));
  if (!chunk.meta_base64) {
    return source.Unexpected("TidewaterReadBackup", "the first chunk without BackupMeta");
  }
  TW_ASSIGN_OR_RETURN(const std::string copy_id, BeginCopy(target, *chunk.meta_base64));
  // On stderr, so that the description on stdout stays parsable.
  ProgressMeter progress = ProgressMeter::ForStream(
      {.label = "copying " + flags.backup_arn, .unit = "bytes", .total = chunk.items_size}, stderr,
      ProgressMeter::StyleFor(stderr));
  const Status copied = [&]() -> Status {
    for (uint64_t offset = 0;;) {
      if (chunk.items_bytes > 0) TW_RETURN_IF_ERROR(AppendChunk(target, copy_id, offset, chunk));
      offset += chunk.items_bytes;
      progress.Advance(chunk.items_bytes);
      if (offset >= chunk.items_size) return Status::Ok();
      if (chunk.items_bytes == 0) {
        return source.Unexpected("TidewaterReadBackup", "no items at offset " +
                                                            std::to_string(offset) + " of " +
                                                            std::to_string(chunk.items_size));
      }
      TW_ASSIGN_OR_RETURN(chunk, ReadChunk(source, flags, offset));
    }
  }();
  progress.Finish();
  if (!copied.ok()) {
    return Status(copied.code(), copied.message() + " (the unfinished copy " + copy_id + " on " +
                                     flags.to + " is listed nowhere and goes when it restarts)");
  }
  return FinishCopy(target, copy_id);
}

}  // namespace

void AddBackupCommand(CLI::App& app) {
  CLI::App* backup = app.add_subcommand("backup", "Backups across tidewaterds");
  backup->require_subcommand(1);
  auto flags = std::make_shared<CopyFlags>();
  CLI::App* copy = backup->add_subcommand(
      "copy", "Copy a backup from one tidewaterd (region) to another's; prints the new backup");
  copy->add_option("--from", flags->from, "The source tidewaterd's URL, http://HOST:PORT")
      ->required();
  copy->add_option("--to", flags->to, "The target tidewaterd's URL, http://HOST:PORT")->required();
  copy->add_option("BACKUP_ARN", flags->backup_arn, "The backup's ARN in the source region")
      ->required();
  copy->add_option("--chunk-bytes", flags->chunk_bytes,
                   "Bytes of items per request (at most 4 MiB; lower it when the target's "
                   "--max-body-bytes is below 6 MB)")
      ->check(CLI::Range(static_cast<size_t>(1), kMaxChunkBytes))
      ->capture_default_str();
  copy->add_option("--timeout-ms", flags->timeout_ms,
                   "Timeout of each call (the last one verifies the whole copy)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  AddSigningFlags(copy, &flags->signing,
                  "The target tidewaterd's region (its --region), which requests to --to are "
                  "signed for (default: the profile's)");
  copy->add_option("--source-region", flags->source_region,
                   "The source tidewaterd's region, which requests to --from are signed for "
                   "(default: the region in BACKUP_ARN)");
  copy->callback([flags] {
    Result<std::string> described = CopyBackup(*flags);
    if (!described.ok()) {
      std::fprintf(stderr, "error: %s\n", described.status().ToString().c_str());
      ExitCode() = 1;
      return;
    }
    std::printf("%s\n", described->c_str());
    ExitCode() = 0;
  });
}

}  // namespace tidewater::cli
