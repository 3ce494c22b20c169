// `tidewater lag`: one row per reader of a tidewaterd and shard it reads, with its position
// and how far behind it is (records, and seconds since the oldest record it has not
// processed was written), from what the server knows:
//  * consumer applications: their leases in the lease table (position = checkpoint,
//    owner = the worker holding the lease, last progress = when it last checkpointed);
//  * the Kafka publisher: its lag metrics on /metrics;
//  * replicators writing into it from other regions: the progress they report to it
//    (ReportReplicatorProgress; owner = the replicator's reader name, last progress = when
//    its position last advanced). A replicator silent for more than a minute shows its
//    reported lag plus the silence, so a stopped replicator passes --max-lag-seconds.
// Exit status: 0; 1 when a lag passes --max-lag-records or --max-lag-seconds; 2 when the
// server cannot be read. Requests are signed as --profile and --region say (signing_flags.h).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "signing_flags.h"
#include "tidewater/connectors/stream_source.h"
#include "tidewater/core/clock.h"
#include "tidewater/streams/lease_store.h"
#include "tidewater/streams/remote_source.h"
#include "tidewater/streams/resource_names.h"
#include "tidewater/streams/service_client.h"
#include "tidewater/v1/replication.pb.h"

namespace tidewater::cli {
namespace {

struct LagFlags {
  std::string endpoint;
  std::string lease_table = streams::kDefaultLeaseTable;
  std::optional<uint64_t> max_lag_records;
  std::optional<double> max_lag_seconds;
  SigningFlags signing;
};

// The flags, and the options of every client of the endpoint (resolved once).
struct LagRun {
  LagFlags flags;
  streams::ServiceClientOptions client;
};

// One reader in one shard.
struct ReaderLag {
  std::string reader;  // "consumer:<application>", "kafka-publisher", "replicator:<region>"
  std::string table;
  std::string shard;                 // the shard id, as the Streams API names it
  std::string owner;                 // the worker holding the lease ("-": none, or not leased)
  std::optional<uint64_t> position;  // the first sequence not processed yet
  std::optional<uint64_t> lag_records;
  std::optional<double> lag_seconds;
  int64_t last_progress_millis = 0;  // 0: unknown
};

std::string Iso(int64_t millis) {
  if (millis <= 0) return "-";
  const time_t seconds = static_cast<time_t>(millis / 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// Per table: its shards as the server lists them, and how shard ids are spelled.
struct TableShards {
  std::unique_ptr<streams::ChangeSource> source;
  std::map<ShardIndex, streams::SourceShard> shards;
  int64_t creation_micros = 0;
};

Result<TableShards> ListTableShards(const LagRun& run, connectors::StreamSource& describer,
                                    const std::string& table) {
  TableShards result;
  TW_ASSIGN_OR_RETURN(auto identity, describer.DescribeTable(table));
  if (identity) result.creation_micros = identity->creation_time_micros;
  TW_ASSIGN_OR_RETURN(result.source, streams::MakeRemoteStreamsSource(
                                         run.flags.endpoint, TableName(table), run.client));
  TW_ASSIGN_OR_RETURN(auto shards, result.source->ListShards());
  for (const streams::SourceShard& shard : shards) result.shards[shard.index] = shard;
  return result;
}

// The consumer applications' rows, from their leases. None when there is no lease table.
Result<std::vector<ReaderLag>> ConsumerLags(const LagRun& run,
                                            connectors::StreamSource& describer) {
  const LagFlags& flags = run.flags;
  TW_ASSIGN_OR_RETURN(auto client, streams::ServiceClient::Create(flags.endpoint, run.client));
  auto described = client->CallJson("DynamoDB_20120810.DescribeTable",
                                    R"({"TableName":")" + flags.lease_table + R"("})");
  if (!described.ok() && described.status().code() == ErrorCode::kResourceNotFound) {
    return std::vector<ReaderLag>{};
  }
  TW_RETURN_IF_ERROR(described.status());
  TW_ASSIGN_OR_RETURN(auto store,
                      streams::MakeRemoteLeaseStore(flags.endpoint, flags.lease_table, run.client));
  TW_ASSIGN_OR_RETURN(std::vector<streams::Lease> leases, store->ListAllLeases());

  std::map<std::string, Result<TableShards>> tables;
  const int64_t now_micros = Clock::System()->NowMicros();
  std::vector<ReaderLag> rows;
  for (const streams::Lease& lease : leases) {
    const std::string& name = lease.table.value();
    auto it = tables.find(name);
    if (it == tables.end()) it = tables.emplace(name, ListTableShards(run, describer, name)).first;
    ReaderLag& row = rows.emplace_back();
    row.reader = "consumer:" + lease.application;
    row.table = name;
    row.owner = lease.owner.empty() ? "-" : lease.owner;
    row.position = lease.checkpoint ? std::optional(lease.checkpoint->value()) : std::nullopt;
    row.last_progress_millis = lease.checkpoint_millis;
    if (!it->second.ok()) {  // the table is gone, or has no stream now
      row.shard = std::to_string(lease.shard.value());
      continue;
    }
    TableShards& table = *it->second;
    row.shard = streams::ShardId(table.creation_micros, lease.shard);
    auto shard = table.shards.find(lease.shard);
    if (shard == table.shards.end()) continue;
    const SequenceNumber next =
        lease.checkpoint ? *lease.checkpoint : shard->second.first_sequence;  // not started
    const uint64_t behind =
        lease.finished ? 0 : SequenceDistance(next, shard->second.last_sequence.Next());
    row.lag_records = behind;
    row.lag_seconds = 0;
    if (behind == 0) continue;
    // The oldest record not processed: how long it has waited.
    auto oldest = table.source->Read(lease.shard, next, 1, std::chrono::milliseconds(0));
    if (oldest.ok() && !oldest->records.empty()) {
      const int64_t waited =
          now_micros - oldest->records.front().approximate_creation_time_micros();
      row.lag_seconds = std::max<int64_t>(waited, 0) / 1e6;
    }
  }
  return rows;
}

// The Kafka publisher's rows, from the server's metrics (none when it does not publish).
Result<std::vector<ReaderLag>> PublisherLags(const LagRun& run,
                                             connectors::StreamSource& describer) {
  TW_ASSIGN_OR_RETURN(auto client, streams::ServiceClient::Create(run.flags.endpoint, run.client));
  TW_ASSIGN_OR_RETURN(streams::HttpResponse metrics, client->Get("/metrics"));
  if (metrics.status != 200) {
    return Status::Internal("GET /metrics answered " + std::to_string(metrics.status));
  }
  static const std::regex kSample(
      R"re(^tidewater_kafka_publisher_lag_(records|seconds)\{(.*)\} (\S+)$)re");
  static const std::regex kLabel(R"re((\w+)="([^"]*)")re");
  std::map<std::pair<std::string, uint32_t>, ReaderLag> rows;
  std::istringstream lines(metrics.body);
  for (std::string line; std::getline(lines, line);) {
    std::smatch sample;
    if (!std::regex_match(line, sample, kSample)) continue;
    std::map<std::string, std::string> labels;
    const std::string label_text = sample[2];
    for (auto it = std::sregex_iterator(label_text.begin(), label_text.end(), kLabel);
         it != std::sregex_iterator(); ++it) {
      labels[(*it)[1]] = (*it)[2];
    }
    if (!labels.contains("table") || !labels.contains("shard")) continue;
    const auto key =
        std::make_pair(labels["table"], static_cast<uint32_t>(std::stoul(labels["shard"])));
    ReaderLag& row = rows[key];
    row.reader = "kafka-publisher";
    row.table = key.first;
    row.owner = "-";
    const double value = std::stod(sample[3]);
    if (sample[1] == "records") {
      row.lag_records = static_cast<uint64_t>(value);
    } else {
      row.lag_seconds = value;
    }
  }
  std::map<std::string, int64_t> creation;  // shard ids need the table's creation time
  std::vector<ReaderLag> result;
  for (auto& [key, row] : rows) {
    if (!creation.contains(key.first)) {
      auto identity = describer.DescribeTable(key.first);
      creation[key.first] =
          identity.ok() && identity->has_value() ? (*identity)->creation_time_micros : 0;
    }
    row.shard = streams::ShardId(creation[key.first], ShardIndex(key.second));
    result.push_back(std::move(row));
  }
  return result;
}

// The replicators writing into the server, from their progress reports.
Result<std::vector<ReaderLag>> ReplicatorLags(const LagRun& run, connectors::StreamSource&) {
  constexpr int64_t kSilentAfterMillis = 60'000;
  TW_ASSIGN_OR_RETURN(auto client, streams::ServiceClient::Create(run.flags.endpoint, run.client));
  TW_ASSIGN_OR_RETURN(std::string body,
                      client->CallBinary("TidewaterReplication_20261126.ListReplicatorProgress",
                                         v1::ListReplicatorProgressRequest().SerializeAsString()));
  v1::ListReplicatorProgressResponse listed;
  if (!listed.ParseFromString(body)) {
    return Status::Internal("malformed ListReplicatorProgress response");
  }
  const int64_t now_millis = Clock::System()->NowMicros() / 1000;
  std::vector<ReaderLag> rows;
  for (const v1::ReplicatorShardReport& report : listed.reports()) {
    const v1::ReplicatorShardProgress& shard = report.progress();
    ReaderLag& row = rows.emplace_back();
    row.reader = "replicator:" + report.source_region();
    row.table = report.table();
    row.shard = shard.shard_id().empty() ? std::to_string(shard.shard()) : shard.shard_id();
    row.owner = report.replicator();
    row.position = shard.next_sequence();
    if (shard.last_sequence_known()) {
      row.lag_records = SequenceDistance(SequenceNumber(shard.next_sequence()),
                                         SequenceNumber(shard.last_sequence()).Next());
    }
    int64_t lag_millis = shard.iterator_age_millis();
    const int64_t silent_millis = now_millis - report.received_millis();
    if (silent_millis > kSilentAfterMillis) lag_millis += silent_millis;
    row.lag_seconds = static_cast<double>(lag_millis) / 1000;
    row.last_progress_millis = report.last_progress_millis();
  }
  return rows;
}

std::string Text(const std::optional<uint64_t>& value) {
  return value ? std::to_string(*value) : "-";
}

int RunLag(const LagFlags& flags) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("tidewater-lag"));
  auto client = ClientOptions(flags.signing, std::chrono::milliseconds(10'000));
  if (!client.ok()) {
    std::cerr << "error: " << client.status().ToString() << "\n";
    return 2;
  }
  const LagRun run{flags, std::move(*client)};
  connectors::StreamSourceConfig config;
  config.endpoint = flags.endpoint;
  config.profile = flags.signing.profile;
  config.endpoint_region = flags.signing.region;
  config.tls = flags.signing.Tls();
  config.lease_table = "";  // reads nothing: only describes tables
  auto describer = connectors::StreamSource::Open(std::move(config));
  if (!describer.ok()) {
    std::cerr << "error: " << describer.status().ToString() << "\n";
    return 2;
  }
  std::vector<ReaderLag> rows;
  for (auto* collect : {&ConsumerLags, &PublisherLags, &ReplicatorLags}) {
    auto found = collect(run, **describer);
    if (!found.ok()) {
      std::cerr << "error: " << found.status().ToString() << "\n";
      return 2;
    }
    rows.insert(rows.end(), found->begin(), found->end());
  }
  std::printf("%-28s %-20s %-40s %-24s %10s %10s %10s  %s\n", "READER", "TABLE", "SHARD", "OWNER",
              "POSITION", "LAG", "LAG_S", "LAST_PROGRESS");
  bool over = false;
  for (const ReaderLag& row : rows) {
    char seconds[32] = "-";
    if (row.lag_seconds) std::snprintf(seconds, sizeof(seconds), "%.1f", *row.lag_seconds);
    std::printf("%-28s %-20s %-40s %-24s %10s %10s %10s  %s\n", row.reader.c_str(),
                row.table.c_str(), row.shard.c_str(), row.owner.c_str(), Text(row.position).c_str(),
                Text(row.lag_records).c_str(), seconds, Iso(row.last_progress_millis).c_str());
    over |= flags.max_lag_records && row.lag_records && *row.lag_records > *flags.max_lag_records;
    over |= flags.max_lag_seconds && row.lag_seconds && *row.lag_seconds > *flags.max_lag_seconds;
  }
  if (rows.empty()) std::printf("(no readers)\n");
  if (over) std::fprintf(stderr, "lag over the threshold\n");
  return over ? 1 : 0;
}

}  // namespace

void AddLagCommand(CLI::App& app) {
  auto flags = std::make_shared<LagFlags>();
  CLI::App* command = app.add_subcommand("lag",
                                         "Show every reader of a tidewaterd (consumers, the Kafka "
                                         "publisher, replicators) and its lag");
  command->add_option("--endpoint", flags->endpoint, "tidewaterd URL, http://HOST:PORT")
      ->required();
  command->add_option("--lease-table", flags->lease_table, "The consumers' lease table")
      ->capture_default_str();
  command->add_option("--max-lag-records", flags->max_lag_records,
                      "Exit with status 1 when a reader is more records behind than this");
  command->add_option("--max-lag-seconds", flags->max_lag_seconds,
                      "Exit with status 1 when a reader's oldest unprocessed record is older");
  AddSigningFlags(command, &flags->signing);
  command->callback([flags] { ExitCode() = RunLag(*flags); });
}

}  // namespace tidewater::cli
