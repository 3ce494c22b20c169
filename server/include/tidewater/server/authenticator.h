// Request authentication, kept apart from request handling: the router asks the
// Authenticator before it parses or executes anything (and the HTTP server asks it before
// answering GET /metrics or the console when those need a signature).
//
// With ServerOptions::require_auth the server checks AWS Signature Version 4 here
// (server/src/sigv4_authenticator.h); without it, it accepts every request.
#pragma once

#include <string>
#include <string_view>

#include "tidewater/core/status.h"

namespace tidewater::server {

// Read-only view of one HTTP request, valid for the duration of the Authenticate call.
class HttpRequestView {
 public:
  virtual ~HttpRequestView() = default;
  virtual std::string_view method() const = 0;
  virtual std::string_view target() const = 0;  // the request-target ("/", "/?x=y", ...)
  // The value of a header field (case-insensitive name); empty when absent.
  virtual std::string_view header(std::string_view name) const = 0;
  virtual std::string_view body() const = 0;
  // The client's IP address as text ("192.0.2.7", "2001:db8::1"); empty when unknown.
  virtual std::string_view remote_address() const { return {}; }
};

// Decides whether a request may proceed.
//
// [Contract] Return ok to let the request through, with `*principal` (never null) set to the
// authenticated caller's name (empty when requests are not authenticated), or the Status to
// reject it with (for example ErrorCode::kAccessDenied); the router sends that error to the
// client. The router authorizes the request for that principal (ServerOptions::authorization).
// [Threading] Called concurrently from every worker thread; implementations must be
// thread-safe. [Lifetime] Owned by the Server (shared_ptr) and outlives every request.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Status Authenticate(const HttpRequestView& request, std::string* principal) const = 0;
};

// Accepts every request, signed or not (signatures are not checked). The default without
// ServerOptions::require_auth. The principal is empty.
class AcceptAllAuthenticator final : public Authenticator {
 public:
  Status Authenticate(const HttpRequestView&, std::string* principal) const override {
    principal->clear();
    return Status::Ok();
  }
};

}  // namespace tidewater::server
