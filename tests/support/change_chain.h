// Checks a table's whole change log against the writes a test saw acknowledged.
//
// The writers put a unique token attribute ("tok") in every version of an item, and the
// table streams NEW_AND_OLD_IMAGES. Then, per item, the log is a chain: each record's old
// image carries the previous record's new token. A log whose order differs from commit
// order, that repeats or drops a change, breaks the chain.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>

#include "support/change_log_checker.h"

namespace tidewater::testing {

inline std::optional<std::string> TokenOf(const v1::MapValue& image) {
  for (const auto& attribute : image.attributes()) {
    if (attribute.name() == "tok") return attribute.value().s();
  }
  return std::nullopt;
}

struct ChainSummary {
  std::set<std::string> written_tokens;  // tokens of INSERT/MODIFY new images
  std::set<std::string> removed_tokens;  // tokens of REMOVE old images
  std::map<std::string, std::optional<std::string>> final_token;  // per key id
  size_t records = 0;
};

// Reads every shard in order (checking no gaps) and checks the per-item chains.
inline ChainSummary CheckChains(Engine& engine, const std::string& table) {
  ChainSummary summary;
  auto description = engine.DescribeTable(table);
  EXPECT_TRUE(description.ok());
  if (!description.ok()) return summary;
  for (const auto& shard : description->shards) {
    SequenceNumber from(1);
    uint64_t expected = 0;
    while (true) {
      auto read = engine.ReadShard({TableName(table), shard.index, from, 1000});
      EXPECT_TRUE(read.ok()) << read.status().ToString();
      if (!read.ok() || read->records.empty()) break;
      for (const auto& record : read->records) {
        ++summary.records;
        if (expected != 0) {
          EXPECT_EQ(record.sequence(), expected) << "gap in shard " << shard.index;
        }
        expected = record.sequence() + 1;
        const std::string key = record.keys().SerializeAsString();
        auto [state, first_seen] = summary.final_token.try_emplace(key, std::nullopt);
        const auto old_token = record.has_old_image() ? TokenOf(record.old_image()) : std::nullopt;
        const auto new_token = record.has_new_image() ? TokenOf(record.new_image()) : std::nullopt;
        if (!first_seen || record.event() != v1::INSERT) {
          EXPECT_EQ(old_token, state->second)
              << "broken chain in shard " << shard.index << " at " << record.sequence();
        }
        switch (record.event()) {
          case v1::INSERT:
            EXPECT_FALSE(old_token);
            [[fallthrough]];
          case v1::MODIFY:
            EXPECT_TRUE(new_token);
            if (new_token) {
              EXPECT_TRUE(summary.written_tokens.insert(*new_token).second)
                  << "token logged twice: " << *new_token;
            }
            break;
          case v1::REMOVE:
            EXPECT_TRUE(old_token);
            if (old_token) summary.removed_tokens.insert(*old_token);
            break;
          default:
            ADD_FAILURE() << "unexpected event";
        }
        state->second = new_token;
      }
      from = read->next_sequence;
    }
    EXPECT_EQ(SequenceNumber(expected == 0 ? 0 : expected - 1), shard.last_sequence);
  }
  return summary;
}

// The table's current contents equal the end of each item's chain in the log.
inline void ExpectContentsMatchChains(Engine& engine, const std::string& table,
                                      const ChainSummary& summary) {
  for (const auto& [key_id, token] : summary.final_token) {
    v1::MapValue key_proto;
    ASSERT_TRUE(key_proto.ParseFromString(key_id));
    auto key = FromProto(key_proto);
    ASSERT_TRUE(key.ok());
    auto item = engine.GetItem(table, *key);
    ASSERT_TRUE(item.ok());
    ASSERT_EQ(item->has_value(), token.has_value()) << "contents differ from the log";
    if (token) {
      ASSERT_EQ((**item).at("tok").s(), *token) << "contents differ from the log";
    }
  }
}

}  // namespace tidewater::testing
