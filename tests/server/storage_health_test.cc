// tidewaterd while its storage fails: writes answer InternalServerError (never a crash),
// /healthz answers 503 and the metrics say the engine cannot write, while reads go on.
// (Recovery itself is tested in tests/core/storage_failure_test.cc.)
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "support/faulty_file_system.h"
#include "test_server.h"

namespace tidewater::server::testing {
namespace {

using tidewater::testing::FaultyFileSystem;

class StorageHealthTest : public ServerFixture {
 protected:
  void CustomizeEngine(EngineOptions& options) override {
    options.file_system = fs_;
    options.storage_recovery_interval_micros = 20'000;
  }

  unsigned PutStatus(const std::string& value, std::string* body = nullptr) {
    unsigned status = 0;
    rapidjson::Document answer = Call(
        "DynamoDB_20120810.PutItem",
        R"({"TableName":"items","Item":{"pk":{"S":"k"},"v":{"S":")" + value + R"("}}})", &status);
    if (body != nullptr && answer.IsObject() && answer.HasMember("__type")) {
      *body = std::string(answer["__type"].GetString()) + " " + answer["message"].GetString();
    }
    return status;
  }

  // Waits (bounded) until /healthz answers `status`.
  bool HealthBecomes(unsigned status) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (client_->Get("/healthz").status == status) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::shared_ptr<FaultyFileSystem> fs_ = std::make_shared<FaultyFileSystem>();
};

TEST_F(StorageHealthTest, AFullDiskFailsWritesAndIsReportedWhileReadsGoOn) {
  Ok("DynamoDB_20120810.CreateTable",
     R"({"TableName":"items","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
         "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",
         "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}})");
  std::string error;
  ASSERT_EQ(PutStatus("before", &error), 200u) << error;
  EXPECT_EQ(client_->Get("/healthz").status, 200u);
  EXPECT_NE(client_->Get("/metrics").body.find("tidewater_storage_writable 1"), std::string::npos);

  fs_->Inject(FaultyFileSystem::Fault::kNoSpace);
  EXPECT_EQ(PutStatus("during", &error), 500u);
  EXPECT_NE(error.find("InternalServerError"), std::string::npos) << error;
  EXPECT_EQ(PutStatus("during"), 500u);
  ASSERT_TRUE(HealthBecomes(503));
  EXPECT_NE(client_->Get("/healthz").body.find("storage"), std::string::npos);
  EXPECT_NE(client_->Get("/metrics").body.find("tidewater_storage_writable 0"), std::string::npos);
  // Reads go on.
  rapidjson::Document item =
      Ok("DynamoDB_20120810.GetItem", R"({"TableName":"items","Key":{"pk":{"S":"k"}}})");
  ASSERT_TRUE(item.HasMember("Item"));
  EXPECT_STREQ(item["Item"]["v"]["S"].GetString(), "before");
}

}  // namespace
}  // namespace tidewater::server::testing
