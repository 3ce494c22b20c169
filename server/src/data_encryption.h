// tidewaterd's side of encryption at rest (docs/OPERATIONS.md, "Encryption at rest"): the
// master keyring of ServerOptions, the data directory checked against it, and the encrypting
// FileSystem the engine is opened with.
#pragma once

#include <memory>

#include "tidewater/core/status.h"
#include "tidewater/security/encryption_at_rest.h"
#include "tidewater/server/server.h"

namespace rocksdb {
class FileSystem;
}  // namespace rocksdb

namespace tidewater::server {

// What the engine is opened with. Without a keyring both members are null.
struct DataEncryption {
  std::shared_ptr<const security::MasterKeyring> keys;
  std::shared_ptr<rocksdb::FileSystem> file_system;  // encrypts with `keys`
};

// Loads the keyring of `options` (encryption_key_file or encryption_key_command; both is a
// Validation error) and checks options.data_dir: an encrypted open refuses a directory with
// unencrypted data and records its current key id in the directory's marker; an open
// without a keyring refuses an encrypted directory. Logs the key ids (never the keys) and how
// many files each key still encrypts, so that an operator sees when a retired key may go.
Result<DataEncryption> OpenDataEncryption(const ServerOptions& options);

}  // namespace tidewater::server
