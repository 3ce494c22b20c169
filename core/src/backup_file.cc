#include "backup_file.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "tidewater/core/durable_file.h"

namespace tidewater::backup_file {
namespace {

constexpr size_t kBufferBytes = 1 << 20;
constexpr size_t kShaBytes = 32;

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

Status Damaged(const std::string& path, const std::string& why) {
  return Status::Internal("The backup is damaged and cannot be restored (" + path + ": " + why +
                          ")");
}

// SHA-256 over a stream of bytes (OpenSSL's EVP digest).
class Sha256 {
 public:
  Sha256() : context_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(context_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(context_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data) { EVP_DigestUpdate(context_, data.data(), data.size()); }
  std::string Final() {
    std::array<unsigned char, kShaBytes> digest{};
    unsigned int size = 0;
    EVP_DigestFinal_ex(context_, digest.data(), &size);
    return std::string(reinterpret_cast<const char*>(digest.data()), size);
  }

 private:
  EVP_MD_CTX* context_;
};

void AppendVarint(uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Reads a varint at `data[*offset]`; false when incomplete or too long.
bool ReadVarint(std::string_view data, size_t* offset, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && *offset < data.size(); shift += 7) {
    const auto byte = static_cast<unsigned char>(data[(*offset)++]);
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

}  // namespace

struct ItemsWriter::Hash {
  Sha256 sha;
};

Result<std::unique_ptr<ItemsWriter>> ItemsWriter::Create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", path);
  return std::unique_ptr<ItemsWriter>(new ItemsWriter(fd, path));
}

ItemsWriter::ItemsWriter(int fd, std::string path)
    : fd_(fd), path_(std::move(path)), hash_(std::make_unique<Hash>()) {}

ItemsWriter::~ItemsWriter() { ::close(fd_); }

Status ItemsWriter::Add(const v1::StoredItem& item) {
  const std::string encoded = item.SerializeAsString();
  AppendVarint(encoded.size(), buffer_);
  buffer_ += encoded;
  ++items_;
  return buffer_.size() >= kBufferBytes ? Flush() : Status::Ok();
}

Status ItemsWriter::Flush() {
  hash_->sha.Update(buffer_);
  bytes_ += buffer_.size();
  Status written = WriteAll(fd_, buffer_, path_);
  buffer_.clear();
  return written;
}

Status ItemsWriter::Finish(v1::BackupMeta& meta) {
  TW_RETURN_IF_ERROR(Flush());
  if (::fsync(fd_) != 0) return Errno("cannot sync", path_);
  meta.set_item_count(items_);
  meta.set_items_bytes(bytes_);
  meta.set_items_sha256(hash_->sha.Final());
  return Status::Ok();
}

Status VerifyItems(const std::string& path, const v1::BackupMeta& meta) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? Damaged(path, "the items file is missing")
                           : Errno("cannot open", path);
  }
  Sha256 sha;
  std::string buffer(kBufferBytes, '\0');
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status error = Errno("cannot read", path);
      ::close(fd);
      return error;
    }
    if (n == 0) break;
    sha.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    total += static_cast<uint64_t>(n);
  }
  ::close(fd);
  if (total != meta.items_bytes()) {
    return Damaged(path, std::to_string(total) + " bytes where " +
                             std::to_string(meta.items_bytes()) + " were written");
  }
  if (sha.Final() != meta.items_sha256()) return Damaged(path, "its SHA-256 does not match");
  return Status::Ok();
}

Result<std::unique_ptr<ItemsReader>> ItemsReader::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  return std::unique_ptr<ItemsReader>(new ItemsReader(fd, path));
}

ItemsReader::ItemsReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

ItemsReader::~ItemsReader() { ::close(fd_); }

Status ItemsReader::Fill(size_t wanted) {
  if (offset_ > 0) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  while (!eof_ && buffer_.size() < wanted) {
    const size_t old = buffer_.size();
    buffer_.resize(old + kBufferBytes);
    const ssize_t n = ::read(fd_, buffer_.data() + old, kBufferBytes);
    if (n < 0 && errno == EINTR) {
      buffer_.resize(old);
      continue;
    }
    if (n < 0) {
      buffer_.resize(old);
      return Errno("cannot read", path_);
    }
    buffer_.resize(old + static_cast<size_t>(n));
    if (n == 0) eof_ = true;
  }
  return Status::Ok();
}

Result<bool> ItemsReader::Next(v1::StoredItem& item) {
  // A length is at most 10 bytes.
  if (buffer_.size() - offset_ < 10) TW_RETURN_IF_ERROR(Fill(10));
  if (offset_ == buffer_.size()) return false;
  size_t at = offset_;
  uint64_t length = 0;
  if (!ReadVarint(buffer_, &at, &length) || length > (64ULL << 20)) {
    return Damaged(path_, "an entry's length is unreadable");
  }
  if (buffer_.size() - at < length) {
    const size_t header = at - offset_;
    TW_RETURN_IF_ERROR(Fill(header + length));
    at = offset_ + header;
    if (buffer_.size() - at < length) return Damaged(path_, "the file ends inside an entry");
  }
  if (!item.ParseFromArray(buffer_.data() + at, static_cast<int>(length))) {
    return Damaged(path_, "an entry does not parse");
  }
  offset_ = at + length;
  return true;
}

Status WriteMeta(const std::string& path, const v1::BackupMeta& meta) {
  std::string contents = meta.SerializeAsString();
  Sha256 sha;
  sha.Update(contents);
  contents += sha.Final();
  return WriteFileAtomically(path, contents);
}

Result<v1::BackupMeta> ReadMeta(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  std::string contents;
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    contents.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  if (contents.size() < kShaBytes) return Damaged(path, "the file is too short");
  const std::string_view body(contents.data(), contents.size() - kShaBytes);
  Sha256 sha;
  sha.Update(body);
  if (sha.Final() != contents.substr(body.size())) {
    return Damaged(path, "its SHA-256 does not match");
  }
  v1::BackupMeta meta;
  if (!meta.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Damaged(path, "it does not parse");
  }
  return meta;
}

}  // namespace tidewater::backup_file
