// tw_mock_kafka: librdkafka's mock cluster as a process of its own, for tests that run
// several processes against one Kafka (tidewaterd nodes, sinks, a Prometheus scrape).
//
//   tw_mock_kafka [--brokers N] [--topic NAME:PARTITIONS]...
//
// Creates the topics (the mock has no controller to create them on demand), prints
// "bootstraps=HOST:PORT,..." on stdout, and serves until SIGINT/SIGTERM or until stdin
// closes (so that it ends with the test that started it).
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "support/kafka_cluster.h"

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--brokers") {
      brokers = std::stoi(value);
    } else if (flag == "--topic" && value.find(':') != std::string::npos) {
      topics.emplace_back(value.substr(0, value.find(':')),
                          std::stoi(value.substr(value.find(':') + 1)));
    } else {
      std::fprintf(stderr, "usage: tw_mock_kafka [--brokers N] [--topic NAME:PARTITIONS]...\n");
      return 2;
    }
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    tidewater::testing::MockKafkaCluster cluster(brokers);
    for (const auto& [name, partitions] : topics) cluster.CreateTopic(name, partitions);
    std::printf("bootstraps=%s\n", cluster.bootstraps().c_str());
    std::fflush(stdout);
    const timespec tick{0, 200'000'000};
    while (sigtimedwait(&signals, nullptr, &tick) <= 0) {
      pollfd input{STDIN_FILENO, POLLIN, 0};
      char byte;
      if (poll(&input, 1, 0) > 0 && read(STDIN_FILENO, &byte, 1) <= 0) break;  // closed
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tw_mock_kafka: %s\n", error.what());
    return 1;
  }
  return 0;
}
