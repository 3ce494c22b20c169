// streams::ServiceClient against a real tidewaterd server on loopback: JSON calls, error
// documents mapped to codes, GET, reconnection after the server restarts, and refused or
// malformed endpoints.
#include "tidewater/streams/service_client.h"

#include <gtest/gtest.h>

#include "test_server.h"

namespace tidewater::server::testing {
namespace {

using streams::ServiceClient;

constexpr std::string_view kCreateTable = R"({"TableName":"things",
  "KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],
  "AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],
  "BillingMode":"PAY_PER_REQUEST"})";

class ServiceClientTest : public ServerFixture {
 protected:
  std::unique_ptr<ServiceClient> Connect() {
    auto client =
        ServiceClient::Create("http://127.0.0.1:" + std::to_string(server_->port()) + "/");
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : nullptr;
  }
};

TEST_F(ServiceClientTest, CallsOperationsAndMapsErrorDocuments) {
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  auto created = client->CallJson("DynamoDB_20120810.CreateTable", kCreateTable);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_NE(created->find("\"TableName\":\"things\""), std::string::npos) << *created;

  auto again = client->CallJson("DynamoDB_20120810.CreateTable", kCreateTable);
  EXPECT_EQ(again.status().code(), ErrorCode::kResourceInUse) << again.status().ToString();
  auto missing = client->CallJson("DynamoDB_20120810.DescribeTable", R"({"TableName":"nope"})");
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  auto malformed = client->CallJson("DynamoDB_20120810.PutItem", "{");
  EXPECT_EQ(malformed.status().code(), ErrorCode::kSerialization);
  EXPECT_FALSE(streams::IsRetryable(malformed.status()));

  // The same connection keeps serving after errors.
  auto put = client->CallJson("DynamoDB_20120810.PutItem",
                              R"({"TableName":"things","Item":{"k":{"S":"a"}}})");
  EXPECT_TRUE(put.ok()) << put.status().ToString();
  auto health = client->Get("/healthz");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200u);
}

TEST_F(ServiceClientTest, UnreachableServerIsARetryableIoErrorAndTheClientRecovers) {
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Get("/healthz").ok());
  const uint16_t port = server_->port();
  server_->Shutdown();
  server_.reset();
  auto refused = client->Get("/healthz");
  EXPECT_EQ(refused.status().code(), ErrorCode::kIOError) << refused.status().ToString();
  EXPECT_TRUE(streams::IsRetryable(refused.status()));

  ServerOptions options;
  options.listen = "127.0.0.1:" + std::to_string(port);
  options.region = "us-test-1";
  options.worker_threads = 2;
  options.engine = engine_.get();
  auto restarted = Server::Start(options);
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  server_ = std::move(*restarted);
  auto recovered = client->Get("/healthz");
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(recovered->status, 200u);
}

TEST(ServiceClientUrlTest, RejectsWhatIsNotHttpHostPort) {
  for (const char* url :
       {"", "127.0.0.1:8000", "ftp://h:1", "https://h", "https://:443", "http://h", "http://h:0",
        "http://h:70000", "http://:80", "http://h:80/path", "http://[::1"}) {
    auto client = ServiceClient::Create(url);
    EXPECT_EQ(client.status().code(), ErrorCode::kValidation) << url;
  }
  for (const char* url : {"http://127.0.0.1:8000", "http://localhost:1/", "http://[::1]:80",
                          "https://127.0.0.1:8443", "https://localhost:443/"}) {
    EXPECT_TRUE(ServiceClient::Create(url).ok()) << url;
  }
}

}  // namespace
}  // namespace tidewater::server::testing
