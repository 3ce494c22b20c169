// The AWS JSON 1.0 front door: maps "X-Amz-Target: DynamoDB_20120810.<Operation>" (or
// DynamoDBStreams_20120810.<Operation>, or Application Auto Scaling's JSON 1.1
// AnyScaleFrontendService.<Operation>, autoscaling_api.h) to its handler (and the internal
// TidewaterReplication_20261126.<Operation>, whose bodies are Protobuf), authenticates, decodes
// a compressed body (Content-Encoding, content_encoding.h), parses the body, runs the handler and
// turns the outcome into the response body, status and headers (errors via api_error.h). Records
// per-operation metrics; with an authorizer, authorizes each request for its principal. Thread
// safety: Handle is safe to call concurrently.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "request_authorization.h"
#include "request_forwarding.h"
#include "service_context.h"
#include "tidewater/server/authenticator.h"
#include "tidewater/server/server.h"

namespace tidewater::server {

inline constexpr std::string_view kAmzJsonContentType = "application/x-amz-json-1.0";
inline constexpr std::string_view kProtobufContentType = "application/x-protobuf";

// The X-Amz-Target prefixes of the APIs served (Application Auto Scaling's:
// autoscaling_api.h).
inline constexpr std::string_view kDynamoDbPrefix = "DynamoDB_20120810.";
inline constexpr std::string_view kStreamsPrefix = "DynamoDBStreams_20120810.";
inline constexpr std::string_view kReplicationPrefix = "TidewaterReplication_20261126.";
inline constexpr std::string_view kAdminPrefix = "TidewaterAdmin_20261205.";

struct ApiResponse {
  unsigned http_status = 200;
  std::string body;
  std::string request_id;
  std::string crc32;                                    // x-amz-crc32
  std::string_view content_type = kAmzJsonContentType;  // errors are always JSON
  // Cluster mode: this response is the local refusal (ServiceUnavailable) of a request the
  // node serving its shards may take; RequestRouter::Forward sends it there.
  std::optional<ForwardPlan> forward;
};

class RequestRouter {
 public:
  // `service`, `authenticator` and `authorizer` must outlive the router. A compressed body may
  // decode to at most `max_body_bytes` (more is answered 413, as an oversized body).
  // `authorizer` null: every authenticated request may do everything (authorization open);
  // else each request is authorized for its principal after it is parsed, before its handler
  // runs (request_authorization.h). `forwarder` (cluster mode; not owned) sends an item
  // operation refused with ServiceUnavailable to the node serving its shards, whose answer
  // is then the response (request_forwarding.h); null: the refusal is the response.
  RequestRouter(ServiceContext* service, const Authenticator* authenticator, size_t max_body_bytes,
                const RequestAuthorizer* authorizer = nullptr,
                const RequestForwarder* forwarder = nullptr, CatalogSubmit catalog_submit = {});

  // Every operation name served ("PutItem", "GetRecords", ...), then "Unknown"; an
  // operation's position is its id in ServerMetrics.
  static std::vector<std::string> OperationNames();

  // `body` is decoded and parsed in place (its contents are destroyed). A response with
  // `forward` set goes to Forward before it is written.
  ApiResponse Handle(std::string_view amz_target, std::string& body,
                     const HttpRequestView& http_request) const;

  // Runs the DynamoDB `operation`'s handler on `body` (JSON) with no authentication or
  // authorization: a catalog change applied here (Server::ApplyCatalogChange).
  ApiAnswer Apply(std::string_view operation, std::string body) const;

  // Sends `refused.forward` to the node serving the request's shards, asynchronously on
  // `executor` (the calling worker thread's), and calls `done` there with the response to
  // write: the owner's answer; `refused` itself when the owner could not be reached; an
  // InternalServerError when it failed after the request was sent (the outcome unknown).
  void Forward(ApiResponse refused, boost::asio::any_io_executor executor,
               std::function<void(ApiResponse)> done) const;

 private:
  // What authorization needs of the request besides its body.
  RequestOrigin Origin(std::string_view principal, const HttpRequestView& http_request) const;
  // The response to write for `refused` once its forwarding ended with `answer`.
  ApiResponse Forwarded(ApiResponse refused, ForwardedResponse answer) const;

  ServiceContext* service_;
  const Authenticator* authenticator_;
  size_t max_body_bytes_;
  const RequestAuthorizer* authorizer_;
  const RequestForwarder* forwarder_;
  CatalogSubmit catalog_submit_;
};

}  // namespace tidewater::server
