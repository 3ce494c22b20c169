// Encryption at rest: the keyring's text format and sources, the encrypting FileSystem
// (round trip, tampering, unknown keys), rotation over a real RocksDB, and the data
// directory's marker.
#include "tidewater/security/encryption_at_rest.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "support/temp_dir.h"

namespace tidewater::security {
namespace {

using testing::TempDir;

constexpr const char* kKeyA = "1111111111111111111111111111111111111111111111111111111111111111";
constexpr const char* kKeyB = "abcdefABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123";
constexpr const char* kMarker = "MARKER-7f3e-plaintext-must-not-appear";

std::shared_ptr<const MasterKeyring> Keyring(const std::string& text) {
  Result<MasterKeyring> parsed = MasterKeyring::Parse(text, "test keyring");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return std::make_shared<const MasterKeyring>(std::move(*parsed));
}

std::string RawContents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteThrough(rocksdb::FileSystem& files, const std::string& path, const std::string& data) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  ASSERT_TRUE(files.NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr).ok());
  ASSERT_TRUE(file->Append(data, rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());
}

// The whole file read through `files`, or the error.
rocksdb::IOStatus ReadThrough(rocksdb::FileSystem& files, const std::string& path,
                              std::string* out) {
  std::unique_ptr<rocksdb::FSSequentialFile> file;
  rocksdb::IOStatus status = files.NewSequentialFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (!status.ok()) return status;
  out->clear();
  std::string buffer(1 << 16, '\0');
  for (;;) {
    rocksdb::Slice read;
    status = file->Read(buffer.size(), rocksdb::IOOptions(), &read, buffer.data(), nullptr);
    if (!status.ok() || read.empty()) return status;
    out->append(read.data(), read.size());
  }
}

TEST(MasterKeyringTest, ParsesKeysCommentsAndATrailingNewline) {
  auto keys = Keyring(std::string("# rotated 2026-12\n\nB ") + kKeyB + "  \r\nA\t" + kKeyA + "\n");
  EXPECT_EQ(keys->current().id, "B");
  EXPECT_EQ(keys->ids(), (std::vector<std::string>{"B", "A"}));
  ASSERT_NE(keys->Find("A"), nullptr);
  EXPECT_EQ(keys->Find("A")->bytes[0], 0x11);
  EXPECT_EQ(keys->Find("B")->bytes[0], 0xab);
  EXPECT_EQ(keys->Find("C"), nullptr);
}

TEST(MasterKeyringTest, RefusesBadInputNamingTheLine) {
  const std::string a = std::string("A ") + kKeyA + "\n";
  struct Case {
    std::string text;
    std::string expected;
  } cases[] = {
      {"", "holds no master key"},
      {"# only a comment\n", "holds no master key"},
      {"A\n", "line 1: no key after the key id"},
      {a + "B 1234\n", "line 2: the key has 4 characters"},
      {std::string("A ") + std::string(63, '0') + "g\n", "not hexadecimal"},
      {a + a, "line 2: key id 'A' appears twice"},
      {std::string("bad/id ") + kKeyA, "a key id is 1-64 characters"},
  };
  for (const Case& c : cases) {
    Result<MasterKeyring> parsed = MasterKeyring::Parse(c.text, "keys.txt");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kValidation);
    EXPECT_NE(parsed.status().message().find(c.expected), std::string::npos)
        << parsed.status().message();
    EXPECT_EQ(parsed.status().message().find(kKeyA), std::string::npos) << "a key in an error";
  }
}

TEST(MasterKeyringTest, KeyFileMustNotBeReadableByOthers) {
  TempDir dir;
  const std::string path = dir.Sub("keys");
  std::ofstream(path) << "A " << kKeyA << "\n";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  Result<MasterKeyring> open = MasterKeyring::LoadFile(path);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("chmod 600"), std::string::npos);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  Result<MasterKeyring> loaded = MasterKeyring::LoadFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->current().id, "A");
}

TEST(MasterKeyringTest, KeyCommandStdoutIsTheKeyring) {
  Result<MasterKeyring> loaded =
      MasterKeyring::LoadFromCommand(std::string("printf 'B ") + kKeyB + "\\nA " + kKeyA + "\\n'");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->ids(), (std::vector<std::string>{"B", "A"}));
  Result<MasterKeyring> failed = MasterKeyring::LoadFromCommand("echo 'A 00'; exit 3");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("exit status 3"), std::string::npos);
}

TEST(EncryptedFileSystemTest, RoundTripLeavesNoPlaintextOnDisk) {
  TempDir dir;
  auto files =
      NewEncryptedFileSystem(Keyring(std::string("A ") + kKeyA), rocksdb::FileSystem::Default());
  std::string data;
  for (int i = 0; i < 1000; ++i) data += std::string(kMarker) + std::to_string(i) + ";";
  const std::string path = dir.Sub("file");
  WriteThrough(*files, path, data);

  const std::string raw = RawContents(path);
  EXPECT_EQ(raw.find(kMarker), std::string::npos);
  EXPECT_EQ(raw.size(), data.size() + 4096);  // the header page
  std::string read;
  ASSERT_TRUE(ReadThrough(*files, path, &read).ok());
  EXPECT_EQ(read, data);
  uint64_t size = 0;
  ASSERT_TRUE(files->GetFileSize(path, rocksdb::IOOptions(), &size, nullptr).ok());
  EXPECT_EQ(size, data.size());

  // Random access at offsets inside AES blocks (CTR positioned by the file offset).
  std::unique_ptr<rocksdb::FSRandomAccessFile> random;
  ASSERT_TRUE(files->NewRandomAccessFile(path, rocksdb::FileOptions(), &random, nullptr).ok());
  for (uint64_t offset : {0ULL, 1ULL, 15ULL, 16ULL, 17ULL, 4095ULL, 12345ULL}) {
    std::string scratch(100, '\0');
    rocksdb::Slice slice;
    ASSERT_TRUE(
        random->Read(offset, 100, rocksdb::IOOptions(), &slice, scratch.data(), nullptr).ok());
    EXPECT_EQ(slice.ToString(), data.substr(offset, 100)) << offset;
  }
  // Two files of the same contents differ entirely (their own data key and IV).
  WriteThrough(*files, dir.Sub("again"), data);
  EXPECT_NE(RawContents(dir.Sub("again")).substr(4096, 64), raw.substr(4096, 64));
  EXPECT_EQ(*MasterKeyIdOfFile(path), "A");
}

TEST(EncryptedFileSystemTest, TamperedWrappedKeyIsRejected) {
  TempDir dir;
  auto files =
      NewEncryptedFileSystem(Keyring(std::string("A ") + kKeyA), rocksdb::FileSystem::Default());
  const std::string path = dir.Sub("file");
  WriteThrough(*files, path, kMarker);
  std::string raw = RawContents(path);
  // Header: magic (8), id length (1), id "A" (1), nonce (12), wrapped key (48), tag (16).
  raw[8 + 1 + 1 + 12 + 5] ^= 0x01;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << raw;
  std::string read;
  const rocksdb::IOStatus status = ReadThrough(*files, path, &read);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("does not authenticate under master key 'A'"), std::string::npos)
      << status.ToString();

  // The same key bytes under another id do not open it either (the id is authenticated).
  WriteThrough(*files, path, kMarker);
  raw = RawContents(path);
  raw[9] = 'B';
  std::ofstream(path, std::ios::binary | std::ios::trunc) << raw;
  auto renamed =
      NewEncryptedFileSystem(Keyring(std::string("B ") + kKeyA), rocksdb::FileSystem::Default());
  EXPECT_FALSE(ReadThrough(*renamed, path, &read).ok());
}

TEST(EncryptedFileSystemTest, UnknownKeyIdAndPlainFilesAreRejected) {
  TempDir dir;
  auto under_a =
      NewEncryptedFileSystem(Keyring(std::string("A ") + kKeyA), rocksdb::FileSystem::Default());
  WriteThrough(*under_a, dir.Sub("file"), kMarker);
  auto only_b =
      NewEncryptedFileSystem(Keyring(std::string("B ") + kKeyB), rocksdb::FileSystem::Default());
  std::string read;
  rocksdb::IOStatus status = ReadThrough(*only_b, dir.Sub("file"), &read);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("master key 'A', which is not in the keyring"),
            std::string::npos)
      << status.ToString();

  WriteThrough(*rocksdb::FileSystem::Default(), dir.Sub("plain"), std::string(5000, 'x'));
  status = ReadThrough(*only_b, dir.Sub("plain"), &read);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("not encrypted by tidewater"), std::string::npos);
}

// RocksDB over the encrypted FileSystem, the keyring rotated from [A] to [B, A].
TEST(EncryptedFileSystemTest, RotationKeepsOldFilesReadableAndWritesNewOnesUnderTheNewKey) {
  TempDir dir;
  const std::string db_dir = dir.Sub("db");
  auto open = [&](std::shared_ptr<rocksdb::FileSystem> files,
                  std::unique_ptr<rocksdb::Env>* env) -> std::unique_ptr<rocksdb::DB> {
    *env = rocksdb::NewCompositeEnv(files);
    rocksdb::Options options;
    options.create_if_missing = true;
    options.env = env->get();
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status status = rocksdb::DB::Open(options, db_dir, &raw);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return std::unique_ptr<rocksdb::DB>(raw);
  };
  {
    std::unique_ptr<rocksdb::Env> env;
    auto db = open(
        NewEncryptedFileSystem(Keyring(std::string("A ") + kKeyA), rocksdb::FileSystem::Default()),
        &env);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "old", kMarker).ok());
    ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());
  }
  auto before = CountFilesByMasterKey(db_dir);
  ASSERT_TRUE(before.ok());
  EXPECT_GT((*before)["A"], 0u);
  EXPECT_EQ(before->count("B"), 0u);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(db_dir)) {
    EXPECT_EQ(RawContents(entry.path().string()).find(kMarker), std::string::npos) << entry.path();
  }

  // Without key A the database does not open.
  {
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(
        NewEncryptedFileSystem(Keyring(std::string("B ") + kKeyB), rocksdb::FileSystem::Default()));
    rocksdb::Options options;
    options.env = env.get();
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status status = rocksdb::DB::Open(options, db_dir, &raw);
    EXPECT_FALSE(status.ok());
    delete raw;
  }

  std::unique_ptr<rocksdb::Env> env;
  auto db = open(NewEncryptedFileSystem(Keyring(std::string("B ") + kKeyB + "\nA " + kKeyA),
                                        rocksdb::FileSystem::Default()),
                 &env);
  std::string value;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), "old", &value).ok());
  EXPECT_EQ(value, kMarker);
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "new", "after rotation").ok());
  ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());
  rocksdb::ColumnFamilyMetaData meta;
  db->GetColumnFamilyMetaData(&meta);
  std::string newest;
  uint64_t newest_number = 0;
  for (const auto& level : meta.levels) {
    for (const auto& file : level.files) {
      if (file.file_number > newest_number) {
        newest_number = file.file_number;
        newest = file.db_path + file.name;
      }
    }
  }
  ASSERT_FALSE(newest.empty());
  EXPECT_EQ(*MasterKeyIdOfFile(newest), "B");
  auto during = CountFilesByMasterKey(db_dir);
  EXPECT_GT((*during)["A"], 0u);  // the old table file, until a compaction rewrites it
  EXPECT_GT((*during)["B"], 0u);

  // A compaction that rewrites the files (a trivial move would keep them as they are).
  rocksdb::CompactRangeOptions rewrite;
  rewrite.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  ASSERT_TRUE(db->CompactRange(rewrite, nullptr, nullptr).ok());
  db->GetColumnFamilyMetaData(&meta);
  for (const auto& level : meta.levels) {
    for (const auto& file : level.files) {
      EXPECT_EQ(*MasterKeyIdOfFile(file.db_path + file.name), "B") << file.name;
    }
  }
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), "old", &value).ok());
  EXPECT_EQ(value, kMarker);
}

TEST(DataDirectoryMarkerTest, EncryptedAndPlainDirectoriesAreNotMixed) {
  TempDir dir;
  const std::string encrypted = dir.Sub("encrypted");
  auto keys = Keyring(std::string("A ") + kKeyA);
  ASSERT_TRUE(PrepareEncryptedDataDirectory(encrypted, *keys).ok());
  const std::string marker = RawContents(encrypted + "/" + kEncryptionMarkerFile);
  EXPECT_NE(marker.find("key-id A"), std::string::npos);
  EXPECT_EQ(marker.find(kKeyA), std::string::npos);
  Status refused = CheckUnencryptedDataDirectory(encrypted);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("is encrypted at rest (master key ids: A)"), std::string::npos)
      << refused.message();
  // A rotation adds the new current key's id.
  ASSERT_TRUE(
      PrepareEncryptedDataDirectory(encrypted, *Keyring(std::string("B ") + kKeyB + "\nA " + kKeyA))
          .ok());
  EXPECT_NE(RawContents(encrypted + "/" + kEncryptionMarkerFile).find("key-id A\nkey-id B\n"),
            std::string::npos);

  const std::string plain = dir.Sub("plain");
  std::filesystem::create_directories(plain);
  EXPECT_TRUE(PrepareEncryptedDataDirectory(plain + "/new", *keys).ok());  // a new directory
  std::ofstream(plain + "/CURRENT") << "MANIFEST-000001\n";
  EXPECT_TRUE(CheckUnencryptedDataDirectory(plain).ok());
  refused = PrepareEncryptedDataDirectory(plain, *keys);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("holds unencrypted data"), std::string::npos);
}

}  // namespace
}  // namespace tidewater::security
