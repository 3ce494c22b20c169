#include "batch_forwarding.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <string_view>
#include <utility>

namespace tidewater::server {
namespace {

using Allocator = rapidjson::Document::AllocatorType;

std::string Serialize(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

rapidjson::Value Name(std::string_view name, Allocator& allocator) {
  return rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), allocator);
}

// `table`'s entry in `tables` (an object), created as `empty` when missing.
rapidjson::Value& Entry(rapidjson::Value& tables, std::string_view table, rapidjson::Type empty,
                        Allocator& allocator) {
  const rapidjson::Value name(
      rapidjson::StringRef(table.data(), static_cast<rapidjson::SizeType>(table.size())));
  if (tables.HasMember(name)) return tables[name];
  tables.AddMember(Name(table, allocator), rapidjson::Value(empty), allocator);
  return (tables.MemberEnd() - 1)->value;
}

// Adds `from`'s elements of each table to `into` (objects of arrays, or for BatchGetItem's
// UnprocessedKeys objects whose Keys are arrays).
void AppendPerTable(rapidjson::Value& into, const rapidjson::Value& from, bool keyed,
                    Allocator& allocator) {
  if (!from.IsObject()) return;
  for (const auto& table : from.GetObject()) {
    const std::string_view name(table.name.GetString(), table.name.GetStringLength());
    if (keyed) {
      if (!table.value.IsObject()) continue;
      auto keys = table.value.FindMember("Keys");
      if (keys == table.value.MemberEnd() || !keys->value.IsArray()) continue;
      rapidjson::Value& entry = Entry(into, name, rapidjson::kObjectType, allocator);
      for (const auto& member : table.value.GetObject()) {
        if (entry.HasMember(member.name)) continue;
        entry.AddMember(rapidjson::Value(member.name, allocator),
                        member.name == "Keys" ? rapidjson::Value(rapidjson::kArrayType)
                                              : rapidjson::Value(member.value, allocator),
                        allocator);
      }
      for (const auto& key : keys->value.GetArray()) {
        entry["Keys"].PushBack(rapidjson::Value(key, allocator), allocator);
      }
    } else {
      if (!table.value.IsArray()) continue;
      rapidjson::Value& entry = Entry(into, name, rapidjson::kArrayType, allocator);
      for (const auto& element : table.value.GetArray()) {
        entry.PushBack(rapidjson::Value(element, allocator), allocator);
      }
    }
  }
}

// Adds the numbers of `from` to those of `into`, member by member (ConsumedCapacity: units,
// and per index within GlobalSecondaryIndexes and LocalSecondaryIndexes).
void AddNumbers(rapidjson::Value& into, const rapidjson::Value& from, Allocator& allocator) {
  for (const auto& member : from.GetObject()) {
    if (!into.HasMember(member.name)) {
      into.AddMember(rapidjson::Value(member.name, allocator),
                     rapidjson::Value(member.value, allocator), allocator);
      continue;
    }
    rapidjson::Value& known = into[member.name];
    if (known.IsNumber() && member.value.IsNumber()) {
      known.SetDouble(known.GetDouble() + member.value.GetDouble());
    } else if (known.IsObject() && member.value.IsObject()) {
      AddNumbers(known, member.value, allocator);
    }
  }
}

}  // namespace

std::vector<BatchShare> SplitBatch(bool writes, const rapidjson::Value& request,
                                   const BatchElementOwner& owner_of) {
  if (!request.IsObject()) return {};
  auto items = request.FindMember("RequestItems");
  if (items == request.MemberEnd() || !items->value.IsObject()) return {};
  // Per owner, its RequestItems.
  std::vector<std::pair<std::string, rapidjson::Document>> shares;
  auto share_of = [&](const std::string& owner) -> rapidjson::Document& {
    for (auto& [name, document] : shares) {
      if (name == owner) return document;
    }
    shares.emplace_back(owner, rapidjson::Document());
    shares.back().second.SetObject();
    return shares.back().second;
  };
  for (const auto& table : items->value.GetObject()) {
    const std::string name(table.name.GetString(), table.name.GetStringLength());
    const rapidjson::Value* elements = nullptr;
    if (writes) {
      elements = &table.value;
    } else if (table.value.IsObject() && table.value.HasMember("Keys")) {
      elements = &table.value["Keys"];
    }
    if (elements == nullptr || !elements->IsArray()) return {};
    for (const auto& element : elements->GetArray()) {
      std::optional<std::string> owner = owner_of(name, element);
      if (!owner) return {};
      rapidjson::Document& share = share_of(*owner);
      Allocator& allocator = share.GetAllocator();
      if (writes) {
        Entry(share, name, rapidjson::kArrayType, allocator)
            .PushBack(rapidjson::Value(element, allocator), allocator);
        continue;
      }
      rapidjson::Value& entry = Entry(share, name, rapidjson::kObjectType, allocator);
      if (!entry.HasMember("Keys")) {
        for (const auto& member : table.value.GetObject()) {
          entry.AddMember(rapidjson::Value(member.name, allocator),
                          member.name == "Keys" ? rapidjson::Value(rapidjson::kArrayType)
                                                : rapidjson::Value(member.value, allocator),
                          allocator);
        }
      }
      entry["Keys"].PushBack(rapidjson::Value(element, allocator), allocator);
    }
  }
  std::vector<BatchShare> split;
  for (auto& [owner, share_items] : shares) {
    rapidjson::Document body;
    body.SetObject();
    for (const auto& member : request.GetObject()) {
      body.AddMember(rapidjson::Value(member.name, body.GetAllocator()),
                     member.name == "RequestItems"
                         ? rapidjson::Value(share_items, body.GetAllocator())
                         : rapidjson::Value(member.value, body.GetAllocator()),
                     body.GetAllocator());
    }
    split.push_back(BatchShare{owner, Serialize(body), Serialize(share_items)});
  }
  return split;
}

std::string MergeBatchAnswers(bool writes, const std::vector<BatchShare>& shares,
                              const std::vector<std::optional<std::string>>& answers) {
  rapidjson::Document merged;
  merged.SetObject();
  Allocator& allocator = merged.GetAllocator();
  rapidjson::Value responses(rapidjson::kObjectType);
  rapidjson::Value unprocessed(rapidjson::kObjectType);
  rapidjson::Value metrics(rapidjson::kObjectType);
  rapidjson::Value capacity(rapidjson::kArrayType);
  bool has_metrics = false;
  bool has_capacity = false;
  for (size_t i = 0; i < shares.size(); ++i) {
    rapidjson::Document parsed;
    if (answers[i]) parsed.Parse(answers[i]->data(), answers[i]->size());
    const rapidjson::Document& answer = parsed;
    if (!answers[i] || answer.HasParseError() || !answer.IsObject()) {
      rapidjson::Document items;
      items.Parse(shares[i].request_items.data(), shares[i].request_items.size());
      AppendPerTable(unprocessed, items, !writes, allocator);
      continue;
    }
    if (auto it = answer.FindMember("Responses"); it != answer.MemberEnd()) {
      AppendPerTable(responses, it->value, /*keyed=*/false, allocator);
    }
    if (auto it = answer.FindMember(writes ? "UnprocessedItems" : "UnprocessedKeys");
        it != answer.MemberEnd()) {
      AppendPerTable(unprocessed, it->value, !writes, allocator);
    }
    if (auto it = answer.FindMember("ItemCollectionMetrics"); it != answer.MemberEnd()) {
      has_metrics = true;
      AppendPerTable(metrics, it->value, /*keyed=*/false, allocator);
    }
    if (auto it = answer.FindMember("ConsumedCapacity");
        it != answer.MemberEnd() && it->value.IsArray()) {
      has_capacity = true;
      for (const auto& table : it->value.GetArray()) {
        if (!table.IsObject() || !table.HasMember("TableName")) continue;
        rapidjson::Value* same = nullptr;
        for (auto& known : capacity.GetArray()) {
          if (known["TableName"] == table["TableName"]) same = &known;
        }
        if (same != nullptr) {
          AddNumbers(*same, table, allocator);
        } else {
          capacity.PushBack(rapidjson::Value(table, allocator), allocator);
        }
      }
    }
  }
  if (!writes) merged.AddMember("Responses", responses, allocator);
  merged.AddMember(rapidjson::StringRef(writes ? "UnprocessedItems" : "UnprocessedKeys"),
                   unprocessed, allocator);
  if (has_metrics) merged.AddMember("ItemCollectionMetrics", metrics, allocator);
  if (has_capacity) merged.AddMember("ConsumedCapacity", capacity, allocator);
  return Serialize(merged);
}

ScanPages::ScanPages() {
  merged_.SetObject();
  Allocator& allocator = merged_.GetAllocator();
  merged_.AddMember("Items", rapidjson::Value(rapidjson::kArrayType), allocator);
  merged_.AddMember("Count", 0, allocator);
  merged_.AddMember("ScannedCount", 0, allocator);
}

void ScanPages::Add(const rapidjson::Value& page) {
  if (!page.IsObject()) return;
  Allocator& allocator = merged_.GetAllocator();
  if (auto items = page.FindMember("Items"); items != page.MemberEnd() && items->value.IsArray()) {
    has_items_ = true;
    for (const auto& item : items->value.GetArray()) {
      merged_["Items"].PushBack(rapidjson::Value(item, allocator), allocator);
    }
  }
  for (const char* count : {"Count", "ScannedCount"}) {
    if (auto it = page.FindMember(count); it != page.MemberEnd() && it->value.IsUint64()) {
      merged_[count].SetUint64(merged_[count].GetUint64() + it->value.GetUint64());
    }
  }
  if (auto it = page.FindMember("ConsumedCapacity");
      it != page.MemberEnd() && it->value.IsObject()) {
    if (merged_.HasMember("ConsumedCapacity")) {
      AddNumbers(merged_["ConsumedCapacity"], it->value, allocator);
    } else {
      merged_.AddMember("ConsumedCapacity", rapidjson::Value(it->value, allocator), allocator);
    }
  }
  merged_.RemoveMember("LastEvaluatedKey");
  if (auto it = page.FindMember("LastEvaluatedKey"); it != page.MemberEnd()) {
    merged_.AddMember("LastEvaluatedKey", rapidjson::Value(it->value, allocator), allocator);
  }
}

std::string ScanPages::Answer() const {
  if (has_items_) return Serialize(merged_);
  rapidjson::Document counted;  // Select COUNT: no Items
  counted.CopyFrom(merged_, counted.GetAllocator());
  counted.RemoveMember("Items");
  return Serialize(counted);
}

}  // namespace tidewater::server
