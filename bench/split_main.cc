// Shard splits: what a split costs writers, and what splits cost a reader.
//
//  1. Write pause: 4 writer threads put items into a 4-shard table as fast as they can,
//     first for --seconds without splits (the baseline), then for --seconds while the
//     main thread splits an open shard every 50 ms. Printed: the latency of the writes
//     that overlapped a split (p50, p99, max), of all writes in each phase, the split
//     calls' own times, and the p99 ratio against the baseline.
//  2. Reader across splits: the same backlog (--records change records, 4 shards) is
//     drained by a StreamConsumer (engine source, leases in memory) from a table never
//     split, and from a table whose open shards were all split at a quarter, a half and
//     three quarters of the writes (4 -> 32 open shards, 60 in all; lineage read parents
//     first). Printed: records/s of each and the ratio.
//
//   build/bench/tw_split_bench [--seconds S] [--records N]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"
#include "tidewater/core/engine.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"

namespace {

using namespace tidewater;
using Steady = std::chrono::steady_clock;

int Fail(const std::string& what) {
  std::fprintf(stderr, "split bench: %s\n", what.c_str());
  return 1;
}

double Micros(Steady::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// p in [0, 1] of `values` (sorted here), in milliseconds.
double PercentileMs(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index] / 1000.0;
}

Status CreateTable(Engine& engine, const std::string& name) {
  CreateTableRequest table;
  table.name = name;
  table.key_schema.partition_key = {"pk", AttributeType::kS};
  table.stream = {true, StreamViewType::kNewImage};
  table.shard_count = 4;
  return engine.CreateTable(table).status();
}

Status Put(Engine& engine, const std::string& table, uint64_t key) {
  static const std::string payload(200, 'x');
  return engine
      .PutItem(table, {{"pk", AttributeValue::S("k" + std::to_string(key))},
                       {"payload", AttributeValue::S(payload)}})
      .status();
}

// The open shards of `table`.
std::vector<ShardIndex> OpenShards(Engine& engine, const std::string& table) {
  std::vector<ShardIndex> open;
  auto description = engine.DescribeTable(table);
  if (!description.ok()) return open;
  for (const ShardDescription& shard : description->shards) {
    if (!shard.closed) open.push_back(shard.index);
  }
  return open;
}

struct Write {
  Steady::time_point start;
  Steady::time_point end;
};

// Writes from 4 threads for `seconds`; with `split`, the main thread splits an open shard
// every 50 ms meanwhile and returns the splits' [start, end) in `splits`.
std::vector<Write> WritePhase(Engine& engine, const std::string& table, int seconds, bool split,
                              std::vector<Write>* splits, std::string* error) {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<Write> writes;
  std::atomic<uint64_t> next_key{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      std::vector<Write> mine;
      while (!stop) {
        const auto start = Steady::now();
        Status put = Put(engine, table, next_key++);
        if (!put.ok()) {
          std::lock_guard lock(mu);
          *error = put.ToString();
          break;
        }
        mine.push_back({start, Steady::now()});
      }
      std::lock_guard lock(mu);
      writes.insert(writes.end(), mine.begin(), mine.end());
    });
  }
  const auto end = Steady::now() + std::chrono::seconds(seconds);
  size_t turn = 0;
  while (Steady::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!split) continue;
    std::vector<ShardIndex> open = OpenShards(engine, table);
    if (open.empty()) continue;
    const auto start = Steady::now();
    auto done = engine.SplitShard(table, open[turn++ % open.size()]);
    if (!done.ok()) {
      std::lock_guard lock(mu);
      *error = done.status().ToString();
      break;
    }
    splits->push_back({start, Steady::now()});
  }
  stop = true;
  for (auto& writer : writers) writer.join();
  return writes;
}

std::vector<double> Latencies(const std::vector<Write>& writes) {
  std::vector<double> micros;
  for (const Write& w : writes) micros.push_back(Micros(w.end - w.start));
  return micros;
}

// Drains `records` change records of `table` with a StreamConsumer; records/s from the
// first record handed over to the last.
double Drain(Engine& engine, const std::string& table, uint64_t records, std::string* error) {
  std::atomic<uint64_t> count{0};
  std::atomic<int64_t> first_ns{0}, last_ns{0};
  auto source = streams::MakeEngineChangeSource(engine, TableName(table));
  auto leases = streams::MakeMemoryLeaseStore();
  streams::ConsumerOptions options;
  options.table = table;
  options.application = "split-bench";
  options.max_batch_records = 1000;
  auto consumer = streams::StreamConsumer::Create(
      options, *source, *leases, [&](const streams::ShardBatch& batch) {
        const int64_t now = Steady::now().time_since_epoch().count();
        const uint64_t before = count.fetch_add(batch.records.size());
        if (before == 0) first_ns = now;
        if (before + batch.records.size() >= records) last_ns = now;
        return Status::Ok();
      });
  if (!consumer.ok()) {
    *error = consumer.status().ToString();
    return 0;
  }
  if (Status started = (*consumer)->Start(); !started.ok()) {
    *error = started.ToString();
    return 0;
  }
  const auto deadline = Steady::now() + std::chrono::minutes(5);
  while (count < records && Steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  (*consumer)->Stop();
  if (count < records) {
    *error = "the consumer got " + std::to_string(count.load()) + " of " + std::to_string(records);
    return 0;
  }
  return static_cast<double>(records) / (static_cast<double>(last_ns - first_ns) / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 5;
  uint64_t records = 200'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--records") == 0) records = std::strtoull(argv[i + 1], nullptr, 10);
  }
  testing::TempDir dir;
  EngineOptions options;
  options.data_dir = dir.path();
  auto opened = Engine::Open(options);
  if (!opened.ok()) return Fail(opened.status().ToString());
  Engine& engine = **opened;
  std::string error;

  // 1. The write pause.
  if (Status s = CreateTable(engine, "baseline"); !s.ok()) return Fail(s.ToString());
  if (Status s = CreateTable(engine, "splitting"); !s.ok()) return Fail(s.ToString());
  std::vector<Write> splits;
  const std::vector<Write> plain = WritePhase(engine, "baseline", seconds, false, &splits, &error);
  if (!error.empty()) return Fail(error);
  const std::vector<Write> during = WritePhase(engine, "splitting", seconds, true, &splits, &error);
  if (!error.empty()) return Fail(error);
  std::vector<Write> overlapping;
  for (const Write& w : during) {
    const bool overlaps = std::any_of(splits.begin(), splits.end(), [&](const Write& s) {
      return w.start < s.end && s.start < w.end;
    });
    if (overlaps) overlapping.push_back(w);
  }
  std::vector<double> plain_us = Latencies(plain);
  std::vector<double> during_us = Latencies(during);
  std::vector<double> overlapping_us = Latencies(overlapping);
  std::vector<double> split_us = Latencies(splits);
  std::printf("write latency, 4 writers, %d s per phase (ms)\n", seconds);
  std::printf("  no splits:           %8zu writes  p50 %.3f  p99 %.3f  max %.3f\n", plain_us.size(),
              PercentileMs(plain_us, 0.5), PercentileMs(plain_us, 0.99),
              PercentileMs(plain_us, 1.0));
  std::printf("  with splits:         %8zu writes  p50 %.3f  p99 %.3f  max %.3f\n",
              during_us.size(), PercentileMs(during_us, 0.5), PercentileMs(during_us, 0.99),
              PercentileMs(during_us, 1.0));
  std::printf("  overlapping a split: %8zu writes  p50 %.3f  p99 %.3f  max %.3f\n",
              overlapping_us.size(), PercentileMs(overlapping_us, 0.5),
              PercentileMs(overlapping_us, 0.99), PercentileMs(overlapping_us, 1.0));
  std::printf("  split calls:         %8zu splits  p50 %.3f  p99 %.3f  max %.3f\n", split_us.size(),
              PercentileMs(split_us, 0.5), PercentileMs(split_us, 0.99),
              PercentileMs(split_us, 1.0));
  std::printf("  p99 with splits / without: %.2fx\n",
              PercentileMs(during_us, 0.99) / PercentileMs(plain_us, 0.99));

  // 2. The reader across splits.
  if (Status s = CreateTable(engine, "unsplit"); !s.ok()) return Fail(s.ToString());
  if (Status s = CreateTable(engine, "split"); !s.ok()) return Fail(s.ToString());
  for (uint64_t i = 0; i < records; ++i) {
    if (Status s = Put(engine, "unsplit", i); !s.ok()) return Fail(s.ToString());
    if (Status s = Put(engine, "split", i); !s.ok()) return Fail(s.ToString());
    if (i == records / 4 || i == records / 2 || i == 3 * records / 4) {
      for (ShardIndex shard : OpenShards(engine, "split")) {
        if (auto done = engine.SplitShard("split", shard); !done.ok()) {
          return Fail(done.status().ToString());
        }
      }
    }
  }
  const double unsplit_rate = Drain(engine, "unsplit", records, &error);
  if (!error.empty()) return Fail(error);
  const double split_rate = Drain(engine, "split", records, &error);
  if (!error.empty()) return Fail(error);
  std::printf("consumer (engine source), %llu records\n", static_cast<unsigned long long>(records));
  std::printf("  never split:                 %10.0f records/s\n", unsplit_rate);
  std::printf("  split 3 times (%zu shards):    %10.0f records/s\n",
              engine.DescribeTable("split")->shards.size(), split_rate);
  std::printf("  across splits / without:     %.2fx\n", split_rate / unsplit_rate);
  return 0;
}
