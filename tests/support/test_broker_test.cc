// tidewater-test-broker as a process, through tests/support/test_broker_process.h: Kafka
// clients in this process produce to and consume from its mock cluster while the control
// commands inject faults.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/kafka_cluster.h"
#include "support/temp_dir.h"
#include "support/test_broker_process.h"
#include "support/wait_for.h"

namespace tidewater::testing {
namespace {

using std::chrono::milliseconds;

// A librdkafka producer (acks=all) over `bootstraps`; Send waits for the delivery report.
class Producer {
 public:
  explicit Producer(const std::string& bootstraps, int message_timeout_ms = 10000) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), error, sizeof(error));
    rd_kafka_conf_set(conf, "acks", "all", error, sizeof(error));
    rd_kafka_conf_set(conf, "linger.ms", "0", error, sizeof(error));
    rd_kafka_conf_set(conf, "message.timeout.ms", std::to_string(message_timeout_ms).c_str(), error,
                      sizeof(error));
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* message, void*) {
      *static_cast<rd_kafka_resp_err_t*>(message->_private) = message->err;
    });
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  }
  ~Producer() {
    if (handle_ != nullptr) rd_kafka_destroy(handle_);
  }
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // The delivery result of one message to `topic` `partition`.
  rd_kafka_resp_err_t Send(const std::string& topic, int32_t partition, const std::string& key,
                           const std::string& value) {
    if (handle_ == nullptr) return RD_KAFKA_RESP_ERR__INVALID_ARG;
    rd_kafka_resp_err_t delivered = RD_KAFKA_RESP_ERR__IN_PROGRESS;
    const rd_kafka_resp_err_t queued = rd_kafka_producev(
        handle_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&delivered), RD_KAFKA_V_END);
    if (queued != RD_KAFKA_RESP_ERR_NO_ERROR) return queued;
    while (delivered == RD_KAFKA_RESP_ERR__IN_PROGRESS) rd_kafka_poll(handle_, 50);
    return delivered;
  }

  rd_kafka_t* handle() const { return handle_; }

 private:
  rd_kafka_t* handle_ = nullptr;
};

struct ClusterView {
  int brokers = 0;
  std::map<std::string, std::vector<int32_t>> leaders;  // topic -> leader of each partition
  std::map<std::string, std::vector<int>> replicas;     // topic -> replica count per partition
};

// What the brokers report (all topics: asking for one by name would create it).
std::optional<ClusterView> Describe(Producer& client) {
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(client.handle(), 1, nullptr, &metadata, 5000) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  ClusterView view;
  view.brokers = metadata->broker_cnt;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& topic = metadata->topics[t];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    std::vector<int32_t> leaders(static_cast<size_t>(topic.partition_cnt));
    std::vector<int> replicas(static_cast<size_t>(topic.partition_cnt));
    for (int p = 0; p < topic.partition_cnt; ++p) {
      const rd_kafka_metadata_partition_t& partition = topic.partitions[p];
      leaders[static_cast<size_t>(partition.id)] = partition.leader;
      replicas[static_cast<size_t>(partition.id)] = partition.replica_cnt;
    }
    view.leaders[topic.topic] = std::move(leaders);
    view.replicas[topic.topic] = std::move(replicas);
  }
  rd_kafka_metadata_destroy(metadata);
  return view;
}

std::vector<std::string> Values(const std::vector<ConsumedMessage>& messages, int32_t partition) {
  std::vector<std::string> values;
  for (const ConsumedMessage& m : messages) {
    if (m.partition == partition) values.push_back(m.value);
  }
  return values;
}

TEST(TestBrokerTest, ProducesAndConsumesEveryPartitionOfAPreCreatedTopic) {
  TestBrokerProcess broker;
  ASSERT_EQ(broker.Start({"--brokers", "3", "--topic", "orders:4"}), "");
  EXPECT_EQ(std::count(broker.bootstraps().begin(), broker.bootstraps().end(), ','), 2)
      << broker.bootstraps();
  EXPECT_TRUE(broker.bootstraps().starts_with("127.0.0.1:")) << broker.bootstraps();

  Producer producer(broker.bootstraps());
  const std::optional<ClusterView> view = Describe(producer);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->brokers, 3);
  ASSERT_EQ(view->leaders.count("orders"), 1u);
  EXPECT_EQ(view->leaders.at("orders").size(), 4u);
  EXPECT_EQ(view->replicas.at("orders"), (std::vector<int>{3, 3, 3, 3}));

  for (int32_t p = 0; p < 4; ++p) {
    for (int i = 0; i < 3; ++i) {
      const std::string value = "p" + std::to_string(p) + "-" + std::to_string(i);
      ASSERT_EQ(producer.Send("orders", p, "k", value), RD_KAFKA_RESP_ERR_NO_ERROR) << value;
    }
  }
  const std::vector<ConsumedMessage> messages =
      ReadTopic(broker.bootstraps(), "orders", 4, std::chrono::seconds(10));
  ASSERT_EQ(messages.size(), 12u);
  for (int32_t p = 0; p < 4; ++p) {
    const std::string prefix = "p" + std::to_string(p) + "-";
    EXPECT_EQ(Values(messages, p),
              (std::vector<std::string>{prefix + "0", prefix + "1", prefix + "2"}));
  }
}

TEST(TestBrokerTest, CreateTopicCommandMakesAUsableTopic) {
  TestBrokerProcess broker;
  ASSERT_EQ(broker.Start({"--brokers", "2"}), "");
  ASSERT_TRUE(broker.Command("create-topic events 2")) << broker.last_reply();
  EXPECT_FALSE(broker.Command("create-topic events 2"));
  EXPECT_EQ(broker.last_reply(), "error Broker: Topic already exists");
  EXPECT_FALSE(broker.Command("create-topic wide 1 3")) << "replication above the brokers";

  Producer producer(broker.bootstraps());
  const std::optional<ClusterView> view = Describe(producer);
  ASSERT_TRUE(view.has_value());
  ASSERT_EQ(view->replicas.count("events"), 1u);
  EXPECT_EQ(view->replicas.at("events"), (std::vector<int>{2, 2})) << "min(3, brokers)";
  EXPECT_EQ(view->replicas.count("wide"), 0u);

  ASSERT_EQ(producer.Send("events", 0, "a", "first"), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(producer.Send("events", 1, "b", "second"), RD_KAFKA_RESP_ERR_NO_ERROR);
  const std::vector<ConsumedMessage> messages =
      ReadTopic(broker.bootstraps(), "events", 2, std::chrono::seconds(10));
  EXPECT_EQ(Values(messages, 0), std::vector<std::string>{"first"});
  EXPECT_EQ(Values(messages, 1), std::vector<std::string>{"second"});
}

TEST(TestBrokerTest, MovingLeadershipOffADownedBrokerRestoresProduce) {
  TestBrokerProcess broker;
  ASSERT_EQ(broker.Start({"--topic", "moves:1"}), "");
  ASSERT_TRUE(broker.Command("leader moves 0 1")) << broker.last_reply();
  ASSERT_TRUE(broker.Command("broker-down 1")) << broker.last_reply();
  {
    Producer stalled(broker.bootstraps(), /*message_timeout_ms=*/1000);
    EXPECT_NE(stalled.Send("moves", 0, "k", "while-down"), RD_KAFKA_RESP_ERR_NO_ERROR)
        << "the partition's only leader is down";
  }
  ASSERT_TRUE(broker.Command("leader moves 0 2")) << broker.last_reply();
  Producer producer(broker.bootstraps());
  const std::optional<ClusterView> view = Describe(producer);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->leaders.at("moves"), std::vector<int32_t>{2});
  ASSERT_EQ(producer.Send("moves", 0, "k", "after-move"), RD_KAFKA_RESP_ERR_NO_ERROR);

  ASSERT_TRUE(broker.Command("broker-up 1")) << broker.last_reply();
  const std::vector<ConsumedMessage> messages =
      ReadTopic(broker.bootstraps(), "moves", 1, std::chrono::seconds(10));
  EXPECT_EQ(Values(messages, 0), std::vector<std::string>{"after-move"});
}

TEST(TestBrokerTest, InjectedRequestErrorsFailProducesUntilSpentOrCleared) {
  TestBrokerProcess broker;
  ASSERT_EQ(broker.Start({"--topic", "faults:1"}), "");
  Producer producer(broker.bootstraps());
  ASSERT_EQ(producer.Send("faults", 0, "k", "warm-up"), RD_KAFKA_RESP_ERR_NO_ERROR);

  // 10 = MESSAGE_TOO_LARGE: not retried, so the one error fails one message.
  ASSERT_TRUE(broker.Command("request-errors 0 10")) << broker.last_reply();
  EXPECT_EQ(producer.Send("faults", 0, "k", "refused"), RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  EXPECT_EQ(producer.Send("faults", 0, "k", "accepted"), RD_KAFKA_RESP_ERR_NO_ERROR);

  ASSERT_TRUE(broker.Command("request-errors 0 10 5")) << broker.last_reply();
  ASSERT_TRUE(broker.Command("clear-request-errors 0")) << broker.last_reply();
  EXPECT_EQ(producer.Send("faults", 0, "k", "after-clear"), RD_KAFKA_RESP_ERR_NO_ERROR);

  const std::vector<ConsumedMessage> messages =
      ReadTopic(broker.bootstraps(), "faults", 1, std::chrono::seconds(10));
  EXPECT_EQ(Values(messages, 0), (std::vector<std::string>{"warm-up", "accepted", "after-clear"}));
}

TEST(TestBrokerTest, RttDelaysTheBrokersAnswers) {
  TestBrokerProcess broker;
  ASSERT_EQ(broker.Start({"--topic", "slow:1"}), "");
  ASSERT_TRUE(broker.Command("leader slow 0 1")) << broker.last_reply();
  Producer producer(broker.bootstraps());
  ASSERT_EQ(producer.Send("slow", 0, "k", "connect"), RD_KAFKA_RESP_ERR_NO_ERROR);

  ASSERT_TRUE(broker.Command("rtt 1 600")) << broker.last_reply();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(producer.Send("slow", 0, "k", "delayed"), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(550));

  ASSERT_TRUE(broker.Command("rtt 1 0")) << broker.last_reply();
  EXPECT_TRUE(broker.Command("coordinator group some-group 2")) << broker.last_reply();
  EXPECT_TRUE(broker.Command("coordinator transaction some-txn 3")) << broker.last_reply();
}

TEST(TestBrokerTest, MalformedCommandsGetErrorsAndTheBrokerKeepsServing) {
  TestBrokerProcess broker;
  ASSERT_EQ(broker.Start({"--topic", "kept:1"}), "");
  const std::vector<std::string> malformed = {
      "frobnicate",
      "create-topic",
      "create-topic x 0",
      "create-topic x many",
      "create-topic bad/name 1",
      "create-topic x 1 1 1",
      "broker-down",
      "broker-down 0",
      "broker-down 4",
      "broker-down one",
      "broker-up 1 2",
      "leader nosuch 0 1",
      "leader kept 1 1",
      "leader kept 0 9",
      "leader kept -1 1",
      "request-errors",
      "request-errors -1 29",
      "request-errors 0 0",
      "request-errors 0 29 0",
      "request-errors 0 99999",
      "clear-request-errors x",
      "rtt 1",
      "rtt 9 5",
      "rtt 1 -5",
      "coordinator broker k 1",
      "coordinator group k",
      std::string(100000, 'z'),
  };
  for (const std::string& command : malformed) {
    EXPECT_FALSE(broker.Command(command)) << command.substr(0, 40);
    EXPECT_TRUE(broker.last_reply().starts_with("error ")) << broker.last_reply().substr(0, 200);
  }
  ASSERT_TRUE(broker.process().running());

  Producer producer(broker.bootstraps());
  const std::optional<ClusterView> view = Describe(producer);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->leaders.count("nosuch"), 0u) << "a refused leader move created the topic";
  EXPECT_EQ(view->leaders.count("x"), 0u);
  ASSERT_EQ(producer.Send("kept", 0, "k", "still-serving"), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_TRUE(broker.Command("create-topic later 1")) << broker.last_reply();
}

TEST(TestBrokerTest, SigtermAndSigintExitZero) {
  for (const int signal : {SIGTERM, SIGINT}) {
    TestBrokerProcess broker;
    ASSERT_EQ(broker.Start(), "");
    const int status = broker.Stop(signal);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "signal " << signal << ", wait status " << status;
  }
}

TEST(TestBrokerTest, StdinEndOfFileExitsOnlyWhenAskedTo) {
  TestBrokerProcess driven;
  ASSERT_EQ(driven.Start(), "");
  driven.process().CloseStdin();
  EXPECT_TRUE(WaitFor([&] { return driven.process().Exited(); }, std::chrono::seconds(5)))
      << "--exit-on-stdin-eof: ends with its stdin";
  const int driven_status = driven.process().Wait();
  EXPECT_TRUE(WIFEXITED(driven_status) && WEXITSTATUS(driven_status) == 0) << driven_status;

  // Without the flag (a background job with stdin from /dev/null): keeps serving.
  ChildProcess background(TW_TEST_BROKER, {"--topic", "bg:1"}, {}, ChildStdin::kWritable);
  const std::optional<std::string> bootstraps =
      background.WaitForLog("bootstrap\\.servers=([^\n]+)\n", std::chrono::seconds(10));
  ASSERT_TRUE(bootstraps.has_value()) << background.log();
  background.CloseStdin();
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_FALSE(background.Exited()) << background.log();
  Producer producer(*bootstraps);
  EXPECT_EQ(producer.Send("bg", 0, "k", "v"), RD_KAFKA_RESP_ERR_NO_ERROR);
  background.Signal(SIGTERM);
  const int status = background.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(TestBrokerTest, CommandLine) {
  TempDir dir;
  const std::string port_file = dir.Sub("bootstrap");
  TestBrokerProcess broker;
  ASSERT_EQ(broker.Start({"--brokers", "1", "--listen-port-file", port_file}), "");
  std::ifstream in(port_file);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), broker.bootstraps() + "\n");
  EXPECT_EQ(std::count(broker.bootstraps().begin(), broker.bootstraps().end(), ','), 0);

  ChildProcess help(TW_TEST_BROKER, {"--help"});
  EXPECT_EQ(help.Wait(), 0);
  EXPECT_NE(help.log().find("usage: tidewater-test-broker"), std::string::npos) << help.log();

  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--brokers", "0"},
                                             {"--brokers"},
                                             {"--topic", "t"},
                                             {"--topic", "t:0"},
                                             {"--brokers", "2", "--topic", "t:1:3"},
                                             {"--bogus"}}) {
    ChildProcess refused(TW_TEST_BROKER, args);
    const int status = refused.Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2)
        << args[0] << " " << status << " " << refused.log();
    EXPECT_EQ(refused.log().find("bootstrap.servers=127"), std::string::npos);
  }
}

}  // namespace
}  // namespace tidewater::testing
