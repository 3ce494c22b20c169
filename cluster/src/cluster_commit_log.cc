#include "tidewater/cluster/cluster_commit_log.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>

#include "cluster_metrics.h"

namespace tidewater::cluster {
namespace {

std::string ShardName(const TableName& table, ShardIndex shard) {
  return "shard " + std::to_string(shard.value()) + " of " + table.value();
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

ClusterCommitLog::ClusterCommitLog(ClusterCommitLogOptions options)
    : options_(std::move(options)),
      own_registry_(options_.registry == nullptr ? std::make_unique<prometheus::Registry>()
                                                 : nullptr),
      metrics_(std::make_unique<ClusterMetrics>(options_.registry != nullptr ? *options_.registry
                                                                             : *own_registry_)) {}

// Forwards the group's changes to the log, on the group's thread.
class ClusterCommitLog::GroupListener final : public OwnershipListener {
 public:
  explicit GroupListener(ClusterCommitLog& log) : log_(log) {}
  void Assigned(const std::vector<PartitionRef>& partitions) override { log_.Assigned(partitions); }
  void Revoked(const std::vector<PartitionRef>& partitions, bool lost) override {
    log_.Revoked(partitions, lost);
  }

 private:
  ClusterCommitLog& log_;
};

ClusterCommitLog::~ClusterCommitLog() { LeaveOwnersGroup(); }

Status ClusterCommitLog::JoinOwnersGroup() {
  if (options_.ownership != ShardOwnership::kGroup || ownership_ != nullptr) return Status::Ok();
  OwnershipOptions group;
  group.brokers = options_.brokers;
  group.group_id = OwnersGroup(options_.cluster_name);
  group.node_id = options_.node_id;
  group.topics = {ShardLogTopicPattern(options_.cluster_name)};
  group.kafka_properties = options_.kafka_properties;
  group.session_timeout = options_.session_timeout;
  listener_ = std::make_unique<GroupListener>(*this);
  TW_ASSIGN_OR_RETURN(ownership_, PartitionOwnership::Join(std::move(group), *listener_));
  spdlog::info("event=cluster_group_joined node={} group={}", options_.node_id,
               OwnersGroup(options_.cluster_name));
  return Status::Ok();
}

void ClusterCommitLog::LeaveOwnersGroup() {
  // Leaving revokes everything this node owns: the listener hands it off.
  ownership_.reset();
}

Status ClusterCommitLog::TakeOverAll(const OpenedTable& table,
                                     const std::vector<uint32_t>& shards) {
  std::vector<std::future<Status>> taken;
  for (uint32_t shard : shards) {
    taken.push_back(std::async(std::launch::async, [this, &table, shard] {
      return TakeOver(*table.engine, table.table, table.table_id, ShardIndex(shard));
    }));
  }
  Status first_error;
  for (size_t i = 0; i < taken.size(); ++i) {
    Status took = taken[i].get();
    if (took.ok()) continue;
    spdlog::warn("event=shard_takeover_failed table={} shard={} node={} error=\"{}\"",
                 table.table.value(), shards[i], options_.node_id, took.message());
    if (first_error.ok()) first_error = std::move(took);
  }
  return first_error;
}

const ClusterCommitLog::OpenedTable* ClusterCommitLog::TableOf(
    const PartitionRef& partition) const {
  auto table = tables_by_topic_.find(partition.topic);
  if (table == tables_by_topic_.end() || partition.partition < 0 ||
      static_cast<uint32_t>(partition.partition) >= table->second.shards) {
    return nullptr;
  }
  return &table->second;
}

void ClusterCommitLog::Assigned(const std::vector<PartitionRef>& partitions) {
  std::lock_guard ownership(ownership_mu_);
  std::map<std::string, std::vector<uint32_t>> to_take;  // by topic, of opened tables
  for (const PartitionRef& partition : partitions) {
    assigned_.insert(partition);
    // One of a table not opened yet is taken over once it is (OpenTable).
    if (TableOf(partition) == nullptr) continue;
    to_take[partition.topic].push_back(static_cast<uint32_t>(partition.partition));
  }
  // A failed take-over stays assigned and unserved: Recover tries it again.
  for (const auto& [topic, shards] : to_take) (void)TakeOverAll(tables_by_topic_.at(topic), shards);
  NoteUnserved();
}

void ClusterCommitLog::Revoked(const std::vector<PartitionRef>& partitions, bool lost) {
  std::lock_guard ownership(ownership_mu_);
  for (const PartitionRef& partition : partitions) {
    assigned_.erase(partition);
    const OpenedTable* table = TableOf(partition);
    if (table == nullptr) continue;
    const Key key{table->table.value(), static_cast<uint32_t>(partition.partition)};
    std::shared_ptr<OwnedShard> owned;
    {
      std::lock_guard lock(mu_);
      auto it = shards_.find(key);
      if (it == shards_.end()) continue;
      owned = std::move(it->second);
      shards_.erase(it);  // Admit refuses its writes from here on
    }
    // The append in flight finishes (acknowledged or failed) before the next owner starts
    // its term; a later one finds the shard gone. With `lost`, the group already dropped
    // this node: the log's fencing refuses what it would append.
    std::lock_guard in_flight(owned->mu);
    owned->handed_off = true;
    owned->metrics->SetRole(ClusterMetrics::Role::kLost);
    spdlog::info("event=shard_handed_off table={} shard={} node={} session_lost={}", key.first,
                 key.second, options_.node_id, lost);
    metrics_->Lost();
  }
  NoteUnserved();
}

std::vector<std::pair<ClusterCommitLog::OpenedTable, std::vector<uint32_t>>>
ClusterCommitLog::UnservedAssignments() {
  std::map<std::string, std::vector<uint32_t>> unserved;
  {
    std::lock_guard lock(mu_);
    for (const PartitionRef& partition : assigned_) {
      const OpenedTable* table = TableOf(partition);
      if (table == nullptr) continue;
      const auto shard = static_cast<uint32_t>(partition.partition);
      if (!shards_.contains({table->table.value(), shard})) {
        unserved[partition.topic].push_back(shard);
      }
    }
  }
  std::vector<std::pair<OpenedTable, std::vector<uint32_t>>> result;
  for (auto& [topic, shards] : unserved) {
    result.emplace_back(tables_by_topic_.at(topic), std::move(shards));
  }
  return result;
}

void ClusterCommitLog::NoteUnserved() {
  std::string names;
  for (const auto& [table, shards] : UnservedAssignments()) {
    for (uint32_t shard : shards) {
      names += (names.empty() ? "" : ", ") + ShardName(table.table, ShardIndex(shard));
    }
  }
  std::lock_guard lock(mu_);
  unserved_ = std::move(names);
}

std::shared_ptr<ShardMetrics> ClusterCommitLog::MetricsOf(const Key& key, uint64_t table_id) {
  std::shared_ptr<ShardMetrics>& metrics = shard_metrics_[key];
  if (metrics == nullptr || metrics->table_id() != table_id) {
    metrics.reset();  // a deleted table's series go before its successor's are made
    metrics = std::make_shared<ShardMetrics>(*metrics_, key.first, table_id, key.second);
  }
  return metrics;
}

Result<std::unique_ptr<ShardFollower>> ClusterCommitLog::OpenFollower(ShardLogTarget& engine,
                                                                      const TableName& table,
                                                                      uint64_t table_id,
                                                                      ShardIndex shard) {
  ShardFollowerOptions follower_options;
  ShardLogOptions& log = follower_options.log;
  log.brokers = options_.brokers;
  log.node_id = options_.node_id;
  log.advertised = options_.advertised;
  log.topic = ShardLogTopic(options_.cluster_name, table_id);
  log.partition = static_cast<int32_t>(shard.value());
  log.message_key = std::to_string(table_id) + "/" + std::to_string(shard.value());
  log.kafka_properties = options_.kafka_properties;
  log.timeout = options_.timeout;
  follower_options.table = table;
  follower_options.shard = shard;
  return ShardFollower::Open(std::move(follower_options), engine);
}

Status ClusterCommitLog::TakeOver(ShardLogTarget& engine, const TableName& table, uint64_t table_id,
                                  ShardIndex shard) {
  const auto started = std::chrono::steady_clock::now();
  TW_ASSIGN_OR_RETURN(std::unique_ptr<ShardFollower> follower,
                      OpenFollower(engine, table, table_id, shard));
  return Install(table, table_id, shard, std::move(follower), started);
}

Status ClusterCommitLog::Install(const TableName& table, uint64_t table_id, ShardIndex shard,
                                 std::unique_ptr<ShardFollower> follower,
                                 std::chrono::steady_clock::time_point started) {
  TW_RETURN_IF_ERROR(follower->log().TakeOver());
  const double seconds = SecondsSince(started);
  auto owned = std::make_shared<OwnedShard>();
  owned->table_id = table_id;
  owned->follower = std::move(follower);
  const ShardLog& log = owned->follower->log();
  spdlog::info("event=shard_taken_over table={} shard={} term={} node={} seconds={:.3f}",
               table.value(), shard.value(), log.owned_term(), options_.node_id, seconds);
  metrics_->TookOver(seconds);
  if (options_.directory != nullptr) {
    options_.directory->Announce(
        ShardLogTopic(options_.cluster_name, table_id), static_cast<int32_t>(shard.value()),
        ShardOwner{log.owned_term(), options_.node_id, options_.advertised});
  }
  const Key key{table.value(), shard.value()};
  std::lock_guard lock(mu_);
  owned->metrics = MetricsOf(key, table_id);
  owned->metrics->SetRole(ClusterMetrics::Role::kOwner);
  owned->metrics->SetTerm(log.owned_term());
  owned->metrics->SetAppliedOffset(log.next_offset());
  shards_[key] = std::move(owned);
  return Status::Ok();
}

std::shared_ptr<ClusterCommitLog::OwnedShard> ClusterCommitLog::Find(const TableName& table,
                                                                     ShardIndex shard) {
  std::lock_guard lock(mu_);
  auto it = shards_.find({table.value(), shard.value()});
  return it == shards_.end() ? nullptr : it->second;
}

Status ClusterCommitLog::Serving(const OwnedShard* owned, const TableName& table,
                                 ShardIndex shard) const {
  if (owned == nullptr) {
    return Status::Unavailable(ShardName(table, shard) + " is not served by node " +
                               options_.node_id);
  }
  if (owned->lost.load(std::memory_order_acquire)) {
    // Its copy here stopped at the other node's take-over.
    return Status::Unavailable(ShardName(table, shard) + " was taken over by another node; node " +
                               options_.node_id + " serves it again only once restarted");
  }
  return Status::Ok();
}

Status ClusterCommitLog::Admit(const TableName& table, ShardIndex shard) {
  std::shared_ptr<OwnedShard> owned = Find(table, shard);
  TW_RETURN_IF_ERROR(Serving(owned.get(), table, shard));
  if (owned->failed.load(std::memory_order_acquire)) {
    return Status::Unavailable(ShardName(table, shard) +
                               " is recovering from a write whose outcome is unknown");
  }
  return Status::Ok();
}

Status ClusterCommitLog::AdmitRead(const TableName& table, ShardIndex shard) {
  return Serving(Find(table, shard).get(), table, shard);
}

Status ClusterCommitLog::Append(std::vector<ShardCommit> commits,
                                std::vector<std::string>& positions) {
  positions.assign(commits.size(), std::string());
  for (size_t i = 0; i < commits.size(); ++i) {
    ShardCommit& commit = commits[i];
    std::shared_ptr<OwnedShard> owned = Find(commit.table, commit.shard);
    if (owned == nullptr) {
      return Status::Internal(ShardName(commit.table, commit.shard) + " is not owned by node " +
                              options_.node_id);
    }
    std::lock_guard lock(owned->mu);
    if (owned->handed_off) {
      return Status::Internal(ShardName(commit.table, commit.shard) + " was handed off by node " +
                              options_.node_id + " before this write reached its log");
    }
    if (owned->failed.load(std::memory_order_acquire)) {
      return Status::Internal(ShardName(commit.table, commit.shard) +
                              ": an earlier write's outcome is unknown; the shard takes writes "
                              "again once it is taken over");
    }
    std::vector<v1::ShardLogEntry> entries(commit.changes.size());
    for (size_t j = 0; j < entries.size(); ++j) {
      *entries[j].mutable_change() = std::move(commit.changes[j]);
    }
    const auto started = std::chrono::steady_clock::now();
    Status appended = owned->follower->AppendOwn(entries, positions[i]);
    if (appended.ok()) {
      metrics_->Appended(SecondsSince(started));
      owned->metrics->SetAppliedOffset(owned->follower->log().next_offset());
    } else {
      owned->failed.store(true, std::memory_order_release);
      metrics_->AppendFailed();
      owned->metrics->SetRole(ClusterMetrics::Role::kRecovering);
      spdlog::warn("event=shard_append_failed table={} shard={} error=\"{}\"", commit.table.value(),
                   commit.shard.value(), appended.message());
      return appended;
    }
  }
  return Status::Ok();
}

Status ClusterCommitLog::OpenTable(ShardLogTarget& engine, const TableName& table,
                                   uint64_t table_id, uint32_t shards) {
  TopicRequirement topic{ShardLogTopic(options_.cluster_name, table_id), table.value(),
                         static_cast<int>(shards)};
  topic.needed_by = "cluster mode (the shard logs)";
  TW_RETURN_IF_ERROR(
      EnsureTopic({options_.brokers, options_.kafka_properties, options_.timeout}, topic));
  std::lock_guard ownership(ownership_mu_);
  {
    std::lock_guard lock(mu_);
    table_ids_[table.value()] = table_id;
  }
  const OpenedTable& opened = tables_by_topic_[topic.topic] =
      OpenedTable{table, table_id, shards, &engine};
  std::vector<uint32_t> to_take;
  for (uint32_t shard = 0; shard < shards; ++shard) {
    if (options_.ownership == ShardOwnership::kEveryShard ||
        assigned_.contains(PartitionRef{topic.topic, static_cast<int32_t>(shard)})) {
      to_take.push_back(shard);
    }
  }
  Status took = TakeOverAll(opened, to_take);
  NoteUnserved();
  // In the group a failed take-over is tried again (Recover); the table exists meanwhile.
  return options_.ownership == ShardOwnership::kGroup ? Status::Ok() : took;
}

void ClusterCommitLog::CloseTable(const TableName& table) {
  std::lock_guard ownership(ownership_mu_);
  std::erase_if(tables_by_topic_,
                [&](const auto& entry) { return entry.second.table.value() == table.value(); });
  {
    std::lock_guard lock(mu_);
    const auto of_table = [&](const auto& entry) { return entry.first.first == table.value(); };
    std::erase_if(shards_, of_table);
    std::erase_if(shard_metrics_, of_table);
    table_ids_.erase(table.value());
  }
  NoteUnserved();
}

void ClusterCommitLog::MarkForRecovery(const TableName& table, ShardIndex shard) {
  if (std::shared_ptr<OwnedShard> owned = Find(table, shard)) {
    owned->failed.store(true, std::memory_order_release);
    owned->metrics->SetRole(ClusterMetrics::Role::kRecovering);
  }
}

std::optional<std::string> ClusterCommitLog::RemoteOwner(const TableName& table, ShardIndex shard) {
  if (options_.directory == nullptr) return std::nullopt;
  uint64_t table_id = 0;
  {
    std::lock_guard lock(mu_);
    auto owned = shards_.find({table.value(), shard.value()});
    if (owned != shards_.end() && !owned->second->lost.load(std::memory_order_acquire)) {
      return std::nullopt;
    }
    auto id = table_ids_.find(table.value());
    if (id == table_ids_.end()) return std::nullopt;
    table_id = id->second;
  }
  std::optional<ShardOwner> owner = options_.directory->Find(
      ShardLogTopic(options_.cluster_name, table_id), static_cast<int32_t>(shard.value()));
  if (!owner || owner->node_id == options_.node_id || owner->advertised.empty()) {
    return std::nullopt;
  }
  return owner->advertised;
}

Status ClusterCommitLog::Health() {
  std::string recovering;
  std::string unserved;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, owned] : shards_) {
      if (!owned->failed.load(std::memory_order_acquire)) continue;
      recovering += (recovering.empty() ? "" : ", ") +
                    ShardName(TableName(key.first), ShardIndex(key.second));
    }
    unserved = unserved_;
  }
  std::string problems;
  if (!recovering.empty())
    problems = "recovering from writes whose outcome is unknown: " + recovering;
  if (!unserved.empty()) {
    problems += (problems.empty() ? "" : "; ") +
                std::string("assigned by the group, the take-over failed (retried): ") + unserved;
  }
  return problems.empty() ? Status::Ok() : Status::Unavailable(problems);
}

Status ClusterCommitLog::RecoverShard(ShardLogTarget& engine, const Key& key, OwnedShard& owned) {
  const TableName table(key.first);
  const ShardIndex shard(key.second);
  const auto started = std::chrono::steady_clock::now();
  // A new follower from the stored position (the old one read past entries that this
  // node's storage may lack) applies what the log holds, this node's failed append
  // included. Until it replaces the old one, Admit keeps refusing writes.
  TW_ASSIGN_OR_RETURN(std::unique_ptr<ShardFollower> follower,
                      OpenFollower(engine, table, owned.table_id, shard));
  TW_RETURN_IF_ERROR(follower->CatchUp());
  // This node started the last term it read unless another node took the shard over since:
  // then the shard is that node's, and this one stays out.
  if (follower->log().position().term_owner == options_.node_id) {
    return Install(table, owned.table_id, shard, std::move(follower), started);
  }
  auto replaced = std::make_shared<OwnedShard>();
  replaced->table_id = owned.table_id;
  replaced->follower = std::move(follower);
  replaced->metrics = owned.metrics;
  replaced->lost.store(true, std::memory_order_release);
  spdlog::warn("event=shard_lost table={} shard={} node={} owner={}", key.first, key.second,
               options_.node_id, replaced->follower->log().position().term_owner);
  metrics_->Lost();
  replaced->metrics->SetRole(ClusterMetrics::Role::kLost);
  replaced->metrics->SetAppliedOffset(replaced->follower->log().next_offset());
  std::lock_guard lock(mu_);
  shards_[key] = std::move(replaced);
  return Status::Ok();
}

Status ClusterCommitLog::Recover(ShardLogTarget& engine) {
  std::lock_guard ownership(ownership_mu_);
  Status first_error;
  for (const auto& [table, shards] : UnservedAssignments()) {
    if (Status took = TakeOverAll(table, shards); !took.ok() && first_error.ok()) {
      first_error = std::move(took);
    }
  }
  std::vector<std::pair<Key, std::shared_ptr<OwnedShard>>> failed;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, owned] : shards_) {
      if (owned->failed.load(std::memory_order_acquire)) failed.emplace_back(key, owned);
    }
  }
  // In parallel, as at OpenTable: each waits about a round trip for its producer's id.
  std::vector<std::future<Status>> recoveries;
  for (const auto& shard : failed) {
    recoveries.push_back(std::async(std::launch::async, [this, &engine, &shard] {
      return RecoverShard(engine, shard.first, *shard.second);
    }));
  }
  for (size_t i = 0; i < failed.size(); ++i) {
    const Key& key = failed[i].first;
    Status recovered = recoveries[i].get();
    if (!recovered.ok()) {
      spdlog::warn("event=shard_recovery_failed table={} shard={} error=\"{}\"", key.first,
                   key.second, recovered.message());
      if (first_error.ok()) first_error = recovered;
    }
  }
  NoteUnserved();
  return first_error;
}

}  // namespace tidewater::cluster
