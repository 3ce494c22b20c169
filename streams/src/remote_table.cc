#include "remote_table.h"

#include <chrono>
#include <thread>

namespace tidewater::streams {
namespace {

// CreateTable of `table`; ResourceInUse (created meanwhile) is success.
Status CreateRemoteTable(ClientPool& pool, const std::string& table, std::string_view partition_key,
                         std::optional<std::string_view> sort_key) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  WriteStringMember(w, "TableName", table);
  w.Key("KeySchema");
  w.StartArray();
  w.StartObject();
  WriteStringMember(w, "AttributeName", partition_key);
  WriteStringMember(w, "KeyType", "HASH");
  w.EndObject();
  if (sort_key) {
    w.StartObject();
    WriteStringMember(w, "AttributeName", *sort_key);
    WriteStringMember(w, "KeyType", "RANGE");
    w.EndObject();
  }
  w.EndArray();
  w.Key("AttributeDefinitions");
  w.StartArray();
  for (std::optional<std::string_view> name : {std::optional(partition_key), sort_key}) {
    if (!name) continue;
    w.StartObject();
    WriteStringMember(w, "AttributeName", *name);
    WriteStringMember(w, "AttributeType", "S");
    w.EndObject();
  }
  w.EndArray();
  WriteStringMember(w, "BillingMode", "PAY_PER_REQUEST");
  w.EndObject();
  auto created = pool.Call(DynamoDbTarget("CreateTable"), BufferText(buffer));
  if (!created.ok() && created.status().code() != ErrorCode::kResourceInUse) {
    return created.status();
  }
  return Status::Ok();
}

}  // namespace

std::string DynamoDbTarget(std::string_view operation) {
  return "DynamoDB_20120810." + std::string(operation);
}

void WriteStringMember(json::Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string BufferText(const rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

Status ReadRemoteItems(ClientPool& pool, std::string_view operation, const std::string& table,
                       const std::function<void(json::Writer&)>& write_members,
                       const std::function<Status(const Item&)>& on_item) {
  std::optional<std::string> start_key;
  do {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    WriteStringMember(w, "TableName", table);
    w.Key("ConsistentRead");
    w.Bool(true);
    write_members(w);
    if (start_key) {
      w.Key("ExclusiveStartKey");
      w.RawValue(start_key->data(), start_key->size(), rapidjson::kObjectType);
    }
    w.EndObject();
    TW_ASSIGN_OR_RETURN(rapidjson::Document page,
                        pool.Call(DynamoDbTarget(operation), BufferText(buffer)));
    if (!page.HasMember("Items") || !page["Items"].IsArray()) {
      return Status::Internal(std::string(operation) + " of " + table + " answered no Items");
    }
    for (const auto& json_item : page["Items"].GetArray()) {
      TW_ASSIGN_OR_RETURN(Item item, json::ParseItem(json_item));
      TW_RETURN_IF_ERROR(on_item(item));
    }
    start_key.reset();
    if (page.HasMember("LastEvaluatedKey")) {
      rapidjson::StringBuffer key_buffer;
      json::Writer key_writer(key_buffer);
      page["LastEvaluatedKey"].Accept(key_writer);
      start_key = BufferText(key_buffer);
    }
  } while (start_key);
  return Status::Ok();
}

Status EnsureRemoteTable(ClientPool& pool, const std::string& table, std::string_view what,
                         std::string_view partition_key, std::optional<std::string_view> sort_key) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    WriteStringMember(w, "TableName", table);
    w.EndObject();
    auto described = pool.Call(DynamoDbTarget("DescribeTable"), BufferText(buffer));
    if (described.ok()) {
      const auto& description = (*described)["Table"];
      if (description.IsObject() && description.HasMember("TableStatus") &&
          std::string_view(description["TableStatus"].GetString()) == "ACTIVE") {
        return Status::Ok();
      }
    } else if (described.status().code() == ErrorCode::kResourceNotFound) {
      TW_RETURN_IF_ERROR(CreateRemoteTable(pool, table, partition_key, sort_key));
      continue;
    } else {
      return described.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Internal(std::string(what) + " " + table + " did not become ACTIVE");
}

}  // namespace tidewater::streams
