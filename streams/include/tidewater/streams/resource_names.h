// The identifiers tidewaterd shows clients (and triggers put in their events), all derived
// from engine facts:
//   TableArn        arn:aws:dynamodb:<region>:000000000000:table/<name>
//   StreamArn       <TableArn>/stream/<stream label>
//   ShardId         shardId-<20-digit table creation ms>-<8 hex digits: shard index>
// Sequence numbers are the engine's per-shard sequences as streams/stream_record_json.h
// writes them (zero-padded to 21 digits); ParseSequenceNumber reads them back.
// Pure functions of their arguments: thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"

namespace tidewater::streams {

inline constexpr std::string_view kAccountId = "000000000000";

std::string TableArn(std::string_view region, std::string_view table);
std::string StreamArn(std::string_view region, std::string_view table, std::string_view label);

struct ParsedStreamArn {
  std::string table;
  std::string label;
};
// Accepts any region and 12-digit account (the ARN is checked against the table
// afterwards). Errors: ValidationException "Invalid StreamArn" for text that is not a
// DynamoDB stream ARN: a valid table name and a label shaped "2024-01-31T12:34:56.789".
Result<ParsedStreamArn> ParseStreamArn(std::string_view arn);

std::string ShardId(int64_t table_creation_micros, ShardIndex shard_index);
// The shard index, when `id` is a shard id of the table created at table_creation_micros.
Result<ShardIndex> ParseShardId(std::string_view id, int64_t table_creation_micros);

// Decimal digits (leading zeros allowed) that fit uint64; ValidationException otherwise.
Result<SequenceNumber> ParseSequenceNumber(std::string_view text);

}  // namespace tidewater::streams
