#include "request_authorization.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "autoscaling_api.h"
#include "json_request.h"
#include "request_expressions.h"
#include "request_router.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/resource_names.h"

namespace tidewater::server {
namespace {

namespace keys = security::condition_keys;
using security::AuthorizationRequest;

// The member `name` of `object` when it is of the wanted kind, else nullptr (or empty).
const rapidjson::Value* Member(const rapidjson::Value& object, std::string_view name) {
  return object.IsObject() ? FindMember(object, name) : nullptr;
}
std::string_view StringMember(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = Member(object, name);
  if (value == nullptr || !value->IsString()) return {};
  return std::string_view(value->GetString(), value->GetStringLength());
}
const rapidjson::Value* ObjectMember(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = Member(object, name);
  return value != nullptr && value->IsObject() ? value : nullptr;
}
const rapidjson::Value* ArrayMember(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = Member(object, name);
  return value != nullptr && value->IsArray() ? value : nullptr;
}

std::string NameOf(const rapidjson::Value& string) {
  return std::string(string.GetString(), string.GetStringLength());
}

// "2026-12-06T12:00:00Z", aws:CurrentTime's form.
std::string Iso8601(int64_t micros) {
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// A partition key value as dynamodb:LeadingKeys holds it; nullopt for a type a key cannot
// have.
std::optional<std::string> KeyText(const AttributeValue& value) {
  switch (value.type()) {
    case AttributeType::kS:
      return value.s();
    case AttributeType::kN:
      return value.n().ToString();
    case AttributeType::kB:
      return json::Base64Encode(value.b());
    default:
      return std::nullopt;
  }
}

bool IsIdentifierChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool IsUpdateClause(std::string_view word) {
  auto equals = [word](std::string_view keyword) {
    if (word.size() != keyword.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(word[i])) != keyword[i]) return false;
    }
    return true;
  };
  return equals("SET") || equals("REMOVE") || equals("ADD") || equals("DELETE");
}

// The top-level attribute names an UpdateExpression writes: the first element of the path
// each action (SET p = v, REMOVE p, ADD p v, DELETE p v) begins with, "#name" placeholders
// resolved through `names` (ExpressionAttributeNames; an unknown one is kept as written: the
// handler refuses it). Tokens as core's expression lexer makes them.
void AddUpdateTargets(std::string_view text, const rapidjson::Value* names,
                      security::ContextKeys& context) {
  int depth = 0;
  bool action_starts = false;  // after a clause keyword or a ',' outside parentheses
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (IsIdentifierChar(c) || c == '#' || c == ':') {
      const size_t begin = i++;
      while (i < text.size() && IsIdentifierChar(text[i])) ++i;
      const std::string_view token = text.substr(begin, i - begin);
      if (depth == 0 && c != '#' && c != ':' && IsUpdateClause(token)) {
        action_starts = true;
        continue;
      }
      if (action_starts && depth == 0 && c != ':') {
        std::string name(token);
        if (c == '#' && names != nullptr) {
          std::string_view resolved = StringMember(*names, token);
          if (!resolved.empty()) name = resolved;
        }
        context.Add(keys::kAttributes, std::move(name));
      }
      action_starts = false;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      action_starts = true;
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      action_starts = false;
    }
    ++i;
  }
}

// Builds the questions of one API request: the context every question shares, the table
// schemas, and the questions so far.
class Questions {
 public:
  Questions(const ServiceContext& service, const RequestOrigin& origin)
      : service_(service), principal_(origin.principal) {
    common_.Set(keys::kCurrentTime, {Iso8601(origin.now_micros)});
    common_.Set(keys::kEpochTime, {std::to_string(origin.now_micros / 1'000'000)});
    if (!origin.source_ip.empty()) common_.Set(keys::kSourceIp, {std::string(origin.source_ip)});
  }

  std::vector<AuthorizationRequest> Take() { return std::move(requests_); }

  // A new question with the shared context; valid until the next Add.
  AuthorizationRequest& Add(std::string action, std::string resource) {
    AuthorizationRequest& request = requests_.emplace_back();
    request.principal = std::string(principal_);
    request.action = std::move(action);
    request.resource = std::move(resource);
    request.context = common_;
    return request;
  }

  std::string TableArn(std::string_view table) const {
    return streams::TableArn(service_.region, table);
  }

  // The table's key schemas, or null when it does not exist (its handler says so).
  std::shared_ptr<const TableKeys> Keys(std::string_view table) const {
    if (table.empty()) return nullptr;
    Result<std::shared_ptr<const TableKeys>> found = service_.schemas->GetKeys(std::string(table));
    return found.ok() ? *found : nullptr;
  }

  // The question on the table that `object`'s TableName names.
  AuthorizationRequest& OnTable(std::string action, const rapidjson::Value& object,
                                std::string_view member = "TableName") {
    return Add(std::move(action), TableArn(StringMember(object, member)));
  }

  // The request parameters that are condition keys, when given.
  static void AddParameters(const rapidjson::Value& object, AuthorizationRequest& request) {
    for (auto [member, key] :
         {std::pair{"Select", keys::kSelect}, std::pair{"ReturnValues", keys::kReturnValues},
          std::pair{"ReturnConsumedCapacity", keys::kReturnConsumedCapacity}}) {
      std::string_view value = StringMember(object, member);
      if (!value.empty()) request.context.Set(key, {std::string(value)});
    }
  }

  // LeadingKeys from the partition key attribute of `item` (a Key or Item map).
  static void AddLeadingKey(const rapidjson::Value* item, const TableKeys* table_keys,
                            AuthorizationRequest& request) {
    if (item == nullptr || table_keys == nullptr || !item->IsObject()) return;
    const rapidjson::Value* value = FindMember(*item, table_keys->key_schema.partition_key.name);
    if (value == nullptr) return;
    Result<AttributeValue> parsed = json::ParseAttributeValue(*value);
    if (!parsed.ok()) return;
    if (std::optional<std::string> text = KeyText(*parsed)) {
      request.context.Set(keys::kLeadingKeys, {std::move(*text)});
    }
  }

  // Attributes: the member names of `item` (a Key or Item map).
  static void AddNames(const rapidjson::Value* item, AuthorizationRequest& request) {
    if (item == nullptr || !item->IsObject()) return;
    for (const auto& member : item->GetObject()) {
      request.context.Add(keys::kAttributes, NameOf(member.name));
    }
  }

  // The top-level names of the projection (ProjectionExpression with
  // ExpressionAttributeNames, or AttributesToGet) of `object`; nullopt without one.
  std::optional<std::vector<std::string>> Projection(const rapidjson::Value& object) const {
    if (Member(object, "ProjectionExpression") == nullptr &&
        Member(object, "AttributesToGet") == nullptr) {
      return std::nullopt;
    }
    Result<RequestExpressions> expressions = RequestExpressions::Read(object, service_.expressions);
    if (!expressions.ok()) return std::nullopt;
    Result<std::optional<ProjectionExpression>> projection = expressions->Projection(object);
    if (!projection.ok() || !*projection) return std::nullopt;
    return (*projection)->TopLevelAttributes();
  }

  // Attributes: the projection's names (none without one).
  void AddProjection(const rapidjson::Value& object, AuthorizationRequest& request) const {
    if (auto names = Projection(object)) request.context.Set(keys::kAttributes, std::move(*names));
  }

  // Attributes of an update: the names UpdateExpression or AttributeUpdates writes, then the
  // key's names.
  static void AddUpdateNames(const rapidjson::Value& object, AuthorizationRequest& request) {
    std::string_view update = StringMember(object, "UpdateExpression");
    if (!update.empty()) {
      AddUpdateTargets(update, ObjectMember(object, "ExpressionAttributeNames"), request.context);
    }
    AddNames(ObjectMember(object, "AttributeUpdates"), request);
    AddNames(ObjectMember(object, "Key"), request);
  }

  // The questions of GetItem, PutItem, UpdateItem, DeleteItem (and a transaction's actions).
  void AddItemOperation(std::string_view operation, const rapidjson::Value& object,
                        std::string action) {
    const std::string_view table = StringMember(object, "TableName");
    std::shared_ptr<const TableKeys> table_keys = Keys(table);
    AuthorizationRequest& request = Add(std::move(action), TableArn(table));
    AddParameters(object, request);
    if (operation == "PutItem") {
      const rapidjson::Value* item = ObjectMember(object, "Item");
      AddLeadingKey(item, table_keys.get(), request);
      AddNames(item, request);
      return;
    }
    const rapidjson::Value* key = ObjectMember(object, "Key");
    AddLeadingKey(key, table_keys.get(), request);
    if (operation == "GetItem") {
      AddProjection(object, request);
    } else if (operation == "UpdateItem") {
      AddUpdateNames(object, request);
    } else {  // DeleteItem, ConditionCheckItem
      AddNames(key, request);
    }
  }

  void AddQueryOrScan(std::string_view operation, const rapidjson::Value& object) {
    const std::string_view table = StringMember(object, "TableName");
    const std::string_view index = StringMember(object, "IndexName");
    std::string resource = TableArn(table);
    if (!index.empty()) resource += "/index/" + std::string(index);
    AuthorizationRequest& request = Add("dynamodb:" + std::string(operation), std::move(resource));
    AddParameters(object, request);
    AddProjection(object, request);
    if (operation != "Query") return;
    std::shared_ptr<const TableKeys> table_keys = Keys(table);
    if (table_keys == nullptr) return;
    const KeySchema* schema = &table_keys->key_schema;
    if (!index.empty()) {
      const SecondaryIndex* found = table_keys->FindIndex(index);
      if (found == nullptr) return;
      schema = &found->key_schema;
    }
    Result<RequestExpressions> expressions = RequestExpressions::Read(object, service_.expressions);
    if (!expressions.ok()) return;
    Result<KeyCondition> condition = expressions->KeyConditions(object, *schema);
    if (!condition.ok()) return;
    if (std::optional<std::string> text = KeyText(condition->partition_key)) {
      request.context.Set(keys::kLeadingKeys, {std::move(*text)});
    }
  }

  // BatchGetItem: RequestItems {table: {Keys: [...], projection}}.
  void AddBatchGet(const rapidjson::Value& object) {
    const rapidjson::Value* tables = ObjectMember(object, "RequestItems");
    if (tables == nullptr) return;
    for (const auto& entry : tables->GetObject()) {
      const std::string_view table(entry.name.GetString(), entry.name.GetStringLength());
      std::shared_ptr<const TableKeys> table_keys = Keys(table);
      const rapidjson::Value* item_keys = ArrayMember(entry.value, "Keys");
      if (item_keys == nullptr) continue;
      const std::optional<std::vector<std::string>> projection = Projection(entry.value);
      for (const rapidjson::Value& key : item_keys->GetArray()) {
        AuthorizationRequest& request = Add("dynamodb:BatchGetItem", TableArn(table));
        AddParameters(object, request);
        AddLeadingKey(&key, table_keys.get(), request);
        if (projection) request.context.Set(keys::kAttributes, *projection);
      }
    }
  }

  // BatchWriteItem: RequestItems {table: [{PutRequest: {Item}} | {DeleteRequest: {Key}}]}.
  void AddBatchWrite(const rapidjson::Value& object) {
    const rapidjson::Value* tables = ObjectMember(object, "RequestItems");
    if (tables == nullptr) return;
    for (const auto& entry : tables->GetObject()) {
      if (!entry.value.IsArray()) continue;
      const std::string_view table(entry.name.GetString(), entry.name.GetStringLength());
      std::shared_ptr<const TableKeys> table_keys = Keys(table);
      for (const rapidjson::Value& write : entry.value.GetArray()) {
        AuthorizationRequest& request = Add("dynamodb:BatchWriteItem", TableArn(table));
        AddParameters(object, request);
        const rapidjson::Value* item = nullptr;
        if (const rapidjson::Value* put = ObjectMember(write, "PutRequest")) {
          item = ObjectMember(*put, "Item");
        } else if (const rapidjson::Value* del = ObjectMember(write, "DeleteRequest")) {
          item = ObjectMember(*del, "Key");
        }
        AddLeadingKey(item, table_keys.get(), request);
        AddNames(item, request);
      }
    }
  }

  // TransactWriteItems and TransactGetItems: TransactItems [{<Action>: {...}}].
  void AddTransaction(std::string_view operation, const rapidjson::Value& object) {
    const rapidjson::Value* items = ArrayMember(object, "TransactItems");
    if (items == nullptr) return;
    static constexpr std::pair<std::string_view, std::string_view> kActions[] = {
        {"Get", "GetItem"},
        {"Put", "PutItem"},
        {"Update", "UpdateItem"},
        {"Delete", "DeleteItem"},
        {"ConditionCheck", "ConditionCheckItem"}};
    for (const rapidjson::Value& item : items->GetArray()) {
      for (auto [member, item_operation] : kActions) {
        const rapidjson::Value* action = ObjectMember(item, member);
        if (action == nullptr) continue;
        AddItemOperation(item_operation, *action, "dynamodb:" + std::string(item_operation));
        AuthorizationRequest& request = requests_.back();
        request.context.Set(keys::kEnclosingOperation, {std::string(operation)});
        std::string_view capacity = StringMember(object, "ReturnConsumedCapacity");
        if (!capacity.empty()) {
          request.context.Set(keys::kReturnConsumedCapacity, {std::string(capacity)});
        }
      }
    }
  }

  // The stream ARN `arn` names, rebuilt in this server's region; as given when it is not a
  // stream ARN (the handler refuses it).
  std::string StreamResource(std::string_view arn) const {
    Result<streams::ParsedStreamArn> parsed = streams::ParseStreamArn(arn);
    if (!parsed.ok()) return std::string(arn);
    return streams::StreamArn(service_.region, parsed->table, parsed->label);
  }

  void AddStreams(std::string_view operation, const rapidjson::Value& object) {
    const std::string action = "dynamodb:" + std::string(operation);
    if (operation == "DescribeStream" || operation == "GetShardIterator") {
      Add(action, StreamResource(StringMember(object, "StreamArn")));
    } else if (operation == "GetRecords") {
      Result<ShardPosition> position =
          service_.iterators->Decode(StringMember(object, "ShardIterator"));
      if (position.ok()) {
        Add(action, streams::StreamArn(service_.region, position->table, position->stream_label));
      }
    } else {
      Add(action, "*");
    }
  }

  // The resource of a table-level DynamoDB operation (see the header), or "*".
  void AddTableLevel(std::string_view operation, const rapidjson::Value& object) {
    const std::string action = "dynamodb:" + std::string(operation);
    auto given_or_any = [](std::string_view arn) {
      return arn.empty() ? std::string("*") : std::string(arn);
    };
    if (operation == "TagResource" || operation == "UntagResource" ||
        operation == "ListTagsOfResource") {
      Add(action, given_or_any(StringMember(object, "ResourceArn")));
    } else if (operation == "DescribeBackup" || operation == "DeleteBackup" ||
               operation == "TidewaterReadBackup") {
      Add(action, given_or_any(StringMember(object, "BackupArn")));
    } else if (operation == "RestoreTableFromBackup") {
      Add(action, given_or_any(StringMember(object, "BackupArn")));
      OnTable(action, object, "TargetTableName");
    } else if (operation == "RestoreTableToPointInTime") {
      std::string_view source_arn = StringMember(object, "SourceTableArn");
      Add(action, source_arn.empty() ? TableArn(StringMember(object, "SourceTableName"))
                                     : std::string(source_arn));
      OnTable(action, object, "TargetTableName");
    } else if (operation == "ExportTableToPointInTime") {
      Add(action, given_or_any(StringMember(object, "TableArn")));
    } else if (operation == "DescribeExport") {
      Add(action, given_or_any(StringMember(object, "ExportArn")));
    } else if (operation == "DescribeImport") {
      Add(action, given_or_any(StringMember(object, "ImportArn")));
    } else if (operation == "ImportTable") {
      const rapidjson::Value* parameters = ObjectMember(object, "TableCreationParameters");
      Add(action, parameters == nullptr ? std::string("*")
                                        : TableArn(StringMember(*parameters, "TableName")));
    } else if (Member(object, "TableName") != nullptr && operation != "ListBackups" &&
               operation != "ListTables") {
      OnTable(action, object);  // CreateTable, DescribeTable, UpdateTable, TTL, CreateBackup, ...
    } else {
      Add(action, "*");
    }
  }

  const ServiceContext& service_;
  std::string_view principal_;
  security::ContextKeys common_;
  std::vector<AuthorizationRequest> requests_;
};

bool IsItemOperation(std::string_view operation) {
  return operation == "GetItem" || operation == "PutItem" || operation == "UpdateItem" ||
         operation == "DeleteItem";
}

// The table an ApplyReplicationBatch body names (ReplicationBatch.table, field 1), read
// without parsing the changes; empty when the body does not name one.
std::string ReplicationBatchTable(std::string_view body) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(body.data()),
                                               static_cast<int>(body.size()));
  std::string table;
  while (uint32_t tag = input.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == 1 &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::ReadString(&input, &table)) return {};
      continue;  // a later occurrence wins, as in the parser
    }
    if (!WireFormatLite::SkipField(&input, tag)) return {};
  }
  return table;
}

// "explicit deny by policy P statement 2 (Sid)" for the audit line.
std::string Reason(const security::Decision& decision) {
  if (decision.outcome == security::Decision::Outcome::kImplicitDeny) return "implicit deny";
  std::string reason =
      decision.explicitly_denied() ? "explicit deny by policy " : "allowed by policy ";
  reason += decision.policy_name + " statement " + std::to_string(decision.statement_index);
  if (!decision.sid.empty()) reason += " (" + decision.sid + ")";
  return reason;
}

}  // namespace

std::vector<AuthorizationRequest> JsonAuthorizationRequests(const ServiceContext& service,
                                                            std::string_view api_prefix,
                                                            std::string_view operation,
                                                            const rapidjson::Value& request,
                                                            const RequestOrigin& origin) {
  Questions questions(service, origin);
  if (api_prefix == kAutoScalingTargetPrefix) {
    questions.Add("application-autoscaling:" + std::string(operation), "*");
  } else if (api_prefix == kAdminPrefix) {
    questions.Add("tidewater:" + std::string(operation), "*");
  } else if (api_prefix == kStreamsPrefix) {
    questions.AddStreams(operation, request);
  } else if (IsItemOperation(operation)) {
    questions.AddItemOperation(operation, request, "dynamodb:" + std::string(operation));
  } else if (operation == "Query" || operation == "Scan") {
    questions.AddQueryOrScan(operation, request);
  } else if (operation == "BatchGetItem") {
    questions.AddBatchGet(request);
  } else if (operation == "BatchWriteItem") {
    questions.AddBatchWrite(request);
  } else if (operation == "TransactWriteItems" || operation == "TransactGetItems") {
    questions.AddTransaction(operation, request);
  } else {
    questions.AddTableLevel(operation, request);
  }
  return questions.Take();
}

std::vector<AuthorizationRequest> BinaryAuthorizationRequests(const ServiceContext& service,
                                                              std::string_view operation,
                                                              std::string_view body,
                                                              const RequestOrigin& origin) {
  Questions questions(service, origin);
  std::string resource = "*";
  if (operation == "ApplyReplicationBatch") {
    std::string table = ReplicationBatchTable(body);
    if (!table.empty()) resource = questions.TableArn(table);
  }
  questions.Add("tidewater:" + std::string(operation), std::move(resource));
  return questions.Take();
}

Status RequestAuthorizer::Authorize(std::string_view principal,
                                    std::span<const AuthorizationRequest> requests,
                                    std::string_view request_id) const {
  if (requests.empty()) return Status::Ok();
  std::shared_ptr<const security::PolicySet> policies = policies_->PoliciesOf(principal);
  for (const AuthorizationRequest& request : requests) {
    const security::Decision decision = security::Evaluate(*policies, request);
    if (decision.allowed()) {
      if (audit_allowed_) {
        spdlog::info(
            "event=access_allowed principal={} action={} resource={} reason=\"{}\" "
            "request_id={}",
            principal, request.action, request.resource, Reason(decision), request_id);
      }
      continue;
    }
    spdlog::warn(
        "event=access_denied principal={} action={} resource={} reason=\"{}\" request_id={}",
        principal, request.action, request.resource, Reason(decision), request_id);
    return security::AccessDeniedError(request, decision, streams::kAccountId);
  }
  return Status::Ok();
}

}  // namespace tidewater::server
