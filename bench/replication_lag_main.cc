// Replication lag on loopback: two tidewaterd processes (us-east-1 -> eu-west-1) and the
// replicator (tw_replicator, in this process) between them.
//
// Phase 1, steady load: writer threads put 1 KB items into the source at a fixed total
// rate (open loop, spread over many keys and so over every shard) for --seconds; each
// replicated change's lag is measured from its commit in the source (the record's
// creation time) to the target's acknowledgement of the batch that carried it.
// Printed: p50, p99, max lag.
// Phase 2, maximum sustained rate: the writers put as fast as they can for --seconds;
// printed: the source write rate, the replicated rate (changes applied per second from
// the start of the phase until the replicator caught up) and the lag meanwhile.
//
//   replication_lag_bench [--tidewaterd PATH] [--rate 2000] [--seconds 10] [--writers 8]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "support/temp_dir.h"
#include "support/tidewaterd_process.h"
#include "tidewater/connectors/stream_source.h"
#include "tidewater/replicator/table_replicator.h"
#include "tidewater/streams/service_client.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using tidewater::streams::ServiceClient;

constexpr char kTable[] = "bench";

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool CreateTable(const std::string& url) {
  auto client = ServiceClient::Create(url);
  return client.ok() &&
         (*client)
             ->CallJson("DynamoDB_20120810.CreateTable",
                        R"({"TableName":"bench","BillingMode":"PAY_PER_REQUEST",)"
                        R"("KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
                        R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
                        R"("StreamSpecification":{"StreamEnabled":true,)"
                        R"("StreamViewType":"NEW_AND_OLD_IMAGES"}})")
             .ok();
}

// What the replicator reports back.
struct Observed {
  std::mutex mu;
  std::vector<int64_t> lag_micros;  // guarded by mu
  std::atomic<uint64_t> applied{0};
};

// Puts 1 KB items from `writers` threads for `seconds`; at `rate` per second in total, or
// as fast as possible when rate is 0. Returns the number of acknowledged puts (each one
// writes a change record).
// Keys are "<phase>-<writer>-<n % 5000>", values new on every put.
uint64_t Load(const std::string& url, const std::string& phase, int writers, int rate,
              int seconds) {
  std::atomic<uint64_t> done{0};
  std::vector<std::thread> threads;
  const std::string payload(1000, 'x');
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      auto client = ServiceClient::Create(url);
      if (!client.ok()) return;
      const auto interval = rate > 0 ? std::chrono::microseconds(1'000'000LL * writers / rate)
                                     : std::chrono::microseconds(0);
      auto next = start;
      for (uint64_t i = 0; Clock::now() < end; ++i) {
        if (rate > 0) {
          next += interval;
          std::this_thread::sleep_until(next);
        }
        const std::string key = phase + "-" + std::to_string(w) + "-" + std::to_string(i % 5000);
        auto answer = (*client)->CallJson("DynamoDB_20120810.PutItem",
                                          R"({"TableName":"bench","Item":{"pk":{"S":")" + key +
                                              R"("},"n":{"N":")" + std::to_string(i) +
                                              R"("},"payload":{"S":")" + payload + R"("}}})");
        if (answer.ok()) ++done;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return done;
}

double Percentile(std::vector<int64_t>& values, double p) {
  if (values.empty()) return 0;
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return static_cast<double>(values[index]) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string tidewaterd = TW_TIDEWATERD;
  int rate = 2000;
  int seconds = 10;
  int writers = 8;
  CLI::App app{"Replication lag between two tidewaterd processes on loopback"};
  app.add_option("--tidewaterd", tidewaterd, "tidewaterd binary")->capture_default_str();
  app.add_option("--rate", rate, "Steady writes per second (phase 1)")->capture_default_str();
  app.add_option("--seconds", seconds, "Seconds per phase")->capture_default_str();
  app.add_option("--writers", writers, "Writer threads")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  tidewater::testing::TempDir dir;
  tidewater::testing::TidewaterdProcess east(tidewaterd, dir.Sub("east"), "us-east-1");
  tidewater::testing::TidewaterdProcess west(tidewaterd, dir.Sub("west"), "eu-west-1");
  if (!east.Start() || !west.Start() || !CreateTable(east.url()) || !CreateTable(west.url())) {
    std::fprintf(stderr, "cannot start the regions:\n%s\n%s\n", east.log().c_str(),
                 west.log().c_str());
    return 1;
  }
  tidewater::connectors::StreamSourceConfig source_config;
  source_config.endpoint = east.url();
  source_config.lease_table = "";  // the replicator's positions are the target's checkpoints
  auto source = tidewater::connectors::StreamSource::Open(source_config);
  if (!source.ok()) {
    std::fprintf(stderr, "%s\n", source.status().ToString().c_str());
    return 1;
  }
  Observed observed;
  std::atomic<bool> measuring{false};
  tidewater::replicator::TableReplicatorOptions options;
  options.table = kTable;
  options.on_applied = [&](const tidewater::v1::ReplicationBatch& batch) {
    const int64_t now = NowMicros();
    observed.applied += static_cast<uint64_t>(batch.changes_size());
    if (!measuring) return;
    std::lock_guard lock(observed.mu);
    for (const auto& change : batch.changes()) {
      observed.lag_micros.push_back(now - change.approximate_creation_time_micros());
    }
  };
  auto replicator = tidewater::replicator::TableReplicator::Start(
      options, **source, tidewater::replicator::MakeRemoteReplicationApi(east.url(), 5s),
      tidewater::replicator::MakeRemoteReplicationApi(west.url(), 5s));

  // Phase 1: steady load.
  Load(east.url(), "warmup", writers, rate,
       1);  // warm-up (catch-up of the empty table, connections)
  measuring = true;
  const uint64_t steady = Load(east.url(), "steady", writers, rate, seconds);
  std::this_thread::sleep_for(1s);
  measuring = false;
  {
    std::lock_guard lock(observed.mu);
    auto& lag = observed.lag_micros;
    std::printf("steady load: %.0f writes/s (1 KB items) for %d s, %zu changes replicated\n",
                static_cast<double>(steady) / seconds, seconds, lag.size());
    const double p50 = Percentile(lag, 0.50);
    const double p99 = Percentile(lag, 0.99);
    const double max =
        lag.empty() ? 0 : static_cast<double>(*std::max_element(lag.begin(), lag.end())) / 1000.0;
    std::printf("replication lag: p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 < 100 ms)\n",
                p50, p99, max);
  }

  // Phase 2: as fast as the writers can; how fast does replication keep up?
  {
    std::lock_guard lock(observed.mu);
    observed.lag_micros.clear();
  }
  measuring = true;
  const uint64_t before = observed.applied;
  const auto start = Clock::now();
  const uint64_t written = Load(east.url(), "max", writers, 0, seconds);
  const double write_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto drain_deadline = Clock::now() + 60s;
  while (observed.applied - before < written && Clock::now() < drain_deadline) {
    std::this_thread::sleep_for(10ms);
  }
  const double total_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const uint64_t replicated = observed.applied - before;
  std::printf(
      "max load: %.0f writes/s into the source; replicated %.0f changes/s (%llu of %llu "
      "in %.1f s)\n",
      static_cast<double>(written) / write_seconds, static_cast<double>(replicated) / total_seconds,
      static_cast<unsigned long long>(replicated), static_cast<unsigned long long>(written),
      total_seconds);
  measuring = false;
  {
    std::lock_guard lock(observed.mu);
    auto& lag = observed.lag_micros;
    const double p50 = Percentile(lag, 0.50);
    const double p99 = Percentile(lag, 0.99);
    std::printf("replication lag at max load: p50 %.1f ms, p99 %.1f ms\n", p50, p99);
  }
  replicator->Stop();
  east.Stop();
  west.Stop();
  return 0;
}
