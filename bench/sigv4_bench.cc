// The cost of SigV4 on each side of a request: tidewaterd verifying a signed PutItem
// (issue: security; the target is authentication under 10% of a request's server CPU, see
// docs/PERFORMANCE.md for the server's CPU per PutItem and GetItem), and a client signing
// one. The bodies are a 1 KB PutItem and a GetItem, as tw_http_load sends them.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>

#include "tidewater/core/clock.h"
#include "tidewater/security/credential_store.h"
#include "tidewater/security/request_signer.h"
#include "tidewater/security/sigv4_verifier.h"

namespace tidewater::security {
namespace {

constexpr std::string_view kRegion = "us-east-1";
constexpr std::string_view kHost = "127.0.0.1:8000";

std::string PutItemBody() {
  return R"({"TableName":"bench","Item":{"pk":{"S":"key-000042"},"payload":{"S":")" +
         std::string(1000, 'x') + R"("}}})";
}

std::string GetItemBody() { return R"({"TableName":"bench","Key":{"pk":{"S":"key-000042"}}})"; }

SigningIdentity Identity() {
  return SigningIdentity{{"TWBENCHKEY0000000001", "bench-secret-0000000000000000000000000000", ""},
                         std::string(kRegion)};
}

// A signed POST of `body` as the server receives it: the signed headers plus the signature.
sigv4::Params SignedHeaders(RequestSigner& signer, const std::string& body, std::string_view target,
                            std::chrono::system_clock::time_point now) {
  sigv4::Request request;
  request.method = "POST";
  request.canonical_uri = "/";
  request.headers = {{"host", std::string(kHost)},
                     {"content-type", "application/x-amz-json-1.0"},
                     {"x-amz-target", std::string(target)}};
  request.payload_sha256 = sigv4::Sha256Hex(body);
  sigv4::Params headers = request.headers;
  for (auto& added : signer.Sign(request, "dynamodb", now)) headers.push_back(std::move(added));
  return headers;
}

std::string_view HeaderOf(const sigv4::Params& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return {};
}

void Verify(benchmark::State& state, const std::string& body, std::string_view target) {
  auto store = CredentialStore::Open("");
  if (!store.ok() ||
      !(*store)
           ->Add(Credential{Identity().credentials.access_key_id,
                            Identity().credentials.secret_access_key, "", 0, "bench"})
           .ok()) {
    state.SkipWithError("cannot set up the credential store");
    return;
  }
  RequestSigner signer(Identity());
  const sigv4::Params headers =
      SignedHeaders(signer, body, target, std::chrono::system_clock::now());
  SigV4Verifier verifier(store->get(), std::string(kRegion), Clock::System());
  const IncomingRequest request{
      "POST", "/", [&headers](std::string_view name) { return HeaderOf(headers, name); }, body};
  for (auto _ : state) {
    auto principal = verifier.Verify(request, "dynamodb");
    if (!principal.ok()) {
      state.SkipWithError(principal.status().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(principal);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

void BM_VerifyPutItem(benchmark::State& state) {
  Verify(state, PutItemBody(), "DynamoDB_20120810.PutItem");
}
BENCHMARK(BM_VerifyPutItem);

void BM_VerifyGetItem(benchmark::State& state) {
  Verify(state, GetItemBody(), "DynamoDB_20120810.GetItem");
}
BENCHMARK(BM_VerifyGetItem);

void BM_SignPutItem(benchmark::State& state) {
  RequestSigner signer(Identity());
  const std::string body = PutItemBody();
  const auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(SignedHeaders(signer, body, "DynamoDB_20120810.PutItem", now));
  }
}
BENCHMARK(BM_SignPutItem);

}  // namespace
}  // namespace tidewater::security

BENCHMARK_MAIN();
