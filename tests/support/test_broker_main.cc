// tidewater-test-broker: librdkafka's mock cluster as a process of its own, so that several
// tidewaterd processes and any Kafka client share one Kafka-protocol cluster on loopback,
// and so that a test in another process can inject faults into it through stdin.
// kUsage below is the whole interface; tests/support/test_broker_process.h drives it.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kUsage = R"(usage: tidewater-test-broker [options]

Runs librdkafka's mock Kafka cluster (Kafka protocol brokers on 127.0.0.1, random
ports) until SIGTERM or SIGINT, then exits 0. The mock has no controller: create
topics with --topic or the create-topic command before clients use them.

Options:
  --brokers N                  number of brokers, ids 1..N (default 3, at most 64)
  --topic NAME:PARTITIONS[:REPLICATION]
                               create a topic at start (repeatable); replication
                               defaults to min(3, brokers)
  --listen-port-file PATH      also write the bootstrap servers (HOST:PORT,... and a
                               newline) to PATH, atomically, once the brokers listen
  --exit-on-stdin-eof          exit 0 when stdin reaches end of file (for a parent
                               that drives the broker through a pipe: the broker
                               then ends with it)
  --help                       print this text and exit

Output: once the brokers listen, exactly one line
  bootstrap.servers=HOST:PORT,HOST:PORT,...
then one line per control command (below), and nothing else on stdout.

Control commands, one per line on stdin; each gets exactly one line on stdout,
"ok" or "error <reason>" (blank lines get none):
  create-topic NAME PARTITIONS [REPLICATION]
  broker-down BROKER_ID                 broker closes its connections, refuses new ones
  broker-up BROKER_ID
  leader TOPIC PARTITION BROKER_ID      move the partition's leadership (BROKER_ID -1:
                                        no leader); asks the brokers whether the topic
                                        exists first: an error when none answers
  request-errors API_KEY ERROR_CODE [COUNT]
                                        the next COUNT (default 1) requests of that
                                        Kafka API (0 = Produce, 1 = Fetch, 3 =
                                        Metadata...) fail with ERROR_CODE, any broker
  clear-request-errors API_KEY          drop the errors still queued for that API
  rtt BROKER_ID MS                      broker answers MS milliseconds late
  coordinator transaction|group KEY BROKER_ID
                                        the coordinator of that transactional id or
                                        consumer group

Stdin: by default, end of file (stdin is /dev/null, say, as for a background job)
or an unreadable stdin (a terminal of a background job) only ends the commands; the
brokers keep serving until a signal. With --exit-on-stdin-eof, end of file exits.
)";

constexpr int kMaxBrokers = 64;
constexpr int kMaxPartitions = 10000;
constexpr int kMaxErrorCount = 100000;

struct TopicSpec {
  std::string name;
  int partitions = 0;
  std::optional<int> replication;
};

struct Options {
  int brokers = 3;
  std::vector<TopicSpec> topics;
  std::string listen_port_file;
  bool exit_on_stdin_eof = false;
};

// The whole of `text` as an integer within [low, high], or nullopt.
std::optional<int> ParseInt(std::string_view text, int low, int high) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    return std::nullopt;
  }
  return value;
}

// Kafka's rule for topic names: 1 to 249 of [a-zA-Z0-9._-], not "." or "..".
bool ValidTopicName(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t position = 0;
  while (true) {
    position = line.find_first_not_of(" \t\r", position);
    if (position == std::string_view::npos) return words;
    const size_t end = line.find_first_of(" \t\r", position);
    words.push_back(line.substr(position, end - position));
    if (end == std::string_view::npos) return words;
    position = end;
  }
}

// The options, or nullopt after printing why (and the usage) to stderr.
std::optional<Options> ParseOptions(int argc, char** argv, bool& help) {
  Options options;
  auto fail = [](const std::string& why) {
    std::fprintf(stderr, "tidewater-test-broker: %s\n\n%s", why.c_str(), kUsage);
    return std::nullopt;
  };
  std::vector<std::string_view> topic_specs;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      help = true;
      return options;
    }
    if (flag == "--exit-on-stdin-eof") {
      options.exit_on_stdin_eof = true;
      continue;
    }
    if (flag != "--brokers" && flag != "--topic" && flag != "--listen-port-file") {
      return fail("unknown option " + std::string(flag));
    }
    if (i + 1 >= argc) return fail(std::string(flag) + " needs a value");
    const std::string_view value = argv[++i];
    if (flag == "--brokers") {
      const auto brokers = ParseInt(value, 1, kMaxBrokers);
      if (!brokers) return fail("--brokers must be 1.." + std::to_string(kMaxBrokers));
      options.brokers = *brokers;
    } else if (flag == "--topic") {
      topic_specs.push_back(value);
    } else {
      if (value.empty()) return fail("--listen-port-file needs a path");
      options.listen_port_file = value;
    }
  }
  // Topics after brokers: the replication limit is the broker count, in any flag order.
  for (const std::string_view spec : topic_specs) {
    const std::vector<std::string_view> fields = Split(spec, ':');
    TopicSpec topic;
    if (fields.size() < 2 || fields.size() > 3 || !ValidTopicName(fields[0])) {
      return fail("--topic wants NAME:PARTITIONS[:REPLICATION], got " + std::string(spec));
    }
    topic.name = fields[0];
    const auto partitions = ParseInt(fields[1], 1, kMaxPartitions);
    if (!partitions) return fail("bad partition count in --topic " + std::string(spec));
    topic.partitions = *partitions;
    if (fields.size() == 3) {
      const auto replication = ParseInt(fields[2], 1, options.brokers);
      if (!replication) {
        return fail("replication must be 1..brokers in --topic " + std::string(spec));
      }
      topic.replication = *replication;
    }
    options.topics.push_back(std::move(topic));
  }
  return options;
}

// The mock cluster, the librdkafka handle hosting it, and a client of it for metadata;
// commands are applied to it.
// Owned by main's thread (librdkafka serves the brokers on threads of its own).
class Broker {
 public:
  Broker() = default;
  ~Broker() {
    if (client_ != nullptr) rd_kafka_destroy(client_);
    if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
    if (host_ != nullptr) rd_kafka_destroy(host_);
  }
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // "" when the brokers listen, or why not.
  std::string Start(int brokers) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // The hosting handle never connects anywhere; its log would only be noise on stderr.
    rd_kafka_conf_set(conf, "log_level", "0", error, sizeof(error));
    host_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    if (host_ == nullptr) return std::string("cannot create the librdkafka handle: ") + error;
    cluster_ = rd_kafka_mock_cluster_new(host_, brokers);
    if (cluster_ == nullptr) return "cannot create the mock cluster";
    brokers_ = brokers;
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", error, sizeof(error));
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps().c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return error;
    }
    client_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    if (client_ == nullptr) return std::string("cannot create the metadata client: ") + error;
    return "";
  }

  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

  // "" when created, or why not.
  std::string CreateTopic(const std::string& name, int partitions, std::optional<int> replication) {
    const int factor = replication.value_or(std::min(3, brokers_));
    if (factor < 1 || factor > brokers_) {
      return "replication must be 1.." + std::to_string(brokers_);
    }
    return Describe(rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, factor));
  }

  // The answer to one command line: "ok" or "error <reason>".
  std::string Apply(std::string_view line) {
    const std::vector<std::string_view> words = Words(line);
    const std::string why = Dispatch(words);
    return why.empty() ? "ok" : "error " + why;
  }

 private:
  static std::string Describe(rd_kafka_resp_err_t error) {
    return error == RD_KAFKA_RESP_ERR_NO_ERROR ? "" : rd_kafka_err2str(error);
  }

  std::optional<int32_t> BrokerId(std::string_view text) const {
    return ParseInt(text, 1, brokers_);
  }

  // "" when applied, or why not.
  std::string Dispatch(const std::vector<std::string_view>& words) {
    const std::string_view command = words[0];
    const size_t arguments = words.size() - 1;
    auto usage = [](const char* form) { return std::string("usage: ") + form; };
    const std::string bad_broker = "broker id must be 1.." + std::to_string(brokers_);

    if (command == "create-topic") {
      if (arguments < 2 || arguments > 3)
        return usage("create-topic NAME PARTITIONS [REPLICATION]");
      if (!ValidTopicName(words[1])) return "invalid topic name";
      const auto partitions = ParseInt(words[2], 1, kMaxPartitions);
      if (!partitions) return "partitions must be 1.." + std::to_string(kMaxPartitions);
      std::optional<int> replication;
      if (arguments == 3) {
        replication = ParseInt(words[3], 1, brokers_);
        if (!replication) return "replication must be 1.." + std::to_string(brokers_);
      }
      return CreateTopic(std::string(words[1]), *partitions, replication);
    }
    if (command == "broker-down" || command == "broker-up") {
      if (arguments != 1) return usage("broker-down|broker-up BROKER_ID");
      const auto broker = BrokerId(words[1]);
      if (!broker) return bad_broker;
      return Describe(command == "broker-down" ? rd_kafka_mock_broker_set_down(cluster_, *broker)
                                               : rd_kafka_mock_broker_set_up(cluster_, *broker));
    }
    if (command == "leader") {
      if (arguments != 3) return usage("leader TOPIC PARTITION BROKER_ID");
      const std::string topic(words[1]);
      const auto partition = ParseInt(words[2], 0, kMaxPartitions - 1);
      if (!partition) return "bad partition";
      const auto broker = words[3] == "-1" ? std::optional<int32_t>(-1) : BrokerId(words[3]);
      if (!broker) return bad_broker + ", or -1";
      // The mock would create an unknown topic here (one partition); a leader move must not.
      const std::optional<int> partitions = PartitionCount(topic);
      if (!partitions) return "unknown topic (or no broker answered metadata)";
      if (*partition >= *partitions) return "unknown partition";
      return Describe(
          rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), *partition, *broker));
    }
    if (command == "request-errors") {
      if (arguments < 2 || arguments > 3) return usage("request-errors API_KEY ERROR_CODE [COUNT]");
      const auto api_key = ParseInt(words[1], 0, std::numeric_limits<int16_t>::max());
      if (!api_key) return "bad API key";
      const auto error_code = ParseInt(words[2], std::numeric_limits<int16_t>::min(),
                                       std::numeric_limits<int16_t>::max());
      if (!error_code || *error_code == 0) return "bad error code";
      const auto count = arguments == 3 ? ParseInt(words[3], 1, kMaxErrorCount) : 1;
      if (!count) return "count must be 1.." + std::to_string(kMaxErrorCount);
      const std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(*count),
                                                    static_cast<rd_kafka_resp_err_t>(*error_code));
      rd_kafka_mock_push_request_errors_array(cluster_, static_cast<int16_t>(*api_key),
                                              errors.size(), errors.data());
      return "";
    }
    if (command == "clear-request-errors") {
      if (arguments != 1) return usage("clear-request-errors API_KEY");
      const auto api_key = ParseInt(words[1], 0, std::numeric_limits<int16_t>::max());
      if (!api_key) return "bad API key";
      rd_kafka_mock_clear_request_errors(cluster_, static_cast<int16_t>(*api_key));
      return "";
    }
    if (command == "rtt") {
      if (arguments != 2) return usage("rtt BROKER_ID MS");
      const auto broker = BrokerId(words[1]);
      if (!broker) return bad_broker;
      const auto milliseconds = ParseInt(words[2], 0, 3'600'000);
      if (!milliseconds) return "MS must be 0..3600000";
      return Describe(rd_kafka_mock_broker_set_rtt(cluster_, *broker, *milliseconds));
    }
    if (command == "coordinator") {
      if (arguments != 3) return usage("coordinator transaction|group KEY BROKER_ID");
      if (words[1] != "transaction" && words[1] != "group") {
        return "coordinator type must be transaction or group";
      }
      const auto broker = BrokerId(words[3]);
      if (!broker) return bad_broker;
      return Describe(rd_kafka_mock_coordinator_set(cluster_, std::string(words[1]).c_str(),
                                                    std::string(words[2]).c_str(), *broker));
    }
    return "unknown command " + std::string(command);
  }

  // The topic's partition count, asked of the brokers as a client does; nullopt when the
  // topic does not exist or no broker answers.
  std::optional<int> PartitionCount(const std::string& topic) {
    std::optional<int> count;
    const rd_kafka_metadata_t* metadata = nullptr;
    // All topics: asking for one by name would let the mock create it.
    if (rd_kafka_metadata(client_, 1, nullptr, &metadata, 3000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return count;
    }
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      if (topic == metadata->topics[i].topic && metadata->topics[i].err == 0) {
        count = metadata->topics[i].partition_cnt;
      }
    }
    rd_kafka_metadata_destroy(metadata);
    return count;
  }

  rd_kafka_t* host_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* client_ = nullptr;  // reads topic metadata from the brokers
  int brokers_ = 0;
};

// Writes `text` to `path` through a temporary file and a rename, so that a reader sees
// either no file or all of it. "" or why not.
std::string WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  FILE* file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) return temporary + ": " + std::strerror(errno);
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  if (std::fclose(file) != 0 || !written) return temporary + ": write failed";
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return path + ": " + std::strerror(errno);
  }
  return "";
}

void Reply(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int Serve(Broker& broker, int signal_fd, bool exit_on_stdin_eof) {
  bool reading_stdin = true;
  std::string pending;  // stdin read but not yet a whole line
  while (true) {
    pollfd fds[2] = {{signal_fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    if (poll(fds, reading_stdin ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "tidewater-test-broker: poll: %s\n", std::strerror(errno));
      return 1;
    }
    if (fds[0].revents != 0) return 0;  // SIGTERM or SIGINT
    if (!reading_stdin || fds[1].revents == 0) continue;
    char buffer[4096];
    const ssize_t n = read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n > 0) {
      pending.append(buffer, static_cast<size_t>(n));
      size_t newline;
      while ((newline = pending.find('\n')) != std::string::npos) {
        const std::string line = pending.substr(0, newline);
        pending.erase(0, newline + 1);
        if (!Words(line).empty()) Reply(broker.Apply(line));
      }
      continue;
    }
    // End of file, or an error (EIO: a background job's terminal): no more commands.
    if (!Words(pending).empty()) Reply(broker.Apply(pending));
    pending.clear();
    if (n == 0 && exit_on_stdin_eof) return 0;
    reading_stdin = false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool help = false;
  const std::optional<Options> options = ParseOptions(argc, argv, help);
  if (!options) return 2;
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  // Blocked before librdkafka starts its threads, which inherit the mask: the signals
  // reach only the signalfd.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  const int signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    std::fprintf(stderr, "tidewater-test-broker: signalfd: %s\n", std::strerror(errno));
    return 1;
  }
  // A background job reading its terminal gets EIO instead of being stopped.
  signal(SIGTTIN, SIG_IGN);
  // A reader of stdout that went away must not kill the brokers.
  signal(SIGPIPE, SIG_IGN);

  Broker broker;
  std::string why = broker.Start(options->brokers);
  for (size_t i = 0; why.empty() && i < options->topics.size(); ++i) {
    const TopicSpec& topic = options->topics[i];
    why = broker.CreateTopic(topic.name, topic.partitions, topic.replication);
    if (!why.empty()) why = "cannot create topic " + topic.name + ": " + why;
  }
  if (why.empty() && !options->listen_port_file.empty()) {
    why = WriteFileAtomically(options->listen_port_file, broker.bootstraps() + "\n");
  }
  if (!why.empty()) {
    std::fprintf(stderr, "tidewater-test-broker: %s\n", why.c_str());
    return 1;
  }
  Reply("bootstrap.servers=" + broker.bootstraps());
  const int status = Serve(broker, signal_fd, options->exit_on_stdin_eof);
  close(signal_fd);
  return status;
}
