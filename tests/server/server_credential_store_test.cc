// The server's credentials: those given at start (--credentials-file) beside those stored in
// the data directory, which alone survive a restart and alone can be deleted.
#include "server_credential_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "tidewater/security/credential_store.h"

namespace tidewater::server {
namespace {

security::Credential Given() {
  return {"TWGIVENKEY0000000001", "given-secret-000000000000000000000000000", "", 0, "admin"};
}

class ServerCredentialStoreTest : public ::testing::Test {
 protected:
  std::filesystem::path StoredPath() const { return dir_.Sub("credentials.yaml"); }

  std::unique_ptr<ServerCredentialStore> Open(const std::vector<security::Credential>& given) {
    auto store = ServerCredentialStore::Open(StoredPath(), given);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  testing::TempDir dir_;
};

TEST_F(ServerCredentialStoreTest, FindsGivenAndStoredCredentials) {
  auto store = Open({Given()});
  ASSERT_NE(store, nullptr);
  const security::Credential created = security::GenerateCredential("bob", false, 0);
  ASSERT_TRUE(store->Add(created).ok());
  ASSERT_TRUE(store->Find(Given().access_key_id));
  EXPECT_EQ(store->Find(Given().access_key_id)->principal, "admin");
  ASSERT_TRUE(store->Find(created.access_key_id));
  EXPECT_EQ(store->Find(created.access_key_id)->secret_access_key, created.secret_access_key);
  EXPECT_EQ(store->List().size(), 2u);
  EXPECT_EQ(store->given_count(), 1u);
}

TEST_F(ServerCredentialStoreTest, OnlyStoredCredentialsSurviveARestart) {
  const security::Credential created = security::GenerateCredential("bob", true, 0);
  {
    auto store = Open({Given()});
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Add(created).ok());
  }
  std::ifstream file(StoredPath());
  const std::string stored_text((std::istreambuf_iterator<char>(file)),
                                std::istreambuf_iterator<char>());
  EXPECT_EQ(stored_text.find(Given().secret_access_key), std::string::npos)
      << "a credential given at start must not be written to the data directory";

  auto restarted = Open({});
  ASSERT_NE(restarted, nullptr);
  EXPECT_FALSE(restarted->Find(Given().access_key_id));
  ASSERT_TRUE(restarted->Find(created.access_key_id));
  EXPECT_EQ(restarted->Find(created.access_key_id)->session_token, created.session_token);
}

TEST_F(ServerCredentialStoreTest, GivenCredentialsCannotBeDeletedOrShadowed) {
  auto store = Open({Given()});
  ASSERT_NE(store, nullptr);
  Status removed = store->Remove(Given().access_key_id);
  EXPECT_EQ(removed.code(), ErrorCode::kValidation);
  EXPECT_NE(removed.message().find("--credentials-file"), std::string::npos);
  EXPECT_TRUE(store->Find(Given().access_key_id));

  security::Credential same_id = Given();
  same_id.secret_access_key = "another-secret-0000000000000000000000000";
  EXPECT_EQ(store->Add(same_id).code(), ErrorCode::kResourceInUse);
  EXPECT_EQ(store->Find(Given().access_key_id)->secret_access_key, Given().secret_access_key);
}

TEST_F(ServerCredentialStoreTest, DeletesStoredCredentials) {
  auto store = Open({});
  ASSERT_NE(store, nullptr);
  const security::Credential created = security::GenerateCredential("bob", false, 0);
  ASSERT_TRUE(store->Add(created).ok());
  ASSERT_TRUE(store->Remove(created.access_key_id).ok());
  EXPECT_FALSE(store->Find(created.access_key_id));
  EXPECT_EQ(store->Remove(created.access_key_id).code(), ErrorCode::kResourceNotFound);
  auto restarted = Open({});
  ASSERT_NE(restarted, nullptr);
  EXPECT_FALSE(restarted->Find(created.access_key_id));
}

TEST_F(ServerCredentialStoreTest, RefusesAKeyIdGivenTwice) {
  auto store = ServerCredentialStore::Open(StoredPath(), {Given(), Given()});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kValidation);
  EXPECT_EQ(store.status().message().find(Given().secret_access_key), std::string::npos);
}

}  // namespace
}  // namespace tidewater::server
