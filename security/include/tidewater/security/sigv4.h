// AWS Signature Version 4 (header-based authentication): the signer the project's clients
// use (S3 object stores, tidewaterd clients), the pieces the server's verifier shares with it,
// and the digests SigV4 and S3 need, on OpenSSL's EVP and HMAC.
//
// Pure functions of their arguments: thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tidewater::security::sigv4 {

// Lower-case hex of `bytes`.
std::string Hex(std::string_view bytes);
// Hex SHA-256 of `data` (x-amz-content-sha256, the canonical request's hash).
std::string Sha256Hex(std::string_view data);
// Hex MD5 of `data` (S3's ETag of a single-part upload).
std::string Md5Hex(std::string_view data);
// Base64 of the MD5 of `data` (the Content-MD5 header).
std::string Md5Base64(std::string_view data);
// The raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

// S3's URI encoding (UriEncode in the SigV4 documentation): the unreserved characters
// A-Z a-z 0-9 - . _ ~ stay as they are, every other byte becomes %XX (upper-case hex, so
// a UTF-8 character becomes one %XX per byte). '/' stays when `keep_slash` (an object key
// in a path, where each segment is encoded), else it becomes %2F (a query name or value).
std::string UriEncode(std::string_view text, bool keep_slash);

// Query parameters or headers: raw (unencoded) names and values, in any order.
using Params = std::vector<std::pair<std::string, std::string>>;

// The canonical query string: names and values UriEncoded, sorted by encoded name (then
// value), "name=value" joined by '&' ("name=" for an empty value); "" for no parameters.
// The object store also sends its query strings in this form.
std::string CanonicalQueryString(const Params& query);

// The parameters of a query string as sent ("a=1&b=x%20y&flag"), percent-decoded ("flag"
// alone is "flag" = ""; a malformed escape stays as it is; empty pieces are skipped).
Params ParseQueryString(std::string_view query);

// `time` as x-amz-date writes it: "20130524T000000Z" (UTC, ISO 8601 basic format).
std::string AmzDate(std::chrono::system_clock::time_point time);
// The inverse of AmzDate: nullopt unless `text` is exactly "YYYYMMDDTHHMMSSZ" naming a
// valid UTC date and time.
std::optional<std::chrono::sys_seconds> ParseAmzDate(std::string_view text);

// The algorithm named first in the Authorization header and the string to sign.
inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
// The last element of a credential scope.
inline constexpr std::string_view kScopeTerminator = "aws4_request";

// A header value as the canonical request holds it: no leading or trailing spaces or tabs,
// each inner run of them one space.
std::string CanonicalHeaderValue(std::string_view value);

// The canonical request from parts already in canonical form: `canonical_uri` as sent
// ("" = "/"), `canonical_query` as CanonicalQueryString writes it, `canonical_headers`
// lower-case names with canonical values, in the order signed (their names joined by ';'
// are the signed headers), `payload_sha256` the hex SHA-256 of the body.
std::string CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                             std::string_view canonical_query, const Params& canonical_headers,
                             std::string_view payload_sha256);

// The credential scope "20130524/us-east-1/s3/aws4_request"; `date` is YYYYMMDD.
std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service);

// What the signature is the HMAC of: the algorithm, `amz_date`, `scope` and the hash of
// `canonical_request`, one a line.
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

// The raw 32-byte signing key: the HMAC chain from "AWS4" + the secret through `date`
// (YYYYMMDD), `region`, `service` and "aws4_request". The signature is
// Hex(HmacSha256(SigningKey(...), StringToSign(...))).
std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service);

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" for long-term credentials
};

// What a request's signature covers.
struct Request {
  std::string method;         // "GET", "PUT", "HEAD", ...
  std::string canonical_uri;  // the URI-encoded path exactly as sent ("/bucket/a%20b"); "" = "/"
  Params query;               // raw names and values
  // The headers to sign, names in any case: at least host and x-amz-date (and
  // x-amz-security-token with temporary credentials); S3 also needs x-amz-content-sha256,
  // DynamoDB clients sign content-type and x-amz-target. Values are trimmed and inner runs
  // of spaces collapsed; a name given twice has its values joined by ','.
  Params headers;
  std::string payload_sha256;  // hex SHA-256 of the body (S3 also sends it as a header)
};

// The intermediate texts and the result, so that tests can compare each step with AWS's
// examples.
struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-content-sha256;x-amz-date"
  std::string signature;       // hex
  std::string authorization;   // the Authorization header's value
};

// Signs `request` for `service` ("s3", "dynamodb") in `region` at `amz_date` (the
// request's x-amz-date, "YYYYMMDDTHHMMSSZ").
Signed Sign(const Request& request, const Credentials& credentials, std::string_view region,
            std::string_view service, std::string_view amz_date);

}  // namespace tidewater::security::sigv4
