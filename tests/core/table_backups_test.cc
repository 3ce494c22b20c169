// Backups and point-in-time recovery in the engine (table_backups.h):
//  * a backup restores every item (every attribute type, nested) with its local and global
//    indexes, as of the instant it was taken; the restored table's stream starts empty;
//  * a backup outlives its table, is described, listed (filters, pages) and deleted; a damaged
//    one is refused before anything is created;
//  * under a concurrent load (writes, deletes, transactions), a restore to a time T holds
//    exactly the changes committed at or before T: the change log is the oracle, and every
//    transaction is restored whole or not at all;
//  * the recovery period bounds the restorable times, maintenance forgets older changes;
//  * deleting a table with recovery on leaves a SYSTEM backup that expires;
//  * backups, recovery settings and an unfinished restore survive a reopen;
//  * an import writes the valid items, reports the others, and shows its table only once
//    finished; an import unfinished at close is dropped with its table.
#include "tidewater/core/table_backups.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/index_check.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/record_codec.h"

namespace tidewater {
namespace {

namespace fs = std::filesystem;
using testing::ScanEverything;
using testing::TableKeyOf;
using testing::TempDir;

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kDay = 24 * 3600 * kSecond;

AttributeValue S(std::string s) { return AttributeValue::S(std::move(s)); }
AttributeValue N(int64_t n) { return AttributeValue::N(Number::FromInt64(n)); }
AttributeValue Num(std::string_view text) { return AttributeValue::N(*Number::Parse(text)); }
AttributeValue Bin(std::string bytes) { return AttributeValue::B(std::move(bytes)); }

// A table's items by key (the encoded table key, or whatever key a test chooses).
using Contents = std::map<std::string, Item>;

// Every item of `table` by its encoded table key.
Contents ContentsOf(Engine& engine, const std::string& table) {
  Contents contents;
  auto description = engine.DescribeTable(table);
  EXPECT_TRUE(description.ok()) << table << ": " << description.status().ToString();
  if (!description.ok()) return contents;
  for (Item& item : ScanEverything(engine, table)) {
    std::string key = TableKeyOf(description->key_schema, item);
    EXPECT_TRUE(contents.emplace(std::move(key), std::move(item)).second)
        << "an item was scanned twice in " << table;
  }
  return contents;
}

// The differences between what `expected` and `actual` hold, the first five shown; "" when
// they hold the same items.
std::string Differences(const Contents& expected, const Contents& actual) {
  std::string shown;
  size_t count = 0;
  const auto note = [&](const std::string& line) {
    if (count++ < 5) shown += "\n  " + line;
  };
  for (const auto& [key, item] : expected) {
    const auto found = actual.find(key);
    if (found == actual.end()) {
      note("missing    " + json::ItemToJson(item));
    } else if (!(found->second == item)) {
      note("expected   " + json::ItemToJson(item) + "\n  but found  " +
           json::ItemToJson(found->second));
    }
  }
  for (const auto& [key, item] : actual) {
    if (expected.count(key) == 0) note("unexpected " + json::ItemToJson(item));
  }
  if (count == 0) return "";
  return std::to_string(count) + " differences (" + std::to_string(expected.size()) +
         " items expected, " + std::to_string(actual.size()) + " found):" + shown +
         (count > 5 ? "\n  ..." : "");
}

bool IsTableNotFound(ErrorCode code) {
  // The backup role answers TableNotFoundException where DynamoDB does; the header also
  // allows ResourceNotFoundException.
  return code == ErrorCode::kTableNotFound || code == ErrorCode::kResourceNotFound;
}

// A request to restore into `name` with the key schema and secondary indexes of `source`
// (a table's description, or a backup's).
CreateTableRequest RestoreRequest(const std::string& name, const TableDescription& source) {
  CreateTableRequest request;
  request.name = name;
  request.key_schema = source.key_schema;
  for (const IndexDescription& index : source.local_indexes) {
    request.local_indexes.push_back(index.definition);
    request.local_indexes.back().ordinal = 0;
    request.local_indexes.back().backfilling = false;
  }
  for (const IndexDescription& index : source.global_indexes) {
    request.global_indexes.push_back(index.definition);
    request.global_indexes.back().ordinal = 0;
    request.global_indexes.back().backfilling = false;
  }
  return request;
}

// Waits until the restore into `table` has every item in (RestoreSummary in_progress false);
// a failure when the table or its RestoreSummary is missing. `out`: its description then.
::testing::AssertionResult WaitRestored(Engine& engine, const std::string& table,
                                        TableDescription* out = nullptr) {
  Result<TableDescription> described = Status::Internal("not described yet");
  ::testing::AssertionResult done = testing::WaitFor(
      [&] {
        described = engine.DescribeTable(table);
        return !described.ok() || !described->restore || !described->restore->in_progress;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(10));
  if (!done) return done << " (the restore into " << table << " did not finish)";
  if (!described.ok()) {
    return ::testing::AssertionFailure() << table << ": " << described.status().ToString();
  }
  if (!described->restore) {
    return ::testing::AssertionFailure() << table << " is described without a RestoreSummary";
  }
  if (out != nullptr) *out = *described;
  return ::testing::AssertionSuccess();
}

// Every page of a Query of `index` of `table` for the partition `key`.
// `quiet`: a refused page (an index not readable yet) ends the result without a failure.
std::vector<Item> QueryAll(Engine& engine, const std::string& table, const std::string& index,
                           const AttributeValue& key, bool quiet = false) {
  std::vector<Item> items;
  QueryRequest query;
  query.table = table;
  query.index.name = index;
  query.partition_key = key;
  query.limit = 7;
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = engine.Query(query);
    if (!quiet) {
      EXPECT_TRUE(page.ok()) << table << "/" << index << ": " << page.status().ToString();
    }
    if (!page.ok()) break;
    items.insert(items.end(), page->items.begin(), page->items.end());
    if (!page->last_evaluated_key) break;
    query.exclusive_start_key = page->last_evaluated_key;
  }
  return items;
}

// The ids of every backup `request` lists, following its pages (each at most request.limit).
std::vector<std::string> ListIds(Engine& engine, ListBackupsRequest request,
                                 size_t* pages = nullptr) {
  std::vector<std::string> ids;
  for (int page_number = 0; page_number < 100; ++page_number) {
    auto page = engine.ListBackups(request);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return ids;
    if (pages != nullptr) ++*pages;
    if (request.limit != 0) {
      EXPECT_LE(page->backups.size(), request.limit);
    }
    for (const BackupDescription& backup : page->backups) ids.push_back(backup.backup_id);
    if (!page->last_evaluated_backup_id) return ids;
    request.exclusive_start_backup_id = page->last_evaluated_backup_id;
  }
  ADD_FAILURE() << "ListBackups kept answering pages";
  return ids;
}

// Table `name`: pk S, sk N; local index "by_rank" (pk, rank N; ALL); global index "by_group"
// (group S, rank N; INCLUDE label).
CreateTableRequest IndexedTable(const std::string& name) {
  CreateTableRequest request;
  request.name = name;
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kN};
  SecondaryIndex by_rank;
  by_rank.name = "by_rank";
  by_rank.key_schema = {{"pk", AttributeType::kS}, KeyAttribute{"rank", AttributeType::kN}};
  by_rank.projection = {ProjectionType::kAll, {}};
  request.local_indexes = {by_rank};
  SecondaryIndex by_group;
  by_group.name = "by_group";
  by_group.key_schema = {{"group", AttributeType::kS}, KeyAttribute{"rank", AttributeType::kN}};
  by_group.projection = {ProjectionType::kInclude, {"label"}};
  request.global_indexes = {by_group};
  return request;
}

// An item of IndexedTable with every attribute type, nested, and the edges of numbers and
// binaries; every fifth one lacks the global index's key.
Item RichItem(int i, const std::string& label_prefix = "label-") {
  const std::string n = std::to_string(i);
  Item item{
      {"pk", S("p" + std::to_string(i % 7))},
      {"sk", N(i)},
      {"rank", N(1000 - 3 * i)},
      {"label", S(label_prefix + n)},
      {"s", S("text " + n + " \xc3\xa9\xe2\x82\xac")},
      {"n", Num(i % 2 == 0 ? "-12.5e-3" : "3.1415926535897932384626433832795028841")},
      {"big", Num("9.99e125")},
      {"tiny", Num("1e-130")},
      {"b", Bin(std::string("\x00\x01\xfe\xff", 4) + n)},
      {"ss", AttributeValue::SS({"red", "green", "s" + n})},
      {"ns",
       AttributeValue::NS({Number::FromInt64(i), *Number::Parse("-0.5"), *Number::Parse("1e20")})},
      {"bs", AttributeValue::BS({std::string("\x00", 1), std::string("\xff\x10", 2), "b" + n})},
      {"flag", AttributeValue::Bool(i % 2 == 0)},
      {"nothing", AttributeValue::Null()},
      {"m", AttributeValue::M(
                {{"inner", AttributeValue::M(
                               {{"deep", AttributeValue::L({S("x"), N(i), AttributeValue::Null(),
                                                            AttributeValue::Bool(true)})},
                                {"empty_map", AttributeValue::M({})},
                                {"empty_list", AttributeValue::L({})}})},
                 {"set", AttributeValue::SS({"only"})},
                 {"bytes", Bin(std::string("\x7f", 1))}})},
      {"l",
       AttributeValue::L({S(""), Num("0"),
                          AttributeValue::M({{"k", AttributeValue::NS({Number::FromInt64(1)})}}),
                          AttributeValue::L({AttributeValue::L({S("nested " + n)})}),
                          AttributeValue::BS({std::string("\x01", 1)})})},
  };
  if (i % 5 != 0) item["group"] = S(i % 2 == 0 ? "even" : "odd");
  return item;
}

Item RichKey(int i) { return {{"pk", S("p" + std::to_string(i % 7))}, {"sk", N(i)}}; }

// A plain table's item (pk S, sk N).
Item Row(int i, const std::string& data) {
  return {{"pk", S("row" + std::to_string(i % 10))}, {"sk", N(i)}, {"data", S(data)}};
}
Item RowKey(int i) { return {{"pk", S("row" + std::to_string(i % 10))}, {"sk", N(i)}}; }

class TableBackupsTest : public ::testing::Test {
 protected:
  // Opens the engine on data_dir() with `clock`; backups in `backup_dir` ("" : the default).
  void Open(Clock* clock, const std::string& backup_dir = "") {
    EngineOptions options = testing::TestEngineOptions(data_dir(), clock);
    options.backup_dir = backup_dir;
    backup_dir_ = backup_dir.empty() ? data_dir() + "/backups" : backup_dir;
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  std::string data_dir() const { return dir_.Sub("data"); }

  // Table `name`: pk S, sk N, no stream.
  void CreatePlain(const std::string& name) {
    CreateTableRequest request;
    request.name = name;
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kN};
    auto created = engine_->CreateTable(request);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void Put(const std::string& table, const Item& item) {
    auto written = engine_->PutItem(table, item);
    ASSERT_TRUE(written.ok()) << table << ": " << written.status().ToString();
  }
  void Delete(const std::string& table, const Item& key) {
    auto deleted = engine_->DeleteItem(table, key);
    ASSERT_TRUE(deleted.ok()) << table << ": " << deleted.status().ToString();
  }

  TableDescription Describe(const std::string& table) {
    auto described = engine_->DescribeTable(table);
    EXPECT_TRUE(described.ok()) << table << ": " << described.status().ToString();
    return described.ok() ? *described : TableDescription();
  }

  // Restores the backup into `target` (key schema and indexes of `source`) and waits for it.
  ::testing::AssertionResult RestoreBackup(const std::string& backup_id, const std::string& target,
                                           const TableDescription& source,
                                           TableDescription* out = nullptr) {
    auto started = engine_->RestoreTableFromBackup(backup_id, RestoreRequest(target, source));
    if (!started.ok()) {
      return ::testing::AssertionFailure() << "restoring " << backup_id << " into " << target
                                           << ": " << started.status().ToString();
    }
    return WaitRestored(*engine_, target, out);
  }

  // Restores `source` as of `time` (nullopt: the latest) into `target` and waits for it.
  ::testing::AssertionResult RestoreToTime(const std::string& source, std::optional<int64_t> time,
                                           const std::string& target,
                                           TableDescription* out = nullptr) {
    auto described = engine_->DescribeTable(source);
    if (!described.ok()) {
      return ::testing::AssertionFailure() << source << ": " << described.status().ToString();
    }
    auto started =
        engine_->RestoreTableToPointInTime(source, time, RestoreRequest(target, *described));
    if (!started.ok()) {
      return ::testing::AssertionFailure()
             << "restoring " << source << " as of "
             << (time ? std::to_string(*time) : std::string("the latest time")) << " into "
             << target << ": " << started.status().ToString();
    }
    if (!started->restore) {
      return ::testing::AssertionFailure() << target << " was answered without a RestoreSummary";
    }
    if (time && started->restore->restore_time_micros != *time) {
      return ::testing::AssertionFailure()
             << target << " restores as of " << started->restore->restore_time_micros
             << ", asked for " << *time;
    }
    return WaitRestored(*engine_, target, out);
  }

  // The error of a point-in-time restore that must be refused; checks that `target` was not
  // created.
  ErrorCode RefusedRestoreToTime(const std::string& source, std::optional<int64_t> time,
                                 const std::string& target) {
    TableDescription described;
    described.key_schema.partition_key = {"pk", AttributeType::kS};
    described.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kN};
    auto found = engine_->DescribeTable(source);
    if (found.ok()) described = *found;
    auto started =
        engine_->RestoreTableToPointInTime(source, time, RestoreRequest(target, described));
    EXPECT_FALSE(started.ok()) << "restoring " << source << " into " << target << " at "
                               << (time ? std::to_string(*time) : "latest") << " was accepted";
    EXPECT_EQ(engine_->DescribeTable(target).status().code(), ErrorCode::kResourceNotFound)
        << "a refused restore created " << target;
    return started.status().code();
  }

  TempDir dir_;
  ManualClock clock_;
  std::string backup_dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(TableBackupsTest, RestoredTableHasEveryItemAndIndexOfTheBackupAndAnEmptyStream) {
  ASSERT_NO_FATAL_FAILURE(Open(Clock::System()));
  ASSERT_TRUE(engine_->CreateTable(IndexedTable("src")).ok());
  for (int i = 0; i < 60; ++i) Put("src", RichItem(i));
  // The source's global index has caught up: the index queries below are its final answers.
  EXPECT_GT(testing::ExpectIndexesMatchTable(*engine_, "src"), 0u);
  const Contents source = ContentsOf(*engine_, "src");
  ASSERT_EQ(source.size(), 60u);
  std::map<std::string, std::vector<Item>> local_queries;
  for (int p = 0; p < 7; ++p) {
    const std::string pk = "p" + std::to_string(p);
    local_queries[pk] = QueryAll(*engine_, "src", "by_rank", S(pk));
    EXPECT_FALSE(local_queries[pk].empty());
  }
  std::map<std::string, std::vector<Item>> global_queries;
  for (const char* group : {"even", "odd"}) {
    global_queries[group] = QueryAll(*engine_, "src", "by_group", S(group));
    EXPECT_EQ(global_queries[group].size(), 24u) << group;  // 30 each, less every fifth
  }
  const TableDescription table = Describe("src");

  auto backup = engine_->CreateBackup("src", "full-copy");
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_TRUE(std::regex_match(backup->backup_id, std::regex("[0-9]{13}-[0-9a-f]{8}")))
      << backup->backup_id;
  EXPECT_EQ(backup->name, "full-copy");
  EXPECT_EQ(backup->type, BackupType::kUser);
  EXPECT_EQ(backup->status, BackupStatus::kAvailable);
  EXPECT_EQ(backup->item_count, 60u);
  EXPECT_GT(backup->size_bytes, 0u);
  EXPECT_EQ(backup->expiry_time_micros, 0);
  EXPECT_EQ(backup->table.name, "src");
  EXPECT_EQ(backup->table.table_id, table.table_id);
  EXPECT_EQ(backup->table.key_schema, table.key_schema);
  ASSERT_EQ(backup->table.local_indexes.size(), 1u);
  EXPECT_EQ(backup->table.local_indexes[0].definition.name, "by_rank");
  EXPECT_EQ(backup->table.local_indexes[0].definition.key_schema,
            table.local_indexes[0].definition.key_schema);
  ASSERT_EQ(backup->table.global_indexes.size(), 1u);
  EXPECT_EQ(backup->table.global_indexes[0].definition.name, "by_group");
  EXPECT_EQ(backup->table.global_indexes[0].definition.projection,
            table.global_indexes[0].definition.projection);
  EXPECT_TRUE(fs::is_regular_file(fs::path(backup_dir_) / backup->backup_id / "items"));
  EXPECT_TRUE(fs::is_regular_file(fs::path(backup_dir_) / backup->backup_id / "backup.meta"));

  // Changes after the backup are not in it.
  Put("src", RichItem(100));
  Delete("src", RichKey(3));
  Put("src", RichItem(5, "changed-"));

  CreateTableRequest with_stream = RestoreRequest("copy_stream", backup->table);
  with_stream.stream = {true, StreamViewType::kNewImage};
  auto stream_started = engine_->RestoreTableFromBackup(backup->backup_id, with_stream);
  ASSERT_TRUE(stream_started.ok()) << stream_started.status().ToString();
  auto started =
      engine_->RestoreTableFromBackup(backup->backup_id, RestoreRequest("copy", backup->table));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ASSERT_TRUE(started->restore.has_value());
  EXPECT_EQ(started->name, "copy");
  {
    // Reads of a table being restored are refused; once every item is in, they are served.
    // (in_progress only goes from true to false.)
    auto before = engine_->DescribeTable("copy");
    auto scan = engine_->Scan({"copy"});
    auto after = engine_->DescribeTable("copy");
    ASSERT_TRUE(before.ok() && after.ok());
    ASSERT_TRUE(before->restore && after->restore);
    if (scan.ok()) {
      EXPECT_FALSE(after->restore->in_progress) << "a Scan read the table during its restore";
    } else {
      EXPECT_TRUE(before->restore->in_progress)
          << "a Scan was refused after the restore finished: " << scan.status().ToString();
    }
  }
  TableDescription copy;
  ASSERT_TRUE(WaitRestored(*engine_, "copy", &copy));
  ASSERT_TRUE(WaitRestored(*engine_, "copy_stream"));

  const RestoreSummary& summary = *copy.restore;
  EXPECT_EQ(summary.source_backup_id, backup->backup_id);
  EXPECT_EQ(summary.source_table, "src");
  EXPECT_EQ(summary.source_table_id, table.table_id);
  EXPECT_EQ(summary.restore_time_micros, backup->creation_time_micros);
  EXPECT_FALSE(summary.in_progress);
  EXPECT_NE(copy.table_id, table.table_id);
  EXPECT_EQ(copy.key_schema, table.key_schema);
  ASSERT_EQ(copy.local_indexes.size(), 1u);
  EXPECT_EQ(copy.local_indexes[0].definition.name, "by_rank");
  ASSERT_EQ(copy.global_indexes.size(), 1u);
  EXPECT_EQ(copy.global_indexes[0].definition.name, "by_group");

  // Every item as it was at the backup, in both restored tables.
  EXPECT_EQ(Differences(source, ContentsOf(*engine_, "copy")), "");
  EXPECT_EQ(Differences(source, ContentsOf(*engine_, "copy_stream")), "");
  // The indexes answer as the source's did: the local one at once, the global one once its
  // maintainer caught up; both equal a recomputation from the restored items.
  for (const auto& [pk, expected] : local_queries) {
    EXPECT_TRUE(QueryAll(*engine_, "copy", "by_rank", S(pk)) == expected) << "by_rank " << pk;
  }
  for (const auto& entry : global_queries) {
    const std::string& group = entry.first;
    const std::vector<Item>& expected = entry.second;
    std::vector<Item> got;
    EXPECT_TRUE(testing::WaitFor([&] {
      got = QueryAll(*engine_, "copy", "by_group", S(group), /*quiet=*/true);
      return got == expected;
    })) << "by_group "
        << group << ": " << got.size() << " entries, expected " << expected.size();
  }
  EXPECT_GT(testing::ExpectIndexesMatchTable(*engine_, "copy"), 0u);

  // Restored items are not logged: the table restored without a stream has none, the one
  // restored with a stream starts it empty, and logs what is written afterwards.
  EXPECT_FALSE(copy.stream.enabled);
  const TableDescription streamed = Describe("copy_stream");
  ASSERT_TRUE(streamed.stream.enabled);
  EXPECT_EQ(streamed.stream.view_type, StreamViewType::kNewImage);
  const auto logged = [&] {
    std::vector<ChangeRecord> records;
    for (const ShardDescription& shard : Describe("copy_stream").shards) {
      auto read =
          engine_->ReadShard({TableName("copy_stream"), shard.index, SequenceNumber(1), 10000});
      EXPECT_TRUE(read.ok()) << read.status().ToString();
      if (read.ok()) records.insert(records.end(), read->records.begin(), read->records.end());
    }
    return records;
  };
  for (const ShardDescription& shard : streamed.shards) {
    EXPECT_EQ(shard.last_sequence, SequenceNumber(0)) << "shard " << shard.index;
  }
  EXPECT_TRUE(logged().empty());
  Put("copy_stream", RichItem(200));
  const std::vector<ChangeRecord> after_write = logged();
  ASSERT_EQ(after_write.size(), 1u);
  EXPECT_EQ(after_write[0].event(), v1::INSERT);
  EXPECT_EQ(after_write[0].provenance(), v1::USER_WRITE);
  // The restored table is an ordinary table now.
  Put("copy", RichItem(300));
  auto got = engine_->GetItem("copy", RichKey(300));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->has_value());

  // Restores that must be refused create nothing.
  CreateTableRequest wrong_keys = RestoreRequest("wrong_keys", backup->table);
  wrong_keys.key_schema.sort_key.reset();
  wrong_keys.local_indexes.clear();
  wrong_keys.global_indexes.clear();
  EXPECT_FALSE(engine_->RestoreTableFromBackup(backup->backup_id, wrong_keys).ok())
      << "a restore with another key schema than the backup's was accepted";
  EXPECT_EQ(engine_->DescribeTable("wrong_keys").status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(engine_->RestoreTableFromBackup(backup->backup_id, RestoreRequest("src", backup->table))
                .status()
                .code(),
            ErrorCode::kTableAlreadyExists);
  EXPECT_EQ(engine_
                ->RestoreTableFromBackup("1700000000000-0badf00d",
                                         RestoreRequest("from_nothing", backup->table))
                .status()
                .code(),
            ErrorCode::kBackupNotFound);
  EXPECT_EQ(engine_->DescribeTable("from_nothing").status().code(), ErrorCode::kResourceNotFound);
}

TEST_F(TableBackupsTest, BackupsOutliveTheirTableAndAreListedDescribedAndDeleted) {
  // Backups kept apart from the data directory.
  ASSERT_NO_FATAL_FAILURE(Open(&clock_, dir_.Sub("backup-store")));
  CreatePlain("src");
  CreatePlain("other");
  const uint64_t src_id = Describe("src").table_id;

  for (int i = 0; i < 10; ++i) Put("src", Row(i, "first"));
  const Contents first_state = ContentsOf(*engine_, "src");
  auto b1 = engine_->CreateBackup("src", "first");
  ASSERT_TRUE(b1.ok()) << b1.status().ToString();
  clock_.AdvanceSeconds(1);

  for (int i = 0; i < 5; ++i) Put("other", Row(i, "other"));
  auto o1 = engine_->CreateBackup("other", "other-first");
  ASSERT_TRUE(o1.ok()) << o1.status().ToString();
  clock_.AdvanceSeconds(1);

  for (int i = 0; i < 5; ++i) Put("src", Row(i, "second"));
  Delete("src", RowKey(9));
  for (int i = 10; i < 15; ++i) Put("src", Row(i, "second"));
  const Contents second_state = ContentsOf(*engine_, "src");
  auto b2 = engine_->CreateBackup("src", "second");
  ASSERT_TRUE(b2.ok()) << b2.status().ToString();
  clock_.AdvanceSeconds(1);
  auto b3 = engine_->CreateBackup("src", "third");
  ASSERT_TRUE(b3.ok()) << b3.status().ToString();
  clock_.AdvanceSeconds(1);

  ASSERT_LT(b1->creation_time_micros, o1->creation_time_micros);
  ASSERT_LT(o1->creation_time_micros, b2->creation_time_micros);
  ASSERT_LT(b2->creation_time_micros, b3->creation_time_micros);
  EXPECT_EQ(b1->item_count, 10u);
  EXPECT_EQ(o1->item_count, 5u);
  EXPECT_EQ(b2->item_count, 14u);
  EXPECT_EQ(
      std::set<std::string>({b1->backup_id, o1->backup_id, b2->backup_id, b3->backup_id}).size(),
      4u);
  for (const auto* backup : {&*b1, &*o1, &*b2, &*b3}) {
    EXPECT_TRUE(fs::is_regular_file(fs::path(backup_dir_) / backup->backup_id / "items"));
    EXPECT_TRUE(fs::is_regular_file(fs::path(backup_dir_) / backup->backup_id / "backup.meta"));
    EXPECT_FALSE(fs::exists(fs::path(data_dir()) / "backups" / backup->backup_id))
        << "backup_dir was not honoured";
  }

  // Bad requests.
  for (const std::string& name :
       std::vector<std::string>{"ab", "has space", std::string(256, 'n')}) {
    EXPECT_EQ(engine_->CreateBackup("src", name).status().code(), ErrorCode::kValidation) << name;
  }
  EXPECT_TRUE(IsTableNotFound(engine_->CreateBackup("missing", "named").status().code()));
  EXPECT_EQ(engine_->DescribeBackup("1700000000000-0badf00d").status().code(),
            ErrorCode::kBackupNotFound);

  // Listing: creation order, filters, time bounds (inclusive, exclusive), pages.
  const std::vector<std::string> all = {b1->backup_id, o1->backup_id, b2->backup_id, b3->backup_id};
  EXPECT_EQ(ListIds(*engine_, {}), all);
  ListBackupsRequest of_src;
  of_src.table = "src";
  EXPECT_EQ(ListIds(*engine_, of_src),
            (std::vector<std::string>{b1->backup_id, b2->backup_id, b3->backup_id}));
  ListBackupsRequest of_other;
  of_other.table = "other";
  EXPECT_EQ(ListIds(*engine_, of_other), std::vector<std::string>{o1->backup_id});
  ListBackupsRequest users;
  users.type = BackupType::kUser;
  EXPECT_EQ(ListIds(*engine_, users), all);
  ListBackupsRequest systems;
  systems.type = BackupType::kSystem;
  EXPECT_TRUE(ListIds(*engine_, systems).empty());
  ListBackupsRequest window;
  window.created_at_or_after_micros = o1->creation_time_micros;
  window.created_before_micros = b3->creation_time_micros;
  EXPECT_EQ(ListIds(*engine_, window), (std::vector<std::string>{o1->backup_id, b2->backup_id}));
  window.table = "src";
  EXPECT_EQ(ListIds(*engine_, window), std::vector<std::string>{b2->backup_id});
  ListBackupsRequest from_b3;
  from_b3.created_at_or_after_micros = b3->creation_time_micros;
  EXPECT_EQ(ListIds(*engine_, from_b3), std::vector<std::string>{b3->backup_id});
  ListBackupsRequest before_b1;
  before_b1.created_before_micros = b1->creation_time_micros;
  EXPECT_TRUE(ListIds(*engine_, before_b1).empty());

  ListBackupsRequest two;
  two.limit = 2;
  auto first_page = engine_->ListBackups(two);
  ASSERT_TRUE(first_page.ok()) << first_page.status().ToString();
  ASSERT_EQ(first_page->backups.size(), 2u);
  EXPECT_EQ(first_page->backups[0].backup_id, b1->backup_id);
  EXPECT_EQ(first_page->backups[1].backup_id, o1->backup_id);
  EXPECT_EQ(first_page->last_evaluated_backup_id, std::optional<std::string>(o1->backup_id));
  ListBackupsRequest one;
  one.limit = 1;
  size_t pages = 0;
  EXPECT_EQ(ListIds(*engine_, one, &pages), all);
  EXPECT_GE(pages, 4u);
  ListBackupsRequest after_b1;
  after_b1.exclusive_start_backup_id = b1->backup_id;
  EXPECT_EQ(ListIds(*engine_, after_b1),
            (std::vector<std::string>{o1->backup_id, b2->backup_id, b3->backup_id}));
  ListBackupsRequest after_b2_one;
  after_b2_one.exclusive_start_backup_id = b2->backup_id;
  after_b2_one.limit = 1;
  auto last_page = engine_->ListBackups(after_b2_one);
  ASSERT_TRUE(last_page.ok());
  ASSERT_EQ(last_page->backups.size(), 1u);
  EXPECT_EQ(last_page->backups[0].backup_id, b3->backup_id);

  // The table goes; its backups stay (without recovery on, no SYSTEM backup appears).
  ASSERT_TRUE(engine_->DeleteTable("src").ok());
  EXPECT_TRUE(ListIds(*engine_, systems).empty());
  EXPECT_EQ(ListIds(*engine_, of_src),
            (std::vector<std::string>{b1->backup_id, b2->backup_id, b3->backup_id}));
  auto described = engine_->DescribeBackup(b2->backup_id);
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->backup_id, b2->backup_id);
  EXPECT_EQ(described->name, "second");
  EXPECT_EQ(described->type, BackupType::kUser);
  EXPECT_EQ(described->status, BackupStatus::kAvailable);
  EXPECT_EQ(described->creation_time_micros, b2->creation_time_micros);
  EXPECT_EQ(described->item_count, 14u);
  EXPECT_EQ(described->size_bytes, b2->size_bytes);
  EXPECT_EQ(described->table.name, "src");
  EXPECT_EQ(described->table.table_id, src_id);
  EXPECT_EQ(described->table.key_schema, b2->table.key_schema);

  // Each backup restores its own instant, also into the deleted table's name.
  TableDescription revived;
  ASSERT_TRUE(RestoreBackup(b2->backup_id, "src", described->table, &revived));
  EXPECT_EQ(Differences(second_state, ContentsOf(*engine_, "src")), "");
  EXPECT_NE(revived.table_id, src_id);
  EXPECT_EQ(revived.restore->source_backup_id, b2->backup_id);
  EXPECT_EQ(revived.restore->source_table, "src");
  EXPECT_EQ(revived.restore->source_table_id, src_id);
  EXPECT_EQ(revived.restore->restore_time_micros, b2->creation_time_micros);
  ASSERT_TRUE(RestoreBackup(b1->backup_id, "src_first", b1->table));
  EXPECT_EQ(Differences(first_state, ContentsOf(*engine_, "src_first")), "");

  // Deleting a backup.
  auto deleted = engine_->DeleteBackup(b1->backup_id);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->backup_id, b1->backup_id);
  EXPECT_EQ(deleted->status, BackupStatus::kDeleted);
  EXPECT_EQ(engine_->DescribeBackup(b1->backup_id).status().code(), ErrorCode::kBackupNotFound);
  EXPECT_EQ(engine_->DeleteBackup(b1->backup_id).status().code(), ErrorCode::kBackupNotFound);
  EXPECT_EQ(engine_->RestoreTableFromBackup(b1->backup_id, RestoreRequest("again", b1->table))
                .status()
                .code(),
            ErrorCode::kBackupNotFound);
  EXPECT_EQ(engine_->DescribeTable("again").status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(ListIds(*engine_, {}),
            (std::vector<std::string>{o1->backup_id, b2->backup_id, b3->backup_id}));
  EXPECT_FALSE(fs::exists(fs::path(backup_dir_) / b1->backup_id));
  // A table restored from it does not depend on it.
  EXPECT_EQ(Differences(first_state, ContentsOf(*engine_, "src_first")), "");
}

TEST_F(TableBackupsTest, DamagedBackupIsRefusedAndCreatesNothing) {
  ASSERT_NO_FATAL_FAILURE(Open(Clock::System()));
  CreatePlain("src");
  for (int i = 0; i < 300; ++i) Put("src", Row(i, std::string(50 + i % 50, 'a' + i % 26)));
  const Contents source = ContentsOf(*engine_, "src");
  const TableDescription table = Describe("src");
  auto backup = engine_->CreateBackup("src", "to-damage");
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  const fs::path items = fs::path(backup_dir_) / backup->backup_id / "items";
  ASSERT_TRUE(fs::is_regular_file(items)) << items;

  std::string original;
  {
    std::ifstream in(items, std::ios::binary);
    original.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_GT(original.size(), 2u);
  const auto write_items = [&](const std::string& bytes) {
    std::ofstream out(items, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    ASSERT_TRUE(out.good()) << items;
  };
  for (const size_t position : {size_t{0}, original.size() / 2, original.size() - 1}) {
    std::string damaged = original;
    damaged[position] = static_cast<char>(damaged[position] ^ 0x20);
    write_items(damaged);
    auto refused =
        engine_->RestoreTableFromBackup(backup->backup_id, RestoreRequest("from_damaged", table));
    ASSERT_FALSE(refused.ok()) << "a backup damaged at byte " << position << " was restored";
    EXPECT_EQ(refused.status().code(), ErrorCode::kInternal) << refused.status().ToString();
    EXPECT_NE(refused.status().message().find("damaged"), std::string::npos)
        << refused.status().message();
    EXPECT_EQ(engine_->DescribeTable("from_damaged").status().code(), ErrorCode::kResourceNotFound)
        << "the refused restore created its table";
    auto tables = engine_->ListTables(std::nullopt, 0);
    ASSERT_TRUE(tables.ok());
    EXPECT_EQ(tables->names, std::vector<std::string>{"src"});
  }

  // Repaired, the same backup restores.
  write_items(original);
  ASSERT_TRUE(RestoreBackup(backup->backup_id, "from_damaged", table));
  EXPECT_EQ(Differences(source, ContentsOf(*engine_, "from_damaged")), "");
}

// Where a restored item stands against the write `token` in its key's history (the "w" of each
// of its changes in commit order, "" for a removal).
enum class Side { kBefore, kAtOrAfter, kUnknown };
Side SideOf(const std::vector<std::string>& history, const std::string& token,
            const std::optional<std::string>& restored_token) {
  const auto write = std::find(history.begin(), history.end(), token);
  if (write == history.end()) return Side::kUnknown;
  if (restored_token) {
    const auto state = std::find(history.begin(), history.end(), *restored_token);
    if (state == history.end()) return Side::kUnknown;
    return state >= write ? Side::kAtOrAfter : Side::kBefore;
  }
  // Absent: before the write, unless a removal follows it (then it could be either).
  return std::find(write + 1, history.end(), std::string()) == history.end() ? Side::kBefore
                                                                             : Side::kUnknown;
}

const char* SideName(Side side) {
  return side == Side::kBefore ? "before" : side == Side::kAtOrAfter ? "at or after" : "unknown";
}

// The main test: writers change overlapping items (puts, updates, deletes, two-item
// transactions) while times T are picked; afterwards the change log gives, for each T, the
// state of every item after the changes committed at or before T, and a restore to T must
// hold exactly that.
TEST_F(TableBackupsTest, PointInTimeRestoreUnderConcurrentLoadHoldsExactlyTheChangesUpToT) {
  ASSERT_NO_FATAL_FAILURE(Open(Clock::System()));
  Engine& engine = *engine_;
  const Clock& clock = *engine.options().clock;
  CreateTableRequest request;
  request.name = "load";
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = 4;
  ASSERT_TRUE(engine.CreateTable(request).ok());
  auto enabled = engine.UpdateContinuousBackups("load", true, std::nullopt);
  ASSERT_TRUE(enabled.ok()) << enabled.status().ToString();
  EXPECT_TRUE(enabled->point_in_time_recovery);
  EXPECT_EQ(enabled->recovery_period_days, 35u);
  auto continuous = engine.DescribeContinuousBackups("load");
  ASSERT_TRUE(continuous.ok()) << continuous.status().ToString();
  ASSERT_TRUE(continuous->point_in_time_recovery);
  const int64_t earliest = continuous->earliest_restorable_micros;
  ASSERT_TRUE(testing::WaitFor([&] { return clock.NowMicros() > earliest; }));

  constexpr int kThreads = 4;
  constexpr int kOpsPerThread = 750;
  constexpr int kKeys = 200;
  constexpr size_t kTimesPerThread = 3;
  struct Transaction {
    std::string token;
    std::string first;
    std::string second;
  };
  std::mutex mu;
  std::vector<int64_t> times = {clock.NowMicros()};  // before any write: an empty table
  std::vector<Transaction> transactions;
  const auto key_name = [](unsigned index) {
    std::string name = std::to_string(index);
    return "k" + std::string(3 - name.size(), '0') + name;
  };
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937 rng(7919u * static_cast<unsigned>(t + 1));
      std::set<int> pick_after;
      while (pick_after.size() < kTimesPerThread) {
        pick_after.insert(static_cast<int>(rng() % kOpsPerThread));
      }
      for (int op = 0; op < kOpsPerThread; ++op) {
        const std::string token = "t" + std::to_string(t) + "-" + std::to_string(op);
        const unsigned index = static_cast<unsigned>(rng() % kKeys);
        const std::string pk = key_name(index);
        const Item key{{"pk", S(pk)}};
        const unsigned kind = static_cast<unsigned>(rng() % 20);
        Status status;
        if (kind < 5) {
          Item item = key;
          item["w"] = S(token);
          item["n"] = N(op);
          item["payload"] = S(std::string(1 + rng() % 64, static_cast<char>('a' + t)));
          if (kind % 2 == 0) item["tags"] = AttributeValue::SS({"x", token});
          status = engine.PutItem("load", item).status();
        } else if (kind < 12) {
          const ItemUpdater count_up = [&](const Item* current) -> Result<std::optional<Item>> {
            Item next = current != nullptr ? *current : key;
            int64_t count = 0;
            if (current != nullptr) {
              const auto found = current->find("count");
              if (found != current->end())
                count = static_cast<int64_t>(found->second.n().ToDouble());
            }
            next["w"] = S(token);
            next["count"] = N(count + 1);
            return std::make_optional(std::move(next));
          };
          status = engine.UpdateItem("load", key, count_up).status();
        } else if (kind < 16) {
          status = engine.DeleteItem("load", key).status();
        } else {
          const std::string partner = key_name((index + 1 + rng() % (kKeys - 1)) % kKeys);
          std::vector<Mutation> mutations;
          for (const std::string& name : {pk, partner}) {
            const Item mutation_key{{"pk", S(name)}};
            const std::string other = name == pk ? partner : pk;
            Mutation mutation;
            mutation.kind = Mutation::Kind::kUpdate;
            mutation.table = "load";
            mutation.item = mutation_key;
            mutation.updater = [mutation_key, token,
                                other](const Item* current) -> Result<std::optional<Item>> {
              Item next = current != nullptr ? *current : mutation_key;
              next["w"] = S(token);
              next["partner"] = S(other);
              return std::make_optional(std::move(next));
            };
            mutations.push_back(std::move(mutation));
          }
          status = engine.TransactWrite(std::move(mutations)).status();
          if (status.ok()) {
            std::lock_guard lock(mu);
            transactions.push_back({token, pk, partner});
          }
        }
        if (!status.ok()) {
          ADD_FAILURE() << token << ": " << status.ToString();
          return;
        }
        if (pick_after.count(op) != 0) {
          std::lock_guard lock(mu);
          times.push_back(clock.NowMicros());
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  ASSERT_FALSE(HasFailure());
  times.push_back(clock.NowMicros());  // after every write: the final state
  // A restore time must lie before the clock's now.
  ASSERT_TRUE(testing::WaitFor([&] { return clock.NowMicros() > times.back(); }));
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  ASSERT_GE(times.size(), 8u);

  // The oracle: every shard's records in sequence order.
  struct Change {
    int64_t time = 0;
    std::string pk;
    std::optional<Item> image;  // nullopt: removed
  };
  const TableDescription source = Describe("load");
  ASSERT_EQ(source.shards.size(), 4u);
  std::vector<std::vector<Change>> shards;
  std::map<std::string, std::vector<std::string>> histories;  // pk -> "w" per change, "" removed
  std::map<std::string, std::set<int64_t>> transaction_times;
  std::map<std::string, int> transaction_records;
  size_t total = 0;
  for (const ShardDescription& shard : source.shards) {
    std::vector<Change>& changes = shards.emplace_back();
    SequenceNumber from(1);
    uint64_t expected_sequence = 1;
    int64_t last_time = std::numeric_limits<int64_t>::min();
    for (;;) {
      auto read = engine.ReadShard({TableName("load"), shard.index, from, 1000});
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      if (read->records.empty()) break;
      for (const ChangeRecord& record : read->records) {
        ASSERT_EQ(record.sequence(), expected_sequence) << "shard " << shard.index;
        ++expected_sequence;
        const int64_t time = record.approximate_creation_time_micros();
        EXPECT_GE(time, last_time) << "record times went back in shard " << shard.index;
        last_time = time;
        auto keys = FromProto(record.keys());
        ASSERT_TRUE(keys.ok());
        Change change;
        change.time = time;
        change.pk = keys->at("pk").s();
        if (record.event() != v1::REMOVE) {
          ASSERT_TRUE(record.has_new_image())
              << "shard " << shard.index << " sequence " << record.sequence();
          auto image = FromProto(record.new_image());
          ASSERT_TRUE(image.ok());
          change.image = std::move(*image);
        }
        histories[change.pk].push_back(change.image ? change.image->at("w").s() : "");
        if (!record.transaction_id().empty()) {
          transaction_times[record.transaction_id()].insert(time);
          ++transaction_records[record.transaction_id()];
        }
        changes.push_back(std::move(change));
      }
      from = read->next_sequence;
    }
    total += changes.size();
  }
  // Every change of a transaction carries one commit time.
  EXPECT_EQ(transaction_times.size(), transactions.size());
  for (const auto& [id, commit_times] : transaction_times) {
    EXPECT_EQ(commit_times.size(), 1u) << "transaction " << id << " has several commit times";
    EXPECT_EQ(transaction_records[id], 2) << "transaction " << id;
  }

  const auto state_at = [&](int64_t time, size_t* applied) {
    Contents state;
    for (const std::vector<Change>& changes : shards) {
      for (const Change& change : changes) {
        if (change.time > time) continue;
        if (applied != nullptr) ++*applied;
        if (change.image) {
          state[change.pk] = *change.image;
        } else {
          state.erase(change.pk);
        }
      }
    }
    return state;
  };
  const auto by_pk = [](const std::vector<Item>& items) {
    Contents contents;
    for (const Item& item : items) contents[item.at("pk").s()] = item;
    return contents;
  };
  // The oracle replays to the table as it is.
  ASSERT_EQ(Differences(state_at(std::numeric_limits<int64_t>::max(), nullptr),
                        by_pk(ScanEverything(engine, "load"))),
            "")
      << "the change log does not replay to the table";

  const auto target = [](size_t i) { return "load_at_" + std::to_string(i); };
  for (size_t i = 0; i < times.size(); ++i) {
    auto started =
        engine.RestoreTableToPointInTime("load", times[i], RestoreRequest(target(i), source));
    ASSERT_TRUE(started.ok()) << "T=" << times[i] << ": " << started.status().ToString();
    ASSERT_TRUE(started->restore.has_value());
    EXPECT_EQ(started->restore->restore_time_micros, times[i]);
    EXPECT_TRUE(started->restore->source_backup_id.empty());
    EXPECT_EQ(started->restore->source_table, "load");
    EXPECT_EQ(started->restore->source_table_id, source.table_id);
  }
  size_t partial_states = 0;
  size_t decided_before = 0;
  size_t decided_after = 0;
  size_t split_transactions = 0;
  for (size_t i = 0; i < times.size(); ++i) {
    ASSERT_TRUE(WaitRestored(engine, target(i)));
    const Contents restored = by_pk(ScanEverything(engine, target(i)));
    size_t applied = 0;
    const Contents expected = state_at(times[i], &applied);
    if (applied > 0 && applied < total) ++partial_states;
    EXPECT_EQ(Differences(expected, restored), "")
        << "restored as of T=" << times[i] << " (" << i + 1 << " of " << times.size() << "; "
        << applied << " of " << total << " changes committed by then)";

    const auto token_of = [&](const std::string& pk) -> std::optional<std::string> {
      const auto found = restored.find(pk);
      if (found == restored.end()) return std::nullopt;
      const auto w = found->second.find("w");
      return w == found->second.end() ? std::string("?") : w->second.s();
    };
    for (const Transaction& transaction : transactions) {
      const Side first =
          SideOf(histories[transaction.first], transaction.token, token_of(transaction.first));
      const Side second =
          SideOf(histories[transaction.second], transaction.token, token_of(transaction.second));
      if (first == Side::kUnknown || second == Side::kUnknown) continue;
      ++(first == Side::kAtOrAfter ? decided_after : decided_before);
      if (first != second && ++split_transactions <= 5) {
        ADD_FAILURE() << "transaction " << transaction.token
                      << " restored in half at T=" << times[i] << ": " << transaction.first
                      << " is " << SideName(first) << " it, " << transaction.second << " "
                      << SideName(second);
      }
    }
  }
  EXPECT_EQ(split_transactions, 0u);
  // The times fell during the load, and transactions were seen on both sides of them.
  EXPECT_GE(partial_states, 5u);
  EXPECT_GT(decided_before, 0u);
  EXPECT_GT(decided_after, 0u);
  EXPECT_GT(transactions.size(), 100u);
}

TEST_F(TableBackupsTest, RecoveryPeriodBoundsTheRestorableTimes) {
  ASSERT_NO_FATAL_FAILURE(Open(&clock_));
  CreatePlain("ret");
  auto enabled = engine_->UpdateContinuousBackups("ret", true, 1u);
  ASSERT_TRUE(enabled.ok()) << enabled.status().ToString();
  EXPECT_TRUE(enabled->point_in_time_recovery);
  EXPECT_EQ(enabled->recovery_period_days, 1u);
  EXPECT_LE(enabled->earliest_restorable_micros, clock_.NowMicros());
  clock_.AdvanceSeconds(1);

  // Two days before the restores: phase A.
  for (int i = 0; i < 6; ++i) {
    Put("ret", Row(i, "a"));
    clock_.AdvanceSeconds(1);
  }
  Put("ret", Row(1, "a-updated"));
  clock_.AdvanceSeconds(1);
  Delete("ret", RowKey(2));
  const Contents state_a = ContentsOf(*engine_, "ret");
  clock_.AdvanceMicros(2 * kDay);

  // Phase B, inside the recovery period.
  Put("ret", Row(3, "b"));
  clock_.AdvanceSeconds(1);
  Delete("ret", RowKey(4));
  clock_.AdvanceSeconds(1);
  Put("ret", Row(10, "b"));
  const int64_t mid_b = clock_.NowMicros();
  const Contents state_mid_b = ContentsOf(*engine_, "ret");
  clock_.AdvanceSeconds(1);
  Put("ret", Row(11, "b"));
  Put("ret", Row(0, "b"));
  const int64_t last_write = clock_.NowMicros();
  const Contents final_state = ContentsOf(*engine_, "ret");
  clock_.AdvanceSeconds(1);

  // Maintenance forgets the changes older than a day; the restorable range starts a day ago.
  auto removed = engine_->RunBackupMaintenance();
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_GT(*removed, 0u);
  auto removed_again = engine_->RunBackupMaintenance();
  ASSERT_TRUE(removed_again.ok());
  EXPECT_EQ(*removed_again, 0u) << "nothing more became older than the recovery period";
  auto described = engine_->DescribeContinuousBackups("ret");
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_TRUE(described->point_in_time_recovery);
  EXPECT_EQ(described->recovery_period_days, 1u);
  const int64_t earliest = described->earliest_restorable_micros;
  EXPECT_EQ(earliest, clock_.NowMicros() - kDay);
  EXPECT_GE(described->latest_restorable_micros, last_write);
  EXPECT_LE(described->latest_restorable_micros, clock_.NowMicros());

  // The earliest time still restores the state then (phase A's, whose changes were forgotten).
  ASSERT_TRUE(RestoreToTime("ret", earliest, "at_earliest"));
  EXPECT_EQ(Differences(state_a, ContentsOf(*engine_, "at_earliest")), "");
  ASSERT_TRUE(RestoreToTime("ret", mid_b, "at_mid_b"));
  EXPECT_EQ(Differences(state_mid_b, ContentsOf(*engine_, "at_mid_b")), "");
  ASSERT_TRUE(RestoreToTime("ret", std::nullopt, "at_latest"));
  EXPECT_EQ(Differences(final_state, ContentsOf(*engine_, "at_latest")), "");
  EXPECT_EQ(RefusedRestoreToTime("ret", earliest - 1, "before_earliest"),
            ErrorCode::kInvalidRestoreTime);
  EXPECT_EQ(RefusedRestoreToTime("ret", clock_.NowMicros(), "at_now"),
            ErrorCode::kInvalidRestoreTime);
  EXPECT_EQ(RefusedRestoreToTime("ret", clock_.NowMicros() + kDay, "in_future"),
            ErrorCode::kInvalidRestoreTime);
  EXPECT_EQ(RefusedRestoreToTime("missing", std::nullopt, "from_missing"),
            ErrorCode::kSourceTableNotFound);
  EXPECT_EQ(engine_
                ->RestoreTableToPointInTime("ret", std::nullopt,
                                            RestoreRequest("at_latest", Describe("ret")))
                .status()
                .code(),
            ErrorCode::kTableAlreadyExists);

  // Off: nothing to restore from.
  auto disabled = engine_->UpdateContinuousBackups("ret", false, std::nullopt);
  ASSERT_TRUE(disabled.ok()) << disabled.status().ToString();
  EXPECT_FALSE(disabled->point_in_time_recovery);
  EXPECT_EQ(RefusedRestoreToTime("ret", std::nullopt, "while_off"),
            ErrorCode::kPointInTimeRecoveryUnavailable);
  EXPECT_EQ(RefusedRestoreToTime("ret", mid_b, "while_off"),
            ErrorCode::kPointInTimeRecoveryUnavailable);

  // Periods out of 1..35 are refused and change nothing.
  for (uint32_t days : {0u, 36u}) {
    EXPECT_EQ(engine_->UpdateContinuousBackups("ret", true, days).status().code(),
              ErrorCode::kValidation)
        << days;
  }
  auto still_off = engine_->DescribeContinuousBackups("ret");
  ASSERT_TRUE(still_off.ok());
  EXPECT_FALSE(still_off->point_in_time_recovery);
  EXPECT_TRUE(
      IsTableNotFound(engine_->UpdateContinuousBackups("missing", true, 1u).status().code()));
  EXPECT_TRUE(IsTableNotFound(engine_->DescribeContinuousBackups("missing").status().code()));

  // On again: the changes kept before were forgotten, the restorable range starts now.
  clock_.AdvanceSeconds(1);
  const int64_t reenabled_at = clock_.NowMicros();
  auto reenabled = engine_->UpdateContinuousBackups("ret", true, 35u);
  ASSERT_TRUE(reenabled.ok()) << reenabled.status().ToString();
  EXPECT_TRUE(reenabled->point_in_time_recovery);
  EXPECT_EQ(reenabled->recovery_period_days, 35u);
  EXPECT_GT(reenabled->earliest_restorable_micros, last_write);
  EXPECT_LE(reenabled->earliest_restorable_micros, reenabled_at);
  clock_.AdvanceSeconds(1);
  EXPECT_EQ(RefusedRestoreToTime("ret", mid_b, "forgotten"), ErrorCode::kInvalidRestoreTime);
  ASSERT_TRUE(RestoreToTime("ret", std::nullopt, "after_reenabling"));
  EXPECT_EQ(Differences(final_state, ContentsOf(*engine_, "after_reenabling")), "");
}

// The reads exports are made of: the table at a time, and each item's change over a window
// with its states at both ends (incremental exports).
TEST_F(TableBackupsTest, ExportReadsGiveTheTableAtATimeAndEachItemsChangeOverAWindow) {
  ASSERT_NO_FATAL_FAILURE(Open(&clock_));
  CreatePlain("exp");
  Put("exp", Row(0, "kept"));
  Put("exp", Row(1, "modified-before"));
  Put("exp", Row(2, "deleted-in-window"));
  Put("exp", Row(3, "deleted-before-window"));
  const std::string table = "exp";
  {
    const auto read_at = [&](int64_t time) {
      Contents contents;
      Status read = engine_->ReadTableAt(table, time, [&](const Item& item) {
        contents.emplace(TableKeyOf(Describe(table).key_schema, item), item);
        return Status::Ok();
      });
      EXPECT_TRUE(read.ok()) << read.ToString();
      return contents;
    };
    // Recovery off: nothing to export from.
    Status off = engine_->ReadTableAt(table, clock_.NowMicros() - 1,
                                      [](const Item&) { return Status::Ok(); });
    EXPECT_EQ(off.code(), ErrorCode::kPointInTimeRecoveryUnavailable) << off.ToString();
    ASSERT_TRUE(engine_->UpdateContinuousBackups(table, true, std::nullopt).ok());
    clock_.AdvanceSeconds(1);
    Delete("exp", RowKey(3));
    clock_.AdvanceSeconds(1);
    const int64_t from = clock_.NowMicros();
    const Contents at_from = ContentsOf(*engine_, table);
    clock_.AdvanceSeconds(1);
    Put("exp", Row(1, "modified-in-window"));
    Put("exp", Row(4, "created-in-window"));
    Delete("exp", RowKey(2));
    Put("exp", Row(5, "created-and-deleted-in-window"));
    Delete("exp", RowKey(5));
    clock_.AdvanceSeconds(1);
    const int64_t to = clock_.NowMicros();
    const Contents at_to = ContentsOf(*engine_, table);
    clock_.AdvanceSeconds(1);
    Put("exp", Row(0, "after-window"));
    clock_.AdvanceSeconds(1);

    EXPECT_EQ(Differences(at_from, read_at(from)), "");
    EXPECT_EQ(Differences(at_to, read_at(to)), "");

    std::map<std::string, ItemChangeOverWindow> changes;
    Status read = engine_->ReadChangesBetween(table, from, to, [&](const ItemChangeOverWindow& c) {
      EXPECT_TRUE(changes.emplace(c.keys.at("sk").n().ToString(), c).second);
      return Status::Ok();
    });
    ASSERT_TRUE(read.ok()) << read.ToString();
    // Row 0 (unchanged in the window) and 3 (deleted before) are not there; nor is 5
    // (absent at both ends).
    ASSERT_EQ(changes.size(), 3u);
    ASSERT_EQ(changes.count("1"), 1u);
    EXPECT_EQ(changes["1"].before->at("data"), S("modified-before"));
    EXPECT_EQ(changes["1"].after->at("data"), S("modified-in-window"));
    EXPECT_GT(changes["1"].last_change_micros, from);
    EXPECT_LE(changes["1"].last_change_micros, to);
    ASSERT_EQ(changes.count("2"), 1u);
    EXPECT_EQ(changes["2"].before->at("data"), S("deleted-in-window"));
    EXPECT_FALSE(changes["2"].after.has_value());
    ASSERT_EQ(changes.count("4"), 1u);
    EXPECT_FALSE(changes["4"].before.has_value());
    EXPECT_EQ(changes["4"].after->at("data"), S("created-in-window"));

    // Times outside the restorable range, or not yet past, are refused.
    const auto code_of = [&](int64_t a, int64_t b) {
      return engine_
          ->ReadChangesBetween(table, a, b,
                               [](const ItemChangeOverWindow&) { return Status::Ok(); })
          .code();
    };
    EXPECT_EQ(code_of(to, from), ErrorCode::kInvalidExportTime);
    EXPECT_EQ(code_of(from, clock_.NowMicros() + 1'000'000), ErrorCode::kInvalidExportTime);
    EXPECT_EQ(code_of(0, to), ErrorCode::kInvalidExportTime);
  }
}

TEST_F(TableBackupsTest, DeletingATableWithRecoveryOnLeavesASystemBackupThatExpires) {
  ASSERT_NO_FATAL_FAILURE(Open(&clock_));
  CreatePlain("doomed");
  const uint64_t doomed_id = Describe("doomed").table_id;
  auto enabled = engine_->UpdateContinuousBackups("doomed", true, 2u);
  ASSERT_TRUE(enabled.ok()) << enabled.status().ToString();
  for (int i = 0; i < 20; ++i) {
    Put("doomed", Row(i, "v1"));
    if (i % 5 == 0) clock_.AdvanceSeconds(1);
  }
  for (int i = 0; i < 5; ++i) Put("doomed", Row(i, "v2"));
  Delete("doomed", RowKey(19));
  const Contents last_state = ContentsOf(*engine_, "doomed");
  const TableDescription table = Describe("doomed");
  clock_.AdvanceSeconds(5);

  const int64_t deleted_at = clock_.NowMicros();
  ASSERT_TRUE(engine_->DeleteTable("doomed").ok());
  ListBackupsRequest systems;
  systems.type = BackupType::kSystem;
  auto listed = engine_->ListBackups(systems);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->backups.size(), 1u) << "no SYSTEM backup of the deleted table";
  const BackupDescription system = listed->backups[0];
  EXPECT_EQ(system.type, BackupType::kSystem);
  EXPECT_EQ(system.status, BackupStatus::kAvailable);
  EXPECT_EQ(system.expiry_time_micros, deleted_at + 2 * kDay);
  EXPECT_EQ(system.item_count, last_state.size());
  EXPECT_EQ(system.table.name, "doomed");
  EXPECT_EQ(system.table.table_id, doomed_id);
  EXPECT_EQ(system.table.key_schema, table.key_schema);
  ListBackupsRequest users;
  users.type = BackupType::kUser;
  EXPECT_TRUE(ListIds(*engine_, users).empty());
  ListBackupsRequest of_doomed;
  of_doomed.table = "doomed";
  EXPECT_EQ(ListIds(*engine_, of_doomed), std::vector<std::string>{system.backup_id});
  auto described = engine_->DescribeBackup(system.backup_id);
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->type, BackupType::kSystem);
  EXPECT_EQ(described->expiry_time_micros, system.expiry_time_micros);
  EXPECT_TRUE(IsTableNotFound(engine_->DescribeContinuousBackups("doomed").status().code()));

  // It restores the table's last state, under the same name.
  ASSERT_TRUE(RestoreBackup(system.backup_id, "doomed", system.table));
  EXPECT_EQ(Differences(last_state, ContentsOf(*engine_, "doomed")), "");

  // Kept until it expires, then deleted by maintenance.
  clock_.AdvanceMicros(deleted_at + 2 * kDay - kSecond - clock_.NowMicros());
  auto early = engine_->RunBackupMaintenance();
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_TRUE(engine_->DescribeBackup(system.backup_id).ok()) << "deleted before it expired";
  clock_.AdvanceSeconds(2);
  auto expired = engine_->RunBackupMaintenance();
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  EXPECT_GT(*expired, 0u);
  EXPECT_EQ(engine_->DescribeBackup(system.backup_id).status().code(), ErrorCode::kBackupNotFound);
  EXPECT_TRUE(ListIds(*engine_, systems).empty());
  EXPECT_FALSE(fs::exists(fs::path(backup_dir_) / system.backup_id));
  // The table restored from it stays.
  EXPECT_EQ(Differences(last_state, ContentsOf(*engine_, "doomed")), "");
}

TEST_F(TableBackupsTest, BackupsRecoverySettingsAndAnUnfinishedRestoreSurviveAReopen) {
  ASSERT_NO_FATAL_FAILURE(Open(&clock_));
  CreatePlain("kept");
  auto enabled = engine_->UpdateContinuousBackups("kept", true, 7u);
  ASSERT_TRUE(enabled.ok()) << enabled.status().ToString();
  clock_.AdvanceSeconds(1);
  for (int i = 0; i < 30; ++i) {
    Put("kept", Row(i, "v1"));
    if (i % 10 == 9) clock_.AdvanceSeconds(1);
  }
  auto backup = engine_->CreateBackup("kept", "before-reopen");
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  const Contents at_backup = ContentsOf(*engine_, "kept");
  clock_.AdvanceSeconds(1);
  for (int i = 0; i < 10; ++i) Put("kept", Row(i, "v2"));
  for (int i = 20; i < 25; ++i) Delete("kept", RowKey(i));
  const int64_t t1 = clock_.NowMicros();
  const Contents at_t1 = ContentsOf(*engine_, "kept");
  clock_.AdvanceSeconds(1);
  for (int i = 30; i < 40; ++i) Put("kept", Row(i, "v3"));

  // A restore of thousands of items, still running (most likely) when the engine closes.
  CreateTableRequest big;
  big.name = "big";
  big.key_schema.partition_key = {"pk", AttributeType::kS};
  ASSERT_TRUE(engine_->CreateTable(big).ok());
  for (int i = 0; i < 2500; ++i) {
    Put("big",
        {{"pk", S("item" + std::to_string(i))}, {"n", N(i)}, {"pad", S(std::string(64, 'p'))}});
  }
  const Contents big_contents = ContentsOf(*engine_, "big");
  auto big_backup = engine_->CreateBackup("big", "big");
  ASSERT_TRUE(big_backup.ok()) << big_backup.status().ToString();
  auto continuous_before = engine_->DescribeContinuousBackups("kept");
  ASSERT_TRUE(continuous_before.ok());
  auto started = engine_->RestoreTableFromBackup(big_backup->backup_id,
                                                 RestoreRequest("big_copy", big_backup->table));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  // And one that backfills its new stream (each item once, also across the reopen).
  CreateTableRequest backfilled = RestoreRequest("big_streamed", big_backup->table);
  backfilled.stream = {true, StreamViewType::kNewImage};
  backfilled.backfill_stream = true;
  auto started_backfill = engine_->RestoreTableFromBackup(big_backup->backup_id, backfilled);
  ASSERT_TRUE(started_backfill.ok()) << started_backfill.status().ToString();

  engine_.reset();
  ASSERT_NO_FATAL_FAILURE(Open(&clock_));

  auto continuous_after = engine_->DescribeContinuousBackups("kept");
  ASSERT_TRUE(continuous_after.ok()) << continuous_after.status().ToString();
  EXPECT_TRUE(continuous_after->point_in_time_recovery);
  EXPECT_EQ(continuous_after->recovery_period_days, 7u);
  EXPECT_EQ(continuous_after->earliest_restorable_micros,
            continuous_before->earliest_restorable_micros);
  auto described = engine_->DescribeBackup(backup->backup_id);
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->name, "before-reopen");
  EXPECT_EQ(described->type, BackupType::kUser);
  EXPECT_EQ(described->status, BackupStatus::kAvailable);
  EXPECT_EQ(described->creation_time_micros, backup->creation_time_micros);
  EXPECT_EQ(described->item_count, 30u);
  EXPECT_EQ(described->size_bytes, backup->size_bytes);
  EXPECT_EQ(described->table.name, "kept");
  EXPECT_EQ(described->table.table_id, backup->table.table_id);
  EXPECT_EQ(ListIds(*engine_, {}),
            (std::vector<std::string>{backup->backup_id, big_backup->backup_id}));

  // The restore interrupted by the close is finished.
  TableDescription big_copy;
  ASSERT_TRUE(WaitRestored(*engine_, "big_copy", &big_copy));
  EXPECT_EQ(big_copy.restore->source_backup_id, big_backup->backup_id);
  EXPECT_EQ(Differences(big_contents, ContentsOf(*engine_, "big_copy")), "");
  TableDescription big_streamed;
  ASSERT_TRUE(WaitRestored(*engine_, "big_streamed", &big_streamed));
  EXPECT_EQ(Differences(big_contents, ContentsOf(*engine_, "big_streamed")), "");
  Contents backfilled_records;
  for (const ShardDescription& shard : big_streamed.shards) {
    auto read =
        engine_->ReadShard({TableName("big_streamed"), shard.index, SequenceNumber(1), 10000});
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    for (const ChangeRecord& record : read->records) {
      EXPECT_EQ(record.event(), v1::INSERT);
      EXPECT_EQ(record.provenance(), v1::RESTORE);
      auto image = FromProto(record.new_image());
      ASSERT_TRUE(image.ok()) << image.status().ToString();
      const std::string key = TableKeyOf(big_streamed.key_schema, *image);
      EXPECT_TRUE(backfilled_records.emplace(key, *image).second) << "logged twice: " << key;
    }
  }
  EXPECT_EQ(Differences(big_contents, backfilled_records), "");

  // Changes go on being kept after the reopen.
  clock_.AdvanceSeconds(1);
  Put("kept", Row(40, "after-reopen"));
  const Contents final_state = ContentsOf(*engine_, "kept");
  clock_.AdvanceSeconds(1);
  ASSERT_TRUE(RestoreBackup(backup->backup_id, "kept_backup", described->table));
  EXPECT_EQ(Differences(at_backup, ContentsOf(*engine_, "kept_backup")), "");
  ASSERT_TRUE(RestoreToTime("kept", t1, "kept_t1"));
  EXPECT_EQ(Differences(at_t1, ContentsOf(*engine_, "kept_t1")), "");
  ASSERT_TRUE(RestoreToTime("kept", std::nullopt, "kept_latest"));
  EXPECT_EQ(Differences(final_state, ContentsOf(*engine_, "kept_latest")), "");
}

}  // namespace
// Imports: BeginImport creates a table refused to reads and writes and described CREATING;
// LoadImportedItems writes the valid items (a later one replacing an earlier one with the
// same key, indexes maintained, nothing logged) and reports the rest by position; the table
// is ACTIVE after FinishImport; AbandonImport drops it.
TEST_F(TableBackupsTest, ImportedItemsAreWrittenInvalidOnesReportedAndTheTableAppearsWhenDone) {
  ASSERT_NO_FATAL_FAILURE(Open(Clock::System()));
  CreateTableRequest request = IndexedTable("imported");
  request.stream = {true, StreamViewType::kNewAndOldImages};
  auto begun = engine_->BeginImport(request, "01700000000000-a1b2c3d4");
  ASSERT_TRUE(begun.ok()) << begun.status().ToString();
  EXPECT_EQ(begun->import_in_progress, std::optional<std::string>("01700000000000-a1b2c3d4"));
  EXPECT_FALSE(begun->restore.has_value());
  EXPECT_EQ(engine_->BeginImport(request, "01700000000000-ffffffff").status().code(),
            ErrorCode::kResourceInUse);
  EXPECT_EQ(engine_->GetItem("imported", RichKey(1)).status().code(), ErrorCode::kResourceNotFound);
  EXPECT_FALSE(engine_->PutItem("imported", RichItem(1)).ok());
  EXPECT_EQ(engine_->DeleteTable("imported").status().code(), ErrorCode::kResourceInUse);

  Contents expected;
  std::vector<Item> batch;
  for (int i = 0; i < 40; ++i) batch.push_back(RichItem(i));
  batch.push_back(RichItem(7, "second-"));  // replaces the first item 7
  Item no_sort_key = RichItem(50);
  no_sort_key.erase("sk");
  batch.push_back(no_sort_key);  // 41
  Item wrong_key_type = RichItem(51);
  wrong_key_type["pk"] = N(51);
  batch.push_back(wrong_key_type);  // 42
  Item wrong_index_key = RichItem(52);
  wrong_index_key["rank"] = S("high");
  batch.push_back(wrong_index_key);  // 43
  Item too_large = RichItem(53);
  too_large["blob"] = S(std::string(410 * 1024, 'x'));
  batch.push_back(too_large);  // 44
  const TableDescription described = *begun;
  for (const Item& item : batch) {
    if (item.count("sk") != 0 && item.at("pk").type() == AttributeType::kS &&
        item.at("rank").type() == AttributeType::kN && item.count("blob") == 0) {
      expected[TableKeyOf(described.key_schema, item)] = item;
    }
  }
  auto loaded = engine_->LoadImportedItems("imported", batch);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->written, 40u);
  std::vector<size_t> rejected;
  for (const auto& [position, reason] : loaded->rejected) {
    rejected.push_back(position);
    EXPECT_EQ(reason.code(), ErrorCode::kValidation) << reason.ToString();
  }
  EXPECT_EQ(rejected, (std::vector<size_t>{41, 42, 43, 44}));
  std::vector<Item> more;
  for (int i = 40; i < 60; ++i) {
    more.push_back(RichItem(i));
    expected[TableKeyOf(described.key_schema, more.back())] = more.back();
  }
  auto loaded_more = engine_->LoadImportedItems("imported", more);
  ASSERT_TRUE(loaded_more.ok()) << loaded_more.status().ToString();
  EXPECT_EQ(loaded_more->written, 20u);
  EXPECT_TRUE(loaded_more->rejected.empty());
  ASSERT_TRUE(engine_->FinishImport("imported").ok());

  const TableDescription done = Describe("imported");
  EXPECT_FALSE(done.import_in_progress.has_value());
  EXPECT_EQ(Differences(expected, ContentsOf(*engine_, "imported")), "");
  EXPECT_EQ(engine_->FinishImport("imported").code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(engine_->LoadImportedItems("imported", {RichItem(70)}).status().code(),
            ErrorCode::kResourceNotFound);
  // The indexes hold the imported items; the stream starts empty.
  EXPECT_GT(testing::ExpectIndexesMatchTable(*engine_, "imported"), 0u);
  EXPECT_FALSE(QueryAll(*engine_, "imported", "by_rank", S("p3")).empty());
  for (const ShardDescription& shard : done.shards) {
    EXPECT_EQ(shard.last_sequence, SequenceNumber(0)) << "shard " << shard.index;
  }
  Put("imported", RichItem(80));

  // An abandoned import leaves no table, and its name is free again.
  ASSERT_TRUE(engine_->BeginImport(IndexedTable("dropped"), "01700000000001-a1b2c3d4").ok());
  ASSERT_TRUE(engine_->LoadImportedItems("dropped", {RichItem(1)}).ok());
  ASSERT_TRUE(engine_->AbandonImport("dropped").ok());
  EXPECT_EQ(engine_->DescribeTable("dropped").status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(engine_->AbandonImport("imported").code(), ErrorCode::kResourceNotFound);
  ASSERT_TRUE(engine_->CreateTable(IndexedTable("dropped")).ok());
}

TEST_F(TableBackupsTest, AnImportUnfinishedAtCloseIsDroppedWithItsTableAtTheNextOpen) {
  ASSERT_NO_FATAL_FAILURE(Open(Clock::System()));
  ASSERT_TRUE(engine_->BeginImport(IndexedTable("half"), "01700000000002-a1b2c3d4").ok());
  std::vector<Item> items;
  for (int i = 0; i < 30; ++i) items.push_back(RichItem(i));
  ASSERT_TRUE(engine_->LoadImportedItems("half", items).ok());
  ASSERT_TRUE(engine_->BeginImport(IndexedTable("whole"), "01700000000003-a1b2c3d4").ok());
  ASSERT_TRUE(engine_->LoadImportedItems("whole", items).ok());
  ASSERT_TRUE(engine_->FinishImport("whole").ok());
  const Contents whole = ContentsOf(*engine_, "whole");
  engine_.reset();

  ASSERT_NO_FATAL_FAILURE(Open(Clock::System()));
  EXPECT_EQ(engine_->DescribeTable("half").status().code(), ErrorCode::kResourceNotFound);
  auto listed = engine_->ListTables(std::nullopt, 0);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->names, std::vector<std::string>{"whole"});
  EXPECT_EQ(Differences(whole, ContentsOf(*engine_, "whole")), "");
  ASSERT_TRUE(engine_->BeginImport(IndexedTable("half"), "01700000000004-a1b2c3d4").ok());
}

}  // namespace tidewater
