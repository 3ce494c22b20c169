// Errors as values. Every fallible call across a module boundary returns a Status or a
// Result<T>; exceptions never cross the public API.
//
// An ErrorCode names a DynamoDB error type so that the server can map it 1:1 onto the
// wire ("com.amazonaws.dynamodb.v20120810#<Type>"). Messages are DynamoDB's own text
// where DynamoDB documents or returns one.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tidewater {

enum class ErrorCode {
  kOk = 0,
  kValidation,                       // ValidationException
  kResourceNotFound,                 // ResourceNotFoundException
  kResourceInUse,                    // ResourceInUseException
  kConditionalCheckFailed,           // ConditionalCheckFailedException
  kTransactionCanceled,              // TransactionCanceledException (see Status::reasons)
  kTransactionConflict,              // TransactionConflictException
  kIdempotentParameterMismatch,      // IdempotentParameterMismatchException
  kSerialization,                    // SerializationException
  kUnknownOperation,                 // UnknownOperationException
  kProvisionedThroughputExceeded,    // ProvisionedThroughputExceededException
  kLimitExceeded,                    // LimitExceededException
  kItemCollectionSizeLimitExceeded,  // ItemCollectionSizeLimitExceededException
  kExpiredIterator,                  // ExpiredIteratorException
  kTrimmedDataAccess,                // TrimmedDataAccessException
  kAccessDenied,                     // AccessDeniedException
  kBackupNotFound,                   // BackupNotFoundException
  kBackupInUse,                      // BackupInUseException
  kTableAlreadyExists,               // TableAlreadyExistsException
  kTableNotFound,                    // TableNotFoundException (the backup operations')
  kSourceTableNotFound,              // SourceTableNotFoundException
  kPointInTimeRecoveryUnavailable,   // PointInTimeRecoveryUnavailableException
  kInvalidRestoreTime,               // InvalidRestoreTimeException
  kInvalidExportTime,                // InvalidExportTimeException
  kExportConflict,                   // ExportConflictException
  kExportNotFound,                   // ExportNotFoundException
  kImportConflict,                   // ImportConflictException
  kImportNotFound,                   // ImportNotFoundException
  // Request authentication (SigV4), checked before anything else.
  kMissingAuthenticationToken,  // MissingAuthenticationTokenException: no signature at all
  kIncompleteSignature,         // IncompleteSignatureException: a malformed signature
  kInvalidSignature,            // InvalidSignatureException: wrong signature, scope or time
  kUnrecognizedClient,          // UnrecognizedClientException: unknown key or token
  kExpiredToken,                // ExpiredTokenException: temporary credentials expired
  kInternal,                    // InternalServerError
  kServiceUnavailable,          // ServiceUnavailable (HTTP 503): refused, nothing done; retry
  kIOError,                     // storage failure; InternalServerError on the wire
};

// The DynamoDB error type name of a code ("ValidationException", ...).
std::string_view ErrorTypeName(ErrorCode code);

// The Code of a CancellationReasons entry ("None", "ConditionalCheckFailed", ...).
std::string_view CancellationReasonCode(ErrorCode code);

// An operation's outcome: ok, or a code and a message. Copyable, cheap when ok.
// Thread safety: a value type; distinct objects may be used from distinct threads.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status Validation(std::string m) { return {ErrorCode::kValidation, std::move(m)}; }
  static Status NotFound(std::string m) { return {ErrorCode::kResourceNotFound, std::move(m)}; }
  static Status InUse(std::string m) { return {ErrorCode::kResourceInUse, std::move(m)}; }
  static Status ConditionFailed(std::string m = "The conditional request failed") {
    return {ErrorCode::kConditionalCheckFailed, std::move(m)};
  }
  static Status Serialization(std::string m) { return {ErrorCode::kSerialization, std::move(m)}; }
  static Status Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
  static Status IOError(std::string m) { return {ErrorCode::kIOError, std::move(m)}; }
  static Status Unavailable(std::string m) {
    return {ErrorCode::kServiceUnavailable, std::move(m)};
  }
  static Status TrimmedDataAccess(std::string m) {
    return {ErrorCode::kTrimmedDataAccess, std::move(m)};
  }
  // A transaction was canceled; reasons[i] is the outcome of its i-th action
  // (ok for "None").
  static Status TransactionCanceled(std::vector<Status> reasons);

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<Status>& reasons() const { return reasons_; }
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::vector<Status> reasons_;
};

// A value or the Status that explains its absence. Never holds an ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  // By reference, not by value: GCC 12 reports a false -Wmaybe-uninitialized when a
  // by-value T holding a std::variant (AttributeValue) is moved into state_.
  Result(T&& value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(const T& value) : state_(value) {}            // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(state_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace tidewater

#define TW_CONCAT_INNER(a, b) a##b
#define TW_CONCAT(a, b) TW_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when it is not ok.
#define TW_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::tidewater::Status tw_status_ = (expr); \
    if (!tw_status_.ok()) return tw_status_; \
  } while (0)

// `TW_ASSIGN_OR_RETURN(auto x, FallibleCall());` binds the value or returns the error.
#define TW_ASSIGN_OR_RETURN(lhs, expr) \
  TW_ASSIGN_OR_RETURN_IMPL(TW_CONCAT(tw_result_, __LINE__), lhs, expr)
#define TW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
