// A child process for the crash test: opens the engine in argv[1] (fsync per write when
// argv[3] is "sync", which commits through group commit), then writer threads write
// and delete items as fast as they can, printing one line per acknowledged change to
// stdout ("W <token>" after a write, "R <token>" after a delete removed that version).
// With argv[4] "split", one more thread splits the table's open shards one after another
// (up to 256 shards) while they write; without it, one more thread puts and deletes items
// of "crashidx", a table with two local and two global secondary indexes, at a steady pace. It
// never stops by itself: the test kills it with SIGKILL (or a failure point armed in
// TIDEWATER_FAILURE_POINTS does).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/test_engine.h"
#include "tidewater/core/engine.h"

int main(int argc, char** argv) {
  using namespace tidewater;
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: crash_writer DATA_DIR INCARNATION sync|nosync [split]\n");
    return 2;
  }
  EngineOptions options = testing::TestEngineOptions(argv[1]);
  options.sync = std::string(argv[3]) == "sync";
  auto opened = Engine::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  Engine& engine = **opened;
  CreateTableRequest request;
  request.name = "crash";
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = 4;
  auto created = engine.CreateTable(request);
  if (!created.ok() && created.status().code() != ErrorCode::kResourceInUse) return 1;
  std::mutex out_mu;
  const std::string incarnation = argv[2];
  const auto report = [&](char kind, const std::string& token) {
    std::lock_guard lock(out_mu);
    std::string line = std::string(1, kind) + " " + token + "\n";
    if (::write(STDOUT_FILENO, line.data(), line.size()) < 0) std::_Exit(0);
  };
  const auto writer = [&](int id) {
    std::mt19937 rng(std::random_device{}());
    for (uint64_t op = 0;; ++op) {
      const Item key{{"pk", AttributeValue::S("k" + std::to_string(rng() % 200))}};
      const std::string token = incarnation + "/" + std::to_string(id) + "/" + std::to_string(op);
      if (rng() % 4 != 0) {
        auto result = engine.UpdateItem(
            "crash", key, [&](const Item* current) -> Result<std::optional<Item>> {
              Item next = current ? *current : key;
              next["tok"] = AttributeValue::S(token);
              next["pad"] = AttributeValue::S(std::string(rng() % 512, 'p'));
              return std::make_optional(std::move(next));
            });
        if (!result.ok()) std::_Exit(3);
        report('W', token);
      } else {
        auto result = engine.DeleteItem("crash", key);
        if (!result.ok()) std::_Exit(3);
        if (result->old_item) report('R', result->old_item->at("tok").s());
      }
    }
  };
  // With fsync, more writers than cores so that commit groups hold several writes.
  std::vector<std::thread> writers;
  for (int id = 0; id < (options.sync ? 6 : 2); ++id) writers.emplace_back(writer, id);
  const bool split = argc == 5 && std::string(argv[4]) == "split";
  if (!split) {
    // "crashidx": items whose index keys move between values and come and go.
    CreateTableRequest indexed;
    indexed.name = "crashidx";
    indexed.key_schema.partition_key = {"pk", AttributeType::kS};
    indexed.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kN};
    SecondaryIndex by_rank;
    by_rank.name = "by_rank";
    by_rank.key_schema = {{"pk", AttributeType::kS}, KeyAttribute{"rank", AttributeType::kN}};
    by_rank.projection = {ProjectionType::kInclude, {"tok"}};
    SecondaryIndex by_tag;
    by_tag.name = "by_tag";
    by_tag.key_schema = {{"pk", AttributeType::kS}, KeyAttribute{"tag", AttributeType::kS}};
    by_tag.projection = {ProjectionType::kAll, {}};
    indexed.local_indexes = {by_rank, by_tag};
    SecondaryIndex tag_rank;
    tag_rank.name = "global_tag_rank";
    tag_rank.key_schema = {{"tag", AttributeType::kS}, KeyAttribute{"rank", AttributeType::kN}};
    tag_rank.projection = {ProjectionType::kInclude, {"tok"}};
    SecondaryIndex rank_only;
    rank_only.name = "global_rank";
    rank_only.key_schema = {{"rank", AttributeType::kN}, std::nullopt};
    rank_only.projection = {ProjectionType::kKeysOnly, {}};
    indexed.global_indexes = {tag_rank, rank_only};
    created = engine.CreateTable(indexed);
    if (!created.ok() && created.status().code() != ErrorCode::kResourceInUse) return 1;
    // Paced (one write per millisecond): the check is of the indexes, not of throughput,
    // and the WAL every restart replays stays small, also under the sanitizers.
    writers.emplace_back([&] {
      std::mt19937 rng(std::random_device{}());
      for (uint64_t op = 0;; ++op) {
        Item item{{"pk", AttributeValue::S("p" + std::to_string(rng() % 4))},
                  {"sk", AttributeValue::N(Number::FromInt64(rng() % 50))},
                  {"tok", AttributeValue::S(incarnation + "/" + std::to_string(op))}};
        if (rng() % 3 != 0) item["rank"] = AttributeValue::N(Number::FromInt64(rng() % 10));
        if (rng() % 2 != 0) item["tag"] = AttributeValue::S(rng() % 2 ? "red" : "blue");
        Status written =
            rng() % 5 == 0
                ? engine.DeleteItem("crashidx", {{"pk", item["pk"]}, {"sk", item["sk"]}}).status()
                : engine.PutItem("crashidx", item).status();
        if (!written.ok()) std::_Exit(3);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  if (split) {
    writers.emplace_back([&] {
      std::mt19937 rng(std::random_device{}());
      while (true) {
        auto description = engine.DescribeTable("crash");
        if (!description.ok()) std::_Exit(3);
        std::vector<ShardIndex> open;
        for (const auto& shard : description->shards) {
          if (!shard.closed) open.push_back(shard.index);
        }
        if (description->shards.size() + 2 > 256) return;
        auto split = engine.SplitShard("crash", open[rng() % open.size()]);
        if (!split.ok()) std::_Exit(4);
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 40));
      }
    });
  }
  for (auto& w : writers) w.join();
}
