// Two consumer worker processes share a table's shards through one tidewaterd (remote
// source, remote leases); one is killed with SIGKILL while records keep coming. Every
// record is processed at least once, and each worker processes each shard in order.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "support/temp_dir.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/streams/remote_source.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::streams {
namespace {

using testing::ChildProcess;
using testing::TempDir;
using testing::TidewaterdProcess;

// Per shard, the sequences a worker wrote, in the order it wrote them.
std::map<uint32_t, std::vector<uint64_t>> ReadLog(const std::string& path) {
  std::map<uint32_t, std::vector<uint64_t>> log;
  std::ifstream in(path);
  uint32_t shard = 0;
  uint64_t sequence = 0;
  while (in >> shard >> sequence) log[shard].push_back(sequence);
  return log;
}

TEST(WorkerTakeoverTest, KilledWorkersShardsAreTakenOverFromTheCheckpoint) {
  TempDir dir;
  TidewaterdProcess daemon(TW_TIDEWATERD, dir.Sub("data"), "local");
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  // On any failure, including an ASSERT's early return: what the daemon said.
  struct PrintLogOnFailure {
    const TidewaterdProcess& daemon;
    ~PrintLogOnFailure() {
      if (::testing::Test::HasFailure())
        std::fprintf(stderr, "tidewaterd:\n%s\n", daemon.log().c_str());
    }
  } print_log_on_failure{daemon};
  auto client = ServiceClient::Create(daemon.url());
  ASSERT_TRUE(client.ok());
  auto call = [&](const std::string& operation, const std::string& body) {
    auto answer = (*client)->CallJson("DynamoDB_20120810." + operation, body);
    ASSERT_TRUE(answer.ok()) << operation << ": " << answer.status().ToString();
  };
  call("CreateTable",
       R"({"TableName":"events","BillingMode":"PAY_PER_REQUEST",)"
       R"("KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
       R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
       R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}})");
  int written = 0;
  auto write = [&](int count) {
    for (int end = written + count; written < end; ++written) {
      call("PutItem",
           R"({"TableName":"events","Item":{"pk":{"S":"e-)" + std::to_string(written) + R"("}}})");
    }
  };

  const std::string log_a = dir.Sub("a.log");
  const std::string log_b = dir.Sub("b.log");
  // Leases of 3 s (renewed every second): B steals with a conditional update on what it
  // listed, which a renewal in between defeats; on a loaded machine (sanitizers, two tests
  // at once) a listing can be older than a shorter renewal interval every time.
  auto worker = [&](const std::string& id, const std::string& log) {
    return std::make_unique<ChildProcess>(
        TW_CONSUMER_WORKER, std::vector<std::string>{daemon.url(), "events", id, log, "3000"});
  };
  write(50);
  auto a = worker("a", log_a);
  ASSERT_TRUE(a->WaitForLog("event=started", std::chrono::seconds(10))) << a->log();
  // A holds every shard before B comes, so shards only ever move from A to B.
  EXPECT_TRUE(
      testing::WaitFor([&] { return ReadLog(log_a).size() >= 4; }, std::chrono::seconds(60)));
  auto b = worker("b", log_b);
  ASSERT_TRUE(b->WaitForLog("event=started", std::chrono::seconds(10))) << b->log();
  // Both work; then A dies mid-stream, without releasing anything. Records keep coming
  // until B has processed one: a shard B steals after A drained it gives B nothing to do,
  // and on a loaded machine (CI, sanitizers) the steal can take more than one lease period.
  // Generous bound: the loop ends as soon as B has worked.
  write(100);
  const auto b_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (ReadLog(log_b).empty() && std::chrono::steady_clock::now() < b_deadline) {
    write(5);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_FALSE(ReadLog(log_b).empty()) << "B never got a shard: " << b->log();
  a->Signal(SIGKILL);
  a->Wait();
  write(100);

  auto source = MakeRemoteStreamsSource(daemon.url(), TableName("events"));
  ASSERT_TRUE(source.ok());
  auto shards = (*source)->ListShards();
  ASSERT_TRUE(shards.ok());
  auto covered = [&] {
    auto from_a = ReadLog(log_a);
    auto from_b = ReadLog(log_b);
    for (const SourceShard& shard : *shards) {
      const uint32_t index = shard.index.value();
      std::set<uint64_t> all(from_a[index].begin(), from_a[index].end());
      all.insert(from_b[index].begin(), from_b[index].end());
      if (all.size() != shard.last_sequence.value()) return false;
    }
    return true;
  };
  EXPECT_TRUE(testing::WaitFor(covered, std::chrono::seconds(120))) << b->log();
  b->Signal(SIGTERM);
  const int status = b->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << b->log();

  uint64_t total = 0;
  for (const std::string& log : {log_a, log_b}) {
    for (const auto& [shard, sequences] : ReadLog(log)) {
      // In order: each record follows the previous one, or a take-over repeats records
      // after the last checkpoint; a worker never skips ahead.
      for (size_t i = 1; i < sequences.size(); ++i) {
        EXPECT_LE(sequences[i], sequences[i - 1] + 1)
            << log << " shard " << shard << " skipped after " << sequences[i - 1];
      }
    }
  }
  for (const SourceShard& shard : *shards) total += shard.last_sequence.value();
  EXPECT_EQ(total, static_cast<uint64_t>(written));
}

}  // namespace
}  // namespace tidewater::streams
