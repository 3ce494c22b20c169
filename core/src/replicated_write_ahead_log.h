// Private: cluster mode's durable step (docs/CLUSTER.md, "The commit path on the owner").
// A commit's changes go to their shards' replicated logs (ReplicatedCommitLog) first; only
// once they are there for good is the batch written locally, with each shard's log
// position in the same WriteBatch. A crash between the two loses nothing: the restarted
// node applies the logs from the stored positions (ShardLogTarget).
#pragma once

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "storage_keys.h"
#include "tidewater/core/failure_point.h"
#include "tidewater/core/shard_log_target.h"
#include "write_ahead_log.h"

namespace tidewater {

// Thread-safe as `local` and `log` are. The log and the default column family must
// outlive it.
class ReplicatedWriteAheadLog final : public WriteAheadLog {
 public:
  ReplicatedWriteAheadLog(std::unique_ptr<WriteAheadLog> local, ReplicatedCommitLog& log,
                          rocksdb::ColumnFamilyHandle* default_cf)
      : local_(std::move(local)), log_(log), default_cf_(default_cf) {}

  Status Admit() override { return local_->Admit(); }

  Status Commit(rocksdb::WriteBatch& batch, CommitManifest& manifest) override {
    if (manifest.empty()) return local_->Commit(batch, manifest);  // local state only
    // One ShardCommit per shard, its changes in commit order.
    std::vector<ShardCommit> commits;
    std::vector<std::pair<uint64_t, uint32_t>> shards;  // (table id, shard) of each commit
    std::map<std::pair<uint64_t, uint32_t>, size_t> index;
    for (ManifestEntry& entry : manifest) {
      const auto key = std::pair(entry.table_id, entry.shard);
      auto [it, fresh] = index.emplace(key, commits.size());
      if (fresh) {
        commits.push_back({TableName(entry.table), ShardIndex(entry.shard), {}});
        shards.push_back(key);
      }
      commits[it->second].changes.push_back(std::move(entry.change));
    }
    std::vector<std::string> positions;
    TW_RETURN_IF_ERROR(log_.Append(std::move(commits), positions));
    if (positions.size() != shards.size()) {
      return Status::Internal("the replicated log gave " + std::to_string(positions.size()) +
                              " positions for " + std::to_string(shards.size()) + " shards");
    }
    for (size_t i = 0; i < shards.size(); ++i) {
      batch.Put(default_cf_, storage::ShardLogPositionKey(shards[i].first, shards[i].second),
                positions[i]);
    }
    TW_FAILURE_POINT("cluster.after_append");
    Status written = local_->Commit(batch, manifest);
    if (!written.ok()) {
      // Each entry still names its shard (only its change was moved into the log).
      for (const ManifestEntry& entry : manifest) {
        log_.MarkForRecovery(TableName(entry.table), ShardIndex(entry.shard));
      }
    }
    return written;
  }

 private:
  const std::unique_ptr<WriteAheadLog> local_;
  ReplicatedCommitLog& log_;
  rocksdb::ColumnFamilyHandle* const default_cf_;
};

}  // namespace tidewater
