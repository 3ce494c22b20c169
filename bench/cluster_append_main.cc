// Cluster mode's added write latency (issue 17): an owner's ShardLog::Append of one entry
// (produce with acks=all, then read back through the validity rule), and a PutItem of an
// engine in cluster mode (the same append inside its commit, then the local write),
// against the raw librdkafka round trip they are built on (produce with the same settings,
// wait for the acknowledgement), one at a time, on the same mock cluster, in the same run;
// and the same PutItem on the embedded engine for reference. Target: p99 at most 1.5x the
// raw round trip's.
//
//   tw_cluster_append_bench [--count N] [--value-bytes B]
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "percentile.h"
#include "support/kafka_cluster.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/cluster/cluster_commit_log.h"
#include "tidewater/cluster/shard_log.h"
#include "tidewater/core/engine.h"

namespace {

using Clock = std::chrono::steady_clock;
using tidewater::bench::Percentile;

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

void Report(const char* name, const std::vector<double>& micros) {
  std::printf("%-28s p50 %8.0f us   p99 %8.0f us   (%zu writes)\n", name, Percentile(micros, 0.5),
              Percentile(micros, 0.99), micros.size());
}

// The raw round trip: the producer settings ShardLog uses, one message at a time.
std::vector<double> RawProduce(const std::string& brokers, const std::string& topic, int count,
                               const std::string& value) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, setting] : std::vector<std::pair<const char*, const char*>>{
           {"bootstrap.servers", brokers.c_str()},
           {"enable.idempotence", "true"},
           {"acks", "all"},
           {"linger.ms", "0"},
           {"max.in.flight.requests.per.connection", "1"}}) {
    rd_kafka_conf_set(conf, name, setting, error, sizeof(error));
  }
  static int delivered;
  rd_kafka_conf_set_dr_msg_cb(conf,
                              [](rd_kafka_t*, const rd_kafka_message_t*, void*) { ++delivered; });
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  std::vector<double> micros;
  for (int i = -50; i < count; ++i) {  // the first 50 warm up (metadata, producer id)
    delivered = 0;
    const auto start = Clock::now();
    rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    while (delivered == 0) rd_kafka_poll(producer, 1);
    if (i >= 0) micros.push_back(MicrosSince(start));
  }
  rd_kafka_destroy(producer);
  return micros;
}

std::vector<double> ShardLogAppend(const std::string& brokers, const std::string& topic, int count,
                                   const std::string& value) {
  tidewater::cluster::ShardLogOptions options;
  options.brokers = brokers;
  options.node_id = "bench";
  options.advertised = "127.0.0.1:8000";
  options.topic = topic;
  options.message_key = "1/0";
  auto log = tidewater::cluster::ShardLog::Open(
      options,
      [](int64_t, const tidewater::v1::ShardLogEntry&) { return tidewater::Status::Ok(); });
  if (!log.ok() || !(*log)->TakeOver().ok()) {
    std::fprintf(stderr, "cannot take the shard over\n");
    return {};
  }
  std::vector<double> micros;
  for (int i = -50; i < count; ++i) {
    std::vector<tidewater::v1::ShardLogEntry> entries(1);
    entries[0].mutable_change()->mutable_record()->mutable_new_image()->add_attributes()->set_name(
        value);
    const auto start = Clock::now();
    tidewater::Status status = (*log)->Append(entries);
    if (!status.ok()) {
      std::fprintf(stderr, "append: %s\n", status.ToString().c_str());
      return {};
    }
    if (i >= 0) micros.push_back(MicrosSince(start));
  }
  return micros;
}

// PutItem of one item of `value` at a time on an engine in `dir`, in cluster mode over
// `brokers` when given (the table's shard taken over first), else embedded.
std::vector<double> PutItems(const std::string& dir, const std::string& brokers, int count,
                             const std::string& value) {
  using namespace tidewater;
  std::unique_ptr<cluster::ClusterCommitLog> log;
  EngineOptions options = testing::TestEngineOptions(dir);
  if (!brokers.empty()) {
    log = std::make_unique<cluster::ClusterCommitLog>(
        cluster::ClusterCommitLogOptions{brokers, "bench", "bench", "127.0.0.1:8000", {}});
    options.replicated_log = log.get();
  }
  auto engine = Engine::Open(options);
  CreateTableRequest request;
  request.name = "bench";
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = 1;
  // In cluster mode, creating the table takes its shard over (ReplicatedCommitLog::OpenTable).
  if (!engine.ok()) {
    std::fprintf(stderr, "cannot open the engine: %s\n", engine.status().ToString().c_str());
    return {};
  }
  if (auto created = (*engine)->CreateTable(request); !created.ok()) {
    std::fprintf(stderr, "cannot create the table: %s\n", created.status().ToString().c_str());
    return {};
  }
  std::vector<double> micros;
  for (int i = -50; i < count; ++i) {
    Item item = {{"pk", AttributeValue::S("k" + std::to_string(i + 50))},
                 {"value", AttributeValue::S(value)}};
    const auto start = Clock::now();
    Status status = (*engine)->PutItem("bench", std::move(item), {}, {}).status();
    if (!status.ok()) {
      std::fprintf(stderr, "put: %s\n", status.ToString().c_str());
      return {};
    }
    if (i >= 0) micros.push_back(MicrosSince(start));
  }
  engine->reset();  // before the log it writes through
  return micros;
}

}  // namespace

int main(int argc, char** argv) {
  int count = 2000;
  size_t value_bytes = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--count") == 0) count = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--value-bytes") == 0)
      value_bytes = std::strtoul(argv[i + 1], nullptr, 10);
  }
  tidewater::testing::MockKafkaCluster kafka(3);
  kafka.CreateTopic("raw", 1);
  kafka.CreateTopic("shard", 1);
  kafka.CreateTopic(tidewater::cluster::ShardLogTopic("bench", 1), 1);
  const std::string value(value_bytes, 'x');
  tidewater::testing::TempDir dir;
  const std::vector<double> raw = RawProduce(kafka.bootstraps(), "raw", count, value);
  const std::vector<double> append = ShardLogAppend(kafka.bootstraps(), "shard", count, value);
  const std::vector<double> cluster_put =
      PutItems(dir.path() + "/cluster", kafka.bootstraps(), count, value);
  const std::vector<double> embedded_put = PutItems(dir.path() + "/embedded", "", count, value);
  if (raw.empty() || append.empty() || cluster_put.empty() || embedded_put.empty()) return 1;
  Report("raw produce -> ack", raw);
  Report("ShardLog::Append", append);
  Report("PutItem, cluster mode", cluster_put);
  Report("PutItem, embedded", embedded_put);
  std::printf("ratio (Append / raw):  p50 %.2fx   p99 %.2fx   (target p99 <= 1.5x)\n",
              Percentile(append, 0.5) / Percentile(raw, 0.5),
              Percentile(append, 0.99) / Percentile(raw, 0.99));
  std::printf("ratio (PutItem in cluster mode / raw):  p50 %.2fx   p99 %.2fx\n",
              Percentile(cluster_put, 0.5) / Percentile(raw, 0.5),
              Percentile(cluster_put, 0.99) / Percentile(raw, 0.99));
  return 0;
}
