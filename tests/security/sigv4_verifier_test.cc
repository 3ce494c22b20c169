// SigV4 verification as DynamoDB does it: requests are signed with the project's signer (the
// client side, itself checked against AWS's examples), then verified, then spoiled one way
// at a time; each error is DynamoDB's code and message, in DynamoDB's order.
#include "tidewater/security/sigv4_verifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tidewater/security/sigv4.h"

namespace tidewater::security {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMinuteMicros = 60 * kMicrosPerSecond;
// 2026-12-06T12:00:00Z.
constexpr int64_t kNowMicros = 1'796'558'400'000'000;
constexpr char kNowAmzDate[] = "20261206T120000Z";
constexpr char kRegion[] = "us-east-1";

const Credential kAlice{"TWALICE0000000000001", "alice/secret+KEY0000000000000000000000001", "", 0,
                        "alice"};
const Credential kBobTemporary{"TWBOB000000000000002", "bob-secret-00000000000000000000000000002",
                               "bob-session-token", kNowMicros + 60 * kMinuteMicros, "bob"};

constexpr std::string_view kMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";
constexpr std::string_view kInvalidToken = "The security token included in the request is invalid.";

// An HTTP request as a client sends it: header names in the client's case.
struct HttpRequest {
  std::string method = "POST";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static std::string Lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  }
  std::string_view Get(std::string_view name) const {
    for (const auto& [header, value] : headers) {
      if (Lower(header) == Lower(name)) return value;
    }
    return {};
  }
  void Set(const std::string& name, std::string value) {
    Remove(name);
    headers.emplace_back(name, std::move(value));
  }
  void Remove(std::string_view name) {
    std::erase_if(headers, [&](const auto& header) { return Lower(header.first) == Lower(name); });
  }
  IncomingRequest View() const {
    return {method, target, [this](std::string_view name) { return Get(name); }, body};
  }
};

// DynamoDB's ListTables as the AWS SDKs send it, before signing.
HttpRequest ListTables() {
  HttpRequest request;
  request.headers = {{"Host", "localhost:8000"},
                     {"Content-Type", "application/x-amz-json-1.0"},
                     {"X-Amz-Target", "DynamoDB_20120810.ListTables"}};
  request.body = R"({"Limit":10})";
  return request;
}

struct SignOptions {
  std::string amz_date = kNowAmzDate;
  std::string region = kRegion;
  std::string service = "dynamodb";
  std::vector<std::string> unsigned_headers;  // sent, but left out of SignedHeaders
  std::string payload_sha256;                 // "" = the body's hash
  sigv4::Params query;                        // signed, and appended to the target
};

// Signs `request` as a client does: sets X-Amz-Date (and X-Amz-Security-Token for temporary
// credentials), then Authorization over every header but `unsigned_headers`.
void Sign(HttpRequest& request, const Credential& credential, const SignOptions& options = {}) {
  request.Set("X-Amz-Date", options.amz_date);
  if (!credential.session_token.empty()) {
    request.Set("X-Amz-Security-Token", credential.session_token);
  }
  sigv4::Request to_sign;
  to_sign.method = request.method;
  to_sign.canonical_uri = request.target;
  to_sign.query = options.query;
  for (const auto& header : request.headers) {
    const std::string name = HttpRequest::Lower(header.first);
    if (name == "authorization") continue;
    if (std::find(options.unsigned_headers.begin(), options.unsigned_headers.end(), name) !=
        options.unsigned_headers.end()) {
      continue;
    }
    to_sign.headers.push_back(header);
  }
  to_sign.payload_sha256 =
      options.payload_sha256.empty() ? sigv4::Sha256Hex(request.body) : options.payload_sha256;
  if (!options.query.empty()) request.target += "?" + sigv4::CanonicalQueryString(options.query);
  const sigv4::Signed signed_request =
      sigv4::Sign(to_sign, {credential.access_key_id, credential.secret_access_key, ""},
                  options.region, options.service, options.amz_date);
  request.Set("Authorization", signed_request.authorization);
}

std::unique_ptr<CredentialStore> StoreWith(const std::vector<Credential>& credentials) {
  auto store = CredentialStore::Open("");
  EXPECT_TRUE(store.ok());
  for (const Credential& credential : credentials) EXPECT_TRUE((*store)->Add(credential).ok());
  return std::move(store).value();
}

class SigV4VerifierTest : public ::testing::Test {
 protected:
  Result<AuthenticatedPrincipal> Verify(const HttpRequest& request,
                                        std::string_view service = "dynamodb") const {
    return verifier_.Verify(request.View(), service);
  }

  // Expects `request` to be refused with `code` and exactly `message`.
  void ExpectRefused(const HttpRequest& request, ErrorCode code, std::string_view message,
                     std::string_view service = "dynamodb") const {
    const auto result = Verify(request, service);
    ASSERT_FALSE(result.ok()) << "accepted: " << request.Get("Authorization");
    EXPECT_EQ(result.status().code(), code) << result.status().ToString();
    EXPECT_EQ(result.status().message(), message);
  }

  void ExpectAccepted(const HttpRequest& request, const Credential& as,
                      std::string_view service = "dynamodb") const {
    const auto result = Verify(request, service);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->access_key_id, as.access_key_id);
    EXPECT_EQ(result->principal, as.principal);
  }

  ManualClock clock_{kNowMicros};
  std::unique_ptr<CredentialStore> store_ = StoreWith({kAlice, kBobTemporary});
  SigV4Verifier verifier_{store_.get(), kRegion, &clock_};
};

// Replaces the first `from` in `text` with `to`.
std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from << " not in " << text;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST_F(SigV4VerifierTest, SignedRequestReturnsItsPrincipal) {
  HttpRequest request = ListTables();
  Sign(request, kAlice);
  ExpectAccepted(request, kAlice);

  // Canonical header values: surrounding and repeated spaces do not count; headers left out
  // of SignedHeaders may change.
  request.Set("X-Amz-Target", "  DynamoDB_20120810.ListTables ");
  request.Set("User-Agent", "aws-cli/2.15");
  ExpectAccepted(request, kAlice);

  HttpRequest autoscaling = ListTables();
  autoscaling.Set("X-Amz-Target", "AnyScaleFrontendService.DescribeScalableTargets");
  Sign(autoscaling, kAlice, {.service = "application-autoscaling"});
  ExpectAccepted(autoscaling, kAlice, "application-autoscaling");
}

TEST_F(SigV4VerifierTest, QueryStringsAreCanonicalized) {
  HttpRequest request;
  request.method = "GET";
  request.target = "/metrics";
  request.headers = {{"Host", "localhost:8000"}};
  Sign(request, kAlice, {.query = {{"b", "2"}, {"a", "x y/z"}, {"flag", ""}}});
  EXPECT_EQ(request.target, "/metrics?a=x%20y%2Fz&b=2&flag=");
  ExpectAccepted(request, kAlice);

  // The same parameters in another order, spelled otherwise: the same canonical query.
  request.target = "/metrics?flag&b=2&a=x%20y/z";
  ExpectAccepted(request, kAlice);
  request.target = "/metrics?b=2&a=x%20y%2Fz";
  ExpectRefused(request, ErrorCode::kInvalidSignature, kMismatch);
}

// AWS's SigV4 test suite ("get-vanilla", "get-vanilla-query-order-key-case",
// "post-vanilla"): the published requests and Authorization values verify.
TEST(SigV4VerifierAwsSuiteTest, PublishedRequestsVerify) {
  const Credential example{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0,
                           "example"};
  const std::unique_ptr<CredentialStore> store = StoreWith({example});
  ManualClock clock(1'440'938'160'000'000);  // 20150830T123600Z
  const SigV4Verifier verifier(store.get(), "us-east-1", &clock);
  const std::string scope =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
      "aws4_request, SignedHeaders=host;x-amz-date, Signature=";
  const struct {
    std::string method;
    std::string target;
    std::string signature;
  } cases[] = {
      {"GET", "/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"GET", "/?Param2=value2&Param1=value1",
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"POST", "/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
  };
  for (const auto& test_case : cases) {
    HttpRequest request;
    request.method = test_case.method;
    request.target = test_case.target;
    request.headers = {{"Host", "example.amazonaws.com"},
                       {"X-Amz-Date", "20150830T123600Z"},
                       {"Authorization", scope + test_case.signature}};
    const auto result = verifier.Verify(request.View(), "service");
    ASSERT_TRUE(result.ok()) << test_case.method << " " << test_case.target << ": "
                             << result.status().ToString();
    EXPECT_EQ(result->principal, "example");
  }
}

TEST_F(SigV4VerifierTest, NoAuthorizationIsMissingAuthenticationToken) {
  HttpRequest request = ListTables();
  request.Set("X-Amz-Date", kNowAmzDate);
  ExpectRefused(request, ErrorCode::kMissingAuthenticationToken,
                "Request is missing Authentication Token");
}

TEST_F(SigV4VerifierTest, MissingParametersAreListedInDynamoDbOrder) {
  HttpRequest request = ListTables();
  request.Set("Authorization", "AWS4-HMAC-SHA256");
  ExpectRefused(request, ErrorCode::kIncompleteSignature,
                "Authorization header requires 'Credential' parameter. Authorization header "
                "requires 'Signature' parameter. Authorization header requires 'SignedHeaders' "
                "parameter. Authorization header requires existence of either a 'X-Amz-Date' or "
                "a 'Date' header. Authorization=AWS4-HMAC-SHA256");

  const std::string credential_only =
      "AWS4-HMAC-SHA256 Credential=TWALICE0000000000001/20261206/us-east-1/dynamodb/aws4_request";
  request.Set("Authorization", credential_only);
  request.Set("X-Amz-Date", kNowAmzDate);
  ExpectRefused(request, ErrorCode::kIncompleteSignature,
                "Authorization header requires 'Signature' parameter. Authorization header "
                "requires 'SignedHeaders' parameter. Authorization=" +
                    credential_only);

  // An otherwise good request without its X-Amz-Date.
  HttpRequest no_date = ListTables();
  Sign(no_date, kAlice);
  no_date.Remove("X-Amz-Date");
  ExpectRefused(no_date, ErrorCode::kIncompleteSignature,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                "header. Authorization=" +
                    std::string(no_date.Get("Authorization")));
}

TEST_F(SigV4VerifierTest, MalformedAuthorizationIsIncompleteSignature) {
  HttpRequest request = ListTables();
  Sign(request, kAlice);
  const std::string good = std::string(request.Get("Authorization"));

  request.Set("Authorization", Replace(good, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"));
  ExpectRefused(request, ErrorCode::kIncompleteSignature,
                "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'");
  request.Set("Authorization", "Bearer abc.def");
  ExpectRefused(request, ErrorCode::kIncompleteSignature, "Unsupported AWS 'algorithm': 'Bearer'");

  const std::string no_equals = Replace(good, "SignedHeaders=", "SignedHeaders ");
  request.Set("Authorization", no_equals);
  const std::string piece = no_equals.substr(no_equals.find("SignedHeaders "));
  ExpectRefused(request, ErrorCode::kIncompleteSignature,
                "'" + piece.substr(0, piece.find(',')) +
                    "' not a valid key=value pair (missing equal-sign) in Authorization header: '" +
                    no_equals + "'");

  request.Set("Authorization", Replace(good, "/dynamodb/aws4_request", "/dynamodb"));
  ExpectRefused(request, ErrorCode::kIncompleteSignature,
                "Credential must have exactly 5 slash-delimited elements, e.g. "
                "keyid/date/region/service/term, got "
                "'TWALICE0000000000001/20261206/us-east-1/dynamodb'");

  for (const std::string bad_date : {"2026-12-06T12:00:00Z", "20261306T120000Z", "20261206T120000",
                                     "20261206 120000Z", "Sun, 06 Dec 2026"}) {
    request.Set("Authorization", good);
    request.Set("X-Amz-Date", bad_date);
    ExpectRefused(request, ErrorCode::kIncompleteSignature,
                  "Date must be in ISO-8601 'basic format'. Got '" + bad_date +
                      "'. See http://en.wikipedia.org/wiki/ISO_8601");
  }
}

TEST_F(SigV4VerifierTest, ScopeMismatchesAreInvalidSignature) {
  HttpRequest request = ListTables();
  Sign(request, kAlice);
  const std::string good = std::string(request.Get("Authorization"));

  request.Set("Authorization", Replace(good, "/20261206/", "/20261205/"));
  ExpectRefused(request, ErrorCode::kInvalidSignature,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                "from HTTP: '20261205' != '20261206', from '20261206T120000Z'.");

  HttpRequest other_region = ListTables();
  Sign(other_region, kAlice, {.region = "eu-west-1"});
  ExpectRefused(other_region, ErrorCode::kInvalidSignature,
                "Credential should be scoped to a valid region. ");

  HttpRequest other_service = ListTables();
  Sign(other_service, kAlice, {.service = "s3"});
  ExpectRefused(other_service, ErrorCode::kInvalidSignature,
                "Credential should be scoped to correct service: 'dynamodb'. ");
  Sign(request, kAlice);
  ExpectRefused(request, ErrorCode::kInvalidSignature,
                "Credential should be scoped to correct service: 'application-autoscaling'. ",
                "application-autoscaling");

  request.Set("Authorization", Replace(good, "/aws4_request", "/aws5_request"));
  ExpectRefused(request, ErrorCode::kInvalidSignature,
                "Credential should be scoped with a valid terminator: 'aws4_request', not "
                "'aws5_request'. ");
}

TEST_F(SigV4VerifierTest, HostAndDateMustBeSigned) {
  HttpRequest request = ListTables();
  Sign(request, kAlice, {.unsigned_headers = {"host"}});
  ExpectRefused(request, ErrorCode::kInvalidSignature,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  Sign(request, kAlice, {.unsigned_headers = {"x-amz-date"}});
  ExpectRefused(request, ErrorCode::kInvalidSignature,
                "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
}

TEST_F(SigV4VerifierTest, SignedHeaderAbsentFromTheRequestCountsAsEmpty) {
  HttpRequest request = ListTables();
  request.Set("X-Custom", "value");
  request.Set("X-Empty", "");
  Sign(request, kAlice);
  ExpectAccepted(request, kAlice);
  request.Remove("X-Empty");  // signed as "", absent is "" too
  ExpectAccepted(request, kAlice);
  request.Remove("X-Custom");
  ExpectRefused(request, ErrorCode::kInvalidSignature, kMismatch);
}

TEST_F(SigV4VerifierTest, UnknownKeyIsUnrecognizedClient) {
  HttpRequest request = ListTables();
  Sign(request, {"TWNOBODY000000000000", kAlice.secret_access_key, "", 0, "nobody"});
  ExpectRefused(request, ErrorCode::kUnrecognizedClient, kInvalidToken);
}

TEST_F(SigV4VerifierTest, SessionTokenMustMatchTheCredentials) {
  HttpRequest request = ListTables();
  Sign(request, kBobTemporary);
  ExpectAccepted(request, kBobTemporary);

  HttpRequest wrong_token = request;
  wrong_token.Set("X-Amz-Security-Token", "another-token");
  ExpectRefused(wrong_token, ErrorCode::kUnrecognizedClient, kInvalidToken);
  Credential bob_with_other_token = kBobTemporary;
  bob_with_other_token.session_token = "another-token";
  Sign(wrong_token, bob_with_other_token);  // signed with it, still not bob's token
  ExpectRefused(wrong_token, ErrorCode::kUnrecognizedClient, kInvalidToken);

  HttpRequest no_token = request;
  no_token.Remove("X-Amz-Security-Token");
  ExpectRefused(no_token, ErrorCode::kUnrecognizedClient, kInvalidToken);

  // Long-term credentials with a token they do not have.
  HttpRequest stray_token = ListTables();
  Credential alice_with_token = kAlice;
  alice_with_token.session_token = "stray-token";
  Sign(stray_token, alice_with_token);
  ExpectRefused(stray_token, ErrorCode::kUnrecognizedClient, kInvalidToken);
}

TEST_F(SigV4VerifierTest, TemporaryCredentialsExpire) {
  clock_.SetMicros(kBobTemporary.expires_at_micros - 1);
  HttpRequest request = ListTables();
  Sign(request, kBobTemporary,
       {.amz_date = sigv4::AmzDate(
            std::chrono::system_clock::time_point(std::chrono::microseconds(clock_.NowMicros())))});
  ExpectAccepted(request, kBobTemporary);
  clock_.SetMicros(kBobTemporary.expires_at_micros);
  ExpectRefused(request, ErrorCode::kExpiredToken,
                "The security token included in the request is expired");
}

TEST_F(SigV4VerifierTest, RequestTimeMustBeWithinFifteenMinutesOfNow) {
  // Now is 20140325T145251Z and nine tenths (the fraction does not count).
  clock_.SetMicros(1'395'759'171'900'000);
  const auto signed_at = [&](const std::string& amz_date) {
    HttpRequest request = ListTables();
    Sign(request, kAlice, {.amz_date = amz_date});
    return request;
  };
  ExpectAccepted(signed_at("20140325T143751Z"), kAlice);  // exactly 15 minutes ago
  ExpectRefused(signed_at("20140325T143453Z"), ErrorCode::kInvalidSignature,
                "Signature expired: 20140325T143453Z is now earlier than 20140325T143751Z "
                "(20140325T145251Z - 15 min.)");
  ExpectRefused(signed_at("20140325T143750Z"), ErrorCode::kInvalidSignature,
                "Signature expired: 20140325T143750Z is now earlier than 20140325T143751Z "
                "(20140325T145251Z - 15 min.)");
  ExpectAccepted(signed_at("20140325T150751Z"), kAlice);  // exactly 15 minutes ahead
  ExpectRefused(signed_at("20140325T150752Z"), ErrorCode::kInvalidSignature,
                "Signature not yet current: 20140325T150752Z is still later than "
                "20140325T150751Z (20140325T145251Z + 15 min.)");
}

TEST_F(SigV4VerifierTest, AnyChangeToWhatWasSignedIsAMismatch) {
  HttpRequest request = ListTables();
  Sign(request, kAlice);
  ExpectAccepted(request, kAlice);
  const std::string signature =
      std::string(request.Get("Authorization")).substr(request.Get("Authorization").size() - 64);

  HttpRequest changed = request;
  changed.body = R"({"Limit":11})";
  ExpectRefused(changed, ErrorCode::kInvalidSignature, kMismatch);

  changed = request;
  changed.Set("X-Amz-Target", "DynamoDB_20120810.DeleteTable");
  ExpectRefused(changed, ErrorCode::kInvalidSignature, kMismatch);

  changed = request;
  changed.Set("Host", "elsewhere:8000");
  ExpectRefused(changed, ErrorCode::kInvalidSignature, kMismatch);

  changed = request;
  changed.method = "PUT";
  ExpectRefused(changed, ErrorCode::kInvalidSignature, kMismatch);

  changed = request;
  changed.target = "/other";
  ExpectRefused(changed, ErrorCode::kInvalidSignature, kMismatch);

  changed = request;
  std::string flipped = signature;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  changed.Set("Authorization",
              Replace(std::string(request.Get("Authorization")), signature, flipped));
  ExpectRefused(changed, ErrorCode::kInvalidSignature, kMismatch);

  changed = request;
  changed.Set("Authorization",
              Replace(std::string(request.Get("Authorization")), signature, signature + "00"));
  ExpectRefused(changed, ErrorCode::kInvalidSignature, kMismatch);

  // SignedHeaders in another order than the client signed them.
  changed = request;
  changed.Set("Authorization", Replace(std::string(request.Get("Authorization")),
                                       "content-type;host;x-amz-date;x-amz-target",
                                       "host;content-type;x-amz-date;x-amz-target"));
  ExpectRefused(changed, ErrorCode::kInvalidSignature, kMismatch);

  HttpRequest wrong_secret = ListTables();
  Credential alice_wrong_secret = kAlice;
  alice_wrong_secret.secret_access_key = "not-alice-secret-0000000000000000000000";
  Sign(wrong_secret, alice_wrong_secret);
  ExpectRefused(wrong_secret, ErrorCode::kInvalidSignature, kMismatch);
}

TEST_F(SigV4VerifierTest, UnsignedPayloadIsRefused) {
  HttpRequest request = ListTables();
  request.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
  Sign(request, kAlice, {.payload_sha256 = "UNSIGNED-PAYLOAD"});
  ExpectRefused(request, ErrorCode::kInvalidSignature, kMismatch);
}

TEST_F(SigV4VerifierTest, ChecksComeInDynamoDbOrder) {
  const Credential unknown{"TWNOBODY000000000000", "secret", "", 0, "nobody"};
  // A wrong scope before an unknown key.
  HttpRequest request = ListTables();
  Sign(request, unknown, {.region = "eu-west-1"});
  ExpectRefused(request, ErrorCode::kInvalidSignature,
                "Credential should be scoped to a valid region. ");
  // An unknown key before a request time out of range.
  Sign(request, unknown, {.amz_date = "20261206T100000Z"});
  ExpectRefused(request, ErrorCode::kUnrecognizedClient, kInvalidToken);
  // Expired credentials before a request time out of range.
  clock_.SetMicros(kBobTemporary.expires_at_micros);
  Sign(request, kBobTemporary, {.amz_date = "20261206T100000Z"});
  ExpectRefused(request, ErrorCode::kExpiredToken,
                "The security token included in the request is expired");
  // A request time out of range before a wrong signature.
  clock_.SetMicros(kNowMicros);
  Credential alice_wrong_secret = kAlice;
  alice_wrong_secret.secret_access_key = "wrong";
  Sign(request, alice_wrong_secret, {.amz_date = "20261206T100000Z"});
  request.Remove("X-Amz-Security-Token");
  ExpectRefused(request, ErrorCode::kInvalidSignature,
                "Signature expired: 20261206T100000Z is now earlier than 20261206T114500Z "
                "(20261206T120000Z - 15 min.)");
}

TEST_F(SigV4VerifierTest, ANewSecretForAKeyIdIsNotServedFromTheCache) {
  HttpRequest old_request = ListTables();
  Sign(old_request, kAlice);
  ExpectAccepted(old_request, kAlice);  // its signing key is cached now

  Credential rotated = kAlice;
  rotated.secret_access_key = "alice-rotated-secret-00000000000000000000";
  ASSERT_TRUE(store_->Remove(kAlice.access_key_id).ok());
  ASSERT_TRUE(store_->Add(rotated).ok());
  ExpectRefused(old_request, ErrorCode::kInvalidSignature, kMismatch);

  HttpRequest new_request = ListTables();
  Sign(new_request, rotated);
  ExpectAccepted(new_request, rotated);
}

TEST_F(SigV4VerifierTest, ConcurrentVerifications) {
  HttpRequest alice_request = ListTables();
  Sign(alice_request, kAlice);
  HttpRequest bob_request = ListTables();
  Sign(bob_request, kBobTemporary);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const HttpRequest& request = (i + t) % 2 == 0 ? alice_request : bob_request;
        if (!verifier_.Verify(request.View(), "dynamodb").ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ParseAuthorizationTest, ReturnsTheParts) {
  for (const std::string separator : {",", ", ", " ,  "}) {
    const auto parsed = ParseAuthorization(
        "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/dynamodb/aws4_request" + separator +
        "SignedHeaders=content-type;Host;X-Amz-Date" + separator + "Signature=0123abcd");
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->access_key_id, "AKID");
    EXPECT_EQ(parsed->scope_date, "20261206");
    EXPECT_EQ(parsed->scope_region, "us-east-1");
    EXPECT_EQ(parsed->scope_service, "dynamodb");
    EXPECT_EQ(parsed->signed_headers,
              (std::vector<std::string>{"content-type", "host", "x-amz-date"}));
    EXPECT_EQ(parsed->signature, "0123abcd");
  }
}

TEST(ParseAuthorizationTest, Errors) {
  auto parsed = ParseAuthorization("AWS4-HMAC-SHA256 Signature=00");
  EXPECT_EQ(parsed.status(),
            Status(ErrorCode::kIncompleteSignature,
                   "Authorization header requires 'Credential' parameter. Authorization header "
                   "requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 "
                   "Signature=00"));
  parsed = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=K/20261206/us-east-1/dynamodb/aws4,SignedHeaders=host,"
      "Signature=00");
  EXPECT_EQ(parsed.status(),
            Status(ErrorCode::kInvalidSignature,
                   "Credential should be scoped with a valid terminator: 'aws4_request', not "
                   "'aws4'. "));
  parsed = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=K/20261206/us-east-1/dynamodb/aws4_request/x,"
      "SignedHeaders=host,Signature=00");
  EXPECT_EQ(parsed.status().code(), ErrorCode::kIncompleteSignature);
  for (const std::string& odd : {std::string(), std::string("\0\0", 2), std::string(",,,;;;"),
                                 std::string("AWS4-HMAC-SHA256 =,=,="),
                                 std::string("AWS4-HMAC-SHA256 Credential====,Signature=")}) {
    EXPECT_FALSE(ParseAuthorization(odd).ok()) << odd;
  }
}

}  // namespace
}  // namespace tidewater::security
