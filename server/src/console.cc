#include "console.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <map>
#include <memory>
#include <type_traits>

#include "console_assets.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/stream_record_json.h"

namespace tidewater::server {
namespace net = boost::asio;

namespace {

constexpr std::string_view kPrefix = "/console";
constexpr std::string_view kStreamPath = "/console/api/stream";
constexpr std::string_view kHistoryPath = "/console/api/history";
constexpr std::string_view kJson = "application/json";
// Records read from a shard at a time; a poll stops adding events once this much is
// pending (so the buffer holds at most this plus one record's event).
constexpr size_t kReadBatch = 200;
constexpr size_t kMaxPendingBytes = 256 * 1024;

std::string_view ContentTypeOf(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

std::string ErrorJson(std::string_view type, std::string_view message) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  w.Key("__type");
  w.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Console::Answer Error(unsigned status, std::string_view type, std::string_view message) {
  return {status, std::string(kJson), ErrorJson(type, message), std::nullopt};
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The decoded value of `name` in a query string ("a=1&b=x%20y"); nullopt when absent or
// badly escaped.
std::optional<std::string> QueryParameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t end = std::min(query.find('&'), query.size());
    std::string_view pair = query.substr(0, end);
    query.remove_prefix(std::min(end + 1, query.size()));
    const size_t equals = pair.find('=');
    if (pair.substr(0, equals) != name || equals == std::string_view::npos) continue;
    std::string value;
    std::string_view escaped = pair.substr(equals + 1);
    for (size_t i = 0; i < escaped.size(); ++i) {
      if (escaped[i] == '+') {
        value += ' ';
      } else if (escaped[i] != '%') {
        value += escaped[i];
      } else {
        if (i + 2 >= escaped.size()) return std::nullopt;
        const int high = HexDigit(escaped[i + 1]);
        const int low = HexDigit(escaped[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        value += static_cast<char>(high * 16 + low);
        i += 2;
      }
    }
    return value;
  }
  return std::nullopt;
}

// One live stream connection, on a plain socket (ConsoleSocket) or a TLS stream
// (ConsoleTlsStream). Runs on its socket's executor only (one thread), so it needs no locks;
// the pending handlers own it.
template <typename Socket>
class LiveStream : public std::enable_shared_from_this<LiveStream<Socket>> {
  using std::enable_shared_from_this<LiveStream<Socket>>::shared_from_this;

 public:
  LiveStream(Socket socket, Engine* engine, ServerMetrics* metrics, std::string region,
             std::string table, std::function<bool()> stopping,
             std::chrono::milliseconds poll_interval, std::chrono::milliseconds idle_comment)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        engine_(engine),
        metrics_(metrics),
        region_(std::move(region)),
        table_(std::move(table)),
        stopping_(std::move(stopping)),
        poll_interval_(poll_interval),
        idle_comment_(idle_comment) {
    metrics_->ConnectionOpened();
  }
  ~LiveStream() { metrics_->ConnectionClosed(); }
  LiveStream(const LiveStream&) = delete;
  LiveStream& operator=(const LiveStream&) = delete;

  void Start() {
    auto described = engine_->DescribeTable(table_);
    if (!described.ok()) return Close();
    table_id_ = described->table_id;
    for (const ShardDescription& shard : described->shards) {
      next_[shard.index.value()] = SequenceNumber(shard.last_sequence.value() + 1);
    }
    pending_ =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\nX-Accel-Buffering: no\r\n\r\n";
    pending_ += "event: ready\ndata: {\"table\":\"" + table_ +
                "\",\"shards\":" + std::to_string(next_.size()) + "}\n\n";
    last_output_ = std::chrono::steady_clock::now();
    Flush();
    WatchClient();
    Schedule();
  }

 private:
  // Reads (and discards) what the client sends, to learn when it goes away.
  void WatchClient() {
    socket_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->WatchClient();
                            });
  }

  void Schedule() {
    timer_.expires_after(poll_interval_);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closed_) return;
      self->Poll();
    });
  }

  void Poll() {
    if (stopping_()) return Close();
    if (!writing_) {
      ReadLog();
      if (!pending_.empty()) {
        last_output_ = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - last_output_ >= idle_comment_) {
        pending_ = ": idle\n\n";
        last_output_ = std::chrono::steady_clock::now();
      }
      Flush();
    }
    if (!closed_ && !ending_) Schedule();
  }

  void ReadLog() {
    auto described = engine_->DescribeTable(table_);
    if (!described.ok() || described->table_id != table_id_) {
      pending_ += "event: end\ndata: {\"reason\":\"table deleted\"}\n\n";
      ending_ = true;
      return;
    }
    for (const ShardDescription& shard : described->shards) {
      // A shard born after the stream started (a split) is read from its beginning.
      auto [position, added] = next_.try_emplace(shard.index.value(), SequenceNumber(1));
      while (position->second <= shard.last_sequence && pending_.size() < kMaxPendingBytes) {
        ShardReadRequest read;
        read.table = TableName(table_);
        read.table_id = table_id_;
        read.shard = shard.index;
        read.from_sequence = position->second;
        read.limit = kReadBatch;
        auto result = engine_->ReadShard(read);
        if (!result.ok()) {
          spdlog::warn("event=console_stream_read_failed table={} shard={} error=\"{}\"", table_,
                       shard.index.value(), result.status().ToString());
          break;
        }
        // Past the cap, the rest of the batch is read again at a later poll.
        SequenceNumber next = result->next_sequence;
        for (const ChangeRecord& record : result->records) {
          if (pending_.size() >= kMaxPendingBytes) {
            next = SequenceNumber(record.sequence());
            break;
          }
          AppendEvent(shard.index, record);
        }
        if (next <= position->second) break;
        position->second = next;
      }
    }
  }

  void AppendEvent(ShardIndex shard, const ChangeRecord& record) {
    auto text = streams::StreamRecordJson(record, table_id_, region_);
    if (!text.ok()) {
      spdlog::warn("event=console_stream_record_failed table={} error=\"{}\"", table_,
                   text.status().ToString());
      return;
    }
    pending_ += "event: record\ndata: {\"shard\":" + std::to_string(shard.value()) +
                ",\"timeMicros\":" + std::to_string(record.approximate_creation_time_micros()) +
                ",\"record\":" + *text + "}\n\n";
  }

  void Flush() {
    if (writing_ || closed_) return;
    if (pending_.empty()) {
      if (ending_) Close();
      return;
    }
    writing_ = true;
    sending_ = std::move(pending_);
    pending_.clear();
    net::async_write(socket_, net::buffer(sending_),
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       self->writing_ = false;
                       if (ec) return self->Close();
                       self->Flush();
                     });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    auto& tcp = boost::beast::get_lowest_layer(socket_);
    if constexpr (std::is_same_v<Socket, ConsoleSocket>) {
      tcp.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
      tcp.close(ignored);
    } else {
      tcp.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
      tcp.close();
    }
  }

  Socket socket_;
  net::basic_waitable_timer<std::chrono::steady_clock, net::wait_traits<std::chrono::steady_clock>,
                            net::io_context::executor_type>
      timer_;
  Engine* engine_;
  ServerMetrics* metrics_;
  std::string region_;
  std::string table_;
  std::function<bool()> stopping_;
  std::chrono::milliseconds poll_interval_;
  std::chrono::milliseconds idle_comment_;
  uint64_t table_id_ = 0;
  std::map<uint32_t, SequenceNumber> next_;  // per shard index: the next sequence to send
  std::string pending_;                      // events not yet handed to the socket
  std::string sending_;                      // the write in flight
  bool writing_ = false;
  bool ending_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_output_;
  std::array<char, 1024> discard_{};
};

}  // namespace

bool Console::Owns(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  return path == kPrefix || path.starts_with("/console/");
}

bool Console::ShowsItems(std::string_view target) {
  return target.substr(0, target.find('?')) == kStreamPath;
}

Console::Answer Console::Handle(std::string_view target) const {
  const size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path == kHistoryPath) {
    return {200, std::string(kJson), options_.history->Json(), std::nullopt};
  }
  if (path == kStreamPath) {
    std::optional<std::string> table = QueryParameter(query, "table");
    if (!table || table->empty()) {
      return Error(400, "ValidationException", "the query parameter 'table' names no table");
    }
    auto described = options_.engine->DescribeTable(*table);
    if (!described.ok()) {
      return Error(404, "ResourceNotFoundException",
                   "Requested resource not found: Table: " + *table + " not found");
    }
    if (!described->stream.enabled) {
      return Error(400, "ValidationException", "Table " + *table + " has no enabled stream");
    }
    return {200, "", "", std::move(table)};
  }
  std::string_view name = path == kPrefix || path == "/console/" ? std::string_view("index.html")
                                                                 : path.substr(kPrefix.size() + 1);
  for (const ConsoleAsset& asset : ConsoleAssets()) {
    if (asset.name == name) {
      return {200, std::string(ContentTypeOf(name)), std::string(asset.bytes), std::nullopt};
    }
  }
  return {404, "text/plain", "not found\n", std::nullopt};
}

void Console::Follow(ConsoleSocket socket, std::string table,
                     std::function<bool()> stopping) const {
  std::make_shared<LiveStream<ConsoleSocket>>(
      std::move(socket), options_.engine, options_.metrics, options_.region, std::move(table),
      std::move(stopping), options_.poll_interval, options_.idle_comment)
      ->Start();
}

void Console::Follow(ConsoleTlsStream stream, std::string table,
                     std::function<bool()> stopping) const {
  std::make_shared<LiveStream<ConsoleTlsStream>>(
      std::move(stream), options_.engine, options_.metrics, options_.region, std::move(table),
      std::move(stopping), options_.poll_interval, options_.idle_comment)
      ->Start();
}

}  // namespace tidewater::server
