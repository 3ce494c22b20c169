#include "transaction_tokens.h"

namespace tidewater::server {

TransactionTokens::TransactionTokens(const Clock* clock, int64_t window_micros)
    : clock_(clock), window_micros_(window_micros) {}

void TransactionTokens::ExpireLocked(int64_t now) {
  while (!completion_order_.empty() && now - completion_order_.front().first > window_micros_) {
    auto it = entries_.find(completion_order_.front().second);
    if (it != entries_.end() && it->second.done &&
        it->second.completed_micros == completion_order_.front().first) {
      entries_.erase(it);
    }
    completion_order_.pop_front();
  }
}

Result<TransactionTokens::Claim> TransactionTokens::Begin(const std::string& token,
                                                          uint64_t fingerprint) {
  std::unique_lock lock(mutex_);
  while (true) {
    ExpireLocked(clock_->NowMicros());
    auto it = entries_.find(token);
    if (it == entries_.end()) {
      entries_.emplace(token, Entry{fingerprint});
      return Claim{};
    }
    if (it->second.fingerprint != fingerprint) {
      return Status(ErrorCode::kIdempotentParameterMismatch,
                    "Request parameters do not match the parameters of an earlier request with "
                    "the same client request token");
    }
    if (it->second.done) return Claim{true, it->second.response};
    // The first request with this token is still running.
    ++waiting_;
    completed_.wait(lock);
    --waiting_;
  }
}

void TransactionTokens::Complete(const std::string& token, std::string response) {
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(token);
    if (it == entries_.end()) return;
    it->second.done = true;
    it->second.completed_micros = clock_->NowMicros();
    it->second.response = std::move(response);
    completion_order_.emplace_back(it->second.completed_micros, token);
  }
  completed_.notify_all();
}

size_t TransactionTokens::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

void TransactionTokens::Release(const std::string& token) {
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(token);
    if (it != entries_.end() && !it->second.done) entries_.erase(it);
  }
  completed_.notify_all();
}

}  // namespace tidewater::server
