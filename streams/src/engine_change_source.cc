#include <utility>

#include "tidewater/streams/change_source.h"

namespace tidewater::streams {
namespace {

class EngineChangeSource final : public ChangeSource {
 public:
  EngineChangeSource(ChangeLog& log, TableName table) : log_(log), table_(std::move(table)) {}

  Result<std::vector<SourceShard>> ListShards() override {
    TW_ASSIGN_OR_RETURN(TableDescription table, log_.DescribeTable(table_.value()));
    if (!table.stream.enabled) {
      return Status::NotFound("Table " + table_.value() + " has no stream enabled");
    }
    std::vector<SourceShard> shards;
    shards.reserve(table.shards.size());
    for (const ShardDescription& shard : table.shards) {
      shards.push_back(SourceShard{.index = shard.index,
                                   .parent = shard.parent,
                                   .closed = shard.closed,
                                   .first_sequence = shard.first_sequence,
                                   .last_sequence = shard.last_sequence});
    }
    return shards;
  }

  Result<ChangeBatch> Read(ShardIndex shard, SequenceNumber from_sequence, size_t max_records,
                           std::chrono::milliseconds wait) override {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    uint64_t seen_commit = 0;
    while (true) {
      ShardReadRequest request;
      request.table = table_;
      request.shard = shard;
      request.from_sequence = from_sequence;
      request.limit = max_records;
      TW_ASSIGN_OR_RETURN(ShardReadResult result, log_.ReadShard(request));
      if (from_sequence < result.first_available) {
        return Status::TrimmedDataAccess(
            "The operation attempted to read past the oldest stream record in a shard.");
      }
      ChangeBatch batch;
      batch.next_sequence = result.next_sequence;
      batch.records = std::move(result.records);
      // A read that reached the shard's end asks for the watermark (the shard's commit lock;
      // a reader still catching up never takes it). It holds for this reader if the read
      // also covers every record the watermark covers (more may have been committed since).
      if (batch.next_sequence > result.last_written) {
        TW_ASSIGN_OR_RETURN(ShardWatermark watermark, log_.ResolvedWatermark(table_, shard));
        if (batch.next_sequence > watermark.last_sequence) {
          batch.resolved_micros = watermark.resolved_micros;
        }
      }
      if (!batch.records.empty()) return batch;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        TW_ASSIGN_OR_RETURN(TableDescription table, log_.DescribeTable(table_.value()));
        const size_t index = shard.value();
        batch.end_of_shard = index < table.shards.size() && table.shards[index].closed &&
                             batch.next_sequence > table.shards[index].last_sequence;
        return batch;
      }
      // A commit to any table wakes the wait; re-reading an idle shard is cheap.
      seen_commit = log_.WaitForCommit(
          seen_commit, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    }
  }

  Result<TimePosition> PositionAtTime(ShardIndex shard, int64_t time_micros) override {
    ShardReadRequest request;
    request.table = table_;
    request.shard = shard;
    return FindShardPositionAtTime(log_, request, time_micros);
  }

 private:
  ChangeLog& log_;
  const TableName table_;
};

}  // namespace

std::unique_ptr<ChangeSource> MakeEngineChangeSource(ChangeLog& log, TableName table) {
  return std::make_unique<EngineChangeSource>(log, std::move(table));
}

}  // namespace tidewater::streams
