// Key schemas by table name, with the tables' secondary indexes, cached: handlers that
// compile update expressions or key conditions need the schema, and DescribeTable is far
// too costly per request. A table's key schema and indexes never change; the table handlers
// forget a name when they create or delete it (a deleted and re-created table may have another
// schema). Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "tidewater/core/engine.h"

namespace tidewater::server {

// A table's key schema and its secondary indexes.
struct TableKeys {
  KeySchema key_schema;
  std::vector<SecondaryIndex> local_indexes;
  std::vector<SecondaryIndex> global_indexes;
  // The local or global index named `name`, or nullptr.
  const SecondaryIndex* FindIndex(std::string_view name) const;
  bool IsGlobal(const SecondaryIndex* index) const {
    return index >= global_indexes.data() && index < global_indexes.data() + global_indexes.size();
  }
};

class TableSchemas {
 public:
  explicit TableSchemas(Engine* engine) : engine_(engine) {}

  // ResourceNotFoundException when the table does not exist.
  Result<KeySchema> Get(const std::string& table);
  Result<std::shared_ptr<const TableKeys>> GetKeys(const std::string& table);
  void Forget(const std::string& table);

 private:
  Engine* engine_;
  std::shared_mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const TableKeys>> schemas_;
  uint64_t generation_ = 0;  // bumped by every Forget
};

}  // namespace tidewater::server
