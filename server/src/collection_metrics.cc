#include "collection_metrics.h"

#include <algorithm>

namespace tidewater::server {

void WriteCollectionMetric(const std::string& partition_name, const AttributeValue& partition,
                           uint64_t bytes, json::Writer& w) {
  const double lower = static_cast<double>(bytes >> 30);
  w.StartObject();
  w.Key("ItemCollectionKey");
  json::WriteItem(Item{{partition_name, partition}}, w);
  w.Key("SizeEstimateRangeGB");
  w.StartArray();
  w.Double(lower);
  w.Double(lower + 1);
  w.EndArray();
  w.EndObject();
}

void CollectionMetricsTally::Add(const std::string& table, const TableKeys& keys,
                                 const WriteResult& result) {
  if (!wanted_ || keys.local_indexes.empty() || result.new_item == result.old_item) return;
  const Item& item = result.new_item ? *result.new_item : *result.old_item;
  const std::string& name = keys.key_schema.partition_key.name;
  const AttributeValue& partition = item.at(name);
  const bool seen = std::any_of(collections_.begin(), collections_.end(), [&](const auto& c) {
    return c.table == table && c.partition == partition;
  });
  if (!seen) collections_.push_back({table, name, partition});
}

void CollectionMetricsTally::WriteMap(ServiceContext& service, json::Writer& w) const {
  if (collections_.empty()) return;
  w.Key("ItemCollectionMetrics");
  w.StartObject();
  std::vector<std::string> written;
  for (const Collection& first : collections_) {
    if (std::find(written.begin(), written.end(), first.table) != written.end()) continue;
    written.push_back(first.table);
    w.Key(first.table.data(), static_cast<rapidjson::SizeType>(first.table.size()));
    w.StartArray();
    for (const Collection& c : collections_) {
      if (c.table != first.table) continue;
      auto bytes = service.engine->ItemCollectionBytes(c.table, c.partition);
      if (bytes.ok()) WriteCollectionMetric(c.partition_name, c.partition, *bytes, w);
    }
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace tidewater::server
