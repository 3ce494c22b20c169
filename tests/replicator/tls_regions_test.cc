// Two regions serving HTTPS only and asking every client for a certificate (tidewaterd
// --tls-cert/--tls-key/--tls-client-ca, certificates made by the test with the openssl
// command) and a replicator between them given the test CA with --ca-bundle and its client
// certificate with --client-cert/--client-key: a write in one region reaches the other over
// mutual TLS. Without a client certificate the replicator is refused.
#include <gtest/gtest.h>

#include "regions.h"
#include "support/test_certificates.h"

namespace tidewater::testing {
namespace {

class TlsRegionsTest : public ::testing::Test {
 protected:
  std::vector<std::string> TlsArgs() const {
    return {"--tls-cert",      certificates_.server_cert, "--tls-key", certificates_.server_key,
            "--tls-client-ca", certificates_.ca};
  }

  // A DynamoDB client of `region` that trusts the test CA.
  std::unique_ptr<streams::ServiceClient> Client(const Region& region) {
    streams::ServiceClientOptions options;
    options.timeout = std::chrono::seconds(5);
    options.tls.ca_bundle_file = certificates_.ca;
    options.tls.certificate_file = certificates_.client_cert;
    options.tls.private_key_file = certificates_.client_key;
    auto client = streams::ServiceClient::Create(region.url(), options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : nullptr;
  }

  TempDir dir_;
  TestCertificates certificates_{dir_.path()};
  Region east_{dir_, "us-east-1", TlsArgs()};
  Region west_{dir_, "eu-west-1", TlsArgs()};
};

TEST_F(TlsRegionsTest, AWriteReachesTheOtherRegionOverMutualTls) {
  ASSERT_EQ(certificates_.error, "") << "openssl failed";
  ASSERT_TRUE(east_.Start()) << east_.process().log();
  ASSERT_TRUE(west_.Start()) << west_.process().log();
  ASSERT_TRUE(east_.url().starts_with("https://")) << east_.url();
  auto east = Client(east_);
  auto west = Client(west_);
  ASSERT_NE(east, nullptr);
  ASSERT_NE(west, nullptr);
  const std::string create =
      std::string(R"({"TableName":")") + kTable +
      R"(","BillingMode":"PAY_PER_REQUEST",)"
      R"("KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
      R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
      R"("StreamSpecification":{"StreamEnabled":true,)"
      R"("StreamViewType":"NEW_AND_OLD_IMAGES"}})";
  ASSERT_TRUE(east->CallJson("DynamoDB_20120810.CreateTable", create).ok());
  ASSERT_TRUE(west->CallJson("DynamoDB_20120810.CreateTable", create).ok());

  Replicator east_to_west(east_, west_,
                          {"--ca-bundle", certificates_.ca, "--client-cert",
                           certificates_.client_cert, "--client-key", certificates_.client_key});
  east_to_west.Start();
  auto put = east->CallJson("DynamoDB_20120810.PutItem",
                            std::string(R"({"TableName":")") + kTable +
                                R"(","Item":{"pk":{"S":"over-tls"},"v":{"S":"east"}}})");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  const std::string get = std::string(R"({"TableName":")") + kTable +
                          R"(","Key":{"pk":{"S":"over-tls"}},"ConsistentRead":true})";
  std::string answer;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto got = west->CallJson("DynamoDB_20120810.GetItem", get);
        answer = got.ok() ? *got : got.status().ToString();
        return answer.find(R"("v":{"S":"east"})") != std::string::npos;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(100)))
      << answer << "\nreplicator:\n"
      << east_to_west.log();
  EXPECT_TRUE(east_to_west.Stop()) << east_to_west.log();
}

TEST_F(TlsRegionsTest, AReplicatorWithoutAClientCertificateIsRefused) {
  ASSERT_EQ(certificates_.error, "") << "openssl failed";
  ASSERT_TRUE(east_.Start()) << east_.process().log();
  ASSERT_TRUE(west_.Start()) << west_.process().log();
  Replicator east_to_west(east_, west_, {"--ca-bundle", certificates_.ca});
  east_to_west.Start();
  // The source ends the handshake: the replicator's log says why its calls fail.
  EXPECT_TRUE(east_to_west.WaitForLog("event=replication_error .*certificate required",
                                      std::chrono::seconds(20)))
      << east_to_west.log();
  east_to_west.Kill();
}

}  // namespace
}  // namespace tidewater::testing
