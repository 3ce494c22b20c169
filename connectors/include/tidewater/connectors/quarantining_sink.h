// Per-key poison quarantine for a sink (sink YAML `poison_records: quarantine_key`, off by
// default): wraps a sink so that a record the output keeps rejecting is parked in the
// quarantine table (streams/quarantine.h) with every later record of its item key, while
// the records of other keys go on to the output.
//
// The wrapped sink reports a rejected record by returning Status::Validation from Write
// (PostgresSinkOptions::return_record_errors); every other error is its usual outage
// handling (it retries inside Write until the batch stops) and is passed on unchanged:
// outages never park anything. On a Validation error the batch is written again after a
// backoff, up to `retry_attempts` times, then bisected (each half written once more) down to
// the single rejected record, which is parked (reason RetryAttemptsExhausted) and its key
// quarantined. Records of a quarantined key are parked (reason KeyQuarantined) in sequence
// order without being written, so the output holds a prefix of each key's records and the
// table the rest. A key stays quarantined while the table holds a parked record of it for
// the sink's consumer and shard; deleting them releases it. Write returns ok once the
// batch's records are written or parked: the position then moves past parked records.
//
// The parked record is the DynamoDB Streams record JSON (GetRecords' shape).
// Metrics: tidewater_sink_records_quarantined_total{sink,table,reason}.
//
// Thread safety: as sink.h (Write concurrently for different shards).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "tidewater/connectors/sink.h"
#include "tidewater/core/clock.h"
#include "tidewater/streams/quarantine.h"

namespace prometheus {
class Registry;
}

namespace tidewater::connectors {

struct QuarantiningSinkOptions {
  streams::QuarantineStore* store = nullptr;  // required; not owned
  std::string consumer;                       // the reader's application, "<app>.<sink>"
  std::string sink_name;                      // the metrics' sink label
  int retry_attempts = 2;        // writes again of a rejected batch before bisecting: 0..10000
  std::string region = "local";  // the awsRegion of parked records
  std::chrono::milliseconds retry_backoff_initial{100};
  std::chrono::milliseconds retry_backoff_max{5'000};
  Clock* clock = Clock::System();  // backoff and parking times; not owned
  // Metrics. Not owned; must outlive the sink. Null: a private registry.
  prometheus::Registry* registry = nullptr;
};

// Errors: Validation (no store or inner sink, retry_attempts out of range, no clock).
Result<std::unique_ptr<Sink>> MakeQuarantiningSink(std::unique_ptr<Sink> inner,
                                                   QuarantiningSinkOptions options);

}  // namespace tidewater::connectors
