// Maps a Status onto the wire exactly as DynamoDB answers errors:
//   HTTP 400 {"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
//             "message":"Requested resource not found"}
// with the namespace DynamoDB uses for each type (com.amazon.coral.service# for
// SerializationException and UnknownOperationException, com.amazon.coral.validate# for
// "N validation error(s) detected: ..." constraint failures), "Message" where DynamoDB
// capitalizes it, CancellationReasons for TransactionCanceledException, ThrottlingReasons for
// ProvisionedThroughputExceededException, and HTTP 500 for internal errors.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tidewater/core/attribute_value.h"
#include "tidewater/core/status.h"

namespace tidewater::server {

// Items a failed condition reports back when the request asked for
// ReturnValuesOnConditionCheckFailure=ALL_OLD.
struct ErrorDetails {
  // ConditionalCheckFailedException: the item as it was ("Item").
  std::optional<Item> condition_failed_item;
  // TransactionCanceledException: per action, the item as it was (index = reason index).
  std::vector<std::optional<Item>> cancellation_items;
  // ProvisionedThroughputExceededException: why and where ("ThrottlingReasons").
  struct ThrottlingReason {
    std::string reason;    // e.g. "TableWriteProvisionedThroughputExceeded"
    std::string resource;  // the table's ARN
  };
  std::vector<ThrottlingReason> throttling_reasons;
};

struct ApiError {
  unsigned http_status = 400;
  std::string body;  // the JSON document
};

// "com.amazonaws.dynamodb.v20120810#ValidationException" and friends.
std::string QualifiedErrorType(const Status& status);
unsigned HttpStatusFor(ErrorCode code);
// `status` must not be ok.
ApiError ToApiError(const Status& status, const ErrorDetails& details = {});

}  // namespace tidewater::server
