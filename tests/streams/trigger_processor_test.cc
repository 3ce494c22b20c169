// The trigger runtime's Lambda event-source-mapping semantics, driven with hand-made shard
// batches: order under retries, bisection, exhausted retries, partial batch responses,
// record age, filtering, parallelization, stopping, and the event and on-failure shapes.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "tidewater/core/record_codec.h"
#include "tidewater/streams/stream_record_json.h"
#include "tidewater/streams/trigger.h"

namespace tidewater::streams {
namespace {

constexpr int64_t kNow = 1'700'000'000'000'000;

ChangeRecord MakeRecord(uint64_t sequence, const std::string& pk, v1::EventName event = v1::INSERT,
                        int64_t created = kNow) {
  ChangeRecord record;
  record.set_table("orders");
  record.set_shard(2);
  record.set_sequence(sequence);
  record.set_event(event);
  ToProto(Item{{"pk", AttributeValue::S(pk)}}, record.mutable_keys());
  ToProto(Item{{"pk", AttributeValue::S(pk)},
               {"n", AttributeValue::N(Number::FromInt64(static_cast<int64_t>(sequence)))}},
          record.mutable_new_image());
  record.set_approximate_creation_time_micros(created);
  record.set_size_bytes(10);
  record.set_view_type(v1::NEW_AND_OLD_IMAGES);
  record.set_provenance(v1::USER_WRITE);
  record.set_stream_label("2023-11-14T22:13:20.000");
  return record;
}

ShardBatch MakeBatch(uint64_t first, uint64_t last, std::stop_token stop = {}) {
  ShardBatch batch;
  batch.table = TableName("orders");
  batch.shard = ShardIndex(2);
  for (uint64_t s = first; s <= last; ++s) batch.records.push_back(MakeRecord(s, "k"));
  batch.stop = stop;
  return batch;
}

// The sequences of an event, in the order the event lists them.
std::vector<uint64_t> Sequences(const std::string& event_json) {
  rapidjson::Document event;
  event.Parse(event_json.data(), event_json.size());
  std::vector<uint64_t> sequences;
  for (const auto& record : event["Records"].GetArray()) {
    sequences.push_back(std::stoull(record["dynamodb"]["SequenceNumber"].GetString()));
  }
  return sequences;
}

bool Contains(const std::vector<uint64_t>& sequences, uint64_t sequence) {
  return std::find(sequences.begin(), sequences.end(), sequence) != sequences.end();
}

// Records everything a trigger does, and checks the ordering guarantee on every call:
// an invocation starts at the lowest record not yet done, its records consecutive.
class Recorder : public TriggerListener, public FailureDestination {
 public:
  explicit Recorder(uint64_t first_sequence = 1) : next_undone_(first_sequence) {}

  void Invoked(const TriggerInvocation& invocation, std::chrono::nanoseconds,
               const Status& outcome) override {
    std::lock_guard lock(mutex_);
    invocations.push_back(Sequences(invocation.event_json));
    if (!outcome.ok()) ++function_errors;
  }
  void Processed(ShardIndex, size_t records) override {
    std::lock_guard lock(mutex_);
    processed += records;
  }
  void Filtered(ShardIndex, size_t records) override {
    std::lock_guard lock(mutex_);
    filtered += records;
  }
  void Discarded(ShardIndex, size_t records, std::string_view condition,
                 std::string_view) override {
    std::lock_guard lock(mutex_);
    discarded += records;
    conditions.emplace_back(condition);
  }
  Status Send(std::string_view record_json) override {
    std::lock_guard lock(mutex_);
    if (failing_sends > 0) {
      --failing_sends;
      return Status::IOError("destination down");
    }
    destination.emplace_back(record_json);
    return Status::Ok();
  }

  // The function: `decide` sees the sequences and returns the response or an error. Checks
  // order and marks records done per the response.
  TriggerFunction Function(
      std::function<Result<std::string>(const std::vector<uint64_t>&)> decide) {
    return [this, decide](const TriggerInvocation& invocation) -> Result<std::string> {
      std::vector<uint64_t> sequences = Sequences(invocation.event_json);
      EXPECT_EQ(sequences.size(), invocation.record_count);
      EXPECT_EQ(SequenceNumber(sequences.front()), invocation.first_sequence);
      EXPECT_EQ(SequenceNumber(sequences.back()), invocation.last_sequence);
      for (size_t i = 1; i < sequences.size(); ++i) EXPECT_EQ(sequences[i], sequences[i - 1] + 1);
      {
        std::lock_guard lock(mutex_);
        // Everything before this invocation's first record is done; nothing after it is.
        EXPECT_EQ(sequences.front(), next_undone_) << "invoked out of order";
      }
      Result<std::string> response = decide(sequences);
      std::lock_guard lock(mutex_);
      if (response.ok()) {
        // Done up to the first failed identifier (or all), as the processor reads it.
        uint64_t done_until = sequences.back() + 1;
        rapidjson::Document parsed;
        parsed.Parse(response->c_str());
        if (!response->empty() && parsed.HasParseError()) done_until = sequences.front();
        if (!parsed.HasParseError() && parsed.IsObject() && parsed.HasMember("batchItemFailures") &&
            parsed["batchItemFailures"].IsArray()) {
          for (const auto& failure : parsed["batchItemFailures"].GetArray()) {
            uint64_t id = 0;
            bool known = failure.IsObject() && failure.HasMember("itemIdentifier") &&
                         failure["itemIdentifier"].IsString() &&
                         failure["itemIdentifier"].GetStringLength() > 0;
            if (known) {
              id = std::stoull(failure["itemIdentifier"].GetString());
              known = Contains(sequences, id);
            }
            done_until = std::min(done_until, known ? id : sequences.front());
          }
        }
        for (uint64_t s = sequences.front(); s < done_until; ++s) accepted.push_back(s);
        next_undone_ = std::max(next_undone_, done_until);
      }
      return response;
    };
  }

  // Records given up on count as done for the ordering check.
  void MarkDiscardedThrough(uint64_t sequence) {
    std::lock_guard lock(mutex_);
    next_undone_ = std::max(next_undone_, sequence + 1);
  }

  std::vector<std::vector<uint64_t>> invocations;
  std::vector<uint64_t> accepted;
  std::vector<std::string> destination;
  std::vector<std::string> conditions;
  size_t processed = 0;
  size_t filtered = 0;
  size_t discarded = 0;
  int function_errors = 0;
  int failing_sends = 0;

 private:
  std::mutex mutex_;
  uint64_t next_undone_;
};

TriggerOptions Options(Recorder& recorder) {
  TriggerOptions options;
  options.function_name = "audit";
  options.region = "eu-west-1";
  options.table_id = 7;
  options.table_creation_micros = 1'699'000'000'123'000;
  options.on_failure = &recorder;
  options.listener = &recorder;
  options.retry_backoff_initial = std::chrono::milliseconds(1);
  options.retry_backoff_max = std::chrono::milliseconds(2);
  return options;
}

std::unique_ptr<TriggerProcessor> Make(TriggerOptions options, TriggerFunction function) {
  auto processor = TriggerProcessor::Create(std::move(options), std::move(function));
  EXPECT_TRUE(processor.ok()) << processor.status().ToString();
  return std::move(processor).value();
}

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> range;
  for (uint64_t s = first; s <= last; ++s) range.push_back(s);
  return range;
}

TEST(TriggerProcessorTest, EventHasLambdaDynamoDbShape) {
  Recorder recorder;
  std::string event_json;
  auto processor = Make(Options(recorder), [&](const TriggerInvocation& invocation) {
    event_json = invocation.event_json;
    return Result<std::string>(std::string());
  });
  ASSERT_TRUE(processor->Process(MakeBatch(1, 2)).ok());
  rapidjson::Document event;
  event.Parse(event_json.c_str());
  ASSERT_FALSE(event.HasParseError());
  ASSERT_EQ(event["Records"].Size(), 2u);
  const auto& record = event["Records"][0];
  EXPECT_STREQ(record["eventID"].GetString(), EventId(7, ShardIndex(2), SequenceNumber(1)).c_str());
  EXPECT_STREQ(record["eventName"].GetString(), "INSERT");
  EXPECT_STREQ(record["eventVersion"].GetString(), "1.1");
  EXPECT_STREQ(record["eventSource"].GetString(), "aws:dynamodb");
  EXPECT_STREQ(record["awsRegion"].GetString(), "eu-west-1");
  EXPECT_STREQ(record["eventSourceARN"].GetString(),
               "arn:aws:dynamodb:eu-west-1:000000000000:table/orders/stream/"
               "2023-11-14T22:13:20.000");
  EXPECT_STREQ(record["dynamodb"]["Keys"]["pk"]["S"].GetString(), "k");
  EXPECT_STREQ(record["dynamodb"]["NewImage"]["n"]["N"].GetString(), "1");
  EXPECT_STREQ(record["dynamodb"]["SequenceNumber"].GetString(), "000000000000000000001");
  EXPECT_STREQ(record["dynamodb"]["StreamViewType"].GetString(), "NEW_AND_OLD_IMAGES");
}

TEST(TriggerProcessorTest, OrderIsKeptUnderRetriesBisectionAndPartialFailures) {
  // A flaky function: fails every third call, and reports the record it dislikes
  // (sequence % 7 == 3) the first two times it sees it.
  for (bool bisect : {false, true}) {
    SCOPED_TRACE(bisect ? "bisect" : "no bisect");
    Recorder recorder;
    TriggerOptions options = Options(recorder);
    options.bisect_batch_on_function_error = bisect;
    options.report_batch_item_failures = true;
    int calls = 0;
    std::map<uint64_t, int> reported;
    auto processor = Make(
        options, recorder.Function([&](const std::vector<uint64_t>& seqs) -> Result<std::string> {
          if (++calls % 3 == 0) return Status::Internal("flaky");
          for (uint64_t s : seqs) {
            if (s % 7 == 3 && reported[s]++ < 2) {
              return BatchItemFailuresJson({SequenceNumberText(SequenceNumber(s))});
            }
          }
          return std::string();
        }));
    ASSERT_TRUE(processor->Process(MakeBatch(1, 40)).ok());
    EXPECT_EQ(recorder.accepted, Range(1, 40));  // each once, in order
    EXPECT_TRUE(recorder.destination.empty());
    EXPECT_EQ(recorder.processed, 40u);
  }
}

TEST(TriggerProcessorTest, BisectionIsolatesAPoisonRecord) {
  Recorder recorder;
  TriggerOptions options = Options(recorder);
  options.bisect_batch_on_function_error = true;
  options.maximum_retry_attempts = 0;
  auto processor = Make(
      options, recorder.Function([&](const std::vector<uint64_t>& seqs) -> Result<std::string> {
        if (Contains(seqs, 5)) {
          if (seqs.size() == 1) recorder.MarkDiscardedThrough(5);  // it is given up on next
          return Status::Internal("poison");
        }
        return std::string();
      }));
  ASSERT_TRUE(processor->Process(MakeBatch(1, 8)).ok());
  std::vector<uint64_t> expected = Range(1, 8);
  expected.erase(expected.begin() + 4);
  EXPECT_EQ(recorder.accepted, expected);
  // 1-8 fails; 1-4 passes; 5-8 fails; 5-6 fails; 5 fails (no retries); 6; 7-8.
  const std::vector<std::vector<uint64_t>> invocations = {
      Range(1, 8), Range(1, 4), Range(5, 8), Range(5, 6), {5}, {6}, Range(7, 8)};
  EXPECT_EQ(recorder.invocations, invocations);
  ASSERT_EQ(recorder.destination.size(), 1u);
  rapidjson::Document failure;
  failure.Parse(recorder.destination[0].c_str());
  const auto& info = failure["DDBStreamBatchInfo"];
  EXPECT_STREQ(info["startSequenceNumber"].GetString(), "000000000000000000005");
  EXPECT_STREQ(info["endSequenceNumber"].GetString(), "000000000000000000005");
  EXPECT_EQ(info["batchSize"].GetInt(), 1);
}

TEST(TriggerProcessorTest, ExhaustedRetriesGoToTheDestinationAndTheShardMovesOn) {
  Recorder recorder;
  ManualClock clock(kNow + 30'000'000);
  TriggerOptions options = Options(recorder);
  options.maximum_retry_attempts = 2;
  options.clock = &clock;
  int calls = 0;
  auto processor = Make(options, [&](const TriggerInvocation&) -> Result<std::string> {
    ++calls;
    return Status::Internal("always fails");
  });
  ShardBatch batch = MakeBatch(3, 6);
  batch.records[3].set_approximate_creation_time_micros(kNow + 2'000'000);
  ASSERT_TRUE(processor->Process(batch).ok());
  EXPECT_EQ(calls, 3);  // the first try and two retries
  ASSERT_EQ(recorder.destination.size(), 1u);
  EXPECT_EQ(recorder.conditions, std::vector<std::string>{"RetryAttemptsExhausted"});

  rapidjson::Document failure;
  failure.Parse(recorder.destination[0].c_str());
  ASSERT_FALSE(failure.HasParseError());
  EXPECT_STREQ(failure["version"].GetString(), "1.0");
  EXPECT_STREQ(failure["timestamp"].GetString(), "2023-11-14T22:13:50.000Z");
  const auto& request = failure["requestContext"];
  EXPECT_EQ(std::string(request["requestId"].GetString()).size(), 36u);
  EXPECT_STREQ(request["functionArn"].GetString(),
               "arn:aws:lambda:eu-west-1:000000000000:function:audit");
  EXPECT_STREQ(request["condition"].GetString(), "RetryAttemptsExhausted");
  EXPECT_EQ(request["approximateInvokeCount"].GetInt(), 3);
  EXPECT_EQ(failure["responseContext"]["statusCode"].GetInt(), 200);
  EXPECT_STREQ(failure["responseContext"]["executedVersion"].GetString(), "$LATEST");
  EXPECT_STREQ(failure["responseContext"]["functionError"].GetString(), "Unhandled");
  const auto& info = failure["DDBStreamBatchInfo"];
  EXPECT_STREQ(info["shardId"].GetString(), "shardId-00000001699000000123-00000002");
  EXPECT_STREQ(info["startSequenceNumber"].GetString(), "000000000000000000003");
  EXPECT_STREQ(info["endSequenceNumber"].GetString(), "000000000000000000006");
  EXPECT_STREQ(info["approximateArrivalOfFirstRecord"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_STREQ(info["approximateArrivalOfLastRecord"].GetString(), "2023-11-14T22:13:22Z");
  EXPECT_EQ(info["batchSize"].GetInt(), 4);
  EXPECT_STREQ(info["streamArn"].GetString(),
               "arn:aws:dynamodb:eu-west-1:000000000000:table/orders/stream/"
               "2023-11-14T22:13:20.000");

  // The next batch of the shard is processed normally.
  calls = 0;
  auto next = Make(Options(recorder), [&](const TriggerInvocation&) -> Result<std::string> {
    ++calls;
    return std::string();
  });
  EXPECT_TRUE(next->Process(MakeBatch(7, 8)).ok());
  EXPECT_EQ(calls, 1);
}

TEST(TriggerProcessorTest, DestinationOutagesAreRetriedUntilStored) {
  Recorder recorder;
  recorder.failing_sends = 2;
  TriggerOptions options = Options(recorder);
  options.maximum_retry_attempts = 0;
  auto processor = Make(options, [](const TriggerInvocation&) -> Result<std::string> {
    return Status::Internal("fails");
  });
  ASSERT_TRUE(processor->Process(MakeBatch(1, 2)).ok());
  EXPECT_EQ(recorder.destination.size(), 1u);
  EXPECT_EQ(recorder.failing_sends, 0);
}

TEST(TriggerProcessorTest, PartialBatchFailureRetriesFromTheFirstFailedRecord) {
  struct Case {
    const char* name;
    std::string first_response;  // the second call succeeds
    std::vector<uint64_t> second_invocation;
  };
  const Case cases[] = {
      {"one failed item", BatchItemFailuresJson({SequenceNumberText(SequenceNumber(3))}),
       Range(3, 5)},
      {"lowest of several", BatchItemFailuresJson({"000000000000000000004", "2"}), Range(2, 5)},
      {"unknown identifier fails the whole batch", BatchItemFailuresJson({"99"}), Range(1, 5)},
      {"empty identifier fails the whole batch", BatchItemFailuresJson({""}), Range(1, 5)},
      {"null identifier fails the whole batch",
       R"({"batchItemFailures":[{"itemIdentifier":null}]})", Range(1, 5)},
      {"wrong key fails the whole batch", R"({"batchItemFailures":[{"id":"3"}]})", Range(1, 5)},
      {"not JSON fails the whole batch", "oops", Range(1, 5)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Recorder recorder;
    TriggerOptions options = Options(recorder);
    options.report_batch_item_failures = true;
    int calls = 0;
    auto processor =
        Make(options, recorder.Function([&](const std::vector<uint64_t>&) -> Result<std::string> {
          return ++calls == 1 ? c.first_response : std::string();
        }));
    ASSERT_TRUE(processor->Process(MakeBatch(1, 5)).ok());
    ASSERT_EQ(recorder.invocations.size(), 2u);
    EXPECT_EQ(recorder.invocations[1], c.second_invocation);
    EXPECT_EQ(recorder.accepted, Range(1, 5));
  }

  // Successful responses.
  for (std::string response :
       {std::string(), std::string("null"), std::string("{}"),
        std::string(R"({"batchItemFailures":[]})"), std::string(R"({"batchItemFailures":null})")}) {
    SCOPED_TRACE(response);
    Recorder recorder;
    TriggerOptions options = Options(recorder);
    options.report_batch_item_failures = true;
    auto processor =
        Make(options, [&](const TriggerInvocation&) -> Result<std::string> { return response; });
    ASSERT_TRUE(processor->Process(MakeBatch(1, 5)).ok());
    EXPECT_EQ(recorder.invocations.size(), 1u);
  }
}

TEST(TriggerProcessorTest, BatchItemFailuresAreIgnoredUnlessReportingIsOn) {
  Recorder recorder;
  auto processor = Make(Options(recorder), [](const TriggerInvocation&) -> Result<std::string> {
    return BatchItemFailuresJson({"3"});
  });
  ASSERT_TRUE(processor->Process(MakeBatch(1, 5)).ok());
  EXPECT_EQ(recorder.invocations.size(), 1u);
  EXPECT_EQ(recorder.processed, 5u);
}

TEST(TriggerProcessorTest, PartialFailuresExhaustRetriesOnTheRest) {
  Recorder recorder;
  TriggerOptions options = Options(recorder);
  options.report_batch_item_failures = true;
  options.maximum_retry_attempts = 1;
  auto processor = Make(
      options, recorder.Function([&](const std::vector<uint64_t>& seqs) -> Result<std::string> {
        if (Contains(seqs, 4)) {
          if (seqs.front() == 4) recorder.MarkDiscardedThrough(6);
          return BatchItemFailuresJson({"4"});
        }
        return std::string();
      }));
  ASSERT_TRUE(processor->Process(MakeBatch(1, 6)).ok());
  EXPECT_EQ(recorder.accepted, Range(1, 3));
  ASSERT_EQ(recorder.destination.size(), 1u);
  rapidjson::Document failure;
  failure.Parse(recorder.destination[0].c_str());
  EXPECT_STREQ(failure["DDBStreamBatchInfo"]["startSequenceNumber"].GetString(),
               "000000000000000000004");
  EXPECT_EQ(failure["DDBStreamBatchInfo"]["batchSize"].GetInt(), 3);
  EXPECT_FALSE(failure["responseContext"].HasMember("functionError"));
}

TEST(TriggerProcessorTest, RecordsOlderThanMaximumAgeAreSkippedToTheDestination) {
  Recorder recorder;
  ManualClock clock(kNow);
  TriggerOptions options = Options(recorder);
  options.maximum_record_age_seconds = 60;
  options.clock = &clock;
  ShardBatch batch;
  batch.table = TableName("orders");
  batch.shard = ShardIndex(2);
  batch.records.push_back(MakeRecord(1, "k", v1::INSERT, kNow - 120'000'000));
  batch.records.push_back(MakeRecord(2, "k", v1::MODIFY, kNow - 61'000'000));
  batch.records.push_back(MakeRecord(3, "k", v1::MODIFY, kNow - 59'000'000));
  batch.records.push_back(MakeRecord(4, "k", v1::MODIFY, kNow));
  recorder.MarkDiscardedThrough(2);
  auto processor =
      Make(options, recorder.Function([](const std::vector<uint64_t>&) -> Result<std::string> {
        return std::string();
      }));
  ASSERT_TRUE(processor->Process(batch).ok());
  EXPECT_EQ(recorder.invocations, std::vector<std::vector<uint64_t>>{Range(3, 4)});
  EXPECT_EQ(recorder.conditions, std::vector<std::string>{"RecordAgeExceeded"});
  ASSERT_EQ(recorder.destination.size(), 1u);
  rapidjson::Document failure;
  failure.Parse(recorder.destination[0].c_str());
  EXPECT_STREQ(failure["requestContext"]["condition"].GetString(), "RecordAgeExceeded");
  EXPECT_EQ(failure["requestContext"]["approximateInvokeCount"].GetInt(), 0);
  EXPECT_EQ(failure["DDBStreamBatchInfo"]["batchSize"].GetInt(), 2);
}

TEST(TriggerProcessorTest, RecordsAgeOutWhileRetrying) {
  // Infinite retries end when the records pass the maximum age.
  Recorder recorder;
  ManualClock clock(kNow);
  TriggerOptions options = Options(recorder);
  options.maximum_record_age_seconds = 60;
  options.clock = &clock;
  int calls = 0;
  auto processor = Make(options, [&](const TriggerInvocation&) -> Result<std::string> {
    if (++calls == 3) clock.AdvanceSeconds(61);
    return Status::Internal("fails");
  });
  ASSERT_TRUE(processor->Process(MakeBatch(1, 3)).ok());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(recorder.conditions, std::vector<std::string>{"RecordAgeExceeded"});
}

TEST(TriggerProcessorTest, FilteredRecordsAreNeverSent) {
  Recorder recorder;
  TriggerOptions options = Options(recorder);
  options.filter_patterns = {R"({"eventName":["MODIFY"]})",
                             R"({"dynamodb":{"NewImage":{"n":{"N":[{"numeric":[">",9]}]}}}})"};
  std::vector<uint64_t> seen;
  auto processor = Make(options, [&](const TriggerInvocation& invocation) -> Result<std::string> {
    for (uint64_t s : Sequences(invocation.event_json)) seen.push_back(s);
    return std::string();
  });
  ShardBatch batch = MakeBatch(1, 12);
  batch.records[2].set_event(v1::MODIFY);  // sequence 3
  ASSERT_TRUE(processor->Process(batch).ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{3, 10, 11, 12}));
  EXPECT_EQ(recorder.filtered, 8u);

  // A batch with nothing to send is done without an invocation.
  seen.clear();
  ASSERT_TRUE(processor->Process(MakeBatch(1, 2)).ok());
  EXPECT_TRUE(seen.empty());
}

TEST(TriggerProcessorTest, StopEndsRetriesWithAnError) {
  Recorder recorder;
  std::stop_source stop;
  std::atomic<int> calls = 0;
  auto processor = Make(Options(recorder), [&](const TriggerInvocation&) -> Result<std::string> {
    if (++calls == 5) stop.request_stop();
    return Status::Internal("fails");
  });
  Status outcome = processor->Process(MakeBatch(1, 3, stop.get_token()));
  EXPECT_FALSE(outcome.ok());
  EXPECT_EQ(calls.load(), 5);
  EXPECT_TRUE(recorder.destination.empty());
}

TEST(TriggerProcessorTest, AThrowingFunctionIsAFunctionError) {
  Recorder recorder;
  TriggerOptions options = Options(recorder);
  options.maximum_retry_attempts = 0;
  auto processor = Make(options, [](const TriggerInvocation&) -> Result<std::string> {
    throw std::runtime_error("boom");
  });
  ASSERT_TRUE(processor->Process(MakeBatch(1, 1)).ok());
  EXPECT_EQ(recorder.function_errors, 1);
  EXPECT_EQ(recorder.destination.size(), 1u);
}

TEST(TriggerProcessorTest, ParallelizationRunsGroupsConcurrentlyKeepingKeyOrder) {
  Recorder recorder;
  TriggerOptions options = Options(recorder);
  options.parallelization_factor = 10;
  options.partition_key_attribute = "pk";
  ShardBatch batch;
  batch.table = TableName("orders");
  batch.shard = ShardIndex(2);
  for (uint64_t s = 1; s <= 100; ++s) {
    batch.records.push_back(MakeRecord(s, "key" + std::to_string(s % 10)));
  }
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0;
  int most_running = 0;
  std::map<std::string, std::vector<uint64_t>> per_key;
  auto processor = Make(options, [&](const TriggerInvocation& invocation) -> Result<std::string> {
    rapidjson::Document event;
    event.Parse(invocation.event_json.c_str());
    std::unique_lock lock(mutex);
    for (const auto& record : event["Records"].GetArray()) {
      per_key[record["dynamodb"]["Keys"]["pk"]["S"].GetString()].push_back(
          std::stoull(record["dynamodb"]["SequenceNumber"].GetString()));
    }
    ++running;
    most_running = std::max(most_running, running);
    changed.notify_all();
    // Hold the first invocation until a second one runs beside it.
    changed.wait_for(lock, std::chrono::seconds(5), [&] { return most_running >= 2; });
    --running;
    return std::string();
  });
  ASSERT_TRUE(processor->Process(batch).ok());
  EXPECT_GE(most_running, 2);
  ASSERT_EQ(per_key.size(), 10u);
  for (const auto& [key, sequences] : per_key) {
    EXPECT_EQ(sequences.size(), 10u) << key;
    EXPECT_TRUE(std::is_sorted(sequences.begin(), sequences.end())) << key;
  }
}

TEST(TriggerProcessorTest, OptionsAreCheckedAgainstLambdaLimits) {
  auto invalid = [](std::function<void(TriggerOptions&)> change) {
    TriggerOptions options;
    change(options);
    return !ValidateTriggerOptions(options).ok();
  };
  EXPECT_FALSE(invalid([](TriggerOptions&) {}));
  EXPECT_TRUE(invalid([](TriggerOptions& o) { o.batch_size = 0; }));
  EXPECT_TRUE(invalid([](TriggerOptions& o) { o.batch_size = 10'001; }));
  EXPECT_TRUE(
      invalid([](TriggerOptions& o) { o.maximum_batching_window = std::chrono::seconds(301); }));
  EXPECT_TRUE(invalid([](TriggerOptions& o) { o.maximum_retry_attempts = -2; }));
  EXPECT_TRUE(invalid([](TriggerOptions& o) { o.maximum_retry_attempts = 10'001; }));
  EXPECT_TRUE(invalid([](TriggerOptions& o) { o.maximum_record_age_seconds = 604'801; }));
  EXPECT_TRUE(invalid([](TriggerOptions& o) { o.parallelization_factor = 0; }));
  EXPECT_TRUE(invalid([](TriggerOptions& o) { o.parallelization_factor = 11; }));
  TriggerOptions bad_filter;
  bad_filter.filter_patterns = {"{"};
  EXPECT_FALSE(TriggerProcessor::Create(bad_filter, [](const TriggerInvocation&) {
                 return Result<std::string>(std::string());
               }).ok());

  TriggerOptions options;
  options.batch_size = 7;
  options.maximum_batching_window = std::chrono::seconds(2);
  options.starting_position = StartingPosition::kTrimHorizon;
  ConsumerOptions consumer = ConsumerOptionsFor(options, "orders", "app");
  EXPECT_EQ(consumer.table, "orders");
  EXPECT_EQ(consumer.application, "app");
  EXPECT_EQ(consumer.max_batch_records, 7u);
  EXPECT_EQ(consumer.max_batching_window, std::chrono::seconds(2));
  EXPECT_EQ(consumer.starting_position, StartingPosition::kTrimHorizon);
}

}  // namespace
}  // namespace tidewater::streams
