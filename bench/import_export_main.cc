// Exports and imports against what a client would do instead, in one run on one table: rows/s
// of a full export (ExportTableToPointInTime's work) against a full Scan, and of an import
// (ImportTable's work) against BatchWriteItem, for DYNAMODB_JSON and ION. Prints figures and
// ratios; asserts nothing, but exits 1 when a path lost or changed items (see "Checks").
//
//   build/bench/tw_import_export_bench [--items N] [--threads T] [--formats json,ion]
//                                      [--dir D]
//
// Defaults: N = 200,000, T = 1, both formats. Everything is written in a new directory
// D/tw-import-export-bench-XXXXXX (D: the system's temporary directory unless given), removed
// at the end, also after an error. Give a D on the disk you mean to measure: on a tmpfs /tmp
// the figures are memory figures (the run says so). At its peak it holds the source data
// directory (items and their history), the exports of both formats and one write step's data
// directory; in memory, the BatchWriteItem baseline holds the N items (a few KB each as
// Items). The load average (/proc/loadavg) is printed at the start and at the end. Wall
// times are steady_clock; sync() is called before every timed step, so that no dirty page of
// an earlier step is written back during it.
//
// Items: 1,024 bytes each by DynamoDB's rule (ItemSize): pk (S) "item-" and 12 digits, seq (N),
// title (S, six words), in_stock (BOOL), tags (L: two S and an N), dimensions (M: two N and an
// S) and payload (B): random bytes filling the item to 1,024 (about 870), which gzip cannot
// shrink. Item i's values come from a generator seeded with i, so that any step can make item
// i again. Tables: PAY_PER_REQUEST, no stream, partition key pk. Every engine runs with its
// defaults (EngineOptions::sync off) and without its background loop.
//
// 1. Setup (times printed for information only): table "source" filled with PutItem from 2
//    threads; point-in-time recovery turned on (UpdateContinuousBackups, which copies every item
//    into the history the export reads); the engine closed, its data directory opened with
//    RocksDB itself (each column family with the options RocksDB stored for it), every column
//    family compacted to the bottom, and the engine opened again, so that no flush or
//    compaction runs during the reads. The export time is the clock's time then; the run waits
//    until the clock has passed it (ReadTableAt refuses a time not yet past).
// 2. Reads of the source table, in this order:
//    Scan (baseline): Engine::Scan with the engine's default page size (1 MB), following
//    LastEvaluatedKey until done; each page serialized to DynamoDB JSON with json::WriteItem as
//    tidewaterd answers a Scan ({"Items":[...],"Count":..,"ScannedCount":..,
//    "LastEvaluatedKey":..}), so that the baseline also makes the bytes a client gets.
//    Export, per format: what tidewaterd's export thread does for a FULL_EXPORT, from
//    TableExportWriter::Start (on a bucket mapped to a local directory: MakeObjectStore with
//    local_buckets) through ReadTableAt(source, export time) into AddItem to Finish (the
//    manifests). Data files are gzip, closed at the writer's default size (64 MiB of text);
//    the local bucket fsyncs every object. Printed: text MiB (the export's billed size; for the
//    Scan, the JSON answers), gzip MiB, data files. Ratio: export rows/s / Scan rows/s.
// 3. Writes, each step in a new engine on a new data directory (the source engine is closed
//    first; each directory is removed after its step), so that every step starts from the same
//    empty storage and pays for its own flushes and compactions only:
//    BatchWriteItem (baseline): the N items, made beforehand and held in memory (already
//    parsed: what tidewaterd hands the engine after parsing a request), written into a new
//    table in calls of 25 items from T threads, each a contiguous range. The engine has no
//    batch write call; a call does what tidewaterd's BatchWriteItem handler asks of the engine:
//    ValidateKey of each of its items, then PutItem of each.
//    Import, per format: what tidewaterd's import thread does: ListObjects of the export's
//    data/ folder, BeginImport of a new table, then T threads, each taking the next data file
//    (GetObject from the local bucket), parsing it with ReadImportObject (gzip) and handing its
//    items to LoadImportedItems in batches of 1,000, the file's last batch smaller; then
//    FinishImport. tidewaterd's import thread is one thread: T = 1 is what it does. Printed: the
//    whole (ListObjects to FinishImport), and apart its parse part (GetObject, gunzip, parse)
//    and its load part (LoadImportedItems and FinishImport), each the threads' seconds summed
//    and divided by T. Ratios: import rows/s (the whole, and the load part, which is what the
//    baseline is made of) / BatchWriteItem rows/s. With fewer data files than threads, some
//    threads have nothing to read.
//
// Checks: every step must see N items: those ReadTableAt visited and the export summary's
// count, those scanned, those the import parsed and LoadImportedItems wrote (no row refused by
// the reader, no item rejected by the engine), the PutItems of the baseline; and items 0 and
// N - 1 of every written table must equal the items made again. Otherwise the run says what
// differs and exits 1.
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/options_util.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "tidewater/connectors/object_store.h"
#include "tidewater/connectors/table_export.h"
#include "tidewater/connectors/table_import.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/json_codec.h"

namespace {

using namespace tidewater;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t kDefaultItems = 200'000;
constexpr uint64_t kMaxThreads = 64;
constexpr uint64_t kFillThreads = 2;
constexpr size_t kItemBytes = 1024;  // by DynamoDB's rule: names + values
constexpr size_t kTitleWords = 6;
constexpr size_t kBatchWriteItems = 25;     // DynamoDB's limit for one BatchWriteItem call
constexpr size_t kImportBatchItems = 1000;  // items a LoadImportedItems call gets
constexpr char kPartitionKey[] = "pk";
constexpr char kSourceTable[] = "source";
constexpr char kBatchWrittenTable[] = "batch_written";
constexpr char kBucket[] = "bench-exports";
constexpr auto kClockPoll = std::chrono::milliseconds(1);
constexpr double kMiB = 1024.0 * 1024.0;
constexpr long kTmpfsMagic = 0x01021994;  // TMPFS_MAGIC, linux/magic.h
constexpr std::string_view kWords[] = {"harbor", "tide",  "estuary", "current", "salt",
                                       "marsh",  "inlet", "shoal",   "channel", "ebb",
                                       "flood",  "delta", "lagoon",  "sound",   "creek"};

// A format as DynamoDB names it, as --formats names it, and the export and import settings.
struct FormatRun {
  const char* name;
  const char* flag;
  ExportFormat export_format;
  ImportFormat import_format;
};

constexpr FormatRun kFormats[] = {
    {"DYNAMODB_JSON", "json", ExportFormat::kDynamoDbJson, ImportFormat::kDynamoDbJson},
    {"ION", "ion", ExportFormat::kIon, ImportFormat::kIon},
};

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

double MiB(uint64_t bytes) { return static_cast<double>(bytes) / kMiB; }

double RowsPerSecond(uint64_t rows, double seconds) { return static_cast<double>(rows) / seconds; }

std::string KeyName(uint64_t i) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "item-%012llu", static_cast<unsigned long long>(i));
  return buffer;
}

Item ItemKey(uint64_t i) { return {{kPartitionKey, AttributeValue::S(KeyName(i))}}; }

AttributeValue WholeNumber(uint64_t value) {
  return AttributeValue::N(Number::FromInt64(static_cast<int64_t>(value)));
}

std::string RandomWord(std::mt19937_64& random) {
  return std::string(kWords[random() % std::size(kWords)]);
}

std::string RandomBytes(std::mt19937_64& random, size_t count) {
  std::string bytes(count, '\0');
  for (size_t offset = 0; offset < count; offset += sizeof(uint64_t)) {
    const uint64_t word = random();
    std::memcpy(bytes.data() + offset, &word, std::min(sizeof word, count - offset));
  }
  return bytes;
}

// Item i: its key, then the other attributes from a generator seeded with i, the payload's
// random bytes filling it to kItemBytes.
Item MakeItem(uint64_t i) {
  std::mt19937_64 random(i);
  std::string title;
  for (size_t word = 0; word < kTitleWords; ++word) {
    if (word != 0) title += ' ';
    title += RandomWord(random);
  }
  Item item = ItemKey(i);
  item["seq"] = WholeNumber(i);
  item["title"] = AttributeValue::S(std::move(title));
  item["in_stock"] = AttributeValue::Bool(random() % 2 == 0);
  // Braced lists evaluate their elements in order: the same draws for the same i.
  item["tags"] =
      AttributeValue::L({AttributeValue::S(RandomWord(random)),
                         AttributeValue::S(RandomWord(random)), WholeNumber(random() % 1000)});
  item["dimensions"] = AttributeValue::M({{"width", WholeNumber(random() % 2000)},
                                          {"height", WholeNumber(random() % 2000)},
                                          {"unit", AttributeValue::S("mm")}});
  item["payload"] = AttributeValue::B("");
  const size_t payload_bytes = kItemBytes - ItemSize(item);
  item["payload"] = AttributeValue::B(RandomBytes(random, payload_bytes));
  return item;
}

std::vector<Item> MakeItems(uint64_t count) {
  std::vector<Item> items;
  items.reserve(count);
  for (uint64_t i = 0; i < count; ++i) items.push_back(MakeItem(i));
  return items;
}

CreateTableRequest TableRequest(const std::string& name) {
  CreateTableRequest request;
  request.name = name;
  request.key_schema.partition_key = {kPartitionKey, AttributeType::kS};
  request.stream.enabled = false;
  request.settings.billing_mode = BillingMode::kPayPerRequest;
  return request;
}

// The engine's defaults, without the background loop (no TTL sweeps, trims, storage recovery
// or backup maintenance during the run).
EngineOptions BenchOptions(const std::string& data_dir) {
  EngineOptions options;
  options.data_dir = data_dir;
  options.ttl_sweep_interval_micros = 0;
  options.retention_interval_micros = 0;
  options.storage_recovery_interval_micros = 0;
  return options;
}

// An export or import id shaped as tidewaterd's: the time's epoch milliseconds on 14 digits, a
// dash and 8 hex digits (here a serial number, unique within the run).
std::string JobId(int64_t now_micros, unsigned serial) {
  char text[40];
  std::snprintf(text, sizeof text, "%014lld-%08x", static_cast<long long>(now_micros / 1000),
                serial);
  return text;
}

// Runs work(t, failed) for every t in [0, threads), each on a thread of its own, and waits for
// them. `failed` turns true once one of them has returned an error, so that the others may
// stop early. Answers the error of the lowest-numbered thread that failed, or ok.
Status RunThreads(
    uint64_t threads,
    const std::function<Status(uint64_t thread, const std::atomic<bool>& failed)>& work) {
  std::atomic<bool> failed{false};
  std::vector<Status> outcomes(threads);
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (uint64_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      outcomes[t] = work(t, failed);
      if (!outcomes[t].ok()) failed.store(true);
    });
  }
  for (std::thread& worker : workers) worker.join();
  for (const Status& outcome : outcomes) {
    if (!outcome.ok()) return outcome;
  }
  return Status::Ok();
}

// PutItem of items [0, count) into `table` from kFillThreads threads, each a contiguous
// range; the seconds it took.
Result<double> FillTable(Engine& engine, const std::string& table, uint64_t count) {
  const auto start = SteadyClock::now();
  TW_RETURN_IF_ERROR(
      RunThreads(kFillThreads, [&](uint64_t t, const std::atomic<bool>& failed) -> Status {
        const uint64_t end = count * (t + 1) / kFillThreads;
        for (uint64_t i = count * t / kFillThreads;
             i < end && !failed.load(std::memory_order_relaxed); ++i) {
          TW_RETURN_IF_ERROR(engine.PutItem(table, MakeItem(i)).status());
        }
        return Status::Ok();
      }));
  return SecondsSince(start);
}

// Compacts every column family of the data directory `dir`, whose engine is closed, to the
// bottom level, through RocksDB itself with the options RocksDB stored there (RocksDB's
// defaults for a column family its options file does not name).
Status CompactDataDir(const std::string& dir) {
  const auto rocksdb_error = [&](const char* call, const rocksdb::Status& status) {
    return Status::IOError(std::string(call) + " of " + dir + ": " + status.ToString());
  };
  rocksdb::ConfigOptions config;
  config.ignore_unknown_options = true;
  config.ignore_unsupported_options = true;
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> stored;
  rocksdb::Status status = rocksdb::LoadLatestOptions(config, dir, &db_options, &stored);
  if (!status.ok()) return rocksdb_error("LoadLatestOptions", status);
  std::vector<std::string> names;
  status = rocksdb::DB::ListColumnFamilies(db_options, dir, &names);
  if (!status.ok()) return rocksdb_error("ListColumnFamilies", status);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyOptions family_options;
    for (const rocksdb::ColumnFamilyDescriptor& descriptor : stored) {
      if (descriptor.name == name) family_options = descriptor.options;
    }
    families.emplace_back(name, family_options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* opened = nullptr;
  status = rocksdb::DB::Open(db_options, dir, families, &handles, &opened);
  if (!status.ok()) return rocksdb_error("DB::Open", status);
  const std::unique_ptr<rocksdb::DB> db(opened);
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  Status result;
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    if (!result.ok()) break;
    status = db->CompactRange(compact, handle, nullptr, nullptr);
    if (!status.ok()) result = rocksdb_error("CompactRange", status);
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    status = db->DestroyColumnFamilyHandle(handle);
    if (!status.ok() && result.ok()) result = rocksdb_error("DestroyColumnFamilyHandle", status);
  }
  status = db->Close();
  if (!status.ok() && result.ok()) result = rocksdb_error("DB::Close", status);
  return result;
}

// Closes `engine`, compacts its data directory (CompactDataDir), sync()s and opens it again.
Status CompactAndReopen(std::unique_ptr<Engine>& engine, const EngineOptions& options) {
  engine.reset();
  TW_RETURN_IF_ERROR(CompactDataDir(options.data_dir));
  ::sync();
  TW_ASSIGN_OR_RETURN(engine, Engine::Open(options));
  return Status::Ok();
}

// Items 0 and count - 1 of `table` equal the items made again: the path kept every attribute.
Status CheckStoredItems(Engine& engine, const std::string& table, uint64_t count) {
  for (const uint64_t i : {uint64_t{0}, count - 1}) {
    TW_ASSIGN_OR_RETURN(const std::optional<Item> stored, engine.GetItem(table, ItemKey(i)));
    if (!stored) return Status::Internal(table + " lacks " + KeyName(i));
    if (*stored != MakeItem(i)) {
      return Status::Internal(table + ": " + KeyName(i) + " differs from the item written");
    }
  }
  return Status::Ok();
}

// A read of the whole table: its time, the items it saw, the bytes it made.
struct ReadFigures {
  double seconds = 0;
  uint64_t items = 0;
  uint64_t text_bytes = 0;  // Scan: the JSON answers; export: its billed size (uncompressed)
  // Exports only:
  uint64_t summary_items = 0;  // the item count Finish reported
  uint64_t gzip_bytes = 0;     // of the data files
  size_t data_files = 0;
};

// Scan of `table`, page after page, each page serialized as tidewaterd answers a Scan.
Result<ReadFigures> ScanTable(Engine& engine, const std::string& table) {
  ReadFigures figures;
  ScanRequest request;
  request.table = table;
  const auto start = SteadyClock::now();
  for (;;) {
    TW_ASSIGN_OR_RETURN(ItemPage page, engine.Scan(request));
    rapidjson::StringBuffer buffer;
    json::Writer writer(buffer);
    writer.StartObject();
    writer.Key("Items");
    writer.StartArray();
    for (const Item& item : page.items) json::WriteItem(item, writer);
    writer.EndArray();
    writer.Key("Count");
    writer.Uint64(page.items.size());
    writer.Key("ScannedCount");
    writer.Uint64(page.items.size());
    if (page.last_evaluated_key) {
      writer.Key("LastEvaluatedKey");
      json::WriteItem(*page.last_evaluated_key, writer);
    }
    writer.EndObject();
    figures.items += page.items.size();
    figures.text_bytes += buffer.GetSize();
    if (!page.last_evaluated_key) break;
    request.exclusive_start_key = std::move(page.last_evaluated_key);
  }
  figures.seconds = SecondsSince(start);
  return figures;
}

// The key prefix of a full export's data files.
std::string DataPrefix(const std::string& export_id) {
  return "AWSDynamoDB/" + export_id + "/data/";
}

// A FULL_EXPORT of `table` as of `time_micros` into kBucket, as tidewaterd's export thread
// makes it. The data files are counted after the timed part.
Result<ReadFigures> ExportTable(Engine& engine, const std::shared_ptr<ObjectStore>& store,
                                const TableDescription& table, int64_t time_micros,
                                ExportFormat format, const std::string& export_id) {
  Clock& clock = *engine.options().clock;
  TableExportOptions options;
  options.table_arn =
      "arn:aws:dynamodb:" + engine.options().region + ":000000000000:table/" + table.name;
  options.export_id = export_id;
  options.export_arn = options.table_arn + "/export/" + export_id;
  options.table_id = std::to_string(table.table_id);
  options.bucket = kBucket;
  options.format = format;
  options.type = ExportType::kFullExport;
  options.start_time_micros = clock.NowMicros();
  options.export_time_micros = time_micros;
  ReadFigures figures;
  const auto start = SteadyClock::now();
  TW_ASSIGN_OR_RETURN(std::unique_ptr<TableExportWriter> writer,
                      TableExportWriter::Start(store, options));
  TW_RETURN_IF_ERROR(engine.ReadTableAt(table.name, time_micros, [&](const Item& item) {
    ++figures.items;
    return writer->AddItem(item);
  }));
  TW_ASSIGN_OR_RETURN(const TableExportSummary summary, writer->Finish(clock.NowMicros()));
  figures.seconds = SecondsSince(start);
  figures.summary_items = summary.item_count;
  figures.text_bytes = summary.billed_size_bytes;
  TW_ASSIGN_OR_RETURN(const std::vector<ObjectInfo> files,
                      store->ListObjects(kBucket, DataPrefix(export_id)));
  figures.data_files = files.size();
  for (const ObjectInfo& file : files) figures.gzip_bytes += file.size;
  return figures;
}

// The baseline's time and the items its PutItems wrote.
struct BatchWriteFigures {
  double seconds = 0;
  uint64_t written = 0;
};

// One BatchWriteItem call of `items` into `table`: what tidewaterd's handler asks of the
// engine, ValidateKey of every item, then PutItem of each.
Status BatchWriteItem(Engine& engine, const std::string& table, std::span<Item> items) {
  for (const Item& item : items) {
    TW_RETURN_IF_ERROR(engine.ValidateKey(table, Item{{kPartitionKey, item.at(kPartitionKey)}}));
  }
  for (Item& item : items) {
    TW_RETURN_IF_ERROR(engine.PutItem(table, std::move(item)).status());
  }
  return Status::Ok();
}

// The baseline in a new engine on `data_dir`: `count` items made (untimed), then written into
// a new table with BatchWriteItem calls of kBatchWriteItems from `threads` threads, each a
// contiguous range. Checks the written table (CheckStoredItems).
Result<BatchWriteFigures> RunBatchWriteStep(const std::string& data_dir, uint64_t count,
                                            uint64_t threads) {
  TW_ASSIGN_OR_RETURN(const std::unique_ptr<Engine> engine, Engine::Open(BenchOptions(data_dir)));
  const std::string table = kBatchWrittenTable;
  TW_RETURN_IF_ERROR(engine->CreateTable(TableRequest(table)).status());
  std::vector<Item> items = MakeItems(count);
  std::vector<uint64_t> written(threads, 0);
  ::sync();
  const auto start = SteadyClock::now();
  TW_RETURN_IF_ERROR(
      RunThreads(threads, [&](uint64_t t, const std::atomic<bool>& failed) -> Status {
        const size_t end = items.size() * (t + 1) / threads;
        for (size_t first = items.size() * t / threads;
             first < end && !failed.load(std::memory_order_relaxed); first += kBatchWriteItems) {
          const size_t batch = std::min(kBatchWriteItems, end - first);
          TW_RETURN_IF_ERROR(
              BatchWriteItem(*engine, table, std::span<Item>(items).subspan(first, batch)));
          written[t] += batch;
        }
        return Status::Ok();
      }));
  BatchWriteFigures figures;
  figures.seconds = SecondsSince(start);
  for (const uint64_t thread_written : written) figures.written += thread_written;
  TW_RETURN_IF_ERROR(CheckStoredItems(*engine, table, count));
  return figures;
}

// An import's times and counts. parse_seconds and load_seconds: the threads' seconds summed
// and divided by the number of threads (FinishImport's added to the load part).
struct ImportFigures {
  double seconds = 0;  // ListObjects to FinishImport done
  double parse_seconds = 0;
  double load_seconds = 0;
  size_t data_files = 0;
  uint64_t parsed = 0;               // items ReadImportObject handed over
  uint64_t unreadable_rows = 0;      // rows it reported as bad
  uint64_t written = 0;              // by LoadImportedItems
  uint64_t rejected = 0;             // left out by LoadImportedItems
  std::string first_unreadable_row;  // where and why, of the first one
  std::string first_rejection;       // the first one's reason
};

// What one import thread did.
struct ImportThreadTally {
  double busy_seconds = 0;
  double load_seconds = 0;
  uint64_t parsed = 0;
  uint64_t unreadable_rows = 0;
  uint64_t written = 0;
  uint64_t rejected = 0;
  std::string first_unreadable_row;
  std::string first_rejection;
};

// An import into the new table `table` of the data files under `data_prefix` in kBucket, as
// tidewaterd's import thread makes it (each data file's items in batches of
// kImportBatchItems, its last batch smaller), the files shared out among `threads` threads.
Result<ImportFigures> ImportDataFiles(Engine& engine, ObjectStore& store, const std::string& table,
                                      const std::string& import_id, const std::string& data_prefix,
                                      ImportFormat format, uint64_t threads) {
  ImportFormatOptions format_options;
  format_options.format = format;
  format_options.compression = ImportCompression::kGzip;
  format_options.key_types[kPartitionKey] = AttributeType::kS;  // as tidewaterd sets them
  std::vector<ImportThreadTally> tallies(threads);
  std::atomic<size_t> next_file{0};
  const auto start = SteadyClock::now();
  TW_ASSIGN_OR_RETURN(const std::vector<ObjectInfo> files, store.ListObjects(kBucket, data_prefix));
  if (files.empty()) return Status::NotFound("no data files under " + data_prefix);
  TW_RETURN_IF_ERROR(engine.BeginImport(TableRequest(table), import_id).status());
  TW_RETURN_IF_ERROR(
      RunThreads(threads, [&](uint64_t t, const std::atomic<bool>& failed) -> Status {
        ImportThreadTally& tally = tallies[t];
        const auto thread_start = SteadyClock::now();
        std::vector<Item> batch;
        const auto load = [&]() -> Status {
          const auto load_start = SteadyClock::now();
          Result<ImportBatchResult> loaded = engine.LoadImportedItems(table, std::move(batch));
          tally.load_seconds += SecondsSince(load_start);
          batch.clear();
          if (!loaded.ok()) return loaded.status();
          tally.written += loaded->written;
          tally.rejected += loaded->rejected.size();
          if (!loaded->rejected.empty() && tally.first_rejection.empty()) {
            tally.first_rejection = loaded->rejected.front().second.ToString();
          }
          return Status::Ok();
        };
        for (size_t file = next_file++; file < files.size() && !failed.load(); file = next_file++) {
          const std::string& key = files[file].key;
          TW_ASSIGN_OR_RETURN(const std::string data, store.GetObject(kBucket, key));
          TW_RETURN_IF_ERROR(ReadImportObject(
              key, data, format_options,
              [&](Item item, uint64_t) -> Status {
                ++tally.parsed;
                batch.push_back(std::move(item));
                return batch.size() < kImportBatchItems ? Status::Ok() : load();
              },
              [&](const ImportRowError& error) -> Status {
                if (tally.unreadable_rows++ == 0) {
                  tally.first_unreadable_row = error.object_key + " line " +
                                               std::to_string(error.line) + ": " + error.message;
                }
                return Status::Ok();
              }));
          if (!batch.empty()) TW_RETURN_IF_ERROR(load());
        }
        tally.busy_seconds = SecondsSince(thread_start);
        return Status::Ok();
      }));
  const auto finish_start = SteadyClock::now();
  TW_RETURN_IF_ERROR(engine.FinishImport(table));
  const double finish_seconds = SecondsSince(finish_start);
  ImportFigures figures;
  figures.seconds = SecondsSince(start);
  figures.data_files = files.size();
  double busy_seconds = 0;
  double load_seconds = 0;
  for (const ImportThreadTally& tally : tallies) {
    busy_seconds += tally.busy_seconds;
    load_seconds += tally.load_seconds;
    figures.parsed += tally.parsed;
    figures.unreadable_rows += tally.unreadable_rows;
    figures.written += tally.written;
    figures.rejected += tally.rejected;
    if (figures.first_unreadable_row.empty()) {
      figures.first_unreadable_row = tally.first_unreadable_row;
    }
    if (figures.first_rejection.empty()) figures.first_rejection = tally.first_rejection;
  }
  const double thread_count = static_cast<double>(threads);
  figures.parse_seconds = (busy_seconds - load_seconds) / thread_count;
  figures.load_seconds = load_seconds / thread_count + finish_seconds;
  return figures;
}

// An import step in a new engine on `data_dir`: ImportDataFiles of the export `export_id`
// into the new table `table`, then CheckStoredItems.
Result<ImportFigures> RunImportStep(const std::string& data_dir, ObjectStore& store,
                                    const std::string& table, const std::string& export_id,
                                    ImportFormat format, uint64_t count, uint64_t threads,
                                    unsigned serial) {
  TW_ASSIGN_OR_RETURN(const std::unique_ptr<Engine> engine, Engine::Open(BenchOptions(data_dir)));
  const std::string import_id = JobId(engine->options().clock->NowMicros(), serial);
  ::sync();
  TW_ASSIGN_OR_RETURN(
      ImportFigures figures,
      ImportDataFiles(*engine, store, table, import_id, DataPrefix(export_id), format, threads));
  TW_RETURN_IF_ERROR(CheckStoredItems(*engine, table, count));
  return figures;
}

uint64_t BytesUnder(const std::string& dir) {
  uint64_t bytes = 0;
  std::error_code error;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    std::error_code file_error;
    if (!it->is_regular_file(file_error)) continue;
    const uintmax_t size = it->file_size(file_error);
    if (!file_error) bytes += size;
  }
  return bytes;
}

void RemoveTree(const std::string& path) {
  std::error_code ignored;
  fs::remove_all(path, ignored);
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  if (!std::getline(in, line)) return "unavailable";
  return line;
}

// A new directory `parent`/tw-import-export-bench-XXXXXX, removed (recursively) when this goes.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& parent) {
    std::string pattern = (fs::path(parent) / "tw-import-export-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    if (!path_.empty()) RemoveTree(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "tw_import_export_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

// True when `count` is `expected`; otherwise says so on stderr.
bool CountIs(const std::string& what, uint64_t count, uint64_t expected) {
  if (count == expected) return true;
  std::fprintf(stderr, "tw_import_export_bench: %s: %llu, expected %llu\n", what.c_str(),
               static_cast<unsigned long long>(count), static_cast<unsigned long long>(expected));
  return false;
}

int Usage() {
  std::fprintf(stderr,
               "usage: tw_import_export_bench [--items N >= 1] [--threads T in 1..%llu] "
               "[--formats json,ion] [--dir D]\n",
               static_cast<unsigned long long>(kMaxThreads));
  return 2;
}

// A whole decimal number, nothing else.
bool ParseCount(const char* text, uint64_t* out) {
  if (*text < '0' || *text > '9') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (*end != '\0' || errno != 0) return false;
  *out = value;
  return true;
}

// A comma-separated list of kFormats' flags; the formats in kFormats' order.
bool ParseFormats(std::string_view list, std::vector<FormatRun>* out) {
  bool chosen[std::size(kFormats)] = {};
  for (;;) {
    const size_t comma = list.find(',');
    const std::string_view flag = list.substr(0, comma);
    const auto found = std::find_if(std::begin(kFormats), std::end(kFormats),
                                    [&](const FormatRun& format) { return flag == format.flag; });
    if (found == std::end(kFormats)) return false;
    chosen[found - std::begin(kFormats)] = true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  out->clear();
  for (size_t f = 0; f < std::size(kFormats); ++f) {
    if (chosen[f]) out->push_back(kFormats[f]);
  }
  return true;
}

// "1.23", or "-" without a baseline.
std::string Ratio(std::optional<double> ratio) {
  if (!ratio) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", *ratio);
  return text;
}

void PrintReadRow(const std::string& step, const ReadFigures& figures, bool exported,
                  double scan_seconds) {
  char gzip[32] = "-";
  char files[32] = "-";
  if (exported) {
    std::snprintf(gzip, sizeof gzip, "%.1f", MiB(figures.gzip_bytes));
    std::snprintf(files, sizeof files, "%zu", figures.data_files);
  }
  std::printf("%-34s %9.3f %10.0f %10.1f %10s %6s %8s\n", step.c_str(), figures.seconds,
              RowsPerSecond(figures.items, figures.seconds), MiB(figures.text_bytes), gzip, files,
              Ratio(scan_seconds / figures.seconds).c_str());
}

// One row of the write table; the ratio of its rows/s to the baseline's when given.
void PrintWriteRow(const std::string& step, double seconds, uint64_t rows,
                   std::optional<double> baseline_seconds) {
  std::optional<double> ratio;
  if (baseline_seconds) ratio = *baseline_seconds / seconds;
  std::printf("%-40s %9.3f %10.0f %17s\n", step.c_str(), seconds, RowsPerSecond(rows, seconds),
              Ratio(ratio).c_str());
}

// What the run measured of one format.
struct FormatResults {
  FormatRun format;
  std::string export_id;
  ReadFigures exported;
  ImportFigures imported;
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t items = kDefaultItems;
  uint64_t threads = 1;
  std::vector<FormatRun> formats(std::begin(kFormats), std::end(kFormats));
  std::error_code temp_error;
  std::string parent = fs::temp_directory_path(temp_error).string();
  if (temp_error) parent = "/tmp";
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* value = argv[i + 1];
    bool parsed = true;
    if (flag == "--items") {
      parsed = ParseCount(value, &items);
    } else if (flag == "--threads") {
      parsed = ParseCount(value, &threads);
    } else if (flag == "--formats") {
      parsed = ParseFormats(value, &formats);
    } else if (flag == "--dir") {
      parent = value;
    } else {
      parsed = false;
    }
    if (!parsed) return Usage();
  }
  if (items == 0 || threads == 0 || threads > kMaxThreads) return Usage();

  std::printf("load average at start: %s\n", LoadAverage().c_str());
  ScratchDir scratch(parent);  // declared before the engines: removed after they are closed
  if (scratch.path().empty()) {
    std::fprintf(stderr, "tw_import_export_bench: cannot create a directory in %s: %s\n",
                 parent.c_str(), std::strerror(errno));
    return 1;
  }
  {
    struct statfs info {};
    const bool tmpfs = ::statfs(scratch.path().c_str(), &info) == 0 &&
                       static_cast<long>(info.f_type) == kTmpfsMagic;
    struct statvfs space {};
    const double free_bytes =
        ::statvfs(scratch.path().c_str(), &space) == 0
            ? static_cast<double>(space.f_bavail) * static_cast<double>(space.f_frsize)
            : 0;
    std::printf("working in %s%s: %.1f GiB free\n", scratch.path().c_str(),
                tmpfs ? " (tmpfs: memory, not disk)" : "", free_bytes / kMiB / 1024);
  }
  {
    const Item sample = MakeItem(0);
    std::printf(
        "items: %llu of %zu bytes by DynamoDB's rule (S key, N, S, BOOL, L, M, and a B of %zu "
        "random bytes); threads for the writes: %llu\n",
        static_cast<unsigned long long>(items), ItemSize(sample), sample.at("payload").b().size(),
        static_cast<unsigned long long>(threads));
  }
  std::printf(
      "measured: export (ReadTableAt into gzip data files in a local bucket, manifests "
      "included)\n"
      "          against Scan (1 MB pages, each serialized to DynamoDB JSON);\n"
      "          import (data files read back, ReadImportObject, LoadImportedItems of %zu, "
      "FinishImport)\n"
      "          against BatchWriteItem (calls of %zu parsed items: ValidateKey + PutItem "
      "each)\n",
      kImportBatchItems, kBatchWriteItems);

  // --- 1. Setup ---
  const EngineOptions source_options = BenchOptions(scratch.Sub("source"));
  std::unique_ptr<Engine> engine;
  {
    Result<std::unique_ptr<Engine>> opened = Engine::Open(source_options);
    if (!opened.ok()) return Fail("Engine::Open", opened.status());
    engine = std::move(*opened);
  }
  if (auto created = engine->CreateTable(TableRequest(kSourceTable)); !created.ok()) {
    return Fail("CreateTable", created.status());
  }
  Result<double> fill_seconds = FillTable(*engine, kSourceTable, items);
  if (!fill_seconds.ok()) return Fail("PutItem", fill_seconds.status());
  const auto enable_start = SteadyClock::now();
  if (auto enabled = engine->UpdateContinuousBackups(kSourceTable, true, std::nullopt);
      !enabled.ok()) {
    return Fail("UpdateContinuousBackups", enabled.status());
  }
  const double enable_seconds = SecondsSince(enable_start);
  const auto compact_start = SteadyClock::now();
  if (Status reopened = CompactAndReopen(engine, source_options); !reopened.ok()) {
    return Fail("compaction of " + source_options.data_dir, reopened);
  }
  const double compact_seconds = SecondsSince(compact_start);
  Result<TableDescription> source = engine->DescribeTable(kSourceTable);
  if (!source.ok()) return Fail("DescribeTable", source.status());
  Clock& clock = *source_options.clock;
  const int64_t export_time_micros = clock.NowMicros();
  while (clock.NowMicros() <= export_time_micros) std::this_thread::sleep_for(kClockPoll);
  std::printf(
      "\nsetup: fill by PutItem from %llu threads %.1f s (%.0f items/s); "
      "UpdateContinuousBackups %.1f s;\n"
      "       close, full compaction, sync, reopen %.1f s: data dir %.1f MiB\n",
      static_cast<unsigned long long>(kFillThreads), *fill_seconds,
      RowsPerSecond(items, *fill_seconds), enable_seconds, compact_seconds,
      MiB(BytesUnder(source_options.data_dir)));

  // --- 2. Reads: Scan, exports ---
  const std::string bucket_dir = scratch.Sub("bucket");
  {
    std::error_code error;
    fs::create_directories(bucket_dir, error);
    if (error) {
      std::fprintf(stderr, "tw_import_export_bench: cannot create %s: %s\n", bucket_dir.c_str(),
                   error.message().c_str());
      return 1;
    }
  }
  std::shared_ptr<ObjectStore> store;
  {
    ObjectStoreOptions store_options;
    store_options.local_buckets[kBucket] = bucket_dir;
    Result<std::shared_ptr<ObjectStore>> made = MakeObjectStore(store_options);
    if (!made.ok()) return Fail("MakeObjectStore", made.status());
    store = std::move(*made);
  }
  ::sync();
  Result<ReadFigures> scanned = ScanTable(*engine, kSourceTable);
  if (!scanned.ok()) return Fail("Scan", scanned.status());
  if (!CountIs("items scanned", scanned->items, items)) return 1;
  std::vector<FormatResults> results;
  unsigned serial = 0;
  for (const FormatRun& format : formats) {
    FormatResults& result = results.emplace_back();
    result.format = format;
    result.export_id = JobId(clock.NowMicros(), ++serial);
    ::sync();
    Result<ReadFigures> exported = ExportTable(*engine, store, *source, export_time_micros,
                                               format.export_format, result.export_id);
    if (!exported.ok()) return Fail(std::string(format.name) + " export", exported.status());
    const std::string what = std::string(format.name) + " export: ";
    if (!CountIs(what + "items ReadTableAt visited", exported->items, items) ||
        !CountIs(what + "items in its summary", exported->summary_items, items)) {
      return 1;
    }
    result.exported = *exported;
  }
  engine.reset();
  RemoveTree(source_options.data_dir);

  std::printf("\nreads of %llu items (rows/s / Scan's: the last column)\n",
              static_cast<unsigned long long>(items));
  std::printf("%-34s %9s %10s %10s %10s %6s %8s\n", "step", "seconds", "rows/s", "MiB text",
              "MiB gzip", "files", "/ Scan");
  PrintReadRow("Scan + DynamoDB JSON (baseline)", *scanned, false, scanned->seconds);
  for (const FormatResults& result : results) {
    PrintReadRow(std::string("export ") + result.format.name, result.exported, true,
                 scanned->seconds);
  }

  // --- 3. Writes: BatchWriteItem, imports ---
  const std::string baseline_dir = scratch.Sub("batch-write");
  Result<BatchWriteFigures> baseline = RunBatchWriteStep(baseline_dir, items, threads);
  RemoveTree(baseline_dir);
  if (!baseline.ok()) return Fail("BatchWriteItem", baseline.status());
  if (!CountIs("items BatchWriteItem wrote", baseline->written, items)) return 1;
  for (FormatResults& result : results) {
    const std::string name = result.format.name;
    const std::string import_dir = scratch.Sub("import-" + std::string(result.format.flag));
    Result<ImportFigures> imported =
        RunImportStep(import_dir, *store, "imported_" + std::string(result.format.flag),
                      result.export_id, result.format.import_format, items, threads, ++serial);
    RemoveTree(import_dir);
    if (!imported.ok()) return Fail(name + " import", imported.status());
    const std::string what = name + " import: ";
    if (imported->unreadable_rows != 0) {
      std::fprintf(stderr,
                   "tw_import_export_bench: %s%llu rows ReadImportObject could not read, "
                   "the first: %s\n",
                   what.c_str(), static_cast<unsigned long long>(imported->unreadable_rows),
                   imported->first_unreadable_row.c_str());
      return 1;
    }
    if (imported->rejected != 0) {
      std::fprintf(stderr,
                   "tw_import_export_bench: %s%llu items LoadImportedItems rejected, "
                   "the first: %s\n",
                   what.c_str(), static_cast<unsigned long long>(imported->rejected),
                   imported->first_rejection.c_str());
      return 1;
    }
    if (!CountIs(what + "items ReadImportObject parsed", imported->parsed, items) ||
        !CountIs(what + "items LoadImportedItems wrote", imported->written, items)) {
      return 1;
    }
    result.imported = *imported;
  }

  std::printf(
      "\nwrites of %llu items into a new table of a new engine, %llu thread(s) each "
      "(rows/s / BatchWriteItem's: the last column)\n",
      static_cast<unsigned long long>(items), static_cast<unsigned long long>(threads));
  std::printf("%-40s %9s %10s %17s\n", "step", "seconds", "rows/s", "/ BatchWriteItem");
  PrintWriteRow("BatchWriteItem, 25 a call (baseline)", baseline->seconds, items,
                baseline->seconds);
  for (const FormatResults& result : results) {
    const ImportFigures& imported = result.imported;
    char files[64];
    std::snprintf(files, sizeof files, " (%zu files)", imported.data_files);
    PrintWriteRow(std::string("import ") + result.format.name + files, imported.seconds, items,
                  baseline->seconds);
    PrintWriteRow("  of it: read + gunzip + parse", imported.parse_seconds, items, std::nullopt);
    PrintWriteRow("  of it: load (+ FinishImport)", imported.load_seconds, items,
                  baseline->seconds);
  }
  if (threads > 1) {
    std::printf("(the parts: each thread's seconds summed over the threads, divided by %llu)\n",
                static_cast<unsigned long long>(threads));
  }
  std::printf("load average at end: %s\n", LoadAverage().c_str());
  return 0;
}
