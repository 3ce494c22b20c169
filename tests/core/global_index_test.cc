// Global secondary indexes in the engine: each item change queues its entry changes in the
// item's own batch and the maintainer applies them in order, so after any mix of writes
// (concurrent, transactional, replicated, over a reopen) every global index converges to a
// recomputation from the table; Query and Scan read it in index order, across partitions.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "support/index_check.h"
#include "support/replicate_whole_log.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"

namespace tidewater {
namespace {

AttributeValue S(std::string s) { return AttributeValue::S(std::move(s)); }
AttributeValue N(int64_t n) { return AttributeValue::N(Number::FromInt64(n)); }

// Table "tbl" (pk S, sk S) with the global indexes "by_state" (state S, rank N; INCLUDE
// "label") and "by_rank" (rank N only; KEYS_ONLY), and the local index "local_rank".
Status CreateGlobalIndexTable(Engine& engine, bool stream = false) {
  CreateTableRequest request;
  request.name = "tbl";
  request.stream = {stream, StreamViewType::kNewAndOldImages};
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kS};
  SecondaryIndex by_state;
  by_state.name = "by_state";
  by_state.key_schema = {{"state", AttributeType::kS}, KeyAttribute{"rank", AttributeType::kN}};
  by_state.projection = {ProjectionType::kInclude, {"label"}};
  SecondaryIndex by_rank;
  by_rank.name = "by_rank";
  by_rank.key_schema = {{"rank", AttributeType::kN}, std::nullopt};
  by_rank.projection = {ProjectionType::kKeysOnly, {}};
  request.global_indexes = {by_state, by_rank};
  SecondaryIndex local_rank;
  local_rank.name = "local_rank";
  local_rank.key_schema = {{"pk", AttributeType::kS}, KeyAttribute{"rank", AttributeType::kN}};
  request.local_indexes = {local_rank};
  Status created = engine.CreateTable(request).status();
  EXPECT_TRUE(created.ok()) << created.message();
  return created;
}

// Every page of a Query on global index `index` for its partition key `key`.
std::vector<Item> QueryAll(Engine& engine, const std::string& index, const AttributeValue& key,
                           size_t limit, bool forward = true) {
  std::vector<Item> items;
  QueryRequest query;
  query.table = "tbl";
  query.index.name = index;
  query.partition_key = key;
  query.limit = limit;
  query.forward = forward;
  for (;;) {
    auto page = engine.Query(query);
    EXPECT_TRUE(page.ok()) << page.status().message();
    if (!page.ok()) return items;
    items.insert(items.end(), page->items.begin(), page->items.end());
    if (!page->last_evaluated_key) return items;
    query.exclusive_start_key = page->last_evaluated_key;
  }
}

// Polls until `done` holds (global indexes are eventually consistent); false after 20 s.
template <typename Done>
bool Eventually(const Done& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(GlobalIndexTest, QueryReadsItemsOfEveryPartitionInIndexOrder) {
  testing::TempDir dir;
  auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE(CreateGlobalIndexTable(**engine).ok());
  // 30 items over 10 partitions, rank 29 - i; "closed" when i % 3 == 0; no state (absent
  // from by_state) when i % 7 == 6.
  for (int i = 0; i < 30; ++i) {
    Item item{{"pk", S("p" + std::to_string(i % 10))},      {"sk", S("k" + std::to_string(i))},
              {"state", S(i % 3 == 0 ? "closed" : "open")}, {"rank", N(29 - i)},
              {"label", S("l" + std::to_string(i))},        {"other", S("not projected")}};
    if (i % 7 == 6) item.erase("state");
    ASSERT_TRUE((*engine)->PutItem("tbl", item).ok());
  }
  std::vector<Item> open;
  ASSERT_TRUE(Eventually([&] {
    open = QueryAll(**engine, "by_state", S("open"), 4);
    return open.size() == 18;  // the 20 with i % 3 != 0, less the sparse i = 13 and 20
  })) << open.size();
  for (size_t i = 0; i < open.size(); ++i) {
    EXPECT_EQ(open[i].size(), 5u) << "keys of table and index, and label";
    EXPECT_EQ(open[i].count("other"), 0u);
    if (i > 0) {
      EXPECT_LT(open[i - 1].at("rank").n().ToDouble(), open[i].at("rank").n().ToDouble());
    }
  }
  const std::vector<Item> backwards = QueryAll(**engine, "by_state", S("open"), 3, false);
  ASSERT_EQ(backwards.size(), open.size());
  EXPECT_TRUE(backwards.front() == open.back());

  // A sort key condition on the index's sort key.
  QueryRequest between;
  between.table = "tbl";
  between.index.name = "by_state";
  between.partition_key = S("closed");
  between.sort_key = {SortKeyCondition::Op::kBetween, N(5), N(20)};
  auto page = (*engine)->Query(between);
  ASSERT_TRUE(page.ok());
  for (const Item& item : page->items) {
    EXPECT_GE(item.at("rank").n().ToDouble(), 5);
    EXPECT_LE(item.at("rank").n().ToDouble(), 20);
  }
  EXPECT_EQ(page->items.size(), 6u);  // ranks 20, 17, 14, 11, 8, 5 (i = 6 and 27 are sparse)
  EXPECT_GT(testing::ExpectIndexesMatchTable(**engine, "tbl"), 0u);
}

TEST(GlobalIndexTest, PagesOverEqualIndexKeysReturnEveryEntryOnce) {
  testing::TempDir dir;
  auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE(CreateGlobalIndexTable(**engine).ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        (*engine)
            ->PutItem("tbl", {{"pk", S("p" + std::to_string(i))}, {"sk", S("s")}, {"rank", N(7)}})
            .ok());
  }
  for (size_t limit : {1u, 3u, 50u}) {
    std::vector<Item> items;
    ASSERT_TRUE(Eventually([&] {
      items = QueryAll(**engine, "by_rank", N(7), limit);
      return items.size() >= 50;
    }));
    std::set<std::string> keys;
    for (const Item& item : items) keys.insert(item.at("pk").s());
    EXPECT_EQ(items.size(), 50u) << "limit " << limit;
    EXPECT_EQ(keys.size(), 50u) << "limit " << limit;
  }
}

TEST(GlobalIndexTest, WrongIndexKeyTypesAreRefusedBeforeAnythingIsWritten) {
  testing::TempDir dir;
  auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE(CreateGlobalIndexTable(**engine).ok());
  const Item key{{"pk", S("p")}, {"sk", S("s")}};
  Item wrong = key;
  wrong["state"] = N(1);
  auto refused = (*engine)->PutItem("tbl", wrong);
  EXPECT_EQ(refused.status().code(), ErrorCode::kValidation);
  EXPECT_NE(refused.status().message().find("IndexName: by_state"), std::string::npos)
      << refused.status().message();
  Item empty = key;
  empty["state"] = S("");
  EXPECT_EQ((*engine)->PutItem("tbl", empty).status().code(), ErrorCode::kValidation);
  auto got = (*engine)->GetItem("tbl", key);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

// Concurrent writers, transactions and deletes: after they stop, and after a reopen that
// continues the work queue's numbering, every index equals the table.
TEST(GlobalIndexTest, ConcurrentWritersAndTransactionsConvergeAcrossAReopen) {
  testing::TempDir dir;
  EngineOptions options = testing::TestEngineOptions(dir.path());
  options.sync = true;
  const auto write_round = [](Engine& engine, int round) {
    std::vector<std::thread> writers;
    std::atomic<int> failures{0};
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        std::mt19937 rng(round * 10 + w);
        for (int i = 0; i < 200; ++i) {
          const std::string pk = "p" + std::to_string(rng() % 5);
          const std::string sk = "k" + std::to_string(rng() % 10);
          Item item{{"pk", S(pk)}, {"sk", S(sk)}, {"label", S("w" + std::to_string(w))}};
          if (rng() % 4 != 0) item["rank"] = N(static_cast<int64_t>(rng() % 5));
          if (rng() % 3 != 0) item["state"] = S(rng() % 2 ? "on" : "off");
          Status s;
          if (rng() % 7 == 0) {
            s = engine.DeleteItem("tbl", {{"pk", S(pk)}, {"sk", S(sk)}}).status();
          } else if (rng() % 5 == 0) {
            Item second = item;
            second["sk"] = S(sk + "t");
            s = engine
                    .TransactWrite({Mutation{Mutation::Kind::kPut, "tbl", item, {}, {}},
                                    Mutation{Mutation::Kind::kPut, "tbl", second, {}, {}}})
                    .status();
          } else {
            s = engine.PutItem("tbl", item).status();
          }
          if (!s.ok()) ++failures;
        }
      });
    }
    for (auto& writer : writers) writer.join();
    EXPECT_EQ(failures.load(), 0);
  };
  {
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok());
    ASSERT_TRUE(CreateGlobalIndexTable(**engine).ok());
    write_round(**engine, 0);
    EXPECT_GT(testing::ExpectIndexesMatchTable(**engine, "tbl"), 0u);
    write_round(**engine, 1);  // closed right after: work may still be queued
  }
  auto reopened = Engine::Open(options);
  ASSERT_TRUE(reopened.ok());
  write_round(**reopened, 2);
  EXPECT_GT(testing::ExpectIndexesMatchTable(**reopened, "tbl"), 0u);
  auto described = (*reopened)->DescribeTable("tbl");
  ASSERT_TRUE(described.ok());
  ASSERT_EQ(described->global_indexes.size(), 2u);
  EXPECT_EQ(described->global_indexes[0].definition.name, "by_state");
  EXPECT_EQ(described->global_indexes[1].definition.key_schema.sort_key, std::nullopt);
  EXPECT_GT(described->global_indexes[0].approximate_size_bytes, 0u);
  ASSERT_TRUE(Eventually([&] {
    auto now = (*reopened)->DescribeTable("tbl");
    return now.ok() && now->global_index_backlog == 0 && now->global_index_lag_micros == 0;
  }));
}

TEST(GlobalIndexTest, ReplicatedChangesKeepTheReplicasGlobalIndexes) {
  testing::TempDir source_dir;
  testing::TempDir replica_dir;
  EngineOptions source_options = testing::TestEngineOptions(source_dir.path());
  source_options.region = "us-test-1";
  auto source = Engine::Open(source_options);
  auto replica = Engine::Open(testing::TestEngineOptions(replica_dir.path()));
  ASSERT_TRUE(source.ok() && replica.ok());
  ASSERT_TRUE(CreateGlobalIndexTable(**source, /*stream=*/true).ok());
  ASSERT_TRUE(CreateGlobalIndexTable(**replica).ok());
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    Item item{{"pk", S("p" + std::to_string(rng() % 3))}, {"sk", S("k" + std::to_string(i % 40))}};
    if (rng() % 3 != 0) item["rank"] = N(static_cast<int64_t>(rng() % 20));
    if (rng() % 2 != 0) item["state"] = S(rng() % 2 ? "on" : "off");
    Status s = rng() % 6 == 0
                   ? (*source)->DeleteItem("tbl", {{"pk", item["pk"]}, {"sk", item["sk"]}}).status()
                   : (*source)->PutItem("tbl", item).status();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  testing::ReplicateWholeLog(**source, **replica, "tbl", "us-test-1");
  ASSERT_FALSE(HasFailure());
  EXPECT_GT(testing::ExpectIndexesMatchTable(**replica, "tbl"), 0u);
  EXPECT_GT(testing::ExpectIndexesMatchTable(**source, "tbl"), 0u);
  for (const char* index : {"by_state", "by_rank"}) {
    EXPECT_EQ(testing::ScanEverything(**replica, "tbl", index).size(),
              testing::ScanEverything(**source, "tbl", index).size())
        << index;
  }
}

// The index "by_label" (label S, rank N; ALL) that the update tests add to "tbl".
GlobalIndexUpdate CreateByLabel() {
  GlobalIndexUpdate update;
  update.kind = GlobalIndexUpdate::Kind::kCreate;
  update.index.name = "by_label";
  update.index.key_schema = {{"label", AttributeType::kS}, KeyAttribute{"rank", AttributeType::kN}};
  update.index.projection = {ProjectionType::kAll, {}};
  return update;
}

bool Backfilling(Engine& engine, const std::string& index) {
  auto described = engine.DescribeTable("tbl");
  if (!described.ok()) return false;
  for (const IndexDescription& d : described->global_indexes) {
    if (d.definition.name == index) return d.definition.backfilling;
  }
  return false;
}

// Puts `count` items p<i % 97>/k<i> with a label (some of the wrong type, some absent)
// and a rank, from four threads.
void PutMany(Engine& engine, int count) {
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < count; i += 4) {
        Item item{{"pk", S("p" + std::to_string(i % 97))},
                  {"sk", S("k" + std::to_string(i))},
                  {"rank", N(i % 13)}};
        if (i % 10 == 1) {
          item["label"] = N(i);  // an index key violation once by_label exists
        } else if (i % 10 != 2) {
          item["label"] = S("l" + std::to_string(i % 7));
        }
        if (!engine.PutItem("tbl", item).ok()) ++failures;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(failures.load(), 0);
}

// Items in the table an index is created on: 100,000, a fifth under the sanitizers (which
// run several times slower).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kBackfillItems = 20'000;
#else
constexpr int kBackfillItems = 100'000;
#endif

TEST(GlobalIndexTest, IndexCreatedOnAFullTableWhileWritersRunMatchesTheTable) {
  testing::TempDir dir;
  auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE(CreateGlobalIndexTable(**engine, /*stream=*/true).ok());
  PutMany(**engine, kBackfillItems);

  // Writers move items between the new index's partitions, out of it and back, and delete
  // and recreate them, while the backfill runs; they stop once it is over.
  std::atomic<bool> backfilled{false};
  std::atomic<int> failures{0};
  std::atomic<int> writes{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int n = 0; n < 50'000 && !backfilled.load(); ++n) {
        const int i = static_cast<int>(rng() % kBackfillItems);
        Item key{{"pk", S("p" + std::to_string(i % 97))}, {"sk", S("k" + std::to_string(i))}};
        Status s;
        if (rng() % 5 == 0) {
          s = (*engine)->DeleteItem("tbl", key).status();
        } else {
          Item item = key;
          item["rank"] = N(static_cast<int64_t>(rng() % 13));
          if (rng() % 4 != 0) item["label"] = S("w" + std::to_string(rng() % 7));
          s = (*engine)->PutItem("tbl", item).status();
        }
        if (!s.ok() && s.code() != ErrorCode::kValidation) ++failures;
        ++writes;
      }
    });
  }
  while (writes.load() < 200) std::this_thread::yield();
  auto created = (*engine)->UpdateGlobalIndexes("tbl", CreateByLabel());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->global_indexes.size(), 3u);
  EXPECT_TRUE(created->global_indexes[2].definition.backfilling);

  // While the backfill runs, the index cannot be read; then it can.
  QueryRequest query;
  query.table = "tbl";
  query.index.name = "by_label";
  query.partition_key = S("l1");
  auto early = (*engine)->Query(query);
  if (!early.ok()) {
    EXPECT_EQ(early.status().code(), ErrorCode::kValidation);
    EXPECT_EQ(early.status().message(),
              "Cannot read from backfilling global secondary index: by_label");
  } else {
    EXPECT_FALSE(Backfilling(**engine, "by_label"));
  }
  EXPECT_TRUE(Eventually([&] { return !Backfilling(**engine, "by_label"); }));
  backfilled = true;
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(writes.load(), 200);
  EXPECT_GT(testing::ExpectIndexesMatchTable(**engine, "tbl"), static_cast<size_t>(kBackfillItems));
  EXPECT_TRUE((*engine)->Query(query).ok());

  // From now on a write whose label has another type is refused.
  auto wrong = (*engine)->PutItem("tbl", {{"pk", S("x")}, {"sk", S("y")}, {"label", N(1)}});
  EXPECT_EQ(wrong.status().code(), ErrorCode::kValidation);
}

TEST(GlobalIndexTest, ABackfillCutShortByARestartStartsAgain) {
  testing::TempDir dir;
  const EngineOptions options = testing::TestEngineOptions(dir.path());
  {
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok());
    ASSERT_TRUE(CreateGlobalIndexTable(**engine).ok());
    PutMany(**engine, 20'000);
    ASSERT_TRUE((*engine)->UpdateGlobalIndexes("tbl", CreateByLabel()).ok());
    // Changes queued behind the backfill, then closed at once: the backfill is cut short.
    for (int i = 0; i < 500; ++i) {
      Item item{{"pk", S("p" + std::to_string(i % 97))},
                {"sk", S("k" + std::to_string(i))},
                {"rank", N(i % 3)},
                {"label", S("after")}};
      ASSERT_TRUE((*engine)->PutItem("tbl", item).ok());
    }
  }
  auto reopened = Engine::Open(options);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE(Eventually([&] { return !Backfilling(**reopened, "by_label"); }));
  EXPECT_GT(testing::ExpectIndexesMatchTable(**reopened, "tbl"), 20'000u);
  EXPECT_EQ(QueryAll(**reopened, "by_label", S("after"), 100).size(), 500u);
}

TEST(GlobalIndexTest, ADeletedIndexIsGoneAndItsNameCanBeUsedAgain) {
  testing::TempDir dir;
  const EngineOptions options = testing::TestEngineOptions(dir.path());
  auto engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE(CreateGlobalIndexTable(**engine).ok());
  PutMany(**engine, 2'000);
  GlobalIndexUpdate remove;
  remove.kind = GlobalIndexUpdate::Kind::kDelete;
  remove.index.name = "by_state";
  auto removed = (*engine)->UpdateGlobalIndexes("tbl", remove);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  ASSERT_EQ(removed->global_indexes.size(), 1u);
  EXPECT_EQ(removed->global_indexes[0].definition.name, "by_rank");
  EXPECT_EQ((*engine)->UpdateGlobalIndexes("tbl", remove).status().code(),
            ErrorCode::kResourceNotFound);
  ScanRequest scan;
  scan.table = "tbl";
  scan.index.name = "by_state";
  EXPECT_EQ((*engine)->Scan(scan).status().message(),
            "The table does not have the specified index: by_state");
  // Writes go on (work queued before the delete names the deleted index too).
  PutMany(**engine, 1'000);

  // Names are unique over local and global indexes; only one index builds at a time.
  GlobalIndexUpdate again = CreateByLabel();
  again.index.name = "local_rank";
  EXPECT_EQ((*engine)->UpdateGlobalIndexes("tbl", again).status().code(), ErrorCode::kValidation);
  again.index.name = "by_state";
  again.index.key_schema = {{"state", AttributeType::kS}, std::nullopt};
  auto recreated = (*engine)->UpdateGlobalIndexes("tbl", again);
  ASSERT_TRUE(recreated.ok()) << recreated.status().ToString();
  GlobalIndexUpdate second = CreateByLabel();
  const Status busy = (*engine)->UpdateGlobalIndexes("tbl", second).status();
  if (Backfilling(**engine, "by_state")) {
    EXPECT_EQ(busy.code(), ErrorCode::kLimitExceeded);
  }
  EXPECT_TRUE(Eventually([&] { return !Backfilling(**engine, "by_state"); }));
  EXPECT_GT(testing::ExpectIndexesMatchTable(**engine, "tbl"), 0u);

  // Over a restart: the deleted index stays deleted, the recreated one keeps its entries.
  engine->reset();
  auto reopened = Engine::Open(options);
  ASSERT_TRUE(reopened.ok());
  auto described = (*reopened)->DescribeTable("tbl");
  ASSERT_TRUE(described.ok());
  std::set<std::string> names;
  for (const IndexDescription& d : described->global_indexes) names.insert(d.definition.name);
  EXPECT_TRUE(names.count("by_state") == 1 && names.count("by_rank") == 1);
  EXPECT_GT(testing::ExpectIndexesMatchTable(**reopened, "tbl"), 0u);
}

TEST(GlobalIndexTest, AnIndexCreatedOnATableWithoutIndexesSurvivesAReopen) {
  testing::TempDir dir;
  const EngineOptions options = testing::TestEngineOptions(dir.path());
  {
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok());
    CreateTableRequest request;
    request.name = "tbl";
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kS};
    ASSERT_TRUE((*engine)->CreateTable(request).ok());
    PutMany(**engine, 3'000);
    ASSERT_TRUE((*engine)->UpdateGlobalIndexes("tbl", CreateByLabel()).ok());
    EXPECT_TRUE(Eventually([&] { return !Backfilling(**engine, "by_label"); }));
    EXPECT_GT(testing::ExpectIndexesMatchTable(**engine, "tbl"), 0u);
    GlobalIndexUpdate remove;
    remove.kind = GlobalIndexUpdate::Kind::kDelete;
    remove.index.name = "by_label";
    ASSERT_TRUE((*engine)->UpdateGlobalIndexes("tbl", remove).ok());
  }
  auto reopened = Engine::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto described = (*reopened)->DescribeTable("tbl");
  ASSERT_TRUE(described.ok());
  EXPECT_TRUE(described->global_indexes.empty());
  ASSERT_TRUE((*reopened)->UpdateGlobalIndexes("tbl", CreateByLabel()).ok());
  EXPECT_TRUE(Eventually([&] { return !Backfilling(**reopened, "by_label"); }));
  EXPECT_GT(testing::ExpectIndexesMatchTable(**reopened, "tbl"), 0u);
}

}  // namespace
}  // namespace tidewater
