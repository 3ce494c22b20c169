// A client for one tidewaterd endpoint: POSTs AWS JSON 1.0 requests (DynamoDB, DynamoDB
// Streams) and tidewaterd's Protobuf operations, and GETs plain paths such as /metrics.
//
// Errors: a DynamoDB error document ({"__type":"...#ResourceNotFoundException",
// "message":...}) becomes a Status with the matching ErrorCode and the server's message;
// an unreachable endpoint, a broken connection or a timeout is kIOError ("tidewaterd at
// <url>: ..."); other non-2xx answers are kInternal. Nothing is retried here: callers
// decide (IsRetryable says which errors a retry can cure).
//
// Thread safety: none; one client per thread. It keeps one keep-alive connection and
// reconnects on the next call after a failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tidewater/core/status.h"

namespace tidewater::streams {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

class ServiceClient {
 public:
  // `endpoint_url`: "http://HOST:PORT" (a trailing "/" is allowed). `timeout` bounds
  // each call (connect, send and receive together).
  static Result<std::unique_ptr<ServiceClient>> Create(
      std::string_view endpoint_url,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));
  virtual ~ServiceClient() = default;

  // POST / with X-Amz-Target `target` ("DynamoDB_20120810.PutItem",
  // "DynamoDBStreams_20120810.GetRecords", ...); returns the response JSON text.
  virtual Result<std::string> CallJson(std::string_view target, std::string_view json_body,
                                       const HttpHeaders& extra_headers = {}) = 0;
  // POST / with X-Amz-Target and Content-Type application/x-protobuf; returns the body.
  virtual Result<std::string> CallBinary(std::string_view target, std::string_view body) = 0;
  // GET `path`, any status (the caller reads it).
  virtual Result<HttpResponse> Get(std::string_view path) = 0;

  virtual const std::string& endpoint_url() const = 0;
};

// Whether a failed call may succeed when repeated: connection failures, timeouts,
// throttling and server-side errors. Validation and not-found errors are not.
bool IsRetryable(const Status& status);

}  // namespace tidewater::streams
