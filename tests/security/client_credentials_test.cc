// ResolveSigningIdentity: where a client's credentials and region come from (environment,
// ~/.aws/credentials, ~/.aws/config), in the AWS CLI's order. Each test starts from an
// environment without AWS variables and a HOME of its own, and restores both.
#include "tidewater/security/client_credentials.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/scoped_env.h"
#include "support/temp_dir.h"

namespace tidewater::security {
namespace {

class ClientCredentialsTest : public ::testing::Test {
 protected:
  ClientCredentialsTest()
      : env_({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
              "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SHARED_CREDENTIALS_FILE",
              "AWS_CONFIG_FILE"}) {
    env_.Set("HOME", home_.path());
    std::filesystem::create_directories(home_.Sub(".aws"));
  }

  void WriteFile(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }
  void WriteCredentials(const std::string& text) { WriteFile(home_.Sub(".aws/credentials"), text); }
  void WriteConfig(const std::string& text) { WriteFile(home_.Sub(".aws/config"), text); }

  // The identity, which the test expects to be found.
  SigningIdentity Resolve(const std::string& profile = "") {
    auto identity = ResolveSigningIdentity(profile);
    EXPECT_TRUE(identity.ok()) << identity.status().ToString();
    if (!identity.ok() || !identity->has_value()) {
      ADD_FAILURE() << "no identity";
      return {};
    }
    return **identity;
  }

  testing::TempDir home_;
  testing::ScopedEnv env_;
};

TEST_F(ClientCredentialsTest, NothingConfiguredMeansUnsigned) {
  auto identity = ResolveSigningIdentity();
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_FALSE(identity->has_value());
}

TEST_F(ClientCredentialsTest, NoHomeAndNothingElseMeansUnsigned) {
  env_.Set("HOME", std::nullopt);
  auto identity = ResolveSigningIdentity();
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_FALSE(identity->has_value());
}

TEST_F(ClientCredentialsTest, EnvironmentWinsOverTheFilesAndDefaultsToUsEast1) {
  WriteCredentials("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");
  env_.Set("AWS_ACCESS_KEY_ID", "ENVKEY");
  env_.Set("AWS_SECRET_ACCESS_KEY", "envsecret");
  const SigningIdentity identity = Resolve();
  EXPECT_EQ(identity.credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(identity.credentials.secret_access_key, "envsecret");
  EXPECT_EQ(identity.credentials.session_token, "");
  EXPECT_EQ(identity.region, "us-east-1");
}

TEST_F(ClientCredentialsTest, EnvironmentSessionToken) {
  env_.Set("AWS_ACCESS_KEY_ID", "ASIAKEY");
  env_.Set("AWS_SECRET_ACCESS_KEY", "secret");
  env_.Set("AWS_SESSION_TOKEN", "token/with+chars=");
  EXPECT_EQ(Resolve().credentials.session_token, "token/with+chars=");
}

TEST_F(ClientCredentialsTest, HalfAKeyPairIsRefused) {
  env_.Set("AWS_ACCESS_KEY_ID", "ENVKEY");
  auto identity = ResolveSigningIdentity();
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.status().code(), ErrorCode::kValidation);
  EXPECT_NE(identity.status().message().find("environment"), std::string::npos);

  env_.Set("AWS_ACCESS_KEY_ID", std::nullopt);
  WriteCredentials("[default]\naws_secret_access_key = onlysecret\n");
  identity = ResolveSigningIdentity();
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.status().code(), ErrorCode::kValidation);
  EXPECT_EQ(identity.status().message().find("onlysecret"), std::string::npos)
      << "secrets stay out of messages";
}

TEST_F(ClientCredentialsTest, DefaultProfileOfTheCredentialsFile) {
  WriteCredentials(
      "# a comment\n"
      "; another comment\n"
      "\n"
      "[other]\n"
      "aws_access_key_id = OTHERKEY\n"
      "aws_secret_access_key = othersecret\n"
      "[default]\n"
      "\tAWS_Access_Key_Id=DEFAULTKEY   \n"
      "aws_secret_access_key   =   default secret with spaces\n"
      "aws_session_token = filetoken\n");
  const SigningIdentity identity = Resolve();
  EXPECT_EQ(identity.credentials.access_key_id, "DEFAULTKEY");
  EXPECT_EQ(identity.credentials.secret_access_key, "default secret with spaces");
  EXPECT_EQ(identity.credentials.session_token, "filetoken");
}

TEST_F(ClientCredentialsTest, ProfileFromAwsProfileAndFromTheArgument) {
  WriteCredentials(
      "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = s0\n"
      "[dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = s1\n"
      "[prod]\naws_access_key_id = PRODKEY\naws_secret_access_key = s2\n");
  env_.Set("AWS_PROFILE", "dev");
  EXPECT_EQ(Resolve().credentials.access_key_id, "DEVKEY");
  EXPECT_EQ(Resolve("prod").credentials.access_key_id, "PRODKEY") << "the argument wins";
}

TEST_F(ClientCredentialsTest, EnvironmentKeysWinOverAwsProfileButNotOverAnExplicitProfile) {
  WriteCredentials("[dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = s1\n");
  env_.Set("AWS_ACCESS_KEY_ID", "ENVKEY");
  env_.Set("AWS_SECRET_ACCESS_KEY", "envsecret");
  env_.Set("AWS_REGION", "env-region-1");
  env_.Set("AWS_PROFILE", "dev");
  EXPECT_EQ(Resolve().credentials.access_key_id, "ENVKEY");
  const SigningIdentity explicit_profile = Resolve("dev");  // as `aws --profile dev`
  EXPECT_EQ(explicit_profile.credentials.access_key_id, "DEVKEY");
  EXPECT_EQ(explicit_profile.region, "env-region-1");
}

TEST_F(ClientCredentialsTest, KeysInTheConfigFileWhenTheCredentialsFileHasNone) {
  WriteCredentials("[dev]\nregion = ignored-here\n");
  WriteConfig(
      "[default]\nregion = eu-west-1\n"
      "[profile dev]\n"
      "aws_access_key_id = CONFIGKEY\n"
      "aws_secret_access_key = configsecret\n"
      "region = ap-south-1\n");
  const SigningIdentity identity = Resolve("dev");
  EXPECT_EQ(identity.credentials.access_key_id, "CONFIGKEY");
  EXPECT_EQ(identity.credentials.secret_access_key, "configsecret");
  EXPECT_EQ(identity.region, "ap-south-1");
}

TEST_F(ClientCredentialsTest, CredentialsFileWinsOverTheConfigFile) {
  WriteCredentials("[default]\naws_access_key_id = CREDKEY\naws_secret_access_key = c\n");
  WriteConfig("[default]\naws_access_key_id = CONFIGKEY\naws_secret_access_key = d\n");
  EXPECT_EQ(Resolve().credentials.access_key_id, "CREDKEY");
}

TEST_F(ClientCredentialsTest, ConfigSectionNamesNeedTheProfilePrefixExceptDefault) {
  WriteCredentials("[dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = s\n");
  // "[dev]" in the config file is not profile dev; "[profile   dev]" is.
  WriteConfig("[dev]\nregion = wrong-1\n[profile   dev]\nregion = right-1\n");
  EXPECT_EQ(Resolve("dev").region, "right-1");
}

TEST_F(ClientCredentialsTest, RegionOrder) {
  WriteCredentials("[default]\naws_access_key_id = K\naws_secret_access_key = S\n");
  EXPECT_EQ(Resolve().region, "us-east-1");
  WriteConfig(
      "[default]\n"
      "s3 =\n"
      "  region = nested-is-not-the-profiles\n"
      "  max_concurrent_requests = 20\n"
      "region = config-region-1\n");
  EXPECT_EQ(Resolve().region, "config-region-1");
  env_.Set("AWS_DEFAULT_REGION", "default-region-1");
  EXPECT_EQ(Resolve().region, "default-region-1");
  env_.Set("AWS_REGION", "region-1");
  EXPECT_EQ(Resolve().region, "region-1");
}

TEST_F(ClientCredentialsTest, RegionOfTheProfileWithEnvironmentCredentials) {
  WriteConfig("[profile dev]\nregion = eu-central-1\n");
  env_.Set("AWS_ACCESS_KEY_ID", "ENVKEY");
  env_.Set("AWS_SECRET_ACCESS_KEY", "envsecret");
  env_.Set("AWS_PROFILE", "dev");
  const SigningIdentity identity = Resolve();
  EXPECT_EQ(identity.credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(identity.region, "eu-central-1");
}

TEST_F(ClientCredentialsTest, MissingNamedProfileIsAnError) {
  WriteCredentials("[default]\naws_access_key_id = K\naws_secret_access_key = S\n");
  auto identity = ResolveSigningIdentity("nosuch");
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.status().code(), ErrorCode::kValidation);
  EXPECT_NE(identity.status().message().find("nosuch"), std::string::npos);

  env_.Set("AWS_PROFILE", "missing-too");
  env_.Set("AWS_ACCESS_KEY_ID", "ENVKEY");
  env_.Set("AWS_SECRET_ACCESS_KEY", "envsecret");
  identity = ResolveSigningIdentity();
  ASSERT_FALSE(identity.ok()) << "as the AWS CLI: a named profile must exist";
  EXPECT_NE(identity.status().message().find("missing-too"), std::string::npos);
}

TEST_F(ClientCredentialsTest, ProfileWithoutKeysMeansUnsigned) {
  WriteConfig("[profile sso]\nsso_session = corp\nregion = us-west-2\n");
  auto identity = ResolveSigningIdentity("sso");
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_FALSE(identity->has_value());
}

TEST_F(ClientCredentialsTest, FilesNamedByTheEnvironment) {
  WriteFile(home_.Sub("creds.ini"), "[ci]\naws_access_key_id = CIKEY\naws_secret_access_key = s\n");
  WriteFile(home_.Sub("config.ini"), "[profile ci]\nregion = ca-central-1\n");
  WriteCredentials("[ci]\naws_access_key_id = HOMEKEY\naws_secret_access_key = s\n");
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", "~/creds.ini");  // "~" is HOME
  env_.Set("AWS_CONFIG_FILE", home_.Sub("config.ini"));
  const SigningIdentity identity = Resolve("ci");
  EXPECT_EQ(identity.credentials.access_key_id, "CIKEY");
  EXPECT_EQ(identity.region, "ca-central-1");
}

TEST_F(ClientCredentialsTest, UnreadableFileIsAnError) {
  std::filesystem::create_directories(home_.Sub("a-directory"));
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", home_.Sub("a-directory"));
  auto identity = ResolveSigningIdentity();
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.status().code(), ErrorCode::kValidation);
  EXPECT_NE(identity.status().message().find("a-directory"), std::string::npos);
}

TEST_F(ClientCredentialsTest, MissingFilesNamedByTheEnvironmentAreEmpty) {
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", home_.Sub("absent"));
  env_.Set("AWS_CONFIG_FILE", home_.Sub("absent-too"));
  auto identity = ResolveSigningIdentity();
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_FALSE(identity->has_value());
}

}  // namespace
}  // namespace tidewater::security
