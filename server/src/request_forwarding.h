// Cluster mode's forwarding (docs/CLUSTER.md, "Forwarding"): a request this node refused with
// ServiceUnavailable (nothing done) because its items live on shards another node serves is
// sent on to that node, as the client sent it (the headers its signature covers and its body
// as received, so the owner authenticates it as this node did), over a keep-alive connection
// of the worker thread; the owner's answer is the client's. A request forwarded once carries
// X-Tidewater-Forwarded and is never forwarded again: two nodes that each believe the other
// serves a shard answer ServiceUnavailable instead of passing the request around.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "batch_forwarding.h"
#include "service_context.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/server/authenticator.h"

namespace tidewater::server {

inline constexpr std::string_view kForwardedHeader = "X-Tidewater-Forwarded";

// One HTTP request to another node (or, for a batch's share, to this one).
struct ForwardPart {
  std::string owner;  // HOST:PORT
  std::shared_ptr<boost::beast::http::request<boost::beast::http::string_body>> request;
};

// One shard of a Scan walked shard by shard: the segment that is exactly the shard.
struct ScanStep {
  uint32_t segment = 0;
  uint32_t total_segments = 1;
  std::string owner;  // HOST:PORT
};

// A refused request on its way to the nodes serving its shards: the client's request to
// send to its owner, a batch split among nodes (a part per share), or a Scan walked shard
// by shard (`scan`; `parts` then holds the request every step's is made from).
struct ForwardPlan {
  std::vector<ForwardPart> parts;
  std::vector<BatchShare> shares;  // a split batch's, parallel to `parts`; else empty
  bool writes = false;             // a split BatchWriteItem (else BatchGetItem)
  std::vector<ScanStep> scan;      // the shards of a Scan's segment, in hash order
  std::string scan_request;        // the Scan's body (JSON), rewritten for each step
  size_t operation_id = 0;         // the router's, for its metrics
  std::chrono::steady_clock::time_point received;  // when the router began the request
};

// The owner's answer to a forwarded request.
struct ForwardedResponse {
  bool sent = false;      // false: the owner could not be reached; nothing was sent
  bool answered = false;  // the owner answered (status, body, request id, crc32 below)
  unsigned http_status = 0;
  std::string body;
  std::string request_id;  // the owner's x-amzn-RequestId
  std::string crc32;       // the owner's x-amz-crc32
  double seconds = 0;      // there and back
};

// Where a shard this node does not serve is served (HOST:PORT), or nullopt (here, or not
// known). ClusterCommitLog::RemoteOwner.
using RemoteOwnerFn = std::function<std::optional<std::string>(const TableName&, ShardIndex)>;

// [Threading] Plan may run on every worker thread at once. Send runs on the worker thread
// whose executor it is given, asynchronously: the worker goes on serving its other
// connections (forwarded requests from other nodes among them) while the owner answers.
// Each worker thread keeps its own keep-alive connections. `service` must outlive the
// forwarder.
class RequestForwarder {
 public:
  // `self` (HOST:PORT this node is reached at) not empty: a BatchGetItem or BatchWriteItem
  // whose items live on several nodes' shards is split among them (this node's share sent
  // to `self`) and their answers merged. Only where requests are not signed: a share's body
  // is not the one the client signed.
  RequestForwarder(const ServiceContext* service, RemoteOwnerFn remote_owner,
                   std::chrono::milliseconds timeout, std::string self = "");

  // Whether a refused `operation` (a DynamoDB operation's name) of `request` may be
  // forwarded: an item operation (GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan,
  // BatchGetItem, BatchWriteItem, TransactGetItems, TransactWriteItems) not forwarded already.
  static bool MayForward(std::string_view operation, const HttpRequestView& request);

  // The request to send when every item `operation` names lives on shards one other node
  // serves; `raw_body` is the body as received, before any Content-Encoding is decoded. A
  // batch spanning nodes is split (with `self`). nullopt when it cannot be forwarded (an
  // operation that spans shards of several nodes or of this one, a body that does not
  // parse, an owner not known): the refusal stands.
  std::optional<ForwardPlan> Plan(std::string_view operation, const std::string& raw_body,
                                  const HttpRequestView& request) const;

  // Sends the plan's request on `executor` (the calling worker thread's) and calls `done`
  // there with the owner's answer: not sent when the owner cannot be reached, not answered
  // when it fails after the request was sent (the outcome is then unknown). A split batch's
  // answer is its shares' merged (a share that failed comes back unprocessed), or, when
  // every share failed, the first failure.
  void Send(ForwardPlan plan, boost::asio::any_io_executor executor,
            std::function<void(ForwardedResponse)> done) const;

 private:
  // The one node serving every shard `operation` touches, or nullopt.
  std::optional<std::string> OwnerOf(std::string_view operation,
                                     const rapidjson::Document& document) const;
  // A batch split among the nodes serving its items (empty: not split).
  std::vector<BatchShare> Split(bool writes, const rapidjson::Document& document) const;
  // A Scan of the table: its segment's shard's owner (one shard), or the steps of a walk
  // over its shards (several; with `self`). False: not forwarded.
  bool PlanScan(const rapidjson::Document& document, std::optional<std::string>& owner,
                std::vector<ScanStep>& steps) const;

  const ServiceContext* service_;
  RemoteOwnerFn remote_owner_;
  std::chrono::milliseconds timeout_;
  std::string self_;
};

}  // namespace tidewater::server
