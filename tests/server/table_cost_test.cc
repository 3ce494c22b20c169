// The cost arithmetic (table_cost.h): exact dollars per month at both table classes for
// PAY_PER_REQUEST tables (request units at the observed rate for 30 days), PROVISIONED
// tables (provisioned units for 720 hours, whatever was consumed) and idle tables.
#include "table_cost.h"

#include <gtest/gtest.h>

namespace tidewater::server {
namespace {

constexpr double kCent = 1e-9;  // tolerance of floating-point rounding, far below a cent

constexpr uint64_t kTenGb = 10ull * 1024 * 1024 * 1024;

TEST(TableCostTest, StandardPricesAreTheListPrices) {
  const ClassPrices standard = PricesOf(TableClass::kStandard);
  EXPECT_DOUBLE_EQ(standard.storage_per_gb_month, 0.25);
  EXPECT_DOUBLE_EQ(standard.per_million_read_request_units, 0.125);
  EXPECT_DOUBLE_EQ(standard.per_million_write_request_units, 0.625);
  EXPECT_DOUBLE_EQ(standard.per_read_capacity_unit_hour, 0.00013);
  EXPECT_DOUBLE_EQ(standard.per_write_capacity_unit_hour, 0.00065);
}

TEST(TableCostTest, InfrequentAccessStoresForLessAndServesRequestsForMore) {
  const ClassPrices ia = PricesOf(TableClass::kStandardInfrequentAccess);
  EXPECT_DOUBLE_EQ(ia.storage_per_gb_month, 0.10);
  EXPECT_DOUBLE_EQ(ia.per_million_read_request_units, 0.15625);
  EXPECT_DOUBLE_EQ(ia.per_million_write_request_units, 0.78125);
  EXPECT_DOUBLE_EQ(ia.per_read_capacity_unit_hour, 0.0001625);
  EXPECT_DOUBLE_EQ(ia.per_write_capacity_unit_hour, 0.0008125);
}

TEST(TableCostTest, PayPerRequestChargesTheObservedRateForAThirtyDayMonth) {
  TableUsage usage;
  usage.size_bytes = kTenGb;
  usage.billing_mode = BillingMode::kPayPerRequest;
  usage.read_units_per_second = 100;  // 259.2 million RRU a month
  usage.write_units_per_second = 10;  // 25.92 million WRU a month

  const MonthlyCost standard = EstimateMonthlyCost(usage, PricesOf(TableClass::kStandard));
  EXPECT_NEAR(standard.storage, 2.50, kCent);
  EXPECT_NEAR(standard.reads, 32.40, kCent);
  EXPECT_NEAR(standard.writes, 16.20, kCent);
  EXPECT_NEAR(standard.total(), 51.10, kCent);

  const MonthlyCost ia =
      EstimateMonthlyCost(usage, PricesOf(TableClass::kStandardInfrequentAccess));
  EXPECT_NEAR(ia.storage, 1.00, kCent);
  EXPECT_NEAR(ia.reads, 40.50, kCent);
  EXPECT_NEAR(ia.writes, 20.25, kCent);
  EXPECT_NEAR(ia.total(), 61.75, kCent);
}

TEST(TableCostTest, ProvisionedChargesTheProvisionedUnitsEveryHourWhateverWasConsumed) {
  TableUsage usage;
  usage.size_bytes = 0;
  usage.billing_mode = BillingMode::kProvisioned;
  usage.provisioned = {.read_capacity_units = 100, .write_capacity_units = 50};
  usage.read_units_per_second = 3;  // ignored: provisioned capacity is paid whether used or not
  usage.write_units_per_second = 7;

  const MonthlyCost standard = EstimateMonthlyCost(usage, PricesOf(TableClass::kStandard));
  EXPECT_NEAR(standard.storage, 0, kCent);
  EXPECT_NEAR(standard.reads, 9.36, kCent);    // 100 RCU x 720 h x $0.00013
  EXPECT_NEAR(standard.writes, 23.40, kCent);  // 50 WCU x 720 h x $0.00065

  const MonthlyCost ia =
      EstimateMonthlyCost(usage, PricesOf(TableClass::kStandardInfrequentAccess));
  EXPECT_NEAR(ia.reads, 11.70, kCent);
  EXPECT_NEAR(ia.writes, 29.25, kCent);
}

TEST(TableCostTest, AnIdleTablePaysOnlyForStorageWhichIaMakesCheaper) {
  TableUsage usage;
  usage.size_bytes = kTenGb * 10;  // 100 GB
  usage.billing_mode = BillingMode::kPayPerRequest;

  const MonthlyCost standard = EstimateMonthlyCost(usage, PricesOf(TableClass::kStandard));
  const MonthlyCost ia =
      EstimateMonthlyCost(usage, PricesOf(TableClass::kStandardInfrequentAccess));
  EXPECT_EQ(standard.reads, 0);
  EXPECT_EQ(standard.writes, 0);
  EXPECT_NEAR(standard.total(), 25.00, kCent);
  EXPECT_EQ(ia.reads, 0);
  EXPECT_EQ(ia.writes, 0);
  EXPECT_NEAR(ia.total(), 10.00, kCent);

  const MonthlyCost empty = EstimateMonthlyCost(TableUsage{}, PricesOf(TableClass::kStandard));
  EXPECT_EQ(empty.total(), 0);
}

}  // namespace
}  // namespace tidewater::server
