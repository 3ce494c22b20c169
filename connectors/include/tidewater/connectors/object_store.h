// Object storage for exports and imports: an S3-compatible endpoint (requests signed with
// AWS Signature Version 4) or, for the embedded default, buckets mapped to local
// directories.
//
// Thread safety: an ObjectStore may be used from several threads at once. Exceptions never
// escape; errors are Status values (IOError naming the bucket and key, with the service's
// error code and message when it sent one).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tidewater/core/status.h"

namespace tidewater {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // as the store reports it, without quotes
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Stores `data` at bucket/key (replacing an object there). The answer is the object's
  // ETag (for a single-part upload, S3's is the hex MD5 of the data).
  virtual Result<std::string> PutObject(const std::string& bucket, const std::string& key,
                                        const std::string& data) = 0;
  // The object's bytes; ResourceNotFound when there is no such bucket or key.
  virtual Result<std::string> GetObject(const std::string& bucket, const std::string& key) = 0;
  // Every object whose key starts with `prefix`, in key order (all pages).
  virtual Result<std::vector<ObjectInfo>> ListObjects(const std::string& bucket,
                                                      const std::string& prefix) = 0;
  // Ok when the bucket exists and may be written; ResourceNotFound otherwise.
  virtual Status CheckBucket(const std::string& bucket) = 0;
};

// Where tidewaterd's exports and imports go (flags --s3-endpoint ... and the YAML config).
struct ObjectStoreOptions {
  // An S3-compatible endpoint, e.g. "http://127.0.0.1:4569" or "https://s3.amazonaws.com";
  // empty: only the local buckets below.
  std::string endpoint;
  std::string region = "us-east-1";
  std::string access_key_id;      // empty: the AWS_ACCESS_KEY_ID environment variable
  std::string secret_access_key;  // empty: AWS_SECRET_ACCESS_KEY
  std::string session_token;      // empty: AWS_SESSION_TOKEN (if set)
  // Path-style addressing (endpoint/bucket/key), as S3-compatible servers usually need;
  // false: virtual-hosted style (bucket.endpoint/key).
  bool path_style = true;
  // Buckets served from local directories instead of the endpoint: bucket name -> directory
  // (an object's key is its path below the directory).
  std::map<std::string, std::string> local_buckets;
};

// The store `options` describe: local buckets first, then the endpoint. ValidationException
// for a malformed endpoint.
Result<std::shared_ptr<ObjectStore>> MakeObjectStore(const ObjectStoreOptions& options);

}  // namespace tidewater
