// tidewater verify --a URL --b URL --table NAME: compares two replicas of a table range
// by range (hash ranges, ShardDigests) and lists the keys whose items differ.
// Exit code 0: identical; 1: different; 2: error.
// --metrics-file FILE writes the outcome in Prometheus's text format (replaced atomically),
// for node_exporter's textfile collector: run verify from cron, alert on divergence.
// Requests are signed with --profile's credentials (signing_flags.h), for each replica's
// region: --a-region and --b-region, else --region, else the profile's.
//
// Replicas that are still replicating differ by what is in flight; verify after writes
// stopped and the replicators' lag is 0.
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "commands.h"
#include "signing_flags.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/progress_meter.h"
#include "tidewater/core/record_codec.h"
#include "tidewater/streams/service_client.h"
#include "tidewater/v1/replication.pb.h"

namespace tidewater::cli {
namespace {

constexpr char kShardDigests[] = "TidewaterReplication_20261126.ShardDigests";

struct VerifyFlags {
  std::string a;
  std::string b;
  std::string table;
  int timeout_ms = 30'000;
  std::string metrics_file;  // "": none
  SigningFlags signing;
  std::string a_region;  // "": signing.region
  std::string b_region;
};

// What one run found, for --metrics-file.
struct VerifyOutcome {
  bool equal = false;
  uint32_t ranges = 0;
  size_t differing_ranges = 0;
  size_t differing_keys = 0;
};

// Writes the run's outcome (nullopt: verify failed) to flags.metrics_file.
Status WriteMetricsFile(const VerifyFlags& flags, const std::optional<VerifyOutcome>& outcome) {
  std::vector<prometheus::MetricFamily> families;
  auto gauge = [&](const char* name, const char* help, double value) {
    prometheus::ClientMetric metric;
    metric.label = {{"table", flags.table}, {"replica_a", flags.a}, {"replica_b", flags.b}};
    metric.gauge.value = value;
    families.push_back({name, help, prometheus::MetricType::Gauge, {metric}});
  };
  gauge("tidewater_verify_success", "1 when the last tidewater verify compared the replicas",
        outcome ? 1 : 0);
  gauge("tidewater_verify_last_run_timestamp_seconds",
        "When the last tidewater verify ended (Unix time)",
        static_cast<double>(Clock::System()->NowMicros()) / 1e6);
  if (outcome) {
    gauge("tidewater_verify_ranges", "Hash ranges compared by the last tidewater verify",
          outcome->ranges);
    gauge("tidewater_verify_differing_ranges",
          "Hash ranges whose items differ between the replicas at the last tidewater verify",
          static_cast<double>(outcome->differing_ranges));
    gauge("tidewater_verify_differing_keys",
          "Keys whose items differ between the replicas at the last tidewater verify",
          static_cast<double>(outcome->differing_keys));
  }
  const std::string text = prometheus::TextSerializer().Serialize(families);
  // Written beside the file and renamed over it: a scrape never sees half a file.
  const std::string partial = flags.metrics_file + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << text;
    if (!out.flush()) return Status::IOError("cannot write " + partial);
  }
  if (std::rename(partial.c_str(), flags.metrics_file.c_str()) != 0) {
    return Status::IOError("cannot rename " + partial + " to " + flags.metrics_file + ": " +
                           std::strerror(errno));
  }
  return Status::Ok();
}

// One replica's endpoint.
class Replica {
 public:
  static Result<Replica> Open(const std::string& url, const VerifyFlags& flags,
                              const std::string& region) {
    TW_ASSIGN_OR_RETURN(
        auto client,
        CreateClient(url, flags.signing, std::chrono::milliseconds(flags.timeout_ms), region));
    return Replica(url, std::move(client));
  }

  const std::string& url() const { return url_; }

  Result<v1::ShardDigestsResponse> Digests(const std::string& table, uint32_t ranges) {
    v1::ShardDigestsRequest request;
    request.set_table(table);
    request.set_ranges(ranges);
    return Call(request);
  }

  // Every (key, item hash) of one range, by serialized key.
  Result<std::map<std::string, std::string>> Entries(const std::string& table, uint32_t ranges,
                                                     uint32_t range) {
    std::map<std::string, std::string> entries;
    v1::ShardDigestsRequest request;
    request.set_table(table);
    request.set_ranges(ranges);
    request.set_list(true);
    request.set_list_range(range);
    while (true) {
      TW_ASSIGN_OR_RETURN(v1::ShardDigestsResponse page, Call(request));
      for (const v1::ItemHash& entry : page.entries()) {
        entries[entry.key().SerializeAsString()] = entry.hash();
      }
      if (!page.has_last_evaluated_key()) return entries;
      *request.mutable_exclusive_start_key() = page.last_evaluated_key();
    }
  }

 private:
  Replica(std::string url, std::unique_ptr<streams::ServiceClient> client)
      : url_(std::move(url)), client_(std::move(client)) {}

  Result<v1::ShardDigestsResponse> Call(const v1::ShardDigestsRequest& request) {
    TW_ASSIGN_OR_RETURN(std::string body,
                        client_->CallBinary(kShardDigests, request.SerializeAsString()));
    v1::ShardDigestsResponse response;
    if (!response.ParseFromString(body)) {
      return Status::Internal("malformed ShardDigests response from " + url_);
    }
    return response;
  }

  std::string url_;
  std::unique_ptr<streams::ServiceClient> client_;
};

std::string KeyText(const std::string& serialized_key) {
  v1::MapValue key;
  if (!key.ParseFromString(serialized_key)) return "<unreadable key>";
  auto item = FromProto(key);
  return item.ok() ? json::ItemToJson(*item) : "<unreadable key>";
}

// Prints the keys of one range that differ; returns how many.
Result<size_t> ListDifferences(Replica& a, Replica& b, const std::string& table, uint32_t ranges,
                               uint32_t range) {
  TW_ASSIGN_OR_RETURN(auto in_a, a.Entries(table, ranges, range));
  TW_ASSIGN_OR_RETURN(auto in_b, b.Entries(table, ranges, range));
  size_t differing = 0;
  for (const auto& [key, hash] : in_a) {
    auto other = in_b.find(key);
    if (other == in_b.end()) {
      std::cout << "  only in a: " << KeyText(key) << "\n";
    } else if (other->second != hash) {
      std::cout << "  differs:   " << KeyText(key) << "\n";
    } else {
      continue;
    }
    ++differing;
  }
  for (const auto& [key, hash] : in_b) {
    if (!in_a.contains(key)) {
      std::cout << "  only in b: " << KeyText(key) << "\n";
      ++differing;
    }
  }
  return differing;
}

Result<VerifyOutcome> Verify(const VerifyFlags& flags) {
  TW_ASSIGN_OR_RETURN(Replica a, Replica::Open(flags.a, flags, flags.a_region));
  TW_ASSIGN_OR_RETURN(Replica b, Replica::Open(flags.b, flags, flags.b_region));
  // a's shard count decides the ranges; b is asked for the same ranges.
  TW_ASSIGN_OR_RETURN(v1::ShardDigestsResponse digests_a, a.Digests(flags.table, 0));
  const uint32_t ranges = static_cast<uint32_t>(digests_a.digests_size());
  if (ranges == 0) return Status::Internal("no digest ranges from " + a.url());
  TW_ASSIGN_OR_RETURN(v1::ShardDigestsResponse digests_b, b.Digests(flags.table, ranges));
  if (digests_b.digests_size() != digests_a.digests_size()) {
    return Status::Internal(b.url() + " answered " + std::to_string(digests_b.digests_size()) +
                            " ranges for " + std::to_string(ranges));
  }
  uint64_t items = 0;
  for (uint32_t i = 0; i < ranges; ++i) {
    items += std::max(digests_a.digests(static_cast<int>(i)).item_count(),
                      digests_b.digests(static_cast<int>(i)).item_count());
  }
  // On stderr, so that the report on stdout stays plain.
  ProgressMeter progress = ProgressMeter::ForStream(
      {.label = "verifying " + flags.table, .unit = "items", .total = items}, stderr,
      ProgressMeter::StyleFor(stderr));
  size_t differing_ranges = 0;
  size_t differing_keys = 0;
  for (uint32_t i = 0; i < ranges; ++i) {
    const v1::RangeDigest& da = digests_a.digests(static_cast<int>(i));
    const v1::RangeDigest& db = digests_b.digests(static_cast<int>(i));
    progress.Advance(std::max(da.item_count(), db.item_count()));
    if (da.digest() == db.digest() && da.item_count() == db.item_count()) {
      std::cout << "range " << i << ": equal (" << da.item_count() << " items)\n";
      continue;
    }
    ++differing_ranges;
    std::cout << "range " << i << ": DIFFERENT (a: " << da.item_count()
              << " items, b: " << db.item_count() << " items)\n";
    TW_ASSIGN_OR_RETURN(size_t keys, ListDifferences(a, b, flags.table, ranges, i));
    differing_keys += keys;
  }
  progress.Finish();
  const VerifyOutcome outcome{differing_ranges == 0, ranges, differing_ranges, differing_keys};
  if (outcome.equal) {
    std::cout << "replicas of " << flags.table << " are identical (" << ranges << " ranges)\n";
  } else {
    std::cout << "replicas of " << flags.table << " differ: " << differing_keys << " keys in "
              << differing_ranges << " of " << ranges << " ranges\n";
  }
  return outcome;
}

}  // namespace

void AddVerifyCommand(CLI::App& app) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* command =
      app.add_subcommand("verify", "Compare two replicas of a table and list the keys that differ");
  command->add_option("--a", flags->a, "First replica's tidewaterd URL")->required();
  command->add_option("--b", flags->b, "Second replica's tidewaterd URL")->required();
  command->add_option("--table", flags->table, "Table name")->required();
  command->add_option("--timeout-ms", flags->timeout_ms, "Timeout of each call")
      ->capture_default_str();
  command->add_option("--metrics-file", flags->metrics_file,
                      "Also write the outcome as Prometheus metrics to this file (node_exporter's "
                      "textfile collector)");
  AddSigningFlags(command, &flags->signing,
                  "The replicas' region (a tidewaterd's --region), which requests are signed "
                  "for unless --a-region or --b-region names it (default: the profile's)");
  command->add_option("--a-region", flags->a_region, "The first replica's region");
  command->add_option("--b-region", flags->b_region, "The second replica's region");
  command->callback([flags] {
    auto outcome = Verify(*flags);
    if (!outcome.ok()) std::cerr << "error: " << outcome.status().ToString() << "\n";
    ExitCode() = !outcome.ok() ? 2 : outcome->equal ? 0 : 1;
    if (flags->metrics_file.empty()) return;
    const Status written =
        WriteMetricsFile(*flags, outcome.ok() ? std::optional(*outcome) : std::nullopt);
    if (!written.ok()) {
      std::cerr << "error: " << written.ToString() << "\n";
      ExitCode() = 2;
    }
  });
}

}  // namespace tidewater::cli
