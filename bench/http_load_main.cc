// tw_http_load: a bounded HTTP load generator for DynamoDB-compatible endpoints.
//
// Sends PutItem or GetItem requests (DynamoDB JSON 1.0, X-Amz-Target, SigV4-signed with the
// AWS credentials of the environment or --profile, placeholder ones when there are none)
// over N keep-alive connections for a fixed duration and/or request count, then prints one
// summary line of key=value pairs:
//
//   result op=PutItem ok=120000 errors=0 elapsed_s=10.001 ops_per_s=11998.8 p50_us=2480 ...
//
// Closed loop by default (each connection sends its next request when the previous one is
// answered: peak throughput). With --rate R the load is open loop: request i is due at
// start + i/R, and its latency is measured from that due time, so a stalled server is not
// hidden by the client waiting for it (no coordinated omission).
//
// An https:// endpoint is reached over TLS (security/tls.h's client policy, the server's
// certificate checked against --ca-bundle, AWS_CA_BUNDLE or the system's store); each
// keep-alive connection handshakes once, so TLS adds its record encryption per request, and
// a handshake only when a connection is re-established.
//
// Single-threaded (one io_context): the client stays light next to the server it measures.

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "CLI/CLI.hpp"
#include "tidewater/core/status.h"
#include "tidewater/security/client_credentials.h"
#include "tidewater/security/request_signer.h"
#include "tidewater/security/sigv4.h"
#include "tidewater/security/tls.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace sigv4 = tidewater::security::sigv4;
namespace ssl = asio::ssl;
using Clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct Options {
  std::string endpoint = "http://127.0.0.1:8000";
  std::string table = "tw_http_load";
  std::string op = "put";
  std::string region;     // "": the profile's
  std::string profile;    // "": as the AWS CLI
  std::string ca_bundle;  // "": AWS_CA_BUNDLE, else the system's store (https endpoints)
  int connections = 32;
  double duration_s = 10;
  double warmup_s = 1;
  std::uint64_t max_requests = 0;  // 0: bounded by duration only
  double rate = 0;                 // requests per second over all connections; 0: closed loop
  int item_size = 1024;
  int keys = 10000;
  bool create_table = false;
  std::string stream_view_type = "NEW_AND_OLD_IMAGES";
  bool populate = false;
};

struct Endpoint {
  std::string host;
  std::string port;
  std::string host_header;  // host[:port] as sent and signed
  bool tls = false;         // https://
};

std::optional<Endpoint> ParseEndpoint(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  constexpr std::string_view kHttps = "https://";
  const bool tls = url.starts_with(kHttps);
  if (!tls && !url.starts_with(kHttp)) return std::nullopt;
  url.remove_prefix(tls ? kHttps.size() : kHttp.size());
  if (auto slash = url.find('/'); slash != std::string_view::npos) url = url.substr(0, slash);
  Endpoint endpoint{std::string(url), tls ? "443" : "80", std::string(url), tls};
  if (auto colon = url.rfind(':'); colon != std::string_view::npos) {
    endpoint.host = std::string(url.substr(0, colon));
    endpoint.port = std::string(url.substr(colon + 1));
  }
  if (endpoint.host.empty() || endpoint.port.empty()) return std::nullopt;
  return endpoint;
}

// ---- Signing ------------------------------------------------------------------------------

// Without credentials in the environment or a profile, requests are signed with these, so
// that servers that insist on a well-formed signature (DynamoDB Local) still take them.
constexpr std::string_view kPlaceholderAccessKey = "AKIDTIDEWATERLOAD";
constexpr std::string_view kPlaceholderSecretKey = "tidewater-load-secret";

// The identity requests are signed with: the AWS CLI's (security::ResolveSigningIdentity with
// --profile), else the placeholder; its region replaced by --region when given.
tidewater::Result<tidewater::security::SigningIdentity> SigningIdentityOf(const Options& options) {
  TW_ASSIGN_OR_RETURN(auto resolved, tidewater::security::ResolveSigningIdentity(options.profile));
  tidewater::security::SigningIdentity identity =
      resolved.value_or(tidewater::security::SigningIdentity{
          {std::string(kPlaceholderAccessKey), std::string(kPlaceholderSecretKey), ""},
          "us-east-1"});
  if (!options.region.empty()) identity.region = options.region;
  return identity;
}

// Sets X-Amz-Date, X-Amz-Security-Token (temporary credentials) and Authorization on a
// request whose host, type, target and body are final; `body_sha256` is the body's hash.
void Sign(tidewater::security::RequestSigner& signer, http::request<http::string_body>& request,
          std::string_view body_sha256) {
  sigv4::Request to_sign;
  to_sign.method = "POST";
  to_sign.canonical_uri = "/";
  to_sign.headers = {{"host", std::string(request[http::field::host])},
                     {"content-type", std::string(request[http::field::content_type])},
                     {"x-amz-target", std::string(request["X-Amz-Target"])}};
  to_sign.payload_sha256 = std::string(body_sha256);
  for (auto& [name, value] : signer.Sign(to_sign, "dynamodb", std::chrono::system_clock::now())) {
    request.set(name, value);
  }
}

// The hex SHA-256 of each key's request body, computed the first time the key is sent: within
// a run a key's body never changes (PutItem writes the same item, GetItem asks for the same
// key), so signing costs no hash of the body after the first round. Up to kMaxKeys keys
// (64 bytes each); beyond, every body is hashed.
class BodyHashes {
 public:
  explicit BodyHashes(int keys)
      : hex_(keys <= kMaxKeys ? static_cast<std::size_t>(keys) * 64 : 0, '\0'),
        known_(keys <= kMaxKeys ? static_cast<std::size_t>(keys) : 0, false) {}

  std::string_view Of(int key_index, std::string_view body) {
    const auto index = static_cast<std::size_t>(key_index);
    if (index >= known_.size()) {
      uncached_ = sigv4::Sha256Hex(body);
      return uncached_;
    }
    if (!known_[index]) {
      hex_.replace(index * 64, 64, sigv4::Sha256Hex(body));
      known_[index] = true;
    }
    return std::string_view(hex_).substr(index * 64, 64);
  }

 private:
  static constexpr int kMaxKeys = 1 << 20;
  std::string hex_;  // 64 hex digits a key
  std::vector<bool> known_;
  std::string uncached_;
};

// ---- TLS ----------------------------------------------------------------------------------

// `error`'s message; for a refused server certificate also OpenSSL's reason ("certificate
// verify failed (SSL routines): unable to get local issuer certificate").
std::string TlsFailure(const beast::error_code& error, SSL* ssl) {
  std::string text = error.message();
  const long verified = SSL_get_verify_result(ssl);
  if (verified != X509_V_OK) text += std::string(": ") + X509_verify_cert_error_string(verified);
  return text;
}

// ---- Request bodies --------------------------------------------------------------------

std::string KeyName(int index) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "k%08d", index);
  return buffer;
}

// An item of `item_size` bytes by DynamoDB's rule (attribute names + values, UTF-8).
std::string ItemJson(int key_index, int item_size) {
  const std::string key = KeyName(key_index);
  const int overhead = static_cast<int>(std::string_view("pk").size() + key.size() +
                                        std::string_view("payload").size());
  const std::string payload(static_cast<std::size_t>(std::max(1, item_size - overhead)), 'x');
  return R"({"pk":{"S":")" + key + R"("},"payload":{"S":")" + payload + R"("}})";
}

std::string PutBody(const std::string& table, int key_index, int item_size) {
  return R"({"TableName":")" + table + R"(","Item":)" + ItemJson(key_index, item_size) + "}";
}

std::string GetBody(const std::string& table, int key_index) {
  return R"({"TableName":")" + table + R"(","Key":{"pk":{"S":")" + KeyName(key_index) + R"("}}})";
}

// ---- Load run ------------------------------------------------------------------------

struct Summary {
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  std::vector<std::uint32_t> latencies_us;
  double elapsed_s = 0;
};

// One phase of load: `connections` keep-alive connections issuing one operation type until
// the deadline or the request budget is reached; over TLS when `tls` is set (the client
// context, shared by the connections). Owns its io_context; Run() blocks.
class LoadRun {
 public:
  LoadRun(const Options& options, const Endpoint& endpoint, ssl::context* tls,
          const tidewater::security::SigningIdentity& identity, std::string target,
          double duration_s, std::uint64_t max_requests, bool record)
      : options_(options),
        endpoint_(endpoint),
        tls_(tls),
        target_(std::move(target)),
        duration_(
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration_s))),
        max_requests_(max_requests),
        record_(record),
        signer_(identity),
        body_hashes_(options.keys),
        hard_stop_(io_) {}

  Summary Run() {
    tcp::resolver resolver(io_);
    boost::system::error_code ec;
    auto resolved = resolver.resolve(endpoint_.host, endpoint_.port, ec);
    if (ec) {
      summary_.errors = 1;
      summary_.first_error = "resolve " + endpoint_.host + ": " + ec.message();
      return summary_;
    }
    addresses_.assign(resolved.begin(), resolved.end());
    start_ = Clock::now();
    last_completion_ = start_;
    deadline_ = start_ + duration_;
    // Outstanding requests get a grace period after the deadline, then everything stops.
    hard_stop_.expires_at(deadline_ + std::chrono::seconds(10));
    hard_stop_.async_wait([this](beast::error_code) { io_.stop(); });
    open_connections_ = options_.connections;
    for (int i = 0; i < options_.connections; ++i) {
      if (tls_ != nullptr) {
        connections_.push_back(std::make_unique<Connection<TlsStream>>(*this));
      } else {
        connections_.push_back(std::make_unique<Connection<beast::tcp_stream>>(*this));
      }
      connections_.back()->Connect();
    }
    io_.run();
    summary_.elapsed_s = std::chrono::duration<double>(last_completion_ - start_).count();
    return summary_;
  }

 private:
  struct ConnectionBase {
    virtual ~ConnectionBase() = default;
    virtual void Connect() = 0;
  };

  // One keep-alive connection over `Stream`: beast::tcp_stream (http) or TlsStream (https,
  // one handshake a connection). The stream is made afresh on each (re)connect.
  template <typename Stream>
  struct Connection final : ConnectionBase {
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

    explicit Connection(LoadRun& run) : run(run), timer(run.io_) {}

    beast::tcp_stream& Tcp() { return beast::get_lowest_layer(*stream); }

    void Connect() override {
      if constexpr (kTls) {
        stream.emplace(run.io_, *run.tls_);
        const tidewater::Status named =
            tidewater::security::SetTlsPeerName(stream->native_handle(), run.endpoint_.host);
        if (!named.ok()) return Fail("TLS peer name: " + named.message(), /*count=*/true);
      } else {
        stream.emplace(run.io_);
      }
      // Covers the TLS handshake too (the deadline holds until the next expires_after).
      Tcp().expires_after(std::chrono::seconds(10));
      Tcp().async_connect(run.addresses_, [this](beast::error_code ec, const auto&) {
        if (ec) return Fail("connect: " + ec.message(), /*count=*/true);
        Tcp().socket().set_option(tcp::no_delay(true));
        if constexpr (kTls) {
          stream->async_handshake(ssl::stream_base::client, [this](beast::error_code ec) {
            if (ec) {
              return Fail("TLS handshake: " + TlsFailure(ec, stream->native_handle()),
                          /*count=*/true);
            }
            Next();
          });
        } else {
          Next();
        }
      });
    }

    void Next() {
      auto due = run.NextDueTime();
      if (!due) return Close();
      due_time = *due;
      if (due_time > Clock::now()) {
        timer.expires_at(due_time);
        timer.async_wait([this](beast::error_code ec) {
          if (!ec) Send();
        });
      } else {
        Send();
      }
    }

    void Send() {
      if (run.options_.rate <= 0) due_time = Clock::now();
      request = {http::verb::post, "/", 11};
      request.set(http::field::host, run.endpoint_.host_header);
      request.set(http::field::content_type, "application/x-amz-json-1.0");
      request.set("X-Amz-Target", "DynamoDB_20120810." + run.target_);
      request.keep_alive(true);
      const int key_index = run.NextKey();
      request.body() = run.BodyOf(key_index);
      request.prepare_payload();
      Sign(run.signer_, request, run.body_hashes_.Of(key_index, request.body()));
      Tcp().expires_after(std::chrono::seconds(30));
      http::async_write(*stream, request, [this](beast::error_code ec, std::size_t) {
        if (ec) return Fail("write: " + ec.message(), /*count=*/true);
        response = {};
        http::async_read(*stream, buffer, response, [this](beast::error_code ec, std::size_t) {
          if (ec) return Fail("read: " + ec.message(), /*count=*/true);
          run.Complete(response, due_time);
          if (!response.keep_alive()) return Reconnect();
          Next();
        });
      });
    }

    void Fail(const std::string& what, bool count) {
      if (count) run.RecordError(what);
      Reconnect();
    }

    void Reconnect() {
      beast::error_code ignored;
      Tcp().socket().close(ignored);
      buffer.clear();
      if (Clock::now() >= run.deadline_ || run.BudgetSpent()) return Close();
      timer.expires_after(std::chrono::milliseconds(10));
      timer.async_wait([this](beast::error_code ec) {
        if (!ec) Connect();
      });
    }

    void Close() {
      if (closed) return;
      closed = true;
      beast::error_code ignored;
      Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
      Tcp().socket().close(ignored);
      if (--run.open_connections_ == 0) run.hard_stop_.cancel();
    }

    LoadRun& run;
    std::optional<Stream> stream;  // set by Connect
    asio::steady_timer timer;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::string_body> response;
    Clock::time_point due_time;
    bool closed = false;
  };

  std::optional<Clock::time_point> NextDueTime() {
    if (BudgetSpent()) return std::nullopt;
    Clock::time_point due = Clock::now();
    if (options_.rate > 0) {
      due = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                         static_cast<double>(issued_) / options_.rate));
    }
    if (due >= deadline_) return std::nullopt;
    ++issued_;
    return due;
  }

  bool BudgetSpent() const { return max_requests_ > 0 && issued_ >= max_requests_; }

  int NextKey() { return key_distribution_(random_); }

  std::string BodyOf(int key_index) const {
    if (target_ == "PutItem") return PutBody(options_.table, key_index, options_.item_size);
    return GetBody(options_.table, key_index);
  }

  void Complete(const http::response<http::string_body>& response, Clock::time_point due_time) {
    const auto now = Clock::now();
    last_completion_ = now;
    if (response.result() != http::status::ok) {
      return RecordError("HTTP " + std::to_string(response.result_int()) + ": " +
                         response.body().substr(0, 200));
    }
    if (target_ == "GetItem" && response.body().find("\"Item\"") == std::string::npos) {
      return RecordError("GetItem found no item (populate the table first)");
    }
    ++summary_.ok;
    if (record_) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - due_time);
      summary_.latencies_us.push_back(static_cast<std::uint32_t>(std::max<long>(0, us.count())));
    }
  }

  void RecordError(const std::string& what) {
    last_completion_ = Clock::now();
    if (summary_.errors++ == 0) summary_.first_error = what;
  }

  const Options& options_;
  const Endpoint& endpoint_;
  ssl::context* const tls_;  // nullptr: plain HTTP
  const std::string target_;
  const Clock::duration duration_;
  const std::uint64_t max_requests_;
  const bool record_;
  asio::io_context io_;
  tidewater::security::RequestSigner signer_;
  BodyHashes body_hashes_;
  asio::steady_timer hard_stop_;
  std::vector<tcp::endpoint> addresses_;
  std::vector<std::unique_ptr<ConnectionBase>> connections_;
  int open_connections_ = 0;
  Clock::time_point start_;
  Clock::time_point deadline_;
  Clock::time_point last_completion_;
  std::uint64_t issued_ = 0;
  std::mt19937 random_{42};
  std::uniform_int_distribution<int> key_distribution_{0, options_.keys - 1};
  Summary summary_;
};

// ---- Table setup (synchronous, before the timed phases) ---------------------------------

struct SimpleResponse {
  unsigned status = 0;
  std::string body;
};

// Sends `request` on a connected `stream` and reads the answer; throws on I/O errors.
template <typename Stream>
SimpleResponse Exchange(Stream& stream, const http::request<http::string_body>& request) {
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return SimpleResponse{response.result_int(), response.body()};
}

// One request on a connection of its own (TLS when `tls` is set).
std::optional<SimpleResponse> Call(tidewater::security::RequestSigner& signer,
                                   const Endpoint& endpoint, ssl::context* tls,
                                   const std::string& target, std::string body) {
  try {
    http::request<http::string_body> request{http::verb::post, "/", 11};
    request.set(http::field::host, endpoint.host_header);
    request.set(http::field::content_type, "application/x-amz-json-1.0");
    request.set("X-Amz-Target", "DynamoDB_20120810." + target);
    request.body() = std::move(body);
    request.prepare_payload();
    Sign(signer, request, sigv4::Sha256Hex(request.body()));
    asio::io_context io;
    tcp::resolver resolver(io);
    const auto addresses = resolver.resolve(endpoint.host, endpoint.port);
    if (tls == nullptr) {
      beast::tcp_stream stream(io);
      stream.connect(addresses);
      return Exchange(stream, request);
    }
    TlsStream stream(io, *tls);
    if (const tidewater::Status named =
            tidewater::security::SetTlsPeerName(stream.native_handle(), endpoint.host);
        !named.ok()) {
      std::cerr << "tw_http_load: " << target << ": " << named.ToString() << "\n";
      return std::nullopt;
    }
    beast::get_lowest_layer(stream).connect(addresses);
    beast::error_code handshake_error;
    stream.handshake(ssl::stream_base::client, handshake_error);
    if (handshake_error) {
      std::cerr << "tw_http_load: " << target << ": TLS handshake with " << endpoint.host_header
                << ": " << TlsFailure(handshake_error, stream.native_handle()) << "\n";
      return std::nullopt;
    }
    return Exchange(stream, request);
  } catch (const std::exception& e) {
    std::cerr << "tw_http_load: " << target << ": " << e.what() << "\n";
    return std::nullopt;
  }
}

bool CreateTable(const Options& options, const Endpoint& endpoint, ssl::context* tls,
                 tidewater::security::RequestSigner& signer) {
  std::string body = R"({"TableName":")" + options.table +
                     R"(","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
                     R"("KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
                     R"("BillingMode":"PAY_PER_REQUEST")";
  if (options.stream_view_type != "NONE") {
    body += R"(,"StreamSpecification":{"StreamEnabled":true,"StreamViewType":")" +
            options.stream_view_type + R"("})";
  }
  body += "}";
  auto created = Call(signer, endpoint, tls, "CreateTable", body);
  if (!created) return false;
  if (created->status != 200 && created->body.find("ResourceInUseException") == std::string::npos) {
    std::cerr << "tw_http_load: CreateTable: HTTP " << created->status << " " << created->body
              << "\n";
    return false;
  }
  for (int attempt = 0; attempt < 600; ++attempt) {
    auto described =
        Call(signer, endpoint, tls, "DescribeTable", R"({"TableName":")" + options.table + R"("})");
    if (!described) return false;
    if (described->body.find(R"("TableStatus":"ACTIVE")") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cerr << "tw_http_load: table " << options.table << " did not become ACTIVE\n";
  return false;
}

// Writes every key once with BatchWriteItem so that GetItem always finds its item.
bool Populate(const Options& options, const Endpoint& endpoint, ssl::context* tls,
              tidewater::security::RequestSigner& signer) {
  for (int start = 0; start < options.keys; start += 25) {
    std::string body = R"({"RequestItems":{")" + options.table + R"(":[)";
    for (int i = start; i < std::min(start + 25, options.keys); ++i) {
      if (i != start) body += ",";
      body += R"({"PutRequest":{"Item":)" + ItemJson(i, options.item_size) + "}}";
    }
    body += "]}}";
    for (;;) {
      auto response = Call(signer, endpoint, tls, "BatchWriteItem", body);
      if (!response || response->status != 200) {
        std::cerr << "tw_http_load: BatchWriteItem failed"
                  << (response ? ": " + response->body.substr(0, 300) : "") << "\n";
        return false;
      }
      if (response->body.find(R"("UnprocessedItems":{})") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

std::uint32_t Percentile(const std::vector<std::uint32_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"HTTP load generator for DynamoDB-compatible endpoints (PutItem / GetItem)"};
  app.add_option("--endpoint", options.endpoint, "http://host:port or https://host:port")
      ->capture_default_str();
  app.add_option("--table", options.table, "table name")->capture_default_str();
  app.add_option("--op", options.op, "put or get")
      ->check(CLI::IsMember({"put", "get"}))
      ->capture_default_str();
  app.add_option("--region", options.region,
                 "SigV4 scope region, the server's --region (default: the profile's; us-east-1 "
                 "without credentials)");
  app.add_option("--profile", options.profile,
                 "AWS profile signing the requests (default: the environment's keys, else "
                 "AWS_PROFILE or the default profile; placeholder keys when none)");
  app.add_option("--ca-bundle", options.ca_bundle,
                 "PEM file of the CAs that sign an https endpoint's certificate (default: "
                 "AWS_CA_BUNDLE, else the system's store)");
  app.add_option("--connections", options.connections, "keep-alive connections")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--duration", options.duration_s, "measured seconds")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--warmup", options.warmup_s, "unmeasured seconds first")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_option("--requests", options.max_requests, "stop after this many (0: duration only)")
      ->capture_default_str();
  app.add_option("--rate", options.rate, "open-loop requests/s over all connections (0: max)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--item-size", options.item_size, "item size in bytes (DynamoDB rules)")
      ->check(CLI::Range(32, 400 * 1024))
      ->capture_default_str();
  app.add_option("--keys", options.keys, "distinct keys (uniformly random)")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  app.add_flag("--create-table", options.create_table, "create the table first (on-demand)");
  app.add_option("--stream-view-type", options.stream_view_type,
                 "stream of the created table, or NONE")
      ->check(CLI::IsMember({"NONE", "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"}))
      ->capture_default_str();
  app.add_flag("--populate", options.populate, "write every key once before measuring");
  CLI11_PARSE(app, argc, argv);

  const auto endpoint = ParseEndpoint(options.endpoint);
  if (!endpoint) {
    std::cerr << "tw_http_load: --endpoint must be http://host:port or https://host:port\n";
    return 2;
  }
  std::shared_ptr<ssl::context> tls;
  if (endpoint->tls) {
    tidewater::security::TlsClientOptions tls_options;
    tls_options.ca_bundle_file = options.ca_bundle;
    if (tls_options.ca_bundle_file.empty()) {
      if (const char* bundle = std::getenv("AWS_CA_BUNDLE")) tls_options.ca_bundle_file = bundle;
    }
    auto context = tidewater::security::MakeTlsClientContext(tls_options);
    if (!context.ok()) {
      std::cerr << "tw_http_load: " << context.status().ToString() << "\n";
      return 2;
    }
    tls = std::move(*context);
  }
  const auto identity = SigningIdentityOf(options);
  if (!identity.ok()) {
    std::cerr << "tw_http_load: " << identity.status().ToString() << "\n";
    return 2;
  }
  tidewater::security::RequestSigner setup_signer(*identity);
  if (options.create_table && !CreateTable(options, *endpoint, tls.get(), setup_signer)) return 1;
  if (options.populate && !Populate(options, *endpoint, tls.get(), setup_signer)) return 1;

  const std::string target = options.op == "put" ? "PutItem" : "GetItem";
  if (options.warmup_s > 0) {
    LoadRun(options, *endpoint, tls.get(), *identity, target, options.warmup_s, 0,
            /*record=*/false)
        .Run();
  }
  Summary summary = LoadRun(options, *endpoint, tls.get(), *identity, target, options.duration_s,
                            options.max_requests, /*record=*/true)
                        .Run();

  std::sort(summary.latencies_us.begin(), summary.latencies_us.end());
  char rate_text[32] = "max";
  if (options.rate > 0) std::snprintf(rate_text, sizeof rate_text, "%g", options.rate);
  const std::string rate = rate_text;
  const auto& latencies = summary.latencies_us;
  const double ops_per_s =
      summary.elapsed_s > 0 ? static_cast<double>(summary.ok) / summary.elapsed_s : 0;
  std::printf(
      "result op=%s connections=%d rate=%s ok=%llu errors=%llu elapsed_s=%.3f ops_per_s=%.1f "
      "p50_us=%u p90_us=%u p99_us=%u p999_us=%u max_us=%u\n",
      target.c_str(), options.connections, rate.c_str(),
      static_cast<unsigned long long>(summary.ok), static_cast<unsigned long long>(summary.errors),
      summary.elapsed_s, ops_per_s, Percentile(latencies, 0.50), Percentile(latencies, 0.90),
      Percentile(latencies, 0.99), Percentile(latencies, 0.999),
      latencies.empty() ? 0u : latencies.back());
  if (summary.errors > 0) {
    std::fprintf(stderr, "tw_http_load: %llu errors, first: %s\n",
                 static_cast<unsigned long long>(summary.errors), summary.first_error.c_str());
  }
  return summary.ok > 0 && summary.errors == 0 ? 0 : 1;
}
