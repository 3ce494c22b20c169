// ARNs, shard ids and sequence numbers as clients see them.
#include "tidewater/streams/resource_names.h"

#include <gtest/gtest.h>

#include "tidewater/streams/stream_record_json.h"

namespace tidewater::streams {
namespace {

constexpr int64_t kCreatedMicros = 1'700'000'000'123'456;

TEST(ResourceNamesTest, Arns) {
  EXPECT_EQ(TableArn("us-east-1", "Orders"),
            "arn:aws:dynamodb:us-east-1:000000000000:table/Orders");
  std::string arn = StreamArn("us-east-1", "Orders", "2024-01-31T12:34:56.789");
  EXPECT_EQ(arn,
            "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/2024-01-31T12:34:56.789");
  auto parsed = ParseStreamArn(arn);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->table, "Orders");
  EXPECT_EQ(parsed->label, "2024-01-31T12:34:56.789");
}

TEST(ResourceNamesTest, MalformedStreamArns) {
  for (std::string_view arn : {"", "Orders", "arn:aws:dynamodb:us-east-1:000000000000:table/Orders",
                               "arn:aws:dynamodb:us-east-1:000000000000:table//stream/x",
                               "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/",
                               "arn:aws:s3:::bucket/table/Orders/stream/x",
                               "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/x",
                               "arn:aws:dynamodb:us-east-1:12345:table/Orders/stream/"
                               "2024-01-31T12:34:56.789",
                               "arn:aws:dynamodb::000000000000:table/Orders/stream/"
                               "2024-01-31T12:34:56.789",
                               "arn:aws:dynamodb:us-east-1:000000000000:table/a!b/stream/"
                               "2024-01-31T12:34:56.789",
                               "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/"
                               "2024-01-31T12:34:56.789x"}) {
    auto parsed = ParseStreamArn(arn);
    EXPECT_EQ(parsed.status().code(), ErrorCode::kValidation) << arn;
    EXPECT_EQ(parsed.status().message(), "Invalid StreamArn") << arn;
  }
}

TEST(ResourceNamesTest, ShardIdsEncodeTheShardIndex) {
  EXPECT_EQ(ShardId(kCreatedMicros, ShardIndex(0xabcd)), "shardId-00000001700000000123-0000abcd");
  for (uint32_t index : {0u, 1u, 7u, 255u, 0xffffffffu}) {
    const ShardIndex shard(index);
    std::string id = ShardId(kCreatedMicros, shard);
    EXPECT_EQ(id.size(), 37u);  // within DynamoDB's 28..65
    auto parsed = ParseShardId(id, kCreatedMicros);
    ASSERT_TRUE(parsed.ok()) << id;
    EXPECT_EQ(*parsed, shard);
  }
}

TEST(ResourceNamesTest, ShardIdOfAnotherTableIsNotFound) {
  std::string id = ShardId(kCreatedMicros, ShardIndex(2));
  EXPECT_EQ(ParseShardId(id, kCreatedMicros + 1000).status().code(), ErrorCode::kResourceNotFound);
  for (std::string_view bad :
       {"", "shardId-", "shardId-00000001700000000123-0000abcz",
        "shardid-00000001700000000123-0000abcd", "shardId-00000001700000000123_0000abcd",
        "shardId-0000000170000000012x-0000abcd"}) {
    EXPECT_EQ(ParseShardId(bad, kCreatedMicros).status().code(), ErrorCode::kResourceNotFound)
        << bad;
  }
}

TEST(ResourceNamesTest, SequenceNumbersReadBackAsWritten) {
  const uint64_t values[] = {1, 2, 9, 10, 99, 100, 123456789, 1ULL << 40, UINT64_MAX};
  for (uint64_t v : values) {
    EXPECT_EQ(*ParseSequenceNumber(streams::SequenceNumberText(SequenceNumber(v))),
              SequenceNumber(v));
  }
  EXPECT_EQ(*ParseSequenceNumber("42"), SequenceNumber(42));
}

TEST(ResourceNamesTest, MalformedSequenceNumbers) {
  for (std::string_view bad : {"", "-1", "1.5", "12a", " 1", "018446744073709551616"}) {
    EXPECT_EQ(ParseSequenceNumber(bad).status().code(), ErrorCode::kValidation) << bad;
  }
}

}  // namespace
}  // namespace tidewater::streams
