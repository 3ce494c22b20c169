#include "console_history.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <algorithm>
#include <map>
#include <utility>

#include "tidewater/core/json_codec.h"
#include "tidewater/streams/lease_store.h"

namespace tidewater::server {
namespace {

// Records the consumer applications have not processed yet, over the leases of the default
// lease table (nullopt without one, or without a started lease). The table is not created.
std::optional<double> ConsumerLagRecords(
    Engine& engine,
    const std::map<std::pair<std::string, uint32_t>, SequenceNumber>& last_sequences) {
  if (!engine.DescribeTable(streams::kDefaultLeaseTable).ok()) return std::nullopt;
  auto store = streams::MakeEngineLeaseStore(engine);
  if (!store.ok()) return std::nullopt;
  auto leases = (*store)->ListAllLeases();
  if (!leases.ok()) return std::nullopt;
  std::optional<double> behind;
  for (const streams::Lease& lease : *leases) {
    if (!lease.checkpoint) continue;  // not started
    auto last = last_sequences.find({lease.table.value(), lease.shard.value()});
    if (last == last_sequences.end()) continue;  // the table is gone
    const uint64_t records =
        lease.finished ? 0 : SequenceDistance(*lease.checkpoint, last->second.Next());
    behind = behind.value_or(0) + static_cast<double>(records);
  }
  return behind;
}

void WriteOptional(json::Writer& w, const char* key, const std::optional<double>& value) {
  w.Key(key);
  if (value) {
    w.Double(*value);
  } else {
    w.Null();
  }
}

}  // namespace

void MetricHistory::Add(const MetricReading& reading) {
  MutexLock lock(mu_);
  if (previous_ && reading.time_micros > previous_->time_micros) {
    const double seconds = static_cast<double>(reading.time_micros - previous_->time_micros) / 1e6;
    // A table deleted since the last reading takes its records out of the total.
    const uint64_t written = reading.records_written >= previous_->records_written
                                 ? reading.records_written - previous_->records_written
                                 : 0;
    points_.push_back({reading.time_micros, static_cast<double>(written) / seconds, reading});
    while (points_.size() > capacity_) points_.pop_front();
  }
  previous_ = reading;
}

std::string MetricHistory::Json() const {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  w.Key("points");
  w.StartArray();
  {
    MutexLock lock(mu_);
    for (const Point& point : points_) {
      w.StartObject();
      w.Key("timeMicros");
      w.Int64(point.time_micros);
      w.Key("writesPerSecond");
      w.Double(point.writes_per_second);
      WriteOptional(w, "kafkaLagRecords", point.lags.kafka_lag_records);
      WriteOptional(w, "kafkaLagSeconds", point.lags.kafka_lag_seconds);
      WriteOptional(w, "consumerLagRecords", point.lags.consumer_lag_records);
      WriteOptional(w, "replicationLagRecords", point.lags.replication_lag_records);
      WriteOptional(w, "replicationLagSeconds", point.lags.replication_lag_seconds);
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

MetricReading ReadMetrics(Engine& engine, const std::vector<const prometheus::Collectable*>& extra,
                          ReplicatorProgressBoard& replicators, const Clock& clock) {
  MetricReading reading;
  reading.time_micros = clock.NowMicros();
  std::map<std::pair<std::string, uint32_t>, SequenceNumber> last_sequences;
  std::optional<std::string> start;
  do {
    auto page = engine.ListTables(start, 100);
    if (!page.ok()) break;
    for (const std::string& name : page->names) {
      auto table = engine.DescribeTable(name);
      if (!table.ok()) continue;
      for (const ShardDescription& shard : table->shards) {
        reading.records_written += shard.last_sequence.value();
        last_sequences[{name, shard.index.value()}] = shard.last_sequence;
      }
    }
    start = page->last_evaluated_table_name;
  } while (start);
  reading.consumer_lag_records = ConsumerLagRecords(engine, last_sequences);
  const std::vector<v1::ReplicatorShardReport> reports =
      replicators.List(reading.time_micros / 1000);
  for (const v1::ReplicatorShardReport& report : reports) {
    const v1::ReplicatorShardProgress& shard = report.progress();
    if (shard.last_sequence_known()) {
      reading.replication_lag_records =
          reading.replication_lag_records.value_or(0) +
          static_cast<double>(SequenceDistance(SequenceNumber(shard.next_sequence()),
                                               SequenceNumber(shard.last_sequence()).Next()));
    }
    reading.replication_lag_seconds =
        std::max(reading.replication_lag_seconds.value_or(0),
                 static_cast<double>(shard.iterator_age_millis()) / 1000);
  }
  for (const prometheus::Collectable* collectable : extra) {
    for (const prometheus::MetricFamily& family : collectable->Collect()) {
      if (family.name == "tidewater_kafka_publisher_lag_records") {
        double sum = 0;
        for (const auto& metric : family.metric) sum += metric.gauge.value;
        reading.kafka_lag_records = reading.kafka_lag_records.value_or(0) + sum;
      } else if (family.name == "tidewater_kafka_publisher_lag_seconds") {
        double largest = reading.kafka_lag_seconds.value_or(0);
        for (const auto& metric : family.metric) largest = std::max(largest, metric.gauge.value);
        reading.kafka_lag_seconds = largest;
      }
    }
  }
  return reading;
}

HistorySampler::HistorySampler(Engine* engine, std::vector<const prometheus::Collectable*> extra,
                               ReplicatorProgressBoard* replicators, Clock* clock,
                               MetricHistory* history, std::chrono::milliseconds interval)
    : engine_(engine),
      extra_(std::move(extra)),
      replicators_(replicators),
      clock_(clock),
      history_(history),
      interval_(interval) {
  // The baseline, before the server takes any request: the first point's rate covers
  // everything written since the start.
  history_->Add(ReadMetrics(*engine_, extra_, *replicators_, *clock_));
  thread_ = std::jthread([this](std::stop_token stop) { Run(std::move(stop)); });
}

void HistorySampler::Run(std::stop_token stop) {
  while (true) {
    {
      MutexLock lock(mu_);
      clock_->WaitFor(wake_, mu_, stop, interval_, [] { return false; });
    }
    if (stop.stop_requested()) return;
    history_->Add(ReadMetrics(*engine_, extra_, *replicators_, *clock_));
  }
}

}  // namespace tidewater::server
