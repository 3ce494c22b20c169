#include "request_router.h"

#include <rapidjson/error/en.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>

#include "autoscaling_api.h"
#include "content_encoding.h"
#include "crc32.h"
#include "handlers.h"
#include "request_id.h"
#include "tidewater/core/utf8.h"
#include "tidewater/streams/stream_record_json.h"

namespace tidewater::server {
namespace {

// An operation has either a JSON handler or a binary one.
struct Operation {
  std::string_view prefix;
  std::string_view name;
  OperationHandler handler;
  BinaryOperationHandler binary_handler = nullptr;
};

constexpr std::array kOperations = {
    Operation{kDynamoDbPrefix, "CreateTable", &CreateTable},
    Operation{kDynamoDbPrefix, "DescribeTable", &DescribeTable},
    Operation{kDynamoDbPrefix, "ListTables", &ListTables},
    Operation{kDynamoDbPrefix, "DeleteTable", &DeleteTable},
    Operation{kDynamoDbPrefix, "UpdateTable", &UpdateTable},
    Operation{kDynamoDbPrefix, "UpdateTimeToLive", &UpdateTimeToLive},
    Operation{kDynamoDbPrefix, "DescribeTimeToLive", &DescribeTimeToLive},
    Operation{kDynamoDbPrefix, "TagResource", &TagResource},
    Operation{kDynamoDbPrefix, "UntagResource", &UntagResource},
    Operation{kDynamoDbPrefix, "ListTagsOfResource", &ListTagsOfResource},
    Operation{kDynamoDbPrefix, "DescribeLimits", &DescribeLimits},
    Operation{kDynamoDbPrefix, "DescribeEndpoints", &DescribeEndpoints},
    Operation{kDynamoDbPrefix, "CreateBackup", &CreateBackup},
    Operation{kDynamoDbPrefix, "DescribeBackup", &DescribeBackup},
    Operation{kDynamoDbPrefix, "ListBackups", &ListBackups},
    Operation{kDynamoDbPrefix, "DeleteBackup", &DeleteBackup},
    Operation{kDynamoDbPrefix, "RestoreTableFromBackup", &RestoreTableFromBackup},
    Operation{kDynamoDbPrefix, "UpdateContinuousBackups", &UpdateContinuousBackups},
    Operation{kDynamoDbPrefix, "DescribeContinuousBackups", &DescribeContinuousBackups},
    Operation{kDynamoDbPrefix, "RestoreTableToPointInTime", &RestoreTableToPointInTime},
    Operation{kDynamoDbPrefix, "TidewaterReadBackup", &TidewaterReadBackup},
    Operation{kDynamoDbPrefix, "TidewaterBeginBackupCopy", &TidewaterBeginBackupCopy},
    Operation{kDynamoDbPrefix, "TidewaterAppendBackupCopy", &TidewaterAppendBackupCopy},
    Operation{kDynamoDbPrefix, "TidewaterFinishBackupCopy", &TidewaterFinishBackupCopy},
    Operation{kDynamoDbPrefix, "ExportTableToPointInTime", &ExportTableToPointInTime},
    Operation{kDynamoDbPrefix, "DescribeExport", &DescribeExport},
    Operation{kDynamoDbPrefix, "ListExports", &ListExports},
    Operation{kDynamoDbPrefix, "ImportTable", &ImportTable},
    Operation{kDynamoDbPrefix, "DescribeImport", &DescribeImport},
    Operation{kDynamoDbPrefix, "ListImports", &ListImports},
    Operation{kDynamoDbPrefix, "PutItem", &PutItem},
    Operation{kDynamoDbPrefix, "GetItem", &GetItem},
    Operation{kDynamoDbPrefix, "UpdateItem", &UpdateItem},
    Operation{kDynamoDbPrefix, "DeleteItem", &DeleteItem},
    Operation{kDynamoDbPrefix, "Query", &Query},
    Operation{kDynamoDbPrefix, "Scan", &Scan},
    Operation{kDynamoDbPrefix, "BatchWriteItem", &BatchWriteItem},
    Operation{kDynamoDbPrefix, "BatchGetItem", &BatchGetItem},
    Operation{kDynamoDbPrefix, "TransactWriteItems", &TransactWriteItems},
    Operation{kDynamoDbPrefix, "TransactGetItems", &TransactGetItems},
    Operation{kStreamsPrefix, "ListStreams", &ListStreams},
    Operation{kStreamsPrefix, "DescribeStream", &DescribeStream},
    Operation{kStreamsPrefix, "GetShardIterator", &GetShardIterator},
    Operation{kStreamsPrefix, "GetRecords", &GetRecords},
    Operation{kReplicationPrefix, "ApplyReplicationBatch", nullptr, &ApplyReplicationBatch},
    Operation{kReplicationPrefix, "GetReplicationCheckpoints", nullptr, &GetReplicationCheckpoints},
    Operation{kReplicationPrefix, "SnapshotScan", nullptr, &SnapshotScan},
    Operation{kReplicationPrefix, "ShardDigests", nullptr, &ShardDigests},
    Operation{kReplicationPrefix, "ReportReplicatorProgress", nullptr, &ReportReplicatorProgress},
    Operation{kReplicationPrefix, "ListReplicatorProgress", nullptr, &ListReplicatorProgress},
    Operation{kAdminPrefix, "SplitShard", &SplitShard},
    Operation{kAdminPrefix, "EstimateCost", &EstimateCost},
    Operation{kAdminPrefix, "CreateCredentials", &CreateCredentials},
    Operation{kAdminPrefix, "ListCredentials", &ListCredentials},
    Operation{kAdminPrefix, "DeleteCredentials", &DeleteCredentials},
    Operation{kAdminPrefix, "PutPolicy", &PutPolicy},
    Operation{kAdminPrefix, "GetPolicy", &GetPolicy},
    Operation{kAdminPrefix, "DeletePolicy", &DeletePolicy},
    Operation{kAdminPrefix, "ListPolicies", &ListPolicies},
    Operation{kAutoScalingTargetPrefix, "RegisterScalableTarget", &RegisterScalableTarget},
    Operation{kAutoScalingTargetPrefix, "DescribeScalableTargets", &DescribeScalableTargets},
    Operation{kAutoScalingTargetPrefix, "DeregisterScalableTarget", &DeregisterScalableTarget},
    Operation{kAutoScalingTargetPrefix, "PutScalingPolicy", &PutScalingPolicy},
    Operation{kAutoScalingTargetPrefix, "DescribeScalingPolicies", &DescribeScalingPolicies},
    Operation{kAutoScalingTargetPrefix, "DeleteScalingPolicy", &DeleteScalingPolicy},
    Operation{kAutoScalingTargetPrefix, "DescribeScalingActivities", &DescribeScalingActivities},
};
constexpr size_t kUnknownOperationId = kOperations.size();

std::string_view OperationName(size_t operation_id) {
  return operation_id < kOperations.size() ? kOperations[operation_id].name : "Unknown";
}

size_t FindOperation(std::string_view target) {
  for (size_t i = 0; i < kOperations.size(); ++i) {
    const Operation& op = kOperations[i];
    if (target.size() == op.prefix.size() + op.name.size() && target.starts_with(op.prefix) &&
        target.ends_with(op.name)) {
      return i;
    }
  }
  return kUnknownOperationId;
}

// A request document is parsed into a per-thread pool that keeps its first block between
// requests, so small requests allocate nothing.
class ParseArena {
 public:
  ParseArena() : allocator_(first_block_, sizeof(first_block_)) {}
  rapidjson::MemoryPoolAllocator<>& allocator() { return allocator_; }
  void Reset() { allocator_.Clear(); }

 private:
  char first_block_[64 * 1024];
  rapidjson::MemoryPoolAllocator<> allocator_;
};

Status ParseRequestBody(std::string& body, rapidjson::Document& document) {
  if (body.empty()) return Status::Serialization("The request body is empty");
  // The whole body is checked for UTF-8 first, eight ASCII bytes at a time, so that the
  // parser can skip its own byte-by-byte check (which also turns off its vectorized scan
  // of strings).
  if (const size_t bad = FirstInvalidUtf8(body); bad != std::string::npos) {
    return Status::Serialization(
        std::string("Malformed JSON at offset ") + std::to_string(bad) + ": " +
        rapidjson::GetParseError_En(rapidjson::kParseErrorStringInvalidEncoding));
  }
  // Iterative: a deeply nested body must not exhaust the worker's stack.
  document.ParseInsitu<rapidjson::kParseIterativeFlag>(body.data());
  if (document.HasParseError()) {
    return Status::Serialization(std::string("Malformed JSON at offset ") +
                                 std::to_string(document.GetErrorOffset()) + ": " +
                                 rapidjson::GetParseError_En(document.GetParseError()));
  }
  if (!document.IsObject()) {
    return Status::Serialization("The request body must be a JSON object");
  }
  return Status::Ok();
}

}  // namespace

RequestOrigin RequestRouter::Origin(std::string_view principal,
                                    const HttpRequestView& http_request) const {
  return RequestOrigin{principal, http_request.remote_address(), service_->clock->NowMicros()};
}

RequestRouter::RequestRouter(ServiceContext* service, const Authenticator* authenticator,
                             size_t max_body_bytes, const RequestAuthorizer* authorizer,
                             const RequestForwarder* forwarder, CatalogSubmit catalog_submit)
    : service_(service),
      authenticator_(authenticator),
      max_body_bytes_(max_body_bytes),
      authorizer_(authorizer),
      forwarder_(forwarder),
      catalog_submit_(std::move(catalog_submit)) {}

std::vector<std::string> RequestRouter::OperationNames() {
  std::vector<std::string> names;
  for (size_t id = 0; id <= kOperations.size(); ++id) names.emplace_back(OperationName(id));
  return names;
}

ApiResponse RequestRouter::Handle(std::string_view amz_target, std::string& body,
                                  const HttpRequestView& http_request) const {
  auto started = std::chrono::steady_clock::now();
  size_t operation_id = FindOperation(amz_target);
  thread_local ParseArena arena;
  RequestScope scope;
  scope.tidewater_metadata = http_request.header(streams::kRecordMetadataHeader) == "1";
  scope.host = http_request.header("Host");
  scope.watermark = http_request.header(streams::kWatermarkHeader) == "1";
  ApiResponse response;
  response.request_id = NewRequestId();
  std::string principal;
  Status status;
  if (operation_id == kUnknownOperationId) {
    status = Status(
        ErrorCode::kUnknownOperation,
        "Unknown operation: " + std::string(amz_target.empty() ? "(no X-Amz-Target)" : amz_target));
  } else {
    status = authenticator_->Authenticate(http_request, &principal);
  }
  // Cluster mode: the body as received, for the owner of its shards should this node refuse it.
  const bool may_forward =
      forwarder_ != nullptr && status.ok() && kOperations[operation_id].prefix == kDynamoDbPrefix &&
      RequestForwarder::MayForward(kOperations[operation_id].name, http_request);
  std::string received_body;
  if (may_forward) received_body = body;
  bool body_too_large = false;
  if (status.ok()) {
    status = DecodeBody(http_request.header("Content-Encoding"), max_body_bytes_, body);
    body_too_large = status.code() == ErrorCode::kValidation;
    if (body_too_large) service_->metrics->BodyTooLarge();
  }
  // Cluster mode: DDL goes through the catalog, which every node applies.
  const bool through_catalog = catalog_submit_ && status.ok() &&
                               kOperations[operation_id].prefix == kDynamoDbPrefix &&
                               (kOperations[operation_id].name == "CreateTable" ||
                                kOperations[operation_id].name == "DeleteTable");
  std::string catalog_body;
  if (through_catalog) catalog_body = body;
  std::optional<ApiAnswer> catalog_answer;
  const bool binary =
      operation_id != kUnknownOperationId && kOperations[operation_id].binary_handler != nullptr;
  std::string binary_body;
  if (status.ok() && binary) {
    if (authorizer_ != nullptr) {
      status = authorizer_->Authorize(
          principal,
          BinaryAuthorizationRequests(*service_, kOperations[operation_id].name, body,
                                      Origin(principal, http_request)),
          response.request_id);
    }
    if (status.ok()) {
      status = kOperations[operation_id].binary_handler(*service_, body, &binary_body);
    }
  } else if (status.ok()) {
    rapidjson::Document document(&arena.allocator());
    status = ParseRequestBody(body, document);
    if (status.ok() && authorizer_ != nullptr) {
      const Operation& operation = kOperations[operation_id];
      status = authorizer_->Authorize(
          principal,
          JsonAuthorizationRequests(*service_, operation.prefix, operation.name, document,
                                    Origin(principal, http_request)),
          response.request_id);
    }
    if (status.ok() && through_catalog) {
      Result<ApiAnswer> applied =
          catalog_submit_(std::string(kOperations[operation_id].name), catalog_body);
      if (applied.ok()) {
        catalog_answer = std::move(*applied);
      } else {
        status = applied.status();
      }
    } else if (status.ok()) {
      status = kOperations[operation_id].handler(*service_, document, scope);
    }
  }
  arena.Reset();
  // Application Auto Scaling speaks JSON 1.1 with its own error shape.
  const bool autoscaling = operation_id != kUnknownOperationId &&
                           kOperations[operation_id].prefix == kAutoScalingTargetPrefix;
  if (autoscaling) response.content_type = kAmzJson11ContentType;
  if (catalog_answer) {
    response.http_status = catalog_answer->http_status;
    response.body = std::move(catalog_answer->body);
  } else if (status.ok() && binary) {
    response.body = std::move(binary_body);
    response.content_type = kProtobufContentType;
  } else if (status.ok()) {
    response.body.assign(scope.buffer.GetString(), scope.buffer.GetSize());
  } else {
    ApiError error =
        autoscaling ? ToAutoScalingApiError(status) : ToApiError(status, scope.error_details);
    response.http_status = body_too_large ? 413 : error.http_status;
    response.body = std::move(error.body);
    if (may_forward && status.code() == ErrorCode::kServiceUnavailable) {
      // Refused with nothing done: the node serving the request's shards may take it.
      response.forward =
          forwarder_->Plan(kOperations[operation_id].name, received_body, http_request);
    }
    if (response.forward) {
      response.forward->operation_id = operation_id;
      response.forward->received = started;
    } else {
      service_->metrics->ErrorReturned(operation_id, ErrorTypeName(status.code()));
    }
  }
  response.crc32 = Crc32Header(response.body);
  if (response.forward) return response;  // counted and logged once forwarded
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  service_->metrics->RequestDone(operation_id, seconds);
  if (response.http_status == 503) {
    // Refused with nothing done, for the client to retry (in cluster mode: a shard served by
    // another node, or recovering): routine, counted in the error metrics by type.
    spdlog::debug("event=request_refused request_id={} operation={} error=\"{}\"",
                  response.request_id, OperationName(operation_id), status.message());
  } else if (response.http_status >= 500) {
    spdlog::error("event=internal_error request_id={} operation={} error=\"{}\"",
                  response.request_id, OperationName(operation_id), status.message());
  } else {
    spdlog::debug("event=request request_id={} operation={} status={} micros={}",
                  response.request_id, OperationName(operation_id), response.http_status,
                  static_cast<int64_t>(seconds * 1e6));
  }
  return response;
}

ApiAnswer RequestRouter::Apply(std::string_view operation, std::string body) const {
  const size_t operation_id = FindOperation(std::string(kDynamoDbPrefix) + std::string(operation));
  RequestScope scope;
  Status status =
      operation_id == kUnknownOperationId
          ? Status(ErrorCode::kUnknownOperation, "Unknown operation: " + std::string(operation))
          : Status::Ok();
  rapidjson::Document document;
  if (status.ok()) status = ParseRequestBody(body, document);
  if (status.ok()) status = kOperations[operation_id].handler(*service_, document, scope);
  if (status.ok())
    return ApiAnswer{200, std::string(scope.buffer.GetString(), scope.buffer.GetSize())};
  ApiError error = ToApiError(status, scope.error_details);
  return ApiAnswer{error.http_status, std::move(error.body)};
}

void RequestRouter::Forward(ApiResponse refused, boost::asio::any_io_executor executor,
                            std::function<void(ApiResponse)> done) const {
  ForwardPlan plan = *refused.forward;
  forwarder_->Send(std::move(plan), std::move(executor),
                   [this, refused = std::move(refused),
                    done = std::move(done)](ForwardedResponse answer) mutable {
                     done(Forwarded(std::move(refused), std::move(answer)));
                   });
}

ApiResponse RequestRouter::Forwarded(ApiResponse refused, ForwardedResponse answer) const {
  const size_t operation_id = refused.forward->operation_id;
  const auto received = refused.forward->received;
  refused.forward.reset();
  ApiResponse response;
  if (!answer.sent) {
    response = std::move(refused);  // the owner is unreachable: the refusal stands
    service_->metrics->ErrorReturned(operation_id, ErrorTypeName(ErrorCode::kServiceUnavailable));
    spdlog::debug("event=request_refused request_id={} operation={} error=\"owner unreachable\"",
                  response.request_id, OperationName(operation_id));
  } else {
    service_->metrics->Forwarded(operation_id, answer.answered, answer.seconds);
    response.http_status = answer.http_status;
    response.body = std::move(answer.body);
    response.request_id =
        answer.request_id.empty() ? std::move(refused.request_id) : std::move(answer.request_id);
    response.crc32 = answer.crc32.empty() ? Crc32Header(response.body) : std::move(answer.crc32);
    spdlog::debug("event=request_forwarded request_id={} operation={} status={} micros={}",
                  response.request_id, OperationName(operation_id), response.http_status,
                  static_cast<int64_t>(answer.seconds * 1e6));
  }
  service_->metrics->RequestDone(
      operation_id,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
  return response;
}

}  // namespace tidewater::server
