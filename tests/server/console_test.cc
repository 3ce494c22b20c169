// The web console at the HTTP level: embedded files with their content types, 404 for
// other console paths, the live stream endpoint (server-sent events) delivering a write,
// the history endpoint filled by the sampler, and --console off (ServerOptions::console).
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "support/wait_for.h"
#include "test_server.h"
#include "tidewater/streams/lease_store.h"
#include "tidewater/v1/replication.pb.h"

namespace tidewater::server::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 20s;

class ConsoleTest : public ServerFixture {
 protected:
  void Customize(ServerOptions& options) override { options.console_sample_interval = 5s; }

  void CreateTable(const std::string& name, bool stream) {
    Ok("CreateTable", R"({"TableName":")" + name + R"(",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
        "BillingMode":"PAY_PER_REQUEST")" +
                          (stream ? R"(,"StreamSpecification":{"StreamEnabled":true,
                                    "StreamViewType":"NEW_AND_OLD_IMAGES"})"
                                  : "") +
                          "}");
  }

  // tidewater_http_connections from /metrics.
  int OpenConnections() {
    const std::string body = client_->Get("/metrics").body;
    const std::string name = "\ntidewater_http_connections ";
    const size_t at = body.find(name);
    EXPECT_NE(at, std::string::npos);
    return at == std::string::npos ? -1 : std::stoi(body.substr(at + name.size()));
  }

  // OpenConnections() once it is `count`, or its last value when `timeout` passes first.
  int AwaitOpenConnections(int count, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int open = OpenConnections();
    while (open != count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
      open = OpenConnections();
    }
    return open;
  }

  void Put(const std::string& table, const std::string& pk, const std::string& color) {
    Ok("PutItem", R"({"TableName":")" + table + R"(","Item":{"pk":{"S":")" + pk +
                      R"("},"color":{"S":")" + color + R"("}}})");
  }
};

// A raw connection reading a server-sent-events answer as it arrives.
class EventStreamReader {
 public:
  EventStreamReader(uint16_t port, const std::string& path) : connection_(port) {
    // Reads wake up every 100 ms so that a deadline is noticed.
    timeval timeout{0, 100'000};
    setsockopt(connection_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    connection_.WriteRaw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
  }

  // Reads until `text` has arrived (true) or the deadline passes or the server closes.
  bool WaitFor(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (received_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      char buffer[4096];
      ssize_t n = ::recv(connection_.native_handle(), buffer, sizeof(buffer), 0);
      if (n == 0) return false;
      if (n > 0) received_.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }

  const std::string& received() const { return received_; }
  // True once the server has closed the connection (reads until then, up to the deadline).
  bool WaitForClose() {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < deadline) {
      char buffer[4096];
      ssize_t n = ::recv(connection_.native_handle(), buffer, sizeof(buffer), 0);
      if (n == 0) return true;
      if (n > 0) received_.append(buffer, static_cast<size_t>(n));
    }
    return false;
  }
  void Close() { connection_.Close(); }

 private:
  TestClient connection_;
  std::string received_;
};

TEST_F(ConsoleTest, ServesTheEmbeddedFilesWithTheirContentTypes) {
  struct Case {
    std::string path;
    std::string content_type;
    std::string contains;
  };
  for (const Case& c :
       {Case{"/console", "text/html; charset=utf-8", "Tidewater console"},
        Case{"/console/", "text/html; charset=utf-8", "console.js"},
        Case{"/console/console.js", "text/javascript; charset=utf-8", "EventSource"},
        Case{"/console/console.css", "text/css; charset=utf-8", "font-family"}}) {
    TestResponse response = client_->Get(c.path);
    EXPECT_EQ(response.status, 200u) << c.path;
    EXPECT_EQ(response.header("Content-Type"), c.content_type) << c.path;
    EXPECT_EQ(response.header("Cache-Control"), "no-cache") << c.path;
    EXPECT_NE(response.body.find(c.contains), std::string::npos) << c.path;
  }
}

TEST_F(ConsoleTest, UnknownConsolePathsAnswer404) {
  for (const std::string path :
       {"/console/missing.js", "/console/api/nothing", "/consoles", "/console/console.js/x"}) {
    EXPECT_EQ(client_->Get(path).status, 404u) << path;
  }
}

TEST_F(ConsoleTest, LiveStreamDeliversANewWriteAsAnEvent) {
  CreateTable("orders", true);
  Put("orders", "before", "grey");  // written before the stream is opened: not sent
  EventStreamReader events(server_->port(), "/console/api/stream?table=orders");
  ASSERT_TRUE(events.WaitFor("event: ready")) << events.received();
  EXPECT_NE(events.received().find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(events.received().find("Cache-Control: no-cache"), std::string::npos);

  Put("orders", "o-1", "teal");
  ASSERT_TRUE(events.WaitFor("teal")) << events.received();
  const std::string& text = events.received();
  EXPECT_NE(text.find("event: record\ndata: {\"shard\":"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("eventName":"INSERT")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("Keys":{"pk":{"S":"o-1"}})"), std::string::npos) << text;
  EXPECT_EQ(text.find("before"), std::string::npos) << text;

  // An update carries both images.
  Put("orders", "o-1", "amber");
  ASSERT_TRUE(events.WaitFor("amber")) << events.received();
  EXPECT_NE(events.received().find(R"("eventName":"MODIFY")"), std::string::npos);
  // The connection stays open through the fixture's shutdown, which must not hang on it.
}

TEST_F(ConsoleTest, LiveStreamDeliversABurstLargerThanItsBufferOnceAndInOrder) {
  CreateTable("bulk", true);
  EventStreamReader events(server_->port(), "/console/api/stream?table=bulk");
  ASSERT_TRUE(events.WaitFor("event: ready")) << events.received();
  // 600 KB of changes, more than a live stream buffers (256 KB): they arrive over several
  // writes to the socket, each record once, in sequence order per shard (one key here).
  const std::string filler(20'000, 'x');
  constexpr int kWrites = 30;
  for (int i = 0; i < kWrites; ++i) Put("bulk", "same-key", "v" + std::to_string(i) + filler);
  ASSERT_TRUE(events.WaitFor("\"v" + std::to_string(kWrites - 1) + "x"))
      << events.received().size();
  const std::string& text = events.received();
  size_t previous = 0;
  for (int i = 0; i < kWrites; ++i) {
    const std::string image = R"("NewImage":{"color":{"S":"v)" + std::to_string(i) + "x";
    const size_t at = text.find(image);
    ASSERT_NE(at, std::string::npos) << i;
    EXPECT_EQ(text.find(image, at + 1), std::string::npos) << "record " << i << " sent twice";
    EXPECT_GE(at, previous) << "record " << i << " out of order";
    previous = at;
  }
}

TEST_F(ConsoleTest, LiveStreamEndsWhenTheClientGoesAway) {
  CreateTable("orders", true);
  EventStreamReader events(server_->port(), "/console/api/stream?table=orders");
  ASSERT_TRUE(events.WaitFor("event: ready")) << events.received();
  // The fixture's client and the live stream (the session that handed it over ends).
  EXPECT_EQ(AwaitOpenConnections(2, kDeadline), 2);
  events.Close();
  // Noticed at once (the stream reads from the client), long before an idle comment (15 s)
  // would fail to write.
  EXPECT_EQ(AwaitOpenConnections(1, 10s), 1);
}

TEST_F(ConsoleTest, LiveStreamEndsWhenTheTableIsDeleted) {
  CreateTable("orders", true);
  EventStreamReader events(server_->port(), "/console/api/stream?table=orders");
  ASSERT_TRUE(events.WaitFor("event: ready")) << events.received();
  Ok("DeleteTable", R"({"TableName":"orders"})");
  ASSERT_TRUE(events.WaitForClose()) << events.received();
  EXPECT_NE(events.received().find("event: end"), std::string::npos) << events.received();
}

TEST_F(ConsoleTest, LiveStreamOfAMissingTableOrOneWithoutStreamIsRefused) {
  CreateTable("plain", false);
  TestResponse missing = client_->Get("/console/api/stream?table=nope");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_NE(missing.body.find("ResourceNotFoundException"), std::string::npos);
  TestResponse no_stream = client_->Get("/console/api/stream?table=plain");
  EXPECT_EQ(no_stream.status, 400u);
  EXPECT_NE(no_stream.body.find("ValidationException"), std::string::npos);
  EXPECT_EQ(client_->Get("/console/api/stream").status, 400u);
}

TEST_F(ConsoleTest, HistoryHoldsTheWriteRate) {
  // The sampler's baseline is the server's start (no records, the clock's start time).
  const int64_t start_micros = clock_.NowMicros();
  CreateTable("rates", true);
  for (int i = 0; i < 10; ++i) Put("rates", "k" + std::to_string(i), "red");
  // The sampler waits on the manual clock: an advance past its interval takes a point.
  // Rate x time summed over the points gives back every record written.
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  double records = 0;
  size_t points = 0;
  while (records < 9.5 && std::chrono::steady_clock::now() < deadline) {
    clock_.AdvanceSeconds(5);
    TestResponse response = client_->Get("/console/api/history");
    ASSERT_EQ(response.status, 200u);
    EXPECT_EQ(response.header("Content-Type"), "application/json");
    rapidjson::Document history = ParseJson(response.body);
    ASSERT_TRUE(history.IsObject() && history["points"].IsArray()) << response.body;
    records = 0;
    int64_t previous_micros = start_micros;
    points = history["points"].Size();
    for (const auto& point : history["points"].GetArray()) {
      EXPECT_TRUE(point["kafkaLagRecords"].IsNull());  // no Kafka publisher here
      const int64_t time_micros = point["timeMicros"].GetInt64();
      records += point["writesPerSecond"].GetDouble() *
                 static_cast<double>(time_micros - previous_micros) / 1e6;
      previous_micros = time_micros;
    }
    if (records < 9.5) std::this_thread::sleep_for(10ms);
  }
  EXPECT_NEAR(records, 10.0, 1e-6);
  EXPECT_GE(points, 1u);
}

// The lags of the consumers (their leases in the default lease table) and of the
// replicators writing into the server (their progress reports) enter the history.
TEST_F(ConsoleTest, HistoryHoldsConsumerAndReplicationLag) {
  auto latest_point = [&] {
    rapidjson::Document history = ParseJson(client_->Get("/console/api/history").body);
    rapidjson::Document point;
    if (history.IsObject() && history["points"].IsArray() && !history["points"].Empty()) {
      point.CopyFrom(history["points"][history["points"].Size() - 1], point.GetAllocator());
    }
    return point;
  };
  // The sampler takes a point when the clock passes its interval while it waits; it may
  // not be waiting yet at an advance, so the clock moves on until the point shows.
  auto advance_until = [&](const std::function<bool(const rapidjson::Document&)>& shows) {
    return ::tidewater::testing::WaitFor([&] {
      clock_.AdvanceSeconds(5);
      return shows(latest_point());
    });
  };
  ASSERT_TRUE(advance_until([](const rapidjson::Document& point) { return point.IsObject(); }));
  rapidjson::Document before = latest_point();
  EXPECT_TRUE(before["consumerLagRecords"].IsNull());  // no lease table
  EXPECT_TRUE(before["replicationLagRecords"].IsNull());

  CreateTable("lagged", true);
  for (int i = 0; i < 12; ++i) Put("lagged", "k" + std::to_string(i), "red");
  // A consumer at the first record of the busiest shard: that shard's records behind.
  auto table = engine_->DescribeTable("lagged");
  ASSERT_TRUE(table.ok());
  const ShardDescription* busiest = &table->shards.front();
  for (const ShardDescription& shard : table->shards) {
    if (shard.last_sequence > busiest->last_sequence) busiest = &shard;
  }
  auto leases = streams::MakeEngineLeaseStore(*engine_);
  ASSERT_TRUE(leases.ok());
  streams::Lease lease{.application = "billing",
                       .table = TableName("lagged"),
                       .shard = busiest->index,
                       .checkpoint = SequenceNumber(1)};
  ASSERT_TRUE((*leases)->CreateLease(lease).ok());
  // A replicator 7 records behind its source's shard 0, the oldest waiting 2.5 s.
  v1::ReplicatorProgress progress;
  progress.set_table("lagged");
  progress.set_source_region("eu-source-1");
  progress.set_replicator("tidewater-replicator.eu-source-1.to.us-test-1.lagged");
  v1::ReplicatorShardProgress* shard = progress.add_shards();
  shard->set_shard(0);
  shard->set_next_sequence(5);
  shard->set_last_sequence_known(true);
  shard->set_last_sequence(11);
  shard->set_iterator_age_millis(2500);
  const TestRequest report{
      .headers = {{"Host", "localhost"},
                  {"Content-Type", "application/x-protobuf"},
                  {"X-Amz-Target", "TidewaterReplication_20261126.ReportReplicatorProgress"}},
      .body = progress.SerializeAsString()};
  ASSERT_EQ(client_->Send(report).status, 200u);

  ASSERT_TRUE(advance_until([](const rapidjson::Document& point) {
    return point.IsObject() && point["consumerLagRecords"].IsNumber();
  }));
  rapidjson::Document after = latest_point();
  EXPECT_EQ(after["consumerLagRecords"].GetDouble(),
            static_cast<double>(busiest->last_sequence.value()));
  ASSERT_TRUE(after["replicationLagRecords"].IsNumber());
  EXPECT_EQ(after["replicationLagRecords"].GetDouble(), 7.0);
  EXPECT_EQ(after["replicationLagSeconds"].GetDouble(), 2.5);
}

class ConsoleOffTest : public ServerFixture {
 protected:
  void Customize(ServerOptions& options) override { options.console = false; }
};

TEST_F(ConsoleOffTest, ConsolePathsAnswer404) {
  for (const std::string path :
       {"/console", "/console/console.js", "/console/api/history", "/console/api/stream?table=t"}) {
    EXPECT_EQ(client_->Get(path).status, 404u) << path;
  }
  EXPECT_EQ(client_->Get("/healthz").status, 200u);
}

}  // namespace
}  // namespace tidewater::server::testing
