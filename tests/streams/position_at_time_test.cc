// FindShardPositionAtTime (the lookup behind AT_TIMESTAMP) and the engine ChangeSource's
// PositionAtTime, against a real engine whose record times a ManualClock sets.
#include <gtest/gtest.h>

#include <vector>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"
#include "tidewater/streams/change_source.h"

namespace tidewater::streams {
namespace {

constexpr char kTable[] = "timed";
constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kStart = 1'700'000'000'000'000;  // the clock's time at the first write

class PositionAtTimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options = testing::TestEngineOptions(dir_.path(), &clock_);
    options.stream_retention_micros = 3600 * kSecond;
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    CreateTableRequest request;
    request.name = kTable;
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.stream = {true, StreamViewType::kKeysOnly};
    request.shard_count = 1;
    ASSERT_TRUE(engine_->CreateTable(request).ok());
    source_ = MakeEngineChangeSource(*engine_, TableName(kTable));
  }

  // Writes one record at `offset_seconds` after kStart.
  void WriteAt(int64_t offset_seconds) {
    clock_.SetMicros(kStart + offset_seconds * kSecond);
    Item item{{"pk", AttributeValue::S("item-" + std::to_string(written_++))}};
    ASSERT_TRUE(engine_->PutItem(kTable, item).ok());
  }

  TimePosition Find(int64_t offset_seconds,
                    std::optional<SequenceNumber> last_sequence = std::nullopt) {
    ShardReadRequest shard;
    shard.table = TableName(kTable);
    shard.shard = ShardIndex(0);
    const int64_t time = kStart + offset_seconds * kSecond;
    auto found = FindShardPositionAtTime(*engine_, shard, time, last_sequence);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    if (!found.ok()) return {};
    if (!last_sequence) {
      // The engine source answers the same.
      auto from_source = source_->PositionAtTime(ShardIndex(0), time);
      EXPECT_TRUE(from_source.ok()) << from_source.status().ToString();
      if (from_source.ok()) {
        EXPECT_EQ(*from_source, *found);
      }
    }
    return *found;
  }

  static TimePosition At(uint64_t sequence) { return {.sequence = SequenceNumber(sequence)}; }
  static TimePosition Horizon(uint64_t sequence) {
    return {.sequence = SequenceNumber(sequence), .at_trim_horizon = true};
  }

  ::tidewater::testing::TempDir dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ChangeSource> source_;
  int written_ = 0;
};

TEST_F(PositionAtTimeTest, EmptyShardStartsAtItsFirstRecordToCome) {
  EXPECT_EQ(Find(-10), At(1));
  EXPECT_EQ(Find(10), At(1));
}

TEST_F(PositionAtTimeTest, BeforeBetweenEqualAndAfterTheRecords) {
  for (int64_t t : {10, 20, 30, 40, 50}) WriteAt(t);  // sequences 1..5
  EXPECT_EQ(Find(5), Horizon(1));                     // all after the time
  EXPECT_EQ(Find(10), Horizon(1));                    // the first record's own time
  EXPECT_EQ(Find(11), At(2));
  EXPECT_EQ(Find(25), At(3));
  EXPECT_EQ(Find(30), At(3));
  EXPECT_EQ(Find(50), At(5));
  EXPECT_EQ(Find(51), At(6));  // all before the time: where the next record goes
  EXPECT_EQ(Find(1000), At(6));
  // A closed shard's end bounds the search.
  EXPECT_EQ(Find(45, SequenceNumber(3)), At(4));
  EXPECT_EQ(Find(25, SequenceNumber(3)), At(3));
}

TEST_F(PositionAtTimeTest, EqualTimesStartAtTheFirstOfThem) {
  WriteAt(10);                              // 1
  for (int i = 0; i < 5; ++i) WriteAt(20);  // 2..6
  WriteAt(30);                              // 7
  for (int i = 0; i < 3; ++i) WriteAt(40);  // 8..10
  EXPECT_EQ(Find(20), At(2));
  EXPECT_EQ(Find(15), At(2));
  EXPECT_EQ(Find(21), At(7));
  EXPECT_EQ(Find(40), At(8));
  EXPECT_EQ(Find(41), At(11));
}

TEST_F(PositionAtTimeTest, EveryTimeAmongManyRecords) {
  // 200 records at uneven, non-decreasing times; every lookup equals a linear scan.
  std::vector<int64_t> times;
  for (int i = 0; i < 200; ++i) times.push_back(10 + i * 3 - (i % 4 == 1 ? 3 : 0));
  for (int64_t t : times) WriteAt(t);
  for (int64_t wanted = 0; wanted <= times.back() + 2; ++wanted) {
    uint64_t expected = times.size() + 1;
    for (size_t i = 0; i < times.size(); ++i) {
      if (times[i] >= wanted) {
        expected = i + 1;
        break;
      }
    }
    EXPECT_EQ(Find(wanted), (TimePosition{.sequence = SequenceNumber(expected),
                                          .at_trim_horizon = expected == 1}))
        << "time " << wanted;
  }
}

TEST_F(PositionAtTimeTest, TrimmedPrefix) {
  for (int64_t t : {10, 20, 30, 40, 50}) WriteAt(t);  // sequences 1..5
  // Retention (an hour) trims the records before second 35 once the clock is past 3635.
  clock_.SetMicros(kStart + 3635 * kSecond);
  ASSERT_EQ(*engine_->TrimStreams(), 3u);
  EXPECT_EQ(Find(5), Horizon(4));   // before the trimmed records
  EXPECT_EQ(Find(25), Horizon(4));  // among them
  EXPECT_EQ(Find(40), Horizon(4));
  EXPECT_EQ(Find(41), At(5));
  EXPECT_EQ(Find(51), At(6));
  // Every record trimmed: the next record to come.
  clock_.SetMicros(kStart + 3700 * kSecond);
  ASSERT_EQ(*engine_->TrimStreams(), 2u);
  EXPECT_EQ(Find(5), At(6));
  EXPECT_EQ(Find(60), At(6));
}

TEST_F(PositionAtTimeTest, UnknownShardOrTableIsAnError) {
  EXPECT_EQ(source_->PositionAtTime(ShardIndex(7), kStart).status().code(),
            ErrorCode::kResourceNotFound);
  auto missing = MakeEngineChangeSource(*engine_, TableName("missing"));
  EXPECT_EQ(missing->PositionAtTime(ShardIndex(0), kStart).status().code(),
            ErrorCode::kResourceNotFound);
}

}  // namespace
}  // namespace tidewater::streams
