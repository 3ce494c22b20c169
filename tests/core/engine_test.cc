// The engine's table, item, query/scan and change-log behaviour, single-threaded.
#include "tidewater/core/engine.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>

#include "support/change_log_checker.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {
namespace {

using testing::TempDir;

AttributeValue S(const std::string& s) { return AttributeValue::S(s); }
AttributeValue N(const std::string& n) { return AttributeValue::N(*Number::Parse(n)); }

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    EngineOptions options = testing::TestEngineOptions(dir_.path(), &clock_);
    options.region = "eu-test-1";
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  void Reopen() {
    engine_.reset();
    Open();
  }

  void CreateTable(const std::string& name, bool with_sort_key,
                   StreamViewType view = StreamViewType::kNewAndOldImages, uint32_t shards = 4) {
    CreateTableRequest request;
    request.name = name;
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    if (with_sort_key) request.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kN};
    request.stream = {true, view};
    request.shard_count = shards;
    auto created = engine_->CreateTable(request);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  Item Row(const std::string& pk, const std::string& sk, const std::string& data) {
    return {{"pk", S(pk)}, {"sk", N(sk)}, {"data", S(data)}};
  }

  std::vector<ChangeRecord> AllRecords(const std::string& table) {
    std::vector<ChangeRecord> records;
    auto description = engine_->DescribeTable(table);
    EXPECT_TRUE(description.ok());
    for (const auto& shard : description->shards) {
      auto read = engine_->ReadShard({TableName(table), shard.index, SequenceNumber(1), 10000});
      EXPECT_TRUE(read.ok());
      for (auto& r : read->records) records.push_back(r);
    }
    return records;
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, TableLifecycle) {
  CreateTable("orders", true);
  CreateTable("users", false);
  auto again = engine_->CreateTable({"orders", {{"pk", AttributeType::kS}, std::nullopt}});
  EXPECT_EQ(again.status().code(), ErrorCode::kResourceInUse);

  auto page = engine_->ListTables(std::nullopt, 1);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->names, std::vector<std::string>{"orders"});
  ASSERT_TRUE(page->last_evaluated_table_name);
  auto rest = engine_->ListTables(page->last_evaluated_table_name, 10);
  EXPECT_EQ(rest->names, std::vector<std::string>{"users"});
  EXPECT_FALSE(rest->last_evaluated_table_name);

  ASSERT_TRUE(engine_->PutItem("orders", Row("a", "1", "x")).ok());
  Reopen();
  auto described = engine_->DescribeTable("orders");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->key_schema.sort_key->name, "sk");
  EXPECT_EQ(described->shards.size(), 4u);
  EXPECT_TRUE(described->stream.enabled);
  EXPECT_FALSE(described->stream_label.empty());

  ASSERT_TRUE(engine_->DeleteTable("orders").ok());
  EXPECT_EQ(engine_->DescribeTable("orders").status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(engine_->PutItem("orders", Row("a", "1", "x")).status().code(),
            ErrorCode::kResourceNotFound);
  Reopen();
  EXPECT_EQ(engine_->DescribeTable("orders").status().code(), ErrorCode::kResourceNotFound);
  // The name can be reused; the new table starts empty.
  CreateTable("orders", true);
  auto scan = engine_->Scan({"orders"});
  ASSERT_TRUE(scan.ok());
  EXPECT_TRUE(scan->items.empty());
  EXPECT_TRUE(AllRecords("orders").empty());
}

TEST_F(EngineTest, BadTableNamesAreRejected) {
  for (const std::string& name :
       std::vector<std::string>{"ab", "has space", std::string(256, 'a')}) {
    auto created = engine_->CreateTable({name, {{"pk", AttributeType::kS}, std::nullopt}});
    EXPECT_EQ(created.status().code(), ErrorCode::kValidation) << name;
  }
}

TEST_F(EngineTest, PutGetDeleteWithRecordsPerEvent) {
  CreateTable("tbl", true);
  ASSERT_TRUE(engine_->PutItem("tbl", Row("a", "1", "v1")).ok());
  ASSERT_TRUE(engine_->PutItem("tbl", Row("a", "1", "v2")).ok());
  // Writing the same item again changes nothing and logs nothing.
  ASSERT_TRUE(engine_->PutItem("tbl", Row("a", "1", "v2")).ok());
  auto got = engine_->GetItem("tbl", {{"pk", S("a")}, {"sk", N("1")}});
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((**got).at("data"), S("v2"));
  auto deleted = engine_->DeleteItem("tbl", {{"pk", S("a")}, {"sk", N("1.0")}});
  ASSERT_TRUE(deleted.ok());
  ASSERT_TRUE(deleted->old_item);
  // Deleting an absent item is not an error and logs nothing.
  ASSERT_TRUE(engine_->DeleteItem("tbl", {{"pk", S("a")}, {"sk", N("1")}}).ok());

  auto records = AllRecords("tbl");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].event(), v1::INSERT);
  EXPECT_EQ(records[1].event(), v1::MODIFY);
  EXPECT_EQ(records[2].event(), v1::REMOVE);
  EXPECT_EQ(records[0].sequence(), 1u);
  EXPECT_EQ(records[2].sequence(), 3u);
  EXPECT_FALSE(records[0].has_old_image());
  EXPECT_TRUE(records[0].has_new_image());
  EXPECT_TRUE(records[1].has_old_image());
  EXPECT_FALSE(records[2].has_new_image());
  EXPECT_EQ(records[0].origin_region(), "eu-test-1");
  EXPECT_EQ(records[0].provenance(), v1::USER_WRITE);
  EXPECT_EQ(records[0].approximate_creation_time_micros(), clock_.NowMicros());
  EXPECT_GT(records[1].version().hlc_micros(), records[0].version().hlc_micros());
  auto old_image = FromProto(records[1].old_image());
  ASSERT_TRUE(old_image.ok());
  EXPECT_EQ(old_image->at("data"), S("v1"));
  auto keys = FromProto(records[2].keys());
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_GT(records[0].size_bytes(), 0u);
}

TEST_F(EngineTest, RecordsFollowTheViewType) {
  struct Case {
    StreamViewType view;
    bool new_image;
    bool old_image;
  };
  int n = 0;
  for (auto c :
       {Case{StreamViewType::kKeysOnly, false, false}, Case{StreamViewType::kNewImage, true, false},
        Case{StreamViewType::kOldImage, false, true},
        Case{StreamViewType::kNewAndOldImages, true, true}}) {
    const std::string table = "view" + std::to_string(n++);
    CreateTable(table, true, c.view, 1);
    ASSERT_TRUE(engine_->PutItem(table, Row("a", "1", "old")).ok());
    ASSERT_TRUE(engine_->PutItem(table, Row("a", "1", "new")).ok());
    auto records = AllRecords(table);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1].has_new_image(), c.new_image) << table;
    EXPECT_EQ(records[1].has_old_image(), c.old_image) << table;
    EXPECT_EQ(records[1].keys().attributes_size(), 2);
    EXPECT_EQ(records[1].view_type(), ToProto(c.view));
  }
}

TEST_F(EngineTest, BadInputIsRejectedAndWritesNothing) {
  CreateTable("tbl", true);
  struct Case {
    Item item;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"sk", N("1")}},
       "One or more parameter values were invalid: Missing the key pk in the item"},
      {{{"pk", N("1")}, {"sk", N("1")}},
       "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"},
      {{{"pk", S("")}, {"sk", N("1")}},
       "One or more parameter values are not valid. The AttributeValue for a key attribute "
       "cannot contain an empty string value. Key: pk"},
      {{{"pk", S(std::string(2049, 'k'))}, {"sk", N("1")}},
       "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size "
       "limit of2048 bytes"},
      {{{"pk", S("a")}, {"sk", N("1")}, {"big", S(std::string(400 * 1024, 'x'))}},
       "Item size has exceeded the maximum allowed size"},
  };
  for (const auto& c : cases) {
    auto put = engine_->PutItem("tbl", c.item);
    EXPECT_EQ(put.status().code(), ErrorCode::kValidation);
    EXPECT_EQ(put.status().message(), c.message);
  }
  for (const Item& key : std::vector<Item>{{{"pk", S("a")}},
                                           {{"pk", S("a")}, {"sk", S("1")}},
                                           {{"pk", S("a")}, {"sk", N("1")}, {"x", N("1")}}}) {
    EXPECT_EQ(engine_->GetItem("tbl", key).status().message(),
              "The provided key element does not match the schema");
    EXPECT_EQ(engine_->DeleteItem("tbl", key).status().code(), ErrorCode::kValidation);
  }
  // A failed condition writes nothing either.
  const WriteCondition never = [](const Item*) { return Status::ConditionFailed(); };
  EXPECT_EQ(engine_->PutItem("tbl", Row("a", "1", "x"), never).status().code(),
            ErrorCode::kConditionalCheckFailed);
  auto scan = engine_->Scan({"tbl"});
  ASSERT_TRUE(scan.ok());
  EXPECT_TRUE(scan->items.empty());
  EXPECT_TRUE(AllRecords("tbl").empty());
}

TEST_F(EngineTest, ConditionsSeeTheCurrentItemAndUpdatesComputeTheNext) {
  CreateTable("tbl", true);
  const WriteCondition absent = [](const Item* current) {
    return current == nullptr ? Status::Ok() : Status::ConditionFailed();
  };
  ASSERT_TRUE(engine_->PutItem("tbl", Row("a", "1", "x"), absent).ok());
  EXPECT_EQ(engine_->PutItem("tbl", Row("a", "1", "y"), absent).status().code(),
            ErrorCode::kConditionalCheckFailed);

  const ItemUpdater append = [](const Item* current) -> Result<std::optional<Item>> {
    Item next = *current;
    next["data"] = AttributeValue::S(current->at("data").s() + "!");
    return std::make_optional(std::move(next));
  };
  auto updated = engine_->UpdateItem("tbl", {{"pk", S("a")}, {"sk", N("1")}}, append);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->old_item->at("data"), S("x"));
  EXPECT_EQ(updated->new_item->at("data"), S("x!"));

  const ItemUpdater change_key = [](const Item* current) -> Result<std::optional<Item>> {
    Item next = *current;
    next["pk"] = AttributeValue::S("other");
    return std::make_optional(std::move(next));
  };
  auto bad = engine_->UpdateItem("tbl", {{"pk", S("a")}, {"sk", N("1")}}, change_key);
  EXPECT_EQ(bad.status().message(),
            "One or more parameter values were invalid: Cannot update attribute pk. This "
            "attribute is part of the key");
  EXPECT_EQ(AllRecords("tbl").size(), 2u);
}

TEST_F(EngineTest, UpdaterThatLeavesAnAbsentItemAbsentWritesNothing) {
  CreateTable("tbl", true);
  const Item key{{"pk", S("a")}, {"sk", N("1")}};
  const ItemUpdater stays_absent = [](const Item*) -> Result<std::optional<Item>> {
    return std::optional<Item>();
  };
  auto absent = engine_->UpdateItem("tbl", key, stays_absent);
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_FALSE(absent->old_item);
  EXPECT_FALSE(absent->new_item);
  EXPECT_FALSE(*engine_->GetItem("tbl", key));
  EXPECT_TRUE(AllRecords("tbl").empty());

  auto in_transaction =
      engine_->TransactWrite({Mutation{Mutation::Kind::kUpdate, "tbl", key, {}, stays_absent},
                              Mutation{Mutation::Kind::kPut, "tbl", Row("b", "1", "x")}});
  ASSERT_TRUE(in_transaction.ok()) << in_transaction.status().ToString();
  EXPECT_FALSE(*engine_->GetItem("tbl", key));
  EXPECT_EQ(AllRecords("tbl").size(), 1u);

  // An existing item cannot be removed this way.
  ASSERT_TRUE(engine_->PutItem("tbl", Row("a", "1", "x")).ok());
  EXPECT_EQ(engine_->UpdateItem("tbl", key, stays_absent).status().code(), ErrorCode::kInternal);
  EXPECT_TRUE(*engine_->GetItem("tbl", key));
}

TEST_F(EngineTest, QuerySortKeyConditionsAndPaging) {
  CreateTable("tbl", true);
  for (int i = -5; i <= 20; ++i) {
    ASSERT_TRUE(engine_->PutItem("tbl", Row("p", std::to_string(i), "v")).ok());
  }
  ASSERT_TRUE(engine_->PutItem("tbl", Row("other", "1", "v")).ok());
  const auto sort_keys = [](const ItemPage& page) {
    std::vector<std::string> out;
    for (const auto& item : page.items) out.push_back(item.at("sk").n().ToString());
    return out;
  };
  using Op = SortKeyCondition::Op;
  QueryRequest q;
  q.table = "tbl";
  q.partition_key = S("p");
  auto all = engine_->Query(q);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 26u);
  EXPECT_EQ(sort_keys(*all).front(), "-5");
  EXPECT_EQ(sort_keys(*all).back(), "20");
  EXPECT_FALSE(all->last_evaluated_key);

  q.sort_key = {Op::kBetween, N("-1"), N("2")};
  EXPECT_EQ(sort_keys(*engine_->Query(q)), (std::vector<std::string>{"-1", "0", "1", "2"}));
  q.sort_key = {Op::kLt, N("-3"), {}};
  EXPECT_EQ(sort_keys(*engine_->Query(q)), (std::vector<std::string>{"-5", "-4"}));
  q.sort_key = {Op::kGe, N("19"), {}};
  EXPECT_EQ(sort_keys(*engine_->Query(q)), (std::vector<std::string>{"19", "20"}));
  q.sort_key = {Op::kGt, N("19"), {}};
  EXPECT_EQ(sort_keys(*engine_->Query(q)), (std::vector<std::string>{"20"}));
  q.sort_key = {Op::kLe, N("-5"), {}};
  EXPECT_EQ(sort_keys(*engine_->Query(q)), (std::vector<std::string>{"-5"}));
  q.sort_key = {Op::kEq, N("7.0"), {}};
  EXPECT_EQ(sort_keys(*engine_->Query(q)), (std::vector<std::string>{"7"}));

  // Backwards, in pages of 4: all 26, in descending order, each once.
  q.sort_key = {};
  q.forward = false;
  q.limit = 4;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 20; ++pages) {
    auto page = engine_->Query(q);
    ASSERT_TRUE(page.ok());
    for (auto& k : sort_keys(*page)) seen.push_back(k);
    if (!page->last_evaluated_key) break;
    q.exclusive_start_key = page->last_evaluated_key;
  }
  ASSERT_EQ(seen.size(), 26u);
  EXPECT_EQ(seen.front(), "20");
  EXPECT_EQ(seen.back(), "-5");

  QueryRequest wrong_type;
  wrong_type.table = "tbl";
  wrong_type.partition_key = N("1");
  EXPECT_EQ(engine_->Query(wrong_type).status().code(), ErrorCode::kValidation);
}

TEST_F(EngineTest, QueryBeginsWithOnStringSortKey) {
  CreateTableRequest request;
  request.name = "files";
  request.key_schema = {{"dir", AttributeType::kS}, KeyAttribute{"name", AttributeType::kS}};
  ASSERT_TRUE(engine_->CreateTable(request).ok());
  for (const std::string& name :
       std::vector<std::string>{"a", "ab", std::string("ab\0c", 4), "abc", "abd", "b", "aa"}) {
    ASSERT_TRUE(engine_->PutItem("files", {{"dir", S("d")}, {"name", S(name)}}).ok());
  }
  QueryRequest q;
  q.table = "files";
  q.partition_key = S("d");
  q.sort_key = {SortKeyCondition::Op::kBeginsWith, S("ab"), {}};
  auto page = engine_->Query(q);
  ASSERT_TRUE(page.ok());
  std::vector<std::string> names;
  for (auto& item : page->items) names.push_back(item.at("name").s());
  EXPECT_EQ(names, (std::vector<std::string>{"ab", std::string("ab\0c", 4), "abc", "abd"}));
}

TEST_F(EngineTest, QueryPagesStopAtOneMegabyte) {
  CreateTable("tbl", true);
  const std::string payload(100 * 1024, 'x');
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(engine_->PutItem("tbl", Row("p", std::to_string(i), payload)).ok());
  }
  QueryRequest q;
  q.table = "tbl";
  q.partition_key = S("p");
  size_t total = 0;
  int pages = 0;
  while (true) {
    auto page = engine_->Query(q);
    ASSERT_TRUE(page.ok());
    ++pages;
    total += page->items.size();
    EXPECT_LE(page->scanned_bytes, 1024 * 1024 + 110 * 1024);
    if (!page->last_evaluated_key) break;
    q.exclusive_start_key = page->last_evaluated_key;
  }
  EXPECT_EQ(total, 25u);
  EXPECT_GE(pages, 3);
}

TEST_F(EngineTest, ScanSegmentsPartitionTheTable) {
  CreateTable("tbl", false);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(engine_->PutItem("tbl", {{"pk", S("k" + std::to_string(i))}}).ok());
  }
  std::set<std::string> seen;
  for (uint32_t segment = 0; segment < 7; ++segment) {
    ScanRequest scan{"tbl", segment, 7, 50, std::nullopt};
    while (true) {
      auto page = engine_->Scan(scan);
      ASSERT_TRUE(page.ok());
      for (auto& item : page->items) {
        EXPECT_TRUE(seen.insert(item.at("pk").s()).second) << "seen twice: " << item.at("pk").s();
      }
      if (!page->last_evaluated_key) break;
      scan.exclusive_start_key = page->last_evaluated_key;
    }
  }
  EXPECT_EQ(seen.size(), 300u);
  EXPECT_EQ(engine_->Scan({"tbl", 7, 7}).status().code(), ErrorCode::kValidation);
}

TEST_F(EngineTest, TransactionsAreAllOrNothing) {
  CreateTable("tbl", true);
  ASSERT_TRUE(engine_->PutItem("tbl", Row("a", "1", "x")).ok());
  const WriteCondition absent = [](const Item* current) {
    return current == nullptr ? Status::Ok() : Status::ConditionFailed();
  };
  std::vector<Mutation> failing;
  failing.push_back({Mutation::Kind::kPut, "tbl", Row("b", "1", "y"), {}, {}});
  failing.push_back({Mutation::Kind::kPut, "tbl", Row("a", "1", "z"), absent, {}});
  auto canceled = engine_->TransactWrite(std::move(failing));
  ASSERT_EQ(canceled.status().code(), ErrorCode::kTransactionCanceled);
  ASSERT_EQ(canceled.status().reasons().size(), 2u);
  EXPECT_TRUE(canceled.status().reasons()[0].ok());
  EXPECT_EQ(canceled.status().reasons()[1].code(), ErrorCode::kConditionalCheckFailed);
  EXPECT_FALSE(engine_->GetItem("tbl", {{"pk", S("b")}, {"sk", N("1")}})->has_value());
  EXPECT_EQ(AllRecords("tbl").size(), 1u);

  std::vector<Mutation> good;
  for (int i = 0; i < 10; ++i) {
    good.push_back({Mutation::Kind::kPut, "tbl", Row("k" + std::to_string(i), "1", "v"), {}, {}});
  }
  good.push_back({Mutation::Kind::kDelete, "tbl", {{"pk", S("a")}, {"sk", N("1")}}, {}, {}});
  ASSERT_TRUE(engine_->TransactWrite(std::move(good)).ok());
  auto records = AllRecords("tbl");
  ASSERT_EQ(records.size(), 12u);
  std::map<uint32_t, uint32_t> per_shard;
  std::string id;
  for (const auto& r : records) {
    if (r.transaction_id().empty()) continue;
    if (id.empty()) id = r.transaction_id();
    EXPECT_EQ(r.transaction_id(), id);
    ++per_shard[r.shard()];
  }
  for (const auto& r : records) {
    if (!r.transaction_id().empty()) {
      EXPECT_EQ(r.transaction_shard_participants(), per_shard[r.shard()]);
    }
  }

  std::vector<Mutation> twice;
  twice.push_back({Mutation::Kind::kPut, "tbl", Row("q", "1", "y"), {}, {}});
  twice.push_back({Mutation::Kind::kDelete, "tbl", {{"pk", S("q")}, {"sk", N("1")}}, {}, {}});
  EXPECT_EQ(engine_->TransactWrite(std::move(twice)).status().message(),
            "Transaction request cannot include multiple operations on one item");
}

TEST_F(EngineTest, StreamCanBeTurnedOffAndOn) {
  CreateTable("tbl", true, StreamViewType::kKeysOnly, 1);
  ASSERT_TRUE(engine_->PutItem("tbl", Row("a", "1", "x")).ok());
  ASSERT_TRUE(engine_->UpdateStream("tbl", {false, StreamViewType::kKeysOnly}).ok());
  ASSERT_TRUE(engine_->PutItem("tbl", Row("b", "1", "x")).ok());
  clock_.AdvanceSeconds(2);
  EXPECT_EQ(engine_->UpdateStream("tbl", {false, StreamViewType::kKeysOnly}).status().code(),
            ErrorCode::kValidation);
  auto enabled = engine_->UpdateStream("tbl", {true, StreamViewType::kNewImage});
  ASSERT_TRUE(enabled.ok());
  ASSERT_TRUE(engine_->PutItem("tbl", Row("c", "1", "x")).ok());
  auto records = AllRecords("tbl");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].sequence(), 2u);
  EXPECT_NE(records[0].stream_label(), records[1].stream_label());
  EXPECT_TRUE(records[1].has_new_image());
  // Enabling an enabled stream, whatever the view type, is rejected as DynamoDB does.
  for (auto view : {StreamViewType::kNewImage, StreamViewType::kKeysOnly}) {
    EXPECT_EQ(engine_->UpdateStream("tbl", {true, view}).status().code(), ErrorCode::kValidation);
  }
}

TEST_F(EngineTest, RetentionTrimsOldRecordsAndSequencesContinueAfterReopen) {
  CreateTable("tbl", false, StreamViewType::kKeysOnly, 1);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(engine_->PutItem("tbl", {{"pk", S(std::to_string(i))}}).ok());
  clock_.AdvanceSeconds(23 * 3600);
  for (int i = 5; i < 8; ++i)
    ASSERT_TRUE(engine_->PutItem("tbl", {{"pk", S(std::to_string(i))}}).ok());
  EXPECT_EQ(*engine_->TrimStreams(), 0u);
  clock_.AdvanceSeconds(3600 + 1);
  EXPECT_EQ(*engine_->TrimStreams(), 5u);
  auto read = engine_->ReadShard({TableName("tbl"), ShardIndex(0), SequenceNumber(1), 100});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->first_available, SequenceNumber(6));
  ASSERT_EQ(read->records.size(), 3u);
  EXPECT_EQ(read->records.front().sequence(), 6u);

  clock_.AdvanceSeconds(24 * 3600);
  EXPECT_EQ(*engine_->TrimStreams(), 3u);
  Reopen();
  // Every record is gone, but the counter is not reset: no sequence is reused.
  ASSERT_TRUE(engine_->PutItem("tbl", {{"pk", S("after")}}).ok());
  auto after = engine_->ReadShard({TableName("tbl"), ShardIndex(0), SequenceNumber(1), 100});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->records.size(), 1u);
  EXPECT_EQ(after->records.front().sequence(), 9u);
  EXPECT_EQ(after->first_available, SequenceNumber(9));
}

TEST_F(EngineTest, TtlSweeperDeletesExpiredItemsAsTheService) {
  CreateTable("tbl", false, StreamViewType::kNewAndOldImages, 2);
  ASSERT_TRUE(engine_->UpdateTimeToLive("tbl", "expires").ok());
  const int64_t now = clock_.NowSeconds();
  const auto put = [&](const std::string& pk, std::optional<AttributeValue> ttl) {
    Item item{{"pk", S(pk)}};
    if (ttl) item["expires"] = *ttl;
    ASSERT_TRUE(engine_->PutItem("tbl", item).ok());
  };
  put("soon", N(std::to_string(now + 60)));
  put("later", N(std::to_string(now + 3600)));
  put("no-ttl", std::nullopt);
  put("string-ttl", S(std::to_string(now)));
  put("ancient", N(std::to_string(now - 6LL * 365 * 24 * 3600)));
  EXPECT_EQ(*engine_->RunTtlSweep(), 0u);
  clock_.AdvanceSeconds(61);
  EXPECT_EQ(*engine_->RunTtlSweep(), 1u);
  EXPECT_FALSE(engine_->GetItem("tbl", {{"pk", S("soon")}})->has_value());
  EXPECT_TRUE(engine_->GetItem("tbl", {{"pk", S("later")}})->has_value());
  clock_.AdvanceSeconds(3600);
  EXPECT_EQ(*engine_->RunTtlSweep(), 1u);
  EXPECT_TRUE(engine_->GetItem("tbl", {{"pk", S("no-ttl")}})->has_value());
  EXPECT_TRUE(engine_->GetItem("tbl", {{"pk", S("string-ttl")}})->has_value());
  EXPECT_TRUE(engine_->GetItem("tbl", {{"pk", S("ancient")}})->has_value());

  size_t ttl_removes = 0;
  for (const auto& r : AllRecords("tbl")) {
    if (r.provenance() == v1::TTL) {
      ++ttl_removes;
      EXPECT_EQ(r.event(), v1::REMOVE);
      EXPECT_TRUE(r.has_old_image());
    }
  }
  EXPECT_EQ(ttl_removes, 2u);
  EXPECT_EQ(engine_->UpdateTimeToLive("tbl", "expires").code(), ErrorCode::kValidation);
  ASSERT_TRUE(engine_->UpdateTimeToLive("tbl", std::nullopt).ok());
  EXPECT_FALSE(engine_->DescribeTable("tbl")->ttl_attribute);
}

// Wall time from a ManualClock (what expires is up to the test), monotonic time and waits
// from the system clock; remembers when (in real time) a thread other than the test's read
// the wall time: with no writes, those are the background sweeper's reads, one per sweep.
class SweepWatchingClock final : public Clock {
 public:
  explicit SweepWatchingClock(const ManualClock& wall) : wall_(wall) {}

  int64_t NowMicros() const override {
    if (std::this_thread::get_id() != test_thread_) {
      std::lock_guard lock(mu_);
      background_reads_.push_back(std::chrono::steady_clock::now());
    }
    return wall_.NowMicros();
  }
  MonotonicTime MonotonicNow() const override { return Clock::System()->MonotonicNow(); }
  bool WaitUntil(CondVar& cv, Mutex& mu, std::stop_token stop, MonotonicTime deadline,
                 const std::function<bool()>& ready) TW_REQUIRES(mu) override {
    return Clock::System()->WaitUntil(cv, mu, std::move(stop), deadline, ready);
  }

  // The real times of the background reads, those less than `gap` after the previous one
  // counted with it (one sweep).
  std::vector<std::chrono::steady_clock::time_point> Sweeps(std::chrono::milliseconds gap) const {
    std::lock_guard lock(mu_);
    std::vector<std::chrono::steady_clock::time_point> sweeps;
    for (const auto& read : background_reads_) {
      if (sweeps.empty() || read - sweeps.back() >= gap) sweeps.push_back(read);
    }
    return sweeps;
  }

 private:
  const ManualClock& wall_;
  const std::thread::id test_thread_ = std::this_thread::get_id();
  mutable std::mutex mu_;
  mutable std::vector<std::chrono::steady_clock::time_point> background_reads_;
};

// The background sweeper sweeps every ttl_sweep_interval, never sooner (measured in real
// time: the engine schedules its background work by real elapsed time), and removes what
// expired.
TEST_F(EngineTest, BackgroundSweeperRunsEveryInterval) {
  constexpr std::chrono::milliseconds kInterval{300};
  // A sweep reads the clock within a few microseconds of when it was scheduled; this much
  // more is left for a thread preempted in between.
  constexpr std::chrono::milliseconds kLateness{60};
  engine_.reset();
  SweepWatchingClock clock(clock_);
  EngineOptions options = testing::TestEngineOptions(dir_.path(), &clock);
  options.ttl_sweep_interval_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(kInterval).count();
  auto opened = Engine::Open(options);
  ASSERT_TRUE(opened.ok());
  engine_ = std::move(*opened);
  CreateTable("tbl", false);
  ASSERT_TRUE(engine_->UpdateTimeToLive("tbl", "exp").ok());
  ASSERT_TRUE(engine_
                  ->PutItem("tbl", {{"pk", S("later")},
                                    {"exp", N(std::to_string(clock_.NowSeconds() + 60))}})
                  .ok());
  ASSERT_TRUE(testing::WaitFor([&] { return clock.Sweeps(kInterval / 2).size() >= 4; }));
  const auto sweeps = clock.Sweeps(kInterval / 2);
  for (size_t i = 1; i < sweeps.size(); ++i) {
    EXPECT_GE(sweeps[i] - sweeps[i - 1], kInterval - kLateness) << "sweep " << i << " came early";
  }
  EXPECT_TRUE(engine_->GetItem("tbl", {{"pk", S("later")}})->has_value());
  clock_.AdvanceSeconds(61);
  EXPECT_TRUE(testing::WaitFor([&] {
    return !engine_->GetItem("tbl", {{"pk", S("later")}})->has_value();
  })) << "the sweeper did not remove the expired item";
}

TEST_F(EngineTest, ReadShardBounds) {
  CreateTable("tbl", false, StreamViewType::kKeysOnly, 1);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(engine_->PutItem("tbl", {{"pk", S(std::to_string(i))}}).ok());
  auto read = engine_->ReadShard({TableName("tbl"), ShardIndex(0), SequenceNumber(4), 3});
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->records.size(), 3u);
  EXPECT_EQ(read->records[0].sequence(), 4u);
  EXPECT_EQ(read->next_sequence, SequenceNumber(7));
  EXPECT_EQ(read->last_written, SequenceNumber(10));
  auto end = engine_->ReadShard({TableName("tbl"), ShardIndex(0), SequenceNumber(11), 3});
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->records.empty());
  EXPECT_EQ(end->next_sequence, SequenceNumber(11));
  EXPECT_EQ(
      engine_->ReadShard({TableName("tbl"), ShardIndex(1), SequenceNumber(1), 3}).status().code(),
      ErrorCode::kResourceNotFound);
}

TEST_F(EngineTest, ReadShardSerializedGivesTheStoredRecords) {
  CreateTable("tbl", false, StreamViewType::kNewAndOldImages, 1);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        engine_->PutItem("tbl", {{"pk", S(std::to_string(i % 4))}, {"v", S(std::to_string(i))}})
            .ok());
  }
  auto parsed = engine_->ReadShard({TableName("tbl"), ShardIndex(0), SequenceNumber(4), 3});
  ShardReadRequest request{TableName("tbl"), ShardIndex(0), SequenceNumber(4), 3};
  request.serialized = true;
  auto serialized = engine_->ReadShard(request);
  ASSERT_TRUE(parsed.ok() && serialized.ok());
  ASSERT_EQ(parsed->records.size(), 3u);
  EXPECT_TRUE(serialized->records.empty());
  ASSERT_EQ(serialized->serialized.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(serialized->serialized[i], parsed->records[i].SerializeAsString());
  }
  EXPECT_EQ(serialized->next_sequence, SequenceNumber(7));
  EXPECT_EQ(serialized->last_written, SequenceNumber(10));
}

}  // namespace
}  // namespace tidewater

namespace tidewater {
namespace {

TEST_F(EngineTest, CheckpointsPersistAndPinRetention) {
  CreateTable("tbl", false, StreamViewType::kKeysOnly, 1);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(engine_->PutItem("tbl", {{"pk", S(std::to_string(i))}}).ok());
  }
  EXPECT_FALSE(*engine_->LoadCheckpoint("publisher", TableName("tbl"), ShardIndex(0)));
  ASSERT_TRUE(engine_
                  ->SaveCheckpoint("publisher", TableName("tbl"), ShardIndex(0), SequenceNumber(4),
                                   /*retain=*/true)
                  .ok());
  ASSERT_TRUE(engine_
                  ->SaveCheckpoint("reader", TableName("tbl"), ShardIndex(0), SequenceNumber(6),
                                   /*retain=*/false)
                  .ok());
  Reopen();
  EXPECT_EQ(*engine_->LoadCheckpoint("publisher", TableName("tbl"), ShardIndex(0)),
            std::optional<SequenceNumber>(4));
  clock_.AdvanceSeconds(25 * 3600);
  // Sequences 1..3 may go; 4.. are still needed by the retaining publisher.
  EXPECT_EQ(*engine_->TrimStreams(), 3u);
  EXPECT_EQ(engine_->ReadShard({TableName("tbl"), ShardIndex(0), SequenceNumber(1), 100})
                ->first_available,
            SequenceNumber(4));
  ASSERT_TRUE(
      engine_->SaveCheckpoint("publisher", TableName("tbl"), ShardIndex(0), SequenceNumber(7), true)
          .ok());
  EXPECT_EQ(*engine_->TrimStreams(), 3u);
  EXPECT_EQ(
      engine_->SaveCheckpoint("publisher", TableName("tbl"), ShardIndex(3), SequenceNumber(1), true)
          .code(),
      ErrorCode::kResourceNotFound);
}

// A waiter is woken by the commit, long before its timeout: one that is not would return
// only after a minute, failing the deadline below.
TEST_F(EngineTest, WaitForCommitWakesOnANewRecord) {
  CreateTable("tbl", false, StreamViewType::kKeysOnly, 1);
  const uint64_t seen = engine_->WaitForCommit(0, std::chrono::milliseconds(0));
  EXPECT_EQ(engine_->WaitForCommit(seen, std::chrono::milliseconds(10)), seen);
  std::atomic<bool> waiting{false};
  auto waiter = std::async(std::launch::async, [&] {
    waiting = true;
    return engine_->WaitForCommit(seen, std::chrono::minutes(1));
  });
  ASSERT_TRUE(testing::WaitFor([&] { return waiting.load(); }));
  ASSERT_TRUE(engine_->PutItem("tbl", {{"pk", S("x")}}).ok());
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the waiter was not woken by the commit";
  EXPECT_NE(waiter.get(), seen);
  EXPECT_EQ(
      engine_->ReadShard({TableName("tbl"), ShardIndex(0), SequenceNumber(1), 10})->records.size(),
      1u);
}

}  // namespace
}  // namespace tidewater
