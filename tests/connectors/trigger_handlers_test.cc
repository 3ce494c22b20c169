// Trigger handlers and destinations outside the process: exec (stdin, stdout, exit status,
// timeout kill of the whole process group), webhook (2xx, errors, timeout), the JSON Lines
// file and the Kafka topic destinations.
#include "tidewater/connectors/trigger_handlers.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <thread>

#include "support/kafka_cluster.h"
#include "support/temp_dir.h"
#include "support/wait_for.h"
#include "tidewater/core/record_codec.h"

namespace tidewater::connectors {
namespace {

using std::chrono::milliseconds;

streams::TriggerInvocation Invocation(std::string event_json) {
  streams::TriggerInvocation invocation;
  invocation.table = TableName("orders");
  invocation.shard = ShardIndex(1);
  invocation.event_json = std::move(event_json);
  invocation.record_count = 1;
  return invocation;
}

streams::TriggerFunction Exec(std::string script, milliseconds timeout = milliseconds(10'000)) {
  auto function = MakeExecFunction({{"/bin/sh", "-c", std::move(script)}, timeout, "test"});
  EXPECT_TRUE(function.ok()) << function.status().ToString();
  return std::move(function).value();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(ExecFunctionTest, EventOnStdinResponseOnStdout) {
  testing::TempDir dir;
  const std::string copy = dir.Sub("event.json");
  auto function =
      Exec("cat > " + copy + "; echo 'to the log' >&2; printf '{\"batchItemFailures\":[]}'");
  auto response = function(Invocation(R"({"Records":[]})"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(*response, R"({"batchItemFailures":[]})");
  EXPECT_EQ(ReadFile(copy), R"({"Records":[]})");
}

TEST(ExecFunctionTest, LargeEventsAndProgramsThatIgnoreStdin) {
  const std::string big(1 << 20, 'x');  // far beyond a pipe's buffer
  auto counted = Exec("wc -c")(Invocation(big));
  ASSERT_TRUE(counted.ok()) << counted.status().ToString();
  EXPECT_EQ(std::stoul(*counted), big.size());
  // Exits without reading: a broken pipe, not a crash of this process.
  auto ignoring = Exec("exit 0")(Invocation(big));
  EXPECT_TRUE(ignoring.ok()) << ignoring.status().ToString();
}

TEST(ExecFunctionTest, FailuresAreFunctionErrors) {
  auto exit_code = Exec("cat >/dev/null; exit 3")(Invocation("{}"));
  ASSERT_FALSE(exit_code.ok());
  EXPECT_NE(exit_code.status().message().find("exited with status 3"), std::string::npos);
  auto signalled = Exec("kill -9 $$")(Invocation("{}"));
  ASSERT_FALSE(signalled.ok());
  EXPECT_NE(signalled.status().message().find("signal 9"), std::string::npos);
  auto missing = MakeExecFunction({{"/nonexistent/handler"}, milliseconds(1000), "test"});
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE((*missing)(Invocation("{}")).ok());
  EXPECT_FALSE(MakeExecFunction({{}, milliseconds(1000), "test"}).ok());
  EXPECT_FALSE(MakeExecFunction({{"true"}, milliseconds(0), "test"}).ok());
}

bool ProcessGone(pid_t pid) {
  // Killed: gone, or a zombie waiting for whoever adopted it.
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return true;
  size_t close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] == 'Z';
}

TEST(ExecFunctionTest, AHangingHandlerAndItsChildrenAreKilledAtTheTimeout) {
  testing::TempDir dir;
  const std::string pid_file = dir.Sub("child.pid");
  auto function = Exec("sleep 30 & echo $! > " + pid_file + "; wait", milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  auto response = function(Invocation("{}"));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.status().message().find("timed out"), std::string::npos);
  EXPECT_LT(took, milliseconds(3000));
  const pid_t child = std::stoi(ReadFile(pid_file));
  EXPECT_TRUE(testing::WaitFor([&] { return ProcessGone(child); }, std::chrono::seconds(1)))
      << "the handler's child survived";
}

TEST(ExecFunctionTest, AHangingHandlerFailsTheBatchInTheTrigger) {
  testing::TempDir dir;
  auto destination = MakeJsonLinesDestination(dir.Sub("failures.jsonl"));
  ASSERT_TRUE(destination.ok());
  streams::TriggerOptions options;
  options.maximum_retry_attempts = 1;
  options.retry_backoff_initial = milliseconds(1);
  options.on_failure = destination->get();
  auto processor = streams::TriggerProcessor::Create(options, Exec("sleep 30", milliseconds(200)));
  ASSERT_TRUE(processor.ok());
  streams::ShardBatch batch;
  batch.table = TableName("orders");
  ChangeRecord record;
  record.set_sequence(4);
  record.set_event(v1::INSERT);
  ToProto(Item{{"pk", AttributeValue::S("a")}}, record.mutable_keys());
  batch.records.push_back(record);
  ASSERT_TRUE((*processor)->Process(batch).ok());
  std::string failures = ReadFile(dir.Sub("failures.jsonl"));
  EXPECT_NE(failures.find("\"approximateInvokeCount\":2"), std::string::npos) << failures;
  EXPECT_NE(failures.find("\"functionError\":\"Unhandled\""), std::string::npos) << failures;
}

// A one-connection-at-a-time HTTP server on loopback that answers with `status` and `body`
// after `delay`, and remembers the last request.
class TestHttpServer {
 public:
  TestHttpServer(unsigned status, std::string body, milliseconds delay = milliseconds(0))
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        status_(status),
        body_(std::move(body)),
        delay_(delay) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestHttpServer() {
    stopping_ = true;
    boost::system::error_code ignored;
    boost::asio::ip::tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ignored);
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hook";
  }
  std::string last_body, last_content_type, last_target;

 private:
  void Serve() {
    namespace http = boost::beast::http;
    while (!stopping_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code error;
      acceptor_.accept(socket, error);
      if (error || stopping_) return;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(socket, buffer, request, error);
      if (error) continue;
      last_body = request.body();
      last_target = std::string(request.target());
      last_content_type = std::string(request[http::field::content_type]);
      std::this_thread::sleep_for(delay_);
      http::response<http::string_body> response{static_cast<http::status>(status_), 11};
      response.body() = body_;
      response.prepare_payload();
      http::write(socket, response, error);
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned status_;
  std::string body_;
  milliseconds delay_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

TEST(WebhookFunctionTest, PostsTheEventAndReturnsTheBody) {
  TestHttpServer server(200, R"({"batchItemFailures":[{"itemIdentifier":"7"}]})");
  auto function = MakeWebhookFunction({server.url(), milliseconds(5000), {}});
  ASSERT_TRUE(function.ok());
  auto response = (*function)(Invocation(R"({"Records":[1]})"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(*response, R"({"batchItemFailures":[{"itemIdentifier":"7"}]})");
  EXPECT_EQ(server.last_body, R"({"Records":[1]})");
  EXPECT_EQ(server.last_target, "/hook");
  EXPECT_EQ(server.last_content_type, "application/json");
}

TEST(WebhookFunctionTest, NonSuccessStatusTimeoutsAndRefusalsAreFunctionErrors) {
  {
    TestHttpServer server(500, "broken");
    auto function = MakeWebhookFunction({server.url(), milliseconds(5000), {}});
    auto response = (*function)(Invocation("{}"));
    ASSERT_FALSE(response.ok());
    EXPECT_NE(response.status().message().find("answered 500"), std::string::npos);
  }
  {
    TestHttpServer server(200, "", milliseconds(1500));
    auto function = MakeWebhookFunction({server.url(), milliseconds(200), {}});
    const auto started = std::chrono::steady_clock::now();
    auto response = (*function)(Invocation("{}"));
    ASSERT_FALSE(response.ok());
    EXPECT_NE(response.status().message().find("timed out"), std::string::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(1000));
  }
  std::string refused_url;
  {
    TestHttpServer server(200, "");
    refused_url = server.url();
  }
  auto refused = MakeWebhookFunction({refused_url, milliseconds(2000), {}});
  EXPECT_FALSE((*refused)(Invocation("{}")).ok());
  for (const char* bad : {"https://example.com/", "ftp://x", "http://", "http://host:0/",
                          "http://host:99999/", "http://host:port/"}) {
    EXPECT_FALSE(MakeWebhookFunction({bad, milliseconds(1000), {}}).ok()) << bad;
  }
}

TEST(FailureDestinationTest, JsonLinesFileAppendsOneRecordPerLine) {
  testing::TempDir dir;
  const std::string path = dir.Sub("failures.jsonl");
  {
    auto destination = MakeJsonLinesDestination(path);
    ASSERT_TRUE(destination.ok());
    ASSERT_TRUE((*destination)->Send(R"({"a":1})").ok());
  }
  auto reopened = MakeJsonLinesDestination(path);
  ASSERT_TRUE(reopened.ok());
  ASSERT_TRUE((*reopened)->Send(R"({"b":2})").ok());
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_FALSE(MakeJsonLinesDestination(dir.Sub("missing/dir/file")).ok());
}

TEST(FailureDestinationTest, KafkaTopicReceivesEachRecordBeforeSendReturns) {
  testing::MockKafkaCluster cluster(1);
  cluster.CreateTopic("trigger-failures", 1, 1);
  auto destination = MakeKafkaDestination({cluster.bootstraps(), "trigger-failures", {}});
  ASSERT_TRUE(destination.ok()) << destination.status().ToString();
  ASSERT_TRUE((*destination)->Send(R"({"n":1})").ok());
  ASSERT_TRUE((*destination)->Send(R"({"n":2})").ok());
  auto messages = testing::ReadTopic(cluster.bootstraps(), "trigger-failures", 1);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].value, R"({"n":1})");
  EXPECT_EQ(messages[1].value, R"({"n":2})");
  EXPECT_FALSE(MakeKafkaDestination({"", "t", {}}).ok());
  EXPECT_FALSE(MakeKafkaDestination({cluster.bootstraps(), "t", {{"no.such.property", "1"}}}).ok());
}

}  // namespace
}  // namespace tidewater::connectors
