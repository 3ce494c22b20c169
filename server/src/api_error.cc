#include "api_error.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>

#include "tidewater/core/json_codec.h"

namespace tidewater::server {
namespace {

constexpr std::string_view kDynamoDbNamespace = "com.amazonaws.dynamodb.v20120810#";
constexpr std::string_view kCoralServiceNamespace = "com.amazon.coral.service#";
constexpr std::string_view kCoralValidateNamespace = "com.amazon.coral.validate#";

// DynamoDB's request-shape validator answers "1 validation error detected: ..." (or "N
// validation errors detected") under the coral namespace; semantic checks use DynamoDB's.
bool IsConstraintViolation(const std::string& message) {
  size_t i = 0;
  while (i < message.size() && std::isdigit(static_cast<unsigned char>(message[i]))) ++i;
  if (i == 0) return false;
  std::string_view rest = std::string_view(message).substr(i);
  return rest.starts_with(" validation error detected") ||
         rest.starts_with(" validation errors detected");
}

std::string_view NamespaceFor(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kSerialization:
    case ErrorCode::kUnknownOperation:
    case ErrorCode::kAccessDenied:
    case ErrorCode::kMissingAuthenticationToken:
    case ErrorCode::kIncompleteSignature:
    case ErrorCode::kInvalidSignature:
    case ErrorCode::kUnrecognizedClient:
    case ErrorCode::kExpiredToken:
      return kCoralServiceNamespace;
    case ErrorCode::kValidation:
      return IsConstraintViolation(status.message()) ? kCoralValidateNamespace : kDynamoDbNamespace;
    default:
      return kDynamoDbNamespace;
  }
}

// DynamoDB spells the member "Message" for these types and "message" for the others.
bool UsesCapitalizedMessage(ErrorCode code) {
  return code == ErrorCode::kTransactionCanceled || code == ErrorCode::kSerialization;
}

}  // namespace

std::string QualifiedErrorType(const Status& status) {
  std::string type(NamespaceFor(status));
  type += ErrorTypeName(status.code());
  return type;
}

unsigned HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInternal:
    case ErrorCode::kIOError:
      return 500;
    case ErrorCode::kServiceUnavailable:
      return 503;
    default:
      return 400;
  }
}

ApiError ToApiError(const Status& status, const ErrorDetails& details) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  writer.Key("__type");
  std::string type = QualifiedErrorType(status);
  writer.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
  if (status.code() == ErrorCode::kTransactionCanceled) {
    writer.Key("CancellationReasons");
    writer.StartArray();
    const std::vector<Status>& reasons = status.reasons();
    for (size_t i = 0; i < reasons.size(); ++i) {
      writer.StartObject();
      writer.Key("Code");
      std::string_view code = CancellationReasonCode(reasons[i].code());
      writer.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
      if (!reasons[i].ok()) {
        writer.Key("Message");
        writer.String(reasons[i].message().data(),
                      static_cast<rapidjson::SizeType>(reasons[i].message().size()));
      }
      if (i < details.cancellation_items.size() && details.cancellation_items[i]) {
        writer.Key("Item");
        json::WriteItem(*details.cancellation_items[i], writer);
      }
      writer.EndObject();
    }
    writer.EndArray();
  }
  if (status.code() == ErrorCode::kConditionalCheckFailed && details.condition_failed_item) {
    writer.Key("Item");
    json::WriteItem(*details.condition_failed_item, writer);
  }
  if (status.code() == ErrorCode::kProvisionedThroughputExceeded &&
      !details.throttling_reasons.empty()) {
    writer.Key("ThrottlingReasons");
    writer.StartArray();
    for (const ErrorDetails::ThrottlingReason& reason : details.throttling_reasons) {
      writer.StartObject();
      writer.Key("reason");
      writer.String(reason.reason.data(), static_cast<rapidjson::SizeType>(reason.reason.size()));
      writer.Key("resource");
      writer.String(reason.resource.data(),
                    static_cast<rapidjson::SizeType>(reason.resource.size()));
      writer.EndObject();
    }
    writer.EndArray();
  }
  writer.Key(UsesCapitalizedMessage(status.code()) ? "Message" : "message");
  writer.String(status.message().data(), static_cast<rapidjson::SizeType>(status.message().size()));
  writer.EndObject();
  return ApiError{HttpStatusFor(status.code()), std::string(buffer.GetString(), buffer.GetSize())};
}

}  // namespace tidewater::server
