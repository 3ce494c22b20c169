#include "tidewater/security/encryption_at_rest.h"

#include <openssl/evp.h>
#include <rocksdb/env_encryption.h>
#include <rocksdb/file_system.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tidewater/core/durable_file.h"

namespace tidewater::security {
namespace {

namespace fs = std::filesystem;

// The file header ("prefix" in RocksDB's words), one page:
//   magic (8) | key id length (1) | key id | GCM nonce (12) | wrapped data key and CTR IV (48)
//   | GCM tag (16) | zeros
// The magic, length and key id are the GCM's additional authenticated data.
constexpr size_t kPrefixBytes = 4096;
constexpr char kMagic[8] = {'T', 'W', 'E', 'N', 'C', '\x01', '\0', '\0'};
constexpr size_t kMaxKeyIdBytes = 64;
constexpr size_t kNonceBytes = 12;
constexpr size_t kDataKeyBytes = 32;
constexpr size_t kCounterBytes = 16;
constexpr size_t kWrappedBytes = kDataKeyBytes + kCounterBytes;
constexpr size_t kTagBytes = 16;
constexpr size_t kAesBlockBytes = 16;

bool ValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `size` bytes from the kernel's CSPRNG (the source OpenSSL seeds from), not RAND_bytes:
// headers are made on RocksDB's background threads, where RAND_bytes would give each thread
// a DRBG of its own that outlives OpenSSL's clean-up at exit (RocksDB's pool threads end
// after it) and is never freed.
bool FillRandom(unsigned char* out, size_t size) {
  while (size > 0) {
    const ssize_t got = getrandom(out, size, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out += got;
    size -= static_cast<size_t>(got);
  }
  return true;
}

// An OpenSSL cipher context, freed when the object goes away.
class CipherContext {
 public:
  CipherContext() : context_(EVP_CIPHER_CTX_new()) {}
  ~CipherContext() { EVP_CIPHER_CTX_free(context_); }
  CipherContext(const CipherContext&) = delete;
  CipherContext& operator=(const CipherContext&) = delete;
  EVP_CIPHER_CTX* get() const { return context_; }

 private:
  EVP_CIPHER_CTX* context_;
};

// The parsed header of an encrypted file (pointers into the prefix).
struct Header {
  std::string_view key_id;
  std::string_view authenticated;  // magic, length and key id
  const unsigned char* nonce;
  const unsigned char* wrapped;
  const unsigned char* tag;
};

// The header in `prefix`; false when it is not one of this scheme.
bool ParseHeader(std::string_view prefix, Header* header) {
  if (prefix.size() < sizeof kMagic + 1 || std::memcmp(prefix.data(), kMagic, sizeof kMagic) != 0) {
    return false;
  }
  const auto id_bytes = static_cast<unsigned char>(prefix[sizeof kMagic]);
  const size_t id_at = sizeof kMagic + 1;
  if (id_bytes == 0 || id_bytes > kMaxKeyIdBytes ||
      prefix.size() < id_at + id_bytes + kNonceBytes + kWrappedBytes + kTagBytes) {
    return false;
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(prefix.data());
  header->key_id = prefix.substr(id_at, id_bytes);
  header->authenticated = prefix.substr(0, id_at + id_bytes);
  header->nonce = bytes + id_at + id_bytes;
  header->wrapped = header->nonce + kNonceBytes;
  header->tag = header->wrapped + kWrappedBytes;
  return true;
}

// AES-256-CTR over one file's contents, from the file offset the data sits at (after the
// header, which RocksDB's encrypted FileSystem accounts for). Stateless between calls, so
// concurrent reads of one file are safe.
class CtrCipherStream : public rocksdb::BlockAccessCipherStream {
 public:
  CtrCipherStream(const unsigned char* data_key, const unsigned char* counter) {
    std::memcpy(key_.data(), data_key, kDataKeyBytes);
    std::memcpy(counter_.data(), counter, kCounterBytes);
  }
  ~CtrCipherStream() override { OPENSSL_cleanse(key_.data(), key_.size()); }

  size_t BlockSize() override { return kAesBlockBytes; }
  rocksdb::Status Encrypt(uint64_t file_offset, char* data, size_t size) override {
    return Apply(file_offset, data, size);
  }
  rocksdb::Status Decrypt(uint64_t file_offset, char* data, size_t size) override {
    return Apply(file_offset, data, size);  // CTR is its own inverse
  }

 protected:
  // The base class's block-at-a-time path; Encrypt and Decrypt above do not use it.
  void AllocateScratch(std::string& scratch) override { scratch.resize(kAesBlockBytes); }
  rocksdb::Status EncryptBlock(uint64_t block_index, char* data, char*) override {
    return Apply(block_index * kAesBlockBytes, data, kAesBlockBytes);
  }
  rocksdb::Status DecryptBlock(uint64_t block_index, char* data, char*) override {
    return Apply(block_index * kAesBlockBytes, data, kAesBlockBytes);
  }

 private:
  rocksdb::Status Apply(uint64_t file_offset, char* data, size_t size) const {
    // The counter block of `file_offset`: the IV plus the block index, as one 128-bit
    // big-endian number (OpenSSL's CTR increments all 128 bits the same way).
    std::array<unsigned char, kCounterBytes> counter = counter_;
    uint64_t add = file_offset / kAesBlockBytes;
    unsigned carry = 0;
    for (size_t i = kCounterBytes; i-- > 0;) {
      const unsigned sum = counter[i] + static_cast<unsigned>(add & 0xFF) + carry;
      counter[i] = static_cast<unsigned char>(sum);
      carry = sum >> 8;
      add >>= 8;
    }
    CipherContext context;
    int written = 0;
    if (context.get() == nullptr || EVP_EncryptInit_ex(context.get(), EVP_aes_256_ctr(), nullptr,
                                                       key_.data(), counter.data()) != 1) {
      return rocksdb::Status::IOError("AES-256-CTR: cannot initialise the cipher");
    }
    // Skip the key stream bytes before `file_offset` within its block.
    const size_t skip = file_offset % kAesBlockBytes;
    if (skip > 0) {
      unsigned char discard[kAesBlockBytes] = {};
      if (EVP_EncryptUpdate(context.get(), discard, &written, discard, static_cast<int>(skip)) !=
          1) {
        return rocksdb::Status::IOError("AES-256-CTR: cannot position the key stream");
      }
    }
    auto* bytes = reinterpret_cast<unsigned char*>(data);
    constexpr size_t kChunk = 1 << 30;  // EVP lengths are ints
    for (size_t done = 0; done < size; done += std::min(kChunk, size - done)) {
      const int chunk = static_cast<int>(std::min(kChunk, size - done));
      if (EVP_EncryptUpdate(context.get(), bytes + done, &written, bytes + done, chunk) != 1) {
        return rocksdb::Status::IOError("AES-256-CTR: encryption failed");
      }
    }
    return rocksdb::Status::OK();
  }

  std::array<unsigned char, kDataKeyBytes> key_{};
  std::array<unsigned char, kCounterBytes> counter_{};
};

// Keys come from the keyring only: AddCipher (RocksDB's way to add keys) is refused.
class KeyringEncryptionProvider : public rocksdb::EncryptionProvider {
 public:
  explicit KeyringEncryptionProvider(std::shared_ptr<const MasterKeyring> keyring)
      : keyring_(std::move(keyring)) {}

  const char* Name() const override { return "TidewaterKeyringEncryption"; }
  size_t GetPrefixLength() const override { return kPrefixBytes; }

  rocksdb::Status CreateNewPrefix(const std::string& file_name, char* prefix,
                                  size_t prefix_length) const override {
    if (prefix_length != kPrefixBytes) {
      return rocksdb::Status::InvalidArgument("encryption header of " + file_name +
                                              ": unexpected length");
    }
    const MasterKey& master = keyring_->current();
    std::memset(prefix, 0, prefix_length);
    std::memcpy(prefix, kMagic, sizeof kMagic);
    prefix[sizeof kMagic] = static_cast<char>(master.id.size());
    std::memcpy(prefix + sizeof kMagic + 1, master.id.data(), master.id.size());
    const size_t authenticated = sizeof kMagic + 1 + master.id.size();
    auto* nonce = reinterpret_cast<unsigned char*>(prefix + authenticated);
    auto* wrapped = nonce + kNonceBytes;
    auto* tag = wrapped + kWrappedBytes;
    std::array<unsigned char, kWrappedBytes> secret{};  // the data key, then the CTR IV
    if (!FillRandom(nonce, kNonceBytes) || !FillRandom(secret.data(), kWrappedBytes)) {
      return rocksdb::Status::IOError("encryption header of " + file_name +
                                      ": no random bytes from the kernel (getrandom)");
    }
    CipherContext context;
    int written = 0;
    const bool sealed =
        context.get() != nullptr &&
        EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
        EVP_EncryptInit_ex(context.get(), nullptr, nullptr, master.bytes.data(), nonce) == 1 &&
        EVP_EncryptUpdate(context.get(), nullptr, &written,
                          reinterpret_cast<const unsigned char*>(prefix),
                          static_cast<int>(authenticated)) == 1 &&
        EVP_EncryptUpdate(context.get(), wrapped, &written, secret.data(), kWrappedBytes) == 1 &&
        EVP_EncryptFinal_ex(context.get(), wrapped + written, &written) == 1 &&
        EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
    OPENSSL_cleanse(secret.data(), secret.size());
    if (!sealed) {
      return rocksdb::Status::IOError("encryption header of " + file_name +
                                      ": AES-256-GCM key wrap failed");
    }
    return rocksdb::Status::OK();
  }

  rocksdb::Status AddCipher(const std::string&, const char*, size_t, bool) override {
    return rocksdb::Status::NotSupported("tidewater takes its master keys from the keyring");
  }

  rocksdb::Status CreateCipherStream(
      const std::string& file_name, const rocksdb::EnvOptions&, rocksdb::Slice& prefix,
      std::unique_ptr<rocksdb::BlockAccessCipherStream>* result) override {
    Header header{};
    if (!ParseHeader(std::string_view(prefix.data(), prefix.size()), &header)) {
      return rocksdb::Status::Corruption(
          file_name +
          " is not encrypted by tidewater (no encryption header): was it written "
          "without encryption at rest, or damaged?");
    }
    const MasterKey* master = keyring_->Find(header.key_id);
    if (master == nullptr) {
      return rocksdb::Status::Corruption(file_name + " is encrypted under master key '" +
                                         std::string(header.key_id) +
                                         "', which is not in the keyring");
    }
    std::array<unsigned char, kWrappedBytes> secret{};
    std::array<unsigned char, kTagBytes> tag{};
    std::memcpy(tag.data(), header.tag, kTagBytes);
    CipherContext context;
    int written = 0;
    const bool opened =
        context.get() != nullptr &&
        EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
        EVP_DecryptInit_ex(context.get(), nullptr, nullptr, master->bytes.data(), header.nonce) ==
            1 &&
        EVP_DecryptUpdate(context.get(), nullptr, &written,
                          reinterpret_cast<const unsigned char*>(header.authenticated.data()),
                          static_cast<int>(header.authenticated.size())) == 1 &&
        EVP_DecryptUpdate(context.get(), secret.data(), &written, header.wrapped, kWrappedBytes) ==
            1 &&
        EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
        EVP_DecryptFinal_ex(context.get(), secret.data() + written, &written) == 1;
    if (!opened) {
      OPENSSL_cleanse(secret.data(), secret.size());
      return rocksdb::Status::Corruption(
          file_name + ": the wrapped data key does not authenticate under master key '" +
          master->id + "' (a different key with the same id, or a damaged header)");
    }
    *result = std::make_unique<CtrCipherStream>(secret.data(), secret.data() + kDataKeyBytes);
    OPENSSL_cleanse(secret.data(), secret.size());
    return rocksdb::Status::OK();
  }

 private:
  std::shared_ptr<const MasterKeyring> keyring_;
};

std::string MarkerPath(const std::string& data_dir) {
  return (fs::path(data_dir) / kEncryptionMarkerFile).string();
}

// The key ids a marker lists ("key-id <id>" lines).
std::vector<std::string> MarkerKeyIds(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("key-id ", 0) == 0) ids.push_back(line.substr(7));
  }
  return ids;
}

std::string Joined(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

}  // namespace

Result<MasterKeyring> MasterKeyring::Parse(std::string_view text, std::string_view source) {
  std::vector<MasterKey> keys;
  std::set<std::string, std::less<>> seen;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto bad = [&](const std::string& why) {
      return Status::Validation(std::string(source) + " line " + std::to_string(line_number) +
                                ": " + why + " (expected '<key id> <64 hex digits>')");
    };
    const size_t gap = line.find_first_of(" \t");
    if (gap == std::string_view::npos) return bad("no key after the key id");
    const std::string_view id = line.substr(0, gap);
    std::string_view hex = line.substr(gap);
    while (!hex.empty() && is_space(hex.front())) hex.remove_prefix(1);
    if (!ValidKeyId(id)) return bad("a key id is 1-64 characters of A-Z a-z 0-9 . _ -");
    if (hex.size() != 64) {
      return bad("the key has " + std::to_string(hex.size()) + " characters, not 64 hex digits");
    }
    MasterKey key;
    key.id = std::string(id);
    for (size_t i = 0; i < key.bytes.size(); ++i) {
      const int high = HexDigit(hex[2 * i]);
      const int low = HexDigit(hex[2 * i + 1]);
      if (high < 0 || low < 0) return bad("the key is not hexadecimal");
      key.bytes[i] = static_cast<unsigned char>(high * 16 + low);
    }
    if (!seen.insert(key.id).second) return bad("key id '" + key.id + "' appears twice");
    keys.push_back(std::move(key));
  }
  if (keys.empty()) return Status::Validation(std::string(source) + " holds no master key");
  return MasterKeyring(std::move(keys));
}

Result<MasterKeyring> MasterKeyring::LoadFile(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return Status::IOError("encryption key file " + path + ": " + std::strerror(errno));
  }
  if ((info.st_mode & 077) != 0) {
    return Status::IOError("encryption key file " + path +
                           " may be accessed by group or others: chmod 600 it (or 400)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read encryption key file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  std::string contents = text.str();
  Result<MasterKeyring> keyring = Parse(contents, "encryption key file " + path);
  OPENSSL_cleanse(contents.data(), contents.size());
  return keyring;
}

Result<MasterKeyring> MasterKeyring::LoadFromCommand(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return Status::IOError("cannot run encryption key command: " +
                           std::string(std::strerror(errno)));
  }
  std::string contents;
  char chunk[4096];
  size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) contents.append(chunk, n);
  OPENSSL_cleanse(chunk, sizeof chunk);
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    OPENSSL_cleanse(contents.data(), contents.size());
    return Status::IOError("encryption key command failed (exit status " +
                           std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  Result<MasterKeyring> keyring = Parse(contents, "the encryption key command's output");
  OPENSSL_cleanse(contents.data(), contents.size());
  return keyring;
}

const MasterKey* MasterKeyring::Find(std::string_view id) const {
  for (const MasterKey& key : keys_) {
    if (key.id == id) return &key;
  }
  return nullptr;
}

std::vector<std::string> MasterKeyring::ids() const {
  std::vector<std::string> ids;
  for (const MasterKey& key : keys_) ids.push_back(key.id);
  return ids;
}

std::shared_ptr<rocksdb::EncryptionProvider> NewKeyringEncryptionProvider(
    std::shared_ptr<const MasterKeyring> keyring) {
  return std::make_shared<KeyringEncryptionProvider>(std::move(keyring));
}

std::shared_ptr<rocksdb::FileSystem> NewEncryptedFileSystem(
    std::shared_ptr<const MasterKeyring> keyring, std::shared_ptr<rocksdb::FileSystem> base) {
  return rocksdb::NewEncryptedFS(base, NewKeyringEncryptionProvider(std::move(keyring)));
}

Status PrepareEncryptedDataDirectory(const std::string& data_dir, const MasterKeyring& keyring) {
  const std::string marker = MarkerPath(data_dir);
  std::error_code error;
  const bool marked = fs::exists(marker, error);
  if (!marked && fs::exists(fs::path(data_dir) / "CURRENT", error)) {
    return Status::IOError("data directory " + data_dir + " holds unencrypted data (it has no " +
                           kEncryptionMarkerFile +
                           " file): tidewaterd does not mix encrypted and unencrypted files. "
                           "Start it without an encryption key, or move the tables to a new "
                           "data directory (export, then import)");
  }
  std::vector<std::string> ids = marked ? MarkerKeyIds(marker) : std::vector<std::string>();
  if (marked && std::find(ids.begin(), ids.end(), keyring.current().id) != ids.end()) {
    return Status::Ok();
  }
  ids.push_back(keyring.current().id);
  fs::create_directories(data_dir, error);
  if (error) return Status::IOError("cannot create " + data_dir + ": " + error.message());
  std::string contents =
      "# This data directory is encrypted at rest (docs/OPERATIONS.md, \"Encryption at "
      "rest\").\n# Master keys that have encrypted files here (ids only):\n";
  for (const std::string& id : ids) contents += "key-id " + id + "\n";
  return WriteFileAtomically(marker, contents);
}

Status CheckUnencryptedDataDirectory(const std::string& data_dir) {
  const std::string marker = MarkerPath(data_dir);
  std::error_code error;
  if (!fs::exists(marker, error)) return Status::Ok();
  return Status::IOError("data directory " + data_dir +
                         " is encrypted at rest (master key ids: " + Joined(MarkerKeyIds(marker)) +
                         "): start tidewaterd with --encryption-key-file or "
                         "--encryption-key-command");
}

Result<std::string> MasterKeyIdOfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  std::string prefix(sizeof kMagic + 1 + kMaxKeyIdBytes + kNonceBytes + kWrappedBytes + kTagBytes,
                     '\0');
  in.read(prefix.data(), static_cast<std::streamsize>(prefix.size()));
  prefix.resize(static_cast<size_t>(in.gcount()));
  Header header{};
  if (!ParseHeader(prefix, &header)) return std::string();
  return std::string(header.key_id);
}

Result<std::map<std::string, uint64_t>> CountFilesByMasterKey(const std::string& dir) {
  std::map<std::string, uint64_t> counts;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(dir, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (!it->is_regular_file(error)) continue;
    // A file deleted meanwhile (a compaction's input) is simply not counted.
    Result<std::string> id = MasterKeyIdOfFile(it->path().string());
    if (id.ok()) ++counts[*id];
  }
  if (error) return Status::IOError("cannot list " + dir + ": " + error.message());
  return counts;
}

}  // namespace tidewater::security
