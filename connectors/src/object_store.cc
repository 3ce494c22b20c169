// The object stores: S3 over HTTP or HTTPS with Boost.Beast (one connection per request,
// each request signed with SigV4, see sigv4.h), buckets in local directories, and the store
// MakeObjectStore answers, which routes each bucket to one of them.
#include "tidewater/connectors/object_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "s3_endpoint.h"
#include "s3_xml.h"
#include "tidewater/core/durable_file.h"
#include "tidewater/security/sigv4.h"
#include "tidewater/security/tls.h"

namespace tidewater {
namespace connectors {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
namespace sigv4 = security::sigv4;
using tcp = asio::ip::tcp;

std::string S3Endpoint::HostHeader(std::string_view host_name) const {
  std::string header = host_name.find(':') == std::string_view::npos
                           ? std::string(host_name)
                           : "[" + std::string(host_name) + "]";
  if (port != (https ? "443" : "80")) header += ":" + port;
  return header;
}

Result<S3Endpoint> ParseS3Endpoint(std::string_view text) {
  const Status invalid = Status::Validation("object storage endpoint '" + std::string(text) +
                                            "' is not of the form http[s]://HOST[:PORT]");
  S3Endpoint endpoint;
  std::string_view rest = text;
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  endpoint.url = std::string(rest);
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    endpoint.https = true;
    rest.remove_prefix(8);
  } else {
    return invalid;
  }
  // No path, query, fragment or user information.
  if (rest.empty() || rest.find_first_of("/?#@ \t") != std::string_view::npos) return invalid;
  std::string_view port;
  bool has_port = false;
  if (rest.front() == '[') {  // [IPv6]:PORT
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return invalid;
    endpoint.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid;
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    const size_t colon = rest.find(':');
    endpoint.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      has_port = true;
    }
    if (endpoint.host.empty()) return invalid;
  }
  if (!has_port) {
    endpoint.port = endpoint.https ? "443" : "80";
  } else {
    unsigned number = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || number == 0 ||
        number > 65535) {
      return invalid;
    }
    endpoint.port = std::to_string(number);
  }
  return endpoint;
}

S3Target S3RequestTarget(const S3Endpoint& endpoint, bool path_style, std::string_view bucket,
                         std::string_view key) {
  S3Target target;
  target.path = "/";
  if (path_style) {
    target.connect_host = endpoint.host;
    target.path += sigv4::UriEncode(bucket, false);
    if (!key.empty()) {
      target.path += '/';
      target.path += sigv4::UriEncode(key, true);
    }
  } else {
    target.connect_host = std::string(bucket) + "." + endpoint.host;
    target.path += sigv4::UriEncode(key, true);
  }
  target.host_header = endpoint.HostHeader(target.connect_host);
  return target;
}

namespace {

constexpr std::chrono::seconds kRequestTimeout(30);
// Local buckets: the prefix of the temporary file an object is written to before its rename.
constexpr std::string_view kUploadPrefix = ".tw-upload-";

std::string Text(beast::string_view text) { return std::string(text.data(), text.size()); }

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string Where(std::string_view bucket, std::string_view key) {
  std::string where(bucket);
  if (!key.empty()) {
    where += '/';
    where += key;
  }
  return where;
}

Status CheckNames(const std::string& bucket, const std::string& key) {
  if (bucket.empty()) return Status::Validation("object storage: the bucket name is empty");
  if (key.empty()) return Status::Validation("object storage: the object key is empty");
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// S3

// One request to S3.
struct S3Call {
  http::verb verb = http::verb::get;
  std::string_view bucket;
  std::string_view key;  // "" for the bucket
  sigv4::Params query;
  std::string_view body;
};

// Its answer.
struct S3Answer {
  unsigned status = 0;
  std::string body;
  std::string etag;  // the ETag header, without its quotes
  // x-amz-error-code and x-amz-error-message, which some servers send beside (or, answering
  // HEAD, instead of) the error document.
  std::string error_code;
  std::string error_message;
};

// How far a transfer got.
struct TransferState {
  const char* stage = "resolving the host";
  beast::error_code failure;
  bool answered = false;
};

// Writes `request` on the connected `stream`, then reads the answer into `parser`.
template <typename Stream>
void WriteThenRead(Stream& stream, http::request<http::string_body>& request,
                   beast::flat_buffer& buffer, http::response_parser<http::string_body>& parser,
                   TransferState& state) {
  state.stage = "sending the request";
  http::async_write(
      stream, request, [&stream, &buffer, &parser, &state](beast::error_code written, size_t) {
        if (written) {
          state.failure = written;
          return;
        }
        state.stage = "reading the answer";
        http::async_read(stream, buffer, parser, [&state](beast::error_code read, size_t) {
          state.failure = read;
          state.answered = !read;
        });
      });
}

// Objects in an S3-compatible service. Requests are signed when there is an access key id
// (else sent anonymously, as for a public bucket); each one uses a connection of its own
// and must be done within kRequestTimeout. Thread-safe: nothing mutable is shared.
class S3ObjectStore final : public ObjectStore {
 public:
  S3ObjectStore(S3Endpoint endpoint, std::string region, bool path_style,
                sigv4::Credentials credentials, std::shared_ptr<asio::ssl::context> tls)
      : endpoint_(std::move(endpoint)),
        region_(std::move(region)),
        path_style_(path_style),
        credentials_(std::move(credentials)),
        tls_(std::move(tls)) {}

  Result<std::string> PutObject(const std::string& bucket, const std::string& key,
                                const std::string& data) override {
    TW_RETURN_IF_ERROR(CheckNames(bucket, key));
    S3Call call;
    call.verb = http::verb::put;
    call.bucket = bucket;
    call.key = key;
    call.body = data;
    TW_ASSIGN_OR_RETURN(S3Answer answer, Send(call));
    if (answer.status / 100 != 2) return ErrorOf(answer, Where(bucket, key), "");
    // (Every S3 answers a PUT with the ETag; the MD5 is what it would say.)
    if (answer.etag.empty()) return sigv4::Md5Hex(data);
    return std::move(answer.etag);
  }

  Result<std::string> GetObject(const std::string& bucket, const std::string& key) override {
    TW_RETURN_IF_ERROR(CheckNames(bucket, key));
    S3Call call;
    call.verb = http::verb::get;
    call.bucket = bucket;
    call.key = key;
    TW_ASSIGN_OR_RETURN(S3Answer answer, Send(call));
    if (answer.status != 200) return ErrorOf(answer, Where(bucket, key), "NoSuchKey");
    return std::move(answer.body);
  }

  Result<std::vector<ObjectInfo>> ListObjects(const std::string& bucket,
                                              const std::string& prefix) override {
    if (bucket.empty()) return Status::Validation("object storage: the bucket name is empty");
    const std::string where = prefix.empty() ? bucket : bucket + ", prefix '" + prefix + "'";
    std::vector<ObjectInfo> objects;
    std::string token;
    while (true) {
      S3Call call;
      call.verb = http::verb::get;
      call.bucket = bucket;
      call.query.emplace_back("list-type", "2");
      if (!prefix.empty()) call.query.emplace_back("prefix", prefix);
      if (!token.empty()) call.query.emplace_back("continuation-token", token);
      TW_ASSIGN_OR_RETURN(S3Answer answer, Send(call));
      if (answer.status != 200) return ErrorOf(answer, where, "NoSuchBucket");
      Result<ListObjectsPage> page = ParseListObjectsV2(answer.body);
      if (!page.ok()) {
        return Status::IOError("S3 ListObjectsV2 answer for " + where + ": " +
                               page.status().message());
      }
      for (ObjectInfo& object : page->objects) objects.push_back(std::move(object));
      if (!page->truncated) break;
      if (page->next_continuation_token.empty() || page->next_continuation_token == token) {
        return Status::IOError("S3 ListObjectsV2 answer for " + where +
                               ": truncated without a new continuation token");
      }
      token = std::move(page->next_continuation_token);
    }
    // S3 lists in UTF-8 binary order already; sorting makes it so for any server.
    std::sort(objects.begin(), objects.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return objects;
  }

  Status CheckBucket(const std::string& bucket) override {
    if (bucket.empty()) return Status::Validation("object storage: the bucket name is empty");
    S3Call call;
    call.verb = http::verb::head;
    call.bucket = bucket;
    TW_ASSIGN_OR_RETURN(S3Answer answer, Send(call));
    if (answer.status != 200) return ErrorOf(answer, bucket, "NoSuchBucket");
    return Status::Ok();
  }

 private:
  // Sends `call`, signed; the answer whatever its status. IOError naming the endpoint when
  // there is no answer.
  Result<S3Answer> Send(const S3Call& call) const {
    const S3Target target = S3RequestTarget(endpoint_, path_style_, call.bucket, call.key);
    const std::string query = sigv4::CanonicalQueryString(call.query);
    const std::string payload_sha256 = sigv4::Sha256Hex(call.body);
    const std::string amz_date = sigv4::AmzDate(std::chrono::system_clock::now());
    const beast::string_view verb_name = http::to_string(call.verb);
    const std::string method(verb_name.data(), verb_name.size());

    const std::string request_target = query.empty() ? target.path : target.path + "?" + query;
    http::request<http::string_body> request{call.verb, request_target, 11};
    request.set(http::field::host, target.host_header);
    request.set(http::field::user_agent, "tidewater");
    request.set("x-amz-content-sha256", payload_sha256);
    request.set("x-amz-date", amz_date);
    if (!credentials_.session_token.empty()) {
      request.set("x-amz-security-token", credentials_.session_token);
    }
    if (call.verb == http::verb::put) {
      request.set(http::field::content_type, "application/octet-stream");
      request.set("Content-MD5", sigv4::Md5Base64(call.body));
    }
    if (!credentials_.access_key_id.empty()) {
      sigv4::Request to_sign;
      to_sign.method = method;
      to_sign.canonical_uri = target.path;
      to_sign.query = call.query;
      to_sign.headers.emplace_back("host", target.host_header);
      to_sign.headers.emplace_back("x-amz-content-sha256", payload_sha256);
      to_sign.headers.emplace_back("x-amz-date", amz_date);
      if (!credentials_.session_token.empty()) {
        to_sign.headers.emplace_back("x-amz-security-token", credentials_.session_token);
      }
      to_sign.payload_sha256 = payload_sha256;
      const sigv4::Signed signed_request =
          sigv4::Sign(to_sign, credentials_, region_, "s3", amz_date);
      request.set(http::field::authorization, signed_request.authorization);
    }
    request.keep_alive(false);
    if (!call.body.empty()) request.body().assign(call.body.data(), call.body.size());
    request.prepare_payload();
    return Transfer(target.connect_host, request, method + " " + Where(call.bucket, call.key));
  }

  // Connects to `host` (TLS for https), writes `request` and reads the answer, all within
  // kRequestTimeout.
  Result<S3Answer> Transfer(const std::string& host, http::request<http::string_body>& request,
                            const std::string& what) const {
    try {
      asio::io_context io;
      tcp::resolver resolver(io);
      http::response_parser<http::string_body> parser;
      parser.body_limit(boost::none);  // objects of any size
      // An answer to HEAD announces a Content-Length but has no body.
      if (request.method() == http::verb::head) parser.skip(true);
      beast::flat_buffer buffer;
      TransferState state;
      std::optional<beast::tcp_stream> plain;
      std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
      if (tls_ != nullptr) {
        secure.emplace(io, *tls_);
      } else {
        plain.emplace(io);
      }
      beast::tcp_stream& connection = secure ? secure->next_layer() : *plain;
      // One deadline for connect, handshake, write and read; run_for bounds the resolve.
      connection.expires_after(kRequestTimeout);
      resolver.async_resolve(
          host, endpoint_.port,
          [&](beast::error_code resolved, tcp::resolver::results_type addresses) {
            if (resolved) {
              state.failure = resolved;
              return;
            }
            state.stage = "connecting";
            connection.async_connect(
                addresses, [&](beast::error_code connected, const tcp::endpoint&) {
                  if (connected) {
                    state.failure = connected;
                    return;
                  }
                  if (!secure) {
                    WriteThenRead(*plain, request, buffer, parser, state);
                    return;
                  }
                  state.stage = "setting up TLS";
                  // SNI (for names only) and the certificate's host name check.
                  if (!security::SetTlsPeerName(secure->native_handle(), host).ok()) {
                    state.failure = asio::error::invalid_argument;
                    return;
                  }
                  state.stage = "the TLS handshake";
                  secure->async_handshake(asio::ssl::stream_base::client,
                                          [&](beast::error_code shaken) {
                                            if (shaken) {
                                              state.failure = shaken;
                                              return;
                                            }
                                            WriteThenRead(*secure, request, buffer, parser, state);
                                          });
                });
          });
      io.run_for(kRequestTimeout + std::chrono::seconds(1));
      if (!state.answered) {
        const std::string why =
            !state.failure || state.failure == beast::error::timeout
                ? "no answer within " + std::to_string(kRequestTimeout.count()) + " s"
                : state.failure.message();
        return Status::IOError("S3 endpoint " + endpoint_.url + ": " + why + " while " +
                               state.stage + " (" + what + ")");
      }
      http::response<http::string_body> response = parser.release();
      S3Answer answer;
      answer.status = response.result_int();
      answer.etag = Text(response[http::field::etag]);
      if (answer.etag.size() >= 2 && answer.etag.front() == '"' && answer.etag.back() == '"') {
        answer.etag = answer.etag.substr(1, answer.etag.size() - 2);
      }
      answer.error_code = Text(response["x-amz-error-code"]);
      answer.error_message = Text(response["x-amz-error-message"]);
      answer.body = std::move(response.body());
      return answer;
    } catch (const std::exception& e) {
      return Status::IOError("S3 endpoint " + endpoint_.url + ": " + e.what() + " (" + what + ")");
    }
  }

  // The Status of an error answer: "S3 <code>: <message> (<where>)", ResourceNotFound for
  // 404, NoSuchBucket and NoSuchKey, IOError otherwise. `code_for_404` names a 404 that
  // came without a code (an answer to HEAD has no body).
  static Status ErrorOf(const S3Answer& answer, const std::string& where,
                        std::string_view code_for_404) {
    std::string code = answer.error_code;
    std::string message = answer.error_message;
    if (std::optional<S3ErrorBody> error = ParseS3Error(answer.body)) {
      if (!error->code.empty()) code = std::move(error->code);
      if (!error->message.empty()) message = std::move(error->message);
    }
    if (code.empty()) {
      if (answer.status == 404) {
        code = code_for_404.empty() ? "NotFound" : std::string(code_for_404);
      } else if (answer.status == 403) {
        code = "AccessDenied";
      } else {
        code = "HTTP" + std::to_string(answer.status);
      }
    }
    if (message.empty()) message = "HTTP status " + std::to_string(answer.status);
    std::string text = "S3 " + code + ": " + message + " (" + where + ")";
    if (answer.status == 404 || code == "NoSuchBucket" || code == "NoSuchKey") {
      return Status::NotFound(std::move(text));
    }
    return Status::IOError(std::move(text));
  }

  const S3Endpoint endpoint_;
  const std::string region_;
  const bool path_style_;
  const sigv4::Credentials credentials_;
  const std::shared_ptr<asio::ssl::context> tls_;  // null for http
};

// ---------------------------------------------------------------------------------------
// Local directories

Status ErrnoStatus(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

// A key that names a file below the bucket's directory and nothing else: relative, no empty,
// "." or ".." segment, no NUL, no segment that looks like an upload's temporary file.
Status CheckLocalKey(const std::string& key) {
  if (key.empty()) return Status::Validation("object storage: the object key is empty");
  const auto invalid = [&key](const std::string& why) {
    return Status::Validation("object key '" + key + "' " + why);
  };
  if (key.front() == '/') return invalid("starts with '/'");
  if (key.find('\0') != std::string::npos) return invalid("holds a NUL character");
  size_t start = 0;
  while (true) {
    const size_t slash = key.find('/', start);
    const std::string_view segment = std::string_view(key).substr(
        start, slash == std::string::npos ? std::string_view::npos : slash - start);
    if (segment.empty()) return invalid("has an empty path segment");
    if (segment == "." || segment == "..") {
      return invalid("has a '" + std::string(segment) + "' path segment");
    }
    if (segment.starts_with(kUploadPrefix)) {
      return invalid("has a segment starting with '" + std::string(kUploadPrefix) + "'");
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

// The size and hex MD5 of the file at `path`; nullopt if it vanished.
Result<std::optional<ObjectInfo>> DescribeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<ObjectInfo>();
    return ErrnoStatus("cannot open", path);
  }
  EVP_MD_CTX* md5 = EVP_MD_CTX_new();
  if (md5 == nullptr || EVP_DigestInit_ex(md5, EVP_md5(), nullptr) != 1) {
    EVP_MD_CTX_free(md5);
    ::close(fd);
    return Status::Internal("cannot start an MD5 digest");
  }
  ObjectInfo info;
  std::array<char, 1 << 16> chunk{};
  while (true) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const Status status = ErrnoStatus("cannot read", path);
      EVP_MD_CTX_free(md5);
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    EVP_DigestUpdate(md5, chunk.data(), static_cast<size_t>(n));
    info.size += static_cast<uint64_t>(n);
  }
  ::close(fd);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  EVP_DigestFinal_ex(md5, digest.data(), &digest_size);
  EVP_MD_CTX_free(md5);
  info.etag =
      sigv4::Hex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest_size));
  return std::optional<ObjectInfo>(std::move(info));
}

// Buckets in local directories: an object is the file at <directory>/<key>, written to a
// temporary file beside it and renamed into place (readers and listings never see part of
// one). Thread-safe: no shared mutable state; concurrent writers of one key each rename a
// complete file, the last one wins.
class LocalObjectStore final : public ObjectStore {
 public:
  explicit LocalObjectStore(std::map<std::string, std::string> directories)
      : directories_(std::move(directories)) {
    for (auto& entry : directories_) {
      std::string& directory = entry.second;
      while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
    }
  }

  bool Serves(const std::string& bucket) const { return directories_.count(bucket) > 0; }

  Result<std::string> PutObject(const std::string& bucket, const std::string& key,
                                const std::string& data) override {
    TW_ASSIGN_OR_RETURN(const std::string directory, Directory(bucket));
    TW_RETURN_IF_ERROR(CheckLocalKey(key));
    const std::string path = directory + "/" + key;
    const std::string parent = fs::path(path).parent_path().string();
    std::error_code created;
    fs::create_directories(parent, created);
    if (created) {
      return Status::IOError("local bucket " + bucket + ": cannot create " + parent + ": " +
                             created.message());
    }
    std::string temporary = parent + "/" + std::string(kUploadPrefix) + "XXXXXX";
    const int fd = ::mkstemp(temporary.data());
    if (fd < 0) return ErrnoStatus("cannot create a temporary file in", parent);
    Status written = WriteAll(fd, data, temporary);
    if (written.ok() && ::fchmod(fd, 0644) != 0) written = ErrnoStatus("cannot chmod", temporary);
    if (written.ok() && ::fsync(fd) != 0) written = ErrnoStatus("cannot sync", temporary);
    if (::close(fd) != 0 && written.ok()) written = ErrnoStatus("cannot close", temporary);
    if (written.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) {
      written = ErrnoStatus("cannot rename " + temporary + " to", path);
    }
    if (!written.ok()) {
      ::unlink(temporary.c_str());
      return written;
    }
    TW_RETURN_IF_ERROR(SyncDirectory(parent));
    return sigv4::Md5Hex(data);
  }

  Result<std::string> GetObject(const std::string& bucket, const std::string& key) override {
    TW_ASSIGN_OR_RETURN(const std::string directory, Directory(bucket));
    TW_RETURN_IF_ERROR(CheckLocalKey(key));
    const std::string path = directory + "/" + key;
    const Status missing =
        Status::NotFound("local bucket " + bucket + ": no object '" + key + "' (" + path + ")");
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return missing;
      return ErrnoStatus("cannot open", path);
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      const Status status = ErrnoStatus("cannot stat", path);
      ::close(fd);
      return status;
    }
    if (!S_ISREG(info.st_mode)) {
      ::close(fd);
      return missing;
    }
    std::string data(static_cast<size_t>(info.st_size), '\0');
    size_t done = 0;
    while (true) {
      if (done == data.size()) data.resize(data.size() + (1 << 16));  // it may have grown
      const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const Status status = ErrnoStatus("cannot read", path);
        ::close(fd);
        return status;
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    data.resize(done);
    return data;
  }

  Result<std::vector<ObjectInfo>> ListObjects(const std::string& bucket,
                                              const std::string& prefix) override {
    TW_ASSIGN_OR_RETURN(const std::string directory, Directory(bucket));
    const fs::path root(directory);
    std::vector<ObjectInfo> objects;
    std::error_code error;
    for (fs::recursive_directory_iterator it(root, error), end; !error && it != end;
         it.increment(error)) {
      const fs::directory_entry& entry = *it;
      std::error_code ignored;
      if (!entry.is_regular_file(ignored)) continue;
      if (entry.path().filename().string().starts_with(kUploadPrefix)) continue;
      std::string key = entry.path().lexically_relative(root).generic_string();
      if (!key.starts_with(prefix)) continue;
      TW_ASSIGN_OR_RETURN(std::optional<ObjectInfo> info, DescribeFile(entry.path().string()));
      if (!info) continue;  // replaced or removed meanwhile
      info->key = std::move(key);
      objects.push_back(std::move(*info));
    }
    if (error) {
      return Status::IOError("local bucket " + bucket + ": cannot list " + directory + ": " +
                             error.message());
    }
    std::sort(objects.begin(), objects.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return objects;
  }

  Status CheckBucket(const std::string& bucket) override {
    TW_ASSIGN_OR_RETURN(const std::string directory, Directory(bucket));
    if (::access(directory.c_str(), W_OK | X_OK) != 0) {
      return Status::NotFound("local bucket " + bucket + ": directory " + directory +
                              " is not writable");
    }
    return Status::Ok();
  }

 private:
  // The bucket's directory; ResourceNotFound when it is not one of these buckets or its
  // directory does not exist.
  Result<std::string> Directory(const std::string& bucket) const {
    const auto found = directories_.find(bucket);
    if (found == directories_.end()) {
      return Status::NotFound("no object storage is configured for bucket " + bucket);
    }
    std::error_code error;
    if (!fs::is_directory(found->second, error)) {
      return Status::NotFound("local bucket " + bucket + ": no directory " + found->second);
    }
    return found->second;
  }

  std::map<std::string, std::string> directories_;  // bucket -> directory (no trailing '/')
};

// ---------------------------------------------------------------------------------------

// The local buckets, then the endpoint for every other bucket.
class RoutingObjectStore final : public ObjectStore {
 public:
  RoutingObjectStore(std::unique_ptr<LocalObjectStore> local, std::unique_ptr<S3ObjectStore> s3)
      : local_(std::move(local)), s3_(std::move(s3)) {}

  Result<std::string> PutObject(const std::string& bucket, const std::string& key,
                                const std::string& data) override {
    TW_ASSIGN_OR_RETURN(ObjectStore * store, Route(bucket));
    return store->PutObject(bucket, key, data);
  }
  Result<std::string> GetObject(const std::string& bucket, const std::string& key) override {
    TW_ASSIGN_OR_RETURN(ObjectStore * store, Route(bucket));
    return store->GetObject(bucket, key);
  }
  Result<std::vector<ObjectInfo>> ListObjects(const std::string& bucket,
                                              const std::string& prefix) override {
    TW_ASSIGN_OR_RETURN(ObjectStore * store, Route(bucket));
    return store->ListObjects(bucket, prefix);
  }
  Status CheckBucket(const std::string& bucket) override {
    TW_ASSIGN_OR_RETURN(ObjectStore * store, Route(bucket));
    return store->CheckBucket(bucket);
  }

 private:
  Result<ObjectStore*> Route(const std::string& bucket) const {
    ObjectStore* store = nullptr;
    if (local_ != nullptr && local_->Serves(bucket)) {
      store = local_.get();
    } else if (s3_ != nullptr) {
      store = s3_.get();
    } else {
      return Status::NotFound("no object storage is configured for bucket " + bucket);
    }
    return store;
  }

  const std::unique_ptr<LocalObjectStore> local_;  // null: no local buckets
  const std::unique_ptr<S3ObjectStore> s3_;        // null: no endpoint
};

}  // namespace
}  // namespace connectors

Result<std::shared_ptr<ObjectStore>> MakeObjectStore(const ObjectStoreOptions& options) {
  std::unique_ptr<connectors::LocalObjectStore> local;
  if (!options.local_buckets.empty()) {
    for (const auto& [bucket, directory] : options.local_buckets) {
      if (bucket.empty() || directory.empty()) {
        return Status::Validation("local bucket '" + bucket + "' -> '" + directory +
                                  "': a local bucket needs a name and a directory");
      }
    }
    local = std::make_unique<connectors::LocalObjectStore>(options.local_buckets);
  }
  std::unique_ptr<connectors::S3ObjectStore> s3;
  if (!options.endpoint.empty()) {
    TW_ASSIGN_OR_RETURN(connectors::S3Endpoint endpoint,
                        connectors::ParseS3Endpoint(options.endpoint));
    std::shared_ptr<boost::asio::ssl::context> tls;
    if (endpoint.https) {
      // The system's trusted certificates (or AWS_CA_BUNDLE's, as the AWS SDKs).
      security::TlsClientOptions tls_options;
      tls_options.ca_bundle_file = connectors::Environment("AWS_CA_BUNDLE");
      Result<std::shared_ptr<boost::asio::ssl::context>> context =
          security::MakeTlsClientContext(tls_options);
      if (!context.ok()) return Status::IOError("object storage: " + context.status().message());
      tls = std::move(*context);
    }
    // Credentials: the options' own, else the environment's. The session token comes from
    // the environment only with the environment's access key (never paired with another).
    connectors::sigv4::Credentials credentials{options.access_key_id, options.secret_access_key,
                                               options.session_token};
    const bool keys_from_environment = credentials.access_key_id.empty();
    if (keys_from_environment) {
      credentials.access_key_id = connectors::Environment("AWS_ACCESS_KEY_ID");
    }
    if (credentials.secret_access_key.empty()) {
      credentials.secret_access_key = connectors::Environment("AWS_SECRET_ACCESS_KEY");
    }
    if (credentials.session_token.empty() && keys_from_environment) {
      credentials.session_token = connectors::Environment("AWS_SESSION_TOKEN");
    }
    if (!credentials.access_key_id.empty() && credentials.secret_access_key.empty()) {
      return Status::Validation(
          "object storage: an access key id without a secret access key (set "
          "AWS_SECRET_ACCESS_KEY or the secret access key option)");
    }
    s3 = std::make_unique<connectors::S3ObjectStore>(
        std::move(endpoint), options.region.empty() ? std::string("us-east-1") : options.region,
        options.path_style, std::move(credentials), std::move(tls));
  }
  std::shared_ptr<ObjectStore> store =
      std::make_shared<connectors::RoutingObjectStore>(std::move(local), std::move(s3));
  return store;
}

}  // namespace tidewater
