// The PostgreSQL sink against a real PostgreSQL server started by the test (see
// tests/support/postgres_server.h: initdb in a temp dir, loopback port, run as `nobody`
// when the test runs as root). A server that cannot start FAILS the test.
#include "tidewater/connectors/postgres_sink.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <future>
#include <thread>

#include "support/postgres_server.h"
#include "support/sink_checks.h"
#include "support/sink_workload.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/core/json_codec.h"

namespace tidewater::connectors {
namespace {

using ::tidewater::testing::PgQuery;
using ::tidewater::testing::PgValue;

// One server for the suite (initdb takes seconds); a fresh database per test.
class PostgresSinkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::PostgresServer();
    start_error_ = server_->Start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(start_error_, "") << "PostgreSQL could not start";
    static int databases = 0;
    const std::string database = "test" + std::to_string(++databases);
    ASSERT_EQ(PgQuery(server_->conninfo(), "CREATE DATABASE " + database), testing::PgRows{});
    conninfo_ = server_->conninfo() + " dbname=" + database;
    auto engine = Engine::Open(testing::TestEngineOptions(dir_.Sub("engine"), &clock_));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    ASSERT_TRUE(testing::CreateSinkTable(*engine_, "orders").ok());
    source_ = streams::MakeEngineChangeSource(*engine_, TableName("orders"));
  }

  std::unique_ptr<PostgresSink> MakeSink(PostgresSinkOptions options = {}) {
    if (options.conninfo.empty()) options.conninfo = conninfo_;
    options.registry = &registry_;
    options.retry_backoff_initial = std::chrono::milliseconds(20);
    options.retry_backoff_max = std::chrono::milliseconds(200);
    auto sink = PostgresSink::Create(std::move(options));
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    return sink.ok() ? std::move(*sink) : nullptr;
  }

  double Counter(const std::string& name) {
    double total = 0;
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) total += metric.counter.value;
    }
    return total;
  }

  void ExpectMirrorAndChanges(const std::string& mirror = "orders") {
    testing::ExpectPostgresMirrorsTable(*engine_, "orders", conninfo_, mirror);
  }

  // Records in the table's stream (deletes of absent items write none).
  uint64_t StreamRecords(const std::string& table = "orders") {
    uint64_t records = 0;
    const TableDescription description = *engine_->DescribeTable(table);
    for (const ShardDescription& shard : description.shards) {
      records += shard.last_sequence.value();
    }
    return records;
  }

  // The first batch of the first shard that has records.
  streams::ShardBatch FirstBatch(size_t max_records) {
    for (uint32_t index = 0; index < 4; ++index) {
      const ShardIndex shard(index);
      auto batch =
          source_->Read(shard, SequenceNumber(1), max_records, std::chrono::milliseconds(0));
      if (batch.ok() && !batch->records.empty()) {
        return {.table = TableName("orders"), .shard = shard, .records = std::move(batch->records)};
      }
    }
    ADD_FAILURE() << "no records";
    return {};
  }

  static inline testing::PostgresServer* server_ = nullptr;
  static inline std::string start_error_;
  std::string conninfo_;
  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<streams::ChangeSource> source_;
  prometheus::Registry registry_;
};

TEST_F(PostgresSinkTest, MirrorAndChangeTableMatchTheTable) {
  ASSERT_TRUE(testing::RunWorkload(*engine_, "orders", 400, 40, 1).ok());
  auto sink = MakeSink();
  auto written = testing::DrainIntoSink(*source_, *sink, "orders", 37);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, StreamRecords());
  EXPECT_GT(*written, 300u);
  ExpectMirrorAndChanges();
  EXPECT_EQ(Counter("tidewater_sink_rows_total"), static_cast<double>(*written));

  // Columns: typed keys, exact numbers, every record's images.
  const std::string conninfo = conninfo_;
  EXPECT_EQ(PgQuery(conninfo,
                    "SELECT column_name, data_type FROM information_schema.columns WHERE "
                    "table_name = 'orders' ORDER BY ordinal_position"),
            (testing::PgRows{{"id", "text"},
                             {"n", "numeric"},
                             {"tw_image", "jsonb"},
                             {"tw_shard", "integer"},
                             {"tw_sequence", "bigint"},
                             {"tw_time", "timestamp with time zone"}}));
  EXPECT_EQ(PgValue(conninfo,
                    "SELECT count(*) FROM orders WHERE tw_image->>'price' !~ "
                    "'^12345678901234567890\\.1234567890123456[0-9]*$' OR "
                    "tw_image->>'tiny' <> '0.000000000000000000000000000001'"),
            "0");
  EXPECT_EQ(PgQuery(conninfo,
                    "SELECT event, old_image IS NULL, new_image IS NULL, count(*) > 0 FROM "
                    "orders_changes GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"),
            (testing::PgRows{
                {"INSERT", "t", "f", "t"}, {"MODIFY", "f", "f", "t"}, {"REMOVE", "f", "t", "t"}}));
  // Positions: the next sequence of each shard.
  auto table = engine_->DescribeTable("orders");
  for (const ShardDescription& shard : table->shards) {
    auto position = sink->Load(TableName("orders"), shard.index);
    ASSERT_TRUE(position.ok());
    EXPECT_EQ(position->value_or(SequenceNumber(1)), shard.last_sequence.Next());
  }
}

// The resolved-time rows: a shard's row never goes back; the view's table time is the
// lowest of the shards, NULL until every shard has one; shards not held or with no known
// time are not written.
TEST_F(PostgresSinkTest, ResolvedTimesPerShardAndTheTablesLowest) {
  auto sink = MakeSink();
  auto status = [](uint32_t shard, bool held, std::optional<int64_t> resolved) {
    streams::ConsumerShardStatus entry;
    entry.shard = ShardIndex(shard);
    entry.held = held;
    entry.resolved_time_micros = resolved;
    return entry;
  };
  const TableName orders("orders");
  const int64_t t = 1'765'000'000'123'456;  // microseconds: kept exactly
  auto view = [&] {
    return PgQuery(conninfo_,
                   "SELECT sink_name, table_name, (extract(epoch FROM resolved_time) * "
                   "1000000)::bigint FROM tidewater_sink_resolved");
  };
  auto shards = [&] {
    return PgQuery(conninfo_,
                   "SELECT shard, (extract(epoch FROM resolved_time) * 1000000)::bigint, "
                   "table_shards FROM tidewater_sink_resolved_shards ORDER BY shard");
  };
  // Two of three shards held with a time, one held without, one not held.
  ASSERT_TRUE(sink->RecordProgress(orders, {status(0, true, t + 5), status(1, true, t),
                                            status(2, true, std::nullopt)})
                  .ok());
  EXPECT_EQ(shards(),
            (testing::PgRows{{"0", std::to_string(t + 5), "3"}, {"1", std::to_string(t), "3"}}));
  EXPECT_EQ(view(), (testing::PgRows{{"tidewater", "orders", "<null>"}}));  // shard 2 unknown
  // Shard 2 known (held elsewhere before: this worker does not hold 0 and 1 any more).
  ASSERT_TRUE(sink->RecordProgress(orders, {status(0, false, t + 9), status(1, false, t + 9),
                                            status(2, true, t + 2)})
                  .ok());
  EXPECT_EQ(view(), (testing::PgRows{{"tidewater", "orders", std::to_string(t)}}));
  // Never back, also from another sink process on the same database.
  auto other = MakeSink();
  ASSERT_TRUE(other->RecordProgress(orders, {status(1, true, t - 100)}).ok());
  ASSERT_TRUE(other
                  ->RecordProgress(orders, {status(0, true, t + 7), status(1, true, t + 3),
                                            status(2, true, t + 4)})
                  .ok());
  EXPECT_EQ(shards(), (testing::PgRows{{"0", std::to_string(t + 7), "3"},
                                       {"1", std::to_string(t + 3), "3"},
                                       {"2", std::to_string(t + 4), "3"}}));
  EXPECT_EQ(view(), (testing::PgRows{{"tidewater", "orders", std::to_string(t + 3)}}));
  // Shard 1 splits into 3 and 4 and is read to its end: it leaves the table's time (its
  // own stopped where it closed), which waits for both children.
  auto finished = status(1, false, t + 3);
  finished.finished = true;
  ASSERT_TRUE(
      other
          ->RecordProgress(orders, {status(0, true, t + 20), finished, status(2, true, t + 21),
                                    status(3, true, t + 22), status(4, false, std::nullopt)})
          .ok());
  EXPECT_EQ(shards(), (testing::PgRows{{"0", std::to_string(t + 20), "4"},
                                       {"2", std::to_string(t + 21), "4"},
                                       {"3", std::to_string(t + 22), "4"}}));
  EXPECT_EQ(view(), (testing::PgRows{{"tidewater", "orders", "<null>"}}));  // shard 4 unknown
  ASSERT_TRUE(
      other
          ->RecordProgress(orders, {status(0, true, t + 20), finished, status(2, true, t + 21),
                                    status(3, true, t + 22), status(4, true, t + 23)})
          .ok());
  EXPECT_EQ(view(), (testing::PgRows{{"tidewater", "orders", std::to_string(t + 20)}}));
}

TEST_F(PostgresSinkTest, BatchDeliveredAgainIsNotAppliedTwice) {
  ASSERT_TRUE(testing::RunWorkload(*engine_, "orders", 120, 10, 2).ok());
  auto sink = MakeSink();
  streams::ShardBatch shard_batch = FirstBatch(1000);
  const size_t size = shard_batch.records.size();
  ASSERT_GT(size, 2u);
  ASSERT_TRUE(sink->Write(shard_batch).ok());
  ASSERT_TRUE(sink->Write(shard_batch).ok());  // as after an unknown COMMIT outcome
  // A batch overlapping the committed part.
  shard_batch.records.erase(shard_batch.records.begin());
  ASSERT_TRUE(sink->Write(shard_batch).ok());
  EXPECT_EQ(Counter("tidewater_sink_rows_total"), static_cast<double>(size));
  ASSERT_TRUE(testing::DrainIntoSink(*source_, *sink, "orders", 50).ok());
  ExpectMirrorAndChanges();
}

TEST_F(PostgresSinkTest, DynamoDbJsonImagesAndPrefix) {
  ASSERT_TRUE(testing::RunWorkload(*engine_, "orders", 60, 10, 3).ok());
  PostgresSinkOptions options;
  options.image_json = ImageJson::kDynamoDb;
  options.schema = "analytics";
  options.table_prefix = "tw_";
  auto sink = MakeSink(std::move(options));
  ASSERT_TRUE(testing::DrainIntoSink(*source_, *sink, "orders", 25).ok());
  const std::string conninfo = conninfo_;
  ScanRequest scan;
  scan.table = "orders";
  auto page = engine_->Scan(scan);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(PgValue(conninfo, "SELECT count(*) FROM analytics.tw_orders"),
            std::to_string(page->items.size()));
  for (const Item& item : page->items) {
    EXPECT_EQ(PgValue(conninfo,
                      "SELECT count(*) FROM analytics.tw_orders WHERE id = $1 AND n = "
                      "$2::numeric AND tw_image = $3::jsonb",
                      {item.at("id").s(), item.at("n").n().ToString(), json::ItemToJson(item)}),
              "1");
  }
  EXPECT_EQ(PgValue(conninfo, "SELECT count(*) FROM analytics.tw_orders_changes"),
            std::to_string(StreamRecords()));
}

TEST_F(PostgresSinkTest, BinaryAndNumberPartitionKeys) {
  for (auto [name, type] :
       {std::pair{"blobs", AttributeType::kB}, {"numbers", AttributeType::kN}}) {
    CreateTableRequest request;
    request.name = name;
    request.key_schema.partition_key = {"k", type};
    request.stream = {true, StreamViewType::kNewAndOldImages};
    request.shard_count = 2;
    ASSERT_TRUE(engine_->CreateTable(request).ok());
    for (int i = 0; i < 20; ++i) {
      const AttributeValue key = type == AttributeType::kB
                                     ? AttributeValue::B(std::string("\x00\xfe", 2) + char(i))
                                     : AttributeValue::N(*Number::Parse(std::to_string(i) + ".5"));
      ASSERT_TRUE(engine_->PutItem(name, {{"k", key}, {"v", AttributeValue::S("x")}}).ok());
      if (i % 4 == 0) {
        ASSERT_TRUE(engine_->DeleteItem(name, {{"k", key}}).ok());
      }
    }
    auto source = streams::MakeEngineChangeSource(*engine_, TableName(name));
    auto sink = MakeSink();
    ASSERT_TRUE(testing::DrainIntoSink(*source, *sink, name, 7).ok());
    const std::string conninfo = conninfo_;
    EXPECT_EQ(PgValue(conninfo, std::string("SELECT count(*) FROM ") + name), "15") << name;
    const std::string probe = type == AttributeType::kB
                                  ? "SELECT count(*) FROM blobs WHERE k = '\\x00fe05'::bytea"
                                  : "SELECT count(*) FROM numbers WHERE k = 5.5";
    EXPECT_EQ(PgValue(conninfo, probe), "1") << name;
  }
}

// Each failed attempt waits out its backoff on the sink's clock; a stop ends the wait and
// the Write.
TEST_F(PostgresSinkTest, UnreachableDatabaseIsRetriedUntilStopped) {
  ManualClock clock;
  PostgresSinkOptions options;
  options.conninfo = "host=127.0.0.1 port=1 dbname=postgres user=tidewater connect_timeout=2";
  options.clock = &clock;
  auto sink = MakeSink(std::move(options));
  ASSERT_TRUE(testing::RunWorkload(*engine_, "orders", 5, 5, 4).ok());
  std::stop_source stop;
  streams::ShardBatch shard_batch = FirstBatch(100);
  shard_batch.stop = stop.get_token();
  auto write = std::async(std::launch::async, [&] { return sink->Write(shard_batch); });
  const auto errors = [&] { return Counter("tidewater_sink_errors_total"); };
  EXPECT_TRUE(clock.AwaitWaiters(1, std::chrono::seconds(10)));
  EXPECT_EQ(errors(), 1);
  clock.Advance(std::chrono::milliseconds(20));  // the first backoff
  EXPECT_TRUE(testing::WaitFor([&] { return errors() == 2 && clock.waiters() == 1; }));
  stop.request_stop();
  const bool stopped = write.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!stopped) clock.AdvanceSeconds(3600);  // end the backoff, so that the test can end
  ASSERT_TRUE(stopped) << "the stop did not end the backoff";
  const Status status = write.get();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("cannot connect"), std::string::npos) << status.message();
  EXPECT_EQ(errors(), 2);
  EXPECT_FALSE(sink->Load(TableName("orders"), ShardIndex(0)).ok());
}

TEST_F(PostgresSinkTest, ConstraintErrorIsRetriedNotSkipped) {
  const std::string conninfo = conninfo_;
  // A mirror table that refuses a row until the constraint goes.
  ASSERT_EQ(PgQuery(conninfo,
                    "CREATE TABLE orders (id text NOT NULL, n numeric NOT NULL, tw_image jsonb, "
                    "tw_shard integer NOT NULL, tw_sequence bigint NOT NULL, tw_time "
                    "timestamptz NOT NULL, PRIMARY KEY (id, n), CONSTRAINT no_key_1 CHECK "
                    "(id <> 'key-1'))"),
            testing::PgRows{});
  ASSERT_TRUE(engine_->PutItem("orders", testing::WorkloadItem(1, 1)).ok());
  ASSERT_TRUE(engine_->PutItem("orders", testing::WorkloadItem(2, 1)).ok());
  auto sink = MakeSink();
  Status drained;
  std::thread drain(
      [&] { drained = testing::DrainIntoSink(*source_, *sink, "orders", 10).status(); });
  EXPECT_TRUE(testing::WaitFor([&] { return Counter("tidewater_sink_errors_total") >= 3; }));
  EXPECT_EQ(PgValue(conninfo, "SELECT count(*) FROM orders_changes WHERE keys->>'id' = 'key-1'"),
            "0");
  ASSERT_EQ(PgQuery(conninfo, "ALTER TABLE orders DROP CONSTRAINT no_key_1"), testing::PgRows{});
  drain.join();
  ASSERT_TRUE(drained.ok()) << drained.ToString();
  ExpectMirrorAndChanges();
}

TEST_F(PostgresSinkTest, DatabaseRestartMidRun) {
  auto sink = MakeSink();
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    EXPECT_TRUE(testing::RunWorkload(*engine_, "orders", 3000, 200, 5).ok());
    writing = false;
  });
  std::atomic<bool> restarted{false};
  std::thread restarter([&] {
    EXPECT_TRUE(testing::WaitFor([&] { return Counter("tidewater_sink_rows_total") >= 500; }));
    // As a crash: connections drop at once, the server recovers from its WAL. It stays
    // down until the sink has noticed.
    EXPECT_TRUE(server_->StopServer("immediate"));
    EXPECT_TRUE(testing::WaitFor([&] { return Counter("tidewater_sink_errors_total") >= 1; }));
    EXPECT_EQ(server_->StartServer(), "");
    restarted = true;
  });
  // One drain loop per shard, as the consumer runs them.
  std::vector<std::thread> readers;
  for (uint32_t index = 0; index < 4; ++index) {
    readers.emplace_back([&, shard = ShardIndex(index)] {
      SequenceNumber next(0);
      while (next == SequenceNumber(0)) {
        auto position = sink->Load(TableName("orders"), shard);
        if (position.ok()) next = position->value_or(SequenceNumber(1));
      }
      while (true) {
        const bool last_round = !writing && restarted;
        auto batch = source_->Read(shard, next, 100, std::chrono::milliseconds(20));
        ASSERT_TRUE(batch.ok());
        if (batch->records.empty()) {
          if (last_round) return;
          continue;
        }
        streams::ShardBatch shard_batch{
            .table = TableName("orders"), .shard = shard, .records = std::move(batch->records)};
        ASSERT_TRUE(sink->Write(shard_batch).ok());
        next = batch->next_sequence;
      }
    });
  }
  writer.join();
  restarter.join();
  for (std::thread& reader : readers) reader.join();
  EXPECT_GE(Counter("tidewater_sink_errors_total"), 1);  // the restart was noticed
  ExpectMirrorAndChanges();
}

}  // namespace
}  // namespace tidewater::connectors
