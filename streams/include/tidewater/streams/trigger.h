// Triggers: a function run over a table's change stream with the semantics Lambda gives a
// DynamoDB event source mapping, so that existing Lambda handlers run unchanged.
//
// A TriggerProcessor is a BatchHandler for the consumer SDK (consumer.h): the consumer
// hands it one shard's records at a time, in order, and checkpoints when it returns ok.
// For each such batch the processor
//  * drops records no FilterCriteria pattern matches (they are checkpointed, never sent);
//  * invokes the function with the Lambda DynamoDB event
//      {"Records":[{"eventID","eventName","eventVersion","eventSource":"aws:dynamodb",
//                   "awsRegion","dynamodb":{...},"eventSourceARN"}, ...]}
//    whose records are in sequence order;
//  * on a function error retries the same records (MaximumRetryAttempts; -1: until they
//    are too old or the consumer stops), or with BisectBatchOnFunctionError first splits
//    the batch in two and runs the halves in order (splitting uses no retry);
//  * with ReportBatchItemFailures reads {"batchItemFailures":[{"itemIdentifier":"<seq>"}]}
//    from the response: records before the lowest reported sequence are done and the rest
//    is retried; an empty, missing or unknown identifier fails the whole batch;
//  * skips records older than MaximumRecordAgeInSeconds, and gives up on records whose
//    retries are exhausted: their batch's metadata goes to the OnFailure destination as
//    Lambda's on-failure record (requestContext, responseContext, version, timestamp,
//    DDBStreamBatchInfo), then processing moves on;
//  * with ParallelizationFactor N > 1 splits the batch by partition key into N groups
//    invoked concurrently; each group keeps its records' order;
//  * with PoisonRecordHandling QUARANTINE_KEY (off by default), records whose retries are
//    exhausted are not given up on as a batch: the failing range is bisected down to the
//    single failing record (each half gets one more invocation), whose on-failure record
//    goes to the destination and which is parked in the quarantine table (quarantine.h);
//    its item key is then quarantined: every later record of that key (same Keys) is
//    parked behind it, in sequence order, without being invoked, while the records of
//    other keys go on. A key stays quarantined until an operator deletes its parked
//    records from the table. Parked records are checkpointed past (they are stored).
// Ordering guarantee: a record is never handed to the function before every earlier record
// of the same group (the shard, or the partition-key group with ParallelizationFactor) is
// done (accepted, given up on, or parked); retries and bisection never reorder. With
// QUARANTINE_KEY no record of a quarantined key is handed to the function, so per key the
// function sees a prefix of the key's records and the table holds the rest, in order.
// Returns an error only when the batch stops (ShardBatch::stop) before it is done, or the
// destination is unusable when stopping: the consumer then delivers the batch again.
//
// [Threading] operator() is called concurrently for different shards; the function and
// the destination are called from those threads (and, with ParallelizationFactor, from
// up to N threads per shard) and must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/clock.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/quarantine.h"

namespace tidewater::streams {

// One invocation of a trigger's function.
struct TriggerInvocation {
  TableName table;
  ShardIndex shard;
  std::string event_json;  // the Lambda DynamoDB event, {"Records":[...]}
  size_t record_count = 0;
  SequenceNumber first_sequence;
  SequenceNumber last_sequence;
  std::stop_token stop;  // the consumer is stopping: finish quickly
};

// The function. Returns its response payload (JSON text; empty is a success without a
// response) or an error: a function error, the whole batch failed. The C++ handler type
// of the SDK; connectors/trigger_handlers.h builds exec and webhook functions.
using TriggerFunction = std::function<Result<std::string>(const TriggerInvocation& invocation)>;

// The partial batch response for `item_identifiers` (sequence numbers as the event shows
// them): {"batchItemFailures":[{"itemIdentifier":"..."}, ...]}.
std::string BatchItemFailuresJson(const std::vector<std::string>& item_identifiers);

// Where the on-failure records go (DestinationConfig.OnFailure).
// [Contract] Send returns ok only once the record is stored durably; the processor then
// moves past the records it describes. On an error the processor retries with backoff.
// [Threading] called concurrently from several shard threads.
class FailureDestination {
 public:
  virtual ~FailureDestination() = default;
  virtual Status Send(std::string_view record_json) = 0;
};

// Observes a trigger, for metrics and logs. Default: ignores everything.
// [Threading] called from the shard threads, concurrently; keep it cheap.
class TriggerListener {
 public:
  virtual ~TriggerListener() = default;
  virtual void Invoked(const TriggerInvocation& /*invocation*/,
                       std::chrono::nanoseconds /*duration*/, const Status& /*outcome*/) {}
  // Records the function accepted.
  virtual void Processed(ShardIndex /*shard*/, size_t /*records*/) {}
  // Records dropped by FilterCriteria.
  virtual void Filtered(ShardIndex /*shard*/, size_t /*records*/) {}
  // Records given up on; condition is "RetryAttemptsExhausted" or "RecordAgeExceeded".
  virtual void Discarded(ShardIndex /*shard*/, size_t /*records*/, std::string_view /*condition*/,
                         std::string_view /*record_json*/) {}
  // A record parked in the quarantine table; reason is kQuarantineReasonFailed or
  // kQuarantineReasonKeyQuarantined (quarantine.h).
  virtual void Quarantined(const QuarantinedRecord& /*record*/) {}
};

// What happens to a record whose retries are exhausted (PoisonRecordHandling, a Tidewater
// extension): kBlockShard is Lambda's behaviour (the shard waits while the batch is retried,
// then the batch is given up on); kQuarantineKey parks the failing record and its key's
// later records (see the file comment).
enum class PoisonRecordHandling { kBlockShard, kQuarantineKey };

// Event source mapping options, under Lambda's meaning (names in comments).
struct TriggerOptions {
  std::string function_name = "trigger";                 // shown as requestContext.functionArn
  size_t batch_size = 100;                               // BatchSize: 1..10000
  std::chrono::milliseconds maximum_batching_window{0};  // MaximumBatchingWindowInSeconds 0..300
  StartingPosition starting_position = StartingPosition::kLatest;  // StartingPosition
  // StartingPositionTimestamp (with AT_TIMESTAMP), in micro-seconds since the epoch.
  int64_t starting_position_timestamp_micros = 0;
  int maximum_retry_attempts = -1;              // MaximumRetryAttempts: -1 (infinite)..10000
  int64_t maximum_record_age_seconds = -1;      // MaximumRecordAgeInSeconds: -1 (infinite)..604800
  bool bisect_batch_on_function_error = false;  // BisectBatchOnFunctionError
  bool report_batch_item_failures = false;      // FunctionResponseTypes: [ReportBatchItemFailures]
  std::vector<std::string> filter_patterns;     // FilterCriteria.Filters[].Pattern
  int parallelization_factor = 1;               // ParallelizationFactor: 1..10
  // The attribute that groups records for ParallelizationFactor (the table's partition
  // key). Empty: records are grouped by their whole key (order is then kept per item).
  std::string partition_key_attribute;
  FailureDestination* on_failure = nullptr;  // DestinationConfig.OnFailure; not owned
  PoisonRecordHandling poison_record_handling = PoisonRecordHandling::kBlockShard;
  // With kQuarantineKey: where records are parked (required; not owned), and the consumer
  // name they are parked under (empty: function_name).
  QuarantineStore* quarantine = nullptr;
  std::string quarantine_consumer;
  TriggerListener* listener = nullptr;  // not owned

  // How events name their source: awsRegion, eventID (table id), the stream ARN and the
  // shard id of on-failure records (table creation time, as tidewaterd shows them).
  std::string region = "local";
  uint64_t table_id = 0;
  int64_t table_creation_micros = 0;

  // Wait between retries of a failed batch: doubles from initial up to max.
  std::chrono::milliseconds retry_backoff_initial{100};
  std::chrono::milliseconds retry_backoff_max{10'000};
  Clock* clock = Clock::System();  // record age and timestamps; not owned
};

// Checks the options against Lambda's limits. Errors: Validation naming the option.
Status ValidateTriggerOptions(const TriggerOptions& options);

// The consumer options that realise the trigger's batching and starting position.
ConsumerOptions ConsumerOptionsFor(const TriggerOptions& options, std::string table,
                                   std::string application);

class TriggerProcessor {
 public:
  // Errors: Validation (ValidateTriggerOptions, a filter pattern that does not parse, or
  // kQuarantineKey without a quarantine store).
  static Result<std::unique_ptr<TriggerProcessor>> Create(TriggerOptions options,
                                                          TriggerFunction function);
  virtual ~TriggerProcessor() = default;

  // The BatchHandler: see the file comment.
  virtual Status Process(const ShardBatch& batch) = 0;

  // Process as a BatchHandler; the processor must outlive it.
  BatchHandler AsBatchHandler() {
    return [this](const ShardBatch& batch) { return Process(batch); };
  }
};

}  // namespace tidewater::streams
