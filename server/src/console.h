// The web console served under /console on the server's HTTP port (read-only):
//   GET /console, /console/            -> index.html
//   GET /console/<file>                -> an embedded file of server/console/ (console.js, ...)
//   GET /console/api/history           -> MetricHistory::Json() (the charts' last hour)
//   GET /console/api/stream?table=NAME -> server-sent events: the table's new change records
// Anything else under /console answers 404. Every answer has "Cache-Control: no-cache".
// The page reads tables and items through the DynamoDB JSON API on the same origin.
//
// The stream endpoint follows every shard of the table from its end when the request
// arrives (LATEST), polling the engine's change log on the connection's own thread with an
// asynchronous timer: first an event "ready", then one event "record" per change record,
// data {"shard":n,"timeMicros":t,"record":<the record as GetRecords shows it>}; a comment
// line when idle (so that a client gone away is noticed), an event "end" when the table is
// deleted. A live stream counts in tidewater_http_connections until it closes. At most one batch of
// records is buffered per connection: the log is not read again until the client has taken the
// previous batch.
//
// Over HTTPS the live stream runs on the connection's TLS stream (the Follow overload of
// ConsoleTlsStream); when it ends it closes the TCP connection without a close_notify (the
// answer is delimited by the close, "Connection: close").
//
// Thread safety: Handle may be called from any thread; Follow runs the connection on the
// socket's executor (an io_context served by one thread).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "console_history.h"
#include "server_metrics.h"
#include "tidewater/core/engine.h"

namespace tidewater::server {

using ConsoleSocket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;
// An HTTPS connection (handshake done, no timeout pending on its TCP stream).
using ConsoleTlsStream = boost::beast::ssl_stream<
    boost::beast::basic_stream<boost::asio::ip::tcp, boost::asio::io_context::executor_type>>;

class Console {
 public:
  struct Options {
    Engine* engine = nullptr;                // not owned; outlives the console
    const MetricHistory* history = nullptr;  // not owned; outlives the console
    std::string region;
    // Not owned; counts live streams as open connections, so it must outlive them (they
    // may end after the console, when their io_context is destroyed).
    ServerMetrics* metrics = nullptr;
    std::chrono::milliseconds poll_interval{200};  // how often a live stream reads the log
    std::chrono::milliseconds idle_comment{15'000};
  };

  // An answer to a GET; `follow_table` set means: hand the connection to Follow().
  struct Answer {
    unsigned status = 200;
    std::string content_type;
    std::string body;
    std::optional<std::string> follow_table;
  };

  explicit Console(Options options) : options_(std::move(options)) {}

  // Whether `target` (path and query) is the console's: /console or under /console/.
  static bool Owns(std::string_view target);
  // Whether `target` is the live stream, the one console path that shows items (the page and
  // the charts show no more than /metrics).
  static bool ShowsItems(std::string_view target);

  // The answer to GET `target` (Owns(target) holds). For the stream endpoint on a table
  // with an enabled stream, only follow_table is set; errors answer JSON
  // {"__type":..,"message":..} as the API does.
  Answer Handle(std::string_view target) const;

  // Serves the live stream of `table` on `socket` (a connection whose request was just
  // read) until the client goes away, the table is deleted, or `stopping()` holds (checked
  // at every poll; the server's shutdown). Keeps the connection alive by itself.
  void Follow(ConsoleSocket socket, std::string table, std::function<bool()> stopping) const;
  void Follow(ConsoleTlsStream stream, std::string table, std::function<bool()> stopping) const;

 private:
  Options options_;
};

}  // namespace tidewater::server
