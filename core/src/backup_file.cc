#include "backup_file.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <rocksdb/file_system.h>
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

Status Failed(const rocksdb::IOStatus& status, const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + status.ToString());
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

Result<std::unique_ptr<ItemsWriter>> ItemsWriter::Create(rocksdb::FileSystem& files,
                                                         const std::string& path) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  const rocksdb::IOStatus created =
      files.NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (!created.ok()) return Failed(created, "cannot create", path);
  return std::unique_ptr<ItemsWriter>(new ItemsWriter(std::move(file), path));
}

ItemsWriter::ItemsWriter(std::unique_ptr<rocksdb::FSWritableFile> file, std::string path)
    : file_(std::move(file)), path_(std::move(path)), hash_(std::make_unique<Hash>()) {}

ItemsWriter::~ItemsWriter() = default;

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
  const rocksdb::IOStatus written =
      file_->Append(rocksdb::Slice(buffer_), rocksdb::IOOptions(), nullptr);
  buffer_.clear();
  return written.ok() ? Status::Ok() : Failed(written, "cannot write", path_);
}

Status ItemsWriter::Finish(v1::BackupMeta& meta) {
  TW_RETURN_IF_ERROR(Flush());
  const rocksdb::IOStatus synced = file_->Fsync(rocksdb::IOOptions(), nullptr);
  if (!synced.ok()) return Failed(synced, "cannot sync", path_);
  const rocksdb::IOStatus closed = file_->Close(rocksdb::IOOptions(), nullptr);
  if (!closed.ok()) return Failed(closed, "cannot close", path_);
  meta.set_item_count(items_);
  meta.set_items_bytes(bytes_);
  meta.set_items_sha256(hash_->sha.Final());
  return Status::Ok();
}

Status VerifyItems(rocksdb::FileSystem& files, const std::string& path,
                   const v1::BackupMeta& meta) {
  if (!files.FileExists(path, rocksdb::IOOptions(), nullptr).ok()) {
    return Damaged(path, "the items file is missing");
  }
  std::unique_ptr<rocksdb::FSSequentialFile> file;
  const rocksdb::IOStatus opened =
      files.NewSequentialFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (!opened.ok()) return Failed(opened, "cannot open", path);
  Sha256 sha;
  std::string buffer(kBufferBytes, '\0');
  uint64_t total = 0;
  for (;;) {
    rocksdb::Slice read;
    const rocksdb::IOStatus status =
        file->Read(buffer.size(), rocksdb::IOOptions(), &read, buffer.data(), nullptr);
    if (!status.ok()) return Failed(status, "cannot read", path);
    if (read.empty()) break;
    sha.Update(std::string_view(read.data(), read.size()));
    total += read.size();
  }
  if (total != meta.items_bytes()) {
    return Damaged(path, std::to_string(total) + " bytes where " +
                             std::to_string(meta.items_bytes()) + " were written");
  }
  if (sha.Final() != meta.items_sha256()) return Damaged(path, "its SHA-256 does not match");
  return Status::Ok();
}

Result<std::unique_ptr<ItemsReader>> ItemsReader::Open(rocksdb::FileSystem& files,
                                                       const std::string& path) {
  std::unique_ptr<rocksdb::FSSequentialFile> file;
  const rocksdb::IOStatus opened =
      files.NewSequentialFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (!opened.ok()) return Failed(opened, "cannot open", path);
  return std::unique_ptr<ItemsReader>(new ItemsReader(std::move(file), path));
}

ItemsReader::ItemsReader(std::unique_ptr<rocksdb::FSSequentialFile> file, std::string path)
    : file_(std::move(file)), path_(std::move(path)) {}

ItemsReader::~ItemsReader() = default;

Status ItemsReader::Fill(size_t wanted) {
  if (offset_ > 0) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  while (!eof_ && buffer_.size() < wanted) {
    const size_t old = buffer_.size();
    buffer_.resize(old + kBufferBytes);
    rocksdb::Slice read;
    const rocksdb::IOStatus status =
        file_->Read(kBufferBytes, rocksdb::IOOptions(), &read, buffer_.data() + old, nullptr);
    if (!status.ok()) {
      buffer_.resize(old);
      return Failed(status, "cannot read", path_);
    }
    // Read may answer from a buffer of its own rather than the scratch given.
    if (read.data() != buffer_.data() + old)
      std::memmove(buffer_.data() + old, read.data(), read.size());
    buffer_.resize(old + read.size());
    if (read.empty()) eof_ = true;
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
