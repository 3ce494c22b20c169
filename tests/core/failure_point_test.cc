// Named failure points: armed in-process and from TIDEWATER_FAILURE_POINTS, they fire on the
// hit they were armed for (an injected error, SIGKILL, abort) and cost nothing otherwise.
#include "tidewater/core/failure_point.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

namespace tidewater {
namespace {

Status Step() {
  TW_RETURN_IF_FAILURE_POINT("test.step");
  return Status::Ok();
}

Result<int> StepWithValue() {
  TW_RETURN_IF_FAILURE_POINT("test.value");
  return 7;
}

void KillingStep() { TW_FAILURE_POINT("test.kill"); }

class FailurePointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Nothing here may reach the points: a death test's fresh process must read the
    // environment at its first hit.
    if (!kFailurePointsCompiledIn) GTEST_SKIP() << "failure points are compiled out";
  }
  void TearDown() override { DisarmAllFailurePoints(); }
};

TEST_F(FailurePointTest, UnarmedPointsDoNothing) {
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Step().ok());
  EXPECT_EQ(FailurePointHits("test.step"), 0u);
}

TEST_F(FailurePointTest, ErrorFiresOnceOnTheArmedHit) {
  ScopedFailurePoint point("test.step", FailureAction::kError, 2);
  EXPECT_TRUE(Step().ok());
  const Status failed = Step();
  EXPECT_EQ(failed.code(), ErrorCode::kInternal);
  EXPECT_EQ(failed.message(), "failure point test.step");
  EXPECT_TRUE(Step().ok());
  EXPECT_EQ(point.hits(), 3u);
  // Other points are not affected.
  EXPECT_TRUE(StepWithValue().ok());
}

TEST_F(FailurePointTest, ErrorReturnsFromFunctionsReturningAResult) {
  ScopedFailurePoint point("test.value", FailureAction::kError);
  EXPECT_EQ(StepWithValue().status().code(), ErrorCode::kInternal);
  auto value = StepWithValue();
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 7);
}

TEST_F(FailurePointTest, DisarmedWhenTheScopeEnds) {
  { ScopedFailurePoint point("test.step", FailureAction::kError); }
  EXPECT_TRUE(Step().ok());
}

TEST_F(FailurePointTest, SpecArmsEveryEntry) {
  ASSERT_TRUE(ArmFailurePoints("test.step=error@2, test.value=error").ok());
  EXPECT_TRUE(Step().ok());
  EXPECT_FALSE(Step().ok());
  EXPECT_FALSE(StepWithValue().ok());
}

TEST_F(FailurePointTest, MalformedSpecsAreRejectedAndArmNothing) {
  for (const char* spec : {"test.step", "=kill", "test.step=explode", "test.step=kill@0",
                           "test.step=kill@x", "test.step=error,test.value=kill@"}) {
    const Status status = ArmFailurePoints(spec);
    EXPECT_EQ(status.code(), ErrorCode::kValidation) << spec;
  }
  EXPECT_TRUE(Step().ok());
}

TEST_F(FailurePointTest, KillAndAbortEndTheProcessAtThePoint) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ArmFailurePoint("test.kill", FailureAction::kKill, 2);
        KillingStep();
        std::fprintf(stderr, "survived the first hit\n");
        KillingStep();
        std::fprintf(stderr, "survived the second hit\n");
      },
      ::testing::KilledBySignal(SIGKILL),
      "survived the first hit\nevent=failure_point name=test.kill action=kill hit=2\n$");
  EXPECT_EXIT(
      {
        ArmFailurePoint("test.kill", FailureAction::kAbort);
        KillingStep();
      },
      ::testing::KilledBySignal(SIGABRT), "name=test.kill action=abort hit=1");
}

// The environment variable is read when the first point is reached (the "threadsafe"
// death test runs the statement in a fresh process that inherits it).
TEST_F(FailurePointTest, ArmedFromTheEnvironment) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ASSERT_EQ(setenv("TIDEWATER_FAILURE_POINTS", "test.other=abort,test.kill=kill@3", 1), 0);
  EXPECT_EXIT(
      {
        for (int i = 0; i < 5; ++i) KillingStep();
      },
      ::testing::KilledBySignal(SIGKILL), "name=test.kill action=kill hit=3");
  ASSERT_EQ(setenv("TIDEWATER_FAILURE_POINTS", "test.kill=kil", 1), 0);
  EXPECT_EXIT(KillingStep(), ::testing::KilledBySignal(SIGABRT),
              "TIDEWATER_FAILURE_POINTS: failure point 'test.kill=kil': unknown action");
  ASSERT_EQ(unsetenv("TIDEWATER_FAILURE_POINTS"), 0);
}

}  // namespace
}  // namespace tidewater
