// ServiceClient's SigV4 signatures, checked by the server's verifier (SigV4Verifier) on the
// requests exactly as they arrived at a local HTTP server that captures them: every kind of
// request (JSON, Protobuf, Application Auto Scaling, GET with a query), the scope's region
// and service, session tokens, unsigned clients, and the identity taken from the environment.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/scoped_env.h"
#include "support/temp_dir.h"
#include "tidewater/core/clock.h"
#include "tidewater/security/credential_store.h"
#include "tidewater/security/sigv4_verifier.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::streams {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One request as the server received it.
struct CapturedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string Header(std::string_view name) const {
    const auto found = headers.find(std::string(name));
    return found == headers.end() ? "" : found->second;
  }
};

// An HTTP/1.1 server on 127.0.0.1 (an ephemeral port), on a thread of its own, that answers
// every request 200 "{}" (keep-alive) and keeps what it received.
class CapturingServer {
 public:
  CapturingServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~CapturingServer() {
    io_.stop();
    thread_.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

  std::vector<CapturedRequest> TakeRequests() {
    std::lock_guard lock(mu_);
    return std::exchange(requests_, {});
  }

 private:
  struct Session {
    explicit Session(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::string_body> response;
  };

  void Accept() {
    acceptor_.async_accept([this](beast::error_code error, tcp::socket socket) {
      if (error) return;
      Read(std::make_shared<Session>(std::move(socket)));
      Accept();
    });
  }

  void Read(std::shared_ptr<Session> session) {
    session->request = {};
    http::async_read(session->socket, session->buffer, session->request,
                     [this, session](beast::error_code error, size_t) {
                       if (error) return;
                       Record(session->request);
                       session->response = {http::status::ok, 11};
                       session->response.set(http::field::content_type,
                                             "application/x-amz-json-1.0");
                       session->response.body() = "{}";
                       session->response.keep_alive(true);
                       session->response.prepare_payload();
                       http::async_write(session->socket, session->response,
                                         [this, session](beast::error_code written, size_t) {
                                           if (!written) Read(session);
                                         });
                     });
  }

  void Record(const http::request<http::string_body>& request) {
    CapturedRequest captured;
    captured.method = std::string(request.method_string());
    captured.target = std::string(request.target());
    for (const auto& field : request) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      captured.headers[name] = std::string(field.value());
    }
    captured.body = request.body();
    std::lock_guard lock(mu_);
    requests_.push_back(std::move(captured));
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<CapturedRequest> requests_;  // guarded by mu_
};

constexpr char kAccessKeyId[] = "TWTESTKEY00000000001";
constexpr char kSecret[] = "test/secret+key0123456789abcdefghijklmno";

class ServiceClientSigningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = security::CredentialStore::Open("");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Add({kAccessKeyId, kSecret, "", 0, "alice"}).ok());
  }

  // Verifies `request` as a tidewaterd of `region` does, for `service`.
  Result<security::AuthenticatedPrincipal> Verify(const CapturedRequest& request,
                                                  const std::string& region,
                                                  std::string_view service) {
    security::SigV4Verifier verifier(store_.get(), region, Clock::System());
    security::IncomingRequest incoming;
    incoming.method = request.method;
    incoming.target = request.target;
    // The verifier asks for names in any case; the captured ones are lower-case.
    incoming.header = [&request](std::string_view name) -> std::string_view {
      std::string lower(name);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const auto found = request.headers.find(lower);
      return found == request.headers.end() ? std::string_view() : found->second;
    };
    incoming.body = request.body;
    return verifier.Verify(incoming, service);
  }

  std::unique_ptr<ServiceClient> Connect(std::optional<security::SigningIdentity> identity) {
    auto client = ServiceClient::Create(
        server_.url(), ServiceClientOptions{std::chrono::milliseconds(5'000), std::move(identity)});
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : nullptr;
  }

  CapturingServer server_;
  std::unique_ptr<security::CredentialStore> store_;
};

const security::SigningIdentity kIdentity{{kAccessKeyId, kSecret, ""}, "eu-west-1"};

TEST_F(ServiceClientSigningTest, EveryKindOfRequestVerifiesForItsService) {
  auto client = Connect(kIdentity);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->CallJson("DynamoDB_20120810.ListTables", "{}").ok());
  ASSERT_TRUE(client
                  ->CallJson("DynamoDBStreams_20120810.GetRecords", R"({"ShardIterator":"x"})",
                             {{"X-Tidewater-Record-Metadata", "true"}})
                  .ok());
  ASSERT_TRUE(client
                  ->CallBinary("TidewaterReplication_20261126.GetReplicationCheckpoints",
                               std::string("\x0a\x01t\x00\xff", 5))
                  .ok());
  ASSERT_TRUE(client
                  ->CallJson("AnyScaleFrontendService.DescribeScalableTargets",
                             R"({"ServiceNamespace":"dynamodb"})")
                  .ok());
  ASSERT_TRUE(client->Get("/metrics").ok());
  ASSERT_TRUE(client->Get("/console/api/stream?table=a%20b&limit=5&flag").ok());
  ASSERT_TRUE(client->CallJson("DynamoDB_20120810.DescribeTable", R"({"TableName":"t"})").ok());

  const std::vector<CapturedRequest> requests = server_.TakeRequests();
  ASSERT_EQ(requests.size(), 7u);
  const std::vector<std::string_view> services = {
      "dynamodb", "dynamodb", "dynamodb", "application-autoscaling",
      "dynamodb", "dynamodb", "dynamodb"};
  for (size_t i = 0; i < requests.size(); ++i) {
    const CapturedRequest& request = requests[i];
    auto principal = Verify(request, "eu-west-1", services[i]);
    ASSERT_TRUE(principal.ok()) << request.method << " " << request.target << " "
                                << request.Header("x-amz-target") << ": "
                                << principal.status().ToString();
    EXPECT_EQ(principal->principal, "alice");
    EXPECT_EQ(request.Header("x-amz-security-token"), "");
  }
  // What the signature covers, as the AWS SDKs sign DynamoDB requests.
  EXPECT_NE(requests[0]
                .Header("authorization")
                .find("SignedHeaders=content-type;host;x-amz-date;x-amz-target,"),
            std::string::npos)
      << requests[0].Header("authorization");
  EXPECT_NE(requests[1]
                .Header("authorization")
                .find("SignedHeaders=content-type;host;x-amz-date;x-amz-target;"
                      "x-tidewater-record-metadata,"),
            std::string::npos)
      << requests[1].Header("authorization");
  EXPECT_NE(requests[4].Header("authorization").find("SignedHeaders=host;x-amz-date,"),
            std::string::npos)
      << requests[4].Header("authorization");
}

TEST_F(ServiceClientSigningTest, ScopeNamesTheIdentitysRegionAndTheService) {
  auto client = Connect(kIdentity);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->CallJson("DynamoDB_20120810.ListTables", "{}").ok());
  ASSERT_TRUE(client->CallJson("AnyScaleFrontendService.DescribeScalableTargets", "{}").ok());
  const std::vector<CapturedRequest> requests = server_.TakeRequests();
  ASSERT_EQ(requests.size(), 2u);

  auto other_region = Verify(requests[0], "us-east-1", "dynamodb");
  ASSERT_FALSE(other_region.ok());
  EXPECT_EQ(other_region.status().code(), ErrorCode::kInvalidSignature);
  auto other_service = Verify(requests[1], "eu-west-1", "dynamodb");
  ASSERT_FALSE(other_service.ok());
  EXPECT_EQ(other_service.status().code(), ErrorCode::kInvalidSignature);

  CapturedRequest tampered = requests[0];
  tampered.body = R"({"Limit":1})";
  auto verified = Verify(tampered, "eu-west-1", "dynamodb");
  ASSERT_FALSE(verified.ok()) << "the body is signed";
  EXPECT_EQ(verified.status().code(), ErrorCode::kInvalidSignature);
}

TEST_F(ServiceClientSigningTest, SessionTokenIsSentAndSigned) {
  ASSERT_TRUE(
      store_->Add({"TWTEMPKEY00000000001", "temporary-secret", "the-token", 0, "bob"}).ok());
  auto client = Connect(security::SigningIdentity{
      {"TWTEMPKEY00000000001", "temporary-secret", "the-token"}, "eu-west-1"});
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->CallJson("DynamoDB_20120810.ListTables", "{}").ok());
  const std::vector<CapturedRequest> requests = server_.TakeRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].Header("x-amz-security-token"), "the-token");
  EXPECT_NE(requests[0].Header("authorization").find("x-amz-security-token"), std::string::npos);
  auto principal = Verify(requests[0], "eu-west-1", "dynamodb");
  ASSERT_TRUE(principal.ok()) << principal.status().ToString();
  EXPECT_EQ(principal->principal, "bob");
}

TEST_F(ServiceClientSigningTest, WithoutAnIdentityRequestsAreUnsigned) {
  auto client = Connect(std::nullopt);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->CallJson("DynamoDB_20120810.ListTables", "{}").ok());
  const std::vector<CapturedRequest> requests = server_.TakeRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].Header("authorization"), "");
  EXPECT_EQ(requests[0].Header("x-amz-date"), "");
  auto principal = Verify(requests[0], "eu-west-1", "dynamodb");
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), ErrorCode::kMissingAuthenticationToken);
}

// Create(url) and ResolveClientIdentity take the identity from the environment, as the AWS
// CLI does; a region given to ResolveClientIdentity replaces the environment's.
TEST_F(ServiceClientSigningTest, DefaultIdentityComesFromTheEnvironment) {
  testing::TempDir home;
  testing::ScopedEnv env({"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION",
                          "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"});
  env.Set("HOME", home.path());
  env.Set("AWS_ACCESS_KEY_ID", kAccessKeyId);
  env.Set("AWS_SECRET_ACCESS_KEY", kSecret);
  env.Set("AWS_REGION", "ap-south-1");

  auto client = ServiceClient::Create(server_.url());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->CallJson("DynamoDB_20120810.ListTables", "{}").ok());
  auto identity = ResolveClientIdentity("", "eu-north-1");
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  ASSERT_TRUE(identity->has_value());
  auto regional = Connect(*identity);
  ASSERT_NE(regional, nullptr);
  ASSERT_TRUE(regional->Get("/metrics").ok());

  const std::vector<CapturedRequest> requests = server_.TakeRequests();
  ASSERT_EQ(requests.size(), 2u);
  auto from_environment = Verify(requests[0], "ap-south-1", "dynamodb");
  EXPECT_TRUE(from_environment.ok()) << from_environment.status().ToString();
  auto other_region = Verify(requests[1], "eu-north-1", "dynamodb");
  EXPECT_TRUE(other_region.ok()) << other_region.status().ToString();

  env.Set("AWS_PROFILE", "no-such-profile");
  auto refused = ServiceClient::Create(server_.url());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kValidation);
}

}  // namespace
}  // namespace tidewater::streams
