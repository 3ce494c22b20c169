// Trigger functions and on-failure destinations outside the process (streams/trigger.h):
//  * exec: runs a program per batch, the Lambda DynamoDB event on its stdin; its stdout is
//    the response (may carry {"batchItemFailures":[...]}); a non-zero exit is a function
//    error; a program still running after the timeout is killed (SIGKILL to its process
//    group, so its children go too) and counts as a function error; stderr goes to the log.
//  * webhook: POSTs the event (Content-Type: application/json) to an http:// URL; a 2xx
//    answer is a success whose body is the response; any other status, a connection error
//    or the timeout is a function error.
//  * destinations: a JSON Lines file (one record per line, appended and fsynced before Send
//    returns), or a Kafka topic (idempotent producer; Send returns once the broker acked).
// The C++ function type for SDK users is streams::TriggerFunction itself.
//
// [Threading] the functions and destinations returned here are safe to call from several
// threads at once (exec runs one process per call; the file destination serializes
// appends; the Kafka destination shares one producer).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tidewater/core/status.h"
#include "tidewater/streams/trigger.h"

namespace tidewater::connectors {

struct ExecFunctionOptions {
  std::vector<std::string> argv;  // program (looked up in PATH) and its arguments
  std::chrono::milliseconds timeout{60'000};
  std::string log_name = "trigger";  // prefixes the program's stderr lines in the log
};

// Errors: Validation when argv is empty or the timeout is not positive.
Result<streams::TriggerFunction> MakeExecFunction(ExecFunctionOptions options);

struct WebhookFunctionOptions {
  std::string url;  // http://host[:port]/path (no TLS)
  std::chrono::milliseconds timeout{60'000};
  std::map<std::string, std::string> headers;  // added to each request
};

// Errors: Validation when the URL is not an http:// URL.
Result<streams::TriggerFunction> MakeWebhookFunction(WebhookFunctionOptions options);

// Appends to `path` (created when missing). Errors: IOError when it cannot be opened.
Result<std::unique_ptr<streams::FailureDestination>> MakeJsonLinesDestination(
    const std::string& path);

struct KafkaDestinationOptions {
  std::string brokers;  // bootstrap.servers
  std::string topic;
  std::map<std::string, std::string> properties;  // extra librdkafka properties
  std::chrono::milliseconds delivery_timeout{30'000};
};

// Errors: Validation (a property librdkafka rejects, no brokers or topic).
Result<std::unique_ptr<streams::FailureDestination>> MakeKafkaDestination(
    KafkaDestinationOptions options);

}  // namespace tidewater::connectors
