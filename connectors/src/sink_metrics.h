// Private: the sinks' Prometheus metrics. Families are registered in the injected
// registry; every sink of a process shares them, with the label sink=<name>.
//
//   tidewater_sink_rows_total{sink,table}             change records committed to the output
//   tidewater_sink_errors_total{sink,table}           failed attempts (each one retried)
//   tidewater_sink_files_committed_total{sink,table}  files renamed into place (file sinks)
//   tidewater_sink_records_quarantined_total{sink,table,reason}  records parked in the
//                                                     quarantine table (quarantining_sink.h)
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace tidewater::connectors {

// Thread safety: all methods may be called from any thread.
class SinkMetrics {
 public:
  // `registry` may be null: the metrics then live in a private registry.
  SinkMetrics(prometheus::Registry* registry, std::string sink);

  void RowsCommitted(const std::string& table, size_t rows) {
    For(table).rows->Increment(static_cast<double>(rows));
  }
  void Error(const std::string& table) { For(table).errors->Increment(); }
  void FileCommitted(const std::string& table) { For(table).files->Increment(); }
  void RecordQuarantined(const std::string& table, const std::string& reason);

 private:
  struct Table {
    prometheus::Counter* rows;
    prometheus::Counter* errors;
    prometheus::Counter* files;
  };
  Table& For(const std::string& table);

  std::shared_ptr<prometheus::Registry> own_registry_;
  prometheus::Registry& registry_;
  const std::string sink_;
  std::mutex mutex_;
  std::map<std::string, Table> tables_;
};

}  // namespace tidewater::connectors
