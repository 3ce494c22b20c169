// Replication in one step, for engine tests: a source engine's whole retained log of a
// table applied to a replica engine's table of the same name, shard by shard, with the
// checkpoints the replicator would store.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tidewater/core/engine.h"

namespace tidewater::testing {

// Fails the running test (non-fatally) when a read or an apply fails.
inline void ReplicateWholeLog(Engine& source, Engine& replica, const std::string& table,
                              const std::string& source_region) {
  auto description = source.DescribeTable(table);
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  for (const ShardDescription& shard : description->shards) {
    auto read = source.ReadShard({TableName(table), shard.index, SequenceNumber(1), 100000});
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    if (read->records.empty()) continue;
    const SequenceNumber next(read->records.back().sequence() + 1);
    auto applied = replica.ApplyReplicationBatch(
        {TableName(table), source_region, read->records, ReplicationCheckpoint{shard.index, next}});
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  }
}

}  // namespace tidewater::testing
