#include "http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <type_traits>

#include "api_error.h"
#include "crc32.h"
#include "request_id.h"

namespace tidewater::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Connections use their io_context's executor directly (no type erasure, no strand).
using Executor = net::io_context::executor_type;
using PlainStream = beast::basic_stream<tcp, Executor>;
using TlsStream = ConsoleTlsStream;
using Socket = tcp::socket::rebind_executor<Executor>::other;
static_assert(std::is_same_v<TlsStream, beast::ssl_stream<PlainStream>>);

std::string_view View(beast::string_view s) { return std::string_view(s.data(), s.size()); }

class BeastRequestView final : public HttpRequestView {
 public:
  BeastRequestView(const http::request<http::string_body>& request, std::string_view remote_address)
      : request_(request), remote_address_(remote_address) {}
  std::string_view method() const override { return View(request_.method_string()); }
  std::string_view target() const override { return View(request_.target()); }
  std::string_view header(std::string_view name) const override {
    auto it = request_.find(beast::string_view(name.data(), name.size()));
    return it == request_.end() ? std::string_view() : View(it->value());
  }
  std::string_view body() const override { return request_.body(); }
  std::string_view remote_address() const override { return remote_address_; }

 private:
  const http::request<http::string_body>& request_;
  std::string_view remote_address_;
};

// The peer's address as text, an IPv4-mapped IPv6 address as IPv4 (a listener on [::]
// accepts IPv4 clients so); empty when the socket has none (already reset).
std::string RemoteAddress(const Socket& socket) {
  beast::error_code ec;
  const tcp::endpoint endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  const net::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

http::response<http::string_body> ApiAnswer(unsigned version, ApiResponse api) {
  http::response<http::string_body> response{static_cast<http::status>(api.http_status), version};
  response.set(http::field::content_type,
               beast::string_view(api.content_type.data(), api.content_type.size()));
  response.set("x-amzn-RequestId", api.request_id);
  response.set("x-amz-crc32", api.crc32);
  response.body() = std::move(api.body);
  response.prepare_payload();
  return response;
}

http::response<http::string_body> TextAnswer(unsigned version, http::status status,
                                             std::string_view content_type, std::string body) {
  http::response<http::string_body> response{status, version};
  response.set(http::field::content_type,
               beast::string_view(content_type.data(), content_type.size()));
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

// The Date header value (RFC 7231 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") of now;
// clients use it to correct their clock skew when signing. Formatted once a second per
// thread.
const std::string& HttpDate() {
  thread_local std::time_t formatted_second = -1;
  thread_local std::string formatted;
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (now == formatted_second) return formatted;
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[40];
  std::snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  formatted_second = now;
  formatted = text;
  return formatted;
}

// The status line and headers of an API answer (what ApiAnswer and Session::Write would
// send, written directly: the body goes out after them in the same write, uncopied).
void WriteApiHead(unsigned version, bool keep_alive, const ApiResponse& api, std::string* out) {
  const auto status = static_cast<http::status>(api.http_status);
  const beast::string_view reason = http::obsolete_reason(status);
  out->clear();
  out->append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out->append(std::to_string(api.http_status));
  out->push_back(' ');
  out->append(reason.data(), reason.size());
  out->append("\r\nContent-Type: ");
  out->append(api.content_type);
  out->append("\r\nx-amzn-RequestId: ");
  out->append(api.request_id);
  out->append("\r\nx-amz-crc32: ");
  out->append(api.crc32);
  out->append("\r\nContent-Length: ");
  out->append(std::to_string(api.body.size()));
  out->append("\r\nDate: ");
  out->append(HttpDate());
  // HTTP/1.1 keeps the connection unless told; HTTP/1.0 closes it unless told.
  if (version >= 11 && !keep_alive) out->append("\r\nConnection: close");
  if (version == 10 && keep_alive) out->append("\r\nConnection: keep-alive");
  out->append("\r\n\r\n");
}

// A GET refused for want of a valid signature: "<error type>: <message>".
http::response<http::string_body> Forbidden(unsigned version, const Status& status) {
  return TextAnswer(version, http::status::forbidden, "text/plain",
                    std::string(ErrorTypeName(status.code())) + ": " + status.message() + "\n");
}

// An error the HTTP layer answers by itself (the request never reached an operation).
http::response<http::string_body> ProtocolError(unsigned version, unsigned http_status,
                                                Status status) {
  ApiError error = ToApiError(status);
  ApiResponse api{http_status, std::move(error.body), NewRequestId(), ""};
  api.crc32 = Crc32Header(api.body);
  return ApiAnswer(version, std::move(api));
}

}  // namespace

// One connection: PlainStream for http, TlsStream for https (a template, so that the plain
// path has no indirection). Everything TLS adds is the handshake before the first request
// and the close_notify exchange before the TCP close.
template <typename Stream>
class HttpServer::Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

 public:
  template <typename... Args>
  Session(HttpServer* server, Args&&... stream_args)
      : stream_(std::forward<Args>(stream_args)...), server_(server), metrics_(server->metrics_) {
    metrics_->ConnectionOpened();
  }
  // May run after the HttpServer is gone (pending handlers die with their io_context),
  // hence the metrics pointer of its own.
  ~Session() { metrics_->ConnectionClosed(); }

  void Start() {
    remote_address_ = RemoteAddress(Tcp().socket());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->Read();
      }
    });
  }

 private:
  // The TCP stream (and its timer) under the connection.
  PlainStream& Tcp() { return beast::get_lowest_layer(stream_); }

  // The TLS handshake, within the read timeout. A failure (a client speaking plain HTTP,
  // an old protocol version, no client certificate under mutual TLS) drops the connection.
  void Handshake() {
    Tcp().expires_after(server_->limits_.read_timeout);
    stream_.async_handshake(
        net::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
          if (ec) {
            self->server_->metrics_->TlsHandshakeFailed();
            spdlog::debug("event=tls_handshake_failed error=\"{}\"", ec.message());
            return;
          }
          self->Read();
        });
  }

  // Header first, so that a client waiting on "Expect: 100-continue" (curl does for
  // larger bodies) is told to go on; the read timeout covers header and body together.
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_->limits_.max_body_bytes);
    Tcp().expires_after(server_->limits_.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnRead(ec, 0);
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](beast::error_code write_error, size_t) {
                         if (!write_error) self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream) return Close(/*linger=*/false);
    if (ec == http::error::body_limit) {
      server_->metrics_->BodyTooLarge();
      return Write(ProtocolError(parser_->get().version(), 413,
                                 Status::Validation(
                                     "Request body exceeds the maximum allowed size of " +
                                     std::to_string(server_->limits_.max_body_bytes) + " bytes")),
                   /*keep_alive=*/false);
    }
    if (ec && ec.category() == http::make_error_code(http::error::body_limit).category()) {
      server_->metrics_->MalformedHttp();
      return Write(
          TextAnswer(11, http::status::bad_request, "text/plain", "malformed HTTP request\n"),
          /*keep_alive=*/false);
    }
    if (ec) return;  // timeout, reset, or shutdown: the stream is closed with this session
    Handle(parser_->release());
  }

  void Handle(http::request<http::string_body> request) {
    server_->in_flight_.fetch_add(1, std::memory_order_acq_rel);
    counted_ = true;
    bool keep_alive = request.keep_alive();
    unsigned version = request.version();
    http::response<http::string_body> response;
    if (request.method() == http::verb::post) {
      BeastRequestView view(request, remote_address_);
      auto target = request.find("X-Amz-Target");
      std::string_view amz_target =
          target == request.end() ? std::string_view() : View(target->value());
      ApiResponse api = server_->router_->Handle(amz_target, request.body(), view);
      if (api.forward) {
        // Cluster mode: the owner answers; this worker serves its other connections meanwhile.
        return server_->router_->Forward(
            std::move(api), Tcp().get_executor(),
            [self = shared_from_this(), version, keep_alive](ApiResponse answer) {
              self->WriteApi(version, keep_alive, std::move(answer));
            });
      }
      return WriteApi(version, keep_alive, std::move(api));
    } else if (request.method() == http::verb::get && request.target() == "/healthz") {
      // Unhealthy while the engine cannot write (a storage error it is recovering from).
      Status health = server_->health_();
      response = health.ok() ? TextAnswer(version, http::status::ok, "text/plain", "ok")
                             : TextAnswer(version, http::status::service_unavailable, "text/plain",
                                          health.message() + "\n");
    } else if (request.method() == http::verb::get && request.target() == "/metrics") {
      Status authenticated = AuthenticateGet(request, /*shows_items=*/false);
      response = authenticated.ok()
                     ? TextAnswer(version, http::status::ok, "text/plain; version=0.0.4",
                                  server_->metrics_->Serialize())
                     : Forbidden(version, authenticated);
    } else if (request.method() == http::verb::get && server_->console_ != nullptr &&
               Console::Owns(View(request.target()))) {
      Status authenticated = AuthenticateGet(request, Console::ShowsItems(View(request.target())));
      if (!authenticated.ok()) return Write(Forbidden(version, authenticated), keep_alive);
      Console::Answer answer = server_->console_->Handle(View(request.target()));
      if (answer.follow_table) return FollowStream(std::move(*answer.follow_table));
      response = TextAnswer(version, static_cast<http::status>(answer.status), answer.content_type,
                            std::move(answer.body));
      response.set(http::field::cache_control, "no-cache");
    } else {
      response = TextAnswer(version, http::status::not_found, "text/plain", "not found\n");
    }
    Write(std::move(response), keep_alive);
  }

  // Ok when a GET of /metrics or the console may be answered: always without an
  // authenticator, else when it is open (`shows_items` false and metrics_open) or the
  // authenticator accepts the request; otherwise the authenticator's error.
  Status AuthenticateGet(const http::request<http::string_body>& request, bool shows_items) const {
    const GetAuthentication& rule = server_->get_authentication_;
    if (rule.authenticator == nullptr || (rule.metrics_open && !shows_items)) return Status::Ok();
    std::string principal;  // GETs are not authorized per principal
    return rule.authenticator->Authenticate(BeastRequestView(request, remote_address_), &principal);
  }

  // Hands the connection to the console's live stream, which answers and keeps it; this
  // session ends here.
  void FollowStream(std::string table) {
    server_->in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    counted_ = false;
    HttpServer* server = server_;
    auto stopping = [server] { return server->stopping(); };
    if constexpr (kTls) {
      Tcp().expires_never();
      server_->console_->Follow(std::move(stream_), std::move(table), std::move(stopping));
    } else {
      server_->console_->Follow(stream_.release_socket(), std::move(table), std::move(stopping));
    }
  }

  void Write(http::response<http::string_body> response, bool keep_alive) {
    keep_alive = keep_alive && !server_->stopping();
    response.keep_alive(keep_alive);
    response.set(http::field::date, HttpDate());
    response_ = std::move(response);
    Tcp().expires_after(server_->limits_.read_timeout);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
  }

  // Writes an API answer, head and body in one write without Beast's serializer (the
  // answer of almost every request: its cost is per request).
  void WriteApi(unsigned version, bool keep_alive, ApiResponse api) {
    keep_alive = keep_alive && !server_->stopping();
    WriteApiHead(version, keep_alive, api, &api_head_);
    api_body_ = std::move(api.body);
    Tcp().expires_after(server_->limits_.read_timeout);
    const std::array<net::const_buffer, 2> buffers = {net::buffer(api_head_),
                                                      net::buffer(api_body_)};
    net::async_write(stream_, buffers,
                     beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
  }

  void OnWrite(bool keep_alive, beast::error_code ec, size_t) {
    if (counted_) {
      server_->in_flight_.fetch_sub(1, std::memory_order_acq_rel);
      counted_ = false;
    }
    if (ec) return;
    if (!keep_alive) return Close(/*linger=*/true);
    Read();
  }

  // Stops sending: TLS's close_notify first (waiting a short time for the client's), then
  // the TCP shutdown. With `linger` (after an answer the client may not have finished
  // sending for: 413, malformed HTTP), then reads and discards until the client closes or
  // the short time passes: closing with unread input would reset the connection and could
  // destroy the answer before the client reads it.
  void Close(bool linger) {
    Tcp().expires_after(std::min<std::chrono::milliseconds>(server_->limits_.read_timeout,
                                                            std::chrono::seconds(2)));
    if constexpr (kTls) {
      stream_.async_shutdown(
          [self = shared_from_this(), linger](beast::error_code) { self->ShutdownSend(linger); });
    } else {
      ShutdownSend(linger);
    }
  }

  void ShutdownSend(bool linger) {
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (linger) Discard();
  }

  // Reads below TLS: after close_notify only the client's leftovers can come.
  void Discard() {
    Tcp().async_read_some(net::buffer(discard_),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (!ec) self->Discard();
                          });
  }

  Stream stream_;
  HttpServer* server_;
  ServerMetrics* metrics_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::string api_head_;  // WriteApi's status line and headers
  std::string api_body_;
  bool counted_ = false;
  std::string remote_address_;  // the client's IP address (HttpRequestView::remote_address)
  std::array<char, 16 * 1024> discard_;
};

HttpServer::HttpServer(std::vector<net::io_context*> workers, const RequestRouter* router,
                       ServerMetrics* metrics, Limits limits, std::function<Status()> health,
                       const Console* console, GetAuthentication get_authentication,
                       std::shared_ptr<net::ssl::context> tls)
    : workers_(std::move(workers)),
      acceptor_(*workers_.front()),
      router_(router),
      metrics_(metrics),
      limits_(limits),
      health_(std::move(health)),
      console_(console),
      get_authentication_(get_authentication),
      tls_(std::move(tls)) {}

Status HttpServer::Listen(const tcp::endpoint& endpoint) {
  beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("cannot listen on " + endpoint.address().to_string() + ":" +
                           std::to_string(endpoint.port()) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

void HttpServer::StartAccepting() {
  net::dispatch(acceptor_.get_executor(), [this] { Accept(); });
}

void HttpServer::Accept() {
  net::io_context& worker = *workers_[next_worker_++ % workers_.size()];
  acceptor_.async_accept(worker, [this](beast::error_code ec, Socket socket) {
    if (stopping()) return;
    if (ec) {
      spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (tls_) {
        std::make_shared<Session<TlsStream>>(this, std::move(socket), *tls_)->Start();
      } else {
        std::make_shared<Session<PlainStream>>(this, std::move(socket))->Start();
      }
    }
    Accept();
  });
}

void HttpServer::Stop() {
  stopping_.store(true, std::memory_order_release);
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
}

}  // namespace tidewater::server
