// A client for one tidewaterd endpoint: POSTs AWS JSON 1.0 requests (DynamoDB, DynamoDB
// Streams) and tidewaterd's Protobuf operations, and GETs plain paths such as /metrics.
//
// Errors: a DynamoDB error document ({"__type":"...#ResourceNotFoundException",
// "message":...}) becomes a Status with the matching ErrorCode and the server's message;
// an unreachable endpoint, a broken connection or a timeout is kIOError ("tidewaterd at
// <url>: ..."); other non-2xx answers are kInternal. Nothing is retried here: callers
// decide (IsRetryable says which errors a retry can cure).
//
// Authentication: with an identity, every request (POST and GET) is signed with AWS
// Signature Version 4 as the AWS SDKs sign it: host, x-amz-date, x-amz-security-token (with
// temporary credentials), and for POSTs content-type, x-amz-target and the extra headers;
// scoped to the identity's region and to "application-autoscaling" for Application Auto
// Scaling's operations (X-Amz-Target "AnyScaleFrontendService.*"), "dynamodb" for the rest.
// A server checking signatures refuses them unless the scope's region is its --region.
//
// TLS: an "https://" endpoint is reached over TLS 1.2+ (security/tls.h's policy), with SNI,
// the server's certificate verified against the CA bundle (ServiceClientOptions::tls;
// default: the file AWS_CA_BUNDLE names, else the system's store) and its host name
// checked against the URL's host. A failed verification is kIOError naming the reason
// ("certificate verify failed").
//
// Thread safety: none; one client per thread. It keeps one keep-alive connection (TLS
// session included) and reconnects on the next call after a failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tidewater/core/status.h"
#include "tidewater/security/client_credentials.h"
#include "tidewater/security/tls.h"

namespace tidewater::streams {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

// How a ServiceClient calls its endpoint.
struct ServiceClientOptions {
  // Bounds each call (connect, send and receive together).
  std::chrono::milliseconds timeout{10'000};
  // What requests are signed with; nullopt: unsigned (a server with --auth off accepts them).
  std::optional<security::SigningIdentity> identity;
  // For https endpoints: the CA bundle (empty: AWS_CA_BUNDLE, else the system's store) and
  // an optional client certificate (servers with --tls-client-ca). Unused for http.
  security::TlsClientOptions tls;
};

// The identity a client signs with when its caller names none: what
// security::ResolveSigningIdentity(profile) finds (the AWS CLI's environment variables and
// shared files; nullopt when there are no credentials), scoped to `region` instead of the
// profile's when `region` is not empty (a server whose --region is another). Errors:
// ResolveSigningIdentity's.
Result<std::optional<security::SigningIdentity>> ResolveClientIdentity(
    const std::string& profile = "", const std::string& region = "");

class ServiceClient {
 public:
  // `endpoint_url`: "http://HOST:PORT" or "https://HOST:PORT" (a trailing "/" is allowed).
  // `timeout` bounds each call (connect, send and receive together). Requests are signed with
  // ResolveClientIdentity()'s identity (unsigned when it finds none); its errors are
  // Create's.
  static Result<std::unique_ptr<ServiceClient>> Create(
      std::string_view endpoint_url,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));
  // The same with the identity (or none) and TLS options given. Errors also: an unreadable
  // CA bundle or client certificate (https only).
  static Result<std::unique_ptr<ServiceClient>> Create(std::string_view endpoint_url,
                                                       ServiceClientOptions options);
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
