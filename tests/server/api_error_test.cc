// Status -> DynamoDB error document and HTTP status.
#include "api_error.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace tidewater::server {
namespace {

rapidjson::Document Parse(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.c_str());
  EXPECT_FALSE(document.HasParseError()) << body;
  return document;
}

TEST(ApiErrorTest, TypesNamespacesAndStatusCodes) {
  struct Case {
    Status status;
    std::string type;
    unsigned http_status;
    const char* message_member;
  };
  const Case cases[] = {
      {Status::Validation("The provided key element does not match the schema"),
       "com.amazonaws.dynamodb.v20120810#ValidationException", 400, "message"},
      {Status::Validation("1 validation error detected: Value null at 'tableName' failed to "
                          "satisfy constraint: Member must not be null"),
       "com.amazon.coral.validate#ValidationException", 400, "message"},
      {Status::Validation("2 validation errors detected: a; b"),
       "com.amazon.coral.validate#ValidationException", 400, "message"},
      {Status::NotFound("Requested resource not found"),
       "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", 400, "message"},
      {Status::InUse("Table already exists: t"),
       "com.amazonaws.dynamodb.v20120810#ResourceInUseException", 400, "message"},
      {Status::ConditionFailed(),
       "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", 400, "message"},
      {Status::Serialization("Start of list found where not expected"),
       "com.amazon.coral.service#SerializationException", 400, "Message"},
      {Status(ErrorCode::kUnknownOperation, "Unknown operation: X"),
       "com.amazon.coral.service#UnknownOperationException", 400, "message"},
      {Status(ErrorCode::kExpiredIterator, "Iterator expired"),
       "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException", 400, "message"},
      {Status::TrimmedDataAccess("trimmed"),
       "com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException", 400, "message"},
      {Status(ErrorCode::kIdempotentParameterMismatch, "mismatch"),
       "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException", 400, "message"},
      {Status::Internal("boom"), "com.amazonaws.dynamodb.v20120810#InternalServerError", 500,
       "message"},
      {Status::IOError("disk"), "com.amazonaws.dynamodb.v20120810#InternalServerError", 500,
       "message"},
      {Status::Unavailable("not served here"),
       "com.amazonaws.dynamodb.v20120810#ServiceUnavailable", 503, "message"},
  };
  for (const Case& c : cases) {
    ApiError error = ToApiError(c.status);
    EXPECT_EQ(error.http_status, c.http_status) << c.status.ToString();
    rapidjson::Document body = Parse(error.body);
    EXPECT_EQ(std::string(body["__type"].GetString()), c.type);
    ASSERT_TRUE(body.HasMember(c.message_member)) << error.body;
    EXPECT_EQ(std::string(body[c.message_member].GetString()), c.status.message());
  }
}

TEST(ApiErrorTest, ValidationNamespaceNeedsTheCountPrefix) {
  // Only the request-shape validator's "N validation error(s) detected" goes to coral.
  EXPECT_EQ(QualifiedErrorType(Status::Validation("validation error detected")),
            "com.amazonaws.dynamodb.v20120810#ValidationException");
  EXPECT_EQ(QualifiedErrorType(Status::Validation("12 validation errors detected: x")),
            "com.amazon.coral.validate#ValidationException");
}

TEST(ApiErrorTest, TransactionCanceledListsReasonsInOrderWithItems) {
  Status canceled = Status::TransactionCanceled(
      {Status::Ok(), Status::ConditionFailed(), Status::Validation("bad update")});
  ErrorDetails details;
  details.cancellation_items = {std::nullopt, Item{{"id", AttributeValue::S("k")}}, std::nullopt};
  ApiError error = ToApiError(canceled, details);
  rapidjson::Document body = Parse(error.body);
  EXPECT_EQ(std::string(body["__type"].GetString()),
            "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
  EXPECT_EQ(std::string(body["Message"].GetString()),
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            "[None, ConditionalCheckFailed, ValidationError]");
  const auto& reasons = body["CancellationReasons"];
  ASSERT_EQ(reasons.Size(), 3u);
  EXPECT_EQ(std::string(reasons[0]["Code"].GetString()), "None");
  EXPECT_FALSE(reasons[0].HasMember("Message"));
  EXPECT_EQ(std::string(reasons[1]["Code"].GetString()), "ConditionalCheckFailed");
  EXPECT_EQ(std::string(reasons[1]["Message"].GetString()), "The conditional request failed");
  EXPECT_EQ(std::string(reasons[1]["Item"]["id"]["S"].GetString()), "k");
  EXPECT_EQ(std::string(reasons[2]["Code"].GetString()), "ValidationError");
  EXPECT_FALSE(reasons[2].HasMember("Item"));
}

TEST(ApiErrorTest, ConditionalCheckFailedCarriesTheOldItemWhenAsked) {
  ErrorDetails details;
  details.condition_failed_item = Item{{"n", AttributeValue::N(Number::FromInt64(5))}};
  rapidjson::Document body = Parse(ToApiError(Status::ConditionFailed(), details).body);
  EXPECT_EQ(std::string(body["Item"]["n"]["N"].GetString()), "5");
  rapidjson::Document plain = Parse(ToApiError(Status::ConditionFailed()).body);
  EXPECT_FALSE(plain.HasMember("Item"));
}

TEST(ApiErrorTest, MessagesAreEscapedJson) {
  ApiError error = ToApiError(Status::Validation("quote \" backslash \\ newline \n"));
  rapidjson::Document body = Parse(error.body);
  EXPECT_EQ(std::string(body["message"].GetString()), "quote \" backslash \\ newline \n");
}

}  // namespace
}  // namespace tidewater::server
