#include "sink_metrics.h"

namespace tidewater::connectors {

SinkMetrics::SinkMetrics(prometheus::Registry* registry, std::string sink)
    : own_registry_(registry == nullptr ? std::make_shared<prometheus::Registry>() : nullptr),
      registry_(registry == nullptr ? *own_registry_ : *registry),
      sink_(std::move(sink)) {}

SinkMetrics::Table& SinkMetrics::For(const std::string& table) {
  std::lock_guard lock(mutex_);
  auto it = tables_.find(table);
  if (it != tables_.end()) return it->second;
  // BuildCounter().Register returns the existing family when another sink registered it.
  const prometheus::Labels labels{{"sink", sink_}, {"table", table}};
  Table metrics{
      &prometheus::BuildCounter()
           .Name("tidewater_sink_rows_total")
           .Help("Change records a sink committed to its output")
           .Register(registry_)
           .Add(labels),
      &prometheus::BuildCounter()
           .Name("tidewater_sink_errors_total")
           .Help("Failed sink attempts (each is retried)")
           .Register(registry_)
           .Add(labels),
      &prometheus::BuildCounter()
           .Name("tidewater_sink_files_committed_total")
           .Help("Files a file sink completed and renamed into place")
           .Register(registry_)
           .Add(labels),
  };
  return tables_.emplace(table, metrics).first->second;
}

void SinkMetrics::RecordQuarantined(const std::string& table, const std::string& reason) {
  prometheus::BuildCounter()
      .Name("tidewater_sink_records_quarantined_total")
      .Help("Records a sink parked in the quarantine table (poison_records: quarantine_key)")
      .Register(registry_)
      .Add({{"sink", sink_}, {"table", table}, {"reason", reason}})
      .Increment();
}

}  // namespace tidewater::connectors
