// TidewaterAdmin_20261205.EstimateCost over HTTP, on a ManualClock: a PAY_PER_REQUEST
// table's reads and writes are extrapolated from the units consumed over about the last
// hour, a PROVISIONED table pays its provisioned units, storage follows the table's size;
// /metrics exports the same estimates and each table's class.
#include <string>

#include "test_server.h"

namespace tidewater::server::testing {
namespace {

constexpr char kEstimateCost[] = "TidewaterAdmin_20261205.EstimateCost";
constexpr double kTolerance = 1e-9;
constexpr double kBytesPerGb = 1024.0 * 1024.0 * 1024.0;

class CostEstimateApiTest : public ServerFixture {
 protected:
  void Create(const std::string& name, const std::string& billing) {
    Ok("CreateTable", R"({"TableName":")" + name + R"(",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)" +
                          billing + "}");
  }

  // The one table EstimateCost answers for `name`.
  rapidjson::Document EstimateOf(const std::string& name) {
    rapidjson::Document answer = Ok(kEstimateCost, R"({"TableName":")" + name + "\"}");
    EXPECT_EQ(answer["Tables"].Size(), 1u);
    rapidjson::Document table;
    table.CopyFrom(answer["Tables"][0], table.GetAllocator());
    return table;
  }

  double SizeBytes(const std::string& name) {
    rapidjson::Document table = Ok("DescribeTable", R"({"TableName":")" + name + "\"}");
    return table["Table"]["TableSizeBytes"].GetDouble();
  }
};

TEST_F(CostEstimateApiTest, PayPerRequestExtrapolatesTheLastHoursConsumption) {
  Create("Busy", R"("BillingMode":"PAY_PER_REQUEST")");
  for (int k = 0; k < 36; ++k) {  // 1 WRU each
    Ok("PutItem", R"({"TableName":"Busy","Item":{"pk":{"S":"k)" + std::to_string(k) + R"("}}})");
  }
  for (int i = 0; i < 72; ++i) {  // 1 RRU each (strongly consistent, under 4 KB)
    Ok("GetItem", R"({"TableName":"Busy","Key":{"pk":{"S":"k1"}},"ConsistentRead":true})");
  }
  clock_.AdvanceSeconds(3600);

  rapidjson::Document busy = EstimateOf("Busy");
  EXPECT_STREQ(busy["TableName"].GetString(), "Busy");
  EXPECT_STREQ(busy["TableClass"].GetString(), "STANDARD");
  EXPECT_STREQ(busy["BillingMode"].GetString(), "PAY_PER_REQUEST");
  EXPECT_NEAR(busy["ConsumedWriteUnitsPerSecond"].GetDouble(), 0.01, kTolerance);
  EXPECT_NEAR(busy["ConsumedReadUnitsPerSecond"].GetDouble(), 0.02, kTolerance);
  const double size = SizeBytes("Busy");
  EXPECT_EQ(busy["TableSizeBytes"].GetDouble(), size);  // flushed data only: may be 0 here

  // 25,920 WRU and 51,840 RRU a month.
  const auto& standard = busy["MonthlyCost"]["STANDARD"];
  EXPECT_NEAR(standard["Writes"].GetDouble(), 0.0162, kTolerance);
  EXPECT_NEAR(standard["Reads"].GetDouble(), 0.00648, kTolerance);
  EXPECT_NEAR(standard["Storage"].GetDouble(), size / kBytesPerGb * 0.25, kTolerance);
  EXPECT_NEAR(standard["Total"].GetDouble(), 0.0162 + 0.00648 + standard["Storage"].GetDouble(),
              kTolerance);
  const auto& ia = busy["MonthlyCost"]["STANDARD_INFREQUENT_ACCESS"];
  EXPECT_NEAR(ia["Writes"].GetDouble(), 0.02025, kTolerance);
  EXPECT_NEAR(ia["Reads"].GetDouble(), 0.0081, kTolerance);
  EXPECT_NEAR(ia["Storage"].GetDouble(), size / kBytesPerGb * 0.10, kTolerance);

  // Two hours later with no traffic: the hour-old window has no requests in it any more.
  clock_.AdvanceSeconds(2 * 3600);
  rapidjson::Document idle = EstimateOf("Busy");
  EXPECT_EQ(idle["ConsumedWriteUnitsPerSecond"].GetDouble(), 0);
  EXPECT_EQ(idle["MonthlyCost"]["STANDARD"]["Writes"].GetDouble(), 0);
  EXPECT_EQ(idle["MonthlyCost"]["STANDARD"]["Reads"].GetDouble(), 0);
}

TEST_F(CostEstimateApiTest, ATableCreatedAgainIsMeasuredAfresh) {
  Create("Again", R"("BillingMode":"PAY_PER_REQUEST")");
  for (int k = 0; k < 36; ++k) {
    Ok("PutItem", R"({"TableName":"Again","Item":{"pk":{"S":"k)" + std::to_string(k) + R"("}}})");
  }
  clock_.AdvanceSeconds(3600);
  EXPECT_NEAR(EstimateOf("Again")["ConsumedWriteUnitsPerSecond"].GetDouble(), 0.01, kTolerance);

  Ok("DeleteTable", R"({"TableName":"Again"})");
  Create("Again", R"("BillingMode":"PAY_PER_REQUEST")");
  for (int k = 0; k < 9; ++k) {
    Ok("PutItem", R"({"TableName":"Again","Item":{"pk":{"S":"k)" + std::to_string(k) + R"("}}})");
  }
  clock_.AdvanceSeconds(3600);
  // 9 units in the hour since it was created again, not what the deleted table consumed.
  EXPECT_NEAR(EstimateOf("Again")["ConsumedWriteUnitsPerSecond"].GetDouble(), 0.0025, kTolerance);
}

TEST_F(CostEstimateApiTest, ProvisionedPaysItsCapacityAtEitherClass) {
  Create("Steady", R"("BillingMode":"PROVISIONED","TableClass":"STANDARD_INFREQUENT_ACCESS",
      "ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5})");
  rapidjson::Document steady = EstimateOf("Steady");
  EXPECT_STREQ(steady["TableClass"].GetString(), "STANDARD_INFREQUENT_ACCESS");
  EXPECT_STREQ(steady["BillingMode"].GetString(), "PROVISIONED");
  EXPECT_EQ(steady["ProvisionedThroughput"]["ReadCapacityUnits"].GetInt64(), 5);
  EXPECT_NEAR(steady["MonthlyCost"]["STANDARD"]["Reads"].GetDouble(), 0.468, kTolerance);
  EXPECT_NEAR(steady["MonthlyCost"]["STANDARD"]["Writes"].GetDouble(), 2.34, kTolerance);
  EXPECT_NEAR(steady["MonthlyCost"]["STANDARD_INFREQUENT_ACCESS"]["Reads"].GetDouble(), 0.585,
              kTolerance);
  EXPECT_NEAR(steady["MonthlyCost"]["STANDARD_INFREQUENT_ACCESS"]["Writes"].GetDouble(), 2.925,
              kTolerance);
}

// A global index is billed with its table: its own provisioned units add to the table's.
TEST_F(CostEstimateApiTest, AGlobalIndexsProvisionedUnitsAreBilledWithItsTable) {
  Ok("CreateTable", R"({"TableName":"Indexed",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
                              {"AttributeName":"g","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PROVISIONED",
      "ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5},
      "GlobalSecondaryIndexes":[{"IndexName":"byG",
        "KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},
        "ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}]})");
  rapidjson::Document indexed = EstimateOf("Indexed");
  EXPECT_EQ(indexed["ProvisionedThroughput"]["ReadCapacityUnits"].GetInt64(), 10);
  EXPECT_NEAR(indexed["MonthlyCost"]["STANDARD"]["Reads"].GetDouble(), 2 * 0.468, kTolerance);
  EXPECT_NEAR(indexed["MonthlyCost"]["STANDARD"]["Writes"].GetDouble(), 2 * 2.34, kTolerance);
}

TEST_F(CostEstimateApiTest, WithoutATableNameEveryTableIsEstimated) {
  Create("One", R"("BillingMode":"PAY_PER_REQUEST")");
  Create("Two", R"("BillingMode":"PAY_PER_REQUEST")");
  rapidjson::Document answer = Ok(kEstimateCost, "{}");
  ASSERT_EQ(answer["Tables"].Size(), 2u);
  EXPECT_STREQ(answer["Tables"][0]["TableName"].GetString(), "One");
  EXPECT_STREQ(answer["Tables"][1]["TableName"].GetString(), "Two");

  EXPECT_EQ(ErrorType(kEstimateCost, R"({"TableName":"Missing"})"), "ResourceNotFoundException");
  EXPECT_EQ(ErrorType(kEstimateCost, R"({"TableName":"a"})"), "ValidationException");
}

// The value of the sample `series` (name and labels) in a Prometheus text exposition; -1
// when absent.
double SampleValue(const std::string& exposition, const std::string& series) {
  const size_t at = exposition.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(exposition.substr(at + series.size() + 2));
}

TEST_F(CostEstimateApiTest, MetricsExportTheEstimatesAndTheClass) {
  Create("Steady", R"("BillingMode":"PROVISIONED","TableClass":"STANDARD_INFREQUENT_ACCESS",
      "ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5})");
  const std::string metrics = client_->Get("/metrics").body;
  const std::string cost = R"(tidewater_table_estimated_monthly_cost_dollars{table="Steady",)";
  EXPECT_NEAR(SampleValue(metrics, cost + R"(table_class="STANDARD",component="writes"})"), 2.34,
              kTolerance)
      << metrics;
  EXPECT_NEAR(SampleValue(metrics, cost + R"(table_class="STANDARD_INFREQUENT_ACCESS",)"
                                          R"(component="reads"})"),
              0.585, kTolerance)
      << metrics;
  EXPECT_EQ(SampleValue(metrics, cost + R"(table_class="STANDARD",component="storage"})"), 0)
      << metrics;
  EXPECT_EQ(SampleValue(metrics, R"(tidewater_table_class_info{table="Steady",)"
                                 R"(table_class="STANDARD_INFREQUENT_ACCESS"})"),
            1)
      << metrics;
  EXPECT_EQ(SampleValue(metrics, R"(tidewater_table_class_info{table="Steady",)"
                                 R"(table_class="STANDARD"})"),
            -1)
      << metrics;
}

}  // namespace
}  // namespace tidewater::server::testing
