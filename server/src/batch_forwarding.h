// Cluster mode's forwarding of a BatchGetItem or BatchWriteItem whose items live on several
// nodes' shards (docs/CLUSTER.md, "Forwarding"): the batch is split into one batch per node,
// each keeping the request's other members, and the nodes' answers are merged into one, as
// DynamoDB answers a batch: what a node could not do comes back unprocessed, for the client
// to send again. Likewise a Scan whose segment spans several nodes' shards is walked shard
// by shard, and its pages merged into one (ScanPages). Pure JSON work; the sending is
// RequestForwarder's.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tidewater::server {

// One node's share of a batch.
struct BatchShare {
  std::string owner;          // HOST:PORT
  std::string body;           // the share's request: the batch's members, its items only
  std::string request_items;  // the share's RequestItems (JSON), unprocessed should it fail
};

// The node serving one element of `table`'s RequestItems (a write request of
// BatchWriteItem, a key of BatchGetItem); nullopt when not known.
using BatchElementOwner =
    std::function<std::optional<std::string>(const std::string& table, const rapidjson::Value&)>;

// The batch `request` split by owner, in the order owners first appear. Empty when an
// element's owner is not known or the request is not a well-formed batch (the local answer
// stands then).
std::vector<BatchShare> SplitBatch(bool writes, const rapidjson::Value& request,
                                   const BatchElementOwner& owner_of);

// The batch's answer from its shares': `answers[i]` is share i's successful response body,
// or nullopt when it failed, its items then unprocessed (UnprocessedItems, UnprocessedKeys).
// Responses and ItemCollectionMetrics are concatenated per table, ConsumedCapacity summed
// per table.
std::string MergeBatchAnswers(bool writes, const std::vector<BatchShare>& shares,
                              const std::vector<std::optional<std::string>>& answers);

// A Scan walked shard by shard: the shards' pages merged into one answer (Items, Count,
// ScannedCount and ConsumedCapacity added up; LastEvaluatedKey the last page's). Not
// thread-safe.
class ScanPages {
 public:
  ScanPages();
  // Adds the next shard's page (a Scan response object).
  void Add(const rapidjson::Value& page);
  // The merged answer (JSON).
  std::string Answer() const;

 private:
  rapidjson::Document merged_;
  bool has_items_ = false;
};

}  // namespace tidewater::server
