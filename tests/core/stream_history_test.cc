// Stream history: a disabled stream (turned off, replaced, or its table deleted) stays
// readable for the stream retention, by the injected clock, across reopen; then it is
// gone and its storage reclaimed. A table created again under a deleted one's name
// continues each shard's sequence numbers.
#include <gtest/gtest.h>

#include <map>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"

namespace tidewater {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1'000'000;
constexpr uint32_t kShards = 2;

class StreamHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    auto engine = Engine::Open(testing::TestEngineOptions(dir_.path(), &clock_));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  void Reopen() {
    engine_.reset();
    Open();
  }

  TableDescription Create(uint32_t shards = kShards) {
    CreateTableRequest request;
    request.name = "orders";
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.stream = {true, StreamViewType::kNewAndOldImages};
    request.shard_count = shards;
    auto created = engine_->CreateTable(request);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : TableDescription{};
  }

  // Puts `count` new items, keys prefix0, prefix1, ...
  void Write(const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE(
          engine_->PutItem("orders", {{"pk", AttributeValue::S(prefix + std::to_string(i))}}).ok());
    }
  }

  std::vector<StreamDescription> Streams() {
    auto streams = engine_->ListStreams("orders");
    EXPECT_TRUE(streams.ok()) << streams.status().ToString();
    return streams.ok() ? *streams : std::vector<StreamDescription>{};
  }

  // The records of `stream`'s shard, read through its table id.
  std::vector<ChangeRecord> Read(const StreamDescription& stream, ShardIndex shard) {
    ShardReadRequest read;
    read.table = TableName(stream.table);
    read.table_id = stream.table_id;
    read.shard = shard;
    read.from_sequence = SequenceNumber(1);
    auto result = engine_->ReadShard(read);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::vector<ChangeRecord> records;
    if (!result.ok()) return records;
    for (ChangeRecord& record : result->records) {
      if (record.stream_label() == stream.label) records.push_back(std::move(record));
    }
    return records;
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(StreamHistoryTest, DeletedTablesStreamStaysReadableForTheRetentionAcrossReopen) {
  const TableDescription old_table = Create();
  Write("a", 20);
  ASSERT_TRUE(engine_->DeleteTable("orders").ok());

  std::vector<StreamDescription> streams = Streams();
  ASSERT_EQ(streams.size(), 1u);
  const StreamDescription old_stream = streams[0];
  EXPECT_FALSE(old_stream.enabled);
  EXPECT_EQ(old_stream.table_id, old_table.table_id);
  EXPECT_EQ(old_stream.label, old_table.stream_label);
  std::map<ShardIndex, SequenceNumber> old_last;
  size_t old_records = 0;
  for (const ShardDescription& shard : old_stream.shards) {
    EXPECT_TRUE(shard.closed);
    old_last[shard.index] = shard.last_sequence;
    const std::vector<ChangeRecord> records = Read(old_stream, shard.index);
    old_records += records.size();
    if (!records.empty()) {
      EXPECT_EQ(SequenceNumber(records.back().sequence()), shard.last_sequence);
    }
  }
  EXPECT_EQ(old_records, 20u);
  auto all = engine_->ListStreams(std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);

  // Created again: each shard continues after the deleted table's last sequence.
  clock_.AdvanceMicros(1'000'000);
  const TableDescription new_table = Create();
  EXPECT_NE(new_table.table_id, old_table.table_id);
  EXPECT_NE(new_table.stream_label, old_table.stream_label);
  for (const ShardDescription& shard : new_table.shards) {
    EXPECT_EQ(shard.last_sequence, old_last[shard.index]);
  }
  Write("b", 20);

  Reopen();  // clean close and reopen: the catalog, history and counters survive
  streams = Streams();
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0].label, old_table.stream_label);
  EXPECT_FALSE(streams[0].enabled);
  EXPECT_TRUE(streams[1].enabled);
  size_t after_reopen = 0;
  for (const ShardDescription& shard : streams[0].shards) {
    after_reopen += Read(streams[0], shard.index).size();
  }
  EXPECT_EQ(after_reopen, 20u);
  size_t new_records = 0;
  for (const ShardDescription& shard : streams[1].shards) {
    for (const ChangeRecord& record : Read(streams[1], shard.index)) {
      EXPECT_GT(SequenceNumber(record.sequence()), old_last[shard.index]);
      ++new_records;
    }
  }
  EXPECT_EQ(new_records, 20u);

  // A day after the deletion the old stream is gone, and its log with it.
  clock_.AdvanceMicros(kDay);
  EXPECT_EQ(Streams().size(), 1u);
  EXPECT_EQ(engine_->DescribeStream("orders", old_table.stream_label).status().code(),
            ErrorCode::kResourceNotFound);
  ASSERT_TRUE(engine_->TrimStreams().ok());
  ShardReadRequest read;
  read.table = TableName("orders");
  read.table_id = old_table.table_id;
  EXPECT_EQ(engine_->ReadShard(read).status().code(), ErrorCode::kResourceNotFound);
  Reopen();
  EXPECT_EQ(Streams().size(), 1u);
  EXPECT_EQ(engine_->ReadShard(read).status().code(), ErrorCode::kResourceNotFound);
}

TEST_F(StreamHistoryTest, DisabledStreamEndsOnEveryShardAndExpires) {
  // Many shards, few writes: some shards of the disabled stream hold nothing.
  const TableDescription table = Create(8);
  Write("a", 3);
  clock_.AdvanceMicros(1'000'000);
  ASSERT_TRUE(engine_->UpdateStream("orders", {false, StreamViewType::kKeysOnly}).ok());
  clock_.AdvanceMicros(1'000'000);
  ASSERT_TRUE(engine_->UpdateStream("orders", {true, StreamViewType::kKeysOnly}).ok());
  Write("b", 3);

  std::vector<StreamDescription> streams = Streams();
  ASSERT_EQ(streams.size(), 2u);
  const StreamDescription& old_stream = streams[0];
  EXPECT_EQ(old_stream.label, table.stream_label);
  EXPECT_FALSE(old_stream.enabled);
  EXPECT_TRUE(streams[1].enabled);
  EXPECT_EQ(streams[1].view_type, StreamViewType::kKeysOnly);
  size_t old_records = 0;
  size_t empty_shards = 0;
  for (const ShardDescription& shard : old_stream.shards) {
    EXPECT_TRUE(shard.closed);
    const std::vector<ChangeRecord> records = Read(old_stream, shard.index);
    old_records += records.size();
    if (records.empty()) {
      ++empty_shards;
      EXPECT_EQ(shard.first_sequence, SequenceNumber(0));
    } else {
      EXPECT_EQ(SequenceNumber(records.back().sequence()), shard.last_sequence);
    }
    // The new stream starts where the old one ended.
    const ShardDescription& next = streams[1].shards[shard.index.value()];
    EXPECT_GE(
        next.first_sequence == SequenceNumber(0) ? next.last_sequence.Next() : next.first_sequence,
        shard.last_sequence.Next());
  }
  EXPECT_EQ(old_records, 3u);
  EXPECT_GT(empty_shards, 0u);

  Reopen();
  ASSERT_EQ(Streams().size(), 2u);
  clock_.AdvanceMicros(kDay - 2'000'000);  // just before the day since it was disabled
  EXPECT_EQ(Streams().size(), 2u);
  clock_.AdvanceMicros(1'000'000);
  ASSERT_TRUE(engine_->TrimStreams().ok());
  streams = Streams();
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_TRUE(streams[0].enabled);
  Reopen();
  EXPECT_EQ(Streams().size(), 1u);
}

}  // namespace
}  // namespace tidewater
