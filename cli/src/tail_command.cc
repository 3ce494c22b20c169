// `tidewater tail`: follows a table's stream live, across all its shards (parents before
// children), and prints one line per record until SIGINT/SIGTERM (or --max-records).
//
// The reader keeps its leases in this process and saves no position: every run starts
// where --from says (latest, trim-horizon, or a time: AT_TIMESTAMP). Lines of one shard come in
// sequence order; shards interleave. Requests are signed as --profile and --region say
// (signing_flags.h).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "commands.h"
#include "signing_flags.h"
#include "starting_time.h"
#include "tidewater/connectors/stream_source.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/filter_pattern.h"
#include "tidewater/streams/resource_names.h"
#include "tidewater/streams/stream_record_json.h"

namespace tidewater::cli {
namespace {

struct TailFlags {
  std::string endpoint;
  std::string table;
  std::string from = "latest";
  std::string format = "text";
  std::vector<std::string> filters;
  uint64_t max_records = 0;
  SigningFlags signing;
};

// "2026-12-04T22:55:01.123Z" for microseconds since the epoch.
std::string IsoTime(int64_t micros) {
  const time_t seconds = static_cast<time_t>(micros / 1'000'000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const size_t n = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(text + n, sizeof(text) - n, ".%03dZ", static_cast<int>(micros / 1000 % 1000));
  return text;
}

std::string Compact(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

// One record as a text line: time, shard id, sequence number, event, keys, and the image
// that tells what the item became (the new one; the old one for a REMOVE).
std::string TextLine(const rapidjson::Value& json, const ChangeRecord& record,
                     const std::string& shard_id) {
  const rapidjson::Value& dynamodb = json["dynamodb"];
  std::string line = IsoTime(record.approximate_creation_time_micros()) + " " + shard_id + " " +
                     dynamodb["SequenceNumber"].GetString() + " " + json["eventName"].GetString();
  if (dynamodb.HasMember("Keys")) line += " " + Compact(dynamodb["Keys"]);
  const char* image = record.event() == v1::REMOVE ? "OldImage" : "NewImage";
  if (dynamodb.HasMember(image)) line += " " + Compact(dynamodb[image]);
  return line;
}

// Prints the records that pass the filters; thread-safe (one reader thread per shard).
class RecordPrinter {
 public:
  RecordPrinter(const TailFlags& flags, connectors::StreamTableIdentity identity,
                streams::FilterCriteria filters)
      : json_(flags.format == "json"),
        max_records_(flags.max_records),
        identity_(std::move(identity)),
        filters_(std::move(filters)) {}

  Status Print(const streams::ShardBatch& batch) {
    const std::string shard_id = streams::ShardId(identity_.creation_time_micros, batch.shard);
    std::string out;
    uint64_t printed = 0;
    for (const ChangeRecord& record : batch.records) {
      rapidjson::StringBuffer buffer;
      json::Writer writer(buffer);
      TW_RETURN_IF_ERROR(streams::WriteStreamRecord(record, identity_.table_id, identity_.region,
                                                    writer, /*tidewater_metadata=*/false,
                                                    streams::IdentityNames::kStreamsApi));
      rapidjson::Document document;
      document.Parse(buffer.GetString(), buffer.GetSize());
      if (document.HasParseError()) return Status::Internal("a record rendered as bad JSON");
      if (!filters_.Matches(document)) continue;
      out += json_ ? std::string(buffer.GetString(), buffer.GetSize())
                   : TextLine(document, record, shard_id);
      out += '\n';
      ++printed;
    }
    std::lock_guard lock(mu_);
    if (max_records_ != 0) {
      const uint64_t room = max_records_ - std::min(printed_.load(), max_records_);
      if (printed > room) {
        // Keep the first `room` lines of this batch.
        size_t end = 0;
        for (uint64_t i = 0; i < room; ++i) end = out.find('\n', end) + 1;
        out.resize(end);
        printed = room;
      }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    printed_ += printed;
    return Status::Ok();
  }

  bool Done() const { return max_records_ != 0 && printed_.load() >= max_records_; }

 private:
  const bool json_;
  const uint64_t max_records_;
  const connectors::StreamTableIdentity identity_;
  const streams::FilterCriteria filters_;
  std::mutex mu_;
  std::atomic<uint64_t> printed_{0};
};

int RunTail(const TailFlags& flags) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("tidewater-tail"));
  auto filters = streams::FilterCriteria::Parse(flags.filters);
  if (!filters.ok()) {
    std::cerr << "error: --filter: " << filters.status().message() << "\n";
    return 2;
  }
  // Signals are taken by sigtimedwait below; the reader's threads inherit the mask.
  sigset_t signals = BlockStopSignals();

  connectors::StreamSourceConfig config;
  config.endpoint = flags.endpoint;
  config.profile = flags.signing.profile;
  config.endpoint_region = flags.signing.region;
  config.tls = flags.signing.Tls();
  config.lease_table = "";  // this process is the only reader
  auto source = connectors::StreamSource::Open(std::move(config));
  if (!source.ok()) {
    std::cerr << "error: " << source.status().ToString() << "\n";
    return 2;
  }
  auto identity = (*source)->DescribeTable(flags.table);
  if (!identity.ok() || !identity->has_value()) {
    std::cerr << "error: table " << flags.table << ": "
              << (identity.ok() ? "unknown" : identity.status().ToString()) << "\n";
    return 1;
  }
  RecordPrinter printer(flags, **identity, std::move(*filters));

  streams::ConsumerOptions options;
  options.table = flags.table;
  options.application = "tidewater-tail";
  if (flags.from == "trim-horizon") {
    options.starting_position = streams::StartingPosition::kTrimHorizon;
  } else if (flags.from == "latest") {
    options.starting_position = streams::StartingPosition::kLatest;
  } else {
    auto time = ParseStartingTime(flags.from);
    if (!time.ok()) {
      std::cerr << "error: --from: latest, trim-horizon or a time: " << time.status().message()
                << "\n";
      return 2;
    }
    options.starting_position = streams::StartingPosition::kAtTimestamp;
    options.starting_time_micros = *time;
  }
  auto reader = (*source)->OpenReader(
      options, [&printer](const streams::ShardBatch& batch) { return printer.Print(batch); });
  if (reader.ok()) {
    Status started = (*reader)->Start();
    if (!started.ok()) reader = started;
  }
  if (!reader.ok()) {
    std::cerr << "error: " << reader.status().ToString() << "\n";
    return 1;
  }
  const timespec tick{0, 100'000'000};
  while (!printer.Done() && sigtimedwait(&signals, nullptr, &tick) <= 0) {
  }
  (*reader)->Stop();
  return 0;
}

}  // namespace

void AddTailCommand(CLI::App& app) {
  auto flags = std::make_shared<TailFlags>();
  CLI::App* command =
      app.add_subcommand("tail", "Follow a table's stream live, one line per record, until Ctrl-C");
  command->add_option("--endpoint", flags->endpoint, "tidewaterd URL, http://HOST:PORT")
      ->required();
  command->add_option("--table", flags->table, "Table name")->required();
  command
      ->add_option("--from", flags->from,
                   "Where to start: latest, trim-horizon, or a time (ISO-8601 with its offset, "
                   "or epoch seconds): the first record written at or after it")
      ->capture_default_str();
  command->add_option("--format", flags->format, "text (one summary line) or json (the record)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  command->add_option("--filter", flags->filters,
                      "A Lambda filter pattern (JSON) the record must match; repeatable (any)");
  command
      ->add_option("--max-records", flags->max_records,
                   "Exit after printing this many records (0: run until interrupted)")
      ->capture_default_str();
  AddSigningFlags(command, &flags->signing);
  command->callback([flags] { ExitCode() = RunTail(*flags); });
}

}  // namespace tidewater::cli
