// Private: the JSON documents of a trigger (the Lambda DynamoDB event, the on-failure record)
// and the reading of a function's partial batch response.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/engine.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"

namespace tidewater::streams {

// One event record: the stream record JSON with "eventSourceARN" added.
Result<std::string> EventRecordJson(const ChangeRecord& record, uint64_t table_id,
                                    std::string_view region, std::string_view stream_arn);

// {"Records":[<record>,...]} from event record texts.
std::string EventJson(const std::vector<const std::string*>& records);

// What a function's response says, with ReportBatchItemFailures.
struct BatchResponse {
  // nullopt: the whole batch succeeded. Otherwise the index (into the invoked records) of
  // the first record to retry; 0 when the whole batch failed (bad or unknown identifier).
  std::optional<size_t> retry_from;
};
// `sequences` are the invoked records' sequences, in order.
BatchResponse ReadBatchResponse(std::string_view payload, const std::vector<uint64_t>& sequences);

// Lambda's on-failure record for a DynamoDB stream batch.
struct FailureRecordInfo {
  std::string condition;  // RetryAttemptsExhausted | RecordAgeExceeded
  std::string function_arn;
  int approximate_invoke_count = 0;
  bool function_error = false;  // the last invocation failed with a function error
  std::string shard_id;
  SequenceNumber start_sequence;
  SequenceNumber end_sequence;
  int64_t first_arrival_micros = 0;
  int64_t last_arrival_micros = 0;
  size_t batch_size = 0;
  std::string stream_arn;
  int64_t now_micros = 0;
};
std::string FailureRecordJson(const FailureRecordInfo& info);

}  // namespace tidewater::streams
