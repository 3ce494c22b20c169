// The file sink: JSON Lines and CSV output, rotation by size and by (injected) time,
// temporary names until complete, exactly-once positions across a crash.
#include "tidewater/connectors/file_sink.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "support/sink_checks.h"
#include "support/sink_workload.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/core/record_codec.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"

namespace tidewater::connectors {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> FileNames(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(CsvCellsTest, FlatteningRule) {
  auto n = [](const std::string& text) { return AttributeValue::N(*Number::Parse(text)); };
  struct Case {
    std::string name;
    AttributeValue value;
    std::map<std::string, std::string> cells;
  };
  const std::vector<Case> cases = {
      {"s", AttributeValue::S("a,b"), {{"s", "a,b"}}},
      {"n", n("12345678901234567890.123456789"), {{"n", "12345678901234567890.123456789"}}},
      {"b", AttributeValue::B(std::string("\x00\xff", 2)), {{"b", "AP8="}}},
      {"t", AttributeValue::Bool(true), {{"t", "true"}}},
      {"z", AttributeValue::Null(), {{"z", ""}}},
      {"m",
       AttributeValue::M(
           {{"a", AttributeValue::S("x")}, {"deep", AttributeValue::M({{"b", n("1")}})}}),
       {{"m.a", "x"}, {"m.deep.b", "1"}}},
      {"e", AttributeValue::M({}), {{"e", "{}"}}},
      {"l", AttributeValue::L({AttributeValue::S("x"), n("1.50")}), {{"l", R"(["x",1.5])"}}},
      {"ss", AttributeValue::SS({"a", "b"}), {{"ss", R"(["a","b"])"}}},
      {"ns",
       AttributeValue::NS({*Number::Parse("1"), *Number::Parse("-2.5")}),
       {{"ns", "[1,-2.5]"}}},
      {"bs", AttributeValue::BS({std::string("\x01", 1)}), {{"bs", R"(["AQ=="])"}}},
      {"lm",
       AttributeValue::L({AttributeValue::M({{"k", AttributeValue::S("v")}})}),
       {{"lm", R"([{"k":"v"}])"}}},
  };
  for (const Case& c : cases) {
    v1::MapValue image;
    ToProto(Item{{c.name, c.value}}, &image);
    EXPECT_EQ(CsvCells(image), c.cells) << c.name;
  }
}

class FileSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = Engine::Open(testing::TestEngineOptions(dir_.Sub("engine"), &clock_));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    ASSERT_TRUE(testing::CreateSinkTable(*engine_, "orders").ok());
    source_ = streams::MakeEngineChangeSource(*engine_, TableName("orders"));
  }

  std::unique_ptr<FileSink> MakeSink(FileFormat format, size_t rotate_bytes) {
    FileSinkOptions options;
    options.dir = dir_.Sub("out");
    options.format = format;
    options.rotate_bytes = rotate_bytes;
    options.rotate_interval = std::chrono::seconds(60);
    options.clock = &sink_clock_;
    auto sink = FileSink::Create(options);
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    return sink.ok() ? std::move(*sink) : nullptr;
  }

  void ExpectEveryRecordOnce() {
    testing::ExpectFilesHoldEveryRecordOnce(*engine_, "orders", dir_.Sub("out/orders"));
  }

  testing::TempDir dir_;
  ManualClock clock_;
  ManualClock sink_clock_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<streams::ChangeSource> source_;
};

TEST_F(FileSinkTest, JsonLinesRotateBySizeWithEveryRecordOnce) {
  ASSERT_TRUE(testing::RunWorkload(*engine_, "orders", 300, 30, 1).ok());
  auto sink = MakeSink(FileFormat::kJsonLines, 8 * 1024);
  ASSERT_TRUE(testing::DrainIntoSink(*source_, *sink, "orders", 20).ok());
  ASSERT_TRUE(sink->Flush().ok());
  const std::vector<std::string> names = FileNames(dir_.Sub("out/orders"));
  EXPECT_GT(names.size(), 8u);  // several files per shard
  for (const std::string& name : names) {
    EXPECT_FALSE(name.ends_with(".tmp")) << name;
    if (name == "_positions.json") continue;
    EXPECT_LT(fs::file_size(dir_.Sub("out/orders/" + name)), 8u * 1024 + 1024) << name;
  }
  ExpectEveryRecordOnce();
  // One line's shape.
  std::string first_file;
  for (const std::string& name : names) {
    if (name.ends_with(".jsonl")) first_file = name;
  }
  std::string line;
  std::istringstream lines(ReadFile(dir_.Sub("out/orders/" + first_file)));
  std::getline(lines, line);
  rapidjson::Document record;
  record.Parse(line.c_str());
  ASSERT_TRUE(record.IsObject());
  EXPECT_STREQ(record["table"].GetString(), "orders");
  EXPECT_TRUE(record["keys"]["n"].IsNumber());
  EXPECT_TRUE(std::string(record["time"].GetString()).ends_with("Z"));
  // The manifest names each shard's next sequence.
  rapidjson::Document manifest;
  manifest.Parse(ReadFile(dir_.Sub("out/orders/_positions.json")).c_str());
  const TableDescription table = *engine_->DescribeTable("orders");
  for (const ShardDescription& shard : table.shards) {
    if (shard.last_sequence == SequenceNumber(0)) continue;
    EXPECT_EQ(SequenceNumber(manifest[std::to_string(shard.index.value()).c_str()].GetUint64()),
              shard.last_sequence.Next());
  }
}

TEST_F(FileSinkTest, TemporaryNameUntilCompleteThenRotationByTime) {
  ASSERT_TRUE(engine_->PutItem("orders", testing::WorkloadItem(1, 1)).ok());
  auto sink = MakeSink(FileFormat::kJsonLines, 1 << 20);
  ASSERT_TRUE(testing::DrainIntoSink(*source_, *sink, "orders", 10).ok());
  std::vector<std::string> names = FileNames(dir_.Sub("out/orders"));
  ASSERT_EQ(names.size(), 1u);
  EXPECT_TRUE(names[0].starts_with(".shard-")) << names[0];
  EXPECT_TRUE(names[0].ends_with(".jsonl.tmp")) << names[0];

  sink_clock_.AdvanceSeconds(59);
  ASSERT_TRUE(sink->Tick().ok());
  EXPECT_EQ(FileNames(dir_.Sub("out/orders")).size(), 1u);
  sink_clock_.AdvanceSeconds(1);
  ASSERT_TRUE(sink->Tick().ok());
  names = FileNames(dir_.Sub("out/orders"));
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "_positions.json");
  EXPECT_TRUE(names[1].starts_with("shard-")) << names[1];
  EXPECT_TRUE(names[1].ends_with("-00000000000000000001-00000000000000000001.jsonl"));
}

TEST_F(FileSinkTest, CrashRestartNeitherDuplicatesNorLoses) {
  ASSERT_TRUE(testing::RunWorkload(*engine_, "orders", 200, 30, 2).ok());
  {
    auto sink = MakeSink(FileFormat::kJsonLines, 4 * 1024);
    ASSERT_TRUE(testing::DrainIntoSink(*source_, *sink, "orders", 15).ok());
    // Gone without Flush, as after kill -9: staged records are only in temporary files.
  }
  bool has_temp = false;
  for (const std::string& name : FileNames(dir_.Sub("out/orders"))) {
    has_temp |= name.ends_with(".tmp");
  }
  EXPECT_TRUE(has_temp);
  // The committed position is behind what the first sink accepted.
  ASSERT_TRUE(testing::RunWorkload(*engine_, "orders", 100, 30, 3).ok());
  auto sink = MakeSink(FileFormat::kJsonLines, 4 * 1024);
  ASSERT_TRUE(testing::DrainIntoSink(*source_, *sink, "orders", 15).ok());
  ASSERT_TRUE(sink->Flush().ok());
  ExpectEveryRecordOnce();
  // Files moved away (uploaded elsewhere): the manifest still holds the position.
  for (const std::string& name : FileNames(dir_.Sub("out/orders"))) {
    if (name.ends_with(".jsonl")) fs::remove(dir_.Sub("out/orders/" + name));
  }
  auto again = MakeSink(FileFormat::kJsonLines, 4 * 1024);
  auto written = testing::DrainIntoSink(*source_, *again, "orders", 15);
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(*written, 0u);
}

// A consumer reads a split shard to its end and marks it finished, so it never reads it
// again: the sink must have committed the shard's staged file by then (Settle), not at
// rotation time. Here nothing rotates by size or time, and the first run ends as a kill
// would (no Flush): the second run must still find every parent record in the files.
TEST_F(FileSinkTest, ASplitShardsStagedTailIsCommittedBeforeItIsFinished) {
  ASSERT_TRUE(testing::RunWorkload(*engine_, "orders", 200, 30, 4).ok());
  ASSERT_TRUE(engine_->SplitShard("orders", ShardIndex(0)).ok());
  ASSERT_TRUE(testing::RunWorkload(*engine_, "orders", 200, 30, 5).ok());
  const TableDescription table = *engine_->DescribeTable("orders");
  auto leases = streams::MakeEngineLeaseStore(*engine_);
  ASSERT_TRUE(leases.ok());
  // Every shard's records processed (a finished shard was processed to its end).
  const auto caught_up = [&](streams::StreamConsumer& consumer) {
    const std::vector<streams::ConsumerShardStatus> progress = consumer.Progress();
    for (const ShardDescription& shard : table.shards) {
      const auto status = std::find_if(progress.begin(), progress.end(),
                                       [&](const auto& s) { return s.shard == shard.index; });
      if (status == progress.end() ||
          (!status->finished && status->next_sequence <= shard.last_sequence)) {
        return false;
      }
    }
    return true;
  };
  for (int run = 0; run < 2; ++run) {
    auto sink = MakeSink(FileFormat::kJsonLines, 1 << 20);
    streams::ConsumerOptions options;
    options.table = "orders";
    options.application = "files";
    options.worker_id = "w" + std::to_string(run);
    options.checkpoints = sink.get();
    options.retry_backoff_initial = std::chrono::milliseconds(1);
    options.retry_backoff_max = std::chrono::milliseconds(10);
    auto consumer = streams::StreamConsumer::Create(
        options, *source_, **leases,
        [&](const streams::ShardBatch& batch) { return sink->Write(batch); });
    ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
    ASSERT_TRUE((*consumer)->Start().ok());
    ASSERT_TRUE(testing::WaitFor([&] { return caught_up(**consumer); }));
    (*consumer)->Stop();
    // Run 0 ends without Flush: staged records are only in temporary files.
    if (run == 1) {
      ASSERT_TRUE(sink->Flush().ok());
    }
  }
  ExpectEveryRecordOnce();
  // The manifest still names the split shard, which the second run never touched.
  std::map<ShardIndex, SequenceNumber> last;
  for (const ShardDescription& shard : table.shards) last[shard.index] = shard.last_sequence;
  EXPECT_TRUE(testing::FilePositionsAt(dir_.Sub("out/orders"), last))
      << ReadFile(dir_.Sub("out/orders/_positions.json"));
}

TEST_F(FileSinkTest, CsvHeaderIsTheUnionOfTheFilesColumns) {
  ASSERT_TRUE(testing::CreateSinkTable(*engine_, "small", 1).ok());
  auto n = [](int v) { return AttributeValue::N(Number::FromInt64(v)); };
  ASSERT_TRUE(engine_
                  ->PutItem("small", {{"id", AttributeValue::S("a")},
                                      {"n", n(1)},
                                      {"note", AttributeValue::S("say \"hi\", ok")}})
                  .ok());
  ASSERT_TRUE(engine_
                  ->PutItem("small", {{"id", AttributeValue::S("b")},
                                      {"n", n(2)},
                                      {"geo", AttributeValue::M({{"lat", n(38)}})},
                                      {"tags", AttributeValue::SS({"x"})}})
                  .ok());
  ASSERT_TRUE(engine_->DeleteItem("small", {{"id", AttributeValue::S("a")}, {"n", n(1)}}).ok());
  auto source = streams::MakeEngineChangeSource(*engine_, TableName("small"));
  auto sink = MakeSink(FileFormat::kCsv, 1 << 20);
  ASSERT_TRUE(testing::DrainIntoSink(*source, *sink, "small", 10).ok());
  ASSERT_TRUE(sink->Flush().ok());
  const std::vector<std::string> names = FileNames(dir_.Sub("out/small"));
  ASSERT_EQ(names.size(), 2u);
  ASSERT_TRUE(names[1].ends_with(".csv"));
  const std::string text = ReadFile(dir_.Sub("out/small/" + names[1]));
  const std::string t = "2023-11-14T22:13:20.000000Z";
  EXPECT_EQ(text,
            "tw_shard,tw_sequence,tw_event,tw_time,geo.lat,id,n,note,tags\r\n"
            "0,1,INSERT," +
                t +
                ",,a,1,\"say \"\"hi\"\", ok\",\r\n"
                "0,2,INSERT," +
                t +
                ",38,b,2,,\"[\"\"x\"\"]\"\r\n"
                "0,3,REMOVE," +
                t + ",,a,1,\"say \"\"hi\"\", ok\",\r\n");
}

}  // namespace
}  // namespace tidewater::connectors
