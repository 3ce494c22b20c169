// Private: how the S3 object store (object_store.cc) addresses an S3-compatible endpoint,
// path-style or virtual-hosted, exposed for its tests.
//
// Value types and pure functions: thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "tidewater/core/status.h"

namespace tidewater::connectors {

// A parsed endpoint URL: http[s]://HOST[:PORT] (an IPv6 address in brackets), without a
// path.
struct S3Endpoint {
  bool https = false;
  std::string host;  // a name or an address (IPv6 without its brackets)
  std::string port;  // "80" or "443" when the URL names none
  std::string url;   // as configured, without trailing '/': for messages

  // The Host header for `host` on this endpoint's port: ":PORT" unless the scheme's default
  // port, an IPv6 address in brackets.
  std::string HostHeader(std::string_view host_name) const;
};

// ValidationException for anything but http[s]://HOST[:PORT][/] with a port in 1..65535.
Result<S3Endpoint> ParseS3Endpoint(std::string_view endpoint);

// Where one request goes.
struct S3Target {
  std::string connect_host;  // the name to resolve and connect to
  std::string host_header;   // the Host header, as sent and signed
  std::string path;          // the URI-encoded path, as sent and signed (its canonical URI)
};

// The target of a request on `bucket` (`key` "": the bucket itself). Path-style:
// the endpoint's host and "/<bucket>/<key>"; virtual-hosted: "<bucket>.<host>" and "/<key>"
// (which needs a DNS name that resolves for each bucket). The bucket is URI-encoded whole,
// the key segment by segment (its '/' kept).
S3Target S3RequestTarget(const S3Endpoint& endpoint, bool path_style, std::string_view bucket,
                         std::string_view key);

}  // namespace tidewater::connectors
