// tidewater-replicator reading the source region's Kafka topics: us-east-1's tidewaterd
// publishes its change log to librdkafka's mock cluster (in this process), a replicator
// with --source-kafka applies east's changes to eu-west-1, and a Streams replicator takes
// west's changes to east (so east's topic also carries changes of another origin).
// Checks: the regions converge (verify), a SIGKILLed and restarted replicator loses
// nothing and applies nothing twice, and an empty target without the source's URL is
// refused. Bounded: a few thousand writes, convergence waits of at most 30 s.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <utility>

#include "regions.h"
#include "support/kafka_cluster.h"
#include "tidewater/streams/remote_source.h"

namespace tidewater::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The value of one series ("name{labels}") in a Prometheus text; nullopt when absent.
std::optional<double> MetricValue(const std::string& text, const std::string& series) {
  const size_t at = text.find(series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + series.size() + 1));
}

// Every record of `region`'s change log of kTable, shard by shard.
std::vector<ChangeRecord> ChangeLog(const Region& region) {
  std::vector<ChangeRecord> log;
  auto source = streams::MakeRemoteStreamsSource(region.url(), TableName(kTable));
  EXPECT_TRUE(source.ok());
  if (!source.ok()) return log;
  auto shards = (*source)->ListShards();
  EXPECT_TRUE(shards.ok()) << shards.status().ToString();
  if (!shards.ok()) return log;
  for (const streams::SourceShard& shard : *shards) {
    SequenceNumber from(1);
    while (true) {
      auto read = (*source)->Read(shard.index, from, 1000, milliseconds(0));
      EXPECT_TRUE(read.ok()) << read.status().ToString();
      if (!read.ok() || read->records.empty()) break;
      for (ChangeRecord& record : read->records) log.push_back(std::move(record));
      from = read->next_sequence;
    }
  }
  return log;
}

// Items of `region` whose key starts with `prefix`.
size_t CountWithPrefix(Region& region, const std::string& prefix) {
  auto contents = region.Contents();
  if (!contents) return 0;
  size_t count = 0;
  for (const auto& [key, value] : *contents) count += key.starts_with(prefix) ? 1 : 0;
  return count;
}

// Waits (up to 15 s) until `region` holds more than `count` items starting with `prefix`.
void WaitForMoreThan(Region& region, const std::string& prefix, size_t count) {
  EXPECT_TRUE(WaitFor([&] { return CountWithPrefix(region, prefix) > count; }, seconds(15)))
      << region.name() << " never held more than " << count << " " << prefix << " items";
}

class KafkaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.CreateTopic("tidewater.orders", 4);  // tables get 4 shards
    ASSERT_TRUE(east_.Start()) << east_.process().log();
    ASSERT_TRUE(west_.Start()) << west_.process().log();
    ASSERT_TRUE(east_.CreateTable().ok());
    ASSERT_TRUE(west_.CreateTable().ok());
    // The Kafka source's settings through the YAML keys. A short session timeout: a
    // SIGKILLed replicator's partitions go to its successor after it (librdkafka's
    // default is 45 s).
    std::ofstream(config_) << "source: " << east_.url() << "\ntarget: " << west_.url()
                           << "\ntables: [orders]\nsource_kafka: " << cluster_.bootstraps()
                           << "\nsource_region: us-east-1\nkafka_topic_prefix: tidewater.\n"
                           << "kafka_format: protobuf\n"
                           << "kafka_properties: {session.timeout.ms: 6000}\n";
  }
  void TearDown() override {
    if (HasFailure()) {
      ADD_FAILURE() << "east->west (Kafka) replicator:\n"
                    << east_to_west_.log() << "\nwest->east replicator:\n"
                    << west_to_east_.log();
    }
  }

  // The running Kafka replicator (restarted after a SIGKILL) re-applied nothing: no change below
  // the target's checkpoint was sent (duplicate), none at or above it was already there (older;
  // only east writes east's keys, and changes of west's origin are not forwarded).
  void ExpectNothingAppliedTwice(const std::string& when) {
    const std::string metrics = east_to_west_.Metrics();
    for (const char* reason : {"duplicate", "older"}) {
      const std::string series = std::string("tidewater_replication_skipped_total{reason=\"") +
                                 reason + "\",table=\"orders\"}";
      EXPECT_EQ(MetricValue(metrics, series).value_or(0), 0) << when << "\n" << metrics;
    }
    EXPECT_GT(
        MetricValue(metrics, "tidewater_replication_applied_total{table=\"orders\"}").value_or(0),
        0)
        << when << "\n"
        << metrics;
  }

  MockKafkaCluster cluster_;
  TempDir dir_;
  const std::string config_ = dir_.Sub("east-to-west.yaml");
  Region east_{dir_, "us-east-1", {"--kafka-brokers", cluster_.bootstraps()}};
  Region west_{dir_, "eu-west-1"};
  Replicator east_to_west_{east_, west_, {"--config", config_}};
  Replicator west_to_east_{west_, east_};
};

TEST_F(KafkaSourceTest, ConvergesAndAKilledReplicatorLosesNothingAndAppliesNothingTwice) {
  // Data before the replicator first runs: west has no checkpoint, so it is copied from
  // east's API first, then followed from Kafka.
  Writer before(east_, "before", 200, 400);
  before.Finish();
  west_to_east_.Start();
  east_to_west_.Start();
  ASSERT_TRUE(east_to_west_.WaitForLog("event=reader_started .*source=kafka", seconds(20)));
  Writer east_writer(east_, "east", 300, 3000);
  Writer west_writer(west_, "west", 100, 600);

  WaitForMoreThan(west_, "east-", 30);  // applying from Kafka: kill it there
  east_to_west_.Kill();
  east_writer.WaitFor(1500);  // changes pile up in the topic meanwhile
  east_to_west_.Start();
  ASSERT_TRUE(east_to_west_.WaitForLog("event=reader_started .*source=kafka", seconds(20)));
  east_writer.Finish();
  west_writer.Finish();

  auto contents = WaitForConvergence(east_, west_, seconds(30));
  ASSERT_TRUE(contents);
  before.ExpectIn(*contents, "converged");
  east_writer.ExpectIn(*contents, "converged");
  west_writer.ExpectIn(*contents, "converged");
  ExpectNothingAppliedTwice("after the restart");

  // West's change log holds each replicated change once, only changes of east's origin
  // (nothing of west's came back through east's topic), with increasing versions per key.
  std::set<std::pair<std::string, uint64_t>> seen;
  std::map<std::string, uint64_t> last_version;
  size_t replicated = 0;
  for (const ChangeRecord& record : ChangeLog(west_)) {
    if (record.provenance() != v1::REPLICATION) continue;
    ++replicated;
    EXPECT_EQ(record.origin_region(), "us-east-1");
    const std::string key = record.keys().DebugString();
    const uint64_t version = record.version().hlc_micros();
    EXPECT_TRUE(seen.emplace(key, version).second) << "applied twice: " << key << " @" << version;
    EXPECT_GT(version, last_version[key]) << key;
    last_version[key] = version;
  }
  EXPECT_GT(replicated, 1000u);
  EXPECT_TRUE(east_to_west_.Stop()) << east_to_west_.log();
  EXPECT_TRUE(west_to_east_.Stop());
}

TEST_F(KafkaSourceTest, AnEmptyTargetWithoutTheSourceUrlIsRefused) {
  ChildProcess replicator(TW_REPLICATOR,
                          {"--source-kafka", cluster_.bootstraps(), "--source-region", "us-east-1",
                           "--target", west_.url(), "--table", kTable});
  const int status = replicator.Wait();
  ASSERT_TRUE(WIFEXITED(status)) << replicator.log();
  EXPECT_EQ(WEXITSTATUS(status), 2) << replicator.log();
  EXPECT_NE(replicator.log().find("holds no checkpoint of us-east-1 for orders"), std::string::npos)
      << replicator.log();
  // Without the source region either, the flags alone are refused.
  ChildProcess no_region(TW_REPLICATOR, {"--source-kafka", cluster_.bootstraps(), "--target",
                                         west_.url(), "--table", kTable});
  EXPECT_EQ(WEXITSTATUS(no_region.Wait()), 2);
  EXPECT_NE(no_region.log().find("source_region is required"), std::string::npos)
      << no_region.log();
}

}  // namespace
}  // namespace tidewater::testing
