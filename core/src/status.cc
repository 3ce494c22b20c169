#include "tidewater/core/status.h"

namespace tidewater {

std::string_view ErrorTypeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "None";
    case ErrorCode::kValidation:
      return "ValidationException";
    case ErrorCode::kResourceNotFound:
      return "ResourceNotFoundException";
    case ErrorCode::kResourceInUse:
      return "ResourceInUseException";
    case ErrorCode::kConditionalCheckFailed:
      return "ConditionalCheckFailedException";
    case ErrorCode::kTransactionCanceled:
      return "TransactionCanceledException";
    case ErrorCode::kTransactionConflict:
      return "TransactionConflictException";
    case ErrorCode::kIdempotentParameterMismatch:
      return "IdempotentParameterMismatchException";
    case ErrorCode::kSerialization:
      return "SerializationException";
    case ErrorCode::kUnknownOperation:
      return "UnknownOperationException";
    case ErrorCode::kProvisionedThroughputExceeded:
      return "ProvisionedThroughputExceededException";
    case ErrorCode::kLimitExceeded:
      return "LimitExceededException";
    case ErrorCode::kItemCollectionSizeLimitExceeded:
      return "ItemCollectionSizeLimitExceededException";
    case ErrorCode::kExpiredIterator:
      return "ExpiredIteratorException";
    case ErrorCode::kTrimmedDataAccess:
      return "TrimmedDataAccessException";
    case ErrorCode::kAccessDenied:
      return "AccessDeniedException";
    case ErrorCode::kBackupNotFound:
      return "BackupNotFoundException";
    case ErrorCode::kBackupInUse:
      return "BackupInUseException";
    case ErrorCode::kTableAlreadyExists:
      return "TableAlreadyExistsException";
    case ErrorCode::kTableNotFound:
      return "TableNotFoundException";
    case ErrorCode::kSourceTableNotFound:
      return "SourceTableNotFoundException";
    case ErrorCode::kPointInTimeRecoveryUnavailable:
      return "PointInTimeRecoveryUnavailableException";
    case ErrorCode::kInvalidRestoreTime:
      return "InvalidRestoreTimeException";
    case ErrorCode::kInvalidExportTime:
      return "InvalidExportTimeException";
    case ErrorCode::kExportConflict:
      return "ExportConflictException";
    case ErrorCode::kExportNotFound:
      return "ExportNotFoundException";
    case ErrorCode::kImportConflict:
      return "ImportConflictException";
    case ErrorCode::kMissingAuthenticationToken:
      return "MissingAuthenticationTokenException";
    case ErrorCode::kIncompleteSignature:
      return "IncompleteSignatureException";
    case ErrorCode::kInvalidSignature:
      return "InvalidSignatureException";
    case ErrorCode::kUnrecognizedClient:
      return "UnrecognizedClientException";
    case ErrorCode::kExpiredToken:
      return "ExpiredTokenException";
    case ErrorCode::kImportNotFound:
      return "ImportNotFoundException";
    case ErrorCode::kInternal:
    case ErrorCode::kIOError:
      return "InternalServerError";
    case ErrorCode::kServiceUnavailable:
      return "ServiceUnavailable";
  }
  return "InternalServerError";
}

std::string_view CancellationReasonCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "None";
    case ErrorCode::kConditionalCheckFailed:
      return "ConditionalCheckFailed";
    case ErrorCode::kTransactionConflict:
      return "TransactionConflict";
    case ErrorCode::kProvisionedThroughputExceeded:
      return "ProvisionedThroughputExceeded";
    case ErrorCode::kValidation:
      return "ValidationError";
    case ErrorCode::kItemCollectionSizeLimitExceeded:
      return "ItemCollectionSizeLimitExceeded";
    default:
      return "InternalError";
  }
}

Status Status::TransactionCanceled(std::vector<Status> reasons) {
  std::string message =
      "Transaction cancelled, please refer cancellation reasons for specific reasons [";
  for (size_t i = 0; i < reasons.size(); ++i) {
    if (i > 0) message += ", ";
    message += CancellationReasonCode(reasons[i].code());
  }
  message += "]";
  Status status(ErrorCode::kTransactionCanceled, std::move(message));
  status.reasons_ = std::move(reasons);
  return status;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(ErrorTypeName(code_)) + ": " + message_;
}

}  // namespace tidewater
