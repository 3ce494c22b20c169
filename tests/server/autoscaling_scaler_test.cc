// DynamoDB auto scaling decisions, driven minute by minute with a ManualClock over a real
// engine: scale out after 2 datapoints above the target utilization, scale in after 15
// below the target minus 20 points, min/max bounds, cooldowns, DisableScaleIn, DynamoDB's
// daily decrease limit (a Failed activity), a global secondary index scaled on its own
// consumption, and the registry kept across a reopen (also from a file of the format
// before index targets).
#include "autoscaling_scaler.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "autoscaling_registry.h"
#include "billing_changes.h"
#include "capacity.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "throughput_limiter.h"
#include "tidewater/core/engine.h"

namespace tidewater::server {
namespace {

constexpr char kTable[] = "orders";
// The table's global secondary index, provisioned at 10 read and 10 write units.
constexpr char kIndex[] = "by_customer";
// 2023-11-15 12:00:00 UTC: a test's hours stay within one UTC day (the decrease limit).
constexpr int64_t kNoonMicros = 1'700'049'600'000'000;

class AutoScalerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = Engine::Open(testing::TestEngineOptions(dir_.Sub("data"), &clock_));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    CreateTableRequest request;
    request.name = kTable;
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.settings.billing_mode = BillingMode::kProvisioned;
    request.settings.provisioned = {10, 10};
    SecondaryIndex by_customer;
    by_customer.name = kIndex;
    by_customer.key_schema = {{"customer", AttributeType::kS}, std::nullopt};
    by_customer.projection = {ProjectionType::kKeysOnly, {}};
    by_customer.read_capacity_units = 10;
    by_customer.write_capacity_units = 10;
    request.global_indexes = {by_customer};
    ASSERT_TRUE(engine_->CreateTable(request).ok());
    throughput_ = std::make_unique<ThroughputLimiter>(engine_.get(), &clock_, "us-test-1", true);
    // The table's ticket, taken while its bucket is full: Minute charges through it.
    ErrorDetails details;
    auto ticket = throughput_->Admit(kTable, CapacityKind::kWrite, "PutItem", nullptr, details);
    ASSERT_TRUE(ticket.ok()) << ticket.status().ToString();
    ticket_ = *ticket;
    OpenRegistry();
  }

  void OpenRegistry() {
    scaler_.reset();
    registry_.reset();
    auto registry = AutoScalingRegistry::Open(dir_.Sub("data"));
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::move(*registry);
    scaler_ =
        std::make_unique<AutoScaler>(engine_.get(), &clock_, throughput_.get(), registry_.get());
  }

  // Registers the write capacity in [min, max] with one target tracking policy, and takes
  // the first look (which starts the count).
  void Track(int64_t min, int64_t max, double target, int64_t scale_in_cooldown = 0,
             int64_t scale_out_cooldown = 0, bool disable_scale_in = false) {
    ScalableTarget scalable{kTable, "", ScalableDimension::kWrite, min, max, clock_.NowMicros(),
                            "t1"};
    ASSERT_TRUE(registry_->PutTarget(scalable).ok());
    TrackingPolicy policy;
    policy.name = "writes";
    policy.table = kTable;
    policy.dimension = ScalableDimension::kWrite;
    policy.target_value = target;
    policy.scale_in_cooldown_seconds = scale_in_cooldown;
    policy.scale_out_cooldown_seconds = scale_out_cooldown;
    policy.disable_scale_in = disable_scale_in;
    policy.id = "p1";
    policy.alarm_high = "TargetTracking-table/orders-AlarmHigh-1";
    policy.alarm_low = disable_scale_in ? "" : "TargetTracking-table/orders-AlarmLow-1";
    ASSERT_TRUE(registry_->PutPolicy(policy).ok());
    scaler_->EvaluateNow();
  }

  // One minute in which the table consumes `per_second` write units a second, then the
  // evaluation at its end.
  void Minute(double per_second) {
    throughput_->Charge(ticket_, CapacityKind::kWrite, per_second * 60);
    clock_.AdvanceSeconds(60);
    scaler_->EvaluateNow();
  }
  void Minutes(int count, double per_second) {
    for (int i = 0; i < count; ++i) Minute(per_second);
  }
  // The same for the global index: a write whose units all go to the index.
  void IndexMinutes(int count, double per_second) {
    for (int i = 0; i < count; ++i) {
      WriteCost cost;
      cost.indexes.push_back({kIndex, /*global=*/true, per_second * 60});
      throughput_->Charge(ticket_, cost);
      clock_.AdvanceSeconds(60);
      scaler_->EvaluateNow();
    }
  }

  int64_t WriteCapacity() {
    auto table = engine_->DescribeTable(kTable);
    EXPECT_TRUE(table.ok());
    return table.ok() ? table->settings.provisioned.write_capacity_units : -1;
  }

  int64_t IndexWriteCapacity() {
    auto table = engine_->DescribeTable(kTable);
    EXPECT_TRUE(table.ok());
    if (!table.ok()) return -1;
    for (const IndexDescription& index : table->global_indexes) {
      if (index.definition.name == kIndex) {
        return static_cast<int64_t>(index.definition.write_capacity_units);
      }
    }
    ADD_FAILURE() << "no index " << kIndex;
    return -1;
  }

  void SetWriteCapacity(int64_t units) {
    auto updated = engine_->UpdateTableSettings(
        kTable, [&](const TableDescription&, int64_t now, TableSettings& settings) {
          BillingChange change;
          change.throughput = ProvisionedThroughput{10, units};
          return ApplyBillingChange(change, now, settings);
        });
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
    throughput_->Configure(*updated);
  }

  testing::TempDir dir_;
  ManualClock clock_{kNoonMicros};
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ThroughputLimiter> throughput_;
  CapacityTicket ticket_;
  std::unique_ptr<AutoScalingRegistry> registry_;
  std::unique_ptr<AutoScaler> scaler_;
};

TEST_F(AutoScalerTest, ScalesOutAfterTwoConsecutiveMinutesAboveTheTarget) {
  Track(5, 100, 50);
  Minute(8);  // 80% of 10
  Minute(1);  // one datapoint above is not enough, and the next one breaks the run
  Minute(8);
  EXPECT_EQ(WriteCapacity(), 10);
  EXPECT_TRUE(registry_->Activities().empty());
  Minute(8);
  // At 16 units, 8 a second is the 50% target.
  EXPECT_EQ(WriteCapacity(), 16);
  auto activities = registry_->Activities();
  ASSERT_EQ(activities.size(), 1u);
  EXPECT_EQ(activities[0].status_code, "Successful");
  EXPECT_EQ(activities[0].description, "Setting write capacity units to 16.");
  EXPECT_EQ(activities[0].cause,
            "monitor alarm TargetTracking-table/orders-AlarmHigh-1 in state ALARM triggered "
            "policy writes");
}

TEST_F(AutoScalerTest, ScalesInOnlyAfterFifteenMinutesBelowTheTargetMinusTwentyPoints) {
  Track(5, 100, 50);
  // 4 a second is 40%: below the 50% target but not below 30%, so it never scales in.
  Minutes(20, 4);
  EXPECT_EQ(WriteCapacity(), 10);
  Minutes(14, 2);  // 20%
  EXPECT_EQ(WriteCapacity(), 10);
  Minute(2);
  // ceil(2 / 0.5) = 4, held at the minimum of 5.
  EXPECT_EQ(WriteCapacity(), 5);
  auto activities = registry_->Activities();
  ASSERT_EQ(activities.size(), 1u);
  EXPECT_NE(activities[0].cause.find("AlarmLow"), std::string::npos);
}

TEST_F(AutoScalerTest, NeverScalesBeyondTheMaximum) {
  Track(5, 12, 50);
  Minutes(2, 50);
  EXPECT_EQ(WriteCapacity(), 12);
  Minutes(5, 50);  // at the maximum already: nothing more to do, nothing recorded
  EXPECT_EQ(WriteCapacity(), 12);
  EXPECT_EQ(registry_->Activities().size(), 1u);
}

TEST_F(AutoScalerTest, ScaleOutCooldownBlocksTheNextScaleOutUntilItEnds) {
  Track(5, 100, 50, /*scale_in_cooldown=*/0, /*scale_out_cooldown=*/300);
  Minutes(2, 8);
  ASSERT_EQ(WriteCapacity(), 16);
  Minutes(4, 12);  // 75% of 16, for 4 minutes: still cooling down
  EXPECT_EQ(WriteCapacity(), 16);
  Minute(12);  // 300 s after the scale out
  EXPECT_EQ(WriteCapacity(), 24);
}

TEST_F(AutoScalerTest, ScaleInCooldownAndDisableScaleIn) {
  Track(1, 100, 50, /*scale_in_cooldown=*/1200);
  Minutes(15, 2);
  ASSERT_EQ(WriteCapacity(), 4);
  // Another 15 low minutes ask for 2 units, but the cooldown lasts 20 minutes.
  Minutes(15, 1);
  EXPECT_EQ(WriteCapacity(), 4);
  Minutes(5, 1);
  EXPECT_EQ(WriteCapacity(), 2);
  // A scale out is not held back by a scale-in cooldown.
  Minutes(2, 4);
  EXPECT_EQ(WriteCapacity(), 8);

  ASSERT_TRUE(registry_->RemoveTarget(kTable, "", ScalableDimension::kWrite).ok());
  Track(1, 100, 50, 0, 0, /*disable_scale_in=*/true);
  Minutes(30, 0.5);
  EXPECT_EQ(WriteCapacity(), 8);
}

TEST_F(AutoScalerTest, ADecreaseBeyondTheDailyLimitIsAFailedActivity) {
  // Four decreases today already: the next one must wait an hour after the last.
  SetWriteCapacity(40);
  for (int64_t units : {36, 32, 28, 24}) SetWriteCapacity(units);
  Track(5, 100, 50);
  Minutes(15, 1);
  EXPECT_EQ(WriteCapacity(), 24);
  auto activities = registry_->Activities();
  ASSERT_EQ(activities.size(), 1u);
  EXPECT_EQ(activities[0].status_code, "Failed");
  EXPECT_NE(activities[0].status_message.find("decreases"), std::string::npos)
      << activities[0].status_message;
  // The low alarm has to hold for 15 minutes again before the next attempt (at 30 and
  // 45 minutes: refused again); an hour after the last decrease it goes through.
  Minutes(14, 1);
  EXPECT_EQ(registry_->Activities().size(), 1u);
  Minutes(30, 1);
  EXPECT_EQ(WriteCapacity(), 24);
  Minute(1);
  EXPECT_EQ(WriteCapacity(), 5);
  activities = registry_->Activities();
  ASSERT_EQ(activities.size(), 4u);
  EXPECT_EQ(activities[0].status_code, "Successful");
  EXPECT_EQ(activities[1].status_code, "Failed");
}

TEST_F(AutoScalerTest, WithSeveralPoliciesTheLargestCapacityWins) {
  Track(1, 100, 50);
  TrackingPolicy relaxed = registry_->Policies()[0];
  relaxed.name = "relaxed";
  relaxed.target_value = 80;
  relaxed.alarm_high = "TargetTracking-table/orders-AlarmHigh-2";
  relaxed.alarm_low = "TargetTracking-table/orders-AlarmLow-2";
  ASSERT_TRUE(registry_->PutPolicy(relaxed).ok());
  // 9 a second is above both targets: the 50% policy asks for more (18 against 12).
  Minutes(2, 9);
  EXPECT_EQ(WriteCapacity(), 18);
  // 2 a second is below 30% and 60% of 18: both scale in, to the larger of
  // ceil(2 / 0.5) = 4 and ceil(2 / 0.8) = 3.
  Minutes(15, 2);
  EXPECT_EQ(WriteCapacity(), 4);
  // 2 a second on 4 units is 50%: the relaxed policy (below 60%) would scale in to 3, the
  // other does not, so nothing happens.
  Minutes(20, 2);
  EXPECT_EQ(WriteCapacity(), 4);
}

TEST_F(AutoScalerTest, SuspendedDynamicScalingIsNotApplied) {
  Track(1, 100, 50);
  ScalableTarget target = *registry_->FindTarget(kTable, "", ScalableDimension::kWrite);
  target.scale_out_suspended = true;
  target.scale_in_suspended = true;
  ASSERT_TRUE(registry_->PutTarget(target).ok());
  Minutes(3, 9);
  EXPECT_EQ(WriteCapacity(), 10);
  Minutes(20, 1);
  EXPECT_EQ(WriteCapacity(), 10);
  target.scale_out_suspended = false;
  ASSERT_TRUE(registry_->PutTarget(target).ok());
  Minutes(2, 9);
  EXPECT_EQ(WriteCapacity(), 18);
}

TEST_F(AutoScalerTest, TablesThatAreNotProvisionedAreLeftAlone) {
  Track(5, 100, 50);
  auto updated = engine_->UpdateTableSettings(
      kTable, [&](const TableDescription&, int64_t now, TableSettings& settings) {
        BillingChange change;
        change.mode = BillingMode::kPayPerRequest;
        return ApplyBillingChange(change, now, settings);
      });
  ASSERT_TRUE(updated.ok());
  throughput_->Configure(*updated);
  Minutes(3, 50);
  EXPECT_EQ(engine_->DescribeTable(kTable)->settings.billing_mode, BillingMode::kPayPerRequest);
  EXPECT_TRUE(registry_->Activities().empty());
}

TEST_F(AutoScalerTest, TargetsPoliciesAndActivitiesSurviveAReopen) {
  Track(5, 100, 50, 60, 120);
  Minutes(2, 8);
  ASSERT_EQ(WriteCapacity(), 16);
  OpenRegistry();
  auto targets = registry_->Targets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].table, kTable);
  EXPECT_EQ(targets[0].dimension, ScalableDimension::kWrite);
  EXPECT_EQ(targets[0].min_capacity, 5);
  EXPECT_EQ(targets[0].max_capacity, 100);
  auto policies = registry_->Policies();
  ASSERT_EQ(policies.size(), 1u);
  EXPECT_EQ(policies[0].name, "writes");
  EXPECT_DOUBLE_EQ(policies[0].target_value, 50);
  EXPECT_EQ(policies[0].scale_in_cooldown_seconds, 60);
  EXPECT_EQ(policies[0].scale_out_cooldown_seconds, 120);
  ASSERT_EQ(registry_->Activities().size(), 1u);
  EXPECT_EQ(registry_->Activities()[0].description, "Setting write capacity units to 16.");
  // Deregistering drops the policies too.
  ASSERT_TRUE(registry_->RemoveTarget(kTable, "", ScalableDimension::kWrite).ok());
  OpenRegistry();
  EXPECT_TRUE(registry_->Targets().empty());
  EXPECT_TRUE(registry_->Policies().empty());
  EXPECT_EQ(registry_->RemoveTarget(kTable, "", ScalableDimension::kWrite).code(),
            ErrorCode::kResourceNotFound);
}

TEST_F(AutoScalerTest, AGlobalIndexScalesOnItsOwnConsumption) {
  // The index's write capacity in [5, 100] at 50%, and the table's in [10, 100] at 50%: the
  // index's units must not count for the table (the table would scale out on them).
  ScalableTarget table_target{kTable, "", ScalableDimension::kWrite, 10, 100, clock_.NowMicros(),
                              "t1"};
  ScalableTarget index_target{kTable, kIndex, ScalableDimension::kWrite, 5, 100, clock_.NowMicros(),
                              "t2"};
  ASSERT_TRUE(registry_->PutTarget(table_target).ok());
  ASSERT_TRUE(registry_->PutTarget(index_target).ok());
  for (const ScalableTarget& target : {table_target, index_target}) {
    TrackingPolicy policy;
    policy.name = "writes";
    policy.table = kTable;
    policy.index = target.index;
    policy.dimension = ScalableDimension::kWrite;
    policy.target_value = 50;
    policy.id = target.id;
    const std::string resource = ScalableResourceId(kTable, target.index);
    policy.alarm_high = "TargetTracking-" + resource + "-AlarmHigh-1";
    policy.alarm_low = "TargetTracking-" + resource + "-AlarmLow-1";
    ASSERT_TRUE(registry_->PutPolicy(policy).ok());
  }
  scaler_->EvaluateNow();

  IndexMinutes(1, 8);  // 80% of the index's 10
  EXPECT_EQ(IndexWriteCapacity(), 10);
  IndexMinutes(1, 8);
  EXPECT_EQ(IndexWriteCapacity(), 16);
  EXPECT_EQ(WriteCapacity(), 10);
  auto activities = registry_->Activities();
  ASSERT_EQ(activities.size(), 1u);
  EXPECT_EQ(activities[0].table, kTable);
  EXPECT_EQ(activities[0].index, kIndex);
  EXPECT_EQ(activities[0].dimension, ScalableDimension::kWrite);
  EXPECT_EQ(activities[0].status_code, "Successful");
  EXPECT_EQ(activities[0].description, "Setting write capacity units to 16.");
  EXPECT_EQ(activities[0].cause,
            "monitor alarm TargetTracking-table/orders/index/by_customer-AlarmHigh-1 in state "
            "ALARM triggered policy writes");

  // 2 a second is below 30% of 16: after 15 such minutes, in to ceil(2 / 0.5) = 4, held at
  // the minimum of 5. Index decreases have no daily limit here.
  IndexMinutes(14, 2);
  EXPECT_EQ(IndexWriteCapacity(), 16);
  IndexMinutes(1, 2);
  EXPECT_EQ(IndexWriteCapacity(), 5);
  EXPECT_EQ(WriteCapacity(), 10);
  activities = registry_->Activities();
  ASSERT_EQ(activities.size(), 2u);
  EXPECT_EQ(activities[0].index, kIndex);
  EXPECT_EQ(activities[0].description, "Setting write capacity units to 5.");
  EXPECT_NE(activities[0].cause.find("index/by_customer-AlarmLow"), std::string::npos)
      << activities[0].cause;
  // The index's read capacity is left as it was.
  auto table = engine_->DescribeTable(kTable);
  ASSERT_TRUE(table.ok());
  ASSERT_EQ(table->global_indexes.size(), 1u);
  EXPECT_EQ(table->global_indexes[0].definition.read_capacity_units, 10u);
}

TEST_F(AutoScalerTest, AnIndexTargetSurvivesAReopenApartFromTheTablesTarget) {
  ScalableTarget index_target{kTable, kIndex, ScalableDimension::kRead, 2, 20, clock_.NowMicros(),
                              "t2"};
  ASSERT_TRUE(registry_->PutTarget(index_target).ok());
  TrackingPolicy policy;
  policy.name = "reads";
  policy.table = kTable;
  policy.index = kIndex;
  policy.dimension = ScalableDimension::kRead;
  policy.target_value = 70;
  policy.id = "p2";
  ASSERT_TRUE(registry_->PutPolicy(policy).ok());
  // The table's own read target is another target.
  EXPECT_FALSE(registry_->FindTarget(kTable, "", ScalableDimension::kRead).has_value());
  EXPECT_EQ(registry_->RemoveTarget(kTable, "", ScalableDimension::kRead).code(),
            ErrorCode::kResourceNotFound);
  policy.index.clear();
  EXPECT_EQ(registry_->PutPolicy(policy).code(), ErrorCode::kResourceNotFound);

  OpenRegistry();
  auto targets = registry_->Targets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].table, kTable);
  EXPECT_EQ(targets[0].index, kIndex);
  EXPECT_EQ(targets[0].dimension, ScalableDimension::kRead);
  EXPECT_EQ(targets[0].min_capacity, 2);
  EXPECT_EQ(targets[0].max_capacity, 20);
  ASSERT_TRUE(registry_->FindTarget(kTable, kIndex, ScalableDimension::kRead).has_value());
  auto policies = registry_->Policies();
  ASSERT_EQ(policies.size(), 1u);
  EXPECT_EQ(policies[0].index, kIndex);
  EXPECT_EQ(policies[0].dimension, ScalableDimension::kRead);
  ASSERT_TRUE(registry_->RemovePolicy(kTable, kIndex, ScalableDimension::kRead, "reads").ok());
  ASSERT_TRUE(registry_->RemoveTarget(kTable, kIndex, ScalableDimension::kRead).ok());
}

TEST_F(AutoScalerTest, ARegistryFileWithoutIndexesLoadsAsTableTargets) {
  // autoscaling.json as written before targets could name an index.
  {
    std::ofstream file(dir_.Sub("data") + "/autoscaling.json", std::ios::trunc);
    file << R"({"version":1,"targets":[{"table":"orders",)"
            R"("dimension":"dynamodb:table:WriteCapacityUnits","min":5,"max":50,"created":1,)"
            R"("id":"t1","scale_in_suspended":false,"scale_out_suspended":false,)"
            R"("scheduled_suspended":false}],)"
            R"("policies":[{"name":"writes","table":"orders",)"
            R"("dimension":"dynamodb:table:WriteCapacityUnits","target_value":50.0,)"
            R"("scale_in_cooldown":0,"scale_out_cooldown":0,"disable_scale_in":false,)"
            R"("created":1,"id":"p1","alarm_high":"TargetTracking-table/orders-AlarmHigh-1",)"
            R"("alarm_low":"TargetTracking-table/orders-AlarmLow-1"}],)"
            R"("activities":[{"id":"a1","table":"orders",)"
            R"("dimension":"dynamodb:table:WriteCapacityUnits",)"
            R"("description":"Setting write capacity units to 16.","cause":"c","start":1,)"
            R"("end":2,"status_code":"Successful","status_message":"m"}]})";
  }
  OpenRegistry();
  auto target = registry_->FindTarget(kTable, "", ScalableDimension::kWrite);
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->index, "");
  EXPECT_EQ(target->min_capacity, 5);
  EXPECT_EQ(target->max_capacity, 50);
  auto policies = registry_->Policies();
  ASSERT_EQ(policies.size(), 1u);
  EXPECT_EQ(policies[0].index, "");
  EXPECT_EQ(policies[0].dimension, ScalableDimension::kWrite);
  auto activities = registry_->Activities();
  ASSERT_EQ(activities.size(), 1u);
  EXPECT_EQ(activities[0].index, "");
  EXPECT_EQ(activities[0].dimension, ScalableDimension::kWrite);
  // The loaded target is scaled as before.
  scaler_->EvaluateNow();
  Minutes(2, 8);
  EXPECT_EQ(WriteCapacity(), 16);
}

}  // namespace
}  // namespace tidewater::server
