// tidewaterd over HTTPS (ServerOptions::tls_*): streams::ServiceClient with a CA bundle
// calls the API; a client that does not trust the CA, a plain HTTP client and a TLS 1.1
// client are refused; with a client CA only clients presenting a certificate it signed are
// served (mutual TLS); the console's live stream works over TLS; bad certificate settings
// fail at start. Certificates are made by the test (tests/support/test_certificates.h).
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "support/scoped_env.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"
#include "tidewater/server/server.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::server {
namespace {

namespace asio = boost::asio;
using streams::ServiceClient;
using streams::ServiceClientOptions;
using tidewater::testing::ScopedEnv;
using tidewater::testing::TempDir;
using tidewater::testing::TestCertificates;

constexpr std::string_view kCreateTable = R"({"TableName":"things",
  "KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],
  "AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],
  "BillingMode":"PAY_PER_REQUEST",
  "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}})";
constexpr std::string_view kPut = R"({"TableName":"things","Item":{"k":{"S":"a"},"v":{"N":"7"}}})";

// A bare TLS client for what ServiceClient cannot do (pick the protocol version, read a
// stream that never ends). Every operation gives up after five seconds.
class RawTlsClient {
 public:
  // `version`: the only protocol version offered (0: OpenSSL's range).
  RawTlsClient(const TestCertificates& certificates, int version)
      : context_(asio::ssl::context::tls_client) {
    context_.load_verify_file(certificates.ca);
    context_.set_verify_mode(asio::ssl::verify_peer);
    if (version != 0) {
      // Level 0 lets this client offer an old version at all (Debian's default forbids it).
      SSL_CTX_set_security_level(context_.native_handle(), 0);
      SSL_CTX_set_min_proto_version(context_.native_handle(), version);
      SSL_CTX_set_max_proto_version(context_.native_handle(), version);
    }
    stream_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(io_, context_);
  }

  // Connects and handshakes; the handshake's error (empty: none).
  std::string Handshake(uint16_t port) {
    boost::system::error_code error;
    stream_->next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, error);
    if (error) return error.message();
    error = asio::error::timed_out;
    stream_->async_handshake(asio::ssl::stream_base::client,
                             [&](boost::system::error_code shaken) { error = shaken; });
    Run();
    return error ? error.message() : "";
  }

  // Sends `text`; true when it was written.
  bool Send(const std::string& text) {
    boost::system::error_code error = asio::error::timed_out;
    asio::async_write(*stream_, asio::buffer(text),
                      [&](boost::system::error_code written, size_t) { error = written; });
    Run();
    return !error;
  }

  // Reads until what was received contains `text`, the connection ends or time runs out.
  bool ReadUntil(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (received_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      bool ended = false;
      std::array<char, 4096> chunk;
      stream_->async_read_some(asio::buffer(chunk),
                               [&](boost::system::error_code error, size_t size) {
                                 received_.append(chunk.data(), size);
                                 ended = static_cast<bool>(error);
                               });
      Run();
      if (ended) return received_.find(text) != std::string::npos;
    }
    return true;
  }

  const std::string& received() const { return received_; }

 private:
  void Run() {
    io_.restart();
    io_.run_for(std::chrono::seconds(5));
  }

  asio::io_context io_;
  asio::ssl::context context_;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> stream_;
  std::string received_;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(certificates_.error, "") << "openssl failed"; }

  // Starts a server with the test's certificate; `client_ca`: require client certificates.
  void StartServer(bool client_ca = false) {
    ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.listen = "127.0.0.1:0";
    options.worker_threads = 2;
    options.tls_cert_file = certificates_.server_cert;
    options.tls_key_file = certificates_.server_key;
    if (client_ca) options.tls_client_ca_file = certificates_.ca;
    auto started = Server::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(*started);
  }

  std::string Url(std::string_view scheme = "https", std::string_view host = "127.0.0.1") const {
    return std::string(scheme) + "://" + std::string(host) + ":" + std::to_string(server_->port());
  }

  // A client trusting the test CA (and presenting the client certificate when asked).
  std::unique_ptr<ServiceClient> Client(bool with_client_certificate = false,
                                        std::string_view host = "127.0.0.1") {
    ServiceClientOptions options;
    options.timeout = std::chrono::milliseconds(5'000);
    options.tls.ca_bundle_file = certificates_.ca;
    if (with_client_certificate) {
      options.tls.certificate_file = certificates_.client_cert;
      options.tls.private_key_file = certificates_.client_key;
    }
    auto client = ServiceClient::Create(Url("https", host), options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : nullptr;
  }

  TempDir dir_;
  TestCertificates certificates_{dir_.path()};
  ScopedEnv env_{"AWS_CA_BUNDLE"};
  std::unique_ptr<Server> server_;
};

TEST_F(TlsTest, ServiceClientWithTheCaBundleCallsTheApiOverHttps) {
  StartServer();
  auto client = Client();
  ASSERT_NE(client, nullptr);
  auto created = client->CallJson("DynamoDB_20120810.CreateTable", kCreateTable);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(client->CallJson("DynamoDB_20120810.PutItem", kPut).ok());
  auto got = client->CallJson("DynamoDB_20120810.GetItem",
                              R"({"TableName":"things","Key":{"k":{"S":"a"}}})");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_NE(got->find(R"("v":{"N":"7"})"), std::string::npos) << *got;

  // The certificate's DNS name is checked too; AWS_CA_BUNDLE is the default bundle.
  auto by_name = Client(false, "localhost");
  ASSERT_NE(by_name, nullptr);
  EXPECT_TRUE(by_name->Get("/healthz").ok());
  env_.Set("AWS_CA_BUNDLE", certificates_.ca);
  auto from_environment = ServiceClient::Create(Url(), ServiceClientOptions{});
  ASSERT_TRUE(from_environment.ok()) << from_environment.status().ToString();
  auto health = (*from_environment)->Get("/healthz");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200u);
}

TEST_F(TlsTest, AClientThatDoesNotTrustTheCaIsRefusedWithAClearError) {
  StartServer();
  auto client = ServiceClient::Create(Url(), ServiceClientOptions{});  // the system's store
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto health = (*client)->Get("/healthz");
  ASSERT_FALSE(health.ok());
  EXPECT_EQ(health.status().code(), ErrorCode::kIOError);
  EXPECT_NE(health.status().message().find("certificate verify failed"), std::string::npos)
      << health.status().ToString();
  EXPECT_TRUE(streams::IsRetryable(health.status()));
}

TEST_F(TlsTest, PlainHttpToTheTlsPortFails) {
  StartServer();
  auto client = ServiceClient::Create(Url("http"), ServiceClientOptions{});
  ASSERT_TRUE(client.ok());
  auto health = (*client)->Get("/healthz");
  ASSERT_FALSE(health.ok());
  EXPECT_EQ(health.status().code(), ErrorCode::kIOError) << health.status().ToString();
  // The server keeps serving TLS clients.
  auto tls_client = Client();
  ASSERT_NE(tls_client, nullptr);
  EXPECT_TRUE(tls_client->Get("/healthz").ok());
}

TEST_F(TlsTest, OnlyTls12AndLaterAreAccepted) {
  StartServer();
  RawTlsClient tls11(certificates_, TLS1_1_VERSION);
  EXPECT_NE(tls11.Handshake(server_->port()), "");
  RawTlsClient tls12(certificates_, TLS1_2_VERSION);
  EXPECT_EQ(tls12.Handshake(server_->port()), "");
  RawTlsClient tls13(certificates_, TLS1_3_VERSION);
  EXPECT_EQ(tls13.Handshake(server_->port()), "");
}

TEST_F(TlsTest, MutualTlsServesOnlyClientsWithACertificate) {
  StartServer(/*client_ca=*/true);
  auto anonymous = Client(/*with_client_certificate=*/false);
  ASSERT_NE(anonymous, nullptr);
  auto refused = anonymous->Get("/healthz");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kIOError) << refused.status().ToString();

  auto known = Client(/*with_client_certificate=*/true);
  ASSERT_NE(known, nullptr);
  auto created = known->CallJson("DynamoDB_20120810.CreateTable", kCreateTable);
  EXPECT_TRUE(created.ok()) << created.status().ToString();
}

TEST_F(TlsTest, ConsoleLiveStreamWorksOverTls) {
  StartServer();
  auto client = Client();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->CallJson("DynamoDB_20120810.CreateTable", kCreateTable).ok());

  RawTlsClient events(certificates_, 0);
  ASSERT_EQ(events.Handshake(server_->port()), "");
  ASSERT_TRUE(
      events.Send("GET /console/api/stream?table=things HTTP/1.1\r\n"
                  "Host: 127.0.0.1\r\n\r\n"));
  ASSERT_TRUE(events.ReadUntil("event: ready")) << events.received();
  EXPECT_NE(events.received().find("Content-Type: text/event-stream"), std::string::npos);
  ASSERT_TRUE(client->CallJson("DynamoDB_20120810.PutItem", kPut).ok());
  ASSERT_TRUE(events.ReadUntil("event: record")) << events.received();
  EXPECT_NE(events.received().find(R"("v":{"N":"7"})"), std::string::npos) << events.received();
}

TEST_F(TlsTest, BadCertificateSettingsFailAtStart) {
  ServerOptions options;
  options.data_dir = dir_.Sub("data");
  options.listen = "127.0.0.1:0";
  options.tls_cert_file = certificates_.server_cert;  // no key
  auto no_key = Server::Start(options);
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("private key"), std::string::npos)
      << no_key.status().ToString();

  options.tls_key_file = certificates_.client_key;  // another certificate's key
  auto mismatched = Server::Start(options);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("key of the certificate"), std::string::npos)
      << mismatched.status().ToString();

  options.tls_key_file = dir_.Sub("missing.key");
  auto unreadable = Server::Start(options);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_NE(unreadable.status().message().find("missing.key"), std::string::npos)
      << unreadable.status().ToString();

  options.tls_cert_file.clear();
  options.tls_key_file.clear();
  options.tls_client_ca_file = certificates_.ca;  // a client CA without HTTPS
  EXPECT_FALSE(Server::Start(options).ok());
}

}  // namespace
}  // namespace tidewater::server
