// The SigV4 authenticator: which service a request must be signed for, and that it hands the
// request (method, target, headers, raw body) to the verifier as it came.
#include "sigv4_authenticator.h"

#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <memory>
#include <string>

#include "tidewater/core/clock.h"
#include "tidewater/security/credential_store.h"
#include "tidewater/security/sigv4.h"

namespace tidewater::server {
namespace {

namespace sigv4 = security::sigv4;

constexpr std::string_view kRegion = "us-east-1";

// 2026-12-06T10:00:00Z, the time the requests below are signed at and the server's clock.
constexpr int64_t kNowMicros = 1'796'551'200'000'000;
constexpr std::string_view kAmzDate = "20261206T100000Z";

class FakeRequest final : public HttpRequestView {
 public:
  std::string method_text = "POST";
  std::string target_text = "/";
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body_text;

  std::string_view method() const override { return method_text; }
  std::string_view target() const override { return target_text; }
  std::string_view header(std::string_view name) const override {
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = headers.find(lower);
    return it == headers.end() ? std::string_view() : std::string_view(it->second);
  }
  std::string_view body() const override { return body_text; }
};

class SigV4AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = security::CredentialStore::Open("");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Add(credential_).ok());
    authenticator_ =
        std::make_unique<SigV4Authenticator>(store_.get(), std::string(kRegion), &clock_);
  }

  // A POST with X-Amz-Target `amz_target`, signed for `service` as the AWS SDKs sign.
  FakeRequest Signed(const std::string& amz_target, std::string_view service) const {
    FakeRequest request;
    request.body_text = R"({"TableName":"t"})";
    request.headers = {{"host", "127.0.0.1:8000"},
                       {"content-type", "application/x-amz-json-1.0"},
                       {"x-amz-date", std::string(kAmzDate)},
                       {"x-amz-target", amz_target}};
    sigv4::Request to_sign;
    to_sign.method = "POST";
    to_sign.canonical_uri = "/";
    for (const auto& [name, value] : request.headers) to_sign.headers.emplace_back(name, value);
    to_sign.payload_sha256 = sigv4::Sha256Hex(request.body_text);
    request.headers["authorization"] =
        sigv4::Sign(
            to_sign,
            {credential_.access_key_id, credential_.secret_access_key, credential_.session_token},
            kRegion, service, kAmzDate)
            .authorization;
    return request;
  }

  // The authenticator's verdict; `principal` (when given) receives the principal.
  Status Authenticate(const HttpRequestView& request, std::string* principal = nullptr) const {
    std::string ignored;
    return authenticator_->Authenticate(request, principal != nullptr ? principal : &ignored);
  }

  ManualClock clock_{kNowMicros};
  security::Credential credential_{"TWTESTKEY00000000001",
                                   "test-secret-0000000000000000000000000000", "", 0, "alice"};
  std::unique_ptr<security::CredentialStore> store_;
  std::unique_ptr<SigV4Authenticator> authenticator_;
};

TEST(SigningServiceTest, AutoScalingTargetsAreApplicationAutoscalingTheRestDynamodb) {
  EXPECT_EQ(SigningServiceFor("AnyScaleFrontendService.RegisterScalableTarget"),
            "application-autoscaling");
  EXPECT_EQ(SigningServiceFor("AnyScaleFrontendService.DescribeScalingPolicies"),
            "application-autoscaling");
  EXPECT_EQ(SigningServiceFor("DynamoDB_20120810.PutItem"), "dynamodb");
  EXPECT_EQ(SigningServiceFor("DynamoDBStreams_20120810.GetRecords"), "dynamodb");
  EXPECT_EQ(SigningServiceFor("TidewaterAdmin_20261205.CreateCredentials"), "dynamodb");
  EXPECT_EQ(SigningServiceFor("TidewaterReplication_20261126.ApplyReplicationBatch"), "dynamodb");
  EXPECT_EQ(SigningServiceFor(""), "dynamodb");  // GET /metrics
}

TEST_F(SigV4AuthenticatorTest, AcceptsEachApiSignedForItsOwnService) {
  EXPECT_TRUE(Authenticate(Signed("DynamoDB_20120810.PutItem", "dynamodb")).ok());
  EXPECT_TRUE(Authenticate(Signed("DynamoDBStreams_20120810.ListStreams", "dynamodb")).ok());
  EXPECT_TRUE(Authenticate(Signed("AnyScaleFrontendService.DescribeScalableTargets",
                                  "application-autoscaling"))
                  .ok());
}

TEST_F(SigV4AuthenticatorTest, YieldsTheCredentialsPrincipal) {
  std::string principal = "stale";
  ASSERT_TRUE(Authenticate(Signed("DynamoDB_20120810.GetItem", "dynamodb"), &principal).ok());
  EXPECT_EQ(principal, "alice");
}

TEST(AcceptAllAuthenticatorTest, YieldsNoPrincipal) {
  std::string principal = "stale";
  EXPECT_TRUE(AcceptAllAuthenticator().Authenticate(FakeRequest(), &principal).ok());
  EXPECT_EQ(principal, "");
}

TEST_F(SigV4AuthenticatorTest, RefusesAnApiSignedForAnotherService) {
  Status status =
      Authenticate(Signed("AnyScaleFrontendService.DescribeScalableTargets", "dynamodb"));
  EXPECT_EQ(status.code(), ErrorCode::kInvalidSignature);
  EXPECT_EQ(status.message(),
            "Credential should be scoped to correct service: 'application-autoscaling'. ");
  status = Authenticate(Signed("DynamoDB_20120810.PutItem", "application-autoscaling"));
  EXPECT_EQ(status.code(), ErrorCode::kInvalidSignature);
}

TEST_F(SigV4AuthenticatorTest, ChecksTheBodyAsReceived) {
  FakeRequest request = Signed("DynamoDB_20120810.PutItem", "dynamodb");
  request.body_text = R"({"TableName":"u"})";
  EXPECT_EQ(Authenticate(request).code(), ErrorCode::kInvalidSignature);
}

TEST_F(SigV4AuthenticatorTest, AnUnsignedRequestIsMissingItsToken) {
  FakeRequest request = Signed("DynamoDB_20120810.PutItem", "dynamodb");
  request.headers.erase("authorization");
  Status status = Authenticate(request);
  EXPECT_EQ(status.code(), ErrorCode::kMissingAuthenticationToken);
}

TEST_F(SigV4AuthenticatorTest, ASignedGetOfMetricsPasses) {
  FakeRequest request;
  request.method_text = "GET";
  request.target_text = "/metrics";
  request.headers = {{"host", "127.0.0.1:8000"}, {"x-amz-date", std::string(kAmzDate)}};
  sigv4::Request to_sign;
  to_sign.method = "GET";
  to_sign.canonical_uri = "/metrics";
  for (const auto& [name, value] : request.headers) to_sign.headers.emplace_back(name, value);
  to_sign.payload_sha256 = sigv4::Sha256Hex("");
  request.headers["authorization"] =
      sigv4::Sign(to_sign, {credential_.access_key_id, credential_.secret_access_key, ""}, kRegion,
                  "dynamodb", kAmzDate)
          .authorization;
  EXPECT_TRUE(Authenticate(request).ok());
}

}  // namespace
}  // namespace tidewater::server
