// TransactWriteItems (all-or-nothing across tables and shards, with ClientRequestToken
// idempotency and per-action cancellation reasons) and TransactGetItems.
#include <algorithm>
#include <vector>

#include "capacity.h"
#include "collection_metrics.h"
#include "handler_support.h"
#include "handlers.h"
#include "request_expressions.h"

namespace tidewater::server {
namespace {

constexpr size_t kMaxTransactionItems = 100;
constexpr size_t kMaxClientRequestTokenLength = 36;
// "The aggregate size of the items in the transaction cannot exceed 4 MB."
constexpr size_t kMaxTransactionBytes = 4 * 1024 * 1024;

// One TransactItems entry, compiled. Lives until the engine call returns: the mutation's
// condition and updater refer to it.
struct WriteAction {
  Mutation::Kind kind = Mutation::Kind::kPut;
  std::string table;
  Item item;  // the item (Put) or the key
  std::optional<ConditionExpression> condition;
  std::optional<UpdateExpression> update;
  bool return_old_on_failure = false;
  std::optional<Item> failed_item;
};

Status CheckTransactItemsLength(const rapidjson::Value* items, ConstraintErrors& errors) {
  errors.RequireNotNull("transactItems", items != nullptr);
  if (items == nullptr) return Status::Ok();
  if (items->Empty()) {
    errors.Add("transactItems", "[]", "Member must have length greater than or equal to 1");
  } else if (items->Size() > kMaxTransactionItems) {
    errors.Add("transactItems", "[" + std::to_string(items->Size()) + " items]",
               "Member must have length less than or equal to 100");
  }
  return Status::Ok();
}

Result<WriteAction> ReadWriteAction(ServiceContext& service, const rapidjson::Value& entry,
                                    size_t position, ConstraintErrors& errors) {
  TW_RETURN_IF_ERROR(ExpectObject(entry));
  static constexpr std::pair<const char*, Mutation::Kind> kKinds[] = {
      {"ConditionCheck", Mutation::Kind::kConditionCheck},
      {"Put", Mutation::Kind::kPut},
      {"Delete", Mutation::Kind::kDelete},
      {"Update", Mutation::Kind::kUpdate}};
  const rapidjson::Value* body = nullptr;
  WriteAction action;
  std::string path_prefix;
  for (const auto& [member, kind] : kKinds) {
    TW_ASSIGN_OR_RETURN(const rapidjson::Value* found, GetObject(entry, member));
    if (found == nullptr) continue;
    if (body != nullptr) {
      return Status::Validation(
          "TransactItems can only contain one of Check, Put, Update or Delete");
    }
    body = found;
    action.kind = kind;
    path_prefix = "transactItems." + std::to_string(position) + ".member." +
                  (kind == Mutation::Kind::kConditionCheck ? std::string("conditionCheck")
                   : kind == Mutation::Kind::kPut          ? std::string("put")
                   : kind == Mutation::Kind::kDelete       ? std::string("delete")
                                                           : std::string("update"));
  }
  if (body == nullptr) {
    return Status::Validation("TransactItems can only contain one of Check, Put, Update or Delete");
  }
  TW_ASSIGN_OR_RETURN(action.table, ReadTableName(*body, path_prefix + ".tableName", errors));
  const bool is_put = action.kind == Mutation::Kind::kPut;
  TW_ASSIGN_OR_RETURN(std::optional<Item> item, ReadItemMember(*body, is_put ? "Item" : "Key"));
  errors.RequireNotNull(path_prefix + (is_put ? ".item" : ".key"), item.has_value());
  if (item) action.item = std::move(*item);
  TW_ASSIGN_OR_RETURN(action.return_old_on_failure,
                      ReadReturnOldOnConditionFailure(
                          *body, path_prefix + ".returnValuesOnConditionCheckFailure", errors));
  if (action.kind == Mutation::Kind::kConditionCheck) {
    errors.RequireNotNull(path_prefix + ".conditionExpression",
                          FindMember(*body, "ConditionExpression") != nullptr);
  }
  if (action.kind == Mutation::Kind::kUpdate) {
    errors.RequireNotNull(path_prefix + ".updateExpression",
                          FindMember(*body, "UpdateExpression") != nullptr);
  }
  if (!errors.empty()) return action;

  TW_ASSIGN_OR_RETURN(RequestExpressions expressions,
                      RequestExpressions::Read(*body, service.expressions));
  if (action.kind == Mutation::Kind::kUpdate) {
    TW_ASSIGN_OR_RETURN(KeySchema schema, service.schemas->Get(action.table));
    TW_ASSIGN_OR_RETURN(action.update, expressions.Update(*body, schema));
  }
  TW_ASSIGN_OR_RETURN(action.condition, expressions.Condition(*body));
  TW_RETURN_IF_ERROR(expressions.Finish());
  return action;
}

// The items the transaction writes (Put) and the keys of its other actions, together at
// most kMaxTransactionBytes.
Status CheckTransactionSize(const std::vector<WriteAction>& actions) {
  size_t total = 0;
  for (const WriteAction& action : actions) total += ItemSize(action.item);
  if (total > kMaxTransactionBytes) {
    return Status::Validation(
        "The aggregate size of the items in the transaction cannot exceed 4 MB");
  }
  return Status::Ok();
}

// The outcome of validating each action's item or key (`checks`, one per action): as
// DynamoDB, an invalid action cancels the transaction with a ValidationError reason for it
// and None for the others; an error other than a validation error is answered as is.
Status CancelIfInvalid(std::vector<Status> checks) {
  bool invalid = false;
  for (const Status& check : checks) {
    if (!check.ok() && check.code() != ErrorCode::kValidation) return check;
    invalid = invalid || !check.ok();
  }
  return invalid ? Status::TransactionCanceled(std::move(checks)) : Status::Ok();
}

// Every action's item or key against its table's key schema (and the item size limit),
// before the engine runs. Unknown tables are ResourceNotFoundException.
Status ValidateActions(ServiceContext& service, const std::vector<WriteAction>& actions) {
  std::vector<Status> checks;
  checks.reserve(actions.size());
  for (const WriteAction& action : actions) {
    TW_ASSIGN_OR_RETURN(std::shared_ptr<const TableKeys> keys,
                        service.schemas->GetKeys(action.table));
    checks.push_back(action.kind == Mutation::Kind::kPut
                         ? ValidatePutItem(*service.engine, action.table, *keys, action.item)
                         : service.engine->ValidateKey(action.table, action.item));
  }
  return CancelIfInvalid(std::move(checks));
}

Mutation ToMutation(WriteAction& action) {
  Mutation mutation;
  mutation.kind = action.kind;
  mutation.table = action.table;
  mutation.item = action.item;
  if (action.condition) {
    mutation.condition = [&action](const Item* current) -> Status {
      if (action.condition->Matches(current)) return Status::Ok();
      if (action.return_old_on_failure && current != nullptr) action.failed_item = *current;
      return Status::ConditionFailed();
    };
  }
  if (action.kind == Mutation::Kind::kUpdate) {
    mutation.updater = [&action](const Item* current) {
      return UpdatedItem(action.update, current, action.item);
    };
  }
  return mutation;
}

// A hash of the request's whole content, to tell a retry from another request with the
// same token. Walks the document with an explicit stack: requests may nest deeply.
uint64_t Fingerprint(const rapidjson::Value& request) {
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a
  auto mix = [&hash](const void* data, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 1099511628211ULL;
  };
  std::vector<const rapidjson::Value*> pending{&request};
  while (!pending.empty()) {
    const rapidjson::Value* value = pending.back();
    pending.pop_back();
    const auto type = static_cast<unsigned char>(value->GetType());
    mix(&type, 1);
    if (value->IsString()) {
      mix(value->GetString(), value->GetStringLength());
    } else if (value->IsNumber()) {
      const double number = value->GetDouble();
      mix(&number, sizeof(number));
    } else if (value->IsArray()) {
      const rapidjson::SizeType size = value->Size();
      mix(&size, sizeof(size));
      for (auto it = value->End(); it != value->Begin();) pending.push_back(&*--it);
    } else if (value->IsObject()) {
      const rapidjson::SizeType size = value->MemberCount();
      mix(&size, sizeof(size));
      for (auto it = value->MemberEnd(); it != value->MemberBegin();) {
        --it;
        pending.push_back(&it->value);
        pending.push_back(&it->name);
      }
    }
  }
  return hash;
}

// Admits a transaction whose i-th action is on `keys[i]` of `tables[i]`: every action must
// have capacity (its table's and its shard's), or TransactionCanceledException cancels it
// before anything runs, with the refusal for each action refused. Returns the tickets to
// charge each action's units to.
Result<std::vector<CapacityTicket>> AdmitTransaction(ServiceContext& service,
                                                     const std::vector<std::string>& tables,
                                                     const std::vector<const Item*>& keys,
                                                     CapacityKind kind,
                                                     std::string_view operation) {
  std::vector<CapacityTicket> tickets;
  std::vector<Status> reasons;
  std::vector<std::string> throttled_tables;
  bool refused = false;
  for (size_t i = 0; i < tables.size(); ++i) {
    ErrorDetails details;
    auto ticket = service.throughput->AdmitItem(tables[i], kind, *keys[i], details);
    if (ticket.ok()) {
      tickets.push_back(std::move(*ticket));
      reasons.push_back(Status::Ok());
      continue;
    }
    refused = true;
    reasons.push_back(ticket.status());
    if (std::find(throttled_tables.begin(), throttled_tables.end(), tables[i]) ==
        throttled_tables.end()) {
      throttled_tables.push_back(tables[i]);
      service.throughput->CountThrottledRequest(tables[i], operation);
    }
  }
  if (refused) return Status::TransactionCanceled(std::move(reasons));
  return tickets;
}

}  // namespace

Status TransactWriteItems(ServiceContext& service, const rapidjson::Value& request,
                          RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* items, GetArray(request, "TransactItems"));
  TW_RETURN_IF_ERROR(CheckTransactItemsLength(items, errors));
  TW_ASSIGN_OR_RETURN(std::optional<std::string_view> token,
                      GetString(request, "ClientRequestToken"));
  errors.CheckLength("clientRequestToken", token, 1, kMaxClientRequestTokenLength);
  TW_ASSIGN_OR_RETURN(CapacityDetail capacity_detail, ParseCapacityDetail(request));
  TW_ASSIGN_OR_RETURN(const bool collection_metrics,
                      ReadReturnItemCollectionMetrics(request, errors));
  TW_RETURN_IF_ERROR(errors.ToStatus());

  std::vector<WriteAction> actions;
  actions.reserve(items->Size());
  size_t position = 0;
  for (const auto& entry : items->GetArray()) {
    TW_ASSIGN_OR_RETURN(WriteAction action, ReadWriteAction(service, entry, ++position, errors));
    actions.push_back(std::move(action));
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());
  TW_RETURN_IF_ERROR(CheckTransactionSize(actions));
  TW_RETURN_IF_ERROR(ValidateActions(service, actions));
  std::vector<std::string> action_tables;
  std::vector<const Item*> action_keys;
  for (const WriteAction& action : actions) {
    action_tables.push_back(action.table);
    action_keys.push_back(&action.item);
  }
  TW_ASSIGN_OR_RETURN(std::vector<CapacityTicket> tickets,
                      AdmitTransaction(service, action_tables, action_keys, CapacityKind::kWrite,
                                       "TransactWriteItems"));

  std::string token_text = token ? std::string(*token) : std::string();
  if (token) {
    TW_ASSIGN_OR_RETURN(TransactionTokens::Claim claim,
                        service.transaction_tokens->Begin(token_text, Fingerprint(request)));
    if (claim.replay) {
      scope.writer.RawValue(claim.response.data(), claim.response.size(), rapidjson::kObjectType);
      return Status::Ok();
    }
  }
  std::vector<Mutation> mutations;
  mutations.reserve(actions.size());
  for (WriteAction& action : actions) mutations.push_back(ToMutation(action));
  auto results = service.engine->TransactWrite(std::move(mutations));
  if (!results.ok()) {
    if (token) service.transaction_tokens->Release(token_text);
    if (results.status().code() == ErrorCode::kTransactionCanceled) {
      for (WriteAction& action : actions) {
        scope.error_details.cancellation_items.push_back(std::move(action.failed_item));
      }
    }
    return results.status();
  }

  CapacityTally capacity(capacity_detail);
  CollectionMetricsTally collections(collection_metrics);
  for (size_t i = 0; i < actions.size(); ++i) {
    const WriteResult& result = (*results)[i];
    const WriteCost cost = ChargedWriteCost(*service.schemas, actions[i].table, result, 2);
    service.throughput->Charge(tickets[i], cost);
    if (capacity.wanted()) capacity.AddWrite(actions[i].table, cost);
    if (actions[i].kind != Mutation::Kind::kConditionCheck) {
      auto keys = service.schemas->GetKeys(actions[i].table);
      if (keys.ok()) collections.Add(actions[i].table, **keys, result);
    }
  }
  json::Writer& w = scope.writer;
  w.StartObject();
  capacity.WriteList(w);
  collections.WriteMap(service, w);
  w.EndObject();
  if (token) {
    service.transaction_tokens->Complete(
        token_text, std::string(scope.buffer.GetString(), scope.buffer.GetSize()));
  }
  return Status::Ok();
}

Status TransactGetItems(ServiceContext& service, const rapidjson::Value& request,
                        RequestScope& scope) {
  ConstraintErrors errors;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* items, GetArray(request, "TransactItems"));
  TW_RETURN_IF_ERROR(CheckTransactItemsLength(items, errors));
  TW_ASSIGN_OR_RETURN(CapacityDetail capacity_detail, ParseCapacityDetail(request));
  TW_RETURN_IF_ERROR(errors.ToStatus());

  struct GetAction {
    std::string table;
    Item key;
    std::optional<ProjectionExpression> projection;
  };
  std::vector<GetAction> gets;
  size_t position = 0;
  for (const auto& entry : items->GetArray()) {
    ++position;
    TW_RETURN_IF_ERROR(ExpectObject(entry));
    TW_ASSIGN_OR_RETURN(const rapidjson::Value* get, GetObject(entry, "Get"));
    const std::string path = "transactItems." + std::to_string(position) + ".member.get";
    errors.RequireNotNull(path, get != nullptr);
    if (get == nullptr) continue;
    GetAction action;
    TW_ASSIGN_OR_RETURN(action.table, ReadTableName(*get, path + ".tableName", errors));
    TW_ASSIGN_OR_RETURN(std::optional<Item> key, ReadItemMember(*get, "Key"));
    errors.RequireNotNull(path + ".key", key.has_value());
    if (key) action.key = std::move(*key);
    if (!errors.empty()) continue;
    TW_ASSIGN_OR_RETURN(RequestExpressions expressions,
                        RequestExpressions::Read(*get, service.expressions));
    TW_ASSIGN_OR_RETURN(action.projection, expressions.Projection(*get));
    TW_RETURN_IF_ERROR(expressions.Finish());
    gets.push_back(std::move(action));
  }
  TW_RETURN_IF_ERROR(errors.ToStatus());
  std::vector<Status> checks;
  for (const GetAction& get : gets)
    checks.push_back(service.engine->ValidateKey(get.table, get.key));
  TW_RETURN_IF_ERROR(CancelIfInvalid(std::move(checks)));
  std::vector<std::string> action_tables;
  std::vector<const Item*> action_keys;
  for (const GetAction& get : gets) {
    action_tables.push_back(get.table);
    action_keys.push_back(&get.key);
  }
  TW_ASSIGN_OR_RETURN(std::vector<CapacityTicket> tickets,
                      AdmitTransaction(service, action_tables, action_keys, CapacityKind::kRead,
                                       "TransactGetItems"));

  CapacityTally capacity(capacity_detail);
  json::Writer& w = scope.writer;
  w.StartObject();
  w.Key("Responses");
  w.StartArray();
  for (size_t i = 0; i < gets.size(); ++i) {
    const GetAction& get = gets[i];
    TW_ASSIGN_OR_RETURN(std::optional<Item> item, service.engine->GetItem(get.table, get.key));
    double units = 2 * ReadUnits(item ? ItemSize(*item) : 0, true);
    service.throughput->Charge(tickets[i], CapacityKind::kRead, units);
    if (capacity.wanted()) capacity.AddRead(get.table, units);
    w.StartObject();
    if (item) {
      w.Key("Item");
      WriteProjectedItem(*item, get.projection, w);
    }
    w.EndObject();
  }
  w.EndArray();
  capacity.WriteList(w);
  w.EndObject();
  return Status::Ok();
}

}  // namespace tidewater::server
