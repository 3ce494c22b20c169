// Checks shared by the sink tests: the PostgreSQL mirror and change table against the
// table's contents and stream, and the plain JSON form written independently of the sink.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/postgres_server.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/streams/remote_source.h"

namespace tidewater::testing {

// The plain JSON form, written independently of the sink's writer.
inline void WritePlain(const AttributeValue& value, json::Writer& writer) {
  switch (value.type()) {
    case AttributeType::kS:
      writer.String(value.s().c_str(), static_cast<rapidjson::SizeType>(value.s().size()));
      break;
    case AttributeType::kN: {
      const std::string text = value.n().ToString();
      writer.RawValue(text.c_str(), static_cast<rapidjson::SizeType>(text.size()),
                      rapidjson::kNumberType);
      break;
    }
    case AttributeType::kB:
      writer.String(json::Base64Encode(value.b()).c_str());
      break;
    case AttributeType::kBool:
      writer.Bool(value.boolean());
      break;
    case AttributeType::kNull:
      writer.Null();
      break;
    case AttributeType::kL:
      writer.StartArray();
      for (const AttributeValue& member : value.l()) WritePlain(member, writer);
      writer.EndArray();
      break;
    case AttributeType::kM:
      writer.StartObject();
      for (const auto& [name, member] : value.m()) {
        writer.Key(name.c_str());
        WritePlain(member, writer);
      }
      writer.EndObject();
      break;
    case AttributeType::kSS:
    case AttributeType::kBS:
      writer.StartArray();
      for (const std::string& member : value.ss()) {
        writer.String(value.is(AttributeType::kSS) ? member.c_str()
                                                   : json::Base64Encode(member).c_str());
      }
      writer.EndArray();
      break;
    case AttributeType::kNS:
      writer.StartArray();
      for (const Number& member : value.ns()) {
        const std::string text = member.ToString();
        writer.RawValue(text.c_str(), static_cast<rapidjson::SizeType>(text.size()),
                        rapidjson::kNumberType);
      }
      writer.EndArray();
      break;
  }
}

inline std::string PlainJson(const Item& item) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  WritePlain(AttributeValue::M(item), writer);
  return buffer.GetString();
}

// Rows in a PostgreSQL table; 0 while it does not exist or the server is unreachable.
inline uint64_t PgRowCount(const std::string& conninfo, const std::string& table) {
  const std::string count = PgValue(conninfo, "SELECT count(*) FROM \"" + table + "\"");
  return count.starts_with("ERROR") || count.starts_with("<") ? 0 : std::stoull(count);
}

// Each shard's last sequence, through the Streams API of the tidewaterd at `url`.
inline std::map<ShardIndex, SequenceNumber> RemoteLastSequences(const std::string& url,
                                                                const std::string& table) {
  std::map<ShardIndex, SequenceNumber> last;
  auto source = streams::MakeRemoteStreamsSource(url, TableName(table));
  EXPECT_TRUE(source.ok()) << source.status().ToString();
  if (!source.ok()) return last;
  auto shards = (*source)->ListShards();
  EXPECT_TRUE(shards.ok()) << shards.status().ToString();
  if (!shards.ok()) return last;
  for (const streams::SourceShard& shard : *shards) last[shard.index] = shard.last_sequence;
  return last;
}

// Whether the file sink's <table_dir>/_positions.json is past every shard's last sequence.
inline bool FilePositionsAt(const std::string& table_dir,
                            const std::map<ShardIndex, SequenceNumber>& last_sequences) {
  std::ifstream in(table_dir + "/_positions.json");
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document positions;
  positions.Parse(text.str().c_str());
  if (positions.HasParseError() || !positions.IsObject()) return false;
  for (const auto& [shard, last] : last_sequences) {
    if (last == SequenceNumber(0)) continue;
    const std::string key = std::to_string(shard.value());
    if (!positions.HasMember(key.c_str()) ||
        SequenceNumber(positions[key.c_str()].GetUint64()) != last.Next()) {
      return false;
    }
  }
  return true;
}

// The mirror holds exactly the table's items; the change table every record once.
inline void ExpectPostgresMirrorsTable(Engine& engine, const std::string& table_name,
                                       const std::string& conninfo, const std::string& mirror) {
  ScanRequest scan;
  scan.table = table_name;
  auto page = engine.Scan(scan);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(PgValue(conninfo, "SELECT count(*) FROM \"" + mirror + "\""),
            std::to_string(page->items.size()));
  for (const Item& item : page->items) {
    EXPECT_EQ(PgValue(conninfo,
                      "SELECT count(*) FROM \"" + mirror +
                          "\" WHERE id = $1 AND n = $2::numeric AND tw_image = $3::jsonb",
                      {item.at("id").s(), item.at("n").n().ToString(), PlainJson(item)}),
              "1")
        << PlainJson(item);
  }
  auto table = engine.DescribeTable(table_name);
  ASSERT_TRUE(table.ok());
  uint64_t records = 0;
  for (const ShardDescription& shard : table->shards) {
    const uint64_t last = shard.last_sequence.value();
    records += last;
    const std::string index = std::to_string(shard.index.value());
    // Sequences 1..last, each once (the primary key forbids a second copy).
    EXPECT_EQ(PgQuery(conninfo,
                      "SELECT count(*), coalesce(min(sequence), 0), coalesce(max(sequence), 0) "
                      "FROM \"" +
                          mirror + "_changes\" WHERE shard = $1",
                      {index}),
              (PgRows{{std::to_string(last), last > 0 ? "1" : "0", std::to_string(last)}}))
        << "shard " << index;
  }
  EXPECT_EQ(PgValue(conninfo, "SELECT count(*) FROM \"" + mirror + "_changes\""),
            std::to_string(records));
}

// The completed JSON Lines files of `table_dir` hold the sequences 1..last of every shard
// of `table`, each exactly once (no .tmp file counts).
inline void ExpectFilesHoldEveryRecordOnce(Engine& engine, const std::string& table_name,
                                           const std::string& table_dir) {
  std::map<ShardIndex, std::set<uint64_t>> seen;
  for (const auto& entry : std::filesystem::directory_iterator(table_dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".jsonl")) continue;
    std::ifstream in(entry.path());
    std::string line;
    uint64_t first = 0, last = 0;
    while (std::getline(in, line)) {
      rapidjson::Document record;
      record.Parse(line.c_str());
      ASSERT_TRUE(record.IsObject()) << name << ": " << line;
      const ShardIndex shard(record["shard"].GetUint());
      const uint64_t sequence = record["sequence"].GetUint64();
      EXPECT_TRUE(seen[shard].insert(sequence).second)
          << "shard " << shard << " sequence " << sequence << " twice";
      if (first == 0) first = sequence;
      last = sequence;
    }
    // The name carries the first and last sequence the file holds.
    const std::string first_text = std::to_string(first);
    const std::string last_text = std::to_string(last);
    EXPECT_NE(name.find("-" + std::string(20 - first_text.size(), '0') + first_text + "-" +
                        std::string(20 - last_text.size(), '0') + last_text + ".jsonl"),
              std::string::npos)
        << name;
  }
  auto table = engine.DescribeTable(table_name);
  ASSERT_TRUE(table.ok());
  for (const ShardDescription& shard : table->shards) {
    std::set<uint64_t> expected;
    for (uint64_t s = 1; s <= shard.last_sequence.value(); ++s) expected.insert(s);
    std::vector<uint64_t> missing, extra;
    std::set_difference(expected.begin(), expected.end(), seen[shard.index].begin(),
                        seen[shard.index].end(), std::back_inserter(missing));
    std::set_difference(seen[shard.index].begin(), seen[shard.index].end(), expected.begin(),
                        expected.end(), std::back_inserter(extra));
    EXPECT_TRUE(missing.empty() && extra.empty())
        << "shard " << shard.index << ": " << missing.size() << " missing (first "
        << (missing.empty() ? 0 : missing[0]) << "), " << extra.size() << " unexpected";
  }
}

}  // namespace tidewater::testing
