// The sink quarantine (poison_records: quarantine_key) over a sink that rejects every
// record of one key: the other keys' records are written once, in order; the bad key's
// records are all parked in the quarantine table (an engine table), in sequence order; the
// batches are accepted (the position moves on); outages are passed on, never parked.
#include "tidewater/connectors/quarantining_sink.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <rapidjson/document.h>

#include <map>
#include <mutex>
#include <set>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/record_codec.h"

namespace tidewater::connectors {
namespace {

constexpr char kBadKey[] = "bad";
const std::vector<std::string> kKeys = {"a", kBadKey, "b", "c", kBadKey, "a", "d"};

std::string KeyOf(uint64_t sequence) { return kKeys[(sequence - 1) % kKeys.size()]; }

streams::ShardBatch MakeBatch(uint64_t first, uint64_t last) {
  streams::ShardBatch batch;
  batch.table = TableName("orders");
  batch.shard = ShardIndex(1);
  for (uint64_t s = first; s <= last; ++s) {
    ChangeRecord record;
    record.set_table("orders");
    record.set_shard(1);
    record.set_sequence(s);
    record.set_event(v1::INSERT);
    ToProto(Item{{"pk", AttributeValue::S(KeyOf(s))}}, record.mutable_keys());
    ToProto(Item{{"pk", AttributeValue::S(KeyOf(s))},
                 {"n", AttributeValue::N(Number::FromInt64(static_cast<int64_t>(s)))}},
            record.mutable_new_image());
    record.set_approximate_creation_time_micros(1'700'000'000'000'000);
    record.set_view_type(v1::NEW_AND_OLD_IMAGES);
    batch.records.push_back(std::move(record));
  }
  return batch;
}

// Rejects (Validation) any batch holding a record of a rejected key; or fails every write
// with an outage error while `outage` is set. Keeps what it accepted, per key.
class RejectingSink final : public Sink {
 public:
  explicit RejectingSink(std::map<std::string, std::vector<uint64_t>>* written)
      : written_(written) {}
  Result<std::optional<SequenceNumber>> Load(const TableName&, ShardIndex) override {
    return std::optional<SequenceNumber>();
  }
  Status Write(const streams::ShardBatch& batch) override {
    if (outage) return Status::IOError("database down");
    for (size_t i = 1; i < batch.records.size(); ++i) {
      EXPECT_LT(batch.records[i - 1].sequence(), batch.records[i].sequence());
    }
    for (const ChangeRecord& record : batch.records) {
      if (rejected.contains(record.keys().attributes(0).value().s()) ||
          rejected_sequences.contains(record.sequence())) {
        return Status::Validation("rejected " + record.keys().attributes(0).value().s());
      }
    }
    for (const ChangeRecord& record : batch.records) {
      (*written_)[record.keys().attributes(0).value().s()].push_back(record.sequence());
    }
    return Status::Ok();
  }

  std::set<std::string> rejected{kBadKey};
  std::set<uint64_t> rejected_sequences;
  bool outage = false;

 private:
  std::map<std::string, std::vector<uint64_t>>* written_;
};

class QuarantiningSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = Engine::Open(testing::TestEngineOptions(dir_.path()));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    auto store = streams::MakeEngineQuarantineStore(*engine_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto inner = std::make_unique<RejectingSink>(&written_);
    inner_ = inner.get();
    QuarantiningSinkOptions options;
    options.store = store_.get();
    options.consumer = "app.pg";
    options.sink_name = "pg";
    options.retry_attempts = 1;
    options.retry_backoff_initial = std::chrono::milliseconds(1);
    options.retry_backoff_max = std::chrono::milliseconds(2);
    options.registry = &registry_;
    auto sink = MakeQuarantiningSink(std::move(inner), options);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    sink_ = std::move(*sink);
  }

  std::vector<streams::QuarantinedRecord> Parked() {
    auto parked = store_->List("app.pg", TableName("orders"));
    EXPECT_TRUE(parked.ok()) << parked.status().ToString();
    return parked.ok() ? *parked : std::vector<streams::QuarantinedRecord>{};
  }

  // tidewater_sink_records_quarantined_total{sink="pg",table="orders",reason=`reason`}.
  double Quarantined(const std::string& reason) {
    for (const prometheus::MetricFamily& family : registry_.Collect()) {
      if (family.name != "tidewater_sink_records_quarantined_total") continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        for (const prometheus::ClientMetric::Label& label : metric.label) {
          if (label.name == "reason" && label.value == reason) return metric.counter.value;
        }
      }
    }
    return 0;
  }

  prometheus::Registry registry_;
  testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<streams::QuarantineStore> store_;
  std::map<std::string, std::vector<uint64_t>> written_;
  RejectingSink* inner_ = nullptr;
  std::unique_ptr<Sink> sink_;
};

TEST_F(QuarantiningSinkTest, TheRejectedKeyIsParkedInOrderWhileOtherKeysAreWritten) {
  ASSERT_TRUE(sink_->Write(MakeBatch(1, 15)).ok());
  ASSERT_TRUE(sink_->Write(MakeBatch(16, 30)).ok());

  std::map<std::string, std::vector<uint64_t>> expected;
  for (uint64_t s = 1; s <= 30; ++s) expected[KeyOf(s)].push_back(s);
  const std::vector<uint64_t> bad = expected[kBadKey];
  expected.erase(kBadKey);
  EXPECT_EQ(written_, expected);  // once each, in order

  std::vector<uint64_t> parked;
  for (const streams::QuarantinedRecord& record : Parked()) {
    parked.push_back(record.sequence.value());
    EXPECT_EQ(record.key, R"({"pk":{"S":"bad"}})");
    rapidjson::Document json;
    json.Parse(record.record_json.c_str());
    ASSERT_FALSE(json.HasParseError()) << record.record_json;
    EXPECT_EQ(std::string(json["dynamodb"]["Keys"]["pk"]["S"].GetString()), kBadKey);
  }
  EXPECT_EQ(parked, bad);
  ASSERT_FALSE(Parked().empty());
  EXPECT_EQ(Parked().front().reason, streams::kQuarantineReasonFailed);
  for (size_t i = 1; i < Parked().size(); ++i) {
    EXPECT_EQ(Parked()[i].reason, streams::kQuarantineReasonKeyQuarantined) << i;
  }
  EXPECT_EQ(Quarantined(streams::kQuarantineReasonFailed), 1);
  EXPECT_EQ(Quarantined(streams::kQuarantineReasonKeyQuarantined),
            static_cast<double>(bad.size() - 1));
}

TEST_F(QuarantiningSinkTest, LaterRecordsOfTheKeyWaitBehindTheRejectedOne) {
  // Only the key's first record is rejected: the later ones would be accepted, but writing
  // them would put them before it.
  inner_->rejected.clear();
  inner_->rejected_sequences = {2};
  ASSERT_TRUE(sink_->Write(MakeBatch(1, 15)).ok());
  EXPECT_EQ(written_.count(kBadKey), 0u);
  std::vector<uint64_t> parked;
  for (const streams::QuarantinedRecord& record : Parked()) {
    parked.push_back(record.sequence.value());
  }
  EXPECT_EQ(parked, (std::vector<uint64_t>{2, 5, 9, 12}));
}

TEST_F(QuarantiningSinkTest, OutagesArePassedOnAndParkNothing) {
  inner_->outage = true;
  EXPECT_EQ(sink_->Write(MakeBatch(1, 10)).code(), ErrorCode::kIOError);
  EXPECT_TRUE(Parked().empty());
  EXPECT_TRUE(written_.empty());
}

TEST_F(QuarantiningSinkTest, DeletingTheParkedRecordsReleasesTheKey) {
  ASSERT_TRUE(sink_->Write(MakeBatch(1, 7)).ok());
  ASSERT_EQ(Parked().size(), 2u);
  for (const streams::QuarantinedRecord& record : Parked()) {
    ASSERT_TRUE(
        engine_->DeleteItem(streams::kDefaultQuarantineTable, streams::QuarantineItemKey(record))
            .ok());
  }
  inner_->rejected.clear();
  ASSERT_TRUE(sink_->Write(MakeBatch(8, 14)).ok());
  EXPECT_EQ(written_[kBadKey], (std::vector<uint64_t>{9, 12}));
  EXPECT_TRUE(Parked().empty());
}

}  // namespace
}  // namespace tidewater::connectors
