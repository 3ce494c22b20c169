// ItemCollectionMetrics (ReturnItemCollectionMetrics: SIZE): for a write to a table with
// local secondary indexes, the item collection it touched (its partition key) and the
// collection's estimated size as DynamoDB gives it, a range of whole gigabytes around the
// estimate (the engine's ItemCollectionBytes).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "service_context.h"
#include "table_schemas.h"
#include "tidewater/core/json_codec.h"

namespace tidewater::server {

// Writes {"ItemCollectionKey":..,"SizeEstimateRangeGB":[lo,hi]} for `partition` (named
// `partition_name`), whose collection holds an estimated `bytes`.
void WriteCollectionMetric(const std::string& partition_name, const AttributeValue& partition,
                           uint64_t bytes, json::Writer& w);

// The collections a batch or transaction touched, each once, in first-write order; writes
// BatchWriteItem's and TransactWriteItems' "ItemCollectionMetrics" map (table name to a
// list of metrics). Not thread-safe: one per request.
class CollectionMetricsTally {
 public:
  explicit CollectionMetricsTally(bool wanted) : wanted_(wanted) {}

  // Notes the collection of `result` (a write of `table`, keyed by `keys`), if the table
  // has local indexes and the write changed an item.
  void Add(const std::string& table, const TableKeys& keys, const WriteResult& result);
  // Nothing when not wanted or no collection was touched (as DynamoDB).
  void WriteMap(ServiceContext& service, json::Writer& w) const;

 private:
  struct Collection {
    std::string table;
    std::string partition_name;
    AttributeValue partition;
  };
  bool wanted_;
  std::vector<Collection> collections_;
};

}  // namespace tidewater::server
