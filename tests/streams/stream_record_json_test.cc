// The DynamoDB Streams JSON shape of change records, as GetRecords and the Kafka
// publisher's JSON format show them.
#include "tidewater/streams/stream_record_json.h"

#include <gtest/gtest.h>

#include "tidewater/core/record_codec.h"

namespace tidewater::streams {
namespace {

ChangeRecord MakeRecord(v1::EventName event, v1::Provenance provenance) {
  ChangeRecord record;
  record.set_table("orders");
  record.set_shard(3);
  record.set_sequence(42);
  record.set_event(event);
  ToProto(Item{{"pk", AttributeValue::S("a")}}, record.mutable_keys());
  if (event != v1::REMOVE) {
    ToProto(Item{{"pk", AttributeValue::S("a")}, {"n", AttributeValue::N(Number::FromInt64(7))}},
            record.mutable_new_image());
  }
  if (event != v1::INSERT) {
    ToProto(Item{{"pk", AttributeValue::S("a")}}, record.mutable_old_image());
  }
  record.set_approximate_creation_time_micros(1'700'000'000'900'000);
  record.set_size_bytes(9);
  record.set_view_type(v1::NEW_AND_OLD_IMAGES);
  record.set_provenance(provenance);
  return record;
}

TEST(StreamRecordJsonTest, SequenceNumbersAreTwentyOneDigits) {
  EXPECT_EQ(SequenceNumberText(SequenceNumber(1)), "000000000000000000001");
  EXPECT_EQ(SequenceNumberText(SequenceNumber(18446744073709551615ULL)), "018446744073709551615");
}

TEST(StreamRecordJsonTest, EventIdNamesTableShardAndSequence) {
  EXPECT_EQ(EventId(1, ShardIndex(3), SequenceNumber(42)),
            "00000000000000010000000300000000000000"
            "2a");
  EXPECT_NE(EventId(1, ShardIndex(3), SequenceNumber(42)),
            EventId(2, ShardIndex(3), SequenceNumber(42)));
}

TEST(StreamRecordJsonTest, RecordShapes) {
  struct Case {
    v1::EventName event;
    v1::Provenance provenance;
    std::string expected;
  };
  const std::string id = EventId(5, ShardIndex(3), SequenceNumber(42));
  const std::string head = R"({"eventID":")" + id + R"(","eventName":")";
  const std::string source =
      R"(","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"eu-west-1",)"
      R"("dynamodb":{"ApproximateCreationDateTime":1700000000,"Keys":{"pk":{"S":"a"}},)";
  const std::string tail = R"("SequenceNumber":"000000000000000000042","SizeBytes":9,)"
                           R"("StreamViewType":"NEW_AND_OLD_IMAGES"})";
  const Case cases[] = {
      {v1::INSERT, v1::USER_WRITE,
       head + "INSERT" + source + R"("NewImage":{"n":{"N":"7"},"pk":{"S":"a"}},)" + tail + "}"},
      {v1::MODIFY, v1::REPLICATION,
       head + "MODIFY" + source +
           R"("NewImage":{"n":{"N":"7"},"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"}},)" + tail +
           "}"},
      {v1::REMOVE, v1::TTL,
       head + "REMOVE" + source + R"("OldImage":{"pk":{"S":"a"}},)" + tail +
           R"(,"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}})"},
  };
  for (const Case& c : cases) {
    auto json = StreamRecordJson(MakeRecord(c.event, c.provenance), 5, "eu-west-1");
    ASSERT_TRUE(json.ok()) << json.status().ToString();
    EXPECT_EQ(*json, c.expected);
  }
}

TEST(StreamRecordJsonTest, MalformedNumberIsAnError) {
  ChangeRecord record = MakeRecord(v1::INSERT, v1::USER_WRITE);
  record.mutable_keys()->mutable_attributes(0)->mutable_value()->set_n("not a number");
  EXPECT_EQ(StreamRecordJson(record, 5, "r").status().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace tidewater::streams
