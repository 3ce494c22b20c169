// A minimal blocking HTTP/1.1 client for the server tests: one keep-alive connection. Built
// on Boost.Beast in test_http_client.cc, compiled once (tw_test_http_client): this header
// keeps Beast and Asio out of the tests that include it.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tidewater::server::testing {

// A request as TestClient::Send writes it in HTTP/1.1: the request line, the header fields
// in this order, Content-Length when there is a body (always for a POST), then the body.
struct TestRequest {
  std::string method = "POST";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::string body;
};

// A response as TestClient reads it.
struct TestResponse {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // name, value, as received
  std::string body;
  bool keep_alive = false;  // the connection stays open after it

  // The value of the first header field named `name` (without regard to case, as HTTP
  // compares names); "" when there is none.
  std::string header(std::string_view name) const;
};

// One connection to 127.0.0.1:`port`, opened by the constructor. Every call blocks until it
// is done and throws std::exception (boost::system::system_error) when the connection
// fails or an answer is not HTTP. One thread at a time.
class TestClient {
 public:
  explicit TestClient(uint16_t port);
  ~TestClient();

  // POST / with X-Amz-Target "<prefix>.<operation>" (no prefix when it contains a '.').
  TestResponse Call(const std::string& operation, const std::string& body);
  // GET `path`.
  TestResponse Get(const std::string& path);
  // Writes `request` as it is (no Host field unless it has one) and reads the answer.
  TestResponse Send(const TestRequest& request);

  // The connection as a byte stream, for the protocol's edge cases:
  // writes `bytes` as they are.
  void WriteRaw(std::string_view bytes);
  // Reads the next response, an interim one (100 Continue) included.
  TestResponse ReadResponse();
  // Shuts down the sending side (the server reads end of file).
  void ShutdownSend();
  // Waits for one byte: true when the server closes (end of file) or resets the connection
  // instead; `outcome` receives the read's error message.
  bool AwaitClose(std::string* outcome);
  // The socket, for reads with options of a test's own (SO_RCVTIMEO, recv).
  int native_handle();
  // Closes the connection; only the destructor may follow.
  void Close();

 private:
  struct Connection;
  std::unique_ptr<Connection> connection_;
};

inline rapidjson::Document ParseJson(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.c_str());
  return document;
}

}  // namespace tidewater::server::testing
