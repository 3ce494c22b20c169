// The webhook trigger function: an HTTP/1.1 POST per invocation with Boost.Beast, on a
// private io_context so that one deadline covers resolve, connect, write and read.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

#include "tidewater/connectors/trigger_handlers.h"

namespace tidewater::connectors {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpUrl {
  std::string host;
  std::string port = "80";
  std::string target = "/";
};

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  const Status invalid =
      Status::Validation("webhook handler: not an http:// URL: " + std::string(url));
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return invalid;
  url.remove_prefix(kScheme.size());
  HttpUrl parsed;
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) parsed.target = std::string(url.substr(slash));
  if (authority.starts_with('[')) {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid;
    parsed.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority[0] != ':') return invalid;
      parsed.port = std::string(authority.substr(1));
    }
  } else {
    size_t colon = authority.rfind(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) parsed.port = std::string(authority.substr(colon + 1));
  }
  unsigned port = 0;
  auto [end, error] =
      std::from_chars(parsed.port.data(), parsed.port.data() + parsed.port.size(), port);
  if (parsed.host.empty() || error != std::errc() ||
      end != parsed.port.data() + parsed.port.size() || port == 0 || port > 65535) {
    return invalid;
  }
  return parsed;
}

class WebhookFunction {
 public:
  WebhookFunction(HttpUrl url, WebhookFunctionOptions options)
      : url_(std::move(url)), options_(std::move(options)) {}

  Result<std::string> operator()(const streams::TriggerInvocation& invocation) const {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    http::request<http::string_body> request{http::verb::post, url_.target, 11};
    request.set(http::field::host, url_.host + ":" + url_.port);
    request.set(http::field::content_type, "application/json");
    request.set(http::field::user_agent, "tidewater-trigger");
    for (const auto& [name, value] : options_.headers) request.set(name, value);
    request.body() = invocation.event_json;
    request.prepare_payload();
    beast::flat_buffer buffer;
    http::response<http::string_body> response;

    beast::error_code failure;
    bool answered = false;
    stream.expires_after(options_.timeout);
    resolver.async_resolve(
        url_.host, url_.port, [&](beast::error_code error, tcp::resolver::results_type endpoints) {
          if (error) {
            failure = error;
            return;
          }
          stream.async_connect(endpoints, [&](beast::error_code error, const tcp::endpoint&) {
            if (error) {
              failure = error;
              return;
            }
            http::async_write(stream, request, [&](beast::error_code error, size_t) {
              if (error) {
                failure = error;
                return;
              }
              http::async_read(stream, buffer, response, [&](beast::error_code error, size_t) {
                failure = error;
                answered = !error;
              });
            });
          });
        });
    // The stream's deadline covers connect, write and read; this bounds the resolve too.
    io.run_for(options_.timeout + std::chrono::milliseconds(100));
    if (!answered) {
      if (!failure || failure == beast::error::timeout) {
        return Status::Internal("webhook " + options_.url + " timed out after " +
                                std::to_string(options_.timeout.count()) + " ms");
      }
      return Status::Internal("webhook " + options_.url + ": " + failure.message());
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    const unsigned code = response.result_int();
    if (code < 200 || code > 299) {
      return Status::Internal("webhook " + options_.url + " answered " + std::to_string(code));
    }
    return std::move(response.body());
  }

 private:
  HttpUrl url_;
  WebhookFunctionOptions options_;
};

}  // namespace

Result<streams::TriggerFunction> MakeWebhookFunction(WebhookFunctionOptions options) {
  TW_ASSIGN_OR_RETURN(HttpUrl url, ParseHttpUrl(options.url));
  if (options.timeout.count() <= 0) {
    return Status::Validation("webhook handler: timeout must be > 0");
  }
  return streams::TriggerFunction(WebhookFunction(std::move(url), std::move(options)));
}

}  // namespace tidewater::connectors
