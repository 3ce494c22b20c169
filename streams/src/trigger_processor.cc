#include <rapidjson/document.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "tidewater/core/json_codec.h"
#include "tidewater/core/record_codec.h"
#include "tidewater/streams/filter_pattern.h"
#include "tidewater/streams/resource_names.h"
#include "tidewater/streams/trigger.h"
#include "trigger_event.h"

namespace tidewater::streams {
namespace {

constexpr size_t kMaxBatchSize = 10'000;
constexpr std::chrono::seconds kMaxBatchingWindow{300};
constexpr int kMaxRetryAttempts = 10'000;
constexpr int64_t kMaxRecordAgeSeconds = 604'800;
constexpr int kMaxParallelizationFactor = 10;

constexpr std::string_view kRetryAttemptsExhausted = "RetryAttemptsExhausted";
constexpr std::string_view kRecordAgeExceeded = "RecordAgeExceeded";

Status Stopped() {
  return Status::Internal("the trigger stopped before the batch was done; it is delivered again");
}

// A record ready to send: the change and its event record JSON (and with QUARANTINE_KEY its
// Keys as DynamoDB JSON).
struct EventRecord {
  const ChangeRecord* change = nullptr;
  std::string json;
  std::string stream_arn;
  std::string key;
};

// Item keys quarantined in one group (QuarantinedRecord::key).
using QuarantinedKeys = std::set<std::string>;

// Records of one ordered group, in sequence order.
using Group = std::vector<const EventRecord*>;

// What one invocation said.
struct InvocationOutcome {
  std::optional<size_t> retry_from;  // nullopt: all done
  bool function_error = false;
};

// Records [begin, end) of a group still to do, and how they fared so far.
struct Pending {
  size_t begin = 0;
  size_t end = 0;
  int retries = 0;      // retries used (bisection uses none)
  int invocations = 0;  // invocations of these records
  bool function_error = false;
};

// Waits `delay` or until `stop`; false when stopped.
bool SleepUnlessStopped(std::chrono::milliseconds delay, const std::stop_token& stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  wake.wait_for(lock, stop, delay, [] { return false; });
  return !stop.stop_requested();
}

std::chrono::milliseconds Backoff(const TriggerOptions& options, int retries) {
  std::chrono::milliseconds delay = options.retry_backoff_initial;
  for (int i = 1; i < retries && delay < options.retry_backoff_max; ++i) delay *= 2;
  return std::min(delay, options.retry_backoff_max);
}

// The grouping key of ParallelizationFactor: the partition key's value, else the whole key.
std::string GroupKey(const ChangeRecord& record, const std::string& partition_key_attribute) {
  if (!partition_key_attribute.empty()) {
    for (const auto& attribute : record.keys().attributes()) {
      if (attribute.name() == partition_key_attribute) return attribute.value().SerializeAsString();
    }
  }
  return record.keys().SerializeAsString();
}

class Processor final : public TriggerProcessor {
 public:
  Processor(TriggerOptions options, TriggerFunction function, FilterCriteria filters)
      : options_(std::move(options)),
        function_(std::move(function)),
        filters_(std::move(filters)),
        function_arn_("arn:aws:lambda:" + options_.region +
                      ":000000000000:function:" + options_.function_name) {}

  Status Process(const ShardBatch& batch) override {
    std::vector<EventRecord> records;
    records.reserve(batch.records.size());
    std::map<std::string, std::string> arns;  // stream label -> ARN
    for (const ChangeRecord& change : batch.records) {
      auto [arn, fresh] = arns.try_emplace(change.stream_label());
      if (fresh)
        arn->second = StreamArn(options_.region, batch.table.value(), change.stream_label());
      TW_ASSIGN_OR_RETURN(std::string json,
                          EventRecordJson(change, options_.table_id, options_.region, arn->second));
      std::string key;
      if (quarantining()) {
        TW_ASSIGN_OR_RETURN(Item keys, FromProto(change.keys()));
        key = json::ItemToJson(keys);
      }
      records.push_back(EventRecord{&change, std::move(json), arn->second, std::move(key)});
    }

    Group kept;
    kept.reserve(records.size());
    for (const EventRecord& record : records) {
      if (Passes(record)) kept.push_back(&record);
    }
    if (kept.size() < records.size() && options_.listener != nullptr) {
      options_.listener->Filtered(batch.shard, records.size() - kept.size());
    }
    if (kept.empty()) return Status::Ok();

    QuarantinedKeys quarantined;
    if (quarantining()) {
      TW_ASSIGN_OR_RETURN(quarantined,
                          options_.quarantine->QuarantinedKeys(quarantine_consumer_, batch.table));
    }
    const size_t factor = static_cast<size_t>(options_.parallelization_factor);
    if (factor <= 1 || kept.size() == 1) return ProcessGroup(batch, kept, quarantined);
    std::vector<Group> groups(factor);
    std::hash<std::string> hash;
    for (const EventRecord* record : kept) {
      groups[hash(GroupKey(*record->change, options_.partition_key_attribute)) % factor].push_back(
          record);
    }
    std::vector<Status> outcomes(factor);
    {
      std::vector<std::jthread> workers;
      for (size_t i = 1; i < factor; ++i) {
        if (groups[i].empty()) continue;
        // A key's records are all in one group: each group keeps its own copy of the keys.
        workers.emplace_back(
            [&, i] { outcomes[i] = ProcessGroup(batch, groups[i], QuarantinedKeys(quarantined)); });
      }
      if (!groups[0].empty()) outcomes[0] = ProcessGroup(batch, groups[0], quarantined);
    }
    for (const Status& outcome : outcomes) TW_RETURN_IF_ERROR(outcome);
    return Status::Ok();
  }

 private:
  bool Passes(const EventRecord& record) const {
    if (filters_.empty()) return true;
    rapidjson::Document document;
    document.Parse(record.json.data(), record.json.size());
    return !document.HasParseError() && filters_.Matches(document);
  }

  bool quarantining() const {
    return options_.poison_record_handling == PoisonRecordHandling::kQuarantineKey;
  }

  // Runs one ordered group to the end: see the file comment of trigger.h.
  Status ProcessGroup(const ShardBatch& batch, const Group& group, QuarantinedKeys quarantined) {
    std::deque<Pending> todo{Pending{0, group.size()}};
    while (!todo.empty()) {
      if (batch.stop.stop_requested()) return Stopped();
      Pending pending = todo.front();
      todo.pop_front();

      if (quarantining()) {
        // Records of quarantined keys are parked in order; the invocation stops before the
        // next one, so that it is parked before anything after it runs.
        while (pending.begin < pending.end && quarantined.contains(group[pending.begin]->key)) {
          TW_RETURN_IF_ERROR(Park(batch, *group[pending.begin], kQuarantineReasonKeyQuarantined));
          ++pending.begin;
        }
        if (pending.begin == pending.end) continue;
        for (size_t i = pending.begin + 1; i < pending.end; ++i) {
          if (!quarantined.contains(group[i]->key)) continue;
          Pending rest = pending;
          rest.begin = i;
          todo.push_front(rest);
          pending.end = i;
          break;
        }
      }

      if (options_.maximum_record_age_seconds >= 0) {
        const int64_t oldest_allowed =
            options_.clock->NowMicros() - options_.maximum_record_age_seconds * 1'000'000;
        size_t fresh = pending.begin;
        while (fresh < pending.end &&
               group[fresh]->change->approximate_creation_time_micros() < oldest_allowed) {
          ++fresh;
        }
        if (fresh > pending.begin) {
          Pending expired = pending;
          expired.end = fresh;
          TW_RETURN_IF_ERROR(GiveUp(batch, group, expired, kRecordAgeExceeded));
          pending.begin = fresh;
          if (pending.begin == pending.end) continue;
        }
      }

      InvocationOutcome outcome = Invoke(batch, group, pending.begin, pending.end);
      ++pending.invocations;
      if (!outcome.retry_from) {
        if (options_.listener)
          options_.listener->Processed(batch.shard, pending.end - pending.begin);
        continue;
      }
      // A failure while stopping is not the function's fault: deliver again later.
      if (batch.stop.stop_requested()) return Stopped();
      pending.function_error = outcome.function_error;
      const size_t done = *outcome.retry_from;
      bool uses_retry = true;
      if (done > 0) {
        if (options_.listener) options_.listener->Processed(batch.shard, done);
        pending.begin += done;
        // Bisection splits at the reported record and retries the rest as a new batch.
        uses_retry = !options_.bisect_batch_on_function_error;
      } else if (options_.bisect_batch_on_function_error && pending.end - pending.begin > 1) {
        const size_t middle = pending.begin + (pending.end - pending.begin) / 2;
        Pending first{pending.begin, middle, pending.retries};
        Pending second{middle, pending.end, pending.retries};
        todo.push_front(second);
        todo.push_front(first);
        continue;
      }
      if (uses_retry) {
        ++pending.retries;
        if (options_.maximum_retry_attempts >= 0 &&
            pending.retries > options_.maximum_retry_attempts) {
          if (!quarantining()) {
            TW_RETURN_IF_ERROR(GiveUp(batch, group, pending, kRetryAttemptsExhausted));
            continue;
          }
          if (pending.end - pending.begin > 1) {
            // Find the failing record: the halves keep the exhausted count, so each is
            // invoked once more and bisected again when it fails.
            const size_t middle = pending.begin + (pending.end - pending.begin) / 2;
            Pending second = pending;
            second.begin = middle;
            pending.end = middle;
            todo.push_front(second);
            todo.push_front(pending);
            continue;
          }
          TW_RETURN_IF_ERROR(QuarantineKey(batch, group, pending, quarantined));
          continue;
        }
        if (!SleepUnlessStopped(Backoff(options_, pending.retries), batch.stop)) return Stopped();
      }
      todo.push_front(pending);
    }
    return Status::Ok();
  }

  InvocationOutcome Invoke(const ShardBatch& batch, const Group& group, size_t begin, size_t end) {
    TriggerInvocation invocation;
    invocation.table = batch.table;
    invocation.shard = batch.shard;
    invocation.stop = batch.stop;
    invocation.record_count = end - begin;
    invocation.first_sequence = SequenceNumber(group[begin]->change->sequence());
    invocation.last_sequence = SequenceNumber(group[end - 1]->change->sequence());
    std::vector<const std::string*> texts;
    std::vector<uint64_t> sequences;
    texts.reserve(end - begin);
    sequences.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) {
      texts.push_back(&group[i]->json);
      sequences.push_back(group[i]->change->sequence());
    }
    invocation.event_json = EventJson(texts);

    const auto started = std::chrono::steady_clock::now();
    Result<std::string> response = Status::Internal("the function did not run");
    try {
      response = function_(invocation);
    } catch (const std::exception& error) {
      response = Status::Internal(std::string("the function threw: ") + error.what());
    } catch (...) {
      response = Status::Internal("the function threw");
    }
    const auto duration = std::chrono::steady_clock::now() - started;
    if (options_.listener) options_.listener->Invoked(invocation, duration, response.status());

    if (!response.ok()) return InvocationOutcome{0, true};
    if (!options_.report_batch_item_failures) return InvocationOutcome{};
    BatchResponse parsed = ReadBatchResponse(*response, sequences);
    return InvocationOutcome{parsed.retry_from, false};
  }

  // Records [pending.begin, pending.end) are given up on: their metadata goes to the
  // destination (retried until stored, or until the batch stops).
  Status GiveUp(const ShardBatch& batch, const Group& group, const Pending& pending,
                std::string_view condition) {
    const std::string record = FailureRecord(batch, group, pending, condition);
    if (options_.listener) {
      options_.listener->Discarded(batch.shard, pending.end - pending.begin, condition, record);
    }
    return SendToDestination(batch, record);
  }

  // The single record at pending.begin exhausted its retries: its on-failure record goes to
  // the destination, then it is parked and its key quarantined for the rest of the group.
  Status QuarantineKey(const ShardBatch& batch, const Group& group, const Pending& pending,
                       QuarantinedKeys& quarantined) {
    TW_RETURN_IF_ERROR(
        SendToDestination(batch, FailureRecord(batch, group, pending, kRetryAttemptsExhausted)));
    const EventRecord& record = *group[pending.begin];
    TW_RETURN_IF_ERROR(Park(batch, record, kQuarantineReasonFailed));
    quarantined.insert(record.key);
    return Status::Ok();
  }

  // Stores `record` in the quarantine table (retried until stored, or until the batch stops).
  Status Park(const ShardBatch& batch, const EventRecord& record, std::string_view reason) {
    QuarantinedRecord parked;
    parked.consumer = quarantine_consumer_;
    parked.table = batch.table;
    parked.shard = batch.shard;
    parked.sequence = SequenceNumber(record.change->sequence());
    parked.key = record.key;
    parked.reason = std::string(reason);
    parked.parked_millis = options_.clock->NowMicros() / 1000;
    parked.record_json = record.json;
    for (int attempt = 1;; ++attempt) {
      Status stored = options_.quarantine->Park(parked);
      if (stored.ok()) break;
      if (!SleepUnlessStopped(Backoff(options_, attempt), batch.stop)) {
        return Status(stored.code(), "quarantine table: " + stored.message());
      }
    }
    if (options_.listener) options_.listener->Quarantined(parked);
    return Status::Ok();
  }

  // Lambda's on-failure record for records [pending.begin, pending.end).
  std::string FailureRecord(const ShardBatch& batch, const Group& group, const Pending& pending,
                            std::string_view condition) const {
    const ChangeRecord& first = *group[pending.begin]->change;
    const ChangeRecord& last = *group[pending.end - 1]->change;
    FailureRecordInfo info;
    info.condition = std::string(condition);
    info.function_arn = function_arn_;
    info.approximate_invoke_count = pending.invocations;
    info.function_error = pending.function_error;
    info.shard_id = ShardId(options_.table_creation_micros, batch.shard);
    info.start_sequence = SequenceNumber(first.sequence());
    info.end_sequence = SequenceNumber(last.sequence());
    info.first_arrival_micros = first.approximate_creation_time_micros();
    info.last_arrival_micros = last.approximate_creation_time_micros();
    info.batch_size = pending.end - pending.begin;
    info.stream_arn = group[pending.begin]->stream_arn;
    info.now_micros = options_.clock->NowMicros();
    return FailureRecordJson(info);
  }

  // Sends an on-failure record to the destination, if any (retried until stored, or until
  // the batch stops).
  Status SendToDestination(const ShardBatch& batch, const std::string& record) {
    if (options_.on_failure == nullptr) return Status::Ok();
    for (int attempt = 1;; ++attempt) {
      Status sent = options_.on_failure->Send(record);
      if (sent.ok()) return Status::Ok();
      if (!SleepUnlessStopped(Backoff(options_, attempt), batch.stop)) {
        return Status(sent.code(), "on-failure destination: " + sent.message());
      }
    }
  }

  const TriggerOptions options_;
  const TriggerFunction function_;
  const FilterCriteria filters_;
  const std::string function_arn_;
  const std::string quarantine_consumer_ =
      options_.quarantine_consumer.empty() ? options_.function_name : options_.quarantine_consumer;
};

}  // namespace

std::string BatchItemFailuresJson(const std::vector<std::string>& item_identifiers) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  w.Key("batchItemFailures");
  w.StartArray();
  for (const std::string& id : item_identifiers) {
    w.StartObject();
    w.Key("itemIdentifier");
    w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Status ValidateTriggerOptions(const TriggerOptions& options) {
  if (options.batch_size < 1 || options.batch_size > kMaxBatchSize) {
    return Status::Validation("BatchSize must be between 1 and 10000");
  }
  if (options.maximum_batching_window < std::chrono::milliseconds::zero() ||
      options.maximum_batching_window > kMaxBatchingWindow) {
    return Status::Validation("MaximumBatchingWindowInSeconds must be between 0 and 300");
  }
  if (options.maximum_retry_attempts < -1 || options.maximum_retry_attempts > kMaxRetryAttempts) {
    return Status::Validation("MaximumRetryAttempts must be between -1 and 10000");
  }
  if (options.maximum_record_age_seconds < -1 ||
      options.maximum_record_age_seconds > kMaxRecordAgeSeconds) {
    return Status::Validation("MaximumRecordAgeInSeconds must be between -1 and 604800");
  }
  if (options.parallelization_factor < 1 ||
      options.parallelization_factor > kMaxParallelizationFactor) {
    return Status::Validation("ParallelizationFactor must be between 1 and 10");
  }
  if (options.function_name.empty()) return Status::Validation("the function needs a name");
  if (options.clock == nullptr) return Status::Validation("the trigger needs a clock");
  if (options.poison_record_handling == PoisonRecordHandling::kQuarantineKey &&
      options.maximum_retry_attempts < 0) {
    return Status::Validation(
        "PoisonRecordHandling QUARANTINE_KEY needs MaximumRetryAttempts between 0 and 10000 "
        "(with -1 a failing record is retried for ever and never parked)");
  }
  return Status::Ok();
}

ConsumerOptions ConsumerOptionsFor(const TriggerOptions& options, std::string table,
                                   std::string application) {
  ConsumerOptions consumer;
  consumer.table = std::move(table);
  consumer.application = std::move(application);
  consumer.starting_position = options.starting_position;
  consumer.starting_time_micros = options.starting_position_timestamp_micros;
  consumer.max_batch_records = options.batch_size;
  consumer.max_batching_window = options.maximum_batching_window;
  consumer.retry_backoff_initial = options.retry_backoff_initial;
  consumer.retry_backoff_max = options.retry_backoff_max;
  return consumer;
}

Result<std::unique_ptr<TriggerProcessor>> TriggerProcessor::Create(TriggerOptions options,
                                                                   TriggerFunction function) {
  TW_RETURN_IF_ERROR(ValidateTriggerOptions(options));
  if (!function) return Status::Validation("the trigger needs a function");
  if (options.poison_record_handling == PoisonRecordHandling::kQuarantineKey &&
      options.quarantine == nullptr) {
    return Status::Validation("PoisonRecordHandling QUARANTINE_KEY needs a quarantine table");
  }
  TW_ASSIGN_OR_RETURN(FilterCriteria filters, FilterCriteria::Parse(options.filter_patterns));
  std::unique_ptr<TriggerProcessor> processor =
      std::make_unique<Processor>(std::move(options), std::move(function), std::move(filters));
  return processor;
}

}  // namespace tidewater::streams
