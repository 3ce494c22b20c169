// The Kafka publisher against raw librdkafka, in one run, on librdkafka's mock cluster
// (3 brokers on loopback, in this process).
//
//  1. Throughput: a raw producer sends N messages of the publisher's message sizes (same
//     key, header and value sizes; same producer settings: idempotent, acks=all, gap-less,
//     linger.ms=5; like the publisher it uses a topic handle, does not copy values and
//     sends runs of 1000 messages per partition), against the publisher draining a
//     backlog of N change records of about 1 KB from the change log. Prints messages/s,
//     CPU per message and the ratio.
//  2. Latency: at a steady rate, raw produce() -> consumer receipt against Tidewater's
//     write acknowledgement -> consumer receipt (the same consumer settings), p50 and p99
//     and the ratio: at linger.ms=5, at linger.ms=0, and at linger.ms=0 with a consumer
//     fetch.wait.max.ms of 1 (the low-latency setting end to end).
//
//   build/bench/tw_kafka_publish_bench [--records N] [--rate PER_SECOND] [--seconds S]
// (--seconds 0: throughput only)
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/kafka_cluster.h"
#include "tidewater/connectors/kafka_publisher.h"
#include "tidewater/core/engine.h"

namespace {

using namespace tidewater;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr uint32_t kShards = 4;
constexpr size_t kPadBytes = 900;  // makes a change record of about 1 KB
constexpr size_t kWarmup = 64;

struct Args {
  size_t records = 1'000'000;
  int rate = 2000;  // writes per second in the latency runs
  double seconds = 5;
};

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU time of the whole process (all threads: ours, librdkafka's, the mock brokers').
double ProcessCpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// CPU time of RocksDB's background threads ("rocksdb:low", "rocksdb:high", alive as long
// as the engine): they flush and compact the backlog's writes whichever phase they happen
// to run in, and neither the raw producer nor the publisher causes that work.
double RocksDbBackgroundCpuSeconds() {
  double ticks = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::FILE* file = std::fopen((task.path() / "stat").c_str(), "r");
    if (file == nullptr) continue;  // the thread ended meanwhile
    char line[1024];
    const size_t size = std::fread(line, 1, sizeof(line) - 1, file);
    std::fclose(file);
    line[size] = '\0';
    // pid (comm) state ... : comm may hold spaces, so fields count from its ')'.
    const char* open = std::strchr(line, '(');
    const char* close = std::strrchr(line, ')');
    if (open == nullptr || close == nullptr) continue;
    if (!std::string_view(open + 1, static_cast<size_t>(close - open - 1))
             .starts_with("rocksdb:")) {
      continue;
    }
    unsigned long utime = 0;
    unsigned long stime = 0;
    if (std::sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                    &stime) == 2) {
      ticks += static_cast<double>(utime + stime);
    }
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The process's CPU time but RocksDB's background threads'.
double ForegroundCpuSeconds() { return ProcessCpuSeconds() - RocksDbBackgroundCpuSeconds(); }

void Die(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(1);
}

rd_kafka_t* NewClient(rd_kafka_type_t type,
                      const std::vector<std::pair<std::string, std::string>>& properties,
                      rd_kafka_conf_t* conf = rd_kafka_conf_new()) {
  char error[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      Die(error);
    }
  }
  rd_kafka_t* client = rd_kafka_new(type, conf, error, sizeof(error));
  if (client == nullptr) Die(error);
  return client;
}

// The raw producer: the settings the publisher uses.
rd_kafka_t* RawProducer(const std::string& bootstraps, int linger_ms, rd_kafka_conf_t* conf) {
  return NewClient(RD_KAFKA_PRODUCER,
                   {{"bootstrap.servers", bootstraps},
                    {"enable.idempotence", "true"},
                    {"acks", "all"},
                    {"enable.gapless.guarantee", "true"},
                    {"message.timeout.ms", "0"},
                    {"linger.ms", std::to_string(linger_ms)},
                    {"queue.buffering.max.messages", std::to_string(100'000 + 1024)}},
                   conf);
}

// The consumer both latency runs read with.
rd_kafka_t* LatencyConsumer(const std::string& bootstraps, const std::string& topic,
                            int fetch_wait_ms) {
  rd_kafka_t* consumer =
      NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstraps},
                                    {"group.id", "bench-" + topic},
                                    {"enable.auto.commit", "false"},
                                    {"fetch.wait.max.ms", std::to_string(fetch_wait_ms)}});
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(kShards);
  for (uint32_t p = 0; p < kShards; ++p) {
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), static_cast<int32_t>(p))->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  return consumer;
}

Item BenchItem(const std::string& key, const std::string& token, std::mt19937& rng) {
  std::string pad(kPadBytes, ' ');
  for (char& c : pad) c = static_cast<char>('a' + rng() % 26);  // not compressible to nothing
  return Item{{"pk", AttributeValue::S(key)},
              {"tok", AttributeValue::S(token)},
              {"pad", AttributeValue::S(std::move(pad))}};
}

Status CreateTable(Engine& engine, const std::string& name) {
  CreateTableRequest request;
  request.name = name;
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewImage};
  request.shard_count = kShards;
  return engine.CreateTable(request).status();
}

// --- Throughput ---

struct MessageShape {
  size_t key = 0;
  size_t value = 0;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A throughput run is timed between the 10% and the 90% acknowledgement marks: start-up
// (metadata, producer id, the first batches waiting for both) and the tail count for
// neither side.
struct Throughput {
  double messages_per_second = 0;
  double startup_ms = 0;  // from the start to the 10% mark
};

class Marks {
 public:
  explicit Marks(size_t count) : low_(count / 10), high_(count - count / 10) {}
  // Called with the number acknowledged so far.
  void Update(size_t acknowledged) {
    if (acknowledged >= low_ && low_at_ == SteadyClock::time_point()) {
      low_at_ = SteadyClock::now();
    }
    if (acknowledged >= high_ && high_at_ == SteadyClock::time_point()) {
      high_at_ = SteadyClock::now();
    }
  }
  bool done() const { return high_at_ != SteadyClock::time_point(); }
  Throughput Result(SteadyClock::time_point start) const {
    return {static_cast<double>(high_ - low_) / Seconds(high_at_ - low_at_),
            Seconds(low_at_ - start) * 1000};
  }

 private:
  size_t low_;
  size_t high_;
  SteadyClock::time_point low_at_;
  SteadyClock::time_point high_at_;
};

Throughput RawThroughput(const std::string& bootstraps, const MessageShape& shape, size_t count) {
  static std::atomic<size_t> delivered;
  static Marks* marks;
  Marks run_marks(count);
  marks = &run_marks;
  delivered = 0;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    if (m->err) Die(std::string("raw delivery failed: ") + rd_kafka_err2str(m->err));
    marks->Update(delivered.fetch_add(1, std::memory_order_relaxed) + 1);
  });
  const auto start = SteadyClock::now();
  rd_kafka_t* producer = RawProducer(bootstraps, 5, conf);
  // As the publisher: a topic handle, one value for all messages and not copied, runs of
  // 1000 messages per partition.
  rd_kafka_topic_t* topic = rd_kafka_topic_new(producer, "raw", nullptr);
  const std::string value(shape.value, 'v');
  for (size_t i = 0; i < count; ++i) {
    std::string key = std::to_string(i);
    key.resize(shape.key, 'k');
    rd_kafka_headers_t* headers = rd_kafka_headers_new(shape.headers.size());
    for (const auto& [name, text] : shape.headers) {
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), text.data(),
                          static_cast<ssize_t>(text.size()));
    }
    while (true) {
      rd_kafka_resp_err_t error =
          rd_kafka_producev(producer, RD_KAFKA_V_RKT(topic),
                            RD_KAFKA_V_PARTITION(static_cast<int32_t>(i / 1000 % kShards)),
                            RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
      if (error == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) Die(rd_kafka_err2str(error));
      rd_kafka_poll(producer, 1);
    }
    if (i % 1000 == 0) rd_kafka_poll(producer, 0);  // delivery reports, in bulk
  }
  while (delivered.load() < count) rd_kafka_poll(producer, 10);
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(producer);
  return run_marks.Result(start);
}

// Starts a publisher on the backlog table and waits until all of it is acknowledged.
Throughput PublisherThroughput(Engine& engine, const std::string& bootstraps, size_t count) {
  const auto published = [](const connectors::KafkaPublisher& publisher) {
    size_t n = 0;
    for (const auto& state : publisher.Snapshot()) {
      for (const auto& shard : state.shards) n += shard.published_next.value() - 1;
    }
    return n;
  };
  Marks marks(count);
  connectors::KafkaPublisherOptions options;
  options.brokers = bootstraps;
  const auto start = SteadyClock::now();
  auto publisher = connectors::KafkaPublisher::Start(engine, options);
  if (!publisher.ok()) Die(publisher.status().ToString());
  while (!marks.done()) {
    marks.Update(published(**publisher));
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  while (published(**publisher) < count) std::this_thread::sleep_for(milliseconds(1));
  (*publisher)->Stop();
  return marks.Result(start);
}

// --- Latency ---

// The producer's linger (raw producer and publisher alike) and the consumer's
// fetch.wait.max.ms (the same consumer for both).
struct LatencySetting {
  int linger_ms;
  int fetch_wait_ms;
  const char* name;
};

struct Percentiles {
  double p50_ms = 0;
  double p99_ms = 0;
  size_t samples = 0;
};

Percentiles Summarize(std::vector<double> latencies_ms) {
  std::sort(latencies_ms.begin(), latencies_ms.end());
  Percentiles p;
  p.samples = latencies_ms.size();
  if (latencies_ms.empty()) return p;
  p.p50_ms = latencies_ms[latencies_ms.size() / 2];
  p.p99_ms = latencies_ms[latencies_ms.size() * 99 / 100];
  return p;
}

// Sends `count` events at args.rate per second with `send(i)`, while a consumer of `topic`
// reports each received event's index through `index_of`. Returns receipt - sent_at.
// Warm-up events (indices count .. count + kWarmup - 1) go first, untimed: the producer
// has its id and metadata and the consumer is at the end of the topic when timing starts.
template <typename Send, typename IndexOf>
Percentiles MeasureLatency(const std::string& bootstraps, const std::string& topic,
                           const LatencySetting& setting, const Args& args, size_t count, Send send,
                           IndexOf index_of) {
  std::vector<SteadyClock::time_point> sent_at(count);
  std::vector<SteadyClock::time_point> received_at(count);
  std::atomic<size_t> received{0};
  std::atomic<size_t> warm{0};
  std::atomic<bool> stop{false};
  rd_kafka_t* consumer = LatencyConsumer(bootstraps, topic, setting.fetch_wait_ms);
  std::thread reader([&] {
    while (!stop.load()) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 50);
      if (message == nullptr) continue;
      const auto now = SteadyClock::now();
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const size_t i = index_of(*message);
        if (i < count) {
          received_at[i] = now;
          received.fetch_add(1);
        } else if (i < count + kWarmup) {
          warm.fetch_add(1);
        }
      }
      rd_kafka_message_destroy(message);
    }
  });
  for (size_t i = count; i < count + kWarmup; ++i) send(i);
  const auto warm_deadline = SteadyClock::now() + std::chrono::seconds(10);
  while (warm.load() < kWarmup && SteadyClock::now() < warm_deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  const auto start = SteadyClock::now();
  for (size_t i = 0; i < count; ++i) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(1'000'000 * i / args.rate));
    sent_at[i] = send(i);
  }
  const auto deadline = SteadyClock::now() + std::chrono::seconds(30);
  while (received.load() < count && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  stop = true;
  reader.join();
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  std::vector<double> latencies;
  for (size_t i = 0; i < count; ++i) {
    if (received_at[i] != SteadyClock::time_point()) {
      latencies.push_back(
          std::chrono::duration<double, std::milli>(received_at[i] - sent_at[i]).count());
    }
  }
  if (latencies.size() < count)
    std::fprintf(stderr, "  %zu events never arrived\n", count - latencies.size());
  return Summarize(std::move(latencies));
}

Percentiles RawLatency(testing::MockKafkaCluster& cluster, const LatencySetting& setting, int run,
                       const Args& args) {
  const std::string topic = "raw-latency-" + std::to_string(run);
  cluster.CreateTopic(topic, kShards);
  rd_kafka_t* producer = RawProducer(cluster.bootstraps(), setting.linger_ms, rd_kafka_conf_new());
  std::atomic<bool> stop{false};
  std::thread poller([&] {
    while (!stop.load()) rd_kafka_poll(producer, 10);
  });
  const std::string pad(1000, 'v');
  const size_t count = static_cast<size_t>(args.rate * args.seconds);
  Percentiles p = MeasureLatency(
      cluster.bootstraps(), topic, setting, args, count,
      [&](size_t i) {
        std::string value = std::to_string(i) + ";" + pad;
        const auto at = SteadyClock::now();
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()),
                          RD_KAFKA_V_PARTITION(static_cast<int32_t>(i % kShards)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_END);
        return at;
      },
      [](const rd_kafka_message_t& m) {
        return std::strtoull(static_cast<const char*>(m.payload), nullptr, 10);
      });
  stop = true;
  poller.join();
  rd_kafka_flush(producer, 5000);
  rd_kafka_destroy(producer);
  return p;
}

Percentiles TidewaterLatency(testing::MockKafkaCluster& cluster, Engine& engine,
                             const LatencySetting& setting, int run, const Args& args) {
  const std::string table = "latency" + std::to_string(run);
  if (!CreateTable(engine, table).ok()) Die("create table " + table);
  cluster.CreateTopic("tidewater." + table, kShards);
  connectors::KafkaPublisherOptions options;
  options.brokers = cluster.bootstraps();
  options.linger_ms = setting.linger_ms;
  auto publisher = connectors::KafkaPublisher::Start(engine, options);
  if (!publisher.ok()) Die(publisher.status().ToString());
  std::mt19937 rng(7);
  const size_t count = static_cast<size_t>(args.rate * args.seconds);
  Percentiles p = MeasureLatency(
      cluster.bootstraps(), "tidewater." + table, setting, args, count,
      [&](size_t i) {
        const std::string token = std::to_string(i);
        if (!engine.PutItem(table, BenchItem("k" + token, token, rng)).ok()) Die("PutItem");
        return SteadyClock::now();  // the write is acknowledged
      },
      [](const rd_kafka_message_t& m) -> size_t {
        ChangeRecord record;
        if (!record.ParseFromArray(m.payload, static_cast<int>(m.len))) return SIZE_MAX;
        for (const auto& attribute : record.new_image().attributes()) {
          if (attribute.name() == "tok") return std::stoull(attribute.value().s());
        }
        return SIZE_MAX;
      });
  (*publisher)->Stop();
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--records") {
      args.records = std::stoull(argv[i + 1]);
    } else if (flag == "--rate") {
      args.rate = std::stoi(argv[i + 1]);
    } else if (flag == "--seconds") {
      args.seconds = std::stod(argv[i + 1]);
    } else {
      Die("usage: tw_kafka_publish_bench [--records N] [--rate PER_SECOND] [--seconds S]");
    }
  }
  spdlog::set_level(spdlog::level::warn);
  testing::MockKafkaCluster cluster(3);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tw-kafka-bench-" + std::to_string(getpid()));
  EngineOptions engine_options;
  engine_options.data_dir = dir.string();
  auto opened = Engine::Open(engine_options);
  if (!opened.ok()) Die(opened.status().ToString());
  Engine& engine = **opened;

  // The backlog, written before the publisher starts.
  if (!CreateTable(engine, "backlog").ok()) Die("create table");
  cluster.CreateTopic("tidewater.backlog", kShards);
  const auto write_start = SteadyClock::now();
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (size_t i = t; i < args.records; i += 2) {
        const std::string token = std::to_string(i);
        if (!engine.PutItem("backlog", BenchItem("k" + token, token, rng)).ok()) Die("PutItem");
      }
    });
  }
  for (auto& w : writers) w.join();
  std::printf("backlog: %zu change records written in %.1f s\n", args.records,
              Seconds(SteadyClock::now() - write_start));

  // The publisher's message sizes, from a record of the backlog.
  auto sample = engine.ReadShard({TableName("backlog"), ShardIndex(0), SequenceNumber(1), 1});
  if (!sample.ok() || sample->records.empty()) Die("no records");
  const ChangeRecord& record = sample->records.front();
  MessageShape shape;
  shape.key = record.keys().attributes(0).value().s().size();
  shape.value = record.ByteSizeLong();
  shape.headers = {{"tw-shard", "0"},
                   {"tw-seq", std::to_string(record.sequence() + 100'000)},
                   {"tw-event", "INSERT"},
                   {"tw-origin", record.origin_region()},
                   {"tw-table", record.table()}};
  std::printf("message: key %zu B, value %zu B, 5 headers\n\n", shape.key, shape.value);

  cluster.CreateTopic("raw", kShards);
  const auto per_message_us = [&](double seconds) {
    return seconds * 1e6 / static_cast<double>(args.records);
  };
  double cpu = ProcessCpuSeconds();
  double foreground_cpu = ForegroundCpuSeconds();
  const Throughput raw = RawThroughput(cluster.bootstraps(), shape, args.records);
  const double raw_cpu_us = per_message_us(ProcessCpuSeconds() - cpu);
  const double raw_foreground_us = per_message_us(ForegroundCpuSeconds() - foreground_cpu);
  cpu = ProcessCpuSeconds();
  foreground_cpu = ForegroundCpuSeconds();
  const Throughput drained = PublisherThroughput(engine, cluster.bootstraps(), args.records);
  const double drain_cpu_us = per_message_us(ProcessCpuSeconds() - cpu);
  const double drain_foreground_us = per_message_us(ForegroundCpuSeconds() - foreground_cpu);
  std::printf(
      "throughput (linger.ms=5, %zu messages, timed from 10%% to 90%% acknowledged; CPU = all "
      "threads of the process, whole run; fg = without RocksDB's background threads)\n",
      args.records);
  std::printf(
      "  raw librdkafka producer        %10.0f msg/s   CPU %.2f us/msg (fg %.2f)   start-up %.0f "
      "ms\n",
      raw.messages_per_second, raw_cpu_us, raw_foreground_us, raw.startup_ms);
  std::printf(
      "  publisher draining the backlog %10.0f msg/s   CPU %.2f us/msg (fg %.2f)   start-up %.0f "
      "ms\n",
      drained.messages_per_second, drain_cpu_us, drain_foreground_us, drained.startup_ms);
  std::printf("  CPU per message, publisher / raw: %.2f (fg %.2f)\n", drain_cpu_us / raw_cpu_us,
              drain_foreground_us / raw_foreground_us);
  std::printf("  ratio %.2f (target >= 0.8)\n\n",
              drained.messages_per_second / raw.messages_per_second);
  if (!engine.DeleteTable("backlog").ok()) Die("delete table");

  if (args.seconds > 0) {
    std::printf("end-to-end latency (%d events/s for %.0f s each)\n", args.rate, args.seconds);
    const LatencySetting settings[] = {
        {5, 5, "linger.ms=5, consumer fetch.wait.max.ms=5"},
        {0, 5, "linger.ms=0, consumer fetch.wait.max.ms=5"},
        {0, 1, "low latency: linger.ms=0, consumer fetch.wait.max.ms=1"},
    };
    int run = 0;
    for (const LatencySetting& setting : settings) {
      const Percentiles r = RawLatency(cluster, setting, run, args);
      const Percentiles t = TidewaterLatency(cluster, engine, setting, run, args);
      ++run;
      std::printf("  %s\n", setting.name);
      std::printf("    raw produce -> consume        p50 %6.2f ms  p99 %6.2f ms\n", r.p50_ms,
                  r.p99_ms);
      std::printf(
          "    write ack -> consume          p50 %6.2f ms  p99 %6.2f ms   p99 ratio %.2f%s\n",
          t.p50_ms, t.p99_ms, t.p99_ms / r.p99_ms, run == 1 ? " (target <= 1.5)" : "");
    }
  }
  opened->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
