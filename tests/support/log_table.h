// Helpers for tests of cluster mode's apply path: engines opened on a directory, a table
// with a stream of both images, its shards' change records, and those records as the
// committed changes a shard's log carries.
#pragma once

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/test_engine.h"
#include "tidewater/core/engine.h"

namespace tidewater::testing {

// An engine on `dir` (TestEngineOptions; cluster mode when `replicated_log` is given);
// null, with a test failure, when it does not open.
inline std::unique_ptr<Engine> OpenTestEngine(const std::string& dir,
                                              ReplicatedCommitLog* replicated_log = nullptr) {
  EngineOptions options = TestEngineOptions(dir);
  options.replicated_log = replicated_log;
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(*engine) : nullptr;
}

// Table `name`: partition key "pk" (S), `shards` shards, a NEW_AND_OLD_IMAGES stream.
inline CreateTableRequest StreamTableRequest(const std::string& name, uint32_t shards) {
  CreateTableRequest request;
  request.name = name;
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.shard_count = shards;
  return request;
}

// Every change record of `table`'s `shard`, in sequence order.
inline std::vector<ChangeRecord> ShardRecords(Engine& engine, const std::string& table,
                                              uint32_t shard) {
  auto read = engine.ReadShard({TableName(table), ShardIndex(shard), SequenceNumber(1), 1000000});
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  return read.ok() ? read->records : std::vector<ChangeRecord>{};
}

// Whether two nodes' records are the same change: equal in every field but the stream
// label, which names each node's own stream of the table (each node creates the table
// itself until the catalog topic carries tables).
inline bool SameChange(const ChangeRecord& a, const ChangeRecord& b) {
  google::protobuf::util::MessageDifferencer differencer;
  differencer.IgnoreField(ChangeRecord::descriptor()->FindFieldByName("stream_label"));
  return differencer.Compare(a, b);
}

// The records of `table`'s `shard` from sequence `from` as cluster mode's shard log
// carries them: each with the item it stores (its new image and version).
inline std::vector<v1::CommittedChange> CommittedChanges(Engine& owner, const std::string& table,
                                                         uint32_t shard, uint64_t from = 1) {
  std::vector<v1::CommittedChange> changes;
  for (const ChangeRecord& record : ShardRecords(owner, table, shard)) {
    if (record.sequence() < from) continue;
    v1::CommittedChange change;
    *change.mutable_record() = record;
    if (record.event() != v1::REMOVE) {
      *change.mutable_item()->mutable_attributes() = record.new_image();
      *change.mutable_item()->mutable_version() = record.version();
    }
    changes.push_back(std::move(change));
  }
  return changes;
}

}  // namespace tidewater::testing
