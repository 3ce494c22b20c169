// Watermark delay on idle shards: how far behind the wall clock a reader's resolved time is
// when it learns it. A 4-shard table gets a few writes and then none; a StreamConsumer
// (engine source, leases in memory) reports the table's resolved time through
// on_resolved_time, and each report's delay is the clock's reading at the report minus
// the resolved time. Idle reads return the shard's watermark about every 100 ms, so the
// delay is bounded by that wait plus the report's own cost.
//
//   build/bench/tw_watermark_delay_bench [--seconds S]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "support/temp_dir.h"
#include "tidewater/core/engine.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"

namespace {

using namespace tidewater;

int Fail(const std::string& what) {
  std::fprintf(stderr, "watermark delay bench: %s\n", what.c_str());
  return 1;
}

double Percentile(std::vector<int64_t>& values, double p) {
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return static_cast<double>(values[index]) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atoi(argv[i + 1]);
  }
  testing::TempDir dir;
  EngineOptions options;
  options.data_dir = dir.path();
  auto engine = Engine::Open(options);
  if (!engine.ok()) return Fail(engine.status().ToString());
  CreateTableRequest table;
  table.name = "idle";
  table.key_schema.partition_key = {"pk", AttributeType::kS};
  table.stream = {true, StreamViewType::kKeysOnly};
  table.shard_count = 4;
  if (auto created = (*engine)->CreateTable(table); !created.ok()) {
    return Fail(created.status().ToString());
  }
  for (int i = 0; i < 16; ++i) {
    if (auto put = (*engine)->PutItem("idle", {{"pk", AttributeValue::S(std::to_string(i))}});
        !put.ok()) {
      return Fail(put.status().ToString());
    }
  }

  std::mutex mu;
  std::vector<int64_t> delays;
  auto source = streams::MakeEngineChangeSource(**engine, TableName("idle"));
  auto leases = streams::MakeMemoryLeaseStore();
  streams::ConsumerOptions consumer_options;
  consumer_options.table = "idle";
  consumer_options.application = "watermark-bench";
  consumer_options.on_resolved_time = [&](int64_t resolved) {
    const int64_t delay = Clock::System()->NowMicros() - resolved;
    std::lock_guard lock(mu);
    delays.push_back(delay);
  };
  auto consumer = streams::StreamConsumer::Create(
      consumer_options, *source, *leases, [](const streams::ShardBatch&) { return Status::Ok(); });
  if (!consumer.ok()) return Fail(consumer.status().ToString());
  if (Status started = (*consumer)->Start(); !started.ok()) return Fail(started.ToString());
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  (*consumer)->Stop();

  std::lock_guard lock(mu);
  if (delays.empty()) return Fail("no resolved time was reported");
  const size_t reports = delays.size();
  std::printf("watermark delay on idle shards (engine source, %d s, %zu reports)\n", seconds,
              reports);
  std::printf("  p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms\n", Percentile(delays, 0.5),
              Percentile(delays, 0.9), Percentile(delays, 0.99), Percentile(delays, 1.0));
  return 0;
}
