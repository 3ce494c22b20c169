#include "tidewater/streams/service_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <rapidjson/document.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <charconv>
#include <cstdlib>
#include <optional>

#include "tidewater/security/request_signer.h"

namespace tidewater::streams {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace sigv4 = security::sigv4;
using tcp = asio::ip::tcp;

constexpr std::string_view kJsonContentType = "application/x-amz-json-1.0";
constexpr std::string_view kProtobufContentType = "application/x-protobuf";

// Application Auto Scaling's X-Amz-Target prefix (tidewaterd's kAutoScalingTargetPrefix) and
// the signing names: its operations are scoped to their own service, the rest to DynamoDB's.
constexpr std::string_view kAutoScalingTargetPrefix = "AnyScaleFrontendService.";
constexpr std::string_view kAutoScalingService = "application-autoscaling";
constexpr std::string_view kDynamoDbService = "dynamodb";

std::string_view SigningServiceOf(std::string_view target) {
  return target.starts_with(kAutoScalingTargetPrefix) ? kAutoScalingService : kDynamoDbService;
}

// The ErrorCode whose DynamoDB type name ends `type` ("com.amazonaws...#Name" or "Name").
ErrorCode CodeOfErrorType(std::string_view type) {
  if (const size_t hash = type.rfind('#'); hash != std::string_view::npos) {
    type.remove_prefix(hash + 1);
  }
  if (type == "InternalServerError") return ErrorCode::kInternal;
  for (int code = static_cast<int>(ErrorCode::kValidation);
       code < static_cast<int>(ErrorCode::kInternal); ++code) {
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
  // `host_header`: the URL's authority ("127.0.0.1:8000", "[::1]:8000"); `host`, `port`:
  // what to connect to; `tls`: the context of an https endpoint, null for http.
  BeastServiceClient(std::string url, std::string host_header, std::string host, std::string port,
                     ServiceClientOptions options, std::shared_ptr<asio::ssl::context> tls)
      : url_(std::move(url)),
        host_header_(std::move(host_header)),
        host_(std::move(host)),
        port_(std::move(port)),
        timeout_(options.timeout),
        tls_(std::move(tls)) {
    if (options.identity) signer_.emplace(std::move(*options.identity));
  }

  Result<std::string> CallJson(std::string_view target, std::string_view json_body,
                               const HttpHeaders& extra_headers) override {
    return Post(target, kJsonContentType, json_body, extra_headers);
  }

  Result<std::string> CallBinary(std::string_view target, std::string_view body) override {
    return Post(target, kProtobufContentType, body, {});
  }

  Result<HttpResponse> Get(std::string_view path) override {
    http::request<http::string_body> request{http::verb::get, std::string(path), 11};
    return Exchange(std::move(request), kDynamoDbService);
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
    TW_ASSIGN_OR_RETURN(HttpResponse response,
                        Exchange(std::move(request), SigningServiceOf(target)));
    if (response.status / 100 != 2) return ErrorFromResponse(response.status, response.body);
    return std::move(response.body);
  }

  // Sends one request (signed for `service` when the client has an identity) and reads its
  // answer on the kept connection (connecting first when there is none), all within the
  // timeout.
  Result<HttpResponse> Exchange(http::request<http::string_body> request,
                                std::string_view service) {
    request.set(http::field::host, host_header_);
    request.keep_alive(true);
    request.prepare_payload();
    if (signer_) Sign(request, service);
    beast::error_code error;
    std::optional<http::response<http::string_body>> response;
    const bool reused = Connected();
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
      std::string reason = Describe(error);
      Disconnect();
      return Status(ErrorCode::kIOError, "tidewaterd at " + url_ + ": " + reason);
    }
    if (!response->keep_alive()) Disconnect();
    return HttpResponse{response->result_int(), std::move(response->body())};
  }

  // Adds the SigV4 headers. The signature covers every header set so far but
  // Content-Length (as the AWS SDKs sign: host, content-type, x-amz-target, ...).
  void Sign(http::request<http::string_body>& request, std::string_view service) {
    const std::string_view target(request.target().data(), request.target().size());
    const size_t question = target.find('?');
    sigv4::Request to_sign;
    to_sign.method = std::string(request.method_string());
    // The path as sent, encoded once more: the canonical URI of every service but S3.
    to_sign.canonical_uri = sigv4::UriEncode(target.substr(0, question), /*keep_slash=*/true);
    if (question != std::string_view::npos) {
      to_sign.query = sigv4::ParseQueryString(target.substr(question + 1));
    }
    for (const auto& field : request) {
      if (field.name() == http::field::content_length) continue;
      to_sign.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    to_sign.payload_sha256 = sigv4::Sha256Hex(request.body());
    for (auto& [name, value] : signer_->Sign(to_sign, service, std::chrono::system_clock::now())) {
      request.set(name, value);
    }
  }

  // `error`'s message; for a refused server certificate also OpenSSL's reason ("certificate
  // verify failed (SSL routines): unable to get local issuer certificate").
  std::string Describe(const beast::error_code& error) {
    std::string reason = error.message();
    if (secure_) {
      const long verified = SSL_get_verify_result(secure_->native_handle());
      if (verified != X509_V_OK) {
        reason += std::string(": ") + X509_verify_cert_error_string(verified);
      }
    }
    return reason;
  }

  bool Connected() { return (plain_ || secure_) && Tcp().socket().is_open(); }

  // The TCP stream under the connection (which exists).
  beast::tcp_stream& Tcp() { return secure_ ? secure_->next_layer() : *plain_; }

  void Disconnect() {
    plain_.reset();
    secure_.reset();
  }

  // Connects (and for https, handshakes) within the timeout.
  void Connect(beast::error_code& error) {
    Disconnect();
    if (tls_) {
      secure_.emplace(io_, *tls_);
      Status named = security::SetTlsPeerName(secure_->native_handle(), host_);
      if (!named.ok()) {
        error = asio::error::invalid_argument;
        return;
      }
    } else {
      plain_.emplace(io_);
    }
    Tcp().expires_after(timeout_);
    tcp::resolver resolver(io_);
    resolver.async_resolve(host_, port_, [&](beast::error_code resolved, auto endpoints) {
      if (resolved) {
        error = resolved;
        return;
      }
      Tcp().async_connect(endpoints, [&](beast::error_code connected, auto) {
        error = connected;
        if (error || !secure_) return;
        Tcp().socket().set_option(tcp::no_delay(true), error);
        secure_->async_handshake(asio::ssl::stream_base::client,
                                 [&](beast::error_code shaken) { error = shaken; });
      });
    });
    RunToCompletion();
    if (!error && plain_) plain_->socket().set_option(tcp::no_delay(true), error);
  }

  // Runs `operation` on the connection's stream (plain or TLS).
  template <typename Operation>
  void OnStream(Operation&& operation) {
    if (secure_) {
      operation(*secure_);
    } else {
      operation(*plain_);
    }
  }

  void Transfer(http::request<http::string_body>& request,
                std::optional<http::response<http::string_body>>& response,
                beast::error_code& error) {
    Tcp().expires_after(timeout_);
    response.emplace();
    OnStream([&](auto& stream) {
      http::async_write(stream, request, [&](beast::error_code written, size_t) {
        if (written) {
          error = written;
          return;
        }
        http::async_read(stream, buffer_, *response,
                         [&](beast::error_code read, size_t) { error = read; });
      });
    });
    RunToCompletion();
    if (error) Disconnect();
  }

  void RunToCompletion() {
    io_.restart();
    io_.run();
  }

  const std::string url_;
  const std::string host_header_;
  const std::string host_;
  const std::string port_;
  const std::chrono::milliseconds timeout_;
  std::optional<security::RequestSigner> signer_;  // set: requests are signed
  const std::shared_ptr<asio::ssl::context> tls_;  // null for http
  asio::io_context io_;
  // The connection, if any: plain_ for http, secure_ for https.
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  beast::flat_buffer buffer_;
};

}  // namespace

Result<std::optional<security::SigningIdentity>> ResolveClientIdentity(const std::string& profile,
                                                                       const std::string& region) {
  TW_ASSIGN_OR_RETURN(std::optional<security::SigningIdentity> identity,
                      security::ResolveSigningIdentity(profile));
  if (identity && !region.empty()) identity->region = region;
  return identity;
}

Result<std::unique_ptr<ServiceClient>> ServiceClient::Create(std::string_view endpoint_url,
                                                             std::chrono::milliseconds timeout) {
  TW_ASSIGN_OR_RETURN(std::optional<security::SigningIdentity> identity, ResolveClientIdentity());
  return Create(endpoint_url, ServiceClientOptions{timeout, std::move(identity)});
}

Result<std::unique_ptr<ServiceClient>> ServiceClient::Create(std::string_view endpoint_url,
                                                             ServiceClientOptions options) {
  std::string url(endpoint_url);
  while (!url.empty() && url.back() == '/') url.pop_back();
  const auto invalid = [&] {
    return Status::Validation("endpoint URL '" + std::string(endpoint_url) +
                              "' is not of the form http://HOST:PORT or https://HOST:PORT");
  };
  const bool https = url.starts_with("https://");
  if (!https && !url.starts_with("http://")) return invalid();
  const std::string authority = url.substr(url.find("//") + 2);
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
  std::shared_ptr<asio::ssl::context> tls;
  if (https) {
    security::TlsClientOptions tls_options = options.tls;
    if (tls_options.ca_bundle_file.empty()) {
      if (const char* bundle = std::getenv("AWS_CA_BUNDLE")) tls_options.ca_bundle_file = bundle;
    }
    Result<std::shared_ptr<asio::ssl::context>> context =
        security::MakeTlsClientContext(tls_options);
    if (!context.ok()) {
      return Status(context.status().code(),
                    "tidewaterd at " + url + ": " + context.status().message());
    }
    tls = std::move(*context);
  }
  return std::unique_ptr<ServiceClient>(new BeastServiceClient(std::move(url), authority,
                                                               std::move(host), std::move(port),
                                                               std::move(options), std::move(tls)));
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
