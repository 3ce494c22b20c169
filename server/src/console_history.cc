#include "console_history.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <algorithm>

#include "tidewater/core/json_codec.h"

namespace tidewater::server {
namespace {

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
    points_.push_back({reading.time_micros, static_cast<double>(written) / seconds,
                       reading.kafka_lag_records, reading.kafka_lag_seconds});
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
      WriteOptional(w, "kafkaLagRecords", point.kafka_lag_records);
      WriteOptional(w, "kafkaLagSeconds", point.kafka_lag_seconds);
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

MetricReading ReadMetrics(Engine& engine, const std::vector<const prometheus::Collectable*>& extra,
                          const Clock& clock) {
  MetricReading reading;
  reading.time_micros = clock.NowMicros();
  std::optional<std::string> start;
  do {
    auto page = engine.ListTables(start, 100);
    if (!page.ok()) break;
    for (const std::string& name : page->names) {
      auto table = engine.DescribeTable(name);
      if (!table.ok()) continue;
      for (const ShardDescription& shard : table->shards) {
        reading.records_written += shard.last_sequence.value();
      }
    }
    start = page->last_evaluated_table_name;
  } while (start);
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
                               Clock* clock, MetricHistory* history,
                               std::chrono::milliseconds interval)
    : engine_(engine),
      extra_(std::move(extra)),
      clock_(clock),
      history_(history),
      interval_(interval) {
  // The baseline, before the server takes any request: the first point's rate covers
  // everything written since the start.
  history_->Add(ReadMetrics(*engine_, extra_, *clock_));
  thread_ = std::jthread([this](std::stop_token stop) { Run(std::move(stop)); });
}

void HistorySampler::Run(std::stop_token stop) {
  while (true) {
    {
      MutexLock lock(mu_);
      clock_->WaitFor(wake_, mu_, stop, interval_, [] { return false; });
    }
    if (stop.stop_requested()) return;
    history_->Add(ReadMetrics(*engine_, extra_, *clock_));
  }
}

}  // namespace tidewater::server
