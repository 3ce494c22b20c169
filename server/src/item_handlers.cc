// PutItem, GetItem, UpdateItem, DeleteItem.
#include "capacity.h"
#include "collection_metrics.h"
#include "handler_support.h"
#include "handlers.h"
#include "request_expressions.h"

namespace tidewater::server {
namespace {

// The condition of a single-item write: runs the compiled ConditionExpression under the
// engine's commit lock and, when asked, keeps the item that failed it. `checked_bytes`
// receives the size of the item the condition read (0 when absent): a failed condition
// still consumes write units for it.
WriteCondition MakeWriteCondition(const std::optional<ConditionExpression>& condition,
                                  bool return_old_on_failure, std::optional<Item>* failed_item,
                                  size_t* checked_bytes) {
  if (!condition) return {};
  return [&condition, return_old_on_failure, failed_item, checked_bytes](const Item* current) {
    *checked_bytes = current != nullptr ? ItemSize(*current) : 0;
    if (condition->Matches(current)) return Status::Ok();
    if (return_old_on_failure && current != nullptr) *failed_item = *current;
    return Status::ConditionFailed();
  };
}

// Passes the engine's error on, attaching the failed item to ConditionalCheckFailed, which
// consumes the write units of the item its condition checked.
Status WriteFailed(ServiceContext& service, const CapacityTicket& ticket, const Status& status,
                   std::optional<Item>* failed_item, size_t checked_bytes, RequestScope& scope) {
  if (status.code() == ErrorCode::kConditionalCheckFailed) {
    service.throughput->Charge(ticket, CapacityKind::kWrite, WriteUnits(checked_bytes));
    scope.error_details.condition_failed_item = std::move(*failed_item);
  }
  return status;
}

// The members every single-item write reads.
struct WriteInputs {
  std::string table;
  ReturnValues return_values = ReturnValues::kNone;
  bool return_old_on_failure = false;
  CapacityDetail capacity = CapacityDetail::kNone;
  bool collection_metrics = false;  // ReturnItemCollectionMetrics: SIZE
};

// ItemCollectionMetrics of a write to a table with local secondary indexes, when asked.
void WriteCollectionMetrics(ServiceContext& service, const WriteInputs& inputs,
                            const WriteResult& result, json::Writer& w) {
  if (!inputs.collection_metrics) return;
  auto keys = service.schemas->GetKeys(inputs.table);
  if (!keys.ok() || (*keys)->local_indexes.empty()) return;
  const Item& item = result.new_item ? *result.new_item : *result.old_item;
  const std::string& partition_name = (*keys)->key_schema.partition_key.name;
  const AttributeValue& partition = item.at(partition_name);
  auto bytes = service.engine->ItemCollectionBytes(inputs.table, partition);
  if (!bytes.ok()) return;
  w.Key("ItemCollectionMetrics");
  WriteCollectionMetric(partition_name, partition, *bytes, w);
}

void WriteAttributes(ServiceContext& service, const WriteInputs& inputs, const WriteResult& result,
                     const Item* attributes, const CapacityTally& capacity, json::Writer& w) {
  w.StartObject();
  if (attributes != nullptr && !attributes->empty()) {
    w.Key("Attributes");
    json::WriteItem(*attributes, w);
  }
  capacity.WriteSingle(w);
  if (result.new_item || result.old_item) WriteCollectionMetrics(service, inputs, result, w);
  w.EndObject();
}

// Charges a successful single-item write (with its local index writes); returns its cost.
WriteCost ChargeWrite(ServiceContext& service, const std::string& table,
                      const CapacityTicket& ticket, const WriteResult& result) {
  WriteCost cost = ChargedWriteCost(*service.schemas, table, result);
  service.throughput->Charge(ticket, cost);
  return cost;
}

// The answer of PutItem and DeleteItem: the old item when ReturnValues is ALL_OLD, and the
// consumed capacity when asked.
void WriteOldItemReply(ServiceContext& service, const WriteInputs& inputs,
                       const WriteResult& result, const WriteCost& cost, RequestScope& scope) {
  CapacityTally capacity(inputs.capacity);
  if (capacity.wanted()) capacity.AddWrite(inputs.table, cost);
  const Item* attributes = inputs.return_values == ReturnValues::kAllOld && result.old_item
                               ? &*result.old_item
                               : nullptr;
  WriteAttributes(service, inputs, result, attributes, capacity, scope.writer);
}

Result<WriteInputs> ReadWriteInputs(const rapidjson::Value& request, bool only_all_old,
                                    ConstraintErrors& errors) {
  WriteInputs inputs;
  TW_ASSIGN_OR_RETURN(inputs.table, ReadTableName(request, "tableName", errors));
  TW_ASSIGN_OR_RETURN(inputs.return_values, ReadReturnValues(request, only_all_old, errors));
  TW_ASSIGN_OR_RETURN(
      inputs.return_old_on_failure,
      ReadReturnOldOnConditionFailure(request, "returnValuesOnConditionCheckFailure", errors));
  TW_ASSIGN_OR_RETURN(inputs.collection_metrics, ReadReturnItemCollectionMetrics(request, errors));
  TW_ASSIGN_OR_RETURN(inputs.capacity, ParseCapacityDetail(request));
  return inputs;
}

}  // namespace

Status PutItem(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(WriteInputs inputs, ReadWriteInputs(request, true, errors));
  TW_ASSIGN_OR_RETURN(std::optional<Item> item, ReadItemMember(request, "Item"));
  errors.RequireNotNull("item", item.has_value());
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(RequestExpressions expressions,
                      RequestExpressions::Read(request, service.expressions));
  TW_ASSIGN_OR_RETURN(std::optional<ConditionExpression> condition, expressions.Condition(request));
  TW_RETURN_IF_ERROR(expressions.Finish());

  TW_ASSIGN_OR_RETURN(CapacityTicket ticket,
                      service.throughput->Admit(inputs.table, CapacityKind::kWrite, "PutItem",
                                                &*item, scope.error_details));
  std::optional<Item> failed_item;
  size_t checked_bytes = 0;
  auto result = service.engine->PutItem(
      inputs.table, std::move(*item),
      MakeWriteCondition(condition, inputs.return_old_on_failure, &failed_item, &checked_bytes));
  if (!result.ok()) {
    return WriteFailed(service, ticket, result.status(), &failed_item, checked_bytes, scope);
  }

  WriteOldItemReply(service, inputs, *result, ChargeWrite(service, inputs.table, ticket, *result),
                    scope);
  return Status::Ok();
}

Status DeleteItem(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(WriteInputs inputs, ReadWriteInputs(request, true, errors));
  TW_ASSIGN_OR_RETURN(std::optional<Item> key, ReadItemMember(request, "Key"));
  errors.RequireNotNull("key", key.has_value());
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(RequestExpressions expressions,
                      RequestExpressions::Read(request, service.expressions));
  TW_ASSIGN_OR_RETURN(std::optional<ConditionExpression> condition, expressions.Condition(request));
  TW_RETURN_IF_ERROR(expressions.Finish());

  TW_ASSIGN_OR_RETURN(CapacityTicket ticket,
                      service.throughput->Admit(inputs.table, CapacityKind::kWrite, "DeleteItem",
                                                &*key, scope.error_details));
  std::optional<Item> failed_item;
  size_t checked_bytes = 0;
  auto result = service.engine->DeleteItem(
      inputs.table, *key,
      MakeWriteCondition(condition, inputs.return_old_on_failure, &failed_item, &checked_bytes));
  if (!result.ok()) {
    return WriteFailed(service, ticket, result.status(), &failed_item, checked_bytes, scope);
  }

  WriteOldItemReply(service, inputs, *result, ChargeWrite(service, inputs.table, ticket, *result),
                    scope);
  return Status::Ok();
}

Status UpdateItem(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(WriteInputs inputs, ReadWriteInputs(request, false, errors));
  TW_ASSIGN_OR_RETURN(std::optional<Item> key, ReadItemMember(request, "Key"));
  errors.RequireNotNull("key", key.has_value());
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(KeySchema schema, service.schemas->Get(inputs.table));
  TW_ASSIGN_OR_RETURN(RequestExpressions expressions,
                      RequestExpressions::Read(request, service.expressions));
  TW_ASSIGN_OR_RETURN(std::optional<UpdateExpression> update, expressions.Update(request, schema));
  TW_ASSIGN_OR_RETURN(std::optional<ConditionExpression> condition, expressions.Condition(request));
  TW_RETURN_IF_ERROR(expressions.Finish());

  const Item& item_key = *key;
  ItemUpdater updater = [&update, &item_key](const Item* current) {
    return UpdatedItem(update, current, item_key);
  };
  TW_ASSIGN_OR_RETURN(CapacityTicket ticket,
                      service.throughput->Admit(inputs.table, CapacityKind::kWrite, "UpdateItem",
                                                &item_key, scope.error_details));
  std::optional<Item> failed_item;
  size_t checked_bytes = 0;
  auto result = service.engine->UpdateItem(
      inputs.table, item_key, updater,
      MakeWriteCondition(condition, inputs.return_old_on_failure, &failed_item, &checked_bytes));
  if (!result.ok()) {
    return WriteFailed(service, ticket, result.status(), &failed_item, checked_bytes, scope);
  }

  const WriteCost cost = ChargeWrite(service, inputs.table, ticket, *result);
  CapacityTally capacity(inputs.capacity);
  if (capacity.wanted()) capacity.AddWrite(inputs.table, cost);
  std::optional<Item> attributes;
  switch (inputs.return_values) {
    case ReturnValues::kNone:
      break;
    case ReturnValues::kAllOld:
      attributes = result->old_item;
      break;
    case ReturnValues::kAllNew:
      attributes = result->new_item;
      break;
    case ReturnValues::kUpdatedOld:
      if (update && result->old_item) attributes = update->UpdatedAttributes(*result->old_item);
      break;
    case ReturnValues::kUpdatedNew:
      if (update && result->new_item) attributes = update->UpdatedAttributes(*result->new_item);
      break;
  }
  WriteAttributes(service, inputs, *result, attributes ? &*attributes : nullptr, capacity,
                  scope.writer);
  return Status::Ok();
}

Status GetItem(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(std::string table, ReadTableName(request, "tableName", errors));
  TW_ASSIGN_OR_RETURN(std::optional<Item> key, ReadItemMember(request, "Key"));
  errors.RequireNotNull("key", key.has_value());
  TW_ASSIGN_OR_RETURN(std::optional<bool> consistent, GetBool(request, "ConsistentRead"));
  TW_ASSIGN_OR_RETURN(CapacityDetail capacity_detail, ParseCapacityDetail(request));
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_ASSIGN_OR_RETURN(RequestExpressions expressions,
                      RequestExpressions::Read(request, service.expressions));
  TW_ASSIGN_OR_RETURN(std::optional<ProjectionExpression> projection,
                      expressions.Projection(request));
  TW_RETURN_IF_ERROR(expressions.Finish());

  TW_ASSIGN_OR_RETURN(
      CapacityTicket ticket,
      service.throughput->Admit(table, CapacityKind::kRead, "GetItem", &*key, scope.error_details));
  TW_ASSIGN_OR_RETURN(std::shared_ptr<const Item> item,
                      service.engine->ReadItem(table, *key, ConsistencyOf(consistent)));
  double units = ReadUnits(item ? ItemSize(*item) : 0, consistent.value_or(false));
  service.throughput->Charge(ticket, CapacityKind::kRead, units);
  CapacityTally capacity(capacity_detail);
  if (capacity.wanted()) capacity.AddRead(table, units);
  json::Writer& w = scope.writer;
  w.StartObject();
  if (item) {
    w.Key("Item");
    WriteProjectedItem(*item, projection, w);
  }
  capacity.WriteSingle(w);
  w.EndObject();
  return Status::Ok();
}

}  // namespace tidewater::server
