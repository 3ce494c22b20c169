// BatchGetItem and BatchWriteItem: many independent reads or writes in one request. The
// whole request is validated before anything runs (unknown tables, bad keys, duplicates,
// limits); then each item is read or written on its own, not atomically. An item its table's
// throughput refuses comes back unprocessed; a call of which nothing could run fails with
// ProvisionedThroughputExceededException.
#include <algorithm>

#include "capacity.h"
#include "collection_metrics.h"
#include "handler_support.h"
#include "handlers.h"
#include "request_expressions.h"

namespace tidewater::server {
namespace {

constexpr size_t kMaxBatchGetKeys = 100;
constexpr size_t kMaxBatchWriteRequests = 25;
// BatchGetItem answers at most 16 MB; keys beyond that come back as UnprocessedKeys.
constexpr size_t kMaxBatchGetResponseBytes = 16 * 1024 * 1024;

bool ContainsKey(const std::vector<Item>& keys, const Item& key) {
  for (const Item& k : keys) {
    if (k == key) return true;
  }
  return false;
}

Status Duplicates() { return Status::Validation("Provided list of item keys contains duplicates"); }

// One table's part of a BatchGetItem.
struct TableGets {
  std::string table;
  const rapidjson::Value* request;  // its KeysAndAttributes
  std::vector<Item> keys;
  bool consistent = false;
  std::optional<ProjectionExpression> projection;
};

// One write of a BatchWriteItem.
struct BatchWrite {
  std::string table;
  bool is_put = false;
  Item item;                              // the item (put) or the key (delete)
  std::shared_ptr<const TableKeys> keys;  // its table's, set by validation
};

}  // namespace

Status BatchGetItem(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* request_items, GetObject(request, "RequestItems"));
  errors.RequireNotNull("requestItems", request_items != nullptr);
  TW_ASSIGN_OR_RETURN(CapacityDetail capacity_detail, ParseCapacityDetail(request));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  if (request_items->MemberCount() == 0) {
    errors.Add("requestItems", "{}", "Member must have length greater than or equal to 1");
    return errors.ToStatus();
  }

  std::vector<TableGets> tables;
  size_t total_keys = 0;
  for (const auto& entry : request_items->GetObject()) {
    TableGets gets;
    gets.table.assign(entry.name.GetString(), entry.name.GetStringLength());
    errors.CheckTableName("requestItems.member.key", gets.table);
    TW_RETURN_IF_ERROR(ExpectObject(entry.value));
    gets.request = &entry.value;
    TW_ASSIGN_OR_RETURN(const rapidjson::Value* keys, GetArray(entry.value, "Keys"));
    errors.RequireNotNull("requestItems." + gets.table + ".member.keys", keys != nullptr);
    TW_ASSIGN_OR_RETURN(std::optional<bool> consistent, GetBool(entry.value, "ConsistentRead"));
    gets.consistent = consistent.value_or(false);
    if (keys != nullptr) {
      for (const auto& key_json : keys->GetArray()) {
        TW_RETURN_IF_ERROR(ExpectObject(key_json));
        TW_ASSIGN_OR_RETURN(Item key, json::ParseItem(key_json));
        gets.keys.push_back(std::move(key));
      }
      total_keys += gets.keys.size();
    }
    tables.push_back(std::move(gets));
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());
  if (total_keys > kMaxBatchGetKeys) {
    return Status::Validation("Too many items requested for the BatchGetItem call");
  }
  for (TableGets& gets : tables) {
    TW_ASSIGN_OR_RETURN(RequestExpressions expressions,
                        RequestExpressions::Read(*gets.request, service.expressions));
    TW_ASSIGN_OR_RETURN(gets.projection, expressions.Projection(*gets.request));
    TW_RETURN_IF_ERROR(expressions.Finish());
    TW_RETURN_IF_ERROR(service.schemas->Get(gets.table).status());
    std::vector<Item> seen;
    for (const Item& key : gets.keys) {
      TW_RETURN_IF_ERROR(service.engine->ValidateKey(gets.table, key));
      if (ContainsKey(seen, key)) return Duplicates();
      seen.push_back(key);
    }
  }

  CapacityTally capacity(capacity_detail);
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Responses");
  w.StartObject();
  // Per table, the keys not read: throttled, or beyond a full response.
  std::vector<std::vector<size_t>> unprocessed(tables.size());
  bool full = false;
  size_t read = 0;
  // The first refusal: the answer when no key could be read.
  std::optional<Status> refusal;
  ErrorDetails refusal_details;
  for (size_t t = 0; t < tables.size(); ++t) {
    const TableGets& gets = tables[t];
    bool throttled = false;
    WriteKey(w, gets.table);
    w.StartArray();
    for (size_t k = 0; k < gets.keys.size(); ++k) {
      full = full || scope.buffer.GetSize() > kMaxBatchGetResponseBytes;
      if (full) {
        unprocessed[t].push_back(k);
        continue;
      }
      ErrorDetails details;
      auto ticket =
          service.throughput->AdmitItem(gets.table, CapacityKind::kRead, gets.keys[k], details);
      if (!ticket.ok()) {
        unprocessed[t].push_back(k);
        throttled = true;
        if (!refusal) {
          refusal = ticket.status();
          refusal_details = std::move(details);
        }
        continue;
      }
      TW_ASSIGN_OR_RETURN(
          std::shared_ptr<const Item> item,
          service.engine->ReadItem(gets.table, gets.keys[k], ConsistencyOf(gets.consistent)));
      ++read;
      double units = ReadUnits(item ? ItemSize(*item) : 0, gets.consistent);
      service.throughput->Charge(*ticket, CapacityKind::kRead, units);
      if (capacity.wanted()) capacity.AddRead(gets.table, units);
      if (item) WriteProjectedItem(*item, gets.projection, w);
    }
    w.EndArray();
    if (throttled) service.throughput->CountThrottledRequest(gets.table, "BatchGetItem");
  }
  if (read == 0 && refusal) {
    scope.error_details = std::move(refusal_details);
    return *refusal;
  }
  w.EndObject();
  w.Key("UnprocessedKeys");
  w.StartObject();
  for (size_t t = 0; t < tables.size(); ++t) {
    if (unprocessed[t].empty()) continue;
    const TableGets& gets = tables[t];
    WriteKey(w, gets.table);
    w.StartObject();
    // The table's other request members, as sent (all checked flat values above).
    for (const char* member : {"ConsistentRead", "ProjectionExpression", "ExpressionAttributeNames",
                               "AttributesToGet"}) {
      const rapidjson::Value* value = FindMember(*gets.request, member);
      if (value == nullptr) continue;
      w.Key(member);
      value->Accept(w);
    }
    w.Key("Keys");
    w.StartArray();
    for (size_t k : unprocessed[t]) json::WriteItem(gets.keys[k], w);
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  capacity.WriteList(w);
  w.EndObject();
  return Status::Ok();
}

Status BatchWriteItem(ServiceContext& service, const rapidjson::Value& request,
                      RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* request_items, GetObject(request, "RequestItems"));
  errors.RequireNotNull("requestItems", request_items != nullptr);
  TW_ASSIGN_OR_RETURN(CapacityDetail capacity_detail, ParseCapacityDetail(request));
  TW_ASSIGN_OR_RETURN(const bool collection_metrics,
                      ReadReturnItemCollectionMetrics(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  if (request_items->MemberCount() == 0) {
    errors.Add("requestItems", "{}", "Member must have length greater than or equal to 1");
    return errors.ToStatus();
  }

  std::vector<BatchWrite> writes;
  for (const auto& entry : request_items->GetObject()) {
    std::string table(entry.name.GetString(), entry.name.GetStringLength());
    errors.CheckTableName("requestItems.member.key", table);
    TW_RETURN_IF_ERROR(ExpectArray(entry.value));
    if (entry.value.Empty() || entry.value.Size() > kMaxBatchWriteRequests) {
      errors.Add("requestItems",
                 "{" + table + "=[" + std::to_string(entry.value.Size()) + " requests]}",
                 "Map value must satisfy constraint: [Member must have length less than or equal "
                 "to 25, Member must have length greater than or equal to 1]");
    }
    for (const auto& write_request : entry.value.GetArray()) {
      TW_RETURN_IF_ERROR(ExpectObject(write_request));
      TW_ASSIGN_OR_RETURN(const rapidjson::Value* put, GetObject(write_request, "PutRequest"));
      TW_ASSIGN_OR_RETURN(const rapidjson::Value* del, GetObject(write_request, "DeleteRequest"));
      if ((put == nullptr) == (del == nullptr)) {
        return Status::Validation(
            "Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest");
      }
      BatchWrite write;
      write.table = table;
      write.is_put = put != nullptr;
      TW_ASSIGN_OR_RETURN(std::optional<Item> item, ReadItemMember(write.is_put ? *put : *del,
                                                                   write.is_put ? "Item" : "Key"));
      if (!item) {
        errors.RequireNotNull(write.is_put ? "requestItems." + table + ".member.putRequest.item"
                                           : "requestItems." + table + ".member.deleteRequest.key",
                              false);
        continue;
      }
      write.item = std::move(*item);
      writes.push_back(std::move(write));
    }
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());
  if (writes.size() > kMaxBatchWriteRequests) {
    return Status::Validation("Too many items requested for the BatchWriteItem call");
  }
  std::vector<std::pair<std::string, Item>> seen;
  for (BatchWrite& write : writes) {
    TW_ASSIGN_OR_RETURN(write.keys, service.schemas->GetKeys(write.table));
    const KeySchema& schema = write.keys->key_schema;
    if (write.is_put) {
      TW_RETURN_IF_ERROR(ValidatePutItem(*service.engine, write.table, *write.keys, write.item));
    } else {
      TW_RETURN_IF_ERROR(service.engine->ValidateKey(write.table, write.item));
    }
    std::pair<std::string, Item> identity(write.table, KeyOf(schema, write.item));
    for (const auto& earlier : seen) {
      if (earlier == identity) return Duplicates();
    }
    seen.push_back(std::move(identity));
  }

  CapacityTally capacity(capacity_detail);
  CollectionMetricsTally collections(collection_metrics);
  std::vector<const BatchWrite*> unprocessed;
  std::vector<std::string> throttled_tables;  // in first-refusal order
  std::optional<Status> refusal;              // the first: the answer when nothing ran
  ErrorDetails refusal_details;
  for (BatchWrite& write : writes) {
    ErrorDetails details;
    auto ticket =
        service.throughput->AdmitItem(write.table, CapacityKind::kWrite, write.item, details);
    if (!ticket.ok()) {
      unprocessed.push_back(&write);
      if (!refusal) {
        refusal = ticket.status();
        refusal_details = std::move(details);
      }
      if (std::find(throttled_tables.begin(), throttled_tables.end(), write.table) ==
          throttled_tables.end()) {
        throttled_tables.push_back(write.table);
      }
      continue;
    }
    auto result = write.is_put ? service.engine->PutItem(write.table, std::move(write.item))
                               : service.engine->DeleteItem(write.table, write.item);
    if (!result.ok()) return result.status();
    const WriteCost cost = WriteCostOf(*write.keys, *result);
    service.throughput->Charge(*ticket, cost);
    if (capacity.wanted()) capacity.AddWrite(write.table, cost);
    collections.Add(write.table, *write.keys, *result);
  }
  for (const std::string& table : throttled_tables) {
    service.throughput->CountThrottledRequest(table, "BatchWriteItem");
  }
  if (!unprocessed.empty() && unprocessed.size() == writes.size()) {
    scope.error_details = std::move(refusal_details);
    return *refusal;
  }
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("UnprocessedItems");
  w.StartObject();
  // The refused writes as sent, grouped by table in first-refusal order.
  for (const std::string& table : throttled_tables) {
    WriteKey(w, table);
    w.StartArray();
    for (const BatchWrite* write : unprocessed) {
      if (write->table != table) continue;
      w.StartObject();
      w.Key(write->is_put ? "PutRequest" : "DeleteRequest");
      w.StartObject();
      w.Key(write->is_put ? "Item" : "Key");
      json::WriteItem(write->item, w);
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  capacity.WriteList(w);
  collections.WriteMap(service, w);
  w.EndObject();
  return Status::Ok();
}

}  // namespace tidewater::server
