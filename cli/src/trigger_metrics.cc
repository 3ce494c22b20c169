#include "trigger_metrics.h"

#include <spdlog/spdlog.h>

namespace tidewater::cli {

class TriggerMetrics::Listener final : public streams::TriggerListener {
 public:
  Listener(TriggerMetrics& metrics, std::string name)
      : name_(std::move(name)),
        metrics_(metrics),
        processed_(metrics.records_processed_.Add({{"trigger", name_}})),
        filtered_(metrics.records_filtered_.Add({{"trigger", name_}})),
        invocations_(metrics.invocations_.Add({{"trigger", name_}})),
        errors_(metrics.handler_errors_.Add({{"trigger", name_}})),
        duration_(metrics.handler_duration_.Add(
            {{"trigger", name_}},
            prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                    2.5, 5, 10, 30, 60, 300})) {}

  void Invoked(const streams::TriggerInvocation& invocation, std::chrono::nanoseconds duration,
               const Status& outcome) override {
    invocations_.Increment();
    duration_.Observe(std::chrono::duration<double>(duration).count());
    if (!outcome.ok()) {
      errors_.Increment();
      spdlog::warn(
          "event=handler_error trigger={} shard={} first_sequence={} records={} error=\"{}\"",
          name_, invocation.shard.value(), invocation.first_sequence.value(),
          invocation.record_count, outcome.message());
    }
  }
  void Processed(ShardIndex, size_t records) override {
    processed_.Increment(static_cast<double>(records));
  }
  void Filtered(ShardIndex, size_t records) override {
    filtered_.Increment(static_cast<double>(records));
  }
  void Discarded(ShardIndex shard, size_t records, std::string_view condition,
                 std::string_view record_json) override {
    metrics_.records_discarded_.Add({{"trigger", name_}, {"condition", std::string(condition)}})
        .Increment(static_cast<double>(records));
    spdlog::warn("event=records_discarded trigger={} shard={} records={} condition={} record={}",
                 name_, shard.value(), records, condition, record_json);
  }
  void Quarantined(const streams::QuarantinedRecord& record) override {
    metrics_.records_quarantined_.Add({{"trigger", name_}, {"reason", record.reason}}).Increment();
    spdlog::warn("event=record_quarantined trigger={} shard={} sequence={} reason={} key={}", name_,
                 record.shard.value(), record.sequence.value(), record.reason, record.key);
  }

 private:
  const std::string name_;
  TriggerMetrics& metrics_;
  prometheus::Counter& processed_;
  prometheus::Counter& filtered_;
  prometheus::Counter& invocations_;
  prometheus::Counter& errors_;
  prometheus::Histogram& duration_;
};

TriggerMetrics::TriggerMetrics(prometheus::Registry& registry)
    : iterator_age_(prometheus::BuildGauge()
                        .Name("tidewater_trigger_iterator_age_milliseconds")
                        .Help("Age of the last record handed to the trigger, while records wait")
                        .Register(registry)),
      records_processed_(prometheus::BuildCounter()
                             .Name("tidewater_trigger_records_processed_total")
                             .Help("Records the handler accepted")
                             .Register(registry)),
      records_filtered_(prometheus::BuildCounter()
                            .Name("tidewater_trigger_records_filtered_total")
                            .Help("Records dropped by FilterCriteria")
                            .Register(registry)),
      records_discarded_(prometheus::BuildCounter()
                             .Name("tidewater_trigger_records_discarded_total")
                             .Help("Records given up on (sent to the on-failure destination)")
                             .Register(registry)),
      records_quarantined_(
          prometheus::BuildCounter()
              .Name("tidewater_trigger_records_quarantined_total")
              .Help("Records parked in the quarantine table (PoisonRecordHandling QUARANTINE_KEY)")
              .Register(registry)),
      invocations_(prometheus::BuildCounter()
                       .Name("tidewater_trigger_invocations_total")
                       .Help("Handler invocations")
                       .Register(registry)),
      handler_errors_(prometheus::BuildCounter()
                          .Name("tidewater_trigger_handler_errors_total")
                          .Help("Handler invocations that failed (error, exit status, timeout)")
                          .Register(registry)),
      handler_duration_(prometheus::BuildHistogram()
                            .Name("tidewater_trigger_handler_duration_seconds")
                            .Help("Handler invocation duration")
                            .Register(registry)) {}

TriggerMetrics::~TriggerMetrics() = default;

streams::TriggerListener* TriggerMetrics::ListenerFor(const std::string& name) {
  listeners_.push_back(std::make_unique<Listener>(*this, name));
  return listeners_.back().get();
}

void TriggerMetrics::UpdateProgress(const std::string& name,
                                    const std::vector<streams::ConsumerShardStatus>& progress) {
  for (const streams::ConsumerShardStatus& shard : progress) {
    iterator_age_.Add({{"trigger", name}, {"shard", std::to_string(shard.shard.value())}})
        .Set(shard.held ? static_cast<double>(shard.iterator_age_millis) : 0.0);
  }
}

}  // namespace tidewater::cli
