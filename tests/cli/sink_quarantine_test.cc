// `tidewater sink` with `poison_records: quarantine_key`: the configuration, and a
// PostgreSQL sink over a tidewaterd whose table holds an item PostgreSQL rejects (a string
// with a NUL character, which jsonb cannot hold). With quarantine on, every other item is
// mirrored and that item's records (the rejected one and the valid ones after it) are all
// in the quarantine table, in order, none in PostgreSQL. Off (the default), the shard
// blocks on the rejected record as before.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <map>

#include "sink_config.h"
#include "support/child_process.h"
#include "support/postgres_server.h"
#include "support/sink_checks.h"
#include "support/sink_workload.h"
#include "support/temp_dir.h"
#include "support/tidewaterd_process.h"
#include "support/wait_for.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::cli {
namespace {

TEST(SinkQuarantineConfigTest, OffByDefaultAndForPostgresOnly) {
  const std::string head = "source: {data_dir: /d}\ntables: [t]\n";
  auto plain = ParseSinkConfig(head + "sinks: [{type: postgres, conninfo: c}]\n");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(plain->sinks[0].quarantine_key);

  auto quarantine =
      ParseSinkConfig(head +
                      "sinks: [{type: postgres, conninfo: c, poison_records: quarantine_key, "
                      "poison_retry_attempts: 5, quarantine_table: parked}]\n");
  ASSERT_TRUE(quarantine.ok()) << quarantine.status().ToString();
  EXPECT_TRUE(quarantine->sinks[0].quarantine_key);
  EXPECT_EQ(quarantine->sinks[0].poison_retry_attempts, 5);
  EXPECT_EQ(quarantine->sinks[0].quarantine_table, "parked");

  const std::pair<std::string, std::string> errors[] = {
      {"sinks: [{type: postgres, conninfo: c, poison_records: skip}]\n",
       "poison_records must be block or quarantine_key"},
      {"sinks: [{type: files, dir: /x, poison_records: quarantine_key}]\n",
       "poison_records must be block for a files sink"},
      {"sinks: [{type: postgres, conninfo: c, quarantine_table: q}]\n",
       "only for poison_records: quarantine_key"},
      {"sinks: [{type: postgres, conninfo: c, poison_records: quarantine_key, "
       "poison_retry_attempts: -1}]\n",
       "poison_retry_attempts must be between 0 and 10000"},
  };
  for (const auto& [yaml, message] : errors) {
    auto parsed = ParseSinkConfig(head + yaml);
    ASSERT_FALSE(parsed.ok()) << yaml;
    EXPECT_NE(parsed.status().message().find(message), std::string::npos)
        << yaml << " -> " << parsed.status().message();
  }
}

class SinkQuarantineProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(postgres_.Start(), "") << "PostgreSQL could not start";
    ASSERT_TRUE(daemon_.Start()) << daemon_.log();
    auto client = streams::ServiceClient::Create(daemon_.url());
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
    ASSERT_TRUE(testing::CreateSinkTableRemote(*client_, "orders").ok());
  }

  // Item (id, n=1) with attribute v.
  void Put(const std::string& id, const std::string& v_json) {
    auto put = client_->CallJson("DynamoDB_20120810.PutItem",
                                 R"({"TableName":"orders","Item":{"id":{"S":")" + id +
                                     R"("},"n":{"N":"1"},"v":)" + v_json + "}}");
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  // Three versions of items a, b, c; "bad" first gets a value PostgreSQL rejects, then two
  // valid ones, interleaved with the others.
  void WriteWorkload() {
    for (int version = 0; version < 3; ++version) {
      for (const char* id : {"a", "b", "c"}) {
        Put(id, R"({"N":")" + std::to_string(version) + R"("})");
        if (std::string(id) == "b") {
          Put("bad", version == 0 ? R"({"S":"nul\u0000here"})"
                                  : R"({"N":")" + std::to_string(version) + R"("})");
        }
      }
    }
  }

  std::string WriteConfig(bool quarantine) {
    const std::string config = dir_.Sub("sink.yaml");
    std::ofstream out(config);
    out << "source: {endpoint: \"" << daemon_.url() << "\"}\n"
        << "tables: [orders]\n"
        << "application: e2e\n"
        << "lease_duration_ms: 1000\n"
        << "sinks:\n"
        << "  - {type: postgres, name: pg, conninfo: \"" << postgres_.conninfo() << "\"";
    if (quarantine) out << ", poison_records: quarantine_key, poison_retry_attempts: 1";
    out << "}\n";
    return config;
  }

  // The mirror's v per id.
  std::map<std::string, std::string> Mirror() {
    std::map<std::string, std::string> mirror;
    for (const auto& row :
         testing::PgQuery(postgres_.conninfo(), "SELECT id, tw_image->>'v' FROM orders")) {
      if (row.size() == 2) mirror[row[0]] = row[1];
    }
    return mirror;
  }

  // The quarantine table's items: (key, sequence), as a Scan returns them.
  std::vector<std::pair<std::string, uint64_t>> Parked() {
    std::vector<std::pair<std::string, uint64_t>> parked;
    auto scan =
        client_->CallJson("DynamoDB_20120810.Scan", R"({"TableName":"tidewater_quarantine"})");
    if (!scan.ok()) return parked;
    rapidjson::Document document;
    document.Parse(scan->c_str());
    for (const auto& item : document["Items"].GetArray()) {
      parked.emplace_back(item["key"]["S"].GetString(),
                          std::stoull(item["sequence"]["N"].GetString()));
    }
    std::sort(parked.begin(), parked.end(),
              [](const auto& x, const auto& y) { return x.second < y.second; });
    return parked;
  }

  testing::PostgresServer postgres_;
  testing::TempDir dir_;
  testing::TidewaterdProcess daemon_{TW_TIDEWATERD, dir_.Sub("data"), "us-test-1"};
  std::unique_ptr<streams::ServiceClient> client_;
};

TEST_F(SinkQuarantineProcessTest, TheRejectedItemIsParkedWhileOthersAreMirrored) {
  WriteWorkload();
  testing::ChildProcess sink(TW_TIDEWATER, {"sink", "--config", WriteConfig(true)});
  const std::map<std::string, std::string> mirrored = {{"a", "2"}, {"b", "2"}, {"c", "2"}};
  EXPECT_TRUE(testing::WaitFor([&] { return Mirror() == mirrored && Parked().size() >= 3; },
                               std::chrono::seconds(60)))
      << sink.log();
  EXPECT_EQ(Mirror(), mirrored);
  // All three records of "bad", in order; none of them in PostgreSQL.
  const std::vector<std::pair<std::string, uint64_t>> parked = Parked();
  ASSERT_EQ(parked.size(), 3u) << sink.log();
  for (const auto& [key, sequence] : parked) {
    EXPECT_EQ(key, R"({"id":{"S":"bad"},"n":{"N":"1"}})");
  }
  EXPECT_EQ(testing::PgValue(postgres_.conninfo(),
                             "SELECT count(*) FROM orders_changes WHERE keys->>'id' = 'bad'"),
            "0");
  EXPECT_EQ(testing::PgValue(postgres_.conninfo(),
                             "SELECT count(*) FROM orders_changes WHERE keys->>'id' <> 'bad'"),
            "9");
  sink.Signal(SIGTERM);
  const int status = sink.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << sink.log();
}

TEST_F(SinkQuarantineProcessTest, OffByDefaultTheShardBlocksOnTheRejectedRecord) {
  WriteWorkload();
  testing::ChildProcess sink(TW_TIDEWATER, {"sink", "--config", WriteConfig(false)});
  // The rejected record is retried (logged each time); the shard does not move past it.
  ASSERT_TRUE(sink.WaitForLog("event=postgres_sink_retry .*attempt=3", std::chrono::seconds(60)))
      << sink.log();
  EXPECT_EQ(testing::PgValue(postgres_.conninfo(),
                             "SELECT count(*) FROM orders_changes WHERE keys->>'id' = 'bad'"),
            "0");
  EXPECT_TRUE(Parked().empty());
  sink.Signal(SIGTERM);
  sink.Wait();
}

}  // namespace
}  // namespace tidewater::cli
