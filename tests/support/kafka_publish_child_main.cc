// A child process for the Kafka publisher's kill -9 test: opens the engine in DATA_DIR,
// publishes to the Kafka cluster at BOOTSTRAPS and keeps writing items (about 10,000 a second),
// printing "W <token>" to stdout after each acknowledged write (the token is stored in
// the item's "tok" attribute).
//
//   kafka_publish_child DATA_DIR BOOTSTRAPS INCARNATION            writes until killed
//   kafka_publish_child DATA_DIR BOOTSTRAPS INCARNATION COUNT      writes COUNT items, waits
//                                                                  until all is published,
//                                                                  prints "DONE", exits 0
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "support/test_engine.h"
#include "tidewater/connectors/kafka_publisher.h"
#include "tidewater/core/engine.h"

namespace {

constexpr char kTable[] = "killed";

void Print(const std::string& line) {
  if (::write(STDOUT_FILENO, line.data(), line.size()) < 0) std::_Exit(0);
}

bool AllPublished(tidewater::Engine& engine, const tidewater::connectors::KafkaPublisher& p) {
  auto description = engine.DescribeTable(kTable);
  if (!description.ok()) return false;
  for (const auto& table : p.Snapshot()) {
    if (table.table != tidewater::TableName(kTable)) continue;
    if (table.shards.size() != description->shards.size()) return false;
    for (const auto& shard : table.shards) {
      if (shard.published_next != description->shards[shard.shard.value()].last_sequence.Next()) {
        return false;
      }
    }
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tidewater;
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: kafka_publish_child DATA_DIR BOOTSTRAPS INCARNATION [COUNT]\n");
    return 2;
  }
  auto opened = Engine::Open(testing::TestEngineOptions(argv[1]));
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  Engine& engine = **opened;
  CreateTableRequest request;
  request.name = kTable;
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = 4;
  auto created = engine.CreateTable(request);
  if (!created.ok() && created.status().code() != ErrorCode::kResourceInUse) return 1;

  connectors::KafkaPublisherOptions publisher_options;
  publisher_options.brokers = argv[2];
  publisher_options.linger_ms = 5;
  publisher_options.checkpoint_interval = std::chrono::milliseconds(50);
  auto publisher = connectors::KafkaPublisher::Start(engine, publisher_options);
  if (!publisher.ok()) {
    std::fprintf(stderr, "publisher: %s\n", publisher.status().ToString().c_str());
    return 1;
  }

  const std::string incarnation = argv[3];
  const long count = argc == 5 ? std::stol(argv[4]) : -1;
  for (long i = 0; count < 0 || i < count; ++i) {
    const std::string token = incarnation + "/" + std::to_string(i);
    Item item{{"pk", AttributeValue::S("k" + std::to_string(i % 300))},
              {"tok", AttributeValue::S(token)},
              {"pad", AttributeValue::S(std::string(20, 'p'))}};
    if (!engine.PutItem(kTable, std::move(item)).ok()) return 3;
    Print("W " + token + "\n");
    // Paced: the mock cluster keeps only 5 MB per partition.
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  while (!AllPublished(engine, **publisher)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  (*publisher)->Stop();
  Print("DONE\n");
  return 0;
}
