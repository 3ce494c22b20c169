#include "server_secret.h"

#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tidewater/core/durable_file.h"

namespace tidewater::server {
namespace {

constexpr size_t kSecretBytes = 32;

Status WriteNewSecret(const std::filesystem::path& path) {
  unsigned char secret[kSecretBytes];
  if (RAND_bytes(secret, sizeof(secret)) != 1)
    return Status::Internal("no randomness for the server secret");
  return WriteFileAtomically(
      path.string(), std::string_view(reinterpret_cast<const char*>(secret), sizeof(secret)), 0600);
}

}  // namespace

Result<std::string> LoadOrCreateServerSecret(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::IOError("cannot create " + data_dir + ": " + ec.message());
  std::filesystem::path path = std::filesystem::path(data_dir) / "tidewaterd.secret";
  if (!std::filesystem::exists(path)) TW_RETURN_IF_ERROR(WriteNewSecret(path));
  std::ifstream in(path, std::ios::binary);
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (secret.size() != kSecretBytes) {
    return Status::IOError(path.string() + " is damaged (expected " + std::to_string(kSecretBytes) +
                           " bytes); delete it to issue a new one");
  }
  return secret;
}

}  // namespace tidewater::server
