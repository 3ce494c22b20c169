// Encryption at rest (docs/OPERATIONS.md, "Encryption at rest"): the master keyring, the
// RocksDB FileSystem that encrypts every file it writes, and the data directory's record of
// being encrypted.
//
// Scheme. Every file gets its own random 256-bit data key and 128-bit counter IV. Both are
// wrapped with AES-256-GCM under the current master key (random 96-bit nonce; the master key
// id and the format magic as additional authenticated data) and stored in the file's first
// 4096 bytes, with the master key id in the clear. The file's contents are encrypted with
// AES-256-CTR under the data key: RocksDB reads and writes files at arbitrary offsets, which
// CTR allows (any block decrypts alone) and an authenticated whole-file mode does not. A data
// key is never reused across files, so a counter is never reused under one key. CTR alone
// does not detect tampering with the data; RocksDB's block, WAL record and manifest checksums
// (CRC32C/XXH3) do detect damage, but are not keyed: an attacker with write access to the disk
// can corrupt data without it being reported as tampering (confidentiality is the goal here).
// The wrap itself is authenticated: a changed wrapped key, key id or IV fails to open.
//
// Rotation. New files are written under the keyring's current (first) master key; a file
// written under an older key stays readable while that key is in the keyring. RocksDB's
// compactions rewrite files gradually, so old keys drop out of use over time;
// CountFilesByMasterKey shows which keys files still need.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/status.h"

namespace rocksdb {
class EncryptionProvider;
class FileSystem;
}  // namespace rocksdb

namespace tidewater::security {

// One master key: an id (1-64 of [A-Za-z0-9._-]) and 32 key bytes.
struct MasterKey {
  std::string id;
  std::array<unsigned char, 32> bytes{};
};

// The master keys tidewaterd knows. Text format (a key file, or a key command's stdout):
//   # comments and blank lines are ignored
//   <key id> <64 hex digits>
// one key per line; the first key is the current one (new files are encrypted with it);
// the others are kept to read files written under them. Ids are unique.
// Immutable after construction; safe to share between threads.
class MasterKeyring {
 public:
  // Parses the text format; `source` names where the text came from, for error messages.
  // A Validation status naming the source and the line on bad input.
  static Result<MasterKeyring> Parse(std::string_view text, std::string_view source);
  // Reads a key file. Refused (IOError) when group or others may access it: a
  // master key readable by other users of the machine defeats encryption at rest, and a
  // refusal at start is noticed where a warning in a log would not be.
  static Result<MasterKeyring> LoadFile(const std::string& path);
  // Runs `command` with /bin/sh -c and parses its stdout (a KMS stand-in: the command may
  // fetch the keys from a secret store). A non-zero exit status is an error.
  static Result<MasterKeyring> LoadFromCommand(const std::string& command);

  const MasterKey& current() const { return keys_.front(); }
  // The key with this id; null when the keyring does not have it.
  const MasterKey* Find(std::string_view id) const;
  // Every key id, the current one first.
  std::vector<std::string> ids() const;

 private:
  explicit MasterKeyring(std::vector<MasterKey> keys) : keys_(std::move(keys)) {}
  std::vector<MasterKey> keys_;  // never empty
};

// The RocksDB EncryptionProvider of the scheme above, over `keyring`. Thread-safe.
std::shared_ptr<rocksdb::EncryptionProvider> NewKeyringEncryptionProvider(
    std::shared_ptr<const MasterKeyring> keyring);

// A FileSystem over `base` that encrypts every file written through it and decrypts every
// file read (rocksdb::NewEncryptedFS with the provider above). Reading a file that was not
// written through it, or under a master key not in the keyring, fails with Corruption naming
// the file and the reason. Thread-safe.
std::shared_ptr<rocksdb::FileSystem> NewEncryptedFileSystem(
    std::shared_ptr<const MasterKeyring> keyring, std::shared_ptr<rocksdb::FileSystem> base);

// The data directory's record of being encrypted: `<data_dir>/ENCRYPTION`, a text file with
// the ids (never the keys) of the master keys that have encrypted files there.
inline constexpr const char* kEncryptionMarkerFile = "ENCRYPTION";

// Before an encrypted open of `data_dir`: refuses (IOError) a directory that holds
// unencrypted data (a RocksDB CURRENT file but no marker), creates the directory and the
// marker for a new one, and adds the current key id to an existing marker.
Status PrepareEncryptedDataDirectory(const std::string& data_dir, const MasterKeyring& keyring);
// Before an open without a master key: refuses (IOError) an encrypted directory.
Status CheckUnencryptedDataDirectory(const std::string& data_dir);

// The master key id of the file at `path`; empty when the file is not encrypted by this
// scheme (or shorter than its header).
Result<std::string> MasterKeyIdOfFile(const std::string& path);
// Every regular file under `dir` (recursively), counted by the master key id it is encrypted
// under; unencrypted files (LOCK, the info LOG, the marker, ...) count under "".
Result<std::map<std::string, uint64_t>> CountFilesByMasterKey(const std::string& dir);

}  // namespace tidewater::security
