#include "test_http_client.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>

namespace tidewater::server::testing {

namespace http = boost::beast::http;

struct TestClient::Connection {
  explicit Connection(uint16_t port) : socket(io) {
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  }

  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket;
  boost::beast::flat_buffer buffer;
};

std::string TestResponse::header(std::string_view name) const {
  const auto same_name = [&](const std::pair<std::string, std::string>& field) {
    return std::ranges::equal(field.first, name, [](unsigned char a, unsigned char b) {
      return std::tolower(a) == std::tolower(b);
    });
  };
  const auto field = std::ranges::find_if(headers, same_name);
  return field == headers.end() ? std::string() : field->second;
}

TestClient::TestClient(uint16_t port) : connection_(std::make_unique<Connection>(port)) {}

TestClient::~TestClient() = default;

TestResponse TestClient::Call(const std::string& operation, const std::string& body) {
  std::string target =
      operation.find('.') == std::string::npos ? "DynamoDB_20120810." + operation : operation;
  return Send({.method = "POST",
               .target = "/",
               .headers = {{"Host", "localhost"},
                           {"Content-Type", "application/x-amz-json-1.0"},
                           {"X-Amz-Target", target}},
               .body = body});
}

TestResponse TestClient::Get(const std::string& path) {
  return Send({.method = "GET", .target = path, .headers = {{"Host", "localhost"}}});
}

TestResponse TestClient::Send(const TestRequest& request) {
  http::request<http::string_body> message;
  message.method_string(request.method);
  message.target(request.target);
  message.version(11);
  for (const auto& [name, value] : request.headers) message.insert(name, value);
  message.body() = request.body;
  message.prepare_payload();
  http::write(connection_->socket, message);
  return ReadResponse();
}

void TestClient::WriteRaw(std::string_view bytes) {
  boost::asio::write(connection_->socket, boost::asio::buffer(bytes));
}

TestResponse TestClient::ReadResponse() {
  http::response<http::string_body> message;
  http::read(connection_->socket, connection_->buffer, message);
  TestResponse response{.status = message.result_int(),
                        .body = std::move(message.body()),
                        .keep_alive = message.keep_alive()};
  for (const auto& field : message) {
    response.headers.emplace_back(field.name_string(), field.value());
  }
  return response;
}

void TestClient::ShutdownSend() {
  connection_->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send);
}

bool TestClient::AwaitClose(std::string* outcome) {
  char byte;
  boost::system::error_code ec;
  boost::asio::read(connection_->socket, boost::asio::buffer(&byte, 1), ec);
  *outcome = ec.message();
  return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
}

int TestClient::native_handle() { return connection_->socket.native_handle(); }

void TestClient::Close() { connection_->socket.close(); }

}  // namespace tidewater::server::testing
