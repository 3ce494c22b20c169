// Reads every record of a table's change log and checks the engine's invariants:
// per shard, sequences start right after the trimmed floor and increase by exactly one;
// every item's records are in one shard. Returns the records for further checks.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tidewater/core/engine.h"
#include "tidewater/core/record_codec.h"

namespace tidewater::testing {

struct LoggedChange {
  uint32_t shard;
  uint64_t sequence;
  v1::EventName event;
  std::string key_id;  // the item's key, serialized (equal keys, equal ids)
  Item new_image;
};

// All records of `table`, in (shard, sequence) order; fails the test on a gap,
// a repeat or an item seen in two shards.
inline std::vector<LoggedChange> ReadWholeLog(Engine& engine, const std::string& table) {
  std::vector<LoggedChange> all;
  auto description = engine.DescribeTable(table);
  EXPECT_TRUE(description.ok()) << description.status().ToString();
  if (!description.ok()) return all;
  std::map<std::string, uint32_t> shard_of_key;
  for (const auto& shard : description->shards) {
    uint64_t expected = 0;
    SequenceNumber from(1);
    while (true) {
      auto read = engine.ReadShard({TableName(table), shard.index, from, 1000});
      EXPECT_TRUE(read.ok()) << read.status().ToString();
      if (!read.ok() || read->records.empty()) break;
      for (const auto& record : read->records) {
        if (expected == 0) {
          expected = record.sequence();
          EXPECT_EQ(SequenceNumber(record.sequence()), read->first_available)
              << "shard " << shard.index;
        }
        EXPECT_EQ(record.sequence(), expected) << "gap or repeat in shard " << shard.index;
        expected = record.sequence() + 1;
        EXPECT_EQ(ShardIndex(record.shard()), shard.index);
        LoggedChange change{shard.index.value(), record.sequence(), record.event(), "", {}};
        change.key_id = record.keys().SerializeAsString();
        if (record.has_new_image()) {
          auto image = FromProto(record.new_image());
          if (image.ok()) change.new_image = std::move(*image);
        }
        auto [it, inserted] = shard_of_key.emplace(change.key_id, shard.index.value());
        EXPECT_EQ(it->second, shard.index.value()) << "item " << change.key_id << " in two shards";
        all.push_back(std::move(change));
      }
      from = read->next_sequence;
    }
    EXPECT_EQ(expected == 0 ? shard.last_sequence : SequenceNumber(expected - 1),
              shard.last_sequence)
        << "shard " << shard.index << " log ends before its last sequence";
  }
  return all;
}

}  // namespace tidewater::testing
