// The credentials tidewaterd accepts: generation, the YAML file an operator writes, and the
// store (in memory or mirrored to a 0600 file, rewritten atomically on every change).
#include "tidewater/security/credential_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"

namespace tidewater::security {
namespace {

using testing::TempDir;

// 2026-12-31T00:00:00Z in microseconds.
constexpr int64_t kEndOf2026Micros = 1'798'675'200'000'000;

Credential Alice() {
  return {"TWALICE0000000000001", "alice/secret+KEY0000000000000000000000001", "", 0, "alice"};
}

Credential BobTemporary() {
  return {"TWBOB000000000000002", "bob-secret-00000000000000000000000000002", "bob-session-token-1",
          kEndOf2026Micros + 123'456, "bob"};
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool SameCredential(const Credential& a, const Credential& b) {
  return a.access_key_id == b.access_key_id && a.secret_access_key == b.secret_access_key &&
         a.session_token == b.session_token && a.expires_at_micros == b.expires_at_micros &&
         a.principal == b.principal;
}

std::unique_ptr<CredentialStore> OpenStore(const std::string& path) {
  auto store = CredentialStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(GenerateCredentialTest, HasAwsShapedRandomMembers) {
  const Credential long_term = GenerateCredential("alice", false, 0);
  EXPECT_TRUE(std::regex_match(long_term.access_key_id, std::regex("TW[A-Z2-7]{18}")))
      << long_term.access_key_id;
  EXPECT_TRUE(std::regex_match(long_term.secret_access_key, std::regex("[A-Za-z0-9+/]{40}")));
  EXPECT_EQ(long_term.session_token, "");
  EXPECT_EQ(long_term.expires_at_micros, 0);
  EXPECT_EQ(long_term.principal, "alice");

  const Credential temporary = GenerateCredential("bob", true, kEndOf2026Micros);
  EXPECT_TRUE(std::regex_match(temporary.session_token, std::regex("[A-Za-z0-9+/]{64}")));
  EXPECT_EQ(temporary.expires_at_micros, kEndOf2026Micros);

  std::set<std::string> key_ids, secrets;
  for (int i = 0; i < 200; ++i) {
    const Credential credential = GenerateCredential("p", false, 0);
    key_ids.insert(credential.access_key_id);
    secrets.insert(credential.secret_access_key);
  }
  EXPECT_EQ(key_ids.size(), 200u);
  EXPECT_EQ(secrets.size(), 200u);
}

TEST(CredentialStoreTest, InMemoryAddFindListRemove) {
  auto store = OpenStore("");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Find(Alice().access_key_id), std::nullopt);
  ASSERT_TRUE(store->Add(BobTemporary()).ok());
  ASSERT_TRUE(store->Add(Alice()).ok());

  const std::optional<Credential> found = store->Find(Alice().access_key_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(SameCredential(*found, Alice()));
  const std::vector<Credential> listed = store->List();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(SameCredential(listed[0], Alice()));  // sorted by access key id
  EXPECT_TRUE(SameCredential(listed[1], BobTemporary()));

  ASSERT_TRUE(store->Remove(Alice().access_key_id).ok());
  EXPECT_EQ(store->Find(Alice().access_key_id), std::nullopt);
  EXPECT_EQ(store->List().size(), 1u);
}

TEST(CredentialStoreTest, DuplicateAddIsInUseAndUnknownRemoveIsNotFound) {
  auto store = OpenStore("");
  ASSERT_TRUE(store->Add(Alice()).ok());
  Credential same_id = BobTemporary();
  same_id.access_key_id = Alice().access_key_id;
  const Status duplicate = store->Add(same_id);
  EXPECT_EQ(duplicate.code(), ErrorCode::kResourceInUse);
  EXPECT_NE(duplicate.message().find(Alice().access_key_id), std::string::npos);
  EXPECT_EQ(duplicate.message().find(same_id.secret_access_key), std::string::npos);
  EXPECT_TRUE(SameCredential(*store->Find(Alice().access_key_id), Alice()));  // unchanged

  const Status unknown = store->Remove("TWNOSUCHKEY000000000");
  EXPECT_EQ(unknown.code(), ErrorCode::kResourceNotFound);
  EXPECT_NE(unknown.message().find("TWNOSUCHKEY000000000"), std::string::npos);
}

TEST(CredentialStoreTest, AddRefusesEmptyOrUnusableMembersWithoutQuotingSecrets) {
  auto store = OpenStore("");
  const auto refused = [&](Credential credential, const std::string& member) {
    const Status status = store->Add(credential);
    EXPECT_EQ(status.code(), ErrorCode::kValidation) << member;
    EXPECT_NE(status.message().find(member), std::string::npos) << status.message();
    if (!credential.secret_access_key.empty()) {
      EXPECT_EQ(status.message().find(credential.secret_access_key), std::string::npos);
    }
  };
  Credential credential = Alice();
  credential.access_key_id = "";
  refused(credential, "access_key_id");
  credential = Alice();
  credential.access_key_id = "KEY/WITH/SLASHES";
  refused(credential, "access_key_id");
  credential = Alice();
  credential.secret_access_key = "";
  refused(credential, "secret_access_key");
  credential = Alice();
  credential.secret_access_key = "secret with spaces";
  refused(credential, "secret_access_key");
  credential = Alice();
  credential.principal = "";
  refused(credential, "principal");
  credential = Alice();
  credential.session_token = "token\nwith a newline";
  refused(credential, "session_token");
  credential = Alice();
  credential.expires_at_micros = -1;
  refused(credential, "expiry");
  EXPECT_TRUE(store->List().empty());
}

TEST(CredentialStoreTest, ChangesPersistAcrossReopen) {
  TempDir dir;
  const std::string path = dir.Sub("credentials.yaml");
  {
    auto store = OpenStore(path);
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(std::filesystem::exists(path));  // nothing written before a change
    ASSERT_TRUE(store->Add(Alice()).ok());
    ASSERT_TRUE(store->Add(BobTemporary()).ok());
    Credential carol = GenerateCredential("carol", true, kEndOf2026Micros);
    ASSERT_TRUE(store->Add(carol).ok());
    ASSERT_TRUE(store->Remove(carol.access_key_id).ok());
  }
  auto reopened = OpenStore(path);
  ASSERT_NE(reopened, nullptr);
  const std::vector<Credential> listed = reopened->List();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(SameCredential(listed[0], Alice()));
  EXPECT_TRUE(SameCredential(listed[1], BobTemporary()));  // the fraction of a second kept

  // The file is the documented format, readable by ReadCredentialsFile.
  auto read = ReadCredentialsFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size(), 2u);
  EXPECT_NE(ReadFile(path).find("expires: 2026-12-31T00:00:00.123456Z"), std::string::npos)
      << ReadFile(path);
}

TEST(CredentialStoreTest, FileIsPrivateAndReplacedWholeOnEveryChange) {
  TempDir dir;
  const std::string path = dir.Sub("credentials.yaml");
  // An operator's file, readable by all: the store's first write replaces it with a 0600 one.
  WriteFile(path,
            "credentials:\n"
            "  - access_key_id: TWALICE0000000000001\n"
            "    secret_access_key: alice/secret+KEY0000000000000000000000001\n"
            "    principal: alice\n");
  ::chmod(path.c_str(), 0644);
  auto store = OpenStore(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Find("TWALICE0000000000001").has_value());
  ASSERT_TRUE(store->Add(BobTemporary()).ok());

  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  // A change whose write fails (the temporary file cannot be created) changes nothing: not
  // the file, not what the store answers.
  const std::string before = ReadFile(path);
  std::filesystem::create_directory(path + ".tmp");
  Credential carol = GenerateCredential("carol", false, 0);
  const Status failed = store->Add(carol);
  EXPECT_EQ(failed.code(), ErrorCode::kIOError);
  EXPECT_EQ(failed.message().find(carol.secret_access_key), std::string::npos);
  EXPECT_FALSE(store->Find(carol.access_key_id).has_value());
  EXPECT_EQ(store->Remove("TWALICE0000000000001").code(), ErrorCode::kIOError);
  EXPECT_TRUE(store->Find("TWALICE0000000000001").has_value());
  EXPECT_EQ(ReadFile(path), before);

  std::filesystem::remove(path + ".tmp");
  ASSERT_TRUE(store->Add(carol).ok());
  EXPECT_EQ(OpenStore(path)->List().size(), 3u);
}

TEST(CredentialStoreTest, OpenFailsOnAMissingDirectoryOrABadFile) {
  TempDir dir;
  auto no_directory = CredentialStore::Open(dir.Sub("missing/credentials.yaml"));
  EXPECT_EQ(no_directory.status().code(), ErrorCode::kIOError);

  const std::string path = dir.Sub("credentials.yaml");
  WriteFile(path, "credentials:\n  - access_key_id: TWX\n    principal: x\n");
  auto bad = CredentialStore::Open(path);
  EXPECT_EQ(bad.status().code(), ErrorCode::kValidation);
}

TEST(ReadCredentialsFileTest, ReadsEveryMember) {
  TempDir dir;
  const std::string path = dir.Sub("credentials.yaml");
  WriteFile(path,
            "# issued by hand\n"
            "credentials:\n"
            "  - access_key_id: TWEXAMPLEKEY00000001\n"
            "    secret_access_key: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
            "    principal: alice\n"
            "  - access_key_id: TWEXAMPLEKEY00000002\n"
            "    secret_access_key: \"12345\"\n"
            "    principal: bob\n"
            "    session_token: FwoGZXIvYXdzEBYaDH\n"
            "    expires: 2026-12-31T00:00:00Z\n");
  auto read = ReadCredentialsFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_TRUE(SameCredential(
      (*read)[0],
      {"TWEXAMPLEKEY00000001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0, "alice"}));
  EXPECT_TRUE(SameCredential((*read)[1], {"TWEXAMPLEKEY00000002", "12345", "FwoGZXIvYXdzEBYaDH",
                                          kEndOf2026Micros, "bob"}));

  WriteFile(path, "");
  EXPECT_TRUE(ReadCredentialsFile(path)->empty());
  WriteFile(path, "credentials: []\n");
  EXPECT_TRUE(ReadCredentialsFile(path)->empty());
}

TEST(ReadCredentialsFileTest, ErrorsNameTheEntryButNeverTheSecret) {
  TempDir dir;
  const std::string path = dir.Sub("credentials.yaml");
  constexpr char kSecret[] = "TopSecretValue0000000000000000000000000X";
  const auto error_for = [&](const std::string& text) {
    WriteFile(path, text);
    auto read = ReadCredentialsFile(path);
    EXPECT_FALSE(read.ok()) << text;
    if (read.ok()) return std::string();
    EXPECT_EQ(read.status().code(), ErrorCode::kValidation) << read.status().ToString();
    EXPECT_EQ(read.status().message().find(kSecret), std::string::npos) << read.status().message();
    return read.status().message();
  };
  const std::string entry = std::string("  - access_key_id: TWKEY1\n    secret_access_key: ") +
                            kSecret + "\n    principal: alice\n";

  EXPECT_EQ(error_for("credentials:\n  - secret_access_key: " + std::string(kSecret) +
                      "\n    principal: alice\n"),
            path + ": credentials entry 1: missing member 'access_key_id'");
  EXPECT_EQ(error_for("credentials:\n" + entry +
                      "  - access_key_id: TWKEY2\n    secret_access_key: " + kSecret + "\n"),
            path + ": credentials entry 2 (access_key_id TWKEY2): missing member 'principal'");
  EXPECT_EQ(error_for("credentials:\n  - access_key_id: TWKEY1\n    principal: alice\n"),
            path +
                ": credentials entry 1 (access_key_id TWKEY1): missing member "
                "'secret_access_key'");
  EXPECT_EQ(error_for("credentials:\n" + entry + entry),
            path +
                ": credentials entry 2 (access_key_id TWKEY1): the access_key_id is already "
                "used by an earlier entry");
  for (const std::string bad_expiry :
       {"2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-12-31 00:00:00", "2026-12-31",
        "2026-12-31T24:00:00Z", "2026-12-31T00:00:00+01:00", "tomorrow", "2026-12-31T00:00:00.Z"}) {
    EXPECT_EQ(error_for("credentials:\n" + entry + "    expires: " + bad_expiry + "\n"),
              path + ": credentials entry 1 (access_key_id TWKEY1): expires '" + bad_expiry +
                  "' is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ");
  }
  EXPECT_EQ(error_for("credentials:\n" + entry + "    expiry: 2026-12-31T00:00:00Z\n"),
            path + ": credentials entry 1 (access_key_id TWKEY1): unknown member 'expiry'");
  EXPECT_EQ(error_for("credentials:\n" + entry + "    principal: bob\n"),
            path +
                ": credentials entry 1 (access_key_id TWKEY1): member 'principal' is given "
                "twice");
  EXPECT_EQ(error_for("credentials:\n  - access_key_id: TWKEY1\n    secret_access_key: [" +
                      std::string(kSecret) + "]\n    principal: alice\n"),
            path +
                ": credentials entry 1 (access_key_id TWKEY1): member 'secret_access_key' is "
                "not a string");
  EXPECT_EQ(error_for("- access_key_id: TWKEY1\n"),
            path + ": expected a mapping with one member, a 'credentials' list");
  // A YAML syntax error right in a secret reports only where it is.
  EXPECT_TRUE(error_for("credentials:\n  - access_key_id: TWKEY1\n    secret_access_key: \"" +
                        std::string(kSecret) + "\\q\"\n    principal: alice\n")
                  .starts_with(path + " is not valid YAML (line 3, column "));

  auto missing = ReadCredentialsFile(dir.Sub("absent.yaml"));
  EXPECT_EQ(missing.status().code(), ErrorCode::kIOError);
}

TEST(CredentialStoreTest, ConcurrentFindsAndChanges) {
  TempDir dir;
  for (const std::string& path : {std::string(), dir.Sub("credentials.yaml")}) {
    auto store = OpenStore(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Add(Alice()).ok());
    const int adds_per_writer = path.empty() ? 200 : 10;  // a file write is an fsync
    std::atomic<bool> writers_done{false};
    std::atomic<int> wrong_finds{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 4; ++r) {
      readers.emplace_back([&] {
        while (!writers_done.load()) {
          const std::optional<Credential> found = store->Find(Alice().access_key_id);
          if (!found || !SameCredential(*found, Alice())) ++wrong_finds;
          (void)store->List();
        }
      });
    }
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; i < adds_per_writer; ++i) {
          Credential credential = GenerateCredential("writer" + std::to_string(w), false, 0);
          EXPECT_TRUE(store->Add(credential).ok());
          if (i % 2 == 1) {
            EXPECT_TRUE(store->Remove(credential.access_key_id).ok());
          }
        }
      });
    }
    for (std::thread& writer : writers) writer.join();
    writers_done = true;
    for (std::thread& reader : readers) reader.join();
    EXPECT_EQ(wrong_finds.load(), 0);
    const size_t expected = 1 + 4 * static_cast<size_t>(adds_per_writer) / 2;
    EXPECT_EQ(store->List().size(), expected);
    if (!path.empty()) {
      EXPECT_EQ(OpenStore(path)->List().size(), expected);
    }
  }
}

}  // namespace
}  // namespace tidewater::security
