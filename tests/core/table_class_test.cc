// Table classes: STANDARD_INFREQUENT_ACCESS stores the same items in fewer bytes than
// STANDARD (its column family's options), the class survives a reopen, and UpdateTable
// changes it on a live table.
#include <gtest/gtest.h>

#include <random>

#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "tidewater/core/engine.h"

namespace tidewater {
namespace {

constexpr int kItems = 3000;

// Log-like text: words from a small vocabulary with numbers, as items often hold; it
// compresses, and better with more context.
std::string Text(std::mt19937& rng) {
  static const char* const kWords[] = {"order",  "shipped",   "customer", "invoice", "pending",
                                       "region", "warehouse", "status",   "payment", "address"};
  std::string text;
  while (text.size() < 900) {
    text += kWords[rng() % 10];
    text += rng() % 3 == 0 ? " " + std::to_string(rng() % 100000) + " " : " ";
  }
  return text;
}

void CreateAndFill(Engine& engine, const std::string& name, std::optional<TableClass> table_class) {
  CreateTableRequest request;
  request.name = name;
  request.key_schema.partition_key = {"pk", AttributeType::kS};
  if (table_class) {
    request.settings.table_class = *table_class;
    request.settings.table_class_set_micros = 1'700'000'000'000'000;
  }
  ASSERT_TRUE(engine.CreateTable(request).ok());
  std::mt19937 rng(7);  // the same items in every table
  for (int i = 0; i < kItems; ++i) {
    ASSERT_TRUE(engine
                    .PutItem(name, {{"pk", AttributeValue::S("item-" + std::to_string(i))},
                                    {"body", AttributeValue::S(Text(rng))}})
                    .ok());
  }
}

TEST(TableClassTest, InfrequentAccessStoresTheSameItemsInFewerBytes) {
  testing::TempDir dir;
  {
    auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
    ASSERT_TRUE(engine.ok());
    CreateAndFill(**engine, "standard", std::nullopt);
    CreateAndFill(**engine, "infrequent", TableClass::kStandardInfrequentAccess);
  }
  // Reopened, both tables' items are in table files (the recovered log is flushed).
  auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
  ASSERT_TRUE(engine.ok());
  auto standard = (*engine)->DescribeTable("standard");
  auto infrequent = (*engine)->DescribeTable("infrequent");
  ASSERT_TRUE(standard.ok() && infrequent.ok());
  EXPECT_EQ(standard->settings.table_class, TableClass::kStandard);
  EXPECT_EQ(standard->settings.table_class_set_micros, 0);
  EXPECT_EQ(infrequent->settings.table_class, TableClass::kStandardInfrequentAccess);
  EXPECT_EQ(infrequent->settings.table_class_set_micros, 1'700'000'000'000'000);
  std::cout << "[ classes  ] " << kItems << " items: STANDARD " << standard->approximate_size_bytes
            << " bytes, STANDARD_INFREQUENT_ACCESS " << infrequent->approximate_size_bytes
            << " bytes\n";
  ASSERT_GT(standard->approximate_size_bytes, 0u);
  EXPECT_LT(infrequent->approximate_size_bytes * 10, standard->approximate_size_bytes * 8)
      << "infrequent access should store the items in under 80% of the bytes";
  auto item = (*engine)->GetItem("infrequent", {{"pk", AttributeValue::S("item-17")}});
  ASSERT_TRUE(item.ok() && item->has_value());
}

TEST(TableClassTest, UpdateChangesTheClassOfALiveTableAndNewFilesFollowIt) {
  testing::TempDir dir;
  {
    auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
    ASSERT_TRUE(engine.ok());
    CreateTableRequest request;
    request.name = "moving";
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    ASSERT_TRUE((*engine)->CreateTable(request).ok());
    auto updated = (*engine)->UpdateTableSettings(
        "moving", [](const TableDescription&, int64_t now_micros, TableSettings& settings) {
          settings.table_class = TableClass::kStandardInfrequentAccess;
          settings.table_class_set_micros = now_micros;
          return Status::Ok();
        });
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
    EXPECT_EQ(updated->settings.table_class, TableClass::kStandardInfrequentAccess);
    EXPECT_GT(updated->settings.table_class_set_micros, 0);
  }
  auto engine = Engine::Open(testing::TestEngineOptions(dir.path()));
  ASSERT_TRUE(engine.ok());
  CreateAndFill(**engine, "standard", std::nullopt);
  std::mt19937 rng(7);
  for (int i = 0; i < kItems; ++i) {
    ASSERT_TRUE((*engine)
                    ->PutItem("moving", {{"pk", AttributeValue::S("item-" + std::to_string(i))},
                                         {"body", AttributeValue::S(Text(rng))}})
                    .ok());
  }
  engine->reset();
  engine = Engine::Open(testing::TestEngineOptions(dir.path()));
  ASSERT_TRUE(engine.ok());
  auto moved = (*engine)->DescribeTable("moving");
  auto standard = (*engine)->DescribeTable("standard");
  ASSERT_TRUE(moved.ok() && standard.ok());
  EXPECT_EQ(moved->settings.table_class, TableClass::kStandardInfrequentAccess);
  EXPECT_LT(moved->approximate_size_bytes * 10, standard->approximate_size_bytes * 8);
}

}  // namespace
}  // namespace tidewater
