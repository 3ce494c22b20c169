// ClientRequestToken idempotency: replay within 10 minutes, mismatch, release on failure.
#include "transaction_tokens.h"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <thread>

#include "support/wait_for.h"

namespace tidewater::server {
namespace {

constexpr int64_t kMinute = 60LL * 1'000'000;
// Generous: only a lost wake-up reaches it.
constexpr std::chrono::seconds kOutcomeDeadline{10};

TEST(TransactionTokensTest, SucceededTransactionIsReplayedForTenMinutes) {
  ManualClock clock;
  TransactionTokens tokens(&clock);
  auto first = tokens.Begin("t", 7);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->replay);
  tokens.Complete("t", R"({"ConsumedCapacity":[]})");

  clock.AdvanceMicros(10 * kMinute);
  auto again = tokens.Begin("t", 7);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replay);
  EXPECT_EQ(again->response, R"({"ConsumedCapacity":[]})");

  clock.AdvanceMicros(1);
  auto later = tokens.Begin("t", 7);
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(later->replay) << "the window has passed: a new transaction";
}

TEST(TransactionTokensTest, SameTokenOtherParametersIsAMismatch) {
  ManualClock clock;
  TransactionTokens tokens(&clock);
  ASSERT_TRUE(tokens.Begin("t", 1).ok());
  tokens.Complete("t", "{}");
  auto other = tokens.Begin("t", 2);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), ErrorCode::kIdempotentParameterMismatch);
  auto unrelated = tokens.Begin("u", 2);
  ASSERT_TRUE(unrelated.ok());
  EXPECT_FALSE(unrelated->replay);
}

TEST(TransactionTokensTest, FailedTransactionDoesNotConsumeItsToken) {
  ManualClock clock;
  TransactionTokens tokens(&clock);
  ASSERT_TRUE(tokens.Begin("t", 1).ok());
  tokens.Release("t");
  auto retry = tokens.Begin("t", 2);
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->replay);
}

// A duplicate that arrives while the first request runs is seen waiting until that request
// ends, then answers with its outcome: the replay after a success, a claim of its own after
// a failure.
TEST(TransactionTokensTest, ConcurrentDuplicateWaitsForTheFirstOutcome) {
  for (const bool first_succeeds : {true, false}) {
    SCOPED_TRACE(first_succeeds ? "first succeeds" : "first fails");
    // Shared with the duplicate's thread, which is left behind if it is never woken.
    struct Shared {
      ManualClock clock;
      TransactionTokens tokens{&clock};
    };
    auto shared = std::make_shared<Shared>();
    TransactionTokens& tokens = shared->tokens;
    ASSERT_TRUE(tokens.Begin("t", 1).ok());
    std::packaged_task<Result<TransactionTokens::Claim>()> begin(
        [shared] { return shared->tokens.Begin("t", 1); });
    auto duplicate = begin.get_future();
    std::thread(std::move(begin)).detach();
    ASSERT_TRUE(testing::WaitFor([&] { return tokens.waiting() == 1; }))
        << "the duplicate did not wait for the running request";
    EXPECT_EQ(duplicate.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
    if (first_succeeds) {
      tokens.Complete("t", "done");
    } else {
      tokens.Release("t");
    }
    ASSERT_EQ(duplicate.wait_for(kOutcomeDeadline), std::future_status::ready)
        << "the duplicate was not woken by the outcome";
    auto claim = duplicate.get();
    ASSERT_TRUE(claim.ok()) << claim.status().ToString();
    EXPECT_EQ(claim->replay, first_succeeds);
    EXPECT_EQ(claim->response, first_succeeds ? "done" : "");
    EXPECT_EQ(tokens.waiting(), 0u);
  }
}

}  // namespace
}  // namespace tidewater::server
