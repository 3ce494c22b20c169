// Per-key poison quarantine of triggers (PoisonRecordHandling QUARANTINE_KEY): a function
// that always fails for one key while the other keys succeed. With quarantine, every other
// key's records are accepted once, in order; the bad key's records all land in the
// quarantine table (an engine table) in sequence order; the batch is done (checkpointed).
// Without it (the default), the shard blocks as Lambda's does.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <mutex>
#include <thread>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/core/record_codec.h"
#include "tidewater/streams/quarantine.h"
#include "tidewater/streams/trigger.h"

namespace tidewater::streams {
namespace {

constexpr int64_t kNow = 1'700'000'000'000'000;
constexpr char kBadKey[] = "bad";

ChangeRecord MakeRecord(uint64_t sequence, const std::string& pk, uint32_t shard = 2) {
  ChangeRecord record;
  record.set_table("orders");
  record.set_shard(shard);
  record.set_sequence(sequence);
  record.set_event(v1::INSERT);
  ToProto(Item{{"pk", AttributeValue::S(pk)}}, record.mutable_keys());
  ToProto(Item{{"pk", AttributeValue::S(pk)},
               {"n", AttributeValue::N(Number::FromInt64(static_cast<int64_t>(sequence)))}},
          record.mutable_new_image());
  record.set_approximate_creation_time_micros(kNow);
  record.set_size_bytes(10);
  record.set_view_type(v1::NEW_AND_OLD_IMAGES);
  record.set_provenance(v1::USER_WRITE);
  record.set_stream_label("2023-11-14T22:13:20.000");
  return record;
}

// Sequence s has key keys[(s - 1) % keys.size()].
const std::vector<std::string> kKeys = {"a", "b", kBadKey, "c", "a", kBadKey, "d", "b"};

std::string KeyOf(uint64_t sequence) { return kKeys[(sequence - 1) % kKeys.size()]; }

ShardBatch MakeBatch(uint64_t first, uint64_t last, std::stop_token stop = {}, uint32_t shard = 2) {
  ShardBatch batch;
  batch.table = TableName("orders");
  batch.shard = ShardIndex(shard);
  for (uint64_t s = first; s <= last; ++s) {
    batch.records.push_back(MakeRecord(s, KeyOf(s), shard));
  }
  batch.stop = stop;
  return batch;
}

// The function and everything the trigger tells: accepted records per key (in the order
// accepted), on-failure records and parked records reported to the listener.
class Harness : public TriggerListener, public FailureDestination {
 public:
  Status Send(std::string_view record_json) override {
    std::lock_guard lock(mutex_);
    destination.emplace_back(record_json);
    return Status::Ok();
  }
  void Quarantined(const QuarantinedRecord& record) override {
    std::lock_guard lock(mutex_);
    listened.push_back(record.sequence.value());
  }
  void Invoked(const TriggerInvocation&, std::chrono::nanoseconds, const Status&) override {
    std::lock_guard lock(mutex_);
    ++invocations;
  }

  // Fails every invocation that holds a record of a failing key.
  TriggerFunction Function() {
    return [this](const TriggerInvocation& invocation) -> Result<std::string> {
      rapidjson::Document event;
      event.Parse(invocation.event_json.data(), invocation.event_json.size());
      std::vector<std::pair<std::string, uint64_t>> records;
      for (const auto& record : event["Records"].GetArray()) {
        records.emplace_back(record["dynamodb"]["Keys"]["pk"]["S"].GetString(),
                             std::stoull(record["dynamodb"]["SequenceNumber"].GetString()));
      }
      std::lock_guard lock(mutex_);
      for (const auto& [key, sequence] : records) {
        if (failing_keys.contains(key) || failing_sequences.contains(sequence)) {
          return Status::Internal("cannot handle " + key);
        }
      }
      for (const auto& [key, sequence] : records) accepted[key].push_back(sequence);
      return std::string();
    };
  }

  std::mutex& mutex() { return mutex_; }

  std::set<std::string> failing_keys{kBadKey};
  std::set<uint64_t> failing_sequences;
  std::map<std::string, std::vector<uint64_t>> accepted;
  std::vector<std::string> destination;
  std::vector<uint64_t> listened;
  int invocations = 0;

 private:
  std::mutex mutex_;
};

struct Variant {
  int parallelization_factor;
  bool bisect;
  bool report_batch_item_failures;
};

class TriggerQuarantineTest : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    auto engine = Engine::Open(testing::TestEngineOptions(dir_.path()));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    auto store = MakeEngineQuarantineStore(*engine_, "quarantine");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  TriggerOptions Options() {
    TriggerOptions options;
    options.function_name = "audit";
    options.quarantine_consumer = "app.audit";
    options.on_failure = &harness_;
    options.listener = &harness_;
    options.maximum_retry_attempts = 2;
    options.poison_record_handling = PoisonRecordHandling::kQuarantineKey;
    options.quarantine = store_.get();
    options.partition_key_attribute = "pk";
    options.parallelization_factor = GetParam().parallelization_factor;
    options.bisect_batch_on_function_error = GetParam().bisect;
    options.report_batch_item_failures = GetParam().report_batch_item_failures;
    options.retry_backoff_initial = std::chrono::milliseconds(1);
    options.retry_backoff_max = std::chrono::milliseconds(2);
    return options;
  }

  std::unique_ptr<TriggerProcessor> Make() {
    auto processor = TriggerProcessor::Create(Options(), harness_.Function());
    EXPECT_TRUE(processor.ok()) << processor.status().ToString();
    return std::move(processor).value();
  }

  std::vector<QuarantinedRecord> Parked() {
    auto parked = store_->List("app.audit", TableName("orders"));
    EXPECT_TRUE(parked.ok()) << parked.status().ToString();
    return parked.ok() ? *parked : std::vector<QuarantinedRecord>{};
  }

  testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<QuarantineStore> store_;
  Harness harness_;
};

TEST_P(TriggerQuarantineTest, TheBadKeyIsParkedInOrderWhileOtherKeysGoOn) {
  // Two batches, the second through a new processor (a restart): it learns the quarantined
  // key from the table.
  ASSERT_TRUE(Make()->Process(MakeBatch(1, 20)).ok());
  ASSERT_TRUE(Make()->Process(MakeBatch(21, 40)).ok());

  std::map<std::string, std::vector<uint64_t>> expected;
  for (uint64_t s = 1; s <= 40; ++s) expected[KeyOf(s)].push_back(s);
  const std::vector<uint64_t> bad = expected[kBadKey];
  expected.erase(kBadKey);
  // Every other key: each record accepted exactly once, in sequence order.
  EXPECT_EQ(harness_.accepted, expected);

  // The bad key: every record parked, in sequence order, none invoked successfully.
  const std::vector<QuarantinedRecord> parked = Parked();
  std::vector<uint64_t> parked_sequences;
  for (const QuarantinedRecord& record : parked) {
    parked_sequences.push_back(record.sequence.value());
    EXPECT_EQ(record.key, R"({"pk":{"S":"bad"}})");
    EXPECT_EQ(record.consumer, "app.audit");
    rapidjson::Document event_record;
    event_record.Parse(record.record_json.c_str());
    ASSERT_FALSE(event_record.HasParseError());
    EXPECT_EQ(std::stoull(event_record["dynamodb"]["SequenceNumber"].GetString()),
              record.sequence.value());
  }
  EXPECT_EQ(parked_sequences, bad);
  ASSERT_FALSE(parked.empty());
  EXPECT_EQ(parked.front().reason, kQuarantineReasonFailed);
  for (size_t i = 1; i < parked.size(); ++i) {
    EXPECT_EQ(parked[i].reason, kQuarantineReasonKeyQuarantined);
  }
  EXPECT_EQ(harness_.listened, bad);

  // One on-failure record, for the record that failed.
  ASSERT_EQ(harness_.destination.size(), 1u);
  rapidjson::Document failure;
  failure.Parse(harness_.destination[0].c_str());
  const auto& info = failure["DDBStreamBatchInfo"];
  EXPECT_EQ(info["batchSize"].GetInt(), 1);
  EXPECT_EQ(std::stoull(info["startSequenceNumber"].GetString()), bad.front());
  EXPECT_EQ(std::string(failure["requestContext"]["condition"].GetString()),
            "RetryAttemptsExhausted");
}

// Shard 2 splits; shard 9, one of its children, now carries the key: its records are
// parked behind the parent's, although the function would now accept them.
TEST_P(TriggerQuarantineTest, AKeyStaysQuarantinedAcrossAShardSplit) {
  ASSERT_TRUE(Make()->Process(MakeBatch(1, 20)).ok());
  harness_.failing_keys.clear();
  ASSERT_TRUE(Make()->Process(MakeBatch(1, 8, {}, /*shard=*/9)).ok());
  std::vector<std::pair<uint32_t, uint64_t>> parked;
  for (const QuarantinedRecord& record : Parked()) {
    parked.emplace_back(record.shard.value(), record.sequence.value());
  }
  std::vector<std::pair<uint32_t, uint64_t>> expected;
  for (uint64_t s = 1; s <= 20; ++s) {
    if (KeyOf(s) == kBadKey) expected.emplace_back(2, s);
  }
  for (uint64_t s = 1; s <= 8; ++s) {
    if (KeyOf(s) == kBadKey) expected.emplace_back(9, s);
  }
  EXPECT_EQ(parked, expected);
  EXPECT_EQ(harness_.accepted.count(kBadKey), 0u);
  // The other keys of the child went to the function.
  EXPECT_EQ(harness_.accepted["a"].size(), 5u + 2u);
}

TEST_P(TriggerQuarantineTest, LaterRecordsOfTheKeyWaitBehindTheFailedOne) {
  // Only the key's first record fails: the later ones would succeed, but handing them to
  // the function would put them before it.
  harness_.failing_keys.clear();
  harness_.failing_sequences = {3};
  ASSERT_TRUE(Make()->Process(MakeBatch(1, 20)).ok());
  EXPECT_EQ(harness_.accepted.count(kBadKey), 0u);
  std::vector<uint64_t> parked;
  for (const QuarantinedRecord& record : Parked()) parked.push_back(record.sequence.value());
  EXPECT_EQ(parked, (std::vector<uint64_t>{3, 6, 11, 14, 19}));
}

TEST_P(TriggerQuarantineTest, ARedeliveredBatchParksNothingTwice) {
  ASSERT_TRUE(Make()->Process(MakeBatch(1, 20)).ok());
  const std::vector<QuarantinedRecord> first = Parked();
  ASSERT_TRUE(Make()->Process(MakeBatch(1, 20)).ok());
  const std::vector<QuarantinedRecord> again = Parked();
  EXPECT_EQ(again, first);
}

TEST_P(TriggerQuarantineTest, DeletingTheParkedRecordsReleasesTheKey) {
  ASSERT_TRUE(Make()->Process(MakeBatch(1, 20)).ok());
  ASSERT_FALSE(Parked().empty());
  // The operator handles the parked records, then deletes them.
  for (const QuarantinedRecord& record : Parked()) {
    ASSERT_TRUE(engine_->DeleteItem("quarantine", QuarantineItemKey(record)).ok());
  }
  harness_.failing_keys.clear();
  ASSERT_TRUE(Make()->Process(MakeBatch(21, 40)).ok());
  std::vector<uint64_t> bad_after;
  for (uint64_t s = 21; s <= 40; ++s) {
    if (KeyOf(s) == kBadKey) bad_after.push_back(s);
  }
  EXPECT_EQ(harness_.accepted[kBadKey], bad_after);
  EXPECT_TRUE(Parked().empty());
}

INSTANTIATE_TEST_SUITE_P(Variants, TriggerQuarantineTest,
                         ::testing::Values(Variant{1, false, false}, Variant{1, true, false},
                                           Variant{1, false, true}, Variant{3, false, false},
                                           Variant{3, true, true}),
                         [](const ::testing::TestParamInfo<Variant>& info) {
                           return "Factor" + std::to_string(info.param.parallelization_factor) +
                                  (info.param.bisect ? "Bisect" : "") +
                                  (info.param.report_batch_item_failures ? "ItemFailures" : "");
                         });

TEST(TriggerQuarantineOffTest, ByDefaultTheShardBlocksBehindTheFailingRecord) {
  Harness harness;
  TriggerOptions options;
  options.function_name = "audit";
  options.listener = &harness;
  options.on_failure = &harness;
  options.bisect_batch_on_function_error = true;
  options.retry_backoff_initial = std::chrono::milliseconds(1);
  options.retry_backoff_max = std::chrono::milliseconds(2);
  auto processor = TriggerProcessor::Create(options, harness.Function());
  ASSERT_TRUE(processor.ok()) << processor.status().ToString();

  std::stop_source stop;
  Status outcome;
  std::thread run([&] { outcome = (*processor)->Process(MakeBatch(1, 20, stop.get_token())); });
  // The first bad record (sequence 3) is retried; nothing after it is accepted.
  EXPECT_TRUE(testing::WaitFor([&] {
    std::lock_guard lock(harness.mutex());
    return harness.invocations > 20;
  }));
  stop.request_stop();
  run.join();
  EXPECT_FALSE(outcome.ok()) << "the batch must not be checkpointed";
  std::lock_guard lock(harness.mutex());
  for (const auto& [key, sequences] : harness.accepted) {
    for (uint64_t sequence : sequences) EXPECT_LT(sequence, 3u) << key;
  }
  EXPECT_TRUE(harness.listened.empty());
  EXPECT_TRUE(harness.destination.empty());
}

TEST(TriggerQuarantineOffTest, QuarantineNeedsFiniteRetriesAndATable) {
  TriggerOptions options;
  options.poison_record_handling = PoisonRecordHandling::kQuarantineKey;
  EXPECT_EQ(ValidateTriggerOptions(options).code(), ErrorCode::kValidation);
  options.maximum_retry_attempts = 3;
  EXPECT_TRUE(ValidateTriggerOptions(options).ok());
  auto processor = TriggerProcessor::Create(
      options, [](const TriggerInvocation&) -> Result<std::string> { return std::string(); });
  EXPECT_EQ(processor.status().code(), ErrorCode::kValidation);
}

}  // namespace
}  // namespace tidewater::streams
