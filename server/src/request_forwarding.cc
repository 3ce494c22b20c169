#include "request_forwarding.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "content_encoding.h"
#include "request_expressions.h"
#include "table_schemas.h"
#include "tidewater/core/key_codec.h"

namespace tidewater::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// The headers a client's signature may cover besides those it names in SignedHeaders.
constexpr std::string_view kPassedHeaders[] = {"Host",
                                               "X-Amz-Target",
                                               "Content-Type",
                                               "Content-Encoding",
                                               "X-Amz-Date",
                                               "Authorization",
                                               "X-Amz-Security-Token",
                                               "X-Amz-Content-Sha256",
                                               "Content-Md5",
                                               "X-Tidewater-Record-Metadata"};

// The header names an Authorization header's SignedHeaders lists ("host;x-amz-date;...").
std::vector<std::string> SignedHeaders(std::string_view authorization) {
  std::vector<std::string> names;
  const size_t at = authorization.find("SignedHeaders=");
  if (at == std::string_view::npos) return names;
  std::string_view list = authorization.substr(at + 14);
  list = list.substr(0, list.find_first_of(", "));
  while (!list.empty()) {
    const size_t end = list.find(';');
    names.emplace_back(list.substr(0, end));
    if (end == std::string_view::npos) break;
    list.remove_prefix(end + 1);
  }
  return names;
}

const rapidjson::Value* Member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string> StringMember(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* value = Member(object, name);
  if (value == nullptr || !value->IsString()) return std::nullopt;
  return std::string(value->GetString(), value->GetStringLength());
}

// The shards a request's items live on, as (table, shard); false when they cannot all be
// told (a malformed request: answered by the local handler's error, never forwarded).
class ShardCollector {
 public:
  explicit ShardCollector(const ServiceContext& service) : service_(service) {}

  // `request` names its table in TableName and its item by `member` (Key or Item).
  bool AddKeyed(const rapidjson::Value& request, const char* member) {
    std::optional<std::string> table = StringMember(request, "TableName");
    if (!table) return false;
    const rapidjson::Value* item = Member(request, member);
    return item != nullptr && AddKeyObject(*table, *item);
  }

  bool AddItem(const std::string& table, const Item& item) {
    Result<ShardIndex> shard = service_.engine->ShardForKey(table, item);
    if (!shard.ok()) return false;
    shards_.emplace(table, shard->value());
    return true;
  }

  // A Query of the table itself (an index's partitions are not the table's shards).
  bool AddQuery(const rapidjson::Value& request) {
    std::optional<std::string> table = StringMember(request, "TableName");
    if (!table || Member(request, "IndexName") != nullptr) return false;
    auto keys = service_.schemas->GetKeys(*table);
    if (!keys.ok()) return false;
    auto expressions = RequestExpressions::Read(request, service_.expressions);
    if (!expressions.ok()) return false;
    auto condition = expressions->KeyConditions(request, (*keys)->key_schema);
    if (!condition.ok()) return false;
    return AddItem(*table, Item{{(*keys)->key_schema.partition_key.name,
                                 std::move(condition->partition_key)}});
  }

  // TransactWriteItems' and TransactGetItems' TransactItems: one action per element.
  bool AddTransactItems(const rapidjson::Value& request) {
    const rapidjson::Value* items = Member(request, "TransactItems");
    if (items == nullptr || !items->IsArray()) return false;
    for (const rapidjson::Value& element : items->GetArray()) {
      bool added = false;
      for (const char* action : {"Put", "Update", "Delete", "ConditionCheck", "Get"}) {
        const rapidjson::Value* body = Member(element, action);
        if (body == nullptr) continue;
        if (!AddKeyed(*body, std::string_view(action) == "Put" ? "Item" : "Key")) return false;
        added = true;
      }
      if (!added) return false;
    }
    return true;
  }

  // BatchWriteItem's and BatchGetItem's RequestItems: per table, write requests or Keys.
  bool AddRequestItems(const rapidjson::Value& request, bool writes) {
    const rapidjson::Value* tables = Member(request, "RequestItems");
    if (tables == nullptr || !tables->IsObject()) return false;
    for (const auto& entry : tables->GetObject()) {
      const std::string table(entry.name.GetString(), entry.name.GetStringLength());
      if (writes) {
        if (!entry.value.IsArray()) return false;
        for (const rapidjson::Value& write : entry.value.GetArray()) {
          const rapidjson::Value* put = Member(write, "PutRequest");
          const rapidjson::Value* remove = Member(write, "DeleteRequest");
          if (!AddBatchItem(table, put != nullptr ? put : remove, put != nullptr ? "Item" : "Key"))
            return false;
        }
      } else {
        const rapidjson::Value* keys = Member(entry.value, "Keys");
        if (keys == nullptr || !keys->IsArray()) return false;
        for (const rapidjson::Value& key : keys->GetArray()) {
          if (!AddKeyObject(table, key)) return false;
        }
      }
    }
    return true;
  }

  const std::set<std::pair<std::string, uint32_t>>& shards() const { return shards_; }

  // An attribute-value map (a Key, an Item, one of BatchGetItem's Keys).
  bool AddKeyObject(const std::string& table, const rapidjson::Value& map) {
    Result<Item> item = json::ParseItem(map);
    return item.ok() && AddItem(table, *item);
  }

 private:
  bool AddBatchItem(const std::string& table, const rapidjson::Value* request, const char* member) {
    if (request == nullptr) return false;
    const rapidjson::Value* item = Member(*request, member);
    return item != nullptr && AddKeyObject(table, *item);
  }

  const ServiceContext& service_;
  std::set<std::pair<std::string, uint32_t>> shards_;
};

// One keep-alive connection of a worker thread to another node.
struct Connection {
  explicit Connection(const asio::any_io_executor& executor) : stream(executor) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  SteadyClock::time_point last_used;
};

// A node closes a keep-alive connection idle for its read timeout (a minute by default);
// one idle for longer than this is not reused, so that a request is not sent on a
// connection the owner is closing.
constexpr auto kMaxIdle = std::chrono::seconds(20);
constexpr size_t kMaxIdlePerOwner = 8;

// The worker thread's idle connections, by owner.
std::map<std::string, std::vector<std::unique_ptr<Connection>>>& IdleConnections() {
  thread_local std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
  return idle;
}

// One forwarded request in flight: connect (unless an idle connection is reused), write,
// read; `done` once, on the worker thread.
struct Exchange : std::enable_shared_from_this<Exchange> {
  ForwardPart part;
  std::chrono::milliseconds timeout;
  std::function<void(ForwardedResponse)> done;
  std::unique_ptr<Connection> connection;
  bool reused = false;  // `connection` was idle, kept from an earlier request
  std::unique_ptr<tcp::resolver> resolver;
  http::response<http::string_body> answer;
  SteadyClock::time_point started = SteadyClock::now();

  void Start(const asio::any_io_executor& executor) {
    auto& idle = IdleConnections()[part.owner];
    while (!idle.empty() && !connection) {
      std::unique_ptr<Connection> candidate = std::move(idle.back());
      idle.pop_back();
      if (started - candidate->last_used <= kMaxIdle && Open(*candidate)) {
        connection = std::move(candidate);
      }
    }
    if (connection) {
      reused = true;
      return Send(executor);
    }
    Connect(executor);
  }

  // Whether an idle connection is still open: the owner neither closed it (a restart, its
  // idle timeout) nor sent anything unasked.
  static bool Open(Connection& idle) {
    char byte;
    const ssize_t peeked =
        ::recv(idle.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  void Connect(const asio::any_io_executor& executor) {
    connection = std::make_unique<Connection>(executor);
    resolver = std::make_unique<tcp::resolver>(executor);
    const size_t colon = part.owner.rfind(':');
    resolver->async_resolve(
        part.owner.substr(0, colon), part.owner.substr(colon + 1),
        [self = shared_from_this()](beast::error_code error, tcp::resolver::results_type found) {
          if (error) return self->Unreachable(error);
          self->connection->stream.expires_after(self->timeout);
          self->connection->stream.async_connect(
              found, [self](beast::error_code connect_error, const tcp::endpoint&) {
                if (connect_error) return self->Unreachable(connect_error);
                self->Send(self->connection->stream.get_executor());
              });
        });
  }

  void Send(const asio::any_io_executor& executor) {
    connection->stream.expires_after(timeout);
    http::async_write(connection->stream, *part.request,
                      [self = shared_from_this(), executor](beast::error_code error, size_t) {
                        // Not written whole: the owner cannot have taken it. A reused
                        // connection the owner closed meanwhile: once more on a new one.
                        if (error && self->reused) {
                          self->reused = false;
                          return self->Connect(executor);
                        }
                        if (error) return self->Unreachable(error);
                        http::async_read(self->connection->stream, self->connection->buffer,
                                         self->answer,
                                         [self](beast::error_code read_error, size_t) {
                                           if (read_error) return self->Failed(read_error);
                                           self->Answered();
                                         });
                      });
  }

  // Nothing was sent: the local refusal (ServiceUnavailable) stands.
  void Unreachable(beast::error_code error) {
    spdlog::debug("event=forward_unreachable owner={} error=\"{}\"", part.owner, error.message());
    done(Finished(/*sent=*/false));
  }

  void Failed(beast::error_code error) {
    spdlog::warn("event=forward_failed owner={} error=\"{}\"", part.owner, error.message());
    ForwardedResponse response = Finished(/*sent=*/true);
    // The owner may have done it: the client must not take it for undone.
    response.http_status = 500;
    response.body = ToApiError(Status::Internal("the request was forwarded to node " + part.owner +
                                                ", which did not answer: " + error.message()))
                        .body;
    done(std::move(response));
  }

  void Answered() {
    ForwardedResponse response = Finished(/*sent=*/true);
    response.answered = true;
    response.http_status = answer.result_int();
    response.request_id = std::string(answer["x-amzn-RequestId"]);
    response.crc32 = std::string(answer["x-amz-crc32"]);
    const bool keep = answer.keep_alive();
    response.body = std::move(answer.body());
    if (keep) {
      connection->last_used = SteadyClock::now();
      auto& idle = IdleConnections()[part.owner];
      if (idle.size() < kMaxIdlePerOwner) idle.push_back(std::move(connection));
    }
    done(std::move(response));
  }

  ForwardedResponse Finished(bool sent) const {
    ForwardedResponse response;
    response.sent = sent;
    response.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
    return response;
  }
};

// A batch's shares in flight, each an Exchange; the merged answer once all answered. Runs
// on one worker thread: no locking.
struct FanOut {
  ForwardPlan plan;
  std::function<void(ForwardedResponse)> done;
  std::vector<std::optional<std::string>> answers;
  size_t remaining = 0;
  bool sent = false;
  std::optional<ForwardedResponse> first_failure;
  SteadyClock::time_point started = SteadyClock::now();

  void Answered(size_t share, ForwardedResponse response) {
    sent = sent || response.sent;
    if (response.answered && response.http_status == 200) {
      answers[share] = std::move(response.body);
    } else if (response.sent && !first_failure) {
      first_failure = std::move(response);
    }
    if (--remaining > 0) return;
    ForwardedResponse merged;
    merged.sent = sent;
    merged.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
    const bool any_answer =
        std::any_of(answers.begin(), answers.end(), [](const auto& a) { return a.has_value(); });
    if (!any_answer && first_failure) {
      first_failure->seconds = merged.seconds;
      return done(std::move(*first_failure));
    }
    if (any_answer) {
      merged.answered = true;
      merged.http_status = 200;
      merged.body = MergeBatchAnswers(plan.writes, plan.shares, answers);
    }
    done(std::move(merged));
  }
};

// A Scan walked over its segment's shards, one step after the other: each step scans one
// shard (the segment that is exactly the shard) on its owner, from ExclusiveStartKey for the
// first, with what is left of Limit. A page that names a LastEvaluatedKey (Limit or the
// page's size reached) ends the walk; a shard read to its end goes on to the next. Runs on
// one worker thread.
struct ScanWalk : std::enable_shared_from_this<ScanWalk> {
  ForwardPlan plan;
  rapidjson::Document request;
  std::chrono::milliseconds timeout{0};
  asio::any_io_executor executor;
  std::function<void(ForwardedResponse)> done;
  size_t step = 0;
  uint64_t scanned = 0;
  ScanPages pages;
  SteadyClock::time_point started = SteadyClock::now();

  void Next() {
    const ScanStep& shard = plan.scan[step];
    rapidjson::Document body;
    body.CopyFrom(request, body.GetAllocator());
    auto& allocator = body.GetAllocator();
    body.RemoveMember("Segment");
    body.RemoveMember("TotalSegments");
    body.AddMember("Segment", shard.segment, allocator);
    body.AddMember("TotalSegments", shard.total_segments, allocator);
    if (step > 0) body.RemoveMember("ExclusiveStartKey");
    if (body.HasMember("Limit") && body["Limit"].IsUint64()) {
      body["Limit"].SetUint64(body["Limit"].GetUint64() - scanned);
    }
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    body.Accept(writer);
    auto exchange = std::make_shared<Exchange>();
    exchange->part.owner = shard.owner;
    exchange->part.request =
        std::make_shared<http::request<http::string_body>>(*plan.parts.front().request);
    exchange->part.request->body().assign(buffer.GetString(), buffer.GetSize());
    exchange->part.request->prepare_payload();
    exchange->timeout = timeout;
    exchange->done = [self = shared_from_this()](ForwardedResponse response) {
      self->Answered(std::move(response));
    };
    exchange->Start(executor);
  }

  void Answered(ForwardedResponse response) {
    rapidjson::Document parsed;
    if (response.answered && response.http_status == 200) {
      parsed.Parse(response.body.data(), response.body.size());
    }
    const rapidjson::Document& page = parsed;
    if (!response.answered || response.http_status != 200 || page.HasParseError() ||
        !page.IsObject()) {
      // The client repeats the page from its ExclusiveStartKey (a Scan does nothing).
      response.seconds = Seconds();
      return done(std::move(response));
    }
    pages.Add(page);
    if (auto it = page.FindMember("ScannedCount"); it != page.MemberEnd() && it->value.IsUint64()) {
      scanned += it->value.GetUint64();
    }
    if (!page.HasMember("LastEvaluatedKey") && ++step < plan.scan.size()) return Next();
    ForwardedResponse merged;
    merged.sent = true;
    merged.answered = true;
    merged.http_status = 200;
    merged.body = pages.Answer();
    merged.seconds = Seconds();
    done(std::move(merged));
  }

  double Seconds() const {
    return std::chrono::duration<double>(SteadyClock::now() - started).count();
  }
};

}  // namespace

RequestForwarder::RequestForwarder(const ServiceContext* service, RemoteOwnerFn remote_owner,
                                   std::chrono::milliseconds timeout, std::string self)
    : service_(service),
      remote_owner_(std::move(remote_owner)),
      timeout_(timeout),
      self_(std::move(self)) {}

bool RequestForwarder::MayForward(std::string_view operation, const HttpRequestView& request) {
  static const std::set<std::string_view> kItemOperations = {
      "GetItem", "PutItem",      "UpdateItem",     "DeleteItem",       "Query",
      "Scan",    "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems"};
  return kItemOperations.contains(operation) && request.header(kForwardedHeader).empty();
}

std::optional<std::string> RequestForwarder::OwnerOf(std::string_view operation,
                                                     const rapidjson::Document& document) const {
  ShardCollector collector(*service_);
  bool known = false;
  if (operation == "GetItem" || operation == "DeleteItem" || operation == "UpdateItem") {
    known = collector.AddKeyed(document, "Key");
  } else if (operation == "PutItem") {
    known = collector.AddKeyed(document, "Item");
  } else if (operation == "Query") {
    known = collector.AddQuery(document);
  } else if (operation == "TransactWriteItems" || operation == "TransactGetItems") {
    known = collector.AddTransactItems(document);
  } else if (operation == "BatchWriteItem" || operation == "BatchGetItem") {
    known = collector.AddRequestItems(document, operation == "BatchWriteItem");
  }
  if (!known || collector.shards().empty()) return std::nullopt;
  std::optional<std::string> owner;
  for (const auto& [table, shard] : collector.shards()) {
    std::optional<std::string> serving = remote_owner_(TableName(table), ShardIndex(shard));
    if (!serving || (owner && *owner != *serving)) return std::nullopt;
    owner = std::move(serving);
  }
  return owner;
}

std::vector<BatchShare> RequestForwarder::Split(bool writes,
                                                const rapidjson::Document& document) const {
  if (self_.empty()) return {};
  return SplitBatch(
      writes, document,
      [&](const std::string& table, const rapidjson::Value& element) -> std::optional<std::string> {
        const rapidjson::Value* item = &element;
        if (writes) {
          const rapidjson::Value* put = Member(element, "PutRequest");
          const rapidjson::Value* remove = Member(element, "DeleteRequest");
          item = put != nullptr      ? Member(*put, "Item")
                 : remove != nullptr ? Member(*remove, "Key")
                                     : nullptr;
        }
        if (item == nullptr) return std::nullopt;
        ShardCollector collector(*service_);
        if (!collector.AddKeyObject(table, *item)) return std::nullopt;
        const auto& [name, shard] = *collector.shards().begin();
        return remote_owner_(TableName(name), ShardIndex(shard)).value_or(self_);
      });
}

bool RequestForwarder::PlanScan(const rapidjson::Document& document,
                                std::optional<std::string>& owner,
                                std::vector<ScanStep>& steps) const {
  std::optional<std::string> table = StringMember(document, "TableName");
  if (!table || Member(document, "IndexName") != nullptr) return false;
  const rapidjson::Value* segment_value = Member(document, "Segment");
  const rapidjson::Value* total_value = Member(document, "TotalSegments");
  const uint32_t segment =
      segment_value != nullptr && segment_value->IsUint() ? segment_value->GetUint() : 0;
  const uint32_t total =
      total_value != nullptr && total_value->IsUint() ? total_value->GetUint() : 1;
  if (total == 0 || segment >= total) return false;
  Result<TableDescription> description = service_->engine->DescribeTable(*table);
  if (!description.ok()) return false;
  std::vector<ShardDescription> shards;
  for (const ShardDescription& shard : description->shards) {
    if (!shard.closed) shards.push_back(shard);
  }
  std::sort(shards.begin(), shards.end(),
            [](const auto& x, const auto& y) { return x.hash_begin < y.hash_begin; });
  const uint32_t count = static_cast<uint32_t>(shards.size());
  for (uint32_t i = 0; i < count; ++i) {  // equal ranges: each shard is a segment of `count`
    if (shards[i].hash_begin != keycodec::RangeBegin(i, count)) return false;
  }
  const uint64_t first = keycodec::RangeBegin(segment, total);
  const uint64_t last =
      segment + 1 < total ? keycodec::RangeBegin(segment + 1, total) - 1 : UINT64_MAX;
  std::vector<uint32_t> covered;  // positions in `shards`
  for (uint32_t i = 0; i < count; ++i) {
    if (shards[i].hash_begin <= last && shards[i].hash_end >= first) covered.push_back(i);
  }
  if (covered.empty()) return false;
  auto owner_of = [&](uint32_t position) {
    return remote_owner_(TableName(*table), shards[position].index);
  };
  if (covered.size() == 1) {  // the segment lies within one shard: its owner serves it
    owner = owner_of(covered.front());
    return owner.has_value();
  }
  if (self_.empty()) return false;
  // The walk starts at the shard of ExclusiveStartKey.
  uint64_t start = first;
  if (const rapidjson::Value* start_key = Member(document, "ExclusiveStartKey")) {
    ShardCollector collector(*service_);
    if (!collector.AddKeyObject(*table, *start_key)) return false;
    const uint32_t shard = collector.shards().begin()->second;
    auto it = std::find_if(shards.begin(), shards.end(),
                           [&](const auto& s) { return s.index.value() == shard; });
    if (it == shards.end()) return false;
    start = it->hash_begin;
  }
  bool remote = false;
  for (uint32_t position : covered) {
    const ShardDescription& shard = shards[position];
    if (shard.hash_begin < first || shard.hash_end > last) return false;  // part of a shard
    if (shard.hash_end < start) continue;
    std::optional<std::string> serving = owner_of(position);
    remote = remote || serving.has_value();
    steps.push_back(ScanStep{position, count, serving.value_or(self_)});
  }
  return remote;  // all here: this node's own refusal stands
}

std::optional<ForwardPlan> RequestForwarder::Plan(std::string_view operation,
                                                  const std::string& raw_body,
                                                  const HttpRequestView& request) const {
  std::string body = raw_body;
  if (!DecodeBody(request.header("Content-Encoding"), 16 * 1024 * 1024, body).ok()) {
    return std::nullopt;
  }
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) return std::nullopt;

  ForwardPlan plan;
  std::optional<std::string> owner;
  if (operation == "Scan") {
    if (!PlanScan(document, owner, plan.scan)) return std::nullopt;
    plan.scan_request = std::move(body);
  } else {
    owner = OwnerOf(operation, document);
  }
  if (!owner && plan.scan.empty()) {
    const bool batch = operation == "BatchWriteItem" || operation == "BatchGetItem";
    plan.writes = operation == "BatchWriteItem";
    if (batch) plan.shares = Split(plan.writes, document);
    // One share is this node's own refusal again.
    if (plan.shares.size() < 2) return std::nullopt;
  }
  const std::string_view target = request.target();
  // The request to `to` with `content`: the client's headers (those a signature covers, for
  // the client's own body), marked forwarded.
  auto part = [&](std::string to, const std::string& content, bool as_received) {
    auto forwarded = std::make_shared<http::request<http::string_body>>(
        http::verb::post, beast::string_view(target.data(), target.size()), 11);
    std::set<std::string> passed;
    auto pass = [&](std::string_view name) {
      std::string lower(name);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "content-length" || !passed.insert(lower).second) return;
      if (!as_received && (lower == "content-encoding" || lower == "content-md5" ||
                           lower == "x-amz-content-sha256")) {
        return;  // the share's body is plain and another
      }
      const std::string_view value = request.header(name);
      if (!value.empty()) {
        forwarded->set(beast::string_view(name.data(), name.size()),
                       beast::string_view(value.data(), value.size()));
      }
    };
    for (std::string_view name : kPassedHeaders) pass(name);
    for (const std::string& name : SignedHeaders(request.header("Authorization"))) pass(name);
    forwarded->set(beast::string_view(kForwardedHeader.data(), kForwardedHeader.size()), "1");
    forwarded->keep_alive(true);
    forwarded->body() = content;
    forwarded->prepare_payload();
    return ForwardPart{std::move(to), std::move(forwarded)};
  };
  if (owner) {
    if (owner->rfind(':') == std::string::npos) return std::nullopt;
    plan.parts.push_back(part(std::move(*owner), raw_body, /*as_received=*/true));
  } else if (!plan.scan.empty()) {
    plan.parts.push_back(part(std::string(), std::string(), /*as_received=*/false));
  } else {
    for (const BatchShare& share : plan.shares) {
      plan.parts.push_back(part(share.owner, share.body, /*as_received=*/false));
    }
  }
  return plan;
}

void RequestForwarder::Send(ForwardPlan plan, asio::any_io_executor executor,
                            std::function<void(ForwardedResponse)> done) const {
  if (!plan.scan.empty()) {
    auto walk = std::make_shared<ScanWalk>();
    walk->request.Parse(plan.scan_request.data(), plan.scan_request.size());
    walk->plan = std::move(plan);
    walk->timeout = timeout_;
    walk->executor = std::move(executor);
    walk->done = std::move(done);
    return walk->Next();
  }
  if (plan.shares.empty()) {
    auto exchange = std::make_shared<Exchange>();
    exchange->part = std::move(plan.parts.front());
    exchange->timeout = timeout_;
    exchange->done = std::move(done);
    return exchange->Start(executor);
  }
  auto fan_out = std::make_shared<FanOut>();
  fan_out->remaining = plan.parts.size();
  fan_out->answers.resize(plan.parts.size());
  fan_out->done = std::move(done);
  std::vector<ForwardPart> parts = std::move(plan.parts);
  fan_out->plan = std::move(plan);
  for (size_t share = 0; share < parts.size(); ++share) {
    auto exchange = std::make_shared<Exchange>();
    exchange->part = std::move(parts[share]);
    exchange->timeout = timeout_;
    exchange->done = [fan_out, share](ForwardedResponse response) {
      fan_out->Answered(share, std::move(response));
    };
    exchange->Start(executor);
  }
}

}  // namespace tidewater::server
