// ClientRequestToken idempotency for TransactWriteItems: for 10 minutes after a transaction
// with a token succeeded, a request with the same token and the same parameters gets the
// original answer without writing again; the same token with other parameters is an
// IdempotentParameterMismatchException. A request that arrives while the first one with
// its token is still running waits for that outcome. A failed transaction does not
// consume its token.
// Thread safety: all methods are safe for concurrent use.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tidewater/core/clock.h"
#include "tidewater/core/status.h"

namespace tidewater::server {

class TransactionTokens {
 public:
  static constexpr int64_t kWindowMicros = 10LL * 60 * 1'000'000;

  explicit TransactionTokens(const Clock* clock, int64_t window_micros = kWindowMicros);

  struct Claim {
    bool replay = false;   // true: answer `response` and do nothing else
    std::string response;  // the original response body when replaying
  };
  // Claims `token` for a request with `fingerprint`. When not replaying, the caller runs
  // the transaction and then calls Complete (success) or Release (failure).
  // IdempotentParameterMismatchException when the token is live with another fingerprint.
  Result<Claim> Begin(const std::string& token, uint64_t fingerprint);
  void Complete(const std::string& token, std::string response);
  void Release(const std::string& token);

  // How many Begin calls are waiting for the outcome of a running request with their token.
  size_t waiting() const;

 private:
  struct Entry {
    uint64_t fingerprint = 0;
    bool done = false;
    int64_t completed_micros = 0;
    std::string response;
  };
  void ExpireLocked(int64_t now);

  const Clock* clock_;
  const int64_t window_micros_;
  mutable std::mutex mutex_;
  std::condition_variable completed_;
  std::unordered_map<std::string, Entry> entries_;
  size_t waiting_ = 0;                                            // guarded by mutex_
  std::deque<std::pair<int64_t, std::string>> completion_order_;  // (completed at, token)
};

}  // namespace tidewater::server
