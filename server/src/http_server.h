// The HTTP/1.1 listener (Boost.Beast), plain HTTP or, with a TLS context, HTTPS only
// (every connection starts with a TLS handshake within the read timeout): keep-alive connections, a
// per-request read timeout (slow and idle clients are dropped), a body size limit (HTTP 413), and
// routing:
//   POST <any path>   -> the DynamoDB / DynamoDB Streams API (RequestRouter)
//   GET  /healthz     -> 200 "ok" while `health` is ok, else 503 with its message
//   GET  /metrics     -> Prometheus text exposition
//   GET  /console...  -> the web console (console.h), when one is given; else 404
// GET /metrics and the console answer 403 (text: the authentication error) to a request
// that needs a signature (GetAuthentication) and has no valid one; /healthz is always open.
// Threading: one io_context per worker thread. Each accepted connection is bound to one
// of them (round robin) and its requests are handled one after another on that thread,
// which also runs the engine call; no locks or strands on the request path. Stop and
// in_flight may be called from any thread. A console live stream takes its connection
// over (on the same thread) and is not counted in in_flight.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "console.h"
#include "request_router.h"
#include "server_metrics.h"

namespace tidewater::server {

class HttpServer {
 public:
  struct Limits {
    size_t max_body_bytes;
    std::chrono::milliseconds read_timeout;
  };

  // Which GET paths need a request `authenticator` accepts.
  struct GetAuthentication {
    // Null: every GET path is open. Else it checks /metrics and every console path.
    const Authenticator* authenticator = nullptr;
    // /metrics and the console's page and charts stay open; the console's live stream
    // (items) still needs the authenticator.
    bool metrics_open = false;
  };

  // `workers` (non-empty; the first also runs the listener), `router` and `metrics` must
  // outlive the server and every connection. `health` answers /healthz (thread-safe).
  // `console` (null: no console) and `get_authentication.authenticator` must outlive the
  // server and every connection too. `tls` (null: plain HTTP) makes the listener HTTPS
  // only (security::MakeTlsServerContext); shared with the connections.
  HttpServer(std::vector<boost::asio::io_context*> workers, const RequestRouter* router,
             ServerMetrics* metrics, Limits limits, std::function<Status()> health,
             const Console* console, GetAuthentication get_authentication,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

  // Binds and listens. Errors: IOError with the reason (address in use, ...).
  Status Listen(const boost::asio::ip::tcp::endpoint& endpoint);
  uint16_t port() const { return port_; }
  void StartAccepting();
  // Closes the listener; open connections finish their current request and close.
  void Stop();
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // Requests being handled right now.
  int in_flight() const { return in_flight_.load(std::memory_order_acquire); }

 private:
  template <typename Stream>
  class Session;
  void Accept();

  std::vector<boost::asio::io_context*> workers_;
  size_t next_worker_ = 0;  // used on the listener's thread only
  boost::asio::ip::tcp::acceptor acceptor_;
  const RequestRouter* router_;
  ServerMetrics* metrics_;
  Limits limits_;
  std::function<Status()> health_;
  const Console* console_;
  GetAuthentication get_authentication_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // null: plain HTTP
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> in_flight_{0};
};

}  // namespace tidewater::server
