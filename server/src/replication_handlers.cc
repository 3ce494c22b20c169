// TidewaterReplication_20261126: the internal operations replicators and `tidewater
// verify` call (docs/REPLICATION.md). Request and response bodies are the Protobuf
// messages of proto/tidewater/v1/replication.proto; errors are DynamoDB-style error JSON.
#include "handlers.h"
#include "tidewater/core/record_codec.h"
#include "tidewater/v1/replication.pb.h"

namespace tidewater::server {
namespace {

constexpr uint32_t kDefaultPageLimit = 1000;
constexpr uint32_t kMaxPageLimit = 10000;

template <typename Message>
Status Parse(std::string_view body, Message& message) {
  if (!message.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::Serialization("The request body is not a valid " + message.GetTypeName());
  }
  return Status::Ok();
}

template <typename Message>
Status Reply(const Message& message, std::string* response) {
  if (!message.SerializeToString(response)) return Status::Internal("cannot encode the response");
  return Status::Ok();
}

Result<std::optional<Item>> OptionalKey(bool present, const v1::MapValue& key) {
  if (!present) return std::optional<Item>();
  auto item = FromProto(key);
  if (!item.ok()) return Status::Validation("invalid key: " + item.status().message());
  return std::optional<Item>(std::move(*item));
}

Result<size_t> PageLimit(uint32_t requested) {
  if (requested > kMaxPageLimit) {
    return Status::Validation("limit must be at most " + std::to_string(kMaxPageLimit));
  }
  return requested == 0 ? kDefaultPageLimit : requested;
}

}  // namespace

Status ApplyReplicationBatch(ServiceContext& service, std::string_view request,
                             std::string* response) {
  v1::ReplicationBatch message;
  TW_RETURN_IF_ERROR(Parse(request, message));
  ReplicationBatch batch;
  batch.table = TableName(std::move(*message.mutable_table()));
  batch.source_region = std::move(*message.mutable_source_region());
  batch.changes.reserve(message.changes_size());
  for (auto& change : *message.mutable_changes()) batch.changes.push_back(std::move(change));
  if (message.has_checkpoint()) {
    batch.checkpoint = ReplicationCheckpoint{ShardIndex(message.checkpoint().shard()),
                                             SequenceNumber(message.checkpoint().next_sequence())};
  }
  TW_ASSIGN_OR_RETURN(ReplicationApplyResult result, service.engine->ApplyReplicationBatch(batch));
  v1::ReplicationApplyResult reply;
  reply.set_applied(result.applied);
  reply.set_skipped(result.skipped);
  reply.set_duplicates(result.duplicates);
  reply.set_checkpoint_next_sequence(result.checkpoint_next_sequence.value());
  return Reply(reply, response);
}

Status GetReplicationCheckpoints(ServiceContext& service, std::string_view request,
                                 std::string* response) {
  v1::GetReplicationCheckpointsRequest message;
  TW_RETURN_IF_ERROR(Parse(request, message));
  TW_ASSIGN_OR_RETURN(auto checkpoints, service.engine->LoadReplicationCheckpoints(
                                            TableName(message.table()), message.source_region()));
  v1::GetReplicationCheckpointsResponse reply;
  for (const auto& [shard, next_sequence] : checkpoints) {
    v1::ReplicationCheckpoint* checkpoint = reply.add_checkpoints();
    checkpoint->set_shard(shard.value());
    checkpoint->set_next_sequence(next_sequence.value());
  }
  return Reply(reply, response);
}

Status SnapshotScan(ServiceContext& service, std::string_view request, std::string* response) {
  v1::SnapshotScanRequest message;
  TW_RETURN_IF_ERROR(Parse(request, message));
  SnapshotScanRequest scan;
  scan.table = message.table();
  TW_ASSIGN_OR_RETURN(scan.exclusive_start_key, OptionalKey(message.has_exclusive_start_key(),
                                                            message.exclusive_start_key()));
  TW_ASSIGN_OR_RETURN(scan.limit, PageLimit(message.limit()));
  scan.include_tombstones = message.include_tombstones();
  TW_ASSIGN_OR_RETURN(SnapshotPage page, service.engine->SnapshotScan(scan));
  v1::SnapshotScanResponse reply;
  for (const VersionedItem& entry : page.items) {
    v1::VersionedItem* item = reply.add_items();
    ToProto(entry.item, item->mutable_item());
    *item->mutable_version() = entry.version;
    item->set_deleted(entry.deleted);
  }
  if (page.last_evaluated_key)
    ToProto(*page.last_evaluated_key, reply.mutable_last_evaluated_key());
  for (size_t shard = 0; shard < page.shard_last_sequences.size(); ++shard) {
    v1::ShardPosition* position = reply.add_positions();
    position->set_shard(static_cast<uint32_t>(shard));
    position->set_last_sequence(page.shard_last_sequences[shard].value());
  }
  return Reply(reply, response);
}

Status ShardDigests(ServiceContext& service, std::string_view request, std::string* response) {
  v1::ShardDigestsRequest message;
  TW_RETURN_IF_ERROR(Parse(request, message));
  v1::ShardDigestsResponse reply;
  if (!message.list()) {
    TW_ASSIGN_OR_RETURN(auto digests,
                        service.engine->ComputeDigests(message.table(), message.ranges()));
    for (const RangeDigest& digest : digests) {
      v1::RangeDigest* out = reply.add_digests();
      out->set_range(digest.range);
      out->set_hash_begin(digest.hash_begin);
      out->set_hash_end(digest.hash_end);
      out->set_item_count(digest.item_count);
      out->set_digest(digest.digest);
    }
    return Reply(reply, response);
  }
  RangeEntriesRequest listing;
  listing.table = message.table();
  listing.ranges = message.ranges();
  listing.range = message.list_range();
  TW_ASSIGN_OR_RETURN(listing.exclusive_start_key, OptionalKey(message.has_exclusive_start_key(),
                                                               message.exclusive_start_key()));
  TW_ASSIGN_OR_RETURN(listing.limit, PageLimit(message.limit()));
  TW_ASSIGN_OR_RETURN(RangeEntriesPage page, service.engine->ListRangeEntries(listing));
  for (const ItemHash& entry : page.entries) {
    v1::ItemHash* out = reply.add_entries();
    ToProto(entry.key, out->mutable_key());
    out->set_hash(entry.hash);
  }
  if (page.last_evaluated_key)
    ToProto(*page.last_evaluated_key, reply.mutable_last_evaluated_key());
  return Reply(reply, response);
}

Status ReportReplicatorProgress(ServiceContext& service, std::string_view request,
                                std::string* response) {
  v1::ReplicatorProgress message;
  TW_RETURN_IF_ERROR(Parse(request, message));
  if (message.table().empty() || message.replicator().empty()) {
    return Status::Validation("a progress report names its table and replicator");
  }
  service.replicators->Report(message, service.clock->NowMicros() / 1000);
  return Reply(v1::ReportReplicatorProgressResponse(), response);
}

Status ListReplicatorProgress(ServiceContext& service, std::string_view request,
                              std::string* response) {
  v1::ListReplicatorProgressRequest message;
  TW_RETURN_IF_ERROR(Parse(request, message));
  v1::ListReplicatorProgressResponse reply;
  for (v1::ReplicatorShardReport& report :
       service.replicators->List(service.clock->NowMicros() / 1000)) {
    *reply.add_reports() = std::move(report);
  }
  return Reply(reply, response);
}

}  // namespace tidewater::server
