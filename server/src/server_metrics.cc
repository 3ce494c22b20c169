#include "server_metrics.h"

#include <prometheus/text_serializer.h>

namespace tidewater::server {
namespace {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
      0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1.0};
  return buckets;
}

}  // namespace

prometheus::ClientMetric TableSample(const std::string& table, double value, bool counter) {
  prometheus::ClientMetric metric;
  metric.label.push_back({"table", table});
  if (counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return metric;
}

ServerMetrics::ServerMetrics(const std::vector<std::string>& operations, Engine* engine,
                             std::vector<const prometheus::Collectable*> extra)
    : engine_(engine),
      extra_(std::move(extra)),
      registry_(std::make_shared<prometheus::Registry>()),
      operation_names_(operations) {
  auto& requests = prometheus::BuildCounter()
                       .Name("tidewater_api_requests_total")
                       .Help("API requests answered, by operation")
                       .Register(*registry_);
  auto& latency = prometheus::BuildHistogram()
                      .Name("tidewater_api_request_duration_seconds")
                      .Help("API request latency from parsed request to response, by operation")
                      .Register(*registry_);
  for (const std::string& name : operations) {
    per_operation_.push_back({&requests.Add({{"operation", name}}),
                              &latency.Add({{"operation", name}}, LatencyBuckets())});
  }
  errors_ = &prometheus::BuildCounter()
                 .Name("tidewater_api_errors_total")
                 .Help("API error answers, by operation and DynamoDB error type")
                 .Register(*registry_);
  connections_ = &prometheus::BuildGauge()
                      .Name("tidewater_http_connections")
                      .Help("Open client connections")
                      .Register(*registry_)
                      .Add({});
  auto& rejected = prometheus::BuildCounter()
                       .Name("tidewater_http_rejected_requests_total")
                       .Help("HTTP requests refused before reaching an operation, by reason")
                       .Register(*registry_);
  body_too_large_ = &rejected.Add({{"reason", "body_too_large"}});
  malformed_http_ = &rejected.Add({{"reason", "malformed_http"}});
  tls_handshake_failed_ = &rejected.Add({{"reason", "tls_handshake_failed"}});
  records_read_ = &prometheus::BuildCounter()
                       .Name("tidewater_stream_records_read_total")
                       .Help("Stream records returned by GetRecords")
                       .Register(*registry_)
                       .Add({});
  forwarded_ = &prometheus::BuildCounter()
                    .Name("tidewater_cluster_forwarded_requests_total")
                    .Help(
                        "Requests forwarded to the node serving their shards, by operation and "
                        "outcome (answered: the owner responded; failed: it did not)")
                    .Register(*registry_);
  forward_latency_ = &prometheus::BuildHistogram()
                          .Name("tidewater_cluster_forward_duration_seconds")
                          .Help("Time from sending a forwarded request to the owner's answer")
                          .Register(*registry_)
                          .Add({}, LatencyBuckets());
}

void ServerMetrics::Forwarded(size_t operation_id, bool answered, double seconds) {
  forwarded_
      ->Add({{"operation", operation_names_[operation_id]},
             {"outcome", answered ? "answered" : "failed"}})
      .Increment();
  if (answered) forward_latency_->Observe(seconds);
}

void ServerMetrics::RequestDone(size_t operation_id, double seconds) {
  const PerOperation& op = per_operation_[operation_id];
  op.requests->Increment();
  op.latency->Observe(seconds);
}

void ServerMetrics::ErrorReturned(size_t operation_id, std::string_view error_type) {
  errors_->Add({{"operation", operation_names_[operation_id]}, {"type", std::string(error_type)}})
      .Increment();
}

std::string ServerMetrics::Serialize() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  prometheus::MetricFamily written{"tidewater_stream_records_written_total",
                                   "Change records written to each table's stream shards",
                                   prometheus::MetricType::Counter,
                                   {}};
  prometheus::MetricFamily items{"tidewater_table_items",
                                 "Approximate item count per table",
                                 prometheus::MetricType::Gauge,
                                 {}};
  prometheus::MetricFamily index_backlog{
      "tidewater_global_index_lag_records",
      "Item changes of each table with global secondary indexes whose index updates are not "
      "applied yet",
      prometheus::MetricType::Gauge,
      {}};
  prometheus::MetricFamily index_lag{
      "tidewater_global_index_lag_seconds",
      "Age of the oldest item change whose global secondary index updates are not applied yet "
      "(0 when the table's global indexes are caught up)",
      prometheus::MetricType::Gauge,
      {}};
  std::optional<std::string> start;
  do {
    auto page = engine_->ListTables(start, 100);
    if (!page.ok()) break;
    for (const std::string& name : page->names) {
      auto table = engine_->DescribeTable(name);
      if (!table.ok()) continue;
      uint64_t records = 0;
      for (const ShardDescription& shard : table->shards) records += shard.last_sequence.value();
      written.metric.push_back(TableSample(name, static_cast<double>(records), true));
      items.metric.push_back(
          TableSample(name, static_cast<double>(table->approximate_item_count), false));
      if (!table->global_indexes.empty()) {
        index_backlog.metric.push_back(
            TableSample(name, static_cast<double>(table->global_index_backlog), false));
        index_lag.metric.push_back(
            TableSample(name, static_cast<double>(table->global_index_lag_micros) / 1e6, false));
      }
    }
    start = page->last_evaluated_table_name;
  } while (start);
  families.push_back(std::move(written));
  families.push_back(std::move(items));
  families.push_back(std::move(index_backlog));
  families.push_back(std::move(index_lag));
  prometheus::MetricFamily writable{
      "tidewater_storage_writable",
      "1 while the engine accepts writes; 0 while a storage error (full disk, failed write "
      "or fsync) stops them until the engine recovers",
      prometheus::MetricType::Gauge,
      {}};
  writable.metric.emplace_back().gauge.value = engine_->WriteHealth().ok() ? 1 : 0;
  families.push_back(std::move(writable));
  for (const prometheus::Collectable* extra : extra_) {
    for (auto& family : extra->Collect()) families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace tidewater::server
