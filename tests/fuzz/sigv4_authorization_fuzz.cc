// libFuzzer target for the SigV4 verifier: the Authorization header parser on arbitrary
// bytes, and whole verifications of requests made from them.
//
// Input: ParseAuthorization sees all of it. For Verify it is split at '\n' into the
// Authorization value, X-Amz-Date, Host, X-Amz-Security-Token and the request-target; the
// rest, after the fifth '\n', is the body (a missing part is an absent header, or "/" and an
// empty body). The request is a POST verified for "dynamodb" against a store holding one
// long-term and one temporary credential, at 20261206T120000Z by a ManualClock; the seeds
// are requests signed with them, so mutations reach every check up to the signature.
// Properties: nothing crashes; every error is an authentication error with a message; a
// parse that succeeds has lower-case signed headers and scope parts without '/'; a request
// that verifies names one of the store's credentials.
// Run through scripts/fuzz.sh (seeds in tests/fuzz/corpus/sigv4_authorization).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "tidewater/core/clock.h"
#include "tidewater/security/credential_store.h"
#include "tidewater/security/sigv4_verifier.h"

namespace {

using tidewater::ErrorCode;
using tidewater::security::Credential;

constexpr int64_t kNowMicros = 1'796'558'400'000'000;  // 2026-12-06T12:00:00Z

const Credential kLongTerm{"TWFUZZLONGTERM000001", "fuzz/long+term0000000000000000000000001", "", 0,
                           "alice"};
const Credential kTemporary{"TWFUZZTEMPORARY00002", "fuzz-temporary-0000000000000000000000002",
                            "fuzz-session-token", kNowMicros + 3'600'000'000, "bob"};

[[noreturn]] void Fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "sigv4_authorization_fuzz: %s\n%.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

const tidewater::security::SigV4Verifier& Verifier() {
  static const tidewater::ManualClock clock(kNowMicros);
  static const std::unique_ptr<tidewater::security::CredentialStore> store = [] {
    auto opened = tidewater::security::CredentialStore::Open("");
    if (!opened.ok() || !(*opened)->Add(kLongTerm).ok() || !(*opened)->Add(kTemporary).ok()) {
      Fail("cannot set up the credential store", "");
    }
    return std::move(opened).value();
  }();
  static const tidewater::security::SigV4Verifier verifier(store.get(), "us-east-1", &clock);
  return verifier;
}

// `name` against a lower-case header name.
bool EqualsIgnoringCase(std::string_view name, std::string_view lower_case) {
  if (name.size() != lower_case.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c =
        name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] - 'A' + 'a') : name[i];
    if (c != lower_case[i]) return false;
  }
  return true;
}

bool IsAuthenticationError(ErrorCode code) {
  return code == ErrorCode::kMissingAuthenticationToken ||
         code == ErrorCode::kIncompleteSignature || code == ErrorCode::kInvalidSignature ||
         code == ErrorCode::kUnrecognizedClient || code == ErrorCode::kExpiredToken;
}

void CheckParse(std::string_view input) {
  const auto parsed = tidewater::security::ParseAuthorization(input);
  if (!parsed.ok()) {
    if (!IsAuthenticationError(parsed.status().code()) || parsed.status().message().empty()) {
      Fail("ParseAuthorization: not an authentication error with a message", input);
    }
    return;
  }
  for (const std::string& name : parsed->signed_headers) {
    for (char c : name) {
      if (c >= 'A' && c <= 'Z') Fail("ParseAuthorization: an upper-case signed header", input);
    }
  }
  for (const std::string* part : {&parsed->access_key_id, &parsed->scope_date,
                                  &parsed->scope_region, &parsed->scope_service}) {
    if (part->find('/') != std::string::npos) Fail("ParseAuthorization: '/' in a scope", input);
  }
}

void CheckVerify(std::string_view input) {
  // authorization, x-amz-date, host, x-amz-security-token, target; then the body.
  std::string_view parts[5];
  std::string_view rest = input;
  for (std::string_view& part : parts) {
    const size_t end = rest.find('\n');
    part = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  tidewater::security::IncomingRequest request;
  request.method = "POST";
  request.target = parts[4].empty() ? std::string_view("/") : parts[4];
  request.body = rest;
  request.header = [&parts](std::string_view name) -> std::string_view {
    static constexpr std::string_view kNames[] = {"authorization", "x-amz-date", "host",
                                                  "x-amz-security-token"};
    for (size_t i = 0; i < std::size(kNames); ++i) {
      if (EqualsIgnoringCase(name, kNames[i])) return parts[i];
    }
    return {};
  };
  const auto verified = Verifier().Verify(request, "dynamodb");
  if (!verified.ok()) {
    if (!IsAuthenticationError(verified.status().code()) || verified.status().message().empty()) {
      Fail("Verify: not an authentication error with a message", input);
    }
    return;
  }
  const bool known = (verified->access_key_id == kLongTerm.access_key_id &&
                      verified->principal == kLongTerm.principal) ||
                     (verified->access_key_id == kTemporary.access_key_id &&
                      verified->principal == kTemporary.principal);
  if (!known) Fail("Verify: accepted as someone the store does not hold", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckParse(input);
  CheckVerify(input);
  return 0;
}
