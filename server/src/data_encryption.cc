#include "data_encryption.h"

#include <rocksdb/file_system.h>
#include <spdlog/spdlog.h>

#include <string>

namespace tidewater::server {

Result<DataEncryption> OpenDataEncryption(const ServerOptions& options) {
  if (!options.encryption_key_file.empty() && !options.encryption_key_command.empty()) {
    return Status::Validation(
        "give one of --encryption-key-file and --encryption-key-command, not both");
  }
  DataEncryption encryption;
  if (options.encryption_key_file.empty() && options.encryption_key_command.empty()) {
    TW_RETURN_IF_ERROR(security::CheckUnencryptedDataDirectory(options.data_dir));
    return encryption;
  }
  Result<security::MasterKeyring> keys =
      options.encryption_key_file.empty()
          ? security::MasterKeyring::LoadFromCommand(options.encryption_key_command)
          : security::MasterKeyring::LoadFile(options.encryption_key_file);
  if (!keys.ok()) return keys.status();
  encryption.keys = std::make_shared<const security::MasterKeyring>(std::move(*keys));
  TW_RETURN_IF_ERROR(security::PrepareEncryptedDataDirectory(options.data_dir, *encryption.keys));
  encryption.file_system =
      security::NewEncryptedFileSystem(encryption.keys, rocksdb::FileSystem::Default());

  std::string keyring;
  for (const std::string& id : encryption.keys->ids()) keyring += (keyring.empty() ? "" : ",") + id;
  std::string in_use;
  Result<std::map<std::string, uint64_t>> files = security::CountFilesByMasterKey(options.data_dir);
  if (files.ok()) {
    for (const auto& [id, count] : *files) {
      if (id.empty()) continue;  // the unencrypted ones: LOCK, the info LOG, the marker
      in_use += (in_use.empty() ? "" : ",") + id + ":" + std::to_string(count);
    }
  }
  spdlog::info("event=encryption_at_rest current_key={} keyring={} encrypted_files_by_key={}",
               encryption.keys->current().id, keyring, in_use.empty() ? "none" : in_use);
  return encryption;
}

}  // namespace tidewater::server
