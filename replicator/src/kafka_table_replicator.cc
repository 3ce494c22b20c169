// TableReplicator::StartFromKafka: the source's changes from the Kafka topic its publisher
// writes, read by the consumer SDK's Kafka consumer, whose positions are the target's
// replication checkpoints.
#include <spdlog/spdlog.h>

#include <thread>
#include <utility>

#include "replication_core.h"
#include "tidewater/connectors/kafka_consumer.h"
#include "tidewater/replicator/table_replicator.h"

namespace tidewater::replicator {
namespace {

// The consumer's positions: the target's checkpoints of the source region. Save is never
// needed: ApplyReplicationBatch stores each batch's checkpoint with its changes.
class TargetCheckpoints final : public streams::CheckpointStore {
 public:
  explicit TargetCheckpoints(ReplicationCore& core) : core_(core) {}

  Result<std::optional<uint64_t>> Load(const std::string& table, uint32_t shard) override {
    auto stored = core_.target().GetCheckpoints(table, core_.source_region());
    if (!stored.ok()) {
      core_.Error("get_checkpoints", stored.status());
      return stored.status();
    }
    const auto found = stored->find(shard);
    if (found == stored->end()) return std::optional<uint64_t>();
    return std::optional<uint64_t>(found->second);
  }

  Status Save(const std::string&, uint32_t, uint64_t) override { return Status::Ok(); }

 private:
  ReplicationCore& core_;
};

class KafkaTableReplicator final : public TableReplicator {
 public:
  KafkaTableReplicator(TableReplicatorOptions options, KafkaSourceOptions kafka,
                       std::unique_ptr<ReplicationApi> source_api,
                       std::unique_ptr<ReplicationApi> target)
      : core_(std::move(options), std::move(source_api), std::move(target)),
        kafka_(std::move(kafka)),
        checkpoints_(core_) {
    supervisor_ = std::thread([this] { Supervise(); });
  }

  ~KafkaTableReplicator() override { Stop(); }

  void Stop() override {
    core_.stop().Stop();  // first: a handler retrying an apply gives up
    if (supervisor_.joinable()) supervisor_.join();
  }

 private:
  const std::string& table() const { return core_.table(); }

  // Applies the batch's changes of the source region with the checkpoint after its last
  // record (records of other origins included), retrying until applied. An error (only
  // when stopping) makes the consumer keep the batch: the next run reads it again.
  Status Handle(const streams::ShardBatch& batch) {
    v1::ReplicationBatch out = core_.OriginBatch(batch.records);
    out.mutable_checkpoint()->set_shard(batch.shard);
    out.mutable_checkpoint()->set_next_sequence(batch.records.back().sequence() + 1);
    if (!core_.ApplyWithRetry(out)) {
      return Status::Internal("replicator stopping: batch not applied");
    }
    return Status::Ok();
  }

  std::string GroupId() {
    if (!kafka_.group_id.empty()) return kafka_.group_id + "." + table();
    std::string target_region;
    if (!core_.Retry("describe_table", [&] {
          auto region = core_.target().Region(table());
          if (region.ok()) target_region = *region;
          return region.status();
        })) {
      return "";
    }
    return "tidewater-replicator." + core_.source_region() + ".to." + target_region + "." + table();
  }

  void Supervise() {
    if (!core_.Begin()) return;  // the consumer reads the positions from the target
    const TableReplicatorOptions& options = core_.options();
    connectors::KafkaConsumerOptions consumer_options;
    consumer_options.brokers = kafka_.brokers;
    consumer_options.topic = kafka_.topic_prefix + table();
    consumer_options.group_id = GroupId();
    if (consumer_options.group_id.empty()) return;  // stopped
    consumer_options.format = connectors::KafkaFormat::kProtobuf;
    consumer_options.starting_position = streams::StartingPosition::kTrimHorizon;
    consumer_options.max_batch_records = options.max_batch_records;
    consumer_options.retry_backoff_initial = options.initial_backoff;
    consumer_options.retry_backoff_max = options.max_backoff;
    consumer_options.properties = kafka_.properties;
    consumer_options.checkpoints = &checkpoints_;
    consumer_options.table = table();
    consumer_options.clock = options.clock;
    std::unique_ptr<connectors::KafkaStreamConsumer> consumer;
    if (!core_.Retry("kafka_consumer", [&] {
          auto created = connectors::KafkaStreamConsumer::Create(
              consumer_options, [this](const streams::ShardBatch& batch) { return Handle(batch); });
          if (!created.ok()) return created.status();
          TW_RETURN_IF_ERROR((*created)->Start());
          consumer = std::move(*created);
          return Status::Ok();
        })) {
      return;
    }
    spdlog::info("event=kafka_following table={} topic={} group={}", table(),
                 consumer_options.topic, consumer_options.group_id);
    while (core_.stop().SleepFor(options.shard_refresh_interval)) {
      if (options.metrics == nullptr) continue;
      for (const streams::ConsumerShardStatus& shard : consumer->Progress()) {
        if (shard.held) {
          options.metrics->SetLagMilliseconds(table(), shard.shard,
                                              static_cast<double>(shard.iterator_age_millis));
        }
      }
    }
    consumer->Stop();
  }

  ReplicationCore core_;
  const KafkaSourceOptions kafka_;
  TargetCheckpoints checkpoints_;
  std::thread supervisor_;
};

}  // namespace

std::unique_ptr<TableReplicator> TableReplicator::StartFromKafka(
    TableReplicatorOptions options, KafkaSourceOptions kafka,
    std::unique_ptr<ReplicationApi> source_api, std::unique_ptr<ReplicationApi> target) {
  return std::make_unique<KafkaTableReplicator>(std::move(options), std::move(kafka),
                                                std::move(source_api), std::move(target));
}

}  // namespace tidewater::replicator
