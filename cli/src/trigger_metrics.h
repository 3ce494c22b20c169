// The metrics of `tidewater trigger`, per trigger: iterator age per shard, records
// processed / filtered / discarded / quarantined, handler invocations, errors and duration. One
// object owns the prometheus families on an injected registry; each trigger gets a listener.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "tidewater/streams/consumer.h"
#include "tidewater/streams/trigger.h"

namespace tidewater::cli {

class TriggerMetrics {
 public:
  explicit TriggerMetrics(prometheus::Registry& registry);
  ~TriggerMetrics();

  // The listener that records trigger `name`'s events (and logs give-ups). Owned here.
  streams::TriggerListener* ListenerFor(const std::string& name);

  // Sets the iterator age gauges of trigger `name` from its consumer's progress.
  void UpdateProgress(const std::string& name,
                      const std::vector<streams::ConsumerShardStatus>& progress);

 private:
  class Listener;

  prometheus::Family<prometheus::Gauge>& iterator_age_;
  prometheus::Family<prometheus::Counter>& records_processed_;
  prometheus::Family<prometheus::Counter>& records_filtered_;
  prometheus::Family<prometheus::Counter>& records_discarded_;
  prometheus::Family<prometheus::Counter>& records_quarantined_;
  prometheus::Family<prometheus::Counter>& invocations_;
  prometheus::Family<prometheus::Counter>& handler_errors_;
  prometheus::Family<prometheus::Histogram>& handler_duration_;
  std::vector<std::unique_ptr<Listener>> listeners_;
};

}  // namespace tidewater::cli
