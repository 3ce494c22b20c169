#include "table_schemas.h"

namespace tidewater::server {

const SecondaryIndex* TableKeys::FindIndex(std::string_view name) const {
  for (const auto* indexes : {&local_indexes, &global_indexes}) {
    for (const SecondaryIndex& index : *indexes) {
      if (index.name == name) return &index;
    }
  }
  return nullptr;
}

Result<KeySchema> TableSchemas::Get(const std::string& table) {
  TW_ASSIGN_OR_RETURN(std::shared_ptr<const TableKeys> keys, GetKeys(table));
  return keys->key_schema;
}

Result<std::shared_ptr<const TableKeys>> TableSchemas::GetKeys(const std::string& table) {
  uint64_t generation;
  {
    std::shared_lock lock(mutex_);
    auto it = schemas_.find(table);
    if (it != schemas_.end()) return it->second;
    generation = generation_;
  }
  TW_ASSIGN_OR_RETURN(TableDescription description, engine_->DescribeTable(table));
  auto keys = std::make_shared<TableKeys>();
  keys->key_schema = description.key_schema;
  for (IndexDescription& index : description.local_indexes) {
    keys->local_indexes.push_back(std::move(index.definition));
  }
  for (IndexDescription& index : description.global_indexes) {
    keys->global_indexes.push_back(std::move(index.definition));
  }
  std::unique_lock lock(mutex_);
  // A table forgotten meanwhile may have been re-created: do not cache what we read.
  if (generation == generation_) schemas_[table] = keys;
  return std::shared_ptr<const TableKeys>(std::move(keys));
}

void TableSchemas::Forget(const std::string& table) {
  std::unique_lock lock(mutex_);
  schemas_.erase(table);
  ++generation_;
}

}  // namespace tidewater::server
