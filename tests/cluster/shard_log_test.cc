// One shard's log on a real Kafka-protocol cluster (librdkafka's mock): owners take the
// shard over and append, a newer owner fences an older one, readers resume from a stored
// position, and broker faults leave the history gap-free with every acknowledged entry.
#include "tidewater/cluster/shard_log.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/kafka_cluster.h"

namespace tidewater::cluster {
namespace {

using tidewater::testing::MockKafkaCluster;

constexpr char kTopic[] = "tidewater.test.t.1.g0";

// What a node's applier received: each valid entry with its offset.
struct Applied {
  std::vector<int64_t> offsets;
  std::vector<v1::ShardLogEntry> entries;

  // Sequences of the valid changes, in order.
  std::vector<uint64_t> Sequences() const {
    std::vector<uint64_t> sequences;
    for (const auto& entry : entries) {
      if (entry.has_change()) sequences.push_back(entry.sequence());
    }
    return sequences;
  }
  // Ids (the transaction_id field the tests name writes by) of the valid changes.
  std::set<std::string> Ids() const {
    std::set<std::string> ids;
    for (const auto& entry : entries) {
      if (entry.has_change()) ids.insert(entry.change().record().transaction_id());
    }
    return ids;
  }
};

class ShardLogTest : public ::testing::Test {
 protected:
  ShardLogTest() : kafka_(3) { kafka_.CreateTopic(kTopic, 1); }

  std::unique_ptr<ShardLog> Open(const std::string& node, Applied& applied,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                 int64_t start_offset = 0, FencePosition position = {}) {
    ShardLogOptions options;
    options.brokers = kafka_.bootstraps();
    options.node_id = node;
    options.advertised = "127.0.0.1:8000";
    options.topic = kTopic;
    options.partition = 0;
    options.message_key = "1/0";
    options.timeout = timeout;
    options.start_offset = start_offset;
    options.start_position = std::move(position);
    auto log = ShardLog::Open(std::move(options), [&applied](int64_t offset, const auto& entry) {
      applied.offsets.push_back(offset);
      applied.entries.push_back(entry);
      return Status::Ok();
    });
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }

  // Node "a", owner of the shard, after appending `count` changes; null if it could not.
  std::unique_ptr<ShardLog> OwnerWithChanges(int count, Applied& applied) {
    auto owner = Open("a", applied);
    auto entries = Changes("a", count);
    if (!owner->TakeOver().ok() || !owner->Append(entries).ok()) return nullptr;
    return owner;
  }

  // `count` changes named <prefix>-<n>.
  static std::vector<v1::ShardLogEntry> Changes(const std::string& prefix, int count) {
    static int next = 0;
    std::vector<v1::ShardLogEntry> entries(static_cast<size_t>(count));
    for (auto& entry : entries) {
      entry.mutable_change()->mutable_record()->set_transaction_id(prefix + "-" +
                                                                   std::to_string(++next));
    }
    return entries;
  }

  static std::vector<uint64_t> OneTo(uint64_t n) {
    std::vector<uint64_t> sequences;
    for (uint64_t i = 1; i <= n; ++i) sequences.push_back(i);
    return sequences;
  }

  MockKafkaCluster kafka_;
};

TEST_F(ShardLogTest, AnOwnersAppendsAreEveryReadersHistoryInOrder) {
  Applied at_owner;
  auto owner = Open("a", at_owner);
  ASSERT_TRUE(owner->TakeOver().ok());
  EXPECT_TRUE(owner->owner());
  for (int batch = 0; batch < 3; ++batch) {
    auto entries = Changes("a", 5);
    ASSERT_TRUE(owner->Append(entries).ok());
    EXPECT_EQ(entries.back().sequence(), static_cast<uint64_t>(5 * (batch + 1)));
  }
  EXPECT_EQ(owner->position(), (FencePosition{1, "a", 15}));
  // The owner applied its own entries as it read them back: one apply path for all.
  EXPECT_EQ(at_owner.Sequences(), OneTo(15));

  Applied at_reader;
  auto reader = Open("r", at_reader);
  ASSERT_TRUE(reader->CatchUp().ok());
  EXPECT_EQ(at_reader.Sequences(), OneTo(15));
  EXPECT_EQ(at_reader.offsets, at_owner.offsets);
  EXPECT_EQ(at_reader.Ids(), at_owner.Ids());
  EXPECT_FALSE(reader->owner());
  // Kafka headers carry the term and sequence for tools.
  const auto messages = tidewater::testing::ReadTopic(kafka_.bootstraps(), kTopic, 1);
  ASSERT_EQ(messages.size(), 16u);
  EXPECT_EQ(messages.back().headers.at("tw-term"), "1");
  EXPECT_EQ(messages.back().headers.at("tw-seq"), "15");
  EXPECT_EQ(messages.back().key, "1/0");
}

TEST_F(ShardLogTest, ANewOwnerFencesTheOldOneWhoseLaterAppendsAreNotHistory) {
  Applied at_a;
  Applied at_b;
  auto a = Open("a", at_a);
  auto b = Open("b", at_b);
  ASSERT_TRUE(a->TakeOver().ok());
  auto first = Changes("a", 4);
  ASSERT_TRUE(a->Append(first).ok());

  // b takes over while a still believes it owns the shard (a zombie).
  ASSERT_TRUE(b->TakeOver().ok());
  EXPECT_EQ(b->position(), (FencePosition{2, "b", 4}));
  auto from_b = Changes("b", 3);
  ASSERT_TRUE(b->Append(from_b).ok());
  EXPECT_EQ(from_b.front().sequence(), 5u);

  auto late = Changes("a-late", 2);
  Status refused = a->Append(late);
  EXPECT_FALSE(refused.ok());
  EXPECT_FALSE(a->owner());
  auto after = Changes("a-after", 1);
  EXPECT_FALSE(a->Append(after).ok());  // no owner any more: nothing is appended

  auto more = Changes("b", 2);
  ASSERT_TRUE(b->Append(more).ok());
  Applied at_reader;
  auto reader = Open("r", at_reader);
  ASSERT_TRUE(reader->CatchUp().ok());
  EXPECT_EQ(at_reader.Sequences(), OneTo(9));
  for (const std::string& id : at_reader.Ids()) {
    EXPECT_EQ(id.rfind("a-late", 0), std::string::npos) << id << " is in the history";
  }
  // The zombie's own view agrees once it has read everything.
  ASSERT_TRUE(a->CatchUp().ok());
  EXPECT_EQ(at_a.Sequences(), OneTo(9));
  EXPECT_EQ(at_a.Ids(), at_reader.Ids());
}

TEST_F(ShardLogTest, TwoNodesTakingOverAtOnceLeaveOneWriter) {
  for (int round = 0; round < 5; ++round) {
    Applied at_a;
    Applied at_b;
    auto a = Open("a", at_a);
    auto b = Open("b", at_b);
    Status taken_a;
    Status taken_b;
    std::thread racer([&] { taken_a = a->TakeOver(); });
    taken_b = b->TakeOver();
    racer.join();
    EXPECT_TRUE(taken_a.ok() || taken_b.ok()) << taken_a.ToString() << " / " << taken_b.ToString();
    auto from_a = Changes("a", 1);
    auto from_b = Changes("b", 1);
    // Whoever wrote the later TermStart writes; the other learns it lost.
    const bool a_wrote = a->owner() && a->Append(from_a).ok();
    const bool b_wrote = b->owner() && b->Append(from_b).ok();
    EXPECT_NE(a_wrote, b_wrote) << "round " << round;
  }
}

TEST_F(ShardLogTest, AReaderResumesFromAStoredOffsetAndPosition) {
  Applied at_owner;
  auto owner = OwnerWithChanges(6, at_owner);
  ASSERT_NE(owner, nullptr);

  Applied first_part;
  auto reader = Open("r", first_part);
  ASSERT_TRUE(reader->CatchUp().ok());
  const int64_t stored_offset = reader->next_offset();
  const FencePosition stored_position = reader->position();
  reader.reset();

  auto later = Changes("a", 4);
  ASSERT_TRUE(owner->Append(later).ok());
  Applied second_part;
  auto resumed = Open("r", second_part, std::chrono::seconds(10), stored_offset, stored_position);
  ASSERT_TRUE(resumed->CatchUp().ok());
  EXPECT_EQ(second_part.Sequences(), (std::vector<uint64_t>{7, 8, 9, 10}));
  EXPECT_EQ(resumed->position(), owner->position());
}

TEST_F(ShardLogTest, AnApplierErrorStopsTheReadAndTheEntryComesAgain) {
  Applied at_owner;
  auto owner = OwnerWithChanges(5, at_owner);
  ASSERT_NE(owner, nullptr);

  std::vector<uint64_t> applied;
  int calls = 0;
  ShardLogOptions options;
  options.brokers = kafka_.bootstraps();
  options.node_id = "r";
  options.topic = kTopic;
  auto reader = ShardLog::Open(options, [&](int64_t, const v1::ShardLogEntry& entry) {
    if (++calls == 3) return Status::IOError("disk full");  // the second change, once
    if (entry.has_change()) applied.push_back(entry.sequence());
    return Status::Ok();
  });
  ASSERT_TRUE(reader.ok());
  Status failed = (*reader)->CatchUp();
  EXPECT_EQ(failed.code(), ErrorCode::kIOError);
  EXPECT_EQ((*reader)->position().last_sequence, 1u);
  ASSERT_TRUE((*reader)->CatchUp().ok());
  EXPECT_EQ(applied, OneTo(5));
}

TEST_F(ShardLogTest, BrokerFaultsLeaveTheHistoryGapFreeWithEveryAcknowledgedEntry) {
  Applied at_owner;
  // 6 s: three retried produce errors (each with its backoff and metadata refresh) must fit
  // in one append on a loaded machine; 3 s did not once in CI.
  auto owner = Open("a", at_owner, std::chrono::milliseconds(6000));
  ASSERT_TRUE(owner->TakeOver().ok());
  std::set<std::string> acknowledged;
  auto append = [&](int count) {
    auto entries = Changes("a", count);
    Status status = owner->Append(entries);
    if (status.ok()) {
      for (const auto& entry : entries)
        acknowledged.insert(entry.change().record().transaction_id());
    }
    return status;
  };
  ASSERT_TRUE(append(3).ok());
  // Retriable produce errors: librdkafka retries, the append succeeds.
  rd_kafka_mock_push_request_errors(
      kafka_.mock(), 0 /* Produce */, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  Status retried = append(3);
  ASSERT_TRUE(retried.ok()) << retried.ToString();
  // The partition's leader goes down: appends fail within the timeout, with an unknown
  // outcome, and none is acknowledged.
  rd_kafka_mock_partition_set_leader(kafka_.mock(), kTopic, 0, 1);
  ASSERT_TRUE(append(1).ok());
  rd_kafka_mock_broker_set_down(kafka_.mock(), 1);
  EXPECT_FALSE(append(2).ok());
  // A new leader: the owner reads what did land, and continues after it.
  rd_kafka_mock_partition_set_leader(kafka_.mock(), kTopic, 0, 2);
  ASSERT_TRUE(append(2).ok()) << "after the leader moved";
  ASSERT_TRUE(append(2).ok());
  rd_kafka_mock_broker_set_up(kafka_.mock(), 1);

  Applied at_reader;
  auto reader = Open("r", at_reader);
  ASSERT_TRUE(reader->CatchUp().ok());
  EXPECT_EQ(at_reader.Sequences(), OneTo(at_reader.Sequences().size()));
  for (const std::string& id : acknowledged) {
    EXPECT_TRUE(at_reader.Ids().contains(id)) << id << " was acknowledged and is not history";
  }
  EXPECT_EQ(at_reader.Ids(), at_owner.Ids());
}

}  // namespace
}  // namespace tidewater::cluster
