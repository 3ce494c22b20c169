// Imports (table_backups.h: BeginImport ... AbandonImport). An import's table is created
// like a restore's, with a RestoreMeta that names the import instead of a backup: refused to
// reads and writes and described CREATING until FinishImport. There is no file to load again
// after a crash (the caller reads the import's objects), so an import unfinished at open is
// dropped with its table (OpenBackups), and the caller reports it FAILED.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine_impl.h"
#include "item_validation.h"
#include "secondary_index.h"
#include "tidewater/core/key_codec.h"

namespace tidewater {
namespace {

Status NotImporting(const std::string& table) {
  return Status::NotFound("Table is not being imported: " + table);
}

}  // namespace

Result<TableDescription> EngineImpl::BeginImport(const CreateTableRequest& table,
                                                 const std::string& import_id) {
  if (import_id.empty()) return Status::Validation("an import needs an id");
  TW_RETURN_IF_ERROR(RefuseInClusterMode("Importing a table"));
  v1::RestoreMeta import;
  import.set_import_id(import_id);
  import.set_in_progress(true);
  import.set_backfill_stream(table.backfill_stream && table.stream.enabled);
  return catalog_->Create(table, &import);
}

Result<ImportBatchResult> EngineImpl::LoadImportedItems(const std::string& table_name,
                                                        std::vector<Item> items) {
  TW_ASSIGN_OR_RETURN(TablePtr table, catalog_->FindIncludingRestoring(table_name));
  const v1::TableMeta meta = table->meta();
  if (!meta.has_restore() || meta.restore().import_id().empty() || !meta.restore().in_progress()) {
    return NotImporting(table_name);
  }
  const KeySchema& schema = table->key_schema();
  ImportBatchResult result;
  // The last item of each key, in the order the keys first appear.
  std::map<std::string, size_t> position_of_key;
  std::vector<Item> accepted;
  accepted.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    Item& item = items[i];
    Status valid = ValidatePutItem(schema, item);
    if (valid.ok()) valid = ValidateIndexKeys(table->local_indexes(), item);
    if (valid.ok()) valid = ValidateIndexKeys(*table->global_indexes(), item);
    if (!valid.ok()) {
      result.rejected.emplace_back(i, std::move(valid));
      continue;
    }
    const AttributeValue* sort_key = schema.sort_key ? &item.at(schema.sort_key->name) : nullptr;
    std::string key = keycodec::EncodeItemKey(item.at(schema.partition_key.name), sort_key);
    auto [at, inserted] = position_of_key.emplace(std::move(key), accepted.size());
    if (inserted) {
      accepted.push_back(std::move(item));
    } else {
      accepted[at->second] = std::move(item);
    }
  }
  result.written = accepted.size();
  if (!accepted.empty()) TW_RETURN_IF_ERROR(WriteLoadedItems(*table, std::move(accepted), nullptr));
  return result;
}

Status EngineImpl::FinishImport(const std::string& table_name) {
  TW_ASSIGN_OR_RETURN(TablePtr table, catalog_->FindIncludingRestoring(table_name));
  const v1::TableMeta meta = table->meta();
  if (!meta.has_restore() || meta.restore().import_id().empty() || !meta.restore().in_progress()) {
    return NotImporting(table_name);
  }
  return catalog_->FinishRestore(*table);
}

Status EngineImpl::AbandonImport(const std::string& table_name) {
  TW_ASSIGN_OR_RETURN(TablePtr table, catalog_->FindIncludingRestoring(table_name));
  const v1::TableMeta meta = table->meta();
  if (!meta.has_restore() || meta.restore().import_id().empty() || !meta.restore().in_progress()) {
    return NotImporting(table_name);
  }
  return catalog_->Delete(table_name, /*failed_restore=*/true).status();
}

}  // namespace tidewater
