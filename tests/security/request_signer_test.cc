// RequestSigner: the headers that sign a client's request, checked against AWS's published
// Signature Version 4 test suite and, across days and services (its cached keys), against
// sigv4::Sign, which derives every key afresh.
#include "tidewater/security/request_signer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace tidewater::security {
namespace {

using std::chrono::system_clock;

// The test suite's credentials, scope and time (20150830T123600Z).
const SigningIdentity kSuiteIdentity{
    {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}, "us-east-1"};
const system_clock::time_point kSuiteTime =
    system_clock::from_time_t(1440938160);  // 2015-08-30T12:36:00Z

std::string HeaderOf(const sigv4::Params& headers, const std::string& name) {
  for (const auto& [header, value] : headers) {
    if (header == name) return value;
  }
  return "";
}

sigv4::Request SuiteRequest(std::string method, sigv4::Params query = {}) {
  sigv4::Request request;
  request.method = std::move(method);
  request.canonical_uri = "/";
  request.query = std::move(query);
  request.headers = {{"Host", "example.amazonaws.com"}};
  request.payload_sha256 = sigv4::Sha256Hex("");
  return request;
}

TEST(RequestSignerTest, AwsTestSuiteVectors) {
  RequestSigner signer(kSuiteIdentity);
  const std::string scope =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
      "aws4_request, SignedHeaders=host;x-amz-date, Signature=";
  const sigv4::Params get_vanilla = signer.Sign(SuiteRequest("GET"), "service", kSuiteTime);
  EXPECT_EQ(HeaderOf(get_vanilla, "X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(HeaderOf(get_vanilla, "Authorization"),
            scope + "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(HeaderOf(get_vanilla, "X-Amz-Security-Token"), "") << "long-term credentials";
  EXPECT_EQ(get_vanilla.size(), 2u);

  EXPECT_EQ(HeaderOf(signer.Sign(SuiteRequest("POST"), "service", kSuiteTime), "Authorization"),
            scope + "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
  EXPECT_EQ(HeaderOf(signer.Sign(SuiteRequest("GET", {{"Param2", "value2"}, {"Param1", "value1"}}),
                                 "service", kSuiteTime),
                     "Authorization"),
            scope + "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

// The signature sigv4::Sign makes for what `signer` signed: the request with the x-amz
// headers the signer added.
std::string FreshSignature(const SigningIdentity& identity, sigv4::Request request,
                           const sigv4::Params& added, std::string_view service) {
  const std::string amz_date = HeaderOf(added, "X-Amz-Date");
  request.headers.emplace_back("x-amz-date", amz_date);
  if (!identity.credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", identity.credentials.session_token);
  }
  return sigv4::Sign(request, identity.credentials, identity.region, service, amz_date).signature;
}

std::string SignatureOf(const sigv4::Params& added) {
  const std::string authorization = HeaderOf(added, "Authorization");
  return authorization.substr(authorization.rfind('=') + 1);
}

TEST(RequestSignerTest, CachedKeysFollowTheDayAndTheService) {
  const SigningIdentity identity{{"AKIDTEST", "secret/with+chars", "session-token"}, "eu-west-1"};
  RequestSigner signer(identity);
  sigv4::Request request;
  request.method = "POST";
  request.canonical_uri = "/";
  request.headers = {{"host", "127.0.0.1:8000"},
                     {"Content-Type", "application/x-amz-json-1.0"},
                     {"X-Amz-Target", "DynamoDB_20120810.ListTables"}};
  request.payload_sha256 = sigv4::Sha256Hex("{}");

  const system_clock::time_point day_one = system_clock::from_time_t(1796515200);  // 2026-12-06
  const system_clock::time_point late_day_one = day_one + std::chrono::hours(23);
  const system_clock::time_point day_two = day_one + std::chrono::hours(25);
  struct Case {
    system_clock::time_point at;
    std::string_view service;
  };
  for (const Case& c : {Case{day_one, "dynamodb"}, Case{day_one, "application-autoscaling"},
                        Case{late_day_one, "dynamodb"}, Case{day_two, "dynamodb"},
                        Case{day_two, "application-autoscaling"}, Case{day_one, "dynamodb"}}) {
    const sigv4::Params added = signer.Sign(request, c.service, c.at);
    EXPECT_EQ(SignatureOf(added), FreshSignature(identity, request, added, c.service))
        << HeaderOf(added, "X-Amz-Date") << " " << c.service;
    EXPECT_EQ(HeaderOf(added, "X-Amz-Security-Token"), "session-token");
    EXPECT_NE(HeaderOf(added, "Authorization")
                  .find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;"
                        "x-amz-target,"),
              std::string::npos)
        << HeaderOf(added, "Authorization");
    EXPECT_NE(HeaderOf(added, "Authorization").find("/eu-west-1/" + std::string(c.service) + "/"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace tidewater::security
