// The object stores (object_store.h). S3 against a real s3rver process: binary data, keys
// that need encoding, listings paginated past 1,000 objects, missing keys and buckets,
// credentials, the server going away and coming back. Local directories: the same round trip
// and listing, keys that would leave the directory refused. And the internals: SigV4 against
// AWS's published S3 examples, the XML reader, the endpoint addressing.
//
// s3rver 3.7.1 does not verify SigV4 signatures (only the access key id), so the signing of
// the awkward keys is checked by the examples and the encoding cases, not by the server.
#include "tidewater/connectors/object_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "s3_endpoint.h"
#include "s3_xml.h"
#include "support/s3rver_process.h"
#include "support/temp_dir.h"
#include "tidewater/security/sigv4.h"

namespace tidewater::connectors {
namespace {
namespace sigv4 = security::sigv4;

namespace fs = std::filesystem;
using tidewater::testing::S3rverProcess;
using tidewater::testing::TempDir;

constexpr char kBucket[] = "tidewater-exports";
constexpr char kOtherBucket[] = "other-bucket";
constexpr char kEmptyMd5[] = "d41d8cd98f00b204e9800998ecf8427e";
constexpr char kAllBytesMd5[] = "e2c865db4162bed963bfaa9ef6ac18f0";  // bytes 0..255
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string AllByteValues() {
  std::string bytes;
  for (int value = 0; value < 256; ++value) bytes += static_cast<char>(value);
  return bytes;
}

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random() & 0xFF);
  return bytes;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The keys of `objects`, in order.
std::vector<std::string> Keys(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> keys;
  for (const ObjectInfo& object : objects) keys.push_back(object.key);
  return keys;
}

// Sets (or, with nullopt, removes) an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    Set(value);
  }
  ~ScopedEnv() { Set(old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void Set(const std::optional<std::string>& value) {
    if (value) {
      setenv(name_, value->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

  const char* name_;
  std::optional<std::string> old_;
};

// ---------------------------------------------------------------------------------------
// S3 against s3rver

class S3ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TW_SKIP_WITHOUT_S3RVER();
    const std::string started = server_.Start();
    ASSERT_EQ(started, "") << started;
    store_ = MakeStore(S3rverProcess::kAccessKeyId, S3rverProcess::kSecretAccessKey);
    ASSERT_NE(store_, nullptr);
  }

  // A store for the server with these credentials ("": the environment's).
  std::shared_ptr<ObjectStore> MakeStore(const std::string& access_key_id,
                                         const std::string& secret_access_key) {
    ObjectStoreOptions options;
    options.endpoint = server_.endpoint();
    options.access_key_id = access_key_id;
    options.secret_access_key = secret_access_key;
    Result<std::shared_ptr<ObjectStore>> store = MakeObjectStore(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return nullptr;
    return *store;
  }

  S3rverProcess server_{std::vector<std::string>{kBucket, kOtherBucket}};
  std::shared_ptr<ObjectStore> store_;
};

TEST_F(S3ObjectStoreTest, BinaryObjectsRoundTripWithMd5ETags) {
  const std::string big = RandomBytes(5 << 20, 7);
  const std::vector<std::pair<std::string, std::string>> objects = {
      {"binary/all-bytes", AllByteValues()}, {"binary/empty", ""}, {"binary/five-mb", big}};
  for (const auto& [key, data] : objects) {
    Result<std::string> etag = store_->PutObject(kBucket, key, data);
    ASSERT_TRUE(etag.ok()) << key << ": " << etag.status().ToString();
    EXPECT_EQ(*etag, sigv4::Md5Hex(data)) << key;
    Result<std::string> got = store_->GetObject(kBucket, key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(got->size(), data.size()) << key;
    EXPECT_TRUE(*got == data) << key << ": the bytes differ";  // (5 MB: not printed)
  }

  Result<std::vector<ObjectInfo>> listed = store_->ListObjects(kBucket, "binary/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(Keys(*listed),
            (std::vector<std::string>{"binary/all-bytes", "binary/empty", "binary/five-mb"}));
  EXPECT_EQ((*listed)[0].size, 256u);
  EXPECT_EQ((*listed)[0].etag, kAllBytesMd5);
  EXPECT_EQ((*listed)[1].size, 0u);
  EXPECT_EQ((*listed)[1].etag, kEmptyMd5);
  EXPECT_EQ((*listed)[2].size, 5u << 20);
  EXPECT_EQ((*listed)[2].etag, sigv4::Md5Hex(big));

  // Replacing an object.
  ASSERT_TRUE(store_->PutObject(kBucket, "binary/empty", "no longer").ok());
  Result<std::string> replaced = store_->GetObject(kBucket, "binary/empty");
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(*replaced, "no longer");
}

TEST_F(S3ObjectStoreTest, KeysThatNeedEncodingRoundTripAndList) {
  const std::vector<std::string> keys = {
      "with space/a b.txt",
      "unicode/\xC3\xBC\xC3\xB1\xC3\xAF/\xE2\x9C\x93-\xF0\x9F\x98\x80.json",  // üñï/✓-😀.json
      "plus/a+b+c",
      "equals/a=b&c=d",
      "nested/1/2/3/4/deep.json",
      "reserved/semi;colon:comma,(paren)!*'$@",
      "query/question?hash#percent%41",
      "tilde~dash-under_score.dot",
  };
  for (const std::string& key : keys) {
    Result<std::string> etag = store_->PutObject(kBucket, key, "content of " + key);
    ASSERT_TRUE(etag.ok()) << key << ": " << etag.status().ToString();
  }
  for (const std::string& key : keys) {
    Result<std::string> got = store_->GetObject(kBucket, key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(*got, "content of " + key);
  }

  Result<std::vector<ObjectInfo>> listed = store_->ListObjects(kBucket, "");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Keys(*listed), sorted);
  for (const ObjectInfo& object : *listed) {
    EXPECT_EQ(object.size, ("content of " + object.key).size()) << object.key;
    EXPECT_EQ(object.etag, sigv4::Md5Hex("content of " + object.key)) << object.key;
  }

  // Prefixes go in the query string: '+', ' ', '=' and '&' must arrive as themselves.
  for (const std::string& prefix :
       {std::string("plus/a+"), std::string("with space/"), std::string("equals/a=b&c"),
        std::string("unicode/\xC3\xBC"), std::string("query/question?")}) {
    Result<std::vector<ObjectInfo>> one = store_->ListObjects(kBucket, prefix);
    ASSERT_TRUE(one.ok()) << prefix << ": " << one.status().ToString();
    ASSERT_EQ(one->size(), 1u) << prefix;
    EXPECT_TRUE((*one)[0].key.starts_with(prefix)) << (*one)[0].key;
  }
}

std::string ManyKey(size_t i) {
  char name[32];
  std::snprintf(name, sizeof(name), "many/obj-%04zu", i);
  return name;
}

TEST_F(S3ObjectStoreTest, ListingPaginatesPastOneThousandObjects) {
  // s3rver answers at most 1,000 keys a page, like S3; its continuation tokens are base64
  // with '+', '/' and '=', which the next request must encode.
  constexpr size_t kObjects = 1100;
  constexpr size_t kThreads = 4;
  std::mutex mu;
  std::string first_error;
  std::vector<std::thread> uploaders;
  for (size_t t = 0; t < kThreads; ++t) {
    uploaders.emplace_back([&, t] {
      for (size_t i = t; i < kObjects; i += kThreads) {
        Result<std::string> etag = store_->PutObject(kBucket, ManyKey(i), std::to_string(i));
        if (!etag.ok()) {
          std::lock_guard lock(mu);
          if (first_error.empty()) first_error = ManyKey(i) + ": " + etag.status().ToString();
        }
      }
    });
  }
  for (std::thread& uploader : uploaders) uploader.join();
  ASSERT_EQ(first_error, "");
  // Keys beside the prefix, before and after it. (None is named like a directory of keys,
  // "many": s3rver walks its directories depth first, and would list such a key after the
  // keys below it, across pages out of order, and lose it.)
  for (const char* key : {"man", "manx/0", "zzz"}) {
    ASSERT_TRUE(store_->PutObject(kBucket, key, "beside").ok()) << key;
  }

  Result<std::vector<ObjectInfo>> listed = store_->ListObjects(kBucket, "many/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), kObjects);
  for (size_t i = 0; i < kObjects; ++i) {
    const ObjectInfo& object = (*listed)[i];
    ASSERT_EQ(object.key, ManyKey(i));
    EXPECT_EQ(object.size, std::to_string(i).size()) << object.key;
    EXPECT_EQ(object.etag, sigv4::Md5Hex(std::to_string(i))) << object.key;
  }

  Result<std::vector<ObjectInfo>> part = store_->ListObjects(kBucket, "many/obj-10");
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  ASSERT_EQ(part->size(), 100u);
  EXPECT_EQ(part->front().key, "many/obj-1000");
  EXPECT_EQ(part->back().key, "many/obj-1099");

  Result<std::vector<ObjectInfo>> all = store_->ListObjects(kBucket, "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), kObjects + 3);
  EXPECT_EQ(all->front().key, "man");
  EXPECT_EQ((*all)[1].key, "manx/0");
  EXPECT_EQ((*all)[2].key, "many/obj-0000");
  EXPECT_EQ(all->back().key, "zzz");
}

TEST_F(S3ObjectStoreTest, MissingKeysAndBucketsAreNotFound) {
  ASSERT_TRUE(store_->PutObject(kBucket, "present", "x").ok());
  ASSERT_TRUE(store_->CheckBucket(kBucket).ok());
  ASSERT_TRUE(store_->CheckBucket(kOtherBucket).ok());

  Result<std::string> missing_key = store_->GetObject(kBucket, "absent");
  ASSERT_FALSE(missing_key.ok());
  EXPECT_EQ(missing_key.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_TRUE(Contains(missing_key.status().message(), "NoSuchKey"))
      << missing_key.status().message();
  EXPECT_TRUE(Contains(missing_key.status().message(), std::string(kBucket) + "/absent"))
      << missing_key.status().message();
  // A prefix of a key is no object.
  EXPECT_EQ(store_->GetObject(kBucket, "pres").status().code(), ErrorCode::kResourceNotFound);

  Result<std::string> missing_bucket = store_->GetObject("no-such-bucket", "present");
  ASSERT_FALSE(missing_bucket.ok());
  EXPECT_EQ(missing_bucket.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_TRUE(Contains(missing_bucket.status().message(), "NoSuchBucket"))
      << missing_bucket.status().message();

  const Status checked = store_->CheckBucket("no-such-bucket");
  EXPECT_EQ(checked.code(), ErrorCode::kResourceNotFound) << checked.ToString();
  EXPECT_TRUE(Contains(checked.message(), "no-such-bucket")) << checked.message();
  EXPECT_EQ(store_->ListObjects("no-such-bucket", "").status().code(),
            ErrorCode::kResourceNotFound);
  EXPECT_EQ(store_->PutObject("no-such-bucket", "k", "v").status().code(),
            ErrorCode::kResourceNotFound);

  EXPECT_EQ(store_->GetObject(kBucket, "").status().code(), ErrorCode::kValidation);
  EXPECT_EQ(store_->PutObject("", "k", "v").status().code(), ErrorCode::kValidation);
}

TEST_F(S3ObjectStoreTest, Credentials) {
  // s3rver knows one access key id; another is refused (InvalidAccessKeyId, HTTP 403).
  std::shared_ptr<ObjectStore> stranger = MakeStore("AKIDSTRANGER", "secret");
  ASSERT_NE(stranger, nullptr);
  Result<std::string> put = stranger->PutObject(kBucket, "k", "v");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), ErrorCode::kIOError);
  EXPECT_TRUE(Contains(put.status().message(), "S3 InvalidAccessKeyId: "))
      << put.status().message();
  EXPECT_TRUE(Contains(put.status().message(), std::string(kBucket) + "/k"))
      << put.status().message();
  // (An answer to HEAD has no body: the 403 alone.)
  EXPECT_EQ(stranger->CheckBucket(kBucket).code(), ErrorCode::kIOError);

  // A wrong secret access key with the right id: s3rver 3.7.1 does not verify SigV4
  // signatures (its authentication middleware checks the access key id and the clock skew
  // only), so nothing can be asserted about it against this server. The signature itself is
  // checked against AWS's published examples in SigV4Test below.

  // Without credentials in the options: the environment's.
  {
    ScopedEnv id("AWS_ACCESS_KEY_ID", S3rverProcess::kAccessKeyId);
    ScopedEnv secret("AWS_SECRET_ACCESS_KEY", S3rverProcess::kSecretAccessKey);
    ScopedEnv token("AWS_SESSION_TOKEN", std::nullopt);
    std::shared_ptr<ObjectStore> from_environment = MakeStore("", "");
    ASSERT_NE(from_environment, nullptr);
    EXPECT_TRUE(from_environment->PutObject(kBucket, "from-environment", "v").ok());
  }
  {
    ScopedEnv id("AWS_ACCESS_KEY_ID", "AKIDSTRANGER");
    ScopedEnv secret("AWS_SECRET_ACCESS_KEY", "secret");
    std::shared_ptr<ObjectStore> from_environment = MakeStore("", "");
    ASSERT_NE(from_environment, nullptr);
    EXPECT_TRUE(Contains(from_environment->PutObject(kBucket, "k", "v").status().message(),
                         "InvalidAccessKeyId"));
  }
  {
    // No credentials anywhere: unsigned requests, which s3rver serves (as S3 does a public
    // bucket's).
    ScopedEnv id("AWS_ACCESS_KEY_ID", std::nullopt);
    ScopedEnv secret("AWS_SECRET_ACCESS_KEY", std::nullopt);
    std::shared_ptr<ObjectStore> anonymous = MakeStore("", "");
    ASSERT_NE(anonymous, nullptr);
    EXPECT_TRUE(anonymous->PutObject(kBucket, "anonymous", "v").ok());

    // An access key id without a secret is a configuration error.
    ObjectStoreOptions options;
    options.endpoint = server_.endpoint();
    options.access_key_id = S3rverProcess::kAccessKeyId;
    EXPECT_EQ(MakeObjectStore(options).status().code(), ErrorCode::kValidation);
  }
}

TEST_F(S3ObjectStoreTest, ServerDownIsAnIOErrorNamingTheEndpointAndBackWorksAgain) {
  ASSERT_TRUE(store_->PutObject(kBucket, "survivor", "still here").ok());
  // Read back before the stop: s3rver may answer a PUT before its file is whole, and a stop
  // then leaves it empty (seen once on a loaded machine).
  Result<std::string> stored = store_->GetObject(kBucket, "survivor");
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(*stored, "still here");
  server_.Stop();

  Result<std::string> got = store_->GetObject(kBucket, "survivor");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kIOError);
  EXPECT_TRUE(Contains(got.status().message(), server_.endpoint())) << got.status().message();
  const Status put = store_->PutObject(kBucket, "lost", "v").status();
  EXPECT_EQ(put.code(), ErrorCode::kIOError);
  EXPECT_TRUE(Contains(put.message(), server_.endpoint())) << put.message();
  const Status checked = store_->CheckBucket(kBucket);
  EXPECT_EQ(checked.code(), ErrorCode::kIOError);
  EXPECT_TRUE(Contains(checked.message(), server_.endpoint())) << checked.message();
  EXPECT_EQ(store_->ListObjects(kBucket, "").status().code(), ErrorCode::kIOError);

  const std::string restarted = server_.Start();
  ASSERT_EQ(restarted, "") << restarted;
  got = store_->GetObject(kBucket, "survivor");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "still here");
  ASSERT_TRUE(store_->PutObject(kBucket, "after", "v").ok());
  Result<std::vector<ObjectInfo>> listed = store_->ListObjects(kBucket, "");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(Keys(*listed), (std::vector<std::string>{"after", "survivor"}));
}

TEST_F(S3ObjectStoreTest, LocalBucketsBesideTheEndpoint) {
  TempDir dir;
  fs::create_directories(dir.Sub("local"));
  ObjectStoreOptions options;
  options.endpoint = server_.endpoint();
  options.access_key_id = S3rverProcess::kAccessKeyId;
  options.secret_access_key = S3rverProcess::kSecretAccessKey;
  options.local_buckets["local-bucket"] = dir.Sub("local");
  Result<std::shared_ptr<ObjectStore>> made = MakeObjectStore(options);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ObjectStore& store = **made;

  ASSERT_TRUE(store.PutObject("local-bucket", "a/b.txt", "local").ok());
  ASSERT_TRUE(store.PutObject(kBucket, "remote.txt", "remote").ok());
  EXPECT_EQ(ReadFile(dir.Sub("local/a/b.txt")), "local");
  EXPECT_FALSE(fs::exists(dir.Sub("local/remote.txt")));

  Result<std::vector<ObjectInfo>> local = store.ListObjects("local-bucket", "");
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ(Keys(*local), std::vector<std::string>{"a/b.txt"});
  Result<std::vector<ObjectInfo>> remote = store.ListObjects(kBucket, "");
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EXPECT_EQ(Keys(*remote), std::vector<std::string>{"remote.txt"});
  Result<std::string> got = store.GetObject(kBucket, "remote.txt");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "remote");
}

// ---------------------------------------------------------------------------------------
// Local directories

class LocalObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(BucketDir());
    ObjectStoreOptions options;
    options.local_buckets["local"] = BucketDir();
    options.local_buckets["unmade"] = dir_.Sub("never-created");
    Result<std::shared_ptr<ObjectStore>> store = MakeObjectStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = *store;
  }

  std::string BucketDir() const { return dir_.Sub("bucket"); }

  // Files whose names start with the temporary prefix of an upload.
  std::vector<std::string> LeftoverUploads() const {
    std::vector<std::string> leftovers;
    for (const auto& entry : fs::recursive_directory_iterator(BucketDir())) {
      if (entry.path().filename().string().starts_with(".tw-upload-")) {
        leftovers.push_back(entry.path().string());
      }
    }
    return leftovers;
  }

  TempDir dir_;
  std::shared_ptr<ObjectStore> store_;
};

TEST_F(LocalObjectStoreTest, BinaryObjectsRoundTripWithMd5ETags) {
  const std::string big = RandomBytes(5 << 20, 11);
  const std::vector<std::pair<std::string, std::string>> objects = {
      {"binary/all-bytes", AllByteValues()}, {"binary/empty", ""}, {"binary/five-mb", big}};
  for (const auto& [key, data] : objects) {
    Result<std::string> etag = store_->PutObject("local", key, data);
    ASSERT_TRUE(etag.ok()) << key << ": " << etag.status().ToString();
    EXPECT_EQ(*etag, sigv4::Md5Hex(data)) << key;
    Result<std::string> got = store_->GetObject("local", key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_TRUE(*got == data) << key << ": the bytes differ";
    EXPECT_TRUE(ReadFile(BucketDir() + "/" + key) == data) << key << ": the file differs";
  }
  Result<std::vector<ObjectInfo>> listed = store_->ListObjects("local", "binary/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(Keys(*listed),
            (std::vector<std::string>{"binary/all-bytes", "binary/empty", "binary/five-mb"}));
  EXPECT_EQ((*listed)[0].etag, kAllBytesMd5);
  EXPECT_EQ((*listed)[0].size, 256u);
  EXPECT_EQ((*listed)[1].etag, kEmptyMd5);
  EXPECT_EQ((*listed)[1].size, 0u);
  EXPECT_EQ((*listed)[2].etag, sigv4::Md5Hex(big));
  EXPECT_EQ((*listed)[2].size, 5u << 20);

  ASSERT_TRUE(store_->PutObject("local", "binary/empty", "no longer").ok());
  EXPECT_EQ(*store_->GetObject("local", "binary/empty"), "no longer");
  EXPECT_EQ(LeftoverUploads(), std::vector<std::string>{});
}

TEST_F(LocalObjectStoreTest, ListsRecursivelyInKeyOrder) {
  const std::vector<std::string> keys = {
      "exports/AWSDynamoDB/01/manifest-summary.json",
      "exports/AWSDynamoDB/01/data/b.json.gz",
      "exports/AWSDynamoDB/01/data/a.json.gz",
      "exportsX",
      "top",
      "with space/\xE2\x9C\x93 +=.txt",
  };
  for (const std::string& key : keys) {
    ASSERT_TRUE(store_->PutObject("local", key, "data of " + key).ok()) << key;
  }
  Result<std::vector<ObjectInfo>> listed = store_->ListObjects("local", "exports/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(Keys(*listed), (std::vector<std::string>{
                               "exports/AWSDynamoDB/01/data/a.json.gz",
                               "exports/AWSDynamoDB/01/data/b.json.gz",
                               "exports/AWSDynamoDB/01/manifest-summary.json",
                           }));
  for (const ObjectInfo& object : *listed) {
    EXPECT_EQ(object.size, ("data of " + object.key).size());
    EXPECT_EQ(object.etag, sigv4::Md5Hex("data of " + object.key));
  }

  Result<std::vector<ObjectInfo>> all = store_->ListObjects("local", "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Keys(*all), sorted);

  Result<std::vector<ObjectInfo>> none = store_->ListObjects("local", "nothing/");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
}

TEST_F(LocalObjectStoreTest, KeysLeavingTheDirectoryAreRefused) {
  for (const std::string key : {"../escape", "a/../../escape", "..", "/etc/passwd", "a//b", "a/./b",
                                "dir/", ".", ".tw-upload-x", ""}) {
    EXPECT_EQ(store_->PutObject("local", key, "x").status().code(), ErrorCode::kValidation) << key;
    EXPECT_EQ(store_->GetObject("local", key).status().code(), ErrorCode::kValidation) << key;
  }
  EXPECT_FALSE(fs::exists(dir_.Sub("escape")));
  EXPECT_FALSE(fs::exists(BucketDir() + "/a"));
  // ".." inside a name is no segment of its own.
  ASSERT_TRUE(store_->PutObject("local", "a..b/c..", "fine").ok());
  EXPECT_EQ(ReadFile(BucketDir() + "/a..b/c.."), "fine");
}

TEST_F(LocalObjectStoreTest, MissingKeysAndBucketsAreNotFound) {
  ASSERT_TRUE(store_->PutObject("local", "dir/present", "x").ok());
  EXPECT_TRUE(store_->CheckBucket("local").ok());

  EXPECT_EQ(store_->GetObject("local", "absent").status().code(), ErrorCode::kResourceNotFound);
  // A directory, or a path through a file, is no object.
  EXPECT_EQ(store_->GetObject("local", "dir").status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(store_->GetObject("local", "dir/present/x").status().code(),
            ErrorCode::kResourceNotFound);

  // Configured, but its directory does not exist.
  EXPECT_EQ(store_->CheckBucket("unmade").code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(store_->PutObject("unmade", "k", "v").status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(store_->ListObjects("unmade", "").status().code(), ErrorCode::kResourceNotFound);
  EXPECT_FALSE(fs::exists(dir_.Sub("never-created")));

  // Not configured, and no endpoint to send it to.
  const Status unknown = store_->CheckBucket("elsewhere");
  EXPECT_EQ(unknown.code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(unknown.message(), "no object storage is configured for bucket elsewhere");
  EXPECT_EQ(store_->GetObject("elsewhere", "k").status().code(), ErrorCode::kResourceNotFound);
}

TEST_F(LocalObjectStoreTest, ConcurrentWritersOfOneKeyLeaveOneWholeObject) {
  const std::string a(100000, 'a');
  const std::string b(100000, 'b');
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        if (!store_->PutObject("local", "shared/key", t % 2 == 0 ? a : b).ok()) ++failures;
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(failures.load(), 0);
  Result<std::string> got = store_->GetObject("local", "shared/key");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == a || *got == b);
  EXPECT_EQ(LeftoverUploads(), std::vector<std::string>{});
}

// ---------------------------------------------------------------------------------------
// SigV4: AWS's examples of the complete signing process for S3 (header-based
// authentication: "Examples of signature calculations", Amazon S3 API Reference), with the
// documentation's credentials, at 20130524T000000Z in us-east-1.

const sigv4::Credentials kExampleCredentials{"AKIAIOSFODNN7EXAMPLE",
                                             "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr char kExampleDate[] = "20130524T000000Z";
constexpr char kExampleHost[] = "examplebucket.s3.amazonaws.com";

TEST(SigV4Test, AwsGetObjectExample) {
  sigv4::Request request;
  request.method = "GET";
  request.canonical_uri = "/test.txt";
  request.headers = {{"Host", kExampleHost},
                     {"Range", "bytes=0-9"},
                     {"x-amz-content-sha256", kEmptySha256},
                     {"x-amz-date", kExampleDate}};
  request.payload_sha256 = kEmptySha256;
  const sigv4::Signed out =
      sigv4::Sign(request, kExampleCredentials, "us-east-1", "s3", kExampleDate);
  EXPECT_EQ(out.canonical_request,
            "GET\n"
            "/test.txt\n"
            "\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "range:bytes=0-9\n"
            "x-amz-content-sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sigv4::Sha256Hex(out.canonical_request),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(out.string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20130524T000000Z\n"
            "20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(out.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(out.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(out.authorization,
            "AWS4-HMAC-SHA256 "
            "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");

  // Header order, name case and surrounding or repeated spaces do not change it.
  sigv4::Request shuffled = request;
  shuffled.headers = {{"X-Amz-Date", kExampleDate},
                      {"RANGE", "  bytes=0-9 "},
                      {"host", kExampleHost},
                      {"X-Amz-Content-Sha256", kEmptySha256}};
  EXPECT_EQ(sigv4::Sign(shuffled, kExampleCredentials, "us-east-1", "s3", kExampleDate).signature,
            out.signature);
}

TEST(SigV4Test, AwsPutObjectExample) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string payload_sha256 = sigv4::Sha256Hex(body);
  EXPECT_EQ(payload_sha256, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  sigv4::Request request;
  request.method = "PUT";
  request.canonical_uri = "/" + sigv4::UriEncode("test$file.text", true);
  EXPECT_EQ(request.canonical_uri, "/test%24file.text");
  request.headers = {{"Host", kExampleHost},
                     {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                     {"x-amz-date", kExampleDate},
                     {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                     {"x-amz-content-sha256", payload_sha256}};
  request.payload_sha256 = payload_sha256;
  const sigv4::Signed out =
      sigv4::Sign(request, kExampleCredentials, "us-east-1", "s3", kExampleDate);
  EXPECT_EQ(sigv4::Sha256Hex(out.canonical_request),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(out.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(out.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, AwsBucketExamplesWithQueryStrings) {
  sigv4::Request request;
  request.method = "GET";
  request.canonical_uri = "/";
  request.headers = {
      {"Host", kExampleHost}, {"x-amz-content-sha256", kEmptySha256}, {"x-amz-date", kExampleDate}};
  request.payload_sha256 = kEmptySha256;

  // GET Bucket Lifecycle: "?lifecycle", a parameter without a value.
  request.query = {{"lifecycle", ""}};
  sigv4::Signed out = sigv4::Sign(request, kExampleCredentials, "us-east-1", "s3", kExampleDate);
  EXPECT_EQ(out.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");

  // GET Bucket (List Objects): "?max-keys=2&prefix=J", given out of order.
  request.query = {{"prefix", "J"}, {"max-keys", "2"}};
  EXPECT_EQ(sigv4::CanonicalQueryString(request.query), "max-keys=2&prefix=J");
  out = sigv4::Sign(request, kExampleCredentials, "us-east-1", "s3", kExampleDate);
  EXPECT_EQ(sigv4::Sha256Hex(out.canonical_request),
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(out.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, SessionTokenIsSigned) {
  sigv4::Request request;
  request.method = "HEAD";
  request.canonical_uri = "/bucket";
  request.headers = {{"host", "127.0.0.1:9000"},
                     {"x-amz-content-sha256", kEmptySha256},
                     {"x-amz-date", kExampleDate},
                     {"x-amz-security-token", "TOKEN"}};
  request.payload_sha256 = kEmptySha256;
  const sigv4::Signed out =
      sigv4::Sign(request, {"AKID", "SECRET", "TOKEN"}, "eu-west-1", "s3", kExampleDate);
  EXPECT_EQ(out.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  EXPECT_TRUE(Contains(out.canonical_request, "\nx-amz-security-token:TOKEN\n"));
  EXPECT_TRUE(Contains(out.authorization, "Credential=AKID/20130524/eu-west-1/s3/aws4_request,"));
}

TEST(SigV4Test, Digests) {
  EXPECT_EQ(sigv4::Sha256Hex(""), kEmptySha256);
  EXPECT_EQ(sigv4::Md5Hex(""), kEmptyMd5);
  EXPECT_EQ(sigv4::Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(sigv4::Md5Hex(AllByteValues()), kAllBytesMd5);
  EXPECT_EQ(sigv4::Md5Base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(sigv4::Md5Base64("abc"), "kAFQmDzST7DWlj99KOF/cg==");
  // RFC 4231, test case 2.
  EXPECT_EQ(sigv4::Hex(sigv4::HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SigV4Test, UriEncodingAndQueryStrings) {
  EXPECT_EQ(sigv4::UriEncode("a b+c=d&e/f~g_h-i.j", true), "a%20b%2Bc%3Dd%26e/f~g_h-i.j");
  EXPECT_EQ(sigv4::UriEncode("a b+c=d&e/f~g_h-i.j", false), "a%20b%2Bc%3Dd%26e%2Ff~g_h-i.j");
  EXPECT_EQ(sigv4::UriEncode("\xC3\xA9\xF0\x9F\x98\x80", true), "%C3%A9%F0%9F%98%80");
  EXPECT_EQ(sigv4::UriEncode("*%?#:;,'()!$@", true), "%2A%25%3F%23%3A%3B%2C%27%28%29%21%24%40");
  EXPECT_EQ(sigv4::UriEncode(std::string("\0\x7F", 2), true), "%00%7F");
  EXPECT_EQ(sigv4::CanonicalQueryString({}), "");
  EXPECT_EQ(sigv4::CanonicalQueryString(
                {{"prefix", "a b+c/d"}, {"continuation-token", "x+y/z="}, {"list-type", "2"}}),
            "continuation-token=x%2By%2Fz%3D&list-type=2&prefix=a%20b%2Bc%2Fd");
  EXPECT_EQ(sigv4::AmzDate(std::chrono::system_clock::time_point(std::chrono::seconds(1369353600))),
            "20130524T000000Z");
  EXPECT_EQ(sigv4::AmzDate(std::chrono::system_clock::time_point(std::chrono::seconds(1700000001))),
            "20231114T221321Z");
}

// ---------------------------------------------------------------------------------------
// The XML reader

TEST(S3XmlTest, ParsesAListBucketResult) {
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!-- a comment -->\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>bucket</Name><Prefix/><KeyCount>4</KeyCount><MaxKeys>1000</MaxKeys>"
      "<IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>1w3X+/tok=</NextContinuationToken>"
      "<Contents><Key>eq/a=b&amp;c&lt;&gt;</Key><LastModified>2024-01-01T00:00:00.000Z"
      "</LastModified><ETag>&quot;0123abcd&quot;</ETag><Size>12</Size>"
      "<Owner><ID>1</ID><DisplayName>me</DisplayName></Owner>"
      "<StorageClass>STANDARD</StorageClass></Contents>\n"
      "<Contents>\n  <Key> spaced &#x27;&#39;&#x1F600; </Key>\n  <Size> 0 </Size>\n"
      "  <ETag>\"plain\"</ETag>\n</Contents>"
      "<Contents><Key><![CDATA[a<b>&c]]></Key><Size>18446744073709551615</Size></Contents>"
      "<Contents><Key>k</Key><Size>1</Size><ETag>abc-2</ETag></Contents>"
      "<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>"
      "</ListBucketResult>\n";
  Result<ListObjectsPage> page = ParseListObjectsV2(xml);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1w3X+/tok=");
  ASSERT_EQ(page->objects.size(), 4u);
  EXPECT_EQ(page->objects[0].key, "eq/a=b&c<>");
  EXPECT_EQ(page->objects[0].size, 12u);
  EXPECT_EQ(page->objects[0].etag, "0123abcd");
  EXPECT_EQ(page->objects[1].key, " spaced ''\xF0\x9F\x98\x80 ");
  EXPECT_EQ(page->objects[1].size, 0u);
  EXPECT_EQ(page->objects[1].etag, "plain");
  EXPECT_EQ(page->objects[2].key, "a<b>&c");
  EXPECT_EQ(page->objects[2].size, 18446744073709551615u);
  EXPECT_EQ(page->objects[2].etag, "");
  EXPECT_EQ(page->objects[3].etag, "abc-2");

  Result<ListObjectsPage> last =
      ParseListObjectsV2("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_FALSE(last->truncated);
  EXPECT_TRUE(last->objects.empty());
}

TEST(S3XmlTest, RefusesMalformedAndOtherDocuments) {
  for (const std::string xml : {
           "",
           "not xml",
           "<ListBucketResult>",
           "<ListBucketResult><Contents><Key>a</Contents></ListBucketResult>",
           "<ListBucketResult></ListBucketResult><ListBucketResult></ListBucketResult>",
           "<ListBucketResult><!-- unterminated </ListBucketResult>",
           "<ListBucketResult><Key><![CDATA[x</Key></ListBucketResult>",
           "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
           "<ListBucketResult><Contents><Key>a</Key><Size>12x</Size></Contents>"
           "</ListBucketResult>",
           "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents>"
           "</ListBucketResult>",
           "<Error><Code>NoSuchBucket</Code></Error>",
           "<ListBucketResult></ListBucketResult> trailing",
       }) {
    Result<ListObjectsPage> page = ParseListObjectsV2(xml);
    EXPECT_FALSE(page.ok()) << xml;
    EXPECT_EQ(page.status().code(), ErrorCode::kIOError) << xml;
  }
}

TEST(S3XmlTest, Unescapes) {
  EXPECT_EQ(XmlUnescape("a &amp; b &lt;&gt;&quot;&apos; &#65;&#x42;&#X43;"), "a & b <>\"' ABC");
  EXPECT_EQ(XmlUnescape("&#xE9;&#233;&#x20AC;"), "\xC3\xA9\xC3\xA9\xE2\x82\xAC");
  // Anything else stays as written.
  EXPECT_EQ(XmlUnescape("&unknown; & alone &#0; &#xD800; &#x110000; &#; &amp"),
            "&unknown; & alone &#0; &#xD800; &#x110000; &#; &amp");
}

TEST(S3XmlTest, ParsesErrorDocuments) {
  std::optional<S3ErrorBody> error = ParseS3Error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist.</Message><Key>a&amp;b</Key>"
      "<RequestId>1</RequestId></Error>");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "NoSuchKey");
  EXPECT_EQ(error->message, "The specified key does not exist.");
  EXPECT_FALSE(ParseS3Error("").has_value());
  EXPECT_FALSE(ParseS3Error("<html><body>Bad Gateway</body></html>").has_value());
  EXPECT_FALSE(ParseS3Error("<Error><Code>x</Code>").has_value());
}

// ---------------------------------------------------------------------------------------
// Endpoints and addressing

TEST(S3EndpointTest, ParsesEndpoints) {
  Result<S3Endpoint> local = ParseS3Endpoint("http://127.0.0.1:4569");
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_FALSE(local->https);
  EXPECT_EQ(local->host, "127.0.0.1");
  EXPECT_EQ(local->port, "4569");
  EXPECT_EQ(local->url, "http://127.0.0.1:4569");
  EXPECT_EQ(local->HostHeader(local->host), "127.0.0.1:4569");

  Result<S3Endpoint> aws = ParseS3Endpoint("https://s3.amazonaws.com/");
  ASSERT_TRUE(aws.ok()) << aws.status().ToString();
  EXPECT_TRUE(aws->https);
  EXPECT_EQ(aws->port, "443");
  EXPECT_EQ(aws->url, "https://s3.amazonaws.com");
  EXPECT_EQ(aws->HostHeader(aws->host), "s3.amazonaws.com");

  Result<S3Endpoint> v6 = ParseS3Endpoint("http://[::1]:9000");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->HostHeader(v6->host), "[::1]:9000");

  Result<S3Endpoint> plain = ParseS3Endpoint("http://minio");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->port, "80");
  EXPECT_EQ(plain->HostHeader(plain->host), "minio");

  for (const std::string endpoint :
       {"", "ftp://host", "http://", "https://", "http://host:0", "http://host:65536",
        "http://host:abc", "http://host:", "http://host/path", "http://host?x=1", "127.0.0.1:9000",
        "http://user@host", "http://[::1", "http://[]:80", "http://a:1:2"}) {
    Result<S3Endpoint> parsed = ParseS3Endpoint(endpoint);
    EXPECT_FALSE(parsed.ok()) << endpoint;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kValidation) << endpoint;
  }

  ObjectStoreOptions options;
  options.endpoint = "s3.amazonaws.com";
  EXPECT_EQ(MakeObjectStore(options).status().code(), ErrorCode::kValidation);
}

TEST(S3EndpointTest, AddressesPathStyleAndVirtualHosted) {
  Result<S3Endpoint> endpoint = ParseS3Endpoint("http://s3.example.com:9000");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();

  S3Target path = S3RequestTarget(*endpoint, true, "my-bucket", "dir/a b+c.txt");
  EXPECT_EQ(path.connect_host, "s3.example.com");
  EXPECT_EQ(path.host_header, "s3.example.com:9000");
  EXPECT_EQ(path.path, "/my-bucket/dir/a%20b%2Bc.txt");
  EXPECT_EQ(S3RequestTarget(*endpoint, true, "my-bucket", "").path, "/my-bucket");

  S3Target hosted = S3RequestTarget(*endpoint, false, "my-bucket", "dir/a b+c.txt");
  EXPECT_EQ(hosted.connect_host, "my-bucket.s3.example.com");
  EXPECT_EQ(hosted.host_header, "my-bucket.s3.example.com:9000");
  EXPECT_EQ(hosted.path, "/dir/a%20b%2Bc.txt");
  EXPECT_EQ(S3RequestTarget(*endpoint, false, "my-bucket", "").path, "/");
}

}  // namespace
}  // namespace tidewater::connectors
