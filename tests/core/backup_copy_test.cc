// Copying a backup from one engine to another (table_backups.h, "Copying a backup to another
// tidewaterd"), the two engines in directories of their own as two regions would be:
//  * a backup read chunk by chunk from the source and appended on the target becomes a USER
//    backup there (a new id; the source's name, creation time and table) that restores every
//    item, and survives a reopen;
//  * a chunk damaged on the way is refused at the finish with an error naming the damage, and
//    nothing is listed or left behind; a description that is not sealed is refused at once;
//  * a chunk sent again is accepted again, a gap and bytes past the backup's size are refused;
//  * an unfinished copy is gone after a reopen;
//  * RESTORE backups (point-in-time restores' internal ones) are not served.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "support/index_check.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "support/wait_for.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/table_backups.h"

namespace tidewater {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunkBytes = 1000;

AttributeValue S(std::string s) { return AttributeValue::S(std::move(s)); }
AttributeValue N(int64_t n) { return AttributeValue::N(Number::FromInt64(n)); }

// Row `i` of table "orders" (pk S, sk N), with attributes of every kind.
Item Row(int i, const std::string& note = "first") {
  const std::string n = std::to_string(i);
  return {
      {"pk", S("customer" + std::to_string(i % 9))},
      {"sk", N(i)},
      {"note", S(note + " " + n + " \xc3\xa9")},
      {"amount", AttributeValue::N(*Number::Parse("-12.345e-3"))},
      {"blob", AttributeValue::B(std::string("\x00\xff\x10", 3) + n)},
      {"tags", AttributeValue::SS({"red", "t" + n})},
      {"sizes", AttributeValue::NS({Number::FromInt64(i), Number::FromInt64(i + 1)})},
      {"paid", AttributeValue::Bool(i % 2 == 0)},
      {"nothing", AttributeValue::Null()},
      {"lines", AttributeValue::L({S("line " + n), AttributeValue::M({{"qty", N(i % 4)}}),
                                   AttributeValue::L({})})},
  };
}

// Every item of `table` by its encoded table key.
std::map<std::string, Item> ContentsOf(Engine& engine, const std::string& table) {
  std::map<std::string, Item> contents;
  auto described = engine.DescribeTable(table);
  EXPECT_TRUE(described.ok()) << table << ": " << described.status().ToString();
  if (!described.ok()) return contents;
  for (Item& item : testing::ScanEverything(engine, table)) {
    contents.emplace(testing::TableKeyOf(described->key_schema, item), std::move(item));
  }
  return contents;
}

// A restore into `name` of a backup of `source` (no indexes).
CreateTableRequest RestoreRequest(const std::string& name, const TableDescription& source) {
  CreateTableRequest request;
  request.name = name;
  request.key_schema = source.key_schema;
  return request;
}

// Waits until the restore into `table` has every item in.
::testing::AssertionResult WaitRestored(Engine& engine, const std::string& table) {
  return testing::WaitFor([&] {
    auto described = engine.DescribeTable(table);
    return described.ok() && described->restore && !described->restore->in_progress;
  });
}

// Names of the entries of `dir` (none when it does not exist); with `staged`, also those
// of backups being written, received or deleted (".tmp-...").
std::vector<std::string> EntriesOf(const std::string& dir, bool staged = true) {
  std::vector<std::string> names;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (staged || !name.starts_with(".")) names.push_back(name);
  }
  return names;
}

// A source backup in transit: its description, its sealed backup.meta and its items in
// chunks of kChunkBytes.
struct Transfer {
  BackupDescription backup;
  std::string meta;
  std::vector<std::string> chunks;
};

class BackupCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = Open("source");
    target_ = Open("target");
    ASSERT_TRUE(source_ && target_);
  }

  std::unique_ptr<Engine> Open(const std::string& name) {
    auto engine = Engine::Open(testing::TestEngineOptions(dir_.Sub(name)));
    if (!engine.ok()) {
      ADD_FAILURE() << name << ": " << engine.status().ToString();
      return nullptr;
    }
    return std::move(*engine);
  }

  std::string TargetBackupDir() const { return dir_.Sub("target") + "/backups"; }

  // Table "orders" on the source with rows 0 .. count-1.
  void FillSource(int count) {
    CreateTableRequest request;
    request.name = "orders";
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.key_schema.sort_key = KeyAttribute{"sk", AttributeType::kN};
    ASSERT_TRUE(source_->CreateTable(request).ok());
    for (int i = 0; i < count; ++i) ASSERT_TRUE(source_->PutItem("orders", Row(i)).ok());
  }

  // A backup "nightly" of the source's "orders", read as a copy reads it.
  Transfer ReadFromSource() {
    Transfer transfer;
    auto backup = source_->CreateBackup("orders", "nightly");
    EXPECT_TRUE(backup.ok()) << backup.status().ToString();
    if (!backup.ok()) return transfer;
    transfer.backup = *backup;
    auto meta = source_->ReadBackupMeta(backup->backup_id);
    EXPECT_TRUE(meta.ok()) << meta.status().ToString();
    if (meta.ok()) transfer.meta = *meta;
    for (uint64_t offset = 0; offset < backup->size_bytes;) {
      auto chunk = source_->ReadBackupItems(backup->backup_id, offset, kChunkBytes);
      EXPECT_TRUE(chunk.ok()) << chunk.status().ToString();
      if (!chunk.ok() || chunk->empty()) break;
      offset += chunk->size();
      transfer.chunks.push_back(std::move(*chunk));
    }
    return transfer;
  }

  // Appends `chunks` to copy `copy_id` on the target from offset `offset`, in order.
  ::testing::AssertionResult Append(const std::string& copy_id,
                                    const std::vector<std::string>& chunks, uint64_t offset = 0) {
    for (const std::string& chunk : chunks) {
      const Status appended = target_->AppendBackupCopy(copy_id, offset, chunk);
      if (!appended.ok()) {
        return ::testing::AssertionFailure()
               << "appending at " << offset << ": " << appended.ToString();
      }
      offset += chunk.size();
    }
    return ::testing::AssertionSuccess();
  }

  // The backups the target lists, of every type.
  std::vector<BackupDescription> TargetBackups() {
    auto page = target_->ListBackups({});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->backups : std::vector<BackupDescription>();
  }

  testing::TempDir dir_;
  std::unique_ptr<Engine> source_;
  std::unique_ptr<Engine> target_;
};

TEST_F(BackupCopyTest, ACopiedBackupRestoresEveryItemOnTheTarget) {
  ASSERT_NO_FATAL_FAILURE(FillSource(300));
  const std::map<std::string, Item> source_items = ContentsOf(*source_, "orders");
  ASSERT_EQ(source_items.size(), 300u);
  const Transfer transfer = ReadFromSource();
  const BackupDescription& source_backup = transfer.backup;
  ASSERT_GT(transfer.chunks.size(), 10u) << "the items should take many chunks";
  uint64_t read = 0;
  for (const std::string& chunk : transfer.chunks) read += chunk.size();
  EXPECT_EQ(read, source_backup.size_bytes);
  // At the end and past it, nothing more.
  for (const uint64_t offset : {source_backup.size_bytes, source_backup.size_bytes + 10}) {
    auto past = source_->ReadBackupItems(source_backup.backup_id, offset, kChunkBytes);
    ASSERT_TRUE(past.ok()) << past.status().ToString();
    EXPECT_EQ(*past, "") << "at " << offset;
  }
  // Changes after the backup are not in it.
  ASSERT_TRUE(source_->PutItem("orders", Row(7, "changed")).ok());

  auto copy_id = target_->BeginBackupCopy(transfer.meta);
  ASSERT_TRUE(copy_id.ok()) << copy_id.status().ToString();
  ASSERT_TRUE(Append(*copy_id, transfer.chunks));
  // Not finished: nothing to see.
  EXPECT_TRUE(TargetBackups().empty());
  EXPECT_EQ(target_->DescribeBackup(*copy_id).status().code(), ErrorCode::kBackupNotFound);

  auto copied = target_->FinishBackupCopy(*copy_id);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_TRUE(std::regex_match(copied->backup_id, std::regex("[0-9]{13}-[0-9a-f]{8}")))
      << copied->backup_id;
  EXPECT_NE(copied->backup_id, source_backup.backup_id);
  EXPECT_EQ(copied->name, "nightly");
  EXPECT_EQ(copied->type, BackupType::kUser);
  EXPECT_EQ(copied->status, BackupStatus::kAvailable);
  EXPECT_EQ(copied->creation_time_micros, source_backup.creation_time_micros);
  EXPECT_EQ(copied->expiry_time_micros, 0);
  EXPECT_EQ(copied->item_count, 300u);
  EXPECT_EQ(copied->size_bytes, source_backup.size_bytes);
  EXPECT_EQ(copied->table.name, "orders");
  EXPECT_EQ(copied->table.table_id, source_backup.table.table_id);
  EXPECT_EQ(copied->table.key_schema, source_backup.table.key_schema);
  const std::vector<BackupDescription> listed = TargetBackups();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].backup_id, copied->backup_id);
  EXPECT_EQ(EntriesOf(TargetBackupDir()), std::vector<std::string>{copied->backup_id});
  // The copy is a backup like any: it can be copied on in turn.
  auto meta_again = target_->ReadBackupMeta(copied->backup_id);
  ASSERT_TRUE(meta_again.ok()) << meta_again.status().ToString();
  EXPECT_NE(*meta_again, transfer.meta) << "the copy's description names its own id";

  // Restored on the target: every item as the backup holds it.
  ASSERT_TRUE(
      target_->RestoreTableFromBackup(copied->backup_id, RestoreRequest("orders", copied->table))
          .ok());
  ASSERT_TRUE(WaitRestored(*target_, "orders"));
  EXPECT_TRUE(ContentsOf(*target_, "orders") == source_items)
      << "the restored copy differs from the source table at the backup";

  // The copy stays after a reopen.
  target_.reset();
  target_ = Open("target");
  ASSERT_TRUE(target_);
  auto described = target_->DescribeBackup(copied->backup_id);
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->name, "nightly");
  EXPECT_EQ(described->item_count, 300u);
}

TEST_F(BackupCopyTest, ADamagedCopyIsRefusedWithItsReasonAndLeavesNothing) {
  ASSERT_NO_FATAL_FAILURE(FillSource(100));
  const Transfer transfer = ReadFromSource();
  ASSERT_GT(transfer.chunks.size(), 3u);

  // A chunk damaged on the way: the finish names the damage and drops the copy.
  std::vector<std::string> damaged = transfer.chunks;
  damaged[2][17] = static_cast<char>(damaged[2][17] ^ 0x01);
  auto copy_id = target_->BeginBackupCopy(transfer.meta);
  ASSERT_TRUE(copy_id.ok()) << copy_id.status().ToString();
  ASSERT_TRUE(Append(*copy_id, damaged));
  auto refused = target_->FinishBackupCopy(*copy_id);
  ASSERT_FALSE(refused.ok()) << "a damaged copy was published";
  EXPECT_EQ(refused.status().code(), ErrorCode::kValidation) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("SHA-256"), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("dropped"), std::string::npos)
      << refused.status().ToString();
  EXPECT_TRUE(TargetBackups().empty());
  EXPECT_TRUE(EntriesOf(TargetBackupDir()).empty());
  // Dropped: the copy takes nothing more.
  EXPECT_EQ(target_->AppendBackupCopy(*copy_id, 0, transfer.chunks[0]).code(),
            ErrorCode::kValidation);
  EXPECT_EQ(target_->FinishBackupCopy(*copy_id).status().code(), ErrorCode::kValidation);

  // A copy missing its last chunk is refused too, with how much came.
  auto short_id = target_->BeginBackupCopy(transfer.meta);
  ASSERT_TRUE(short_id.ok()) << short_id.status().ToString();
  ASSERT_TRUE(Append(*short_id,
                     std::vector<std::string>(transfer.chunks.begin(), transfer.chunks.end() - 1)));
  auto incomplete = target_->FinishBackupCopy(*short_id);
  ASSERT_FALSE(incomplete.ok());
  EXPECT_EQ(incomplete.status().code(), ErrorCode::kValidation);
  EXPECT_NE(incomplete.status().message().find(std::to_string(transfer.backup.size_bytes)),
            std::string::npos)
      << incomplete.status().ToString();

  // A description whose seal does not match, or that is none, is refused at the start.
  std::string tampered = transfer.meta;
  tampered[tampered.size() / 2] = static_cast<char>(tampered[tampered.size() / 2] ^ 0x01);
  for (const std::string& meta : {tampered, std::string("not a backup"), std::string()}) {
    auto begun = target_->BeginBackupCopy(meta);
    ASSERT_FALSE(begun.ok()) << "a copy began from " << meta.size() << " bytes";
    EXPECT_EQ(begun.status().code(), ErrorCode::kValidation) << begun.status().ToString();
    EXPECT_NE(begun.status().message().find("not a sealed backup description"), std::string::npos)
        << begun.status().ToString();
  }
  EXPECT_TRUE(TargetBackups().empty());
  EXPECT_TRUE(EntriesOf(TargetBackupDir()).empty());
}

TEST_F(BackupCopyTest, AChunkSentAgainIsAcceptedAndAGapIsRefused) {
  ASSERT_NO_FATAL_FAILURE(FillSource(100));
  const std::map<std::string, Item> source_items = ContentsOf(*source_, "orders");
  const Transfer transfer = ReadFromSource();
  const std::vector<std::string>& chunks = transfer.chunks;
  ASSERT_GT(chunks.size(), 3u);
  auto copy_id = target_->BeginBackupCopy(transfer.meta);
  ASSERT_TRUE(copy_id.ok()) << copy_id.status().ToString();

  ASSERT_TRUE(Append(*copy_id, {chunks[0]}));
  // The same chunk again (a retry whose first answer was lost): accepted, changes nothing.
  ASSERT_TRUE(Append(*copy_id, {chunks[0]}));
  // The third chunk before the second: a gap.
  const Status gap =
      target_->AppendBackupCopy(*copy_id, chunks[0].size() + chunks[1].size(), chunks[2]);
  EXPECT_EQ(gap.code(), ErrorCode::kValidation) << gap.ToString();
  EXPECT_NE(gap.message().find("gap"), std::string::npos) << gap.ToString();
  // The first two chunks as one, from the start: only the second's bytes are new.
  ASSERT_TRUE(Append(*copy_id, {chunks[0] + chunks[1]}));
  const uint64_t received = chunks[0].size() + chunks[1].size();
  ASSERT_TRUE(
      Append(*copy_id, std::vector<std::string>(chunks.begin() + 2, chunks.end()), received));
  // Every byte is in: more is refused, the last chunk again is not.
  const Status beyond = target_->AppendBackupCopy(*copy_id, transfer.backup.size_bytes, "x");
  EXPECT_EQ(beyond.code(), ErrorCode::kValidation) << beyond.ToString();
  ASSERT_TRUE(Append(*copy_id, {chunks.back()}, transfer.backup.size_bytes - chunks.back().size()));

  auto copied = target_->FinishBackupCopy(*copy_id);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  ASSERT_TRUE(
      target_->RestoreTableFromBackup(copied->backup_id, RestoreRequest("orders", copied->table))
          .ok());
  ASSERT_TRUE(WaitRestored(*target_, "orders"));
  EXPECT_TRUE(ContentsOf(*target_, "orders") == source_items);
}

TEST_F(BackupCopyTest, AnUnfinishedCopyIsGoneAfterAReopen) {
  ASSERT_NO_FATAL_FAILURE(FillSource(50));
  const Transfer transfer = ReadFromSource();
  ASSERT_GT(transfer.chunks.size(), 1u);
  auto copy_id = target_->BeginBackupCopy(transfer.meta);
  ASSERT_TRUE(copy_id.ok()) << copy_id.status().ToString();
  ASSERT_TRUE(Append(*copy_id, {transfer.chunks[0]}));
  EXPECT_EQ(EntriesOf(TargetBackupDir()), std::vector<std::string>{".tmp-" + *copy_id})
      << "the copy is staged apart";

  target_.reset();
  target_ = Open("target");
  ASSERT_TRUE(target_);
  EXPECT_TRUE(EntriesOf(TargetBackupDir()).empty());
  EXPECT_TRUE(TargetBackups().empty());
  EXPECT_EQ(target_->DescribeBackup(*copy_id).status().code(), ErrorCode::kBackupNotFound);
  EXPECT_EQ(
      target_->AppendBackupCopy(*copy_id, transfer.chunks[0].size(), transfer.chunks[1]).code(),
      ErrorCode::kValidation);
  EXPECT_EQ(target_->FinishBackupCopy(*copy_id).status().code(), ErrorCode::kValidation);
}

TEST_F(BackupCopyTest, RestoreBackupsAreNotServed) {
  EXPECT_EQ(source_->ReadBackupMeta("1700000000000-0badf00d").status().code(),
            ErrorCode::kBackupNotFound);
  EXPECT_EQ(source_->ReadBackupItems("1700000000000-0badf00d", 0, kChunkBytes).status().code(),
            ErrorCode::kBackupNotFound);

  // A point-in-time restore loads a RESTORE backup of the state it restores, kept until the
  // restore is done. Many items make the restore last long enough to find that backup; an
  // attempt that finds the restore already done tries again.
  ASSERT_NO_FATAL_FAILURE(FillSource(5000));
  auto recovery = source_->UpdateContinuousBackups("orders", true, std::nullopt);
  ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
  ASSERT_TRUE(testing::WaitFor([&] {
    auto described = source_->DescribeContinuousBackups("orders");
    return described.ok() &&
           described->latest_restorable_micros > described->earliest_restorable_micros;
  }));
  auto orders = source_->DescribeTable("orders");
  ASSERT_TRUE(orders.ok()) << orders.status().ToString();
  const std::string backup_dir = dir_.Sub("source") + "/backups";
  bool checked = false;
  for (int attempt = 0; attempt < 10 && !checked; ++attempt) {
    const std::string restored = "restored" + std::to_string(attempt);
    auto started = source_->RestoreTableToPointInTime("orders", std::nullopt,
                                                      RestoreRequest(restored, *orders));
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    // The only backup there: this restore's (the previous one's went before it began).
    for (const std::string& id : EntriesOf(backup_dir, /*staged=*/false)) {
      EXPECT_EQ(source_->ReadBackupMeta(id).status().code(), ErrorCode::kBackupNotFound);
      EXPECT_EQ(source_->ReadBackupItems(id, 0, kChunkBytes).status().code(),
                ErrorCode::kBackupNotFound);
      // Still restoring after the reads: the RESTORE backup was registered all along.
      auto described = source_->DescribeTable(restored);
      checked = described.ok() && described->restore && described->restore->in_progress;
    }
    ASSERT_TRUE(WaitRestored(*source_, restored));
    ASSERT_TRUE(testing::WaitFor([&] { return EntriesOf(backup_dir, false).empty(); }))
        << "the RESTORE backup stayed after its restore";
  }
  EXPECT_TRUE(checked) << "no attempt found a point-in-time restore still loading its backup";
}

}  // namespace
}  // namespace tidewater
