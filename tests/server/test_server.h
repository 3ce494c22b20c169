// An in-process tidewaterd for tests: an engine on a temporary directory driven by a
// ManualClock (background work off), served on a free loopback port.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "test_http_client.h"
#include "tidewater/core/engine.h"
#include "tidewater/server/server.h"

namespace tidewater::server::testing {

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions engine_options =
        ::tidewater::testing::TestEngineOptions(dir_.Sub("data"), &clock_);
    engine_options.region = "us-test-1";
    CustomizeEngine(engine_options);
    auto engine = Engine::Open(engine_options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);

    ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.listen = "127.0.0.1:0";
    options.region = "us-test-1";
    options.worker_threads = 2;
    options.clock = &clock_;
    options.engine = engine_.get();
    Customize(options);
    auto server = Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    client_ = std::make_unique<TestClient>(server_->port());
  }

  void TearDown() override {
    client_.reset();
    if (server_) server_->Shutdown();
    server_.reset();
    engine_.reset();
  }

  virtual void CustomizeEngine(EngineOptions&) {}
  virtual void Customize(ServerOptions&) {}

  // Calls an operation and parses the answer; `status` receives the HTTP status.
  rapidjson::Document Call(const std::string& operation, const std::string& body,
                           unsigned* status = nullptr) {
    TestResponse response = client_->Call(operation, body);
    if (status != nullptr) *status = response.status;
    rapidjson::Document document = ParseJson(response.body);
    EXPECT_FALSE(document.HasParseError()) << response.body;
    return document;
  }

  // Calls an operation that must succeed.
  rapidjson::Document Ok(const std::string& operation, const std::string& body) {
    unsigned status = 0;
    rapidjson::Document document = Call(operation, body, &status);
    EXPECT_EQ(status, 200u) << operation << " " << body << " -> "
                            << (document.IsObject() && document.HasMember("message")
                                    ? document["message"].GetString()
                                    : "");
    return document;
  }

  // The error type (after '#') of an operation that must fail with HTTP 400.
  std::string ErrorType(const std::string& operation, const std::string& body,
                        std::string* message = nullptr) {
    unsigned status = 0;
    rapidjson::Document document = Call(operation, body, &status);
    EXPECT_EQ(status, 400u) << operation << " " << body;
    if (!document.IsObject() || !document.HasMember("__type")) return "";
    std::string type = document["__type"].GetString();
    if (message != nullptr) {
      const char* member = document.HasMember("message") ? "message" : "Message";
      *message = document.HasMember(member) ? document[member].GetString() : "";
    }
    return type.substr(type.find('#') + 1);
  }

  ::tidewater::testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<TestClient> client_;
};

}  // namespace tidewater::server::testing
