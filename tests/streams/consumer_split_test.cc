// The consumer SDK over the engine while shards split under writers: every record is
// delivered once, each key's changes in the order they were written (parents before
// children), and a child's first record only after its parent's last.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"

namespace tidewater::streams {
namespace {

constexpr char kTable[] = "splitting";

TEST(ConsumerSplitTest, ReadsEveryRecordOnceInPerKeyOrderAcrossSplitsMadeWhileWriting) {
  testing::TempDir dir;
  auto opened = Engine::Open(testing::TestEngineOptions(dir.path()));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Engine& engine = **opened;
  CreateTableRequest request;
  request.name = kTable;
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewImage};
  request.shard_count = 2;
  ASSERT_TRUE(engine.CreateTable(request).ok());
  auto source = MakeEngineChangeSource(engine, TableName(kTable));
  auto leases = MakeEngineLeaseStore(engine);
  ASSERT_TRUE(leases.ok()) << leases.status().ToString();

  std::mutex mu;
  std::map<std::string, std::vector<int64_t>> versions;         // per key, in delivery order
  std::set<std::pair<uint32_t, uint64_t>> delivered;            // (shard, sequence)
  std::map<uint32_t, std::pair<size_t, size_t>> delivery_span;  // shard -> first, last
  size_t deliveries = 0;
  size_t duplicates = 0;
  ConsumerOptions options;
  options.table = kTable;
  options.application = "split-reader";
  options.worker_id = "w1";
  options.max_batch_records = 10;
  options.retry_backoff_initial = std::chrono::milliseconds(1);
  options.retry_backoff_max = std::chrono::milliseconds(10);
  auto consumer = StreamConsumer::Create(options, *source, **leases, [&](const ShardBatch& batch) {
    std::lock_guard lock(mu);
    for (const ChangeRecord& record : batch.records) {
      if (!delivered.emplace(batch.shard.value(), record.sequence()).second) ++duplicates;
      const std::string pk = record.keys().attributes(0).value().s();
      for (const auto& attribute : record.new_image().attributes()) {
        if (attribute.name() == "v") {
          versions[pk].push_back(std::stoll(attribute.value().n()));
        }
      }
      auto [span, first] = delivery_span.try_emplace(batch.shard.value(), deliveries, 0);
      span->second.second = deliveries++;
    }
    return Status::Ok();
  });
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  ASSERT_TRUE((*consumer)->Start().ok());

  // Each writer owns its keys and writes versions 1..kVersions of each in turn.
  constexpr int kWriters = 3;
  constexpr int kKeysPerWriter = 30;
  constexpr int kVersions = 12;
  constexpr int kTotal = kWriters * kKeysPerWriter * kVersions;
  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int v = 1; v <= kVersions; ++v) {
        for (int k = 0; k < kKeysPerWriter; ++k) {
          Item item{{"pk", AttributeValue::S(std::to_string(w) + "-" + std::to_string(k))},
                    {"v", AttributeValue::N(Number::FromInt64(v))}};
          auto put = engine.PutItem(kTable, item);
          ASSERT_TRUE(put.ok()) << put.status().ToString();
          written.fetch_add(1);
        }
      }
    });
  }
  // Splits while the writers run, the newest open shard each time (children split again).
  constexpr int kSplits = 6;
  std::map<uint32_t, uint32_t> parent_of;
  for (int s = 0; s < kSplits; ++s) {
    ASSERT_TRUE(
        testing::WaitFor([&] { return written.load() >= kTotal * (s + 1) / (kSplits + 2); }));
    auto table = engine.DescribeTable(kTable);
    ASSERT_TRUE(table.ok());
    uint32_t newest_open = 0;
    for (const auto& shard : table->shards) {
      if (!shard.closed) newest_open = shard.index.value();
    }
    auto split = engine.SplitShard(kTable, ShardIndex(newest_open));
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    parent_of[split->lower_child.index.value()] = newest_open;
    parent_of[split->upper_child.index.value()] = newest_open;
  }
  for (auto& writer : writers) writer.join();

  ASSERT_TRUE(testing::WaitFor([&] {
    std::lock_guard lock(mu);
    return delivered.size() + duplicates >= static_cast<size_t>(kTotal);
  })) << "not every record was delivered";
  (*consumer)->Stop();

  std::lock_guard lock(mu);
  EXPECT_EQ(duplicates, 0u);
  EXPECT_EQ(delivered.size(), static_cast<size_t>(kTotal));
  std::vector<int64_t> in_order;
  for (int v = 1; v <= kVersions; ++v) in_order.push_back(v);
  ASSERT_EQ(versions.size(), static_cast<size_t>(kWriters * kKeysPerWriter));
  for (const auto& [pk, seen] : versions) {
    EXPECT_EQ(seen, in_order) << "key " << pk << " out of order or not once";
  }
  for (const auto& [child, parent] : parent_of) {
    auto child_span = delivery_span.find(child);
    auto parent_span = delivery_span.find(parent);
    if (child_span == delivery_span.end() || parent_span == delivery_span.end()) continue;
    EXPECT_LT(parent_span->second.second, child_span->second.first)
        << "shard " << child << " was delivered before its parent " << parent << " ended";
  }
}

}  // namespace
}  // namespace tidewater::streams
