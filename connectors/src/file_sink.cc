#include "tidewater/connectors/file_sink.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "sink_json.h"
#include "sink_metrics.h"
#include "tidewater/core/durable_file.h"
#include "tidewater/core/failure_point.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::connectors {
namespace {

namespace fs = std::filesystem;

std::string Padded(uint64_t value, int width) {
  std::string text = std::to_string(value);
  return std::string(text.size() < static_cast<size_t>(width) ? width - text.size() : 0, '0') +
         text;
}

Status ErrnoStatus(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

void AppendCsvField(std::string_view value, std::string& out) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void FlattenInto(const std::string& prefix, const v1::MapValue& map,
                 std::map<std::string, std::string>& cells) {
  for (const v1::NamedValue& attribute : map.attributes()) {
    const std::string column = prefix + attribute.name();
    const v1::AttributeValue& value = attribute.value();
    switch (value.value_case()) {
      case v1::AttributeValue::kS:
        cells[column] = value.s();
        break;
      case v1::AttributeValue::kN:
        cells[column] = value.n();
        break;
      case v1::AttributeValue::kB:
        cells[column] = json::Base64Encode(value.b());
        break;
      case v1::AttributeValue::kBoolValue:
        cells[column] = value.bool_value() ? "true" : "false";
        break;
      case v1::AttributeValue::kM:
        if (value.m().attributes().empty()) {
          cells[column] = "{}";
        } else {
          FlattenInto(column + ".", value.m(), cells);
        }
        break;
      case v1::AttributeValue::kL:
      case v1::AttributeValue::kSs:
      case v1::AttributeValue::kNs:
      case v1::AttributeValue::kBs:
        cells[column] = SinkValueJson(value, ImageJson::kPlain);
        break;
      case v1::AttributeValue::kNullValue:
      case v1::AttributeValue::VALUE_NOT_SET:
        cells[column] = "";
        break;
    }
  }
}

constexpr const char* kPositionsFile = "_positions.json";

// A file being written for one shard.
struct StagedFile {
  int fd = -1;
  std::string temp_path;
  uint64_t first = 0;
  uint64_t last = 0;
  size_t records = 0;
  size_t bytes = 0;
  int64_t opened_micros = 0;
  std::string pending;  // JSON Lines not yet written to fd
  // CSV: the rows' metadata and cells until the file completes.
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> csv_rows;
};

struct ShardKey {
  std::string table;
  uint32_t shard;
  friend auto operator<=>(const ShardKey&, const ShardKey&) = default;
};

class FileSinkImpl final : public FileSink {
 public:
  explicit FileSinkImpl(FileSinkOptions options)
      : options_(std::move(options)), metrics_(options_.registry, options_.sink_name) {}

  ~FileSinkImpl() override {
    MutexLock lock(mutex_);
    for (auto& [key, file] : staged_) {
      if (file.fd >= 0) ::close(file.fd);
    }
  }

  Result<std::optional<SequenceNumber>> Load(const TableName& table, ShardIndex shard) override {
    MutexLock lock(mutex_);
    const ShardKey key{table.value(), shard.value()};
    Discard(key);
    TW_ASSIGN_OR_RETURN(std::optional<uint64_t> next, ReadCommittedPosition(key.table, key.shard));
    committed_[key] = next.value_or(0);
    if (!next) return std::optional<SequenceNumber>();
    return std::optional<SequenceNumber>(SequenceNumber(*next));
  }

  Status Write(const streams::ShardBatch& batch) override {
    MutexLock lock(mutex_);
    const ShardKey key{batch.table.value(), batch.shard.value()};
    return DropOnError(key, WriteLocked(key, batch));
  }

  // A shard read to its end: its staged file is completed now (not at rotation time).
  Status Settle(const TableName& table, ShardIndex shard) override {
    MutexLock lock(mutex_);
    const ShardKey key{table.value(), shard.value()};
    return DropOnError(key, Complete(key));
  }

  Status Tick() override {
    MutexLock lock(mutex_);
    return CompleteFiles(/*all=*/false);
  }

  Status Flush() override {
    MutexLock lock(mutex_);
    return CompleteFiles(/*all=*/true);
  }

 private:
  std::string TableDir(const std::string& table) const { return options_.dir + "/" + table; }
  std::string Extension() const { return options_.format == FileFormat::kCsv ? "csv" : "jsonl"; }
  std::string ShardPrefix(uint32_t shard) const { return "shard-" + Padded(shard, 5) + "-"; }

  // The next sequence after the shard's completed files and manifest (nullopt: none).
  Result<std::optional<uint64_t>> ReadCommittedPosition(const std::string& table, uint32_t shard) {
    const std::string dir = TableDir(table);
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) return Status::IOError("cannot create " + dir + ": " + error.message());
    std::optional<uint64_t> next;
    const std::string prefix = ShardPrefix(shard);
    const std::string temp_prefix = "." + prefix;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
      const std::string name = entry.path().filename().string();
      if (name.starts_with(temp_prefix)) {
        fs::remove(entry.path(), error);  // an incomplete file of an earlier run
        continue;
      }
      // shard-SSSSS-<first 20>-<last 20>.<ext>
      if (!name.starts_with(prefix) || name.size() < prefix.size() + 42) continue;
      const uint64_t last = std::strtoull(name.substr(prefix.size() + 21, 20).c_str(), nullptr, 10);
      if (!next.has_value() || last + 1 > *next) next = last + 1;
    }
    if (error) return Status::IOError("cannot list " + dir + ": " + error.message());
    TW_ASSIGN_OR_RETURN(const auto manifest, ReadManifest(table));
    if (auto stored = manifest.find(shard); stored != manifest.end()) {
      if (!next.has_value() || stored->second > *next) next = stored->second;
    }
    return next;
  }

  // A table's manifest: shard -> next sequence.
  using ManifestPositions = std::map<uint32_t, uint64_t>;

  // The table's manifest (empty when there is none yet).
  Result<ManifestPositions> ReadManifest(const std::string& table) {
    ManifestPositions positions;
    const std::string path = TableDir(table) + "/" + kPositionsFile;
    std::ifstream manifest(path);
    if (!manifest) return positions;
    std::stringstream text;
    text << manifest.rdbuf();
    rapidjson::Document document;
    document.Parse(text.str().c_str());
    if (document.HasParseError() || !document.IsObject()) {
      return Status::IOError("malformed " + path);
    }
    const rapidjson::Value& object = document;  // const members: C++20-clean iterators
    for (const auto& member : object.GetObject()) {
      if (member.value.IsUint64()) {
        positions[static_cast<uint32_t>(std::strtoul(member.name.GetString(), nullptr, 10))] =
            member.value.GetUint64();
      }
    }
    return positions;
  }

  Status WriteLocked(const ShardKey& key, const streams::ShardBatch& batch) TW_REQUIRES(mutex_) {
    auto committed = committed_.find(key);
    if (committed == committed_.end()) {
      TW_ASSIGN_OR_RETURN(std::optional<uint64_t> next,
                          ReadCommittedPosition(key.table, key.shard));
      committed = committed_.emplace(key, next.value_or(0)).first;
    }
    auto staged = staged_.find(key);
    uint64_t expected = staged != staged_.end() ? staged->second.last + 1 : committed->second;
    for (const ChangeRecord& record : batch.records) {
      if (record.sequence() < expected) continue;  // already staged or committed
      if (staged == staged_.end()) {
        TW_ASSIGN_OR_RETURN(StagedFile file, Open(key, record.sequence()));
        staged = staged_.emplace(key, std::move(file)).first;
      }
      TW_RETURN_IF_ERROR(Append(staged->second, record));
      expected = record.sequence() + 1;
      if (staged->second.bytes >= options_.rotate_bytes) {
        TW_RETURN_IF_ERROR(Complete(key));
        staged = staged_.end();
      }
    }
    if (staged != staged_.end() && Due(staged->second)) return Complete(key);
    return Status::Ok();
  }

  bool Due(const StagedFile& file) const {
    return file.bytes >= options_.rotate_bytes ||
           options_.clock->NowMicros() - file.opened_micros >=
               std::chrono::duration_cast<std::chrono::microseconds>(options_.rotate_interval)
                   .count();
  }

  Result<StagedFile> Open(const ShardKey& key, uint64_t first) {
    StagedFile file;
    file.first = first;
    file.opened_micros = options_.clock->NowMicros();
    file.temp_path = TableDir(key.table) + "/." + ShardPrefix(key.shard) + Padded(first, 20) + "." +
                     Extension() + ".tmp";
    file.fd = ::open(file.temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (file.fd < 0) return ErrnoStatus("cannot create", file.temp_path);
    return file;
  }

  Status Append(StagedFile& file, const ChangeRecord& record) {
    file.last = record.sequence();
    ++file.records;
    if (options_.format == FileFormat::kCsv) {
      std::string meta = std::to_string(record.shard()) + "," + std::to_string(record.sequence()) +
                         "," + std::string(EventText(record.event())) + "," +
                         FormatMicros(record.approximate_creation_time_micros(), TimeText::kIso);
      const v1::MapValue& image = record.has_new_image()   ? record.new_image()
                                  : record.has_old_image() ? record.old_image()
                                                           : record.keys();
      std::map<std::string, std::string> cells = CsvCells(image);
      for (const auto& [column, value] : cells) file.bytes += column.size() + value.size() + 2;
      file.bytes += meta.size() + 1;
      file.csv_rows.emplace_back(std::move(meta), std::move(cells));
      return Status::Ok();
    }
    rapidjson::StringBuffer buffer;
    json::Writer writer(buffer);
    writer.StartObject();
    writer.Key("table");
    writer.String(record.table().c_str(), static_cast<rapidjson::SizeType>(record.table().size()));
    writer.Key("shard");
    writer.Uint(record.shard());
    writer.Key("sequence");
    writer.Uint64(record.sequence());
    writer.Key("event");
    writer.String(EventText(record.event()).data());
    writer.Key("time");
    writer.String(FormatMicros(record.approximate_creation_time_micros(), TimeText::kIso).c_str());
    writer.Key("keys");
    WriteSinkMap(record.keys(), options_.image_json, writer);
    if (record.has_old_image()) {
      writer.Key("old_image");
      WriteSinkMap(record.old_image(), options_.image_json, writer);
    }
    if (record.has_new_image()) {
      writer.Key("new_image");
      WriteSinkMap(record.new_image(), options_.image_json, writer);
    }
    writer.EndObject();
    file.pending.append(buffer.GetString(), buffer.GetSize());
    file.pending += '\n';
    file.bytes += buffer.GetSize() + 1;
    if (file.pending.size() >= (1 << 20)) {
      TW_RETURN_IF_ERROR(WriteAll(file.fd, file.pending, file.temp_path));
      file.pending.clear();
    }
    return Status::Ok();
  }

  std::string CsvText(const StagedFile& file) const {
    std::set<std::string> columns;
    for (const auto& [meta, cells] : file.csv_rows) {
      for (const auto& [column, value] : cells) columns.insert(column);
    }
    std::string text = "tw_shard,tw_sequence,tw_event,tw_time";
    for (const std::string& column : columns) {
      text += ',';
      AppendCsvField(column, text);
    }
    text += "\r\n";
    for (const auto& [meta, cells] : file.csv_rows) {
      text += meta;
      for (const std::string& column : columns) {
        text += ',';
        auto cell = cells.find(column);
        if (cell != cells.end()) AppendCsvField(cell->second, text);
      }
      text += "\r\n";
    }
    return text;
  }

  // After a failed write or completion the staged file may be incomplete: it is dropped,
  // and its records come again (the reader resumes at Load's position).
  Status DropOnError(const ShardKey& key, Status status) TW_REQUIRES(mutex_) {
    if (status.ok()) return status;
    metrics_.Error(key.table);
    spdlog::warn("event=file_sink_error sink={} table={} shard={} error=\"{}\"", options_.sink_name,
                 key.table, key.shard, status.message());
    Discard(key);
    return status;
  }

  // Completes the shard's staged file: write, fsync, rename, fsync the directory, then
  // the manifest.
  Status Complete(const ShardKey& key) TW_REQUIRES(mutex_) {
    auto it = staged_.find(key);
    if (it == staged_.end()) return Status::Ok();
    StagedFile& file = it->second;
    const std::string rest = options_.format == FileFormat::kCsv ? CsvText(file) : file.pending;
    TW_RETURN_IF_ERROR(WriteAll(file.fd, rest, file.temp_path));
    if (::fsync(file.fd) != 0) return ErrnoStatus("cannot fsync", file.temp_path);
    ::close(file.fd);
    file.fd = -1;
    const std::string dir = TableDir(key.table);
    const std::string final_path = dir + "/" + ShardPrefix(key.shard) + Padded(file.first, 20) +
                                   "-" + Padded(file.last, 20) + "." + Extension();
    TW_FAILURE_POINT("file_sink.before_rename");
    if (::rename(file.temp_path.c_str(), final_path.c_str()) != 0) {
      return ErrnoStatus("cannot rename", file.temp_path);
    }
    TW_RETURN_IF_ERROR(SyncDirectory(dir));
    // The file is complete under its final name; the manifest does not name it yet.
    TW_FAILURE_POINT("file_sink.after_rename");
    committed_[key] = file.last + 1;
    metrics_.RowsCommitted(key.table, file.records);
    staged_.erase(it);
    metrics_.FileCommitted(key.table);
    return WriteManifest(key.table);
  }

  // Rewrites the table's manifest from the committed positions, keeping those of shards
  // this sink has not touched since it started (a shard finished by an earlier run, which
  // is never read again).
  Status WriteManifest(const std::string& table) TW_REQUIRES(mutex_) {
    TW_ASSIGN_OR_RETURN(ManifestPositions positions, ReadManifest(table));
    for (const auto& [key, next] : committed_) {
      if (key.table == table && next != 0) positions[key.shard] = next;
    }
    rapidjson::StringBuffer buffer;
    json::Writer writer(buffer);
    writer.StartObject();
    for (const auto& [shard, next] : positions) {
      writer.Key(std::to_string(shard).c_str());
      writer.Uint64(next);
    }
    writer.EndObject();
    return WriteFileAtomically(TableDir(table) + "/" + kPositionsFile,
                               std::string_view(buffer.GetString(), buffer.GetSize()));
  }

  Status CompleteFiles(bool all) TW_REQUIRES(mutex_) {
    std::vector<ShardKey> due;
    for (const auto& [key, file] : staged_) {
      if (all || Due(file)) due.push_back(key);
    }
    Status first_error;
    for (const ShardKey& key : due) {
      Status status = Complete(key);
      if (!status.ok()) {
        metrics_.Error(key.table);
        spdlog::warn("event=file_sink_error sink={} table={} shard={} error=\"{}\"",
                     options_.sink_name, key.table, key.shard, status.message());
        Discard(key);
        if (first_error.ok()) first_error = status;
      }
    }
    return first_error;
  }

  // Drops the shard's staged file (its records will be read again).
  void Discard(const ShardKey& key) TW_REQUIRES(mutex_) {
    auto it = staged_.find(key);
    if (it == staged_.end()) return;
    if (it->second.fd >= 0) ::close(it->second.fd);
    std::error_code ignored;
    fs::remove(it->second.temp_path, ignored);
    staged_.erase(it);
  }

  const FileSinkOptions options_;
  SinkMetrics metrics_;
  Mutex mutex_;
  // The next sequence after completed files (0: none).
  std::map<ShardKey, uint64_t> committed_ TW_GUARDED_BY(mutex_);
  std::map<ShardKey, StagedFile> staged_ TW_GUARDED_BY(mutex_);
};

}  // namespace

std::string_view FileFormatName(FileFormat format) {
  return format == FileFormat::kCsv ? "csv" : "jsonl";
}

bool ParseFileFormat(std::string_view name, FileFormat* out) {
  if (name == "jsonl") {
    *out = FileFormat::kJsonLines;
  } else if (name == "csv") {
    *out = FileFormat::kCsv;
  } else {
    return false;
  }
  return true;
}

std::map<std::string, std::string> CsvCells(const v1::MapValue& image) {
  std::map<std::string, std::string> cells;
  FlattenInto("", image, cells);
  return cells;
}

Result<std::unique_ptr<FileSink>> FileSink::Create(FileSinkOptions options) {
  if (options.dir.empty()) return Status::Validation("files: dir is required");
  if (options.rotate_bytes == 0) return Status::Validation("files: rotate size must be > 0");
  if (options.rotate_interval.count() <= 0) {
    return Status::Validation("files: rotate interval must be > 0");
  }
  if (options.clock == nullptr) return Status::Validation("files: clock is required");
  std::error_code error;
  fs::create_directories(options.dir, error);
  if (error) return Status::IOError("cannot create " + options.dir + ": " + error.message());
  return std::unique_ptr<FileSink>(new FileSinkImpl(std::move(options)));
}

}  // namespace tidewater::connectors
