#include "shard_autosplit.h"

#include <spdlog/spdlog.h>

namespace tidewater::server {

std::string_view SplitReasonName(SplitReason reason) {
  return reason == SplitReason::kBytes ? "bytes" : "writes";
}

std::vector<SplitDecision> SplitPolicy::Observe(const std::vector<TableDescription>& tables,
                                                int64_t now_micros) {
  std::vector<SplitDecision> decisions;
  std::map<std::pair<uint64_t, uint32_t>, ShardWatch> watches;
  for (const TableDescription& table : tables) {
    for (const ShardDescription& shard : table.shards) {
      if (shard.closed) continue;
      const std::pair<uint64_t, uint32_t> id{table.table_id, shard.index.value()};
      ShardWatch watch{shard.last_sequence.value(), now_micros, std::nullopt};
      std::optional<SplitReason> reason;
      if (thresholds_.max_shard_bytes > 0) {
        // The shard's share of the hash space, times the table's size.
        const long double share =
            (static_cast<long double>(shard.hash_end - shard.hash_begin) + 1) / 0x1p64L;
        if (share * static_cast<long double>(table.approximate_size_bytes) >
            static_cast<long double>(thresholds_.max_shard_bytes)) {
          reason = SplitReason::kBytes;
        }
      }
      auto previous = watches_.find(id);
      if (thresholds_.max_shard_writes_per_second > 0 && previous != watches_.end() &&
          now_micros > previous->second.seen_micros) {
        const ShardWatch& before = previous->second;
        const double seconds = static_cast<double>(now_micros - before.seen_micros) / 1e6;
        const double records = watch.last_sequence >= before.last_sequence
                                   ? static_cast<double>(watch.last_sequence - before.last_sequence)
                                   : 0;
        if (records / seconds > thresholds_.max_shard_writes_per_second) {
          watch.hot_since_micros = before.hot_since_micros.value_or(before.seen_micros);
          if (!reason && now_micros - *watch.hot_since_micros >= thresholds_.sustain.count()) {
            reason = SplitReason::kWrites;
          }
        }
      }
      if (reason) {
        decisions.push_back({table.name, table.table_id, shard.index, *reason});
      } else {
        watches.emplace(id, watch);
      }
    }
  }
  watches_ = std::move(watches);
  return decisions;
}

ShardAutoSplitter::ShardAutoSplitter(Engine& engine, Clock* clock, AutoSplitThresholds thresholds,
                                     std::chrono::milliseconds interval,
                                     prometheus::Registry& registry)
    : engine_(engine),
      clock_(clock),
      interval_(interval),
      splits_(prometheus::BuildCounter()
                  .Name("tidewater_shard_splits_total")
                  .Help("Shards split automatically, by table and by reason (bytes, writes)")
                  .Register(registry)),
      policy_(thresholds) {
  CheckNow();  // the first look: the baseline of the write rates
  thread_ = std::thread([this, stop = stop_.get_token()] {
    while (clock_->SleepFor(interval_, stop)) CheckNow();
  });
}

ShardAutoSplitter::~ShardAutoSplitter() {
  stop_.request_stop();
  thread_.join();
}

std::vector<TableDescription> ShardAutoSplitter::DescribeAll() {
  std::vector<TableDescription> tables;
  std::optional<std::string> start;
  do {
    auto page = engine_.ListTables(start, 100);
    if (!page.ok()) return tables;
    for (const std::string& name : page->names) {
      auto description = engine_.DescribeTable(name);
      if (description.ok()) tables.push_back(std::move(*description));  // else deleted meanwhile
    }
    start = page->last_evaluated_table_name;
  } while (start);
  return tables;
}

std::vector<SplitDecision> ShardAutoSplitter::CheckNow() {
  MutexLock lock(mu_);
  std::vector<SplitDecision> done;
  for (const SplitDecision& decision : policy_.Observe(DescribeAll(), clock_->NowMicros())) {
    const std::pair<uint64_t, uint32_t> id{decision.table_id, decision.shard.value()};
    if (refused_.contains(id)) continue;
    auto split = engine_.SplitShard(decision.table, decision.shard);
    if (!split.ok()) {
      // Deleted meanwhile: nothing to do. Otherwise refused (the table's shard limit, a
      // range of one hash, a storage error): said once, not tried again.
      if (split.status().code() != ErrorCode::kResourceNotFound) {
        refused_.insert(id);
        spdlog::warn("event=shard_split_refused table={} shard={} reason={} error=\"{}\"",
                     decision.table, decision.shard.value(), SplitReasonName(decision.reason),
                     split.status().message());
      }
      continue;
    }
    spdlog::info("event=shard_split table={} shard={} reason={} children={},{}", decision.table,
                 decision.shard.value(), SplitReasonName(decision.reason),
                 split->lower_child.index.value(), split->upper_child.index.value());
    splits_
        .Add({{"table", decision.table}, {"reason", std::string(SplitReasonName(decision.reason))}})
        .Increment();
    done.push_back(decision);
  }
  return done;
}

}  // namespace tidewater::server
