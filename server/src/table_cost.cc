#include "table_cost.h"

#include <algorithm>
#include <array>
#include <utility>

#include "server_metrics.h"
#include "table_json.h"

namespace tidewater::server {
namespace {

// DynamoDB's us-east-1 list prices for the Standard class, in effect since the on-demand
// price reduction of 1 November 2024 (docs/OPERATIONS.md "Cost estimate").
constexpr ClassPrices kStandardPrices{
    .storage_per_gb_month = 0.25,
    .per_million_read_request_units = 0.125,
    .per_million_write_request_units = 0.625,
    .per_read_capacity_unit_hour = 0.00013,
    .per_write_capacity_unit_hour = 0.00065,
};
// Standard-IA against Standard, as DynamoDB documents it.
constexpr double kInfrequentAccessStorageFactor = 0.4;   // 60% lower
constexpr double kInfrequentAccessRequestFactor = 1.25;  // 25% higher

}  // namespace

ClassPrices PricesOf(TableClass table_class) {
  if (table_class == TableClass::kStandard) return kStandardPrices;
  ClassPrices prices = kStandardPrices;
  prices.storage_per_gb_month *= kInfrequentAccessStorageFactor;
  prices.per_million_read_request_units *= kInfrequentAccessRequestFactor;
  prices.per_million_write_request_units *= kInfrequentAccessRequestFactor;
  prices.per_read_capacity_unit_hour *= kInfrequentAccessRequestFactor;
  prices.per_write_capacity_unit_hour *= kInfrequentAccessRequestFactor;
  return prices;
}

MonthlyCost EstimateMonthlyCost(const TableUsage& usage, const ClassPrices& prices) {
  MonthlyCost cost;
  cost.storage = static_cast<double>(usage.size_bytes) / kBytesPerGb * prices.storage_per_gb_month;
  if (usage.billing_mode == BillingMode::kProvisioned) {
    cost.reads = static_cast<double>(usage.provisioned.read_capacity_units) * kHoursPerMonth *
                 prices.per_read_capacity_unit_hour;
    cost.writes = static_cast<double>(usage.provisioned.write_capacity_units) * kHoursPerMonth *
                  prices.per_write_capacity_unit_hour;
  } else {
    cost.reads = usage.read_units_per_second * kSecondsPerMonth / 1e6 *
                 prices.per_million_read_request_units;
    cost.writes = usage.write_units_per_second * kSecondsPerMonth / 1e6 *
                  prices.per_million_write_request_units;
  }
  return cost;
}

TableCostEstimator::TableCostEstimator(Engine* engine, const Clock* clock,
                                       const ThroughputLimiter* throughput)
    : engine_(engine), clock_(clock), throughput_(throughput) {}

std::pair<double, double> TableCostEstimator::ConsumedRates(const std::string& table) const {
  auto consumed = throughput_->Consumed(table);
  if (!consumed) return {0, 0};
  const Clock::MonotonicTime now = clock_->MonotonicNow();
  std::lock_guard lock(mutex_);
  Window& window = windows_[table];
  // A table deleted and created again is counted afresh by the limiter, from a later time.
  if (window.notes.empty() || window.counted_since != consumed->since) {
    window.counted_since = consumed->since;
    window.notes.assign(1, Note{consumed->since, 0, 0});
  }
  if (now - window.notes.back().time >= kNoteSpacing) {
    window.notes.push_back(Note{now, consumed->read, consumed->write});
  }
  // The oldest note kept is the newest one at least a window old (or the first one).
  while (window.notes.size() > 1 && now - window.notes[1].time >= kWindow) {
    window.notes.pop_front();
  }
  const Note& start = window.notes.front();
  const double seconds = std::chrono::duration<double>(now - start.time).count();
  if (seconds <= 0) return {0, 0};
  return {(consumed->read - start.read) / seconds, (consumed->write - start.write) / seconds};
}

TableCostEstimate TableCostEstimator::EstimateOf(const TableDescription& table) const {
  TableCostEstimate estimate;
  estimate.table = table.name;
  estimate.table_class = table.settings.table_class;
  estimate.usage.size_bytes = table.approximate_size_bytes;
  estimate.usage.billing_mode = table.settings.billing_mode;
  estimate.usage.provisioned = table.settings.provisioned;
  // Indexes are billed with their table: their storage, and a global index's own
  // provisioned units (its consumed units are in the limiter's totals).
  for (const auto* indexes : {&table.local_indexes, &table.global_indexes}) {
    for (const IndexDescription& index : *indexes) {
      estimate.usage.size_bytes += index.approximate_size_bytes;
      estimate.usage.provisioned.read_capacity_units +=
          static_cast<int64_t>(index.definition.read_capacity_units);
      estimate.usage.provisioned.write_capacity_units +=
          static_cast<int64_t>(index.definition.write_capacity_units);
    }
  }
  auto [read_rate, write_rate] = ConsumedRates(table.name);
  estimate.usage.read_units_per_second = read_rate;
  estimate.usage.write_units_per_second = write_rate;
  estimate.standard = EstimateMonthlyCost(estimate.usage, PricesOf(TableClass::kStandard));
  estimate.infrequent_access =
      EstimateMonthlyCost(estimate.usage, PricesOf(TableClass::kStandardInfrequentAccess));
  return estimate;
}

Result<TableCostEstimate> TableCostEstimator::Estimate(const std::string& table) const {
  TW_ASSIGN_OR_RETURN(TableDescription description, engine_->DescribeTable(table));
  return EstimateOf(description);
}

Result<std::vector<TableCostEstimate>> TableCostEstimator::EstimateAll() const {
  std::vector<TableCostEstimate> estimates;
  std::optional<std::string> start;
  do {
    TW_ASSIGN_OR_RETURN(ListTablesPage page, engine_->ListTables(start, 100));
    for (const std::string& name : page.names) {
      auto description = engine_->DescribeTable(name);
      if (!description.ok()) continue;  // deleted since listed
      estimates.push_back(EstimateOf(*description));
    }
    start = page.last_evaluated_table_name;
  } while (start);
  // Forget the windows of deleted tables.
  std::lock_guard lock(mutex_);
  std::erase_if(windows_, [&](const auto& entry) {
    return std::none_of(estimates.begin(), estimates.end(),
                        [&](const TableCostEstimate& e) { return e.table == entry.first; });
  });
  return estimates;
}

std::vector<prometheus::MetricFamily> TableCostEstimator::Collect() const {
  prometheus::MetricFamily cost{
      "tidewater_table_estimated_monthly_cost_dollars",
      "Estimated monthly cost on DynamoDB (us-east-1 list prices) at each table class, by "
      "component; requests extrapolated from the last hour's consumption",
      prometheus::MetricType::Gauge,
      {}};
  prometheus::MetricFamily class_info{"tidewater_table_class_info",
                                      "1 for the table class the table is in now",
                                      prometheus::MetricType::Gauge,
                                      {}};
  auto estimates = EstimateAll();
  if (estimates.ok()) {
    for (const TableCostEstimate& estimate : *estimates) {
      for (TableClass table_class :
           {TableClass::kStandard, TableClass::kStandardInfrequentAccess}) {
        const MonthlyCost& at = estimate.At(table_class);
        const std::array<std::pair<const char*, double>, 3> components = {
            {{"storage", at.storage}, {"reads", at.reads}, {"writes", at.writes}}};
        for (const auto& [component, dollars] : components) {
          prometheus::ClientMetric sample = TableSample(estimate.table, dollars, false);
          sample.label.push_back({"table_class", std::string(TableClassName(table_class))});
          sample.label.push_back({"component", component});
          cost.metric.push_back(std::move(sample));
        }
      }
      prometheus::ClientMetric info = TableSample(estimate.table, 1, false);
      info.label.push_back({"table_class", std::string(TableClassName(estimate.table_class))});
      class_info.metric.push_back(std::move(info));
    }
  }
  return {std::move(cost), std::move(class_info)};
}

}  // namespace tidewater::server
