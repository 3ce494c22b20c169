// tidewaterd's Prometheus metrics, kept apart from request handling: handlers and the HTTP
// layer call these methods; this class owns the prometheus-cpp families.
//
//   tidewater_api_requests_total{operation}              requests answered
//   tidewater_api_request_duration_seconds{operation}    latency histogram
//   tidewater_api_errors_total{operation,type}           error answers by DynamoDB error type
//   tidewater_http_connections                           open client connections
//   tidewater_http_rejected_requests_total{reason}       body too large, malformed HTTP
//   tidewater_stream_records_read_total                  records returned by GetRecords
//   tidewater_stream_records_written_total{table}        records in the table's change log
//                                                        (its shards' last sequence numbers)
//   tidewater_table_items{table}                         approximate item count
//   tidewater_storage_writable                           1 while the engine accepts writes, 0
//                                                        while a storage error stops them
// The last three are read from the engine at scrape time.
//
// Thread safety: every method is safe for concurrent use.
#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tidewater/core/engine.h"

namespace tidewater::server {

// A sample labelled {table="<table>"}: a counter's value when `counter`, else a gauge's
// (for collectables that build their families at scrape time).
prometheus::ClientMetric TableSample(const std::string& table, double value, bool counter);

class ServerMetrics {
 public:
  // `operations`: every operation name the router serves, indexed by operation id.
  // `engine` (not owned) is read at scrape time, and so are `extra` metrics (not owned).
  ServerMetrics(const std::vector<std::string>& operations, Engine* engine,
                std::vector<const prometheus::Collectable*> extra = {});

  void RequestDone(size_t operation_id, double seconds);
  void ErrorReturned(size_t operation_id, std::string_view error_type);
  void ConnectionOpened() { connections_->Increment(); }
  void ConnectionClosed() { connections_->Decrement(); }
  void BodyTooLarge() { body_too_large_->Increment(); }
  void MalformedHttp() { malformed_http_->Increment(); }
  void TlsHandshakeFailed() { tls_handshake_failed_->Increment(); }
  void StreamRecordsRead(size_t count) { records_read_->Increment(static_cast<double>(count)); }
  // Cluster mode: a request forwarded to its shards' owner, answered (`answered`: the owner
  // sent a response, whatever its status) or not, after `seconds` there and back.
  void Forwarded(size_t operation_id, bool answered, double seconds);

  // The Prometheus text exposition of every metric.
  std::string Serialize() const;

 private:
  struct PerOperation {
    prometheus::Counter* requests;
    prometheus::Histogram* latency;
  };

  Engine* engine_;
  std::vector<const prometheus::Collectable*> extra_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::string> operation_names_;
  std::vector<PerOperation> per_operation_;
  prometheus::Family<prometheus::Counter>* errors_;
  prometheus::Gauge* connections_;
  prometheus::Counter* body_too_large_;
  prometheus::Counter* malformed_http_;
  prometheus::Counter* tls_handshake_failed_;
  prometheus::Counter* records_read_;
  prometheus::Family<prometheus::Counter>* forwarded_;
  prometheus::Histogram* forward_latency_;
};

}  // namespace tidewater::server
