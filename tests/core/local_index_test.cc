// Local secondary indexes in the engine: each item's entry is written in the item's own
// batch, so after any mix of writes (concurrent, transactional, over a reopen) the index is
// exactly what a recomputation from the table gives; Query and Scan read it in index order
// with DynamoDB's projections and pagination.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
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

// Table "tbl" (pk S, sk S) with "by_rank" (pk, rank N; INCLUDE "label") and "by_state"
// (pk, state S; KEYS_ONLY).
Status CreateIndexedTable(Engine& engine, bool stream = false) {
  CreateTableRequest request;
  request.name = "tbl";
  request.stream = {stream, StreamViewType::kNewAndOldImages};
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kS};
  SecondaryIndex by_rank;
  by_rank.name = "by_rank";
  by_rank.key_schema.partition_key = {"pk", AttributeType::kS};
  by_rank.key_schema.sort_key = KeyAttribute{"rank", AttributeType::kN};
  by_rank.projection = {ProjectionType::kInclude, {"label"}};
  SecondaryIndex by_state;
  by_state.name = "by_state";
  by_state.key_schema.partition_key = {"pk", AttributeType::kS};
  by_state.key_schema.sort_key = KeyAttribute{"state", AttributeType::kS};
  by_state.projection = {ProjectionType::kKeysOnly, {}};
  request.local_indexes = {by_rank, by_state};
  Status created = engine.CreateTable(request).status();
  EXPECT_TRUE(created.ok()) << created.message();
  return created;
}

// Every page of a Query on `index` for partition `pk`, following LastEvaluatedKey.
std::vector<Item> QueryAll(Engine& engine, const std::string& index, const std::string& pk,
                           size_t limit, bool forward = true) {
  std::vector<Item> items;
  QueryRequest query;
  query.table = "tbl";
  query.index.name = index;
  query.partition_key = S(pk);
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

void ExpectIndexMatchesTable(Engine& engine) {
  EXPECT_GT(testing::ExpectIndexesMatchTable(engine, "tbl"), 0u);
}

TEST(LocalIndexTest, QueryReadsTheIndexInIndexOrderWithItsProjection) {
  testing::TempDir dir;
  auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE(CreateIndexedTable(**engine).ok());
  for (int i = 0; i < 6; ++i) {
    Item item{{"pk", S("p")},
              {"sk", S("item" + std::to_string(i))},
              {"rank", N(10 - i)},
              {"label", S("l" + std::to_string(i))},
              {"other", S("not projected")}};
    if (i == 2) item.erase("rank");  // sparse: no entry
    ASSERT_TRUE((*engine)->PutItem("tbl", item).ok());
  }
  std::vector<Item> entries = QueryAll(**engine, "by_rank", "p", 0);
  ASSERT_EQ(entries.size(), 5u);
  std::vector<std::string> order;
  for (const Item& entry : entries) {
    order.push_back(entry.at("sk").s());
    EXPECT_EQ(entry.count("other"), 0u);
    EXPECT_EQ(entry.count("label"), 1u);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"item5", "item4", "item3", "item1", "item0"}));

  // A fetch returns whole items, still in index order.
  QueryRequest query;
  query.table = "tbl";
  query.index = {"by_rank", true};
  query.partition_key = S("p");
  query.sort_key = {SortKeyCondition::Op::kGe, N(8), {}};
  auto fetched = (*engine)->Query(query);
  ASSERT_TRUE(fetched.ok());
  ASSERT_EQ(fetched->items.size(), 2u);
  EXPECT_EQ(fetched->items[0].at("sk").s(), "item1");
  EXPECT_EQ(fetched->items[0].at("other").s(), "not projected");

  // KEYS_ONLY: the table's and the index's keys.
  ASSERT_TRUE(
      (*engine)
          ->PutItem("tbl",
                    {{"pk", S("p")}, {"sk", S("x")}, {"state", S("on")}, {"label", S("hidden")}})
          .ok());
  std::vector<Item> keys_only = QueryAll(**engine, "by_state", "p", 0);
  ASSERT_EQ(keys_only.size(), 1u);
  EXPECT_EQ(keys_only[0], (Item{{"pk", S("p")}, {"sk", S("x")}, {"state", S("on")}}));

  QueryRequest unknown;
  unknown.table = "tbl";
  unknown.index.name = "nope";
  unknown.partition_key = S("p");
  EXPECT_EQ((*engine)->Query(unknown).status().message(),
            "The table does not have the specified index: nope");
}

TEST(LocalIndexTest, PagesOverEqualIndexKeysReturnEveryEntryOnceInBothDirections) {
  testing::TempDir dir;
  auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE(CreateIndexedTable(**engine).ok());
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(
        (*engine)
            ->PutItem("tbl",
                      {{"pk", S("p")}, {"sk", S("k" + std::to_string(i))}, {"rank", N(i % 3)}})
            .ok());
  }
  for (size_t limit : {1u, 2u, 4u}) {
    std::vector<Item> forward = QueryAll(**engine, "by_rank", "p", limit);
    std::vector<Item> backward = QueryAll(**engine, "by_rank", "p", limit, false);
    ASSERT_EQ(forward.size(), 9u) << "limit " << limit;
    ASSERT_EQ(backward.size(), 9u) << "limit " << limit;
    std::reverse(backward.begin(), backward.end());
    EXPECT_EQ(forward, backward);
    for (size_t i = 1; i < forward.size(); ++i) {
      EXPECT_LE(std::stoi(forward[i - 1].at("rank").n().ToString()),
                std::stoi(forward[i].at("rank").n().ToString()));
    }
  }
}

TEST(LocalIndexTest, WritesMoveAndDropEntriesAndWrongTypesAreRefused) {
  testing::TempDir dir;
  auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE(CreateIndexedTable(**engine).ok());
  const Item key{{"pk", S("p")}, {"sk", S("a")}};
  ASSERT_TRUE((*engine)->PutItem("tbl", {{"pk", S("p")}, {"sk", S("a")}, {"rank", N(1)}}).ok());
  ASSERT_TRUE((*engine)->PutItem("tbl", {{"pk", S("p")}, {"sk", S("b")}, {"rank", N(2)}}).ok());
  // Update the index key: the entry moves behind "b".
  auto moved =
      (*engine)->UpdateItem("tbl", key, [](const Item* current) -> Result<std::optional<Item>> {
        Item next = *current;
        next["rank"] = N(3);
        return std::optional<Item>(next);
      });
  ASSERT_TRUE(moved.ok());
  std::vector<Item> entries = QueryAll(**engine, "by_rank", "p", 0);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].at("sk").s(), "b");
  EXPECT_EQ(entries[1].at("sk").s(), "a");

  // The wrong type for an index key: refused, nothing written.
  auto wrong = (*engine)->PutItem("tbl", {{"pk", S("p")}, {"sk", S("c")}, {"rank", S("high")}});
  EXPECT_EQ(wrong.status().code(), ErrorCode::kValidation);
  EXPECT_EQ(wrong.status().message(),
            "One or more parameter values were invalid: Type mismatch for Index Key rank "
            "Expected: N Actual: S IndexName: by_rank");
  auto absent = (*engine)->GetItem("tbl", {{"pk", S("p")}, {"sk", S("c")}});
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
  auto wrong_update =
      (*engine)->UpdateItem("tbl", key, [](const Item* current) -> Result<std::optional<Item>> {
        Item next = *current;
        next["state"] = S("");
        return std::optional<Item>(next);
      });
  EXPECT_EQ(wrong_update.status().code(), ErrorCode::kValidation);

  // Removing the attribute drops the entry; deleting the item drops its entry.
  ASSERT_TRUE((*engine)->PutItem("tbl", {{"pk", S("p")}, {"sk", S("a")}}).ok());
  ASSERT_TRUE((*engine)->DeleteItem("tbl", {{"pk", S("p")}, {"sk", S("b")}}).ok());
  EXPECT_TRUE(QueryAll(**engine, "by_rank", "p", 0).empty());

  // A transaction writes its items' entries in its batch.
  std::vector<Mutation> mutations;
  mutations.push_back(
      {Mutation::Kind::kPut, "tbl", {{"pk", S("q")}, {"sk", S("1")}, {"rank", N(5)}}});
  mutations.push_back(
      {Mutation::Kind::kPut, "tbl", {{"pk", S("r")}, {"sk", S("1")}, {"rank", N(6)}}});
  ASSERT_TRUE((*engine)->TransactWrite(std::move(mutations)).ok());
  EXPECT_EQ(QueryAll(**engine, "by_rank", "q", 0).size(), 1u);
  EXPECT_EQ(QueryAll(**engine, "by_rank", "r", 0).size(), 1u);
  ExpectIndexMatchesTable(**engine);
}

// Concurrent writers move items between index keys (with group commit, so that writes of
// one key queue behind each other); the index equals a recomputation from the table, and
// still does after a reopen.
TEST(LocalIndexTest, ConcurrentWritersLeaveTheIndexEqualToTheTable) {
  testing::TempDir dir;
  EngineOptions options = testing::TestEngineOptions(dir.path());
  options.sync = true;
  {
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok());
    ASSERT_TRUE(CreateIndexedTable(**engine).ok());
    std::vector<std::thread> writers;
    std::atomic<int> failures{0};
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        std::mt19937 rng(w);
        for (int i = 0; i < 300; ++i) {
          const std::string pk = "p" + std::to_string(rng() % 3);
          const std::string sk = "k" + std::to_string(rng() % 20);
          Item item{{"pk", S(pk)}, {"sk", S(sk)}, {"label", S("w" + std::to_string(w))}};
          if (rng() % 4 != 0) item["rank"] = N(static_cast<int64_t>(rng() % 50));
          Status s = rng() % 7 == 0
                         ? (*engine)->DeleteItem("tbl", {{"pk", S(pk)}, {"sk", S(sk)}}).status()
                         : (*engine)->PutItem("tbl", item).status();
          if (!s.ok()) ++failures;
        }
      });
    }
    for (auto& writer : writers) writer.join();
    EXPECT_EQ(failures.load(), 0);
    ExpectIndexMatchesTable(**engine);
  }
  auto reopened = Engine::Open(options);
  ASSERT_TRUE(reopened.ok());
  ExpectIndexMatchesTable(**reopened);
  auto described = (*reopened)->DescribeTable("tbl");
  ASSERT_TRUE(described.ok());
  ASSERT_EQ(described->local_indexes.size(), 2u);
  EXPECT_EQ(described->local_indexes[0].definition.name, "by_rank");
  EXPECT_EQ(described->local_indexes[0].definition.projection.non_key_attributes,
            std::vector<std::string>{"label"});
  EXPECT_GT(described->local_indexes[0].approximate_size_bytes, 0u);
}

}  // namespace
}  // namespace tidewater

namespace tidewater {
namespace {

// A partition whose items and index entries reach the item collection limit takes no
// more items and no growth; shrinking and deleting still work, other partitions too.
TEST(LocalIndexTest, AFullItemCollectionRefusesGrowthOnly) {
  testing::TempDir dir;
  EngineOptions options = testing::TestEngineOptions(dir.path());
  options.item_collection_limit_bytes = 64 * 1024;
  auto engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE(CreateIndexedTable(**engine).ok());
  const std::string pad(2000, 'x');
  int accepted = 0;
  Status refused;
  for (int i = 0; i < 500 && refused.ok(); ++i) {
    refused = (*engine)
                  ->PutItem("tbl", {{"pk", S("big")},
                                    {"sk", S("k" + std::to_string(i))},
                                    {"rank", N(i)},
                                    {"label", S(pad)}})
                  .status();
    if (refused.ok()) ++accepted;
  }
  ASSERT_EQ(refused.code(), ErrorCode::kItemCollectionSizeLimitExceeded) << refused.ToString();
  EXPECT_GE(accepted, 10);  // about 64 KB of items and INCLUDE entries of 2 KB each
  auto size = (*engine)->ItemCollectionBytes("tbl", S("big"));
  ASSERT_TRUE(size.ok());
  EXPECT_GE(*size, options.item_collection_limit_bytes);
  // A transaction that grows the full collection is canceled for it. (Checked while the
  // collection is full: the shrinking writes below may bring it under the limit again.)
  std::vector<Mutation> grow;
  grow.push_back({Mutation::Kind::kPut, "tbl", {{"pk", S("big")}, {"sk", S("new")}}});
  auto canceled = (*engine)->TransactWrite(std::move(grow));
  ASSERT_EQ(canceled.status().code(), ErrorCode::kTransactionCanceled);
  EXPECT_EQ(canceled.status().reasons().at(0).code(), ErrorCode::kItemCollectionSizeLimitExceeded);
  // Other partitions, shrinking writes and deletes go on.
  EXPECT_TRUE((*engine)->PutItem("tbl", {{"pk", S("small")}, {"sk", S("a")}}).ok());
  EXPECT_TRUE((*engine)->PutItem("tbl", {{"pk", S("big")}, {"sk", S("k0")}}).ok());
  EXPECT_TRUE((*engine)->DeleteItem("tbl", {{"pk", S("big")}, {"sk", S("k1")}}).ok());
}

// A replica table with the same local indexes: the source's change records, applied by
// replication (last writer wins), leave its indexes equal to a recomputation from it and to
// the source's.
TEST(LocalIndexTest, ReplicatedChangesKeepTheReplicasIndexes) {
  testing::TempDir source_dir;
  testing::TempDir replica_dir;
  EngineOptions source_options = testing::TestEngineOptions(source_dir.path());
  source_options.region = "us-test-1";
  auto source = Engine::Open(source_options);
  auto replica = Engine::Open(testing::TestEngineOptions(replica_dir.path()));
  ASSERT_TRUE(source.ok() && replica.ok());
  ASSERT_TRUE(CreateIndexedTable(**source, /*stream=*/true).ok());
  ASSERT_TRUE(CreateIndexedTable(**replica).ok());
  std::mt19937 rng(5);
  for (int i = 0; i < 400; ++i) {
    const std::string sk = "k" + std::to_string(rng() % 40);
    Item item{{"pk", S("p" + std::to_string(rng() % 3))}, {"sk", S(sk)}};
    if (rng() % 3 != 0) item["rank"] = N(static_cast<int64_t>(rng() % 20));
    if (rng() % 2 != 0) item["state"] = S(rng() % 2 ? "on" : "off");
    item["label"] = S("v" + std::to_string(i));
    Status s = rng() % 6 == 0
                   ? (*source)->DeleteItem("tbl", {{"pk", item["pk"]}, {"sk", item["sk"]}}).status()
                   : (*source)->PutItem("tbl", item).status();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  testing::ReplicateWholeLog(**source, **replica, "tbl", "us-test-1");
  ASSERT_FALSE(HasFailure());
  EXPECT_GT(testing::ExpectIndexesMatchTable(**replica, "tbl"), 0u);
  for (const char* index : {"by_rank", "by_state"}) {
    EXPECT_EQ(testing::ScanEverything(**replica, "tbl", index).size(),
              testing::ScanEverything(**source, "tbl", index).size())
        << index;
  }
}

}  // namespace
}  // namespace tidewater
