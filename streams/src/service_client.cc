#include "tidewater/streams/service_client.h"

#include <rapidjson/document.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <optional>

namespace tidewater::streams {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::string_view kJsonContentType = "application/x-amz-json-1.0";
constexpr std::string_view kProtobufContentType = "application/x-protobuf";

// The ErrorCode whose DynamoDB type name ends `type` ("com.amazonaws...#Name" or "Name").
ErrorCode CodeOfErrorType(std::string_view type) {
  if (const size_t hash = type.rfind('#'); hash != std::string_view::npos) {
    type.remove_prefix(hash + 1);
  }
  if (type == "InternalServerError") return ErrorCode::kInternal;
  for (int code = static_cast<int>(ErrorCode::kValidation);
       code <= static_cast<int>(ErrorCode::kImportNotFound); ++code) {
    if (ErrorTypeName(static_cast<ErrorCode>(code)) == type) return static_cast<ErrorCode>(code);
  }
  return ErrorCode::kInternal;
}

// The Status an error answer stands for.
Status ErrorFromResponse(unsigned status, const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  // (HasMember and operator[] rather than FindMember: RapidJSON's member iterators compare
  // ambiguously under clang in C++20.)
  if (!document.HasParseError() && document.IsObject() && document.HasMember("__type") &&
      document["__type"].IsString()) {
    std::string message;
    for (const char* name : {"message", "Message"}) {
      if (document.HasMember(name) && document[name].IsString()) {
        message = document[name].GetString();
      }
    }
    return Status(CodeOfErrorType(document["__type"].GetString()), std::move(message));
  }
  return Status::Internal("HTTP " + std::to_string(status) + ": " + body.substr(0, 512));
}

class BeastServiceClient final : public ServiceClient {
 public:
  BeastServiceClient(std::string url, std::string host, std::string port,
                     std::chrono::milliseconds timeout)
      : url_(std::move(url)), host_(std::move(host)), port_(std::move(port)), timeout_(timeout) {}

  Result<std::string> CallJson(std::string_view target, std::string_view json_body,
                               const HttpHeaders& extra_headers) override {
    return Post(target, kJsonContentType, json_body, extra_headers);
  }

  Result<std::string> CallBinary(std::string_view target, std::string_view body) override {
    return Post(target, kProtobufContentType, body, {});
  }

  Result<HttpResponse> Get(std::string_view path) override {
    http::request<http::string_body> request{http::verb::get, std::string(path), 11};
    return Exchange(std::move(request));
  }

  const std::string& endpoint_url() const override { return url_; }

 private:
  Result<std::string> Post(std::string_view target, std::string_view content_type,
                           std::string_view body, const HttpHeaders& extra_headers) {
    http::request<http::string_body> request{http::verb::post, "/", 11};
    request.set("X-Amz-Target", beast::string_view(target.data(), target.size()));
    request.set(http::field::content_type,
                beast::string_view(content_type.data(), content_type.size()));
    for (const auto& [name, value] : extra_headers) request.set(name, value);
    request.body().assign(body.data(), body.size());
    TW_ASSIGN_OR_RETURN(HttpResponse response, Exchange(std::move(request)));
    if (response.status / 100 != 2) return ErrorFromResponse(response.status, response.body);
    return std::move(response.body);
  }

  // Sends one request and reads its answer on the kept connection (connecting first
  // when there is none), all within the timeout.
  Result<HttpResponse> Exchange(http::request<http::string_body> request) {
    request.set(http::field::host, host_ + ":" + port_);
    request.keep_alive(true);
    request.prepare_payload();
    beast::error_code error;
    std::optional<http::response<http::string_body>> response;
    const bool reused = stream_ && stream_->socket().is_open();
    if (!reused) Connect(error);
    if (!error) Transfer(request, response, error);
    if (error && reused) {
      // The server may have closed an idle keep-alive connection: one fresh attempt.
      error = {};
      response.reset();
      Connect(error);
      if (!error) Transfer(request, response, error);
    }
    if (error) {
      stream_.reset();
      return Status(ErrorCode::kIOError, "tidewaterd at " + url_ + ": " + error.message());
    }
    if (!response->keep_alive()) stream_.reset();
    return HttpResponse{response->result_int(), std::move(response->body())};
  }

  void Connect(beast::error_code& error) {
    stream_.emplace(io_);
    stream_->expires_after(timeout_);
    tcp::resolver resolver(io_);
    resolver.async_resolve(host_, port_, [&](beast::error_code resolved, auto endpoints) {
      if (resolved) {
        error = resolved;
        return;
      }
      stream_->async_connect(endpoints,
                             [&](beast::error_code connected, auto) { error = connected; });
    });
    RunToCompletion();
    if (!error) stream_->socket().set_option(tcp::no_delay(true), error);
  }

  void Transfer(http::request<http::string_body>& request,
                std::optional<http::response<http::string_body>>& response,
                beast::error_code& error) {
    stream_->expires_after(timeout_);
    response.emplace();
    http::async_write(*stream_, request, [&](beast::error_code written, size_t) {
      if (written) {
        error = written;
        return;
      }
      http::async_read(*stream_, buffer_, *response,
                       [&](beast::error_code read, size_t) { error = read; });
    });
    RunToCompletion();
    if (error) stream_.reset();
  }

  void RunToCompletion() {
    io_.restart();
    io_.run();
  }

  const std::string url_;
  const std::string host_;
  const std::string port_;
  const std::chrono::milliseconds timeout_;
  asio::io_context io_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

}  // namespace

Result<std::unique_ptr<ServiceClient>> ServiceClient::Create(std::string_view endpoint_url,
                                                             std::chrono::milliseconds timeout) {
  std::string url(endpoint_url);
  while (!url.empty() && url.back() == '/') url.pop_back();
  constexpr std::string_view kScheme = "http://";
  const auto invalid = [&] {
    return Status::Validation("endpoint URL '" + std::string(endpoint_url) +
                              "' is not of the form http://HOST:PORT");
  };
  if (!url.starts_with(kScheme)) return invalid();
  const std::string authority = url.substr(kScheme.size());
  std::string host;
  std::string port;
  if (authority.starts_with('[')) {  // [IPv6]:PORT
    const size_t close = authority.find(']');
    if (close == std::string::npos || close + 1 >= authority.size() ||
        authority[close + 1] != ':') {
      return invalid();
    }
    host = authority.substr(1, close - 1);
    port = authority.substr(close + 2);
  } else {
    const size_t colon = authority.rfind(':');
    if (colon == std::string::npos) return invalid();
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  uint16_t port_number = 0;
  const auto [end, parse_error] =
      std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (host.empty() || host.find('/') != std::string::npos || parse_error != std::errc() ||
      end != port.data() + port.size() || port_number == 0) {
    return invalid();
  }
  return std::unique_ptr<ServiceClient>(
      new BeastServiceClient(std::move(url), std::move(host), std::move(port), timeout));
}

bool IsRetryable(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kIOError:
    case ErrorCode::kInternal:
    case ErrorCode::kProvisionedThroughputExceeded:
    case ErrorCode::kLimitExceeded:
    case ErrorCode::kTransactionConflict:
      return true;
    default:
      return false;
  }
}

}  // namespace tidewater::streams
