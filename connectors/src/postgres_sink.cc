#include "tidewater/connectors/postgres_sink.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "sink_json.h"
#include "sink_metrics.h"
#include "tidewater/core/failure_point.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::connectors {
namespace {

std::string QuoteIdentifier(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string QuoteLiteral(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  return quoted + "'";
}

// A field of COPY's text format: backslash, tab, newline and carriage return escaped.
void AppendCopyField(std::string_view value, std::string& out) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

struct ConnectionCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;

struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using QueryResult = std::unique_ptr<PGresult, ResultClearer>;

// libpq's message on one line.
std::string ConnectionError(PGconn* conn) {
  std::string message;
  for (const char* c = PQerrorMessage(conn); *c != '\0'; ++c) {
    if (*c == '\n' || *c == '\t') {
      if (!message.empty() && message.back() != ' ') message += ' ';
    } else {
      message += *c;
    }
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

// Whether SQLSTATE `state` says the data was rejected (class 22 data exception, class 23
// integrity constraint violation) rather than the database or connection failing.
bool RejectsData(const char* state) {
  return state != nullptr &&
         (std::string_view(state).starts_with("22") || std::string_view(state).starts_with("23"));
}

// Runs a statement that must succeed with `expected`; the error carries PostgreSQL's text
// and SQLSTATE (Validation when the data was rejected, else Internal).
Result<QueryResult> Run(PGconn* conn, const std::string& sql,
                        const std::vector<std::string>& params = {},
                        ExecStatusType expected = PGRES_COMMAND_OK) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  QueryResult result(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0));
  if (result == nullptr || PQresultStatus(result.get()) != expected) {
    std::string message = ConnectionError(conn);
    if (result != nullptr) {
      const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
      if (state != nullptr) message += std::string(" (SQLSTATE ") + state + ")";
      if (RejectsData(state)) {
        const std::string statement = sql.substr(0, sql.find_first_of("(\n"));
        return Status::Validation("PostgreSQL: " + statement + ": " + message);
      }
    }
    const std::string statement = sql.substr(0, sql.find_first_of("(\n"));
    return Status::Internal("PostgreSQL: " + statement + ": " + message);
  }
  return result;
}

void IgnoreNotice(void*, const char*) {}

std::string ColumnType(v1::AttributeValue::ValueCase type) {
  switch (type) {
    case v1::AttributeValue::kN:
      return "numeric";
    case v1::AttributeValue::kB:
      return "bytea";
    default:
      return "text";
  }
}

// The SQL per source table, built once from its key attributes.
struct TableStatements {
  std::string changes;  // qualified name of the change table
  std::string copy;
  std::string upsert;
  std::string remove;
};

class PostgresSinkImpl final : public PostgresSink {
 public:
  explicit PostgresSinkImpl(PostgresSinkOptions options)
      : options_(std::move(options)),
        metrics_(options_.registry, options_.sink_name),
        checkpoints_(Qualified(options_.checkpoint_table)),
        resolved_shards_(Qualified(options_.resolved_table + "_shards")),
        resolved_view_(Qualified(options_.resolved_table)) {}

  Result<std::optional<SequenceNumber>> Load(const TableName& table, ShardIndex shard) override {
    Result<std::optional<SequenceNumber>> position = LoadOnce(table, shard);
    if (!position.ok()) {
      metrics_.Error(table.value());
      spdlog::warn("event=postgres_sink_load_failed sink={} table={} shard={} error=\"{}\"",
                   options_.sink_name, table.value(), shard.value(), position.status().message());
    }
    return position;
  }

  Status Write(const streams::ShardBatch& batch) override {
    if (batch.records.empty()) return Status::Ok();
    auto backoff = options_.retry_backoff_initial;
    for (int attempt = 1;; ++attempt) {
      Result<size_t> written = WriteOnce(batch);
      if (written.ok()) {
        if (attempt > 1) {
          spdlog::info("event=postgres_sink_recovered sink={} table={} shard={} attempts={}",
                       options_.sink_name, batch.table.value(), batch.shard.value(), attempt);
        }
        metrics_.RowsCommitted(batch.table.value(), *written);
        return Status::Ok();
      }
      metrics_.Error(batch.table.value());
      if (options_.return_record_errors && written.status().code() == ErrorCode::kValidation) {
        return written.status();
      }
      spdlog::warn(
          "event=postgres_sink_retry sink={} table={} shard={} sequences={}..{} attempt={} "
          "retry_in_ms={} error=\"{}\"",
          options_.sink_name, batch.table.value(), batch.shard.value(),
          batch.records.front().sequence(), batch.records.back().sequence(), attempt,
          backoff.count(), written.status().message());
      if (!options_.clock->SleepFor(backoff, batch.stop)) {
        return Status::Internal("PostgreSQL sink stopped before the batch was written: " +
                                written.status().message());
      }
      backoff = std::min(backoff * 2, options_.retry_backoff_max);
    }
  }

 private:
  std::string Qualified(const std::string& name) const {
    return QuoteIdentifier(options_.schema) + "." + QuoteIdentifier(name);
  }

  // A pooled connection: taken by one writer at a time, returned when healthy.
  Result<Connection> Acquire() {
    {
      MutexLock lock(pool_mutex_);
      if (!idle_.empty()) {
        Connection conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
    }
    Connection conn(PQconnectdb(options_.conninfo.c_str()));
    if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
      return Status::Internal("PostgreSQL: cannot connect: " +
                              (conn ? ConnectionError(conn.get()) : "out of memory"));
    }
    PQsetNoticeProcessor(conn.get(), IgnoreNotice, nullptr);
    TW_RETURN_IF_ERROR(EnsureCheckpointTable(conn.get()));
    return conn;
  }

  void Release(Connection conn) {
    if (PQstatus(conn.get()) != CONNECTION_OK) return;  // lost: the next Acquire reconnects
    if (PQtransactionStatus(conn.get()) != PQTRANS_IDLE) {
      QueryResult rollback(PQexec(conn.get(), "ROLLBACK"));
      if (PQtransactionStatus(conn.get()) != PQTRANS_IDLE) return;
    }
    MutexLock lock(pool_mutex_);
    idle_.push_back(std::move(conn));
  }

  Status EnsureCheckpointTable(PGconn* conn) {
    MutexLock lock(ddl_mutex_);
    TW_RETURN_IF_ERROR(
        Run(conn, "CREATE SCHEMA IF NOT EXISTS " + QuoteIdentifier(options_.schema)).status());
    TW_RETURN_IF_ERROR(Run(conn, "CREATE TABLE IF NOT EXISTS " + checkpoints_ +
                                     " (sink_name text NOT NULL, table_name text NOT NULL, shard "
                                     "integer NOT NULL, next_sequence bigint NOT NULL, updated_at "
                                     "timestamptz NOT NULL DEFAULT now(), PRIMARY KEY "
                                     "(sink_name, table_name, shard))")
                           .status());
    TW_RETURN_IF_ERROR(Run(conn, "CREATE TABLE IF NOT EXISTS " + resolved_shards_ +
                                     " (sink_name text NOT NULL, table_name text NOT NULL, shard "
                                     "integer NOT NULL, resolved_time timestamptz NOT NULL, "
                                     "table_shards integer NOT NULL, updated_at timestamptz NOT "
                                     "NULL DEFAULT now(), PRIMARY KEY (sink_name, table_name, "
                                     "shard))")
                           .status());
    return Run(conn, "CREATE OR REPLACE VIEW " + resolved_view_ +
                         " AS SELECT sink_name, table_name, CASE WHEN count(*) >= "
                         "max(table_shards) THEN min(resolved_time) END AS resolved_time, "
                         "max(updated_at) AS updated_at FROM " +
                         resolved_shards_ + " GROUP BY sink_name, table_name")
        .status();
  }

  Status RecordProgress(const TableName& table,
                        const std::vector<streams::ConsumerShardStatus>& progress) override {
    // Accepted batches are committed (Write returns after COMMIT), so a held shard's
    // resolved time is already true of the database. A finished shard (split, read to its
    // end) leaves the table's time: its row goes, and the table counts its open shards.
    std::vector<std::pair<uint32_t, int64_t>> advanced;
    std::vector<uint32_t> finished;
    size_t open_shards = 0;
    {
      MutexLock lock(resolved_mutex_);
      for (const streams::ConsumerShardStatus& shard : progress) {
        if (shard.finished) {
          if (removed_resolved_.insert({table.value(), shard.shard.value()}).second) {
            finished.push_back(shard.shard.value());
          }
          continue;
        }
        ++open_shards;
        if (!shard.held || !shard.resolved_time_micros) continue;
        auto recorded = recorded_resolved_.find({table.value(), shard.shard.value()});
        if (recorded != recorded_resolved_.end() &&
            recorded->second >= *shard.resolved_time_micros) {
          continue;
        }
        advanced.emplace_back(shard.shard.value(), *shard.resolved_time_micros);
      }
    }
    if (advanced.empty() && finished.empty()) return Status::Ok();
    auto forget_finished = [&] {
      MutexLock lock(resolved_mutex_);
      for (uint32_t shard : finished) removed_resolved_.erase({table.value(), shard});
    };
    Result<Connection> acquired = Acquire();
    if (!acquired.ok()) {
      forget_finished();
      return acquired.status();
    }
    Connection conn = std::move(*acquired);
    const std::string upsert =
        "INSERT INTO " + resolved_shards_ +
        " AS r (sink_name, table_name, shard, resolved_time, table_shards, updated_at) VALUES "
        "($1, $2, $3, TIMESTAMPTZ 'epoch' + $4::bigint * INTERVAL '1 microsecond', $5, now()) "
        "ON CONFLICT (sink_name, table_name, shard) DO UPDATE SET resolved_time = "
        "GREATEST(r.resolved_time, EXCLUDED.resolved_time), table_shards = "
        "EXCLUDED.table_shards, updated_at = now()";
    const std::string remove = "DELETE FROM " + resolved_shards_ +
                               " WHERE sink_name = $1 AND table_name = $2 AND shard = $3";
    Status status = Run(conn.get(), "BEGIN").status();
    for (uint32_t shard : finished) {
      if (!status.ok()) break;
      status = Run(conn.get(), remove, {options_.sink_name, table.value(), std::to_string(shard)})
                   .status();
    }
    for (const auto& [shard, resolved_micros] : advanced) {
      if (!status.ok()) break;
      status = Run(conn.get(), upsert,
                   {options_.sink_name, table.value(), std::to_string(shard),
                    std::to_string(resolved_micros), std::to_string(open_shards)})
                   .status();
    }
    if (status.ok()) status = Run(conn.get(), "COMMIT").status();
    Release(std::move(conn));
    if (!status.ok()) {
      forget_finished();
      metrics_.Error(table.value());
      return status;  // recorded again at the next call
    }
    MutexLock lock(resolved_mutex_);
    for (const auto& [shard, resolved_micros] : advanced) {
      int64_t& recorded = recorded_resolved_[{table.value(), shard}];
      recorded = std::max(recorded, resolved_micros);
    }
    return Status::Ok();
  }

  Result<std::optional<SequenceNumber>> LoadOnce(const TableName& table, ShardIndex shard) {
    TW_ASSIGN_OR_RETURN(Connection conn, Acquire());
    Result<QueryResult> result =
        Run(conn.get(),
            "SELECT next_sequence FROM " + checkpoints_ +
                " WHERE sink_name = $1 AND table_name = $2 AND shard = $3",
            {options_.sink_name, table.value(), std::to_string(shard.value())}, PGRES_TUPLES_OK);
    Release(std::move(conn));
    if (!result.ok()) return result.status();
    if (PQntuples(result->get()) == 0) return std::optional<SequenceNumber>();
    return std::optional<SequenceNumber>(
        SequenceNumber(std::stoull(PQgetvalue(result->get(), 0, 0))));
  }

  // The statements of `table`, creating its tables when missing. The key columns come
  // from `keys` (a record's keys).
  Result<const TableStatements*> Prepare(PGconn* conn, const std::string& table,
                                         const v1::MapValue& keys) {
    MutexLock lock(ddl_mutex_);
    auto it = tables_.find(table);
    if (it != tables_.end()) return &it->second;
    if (keys.attributes().empty()) {
      return Status::Internal("PostgreSQL sink: a record of " + table + " has no keys");
    }
    const std::string mirror = Qualified(options_.table_prefix + table);
    TableStatements statements;
    statements.changes = Qualified(options_.table_prefix + table + "_changes");

    std::string key_columns;  // "k1", "k2"
    std::string key_definitions;
    std::string key_values;   // extracted from latest.keys
    std::string key_matches;  // m.k = <extracted>
    for (const v1::NamedValue& key : keys.attributes()) {
      const auto type = key.value().value_case();
      const std::string column = QuoteIdentifier(key.name());
      std::string text = "(latest.keys->" + QuoteLiteral(key.name());
      if (options_.image_json == ImageJson::kDynamoDb) {
        text += type == v1::AttributeValue::kN   ? "->>'N')"
                : type == v1::AttributeValue::kB ? "->>'B')"
                                                 : "->>'S')";
      } else {
        text = "(latest.keys->>" + QuoteLiteral(key.name()) + ")";
      }
      const std::string value = type == v1::AttributeValue::kN   ? text + "::numeric"
                                : type == v1::AttributeValue::kB ? "decode(" + text + ", 'base64')"
                                                                 : text;
      if (!key_columns.empty()) {
        key_columns += ", ";
        key_values += ", ";
        key_matches += " AND ";
      }
      key_columns += column;
      key_definitions += column + " " + ColumnType(type) + " NOT NULL, ";
      key_values += value;
      key_matches += "m." + column + " = " + value;
    }
    TW_RETURN_IF_ERROR(Run(conn, "CREATE TABLE IF NOT EXISTS " + mirror + " (" + key_definitions +
                                     "tw_image jsonb, tw_shard integer NOT NULL, tw_sequence "
                                     "bigint NOT NULL, tw_time timestamptz NOT NULL, "
                                     "PRIMARY KEY (" +
                                     key_columns + "))")
                           .status());
    TW_RETURN_IF_ERROR(Run(conn, "CREATE TABLE IF NOT EXISTS " + statements.changes +
                                     " (shard integer NOT NULL, sequence bigint NOT NULL, "
                                     "event text NOT NULL, time timestamptz NOT NULL, keys "
                                     "jsonb NOT NULL, old_image jsonb, new_image jsonb, "
                                     "PRIMARY KEY (shard, sequence))")
                           .status());
    statements.copy = "COPY " + statements.changes +
                      " (shard, sequence, event, time, keys, old_image, new_image) FROM STDIN";
    // The newest change per key among the batch's rows decides the mirror row.
    const std::string latest =
        "(SELECT DISTINCT ON (keys) keys, event, new_image, shard, "
        "sequence, time FROM " +
        statements.changes +
        " WHERE shard = $1 AND sequence BETWEEN $2 AND $3 "
        "ORDER BY keys, sequence DESC) AS latest";
    statements.upsert = "INSERT INTO " + mirror + " AS m (" + key_columns +
                        ", tw_image, tw_shard, tw_sequence, tw_time) SELECT " + key_values +
                        ", latest.new_image, latest.shard, latest.sequence, latest.time FROM " +
                        latest + " WHERE latest.event <> 'REMOVE' ON CONFLICT (" + key_columns +
                        ") DO UPDATE SET tw_image = EXCLUDED.tw_image, tw_shard = "
                        "EXCLUDED.tw_shard, tw_sequence = EXCLUDED.tw_sequence, tw_time = "
                        "EXCLUDED.tw_time";
    statements.remove = "DELETE FROM " + mirror + " AS m USING " + latest +
                        " WHERE latest.event = 'REMOVE' AND " + key_matches;
    return &tables_.emplace(table, std::move(statements)).first->second;
  }

  void AppendCopyRow(const ChangeRecord& record, std::string& out) const {
    out += std::to_string(record.shard());
    out += '\t';
    out += std::to_string(record.sequence());
    out += '\t';
    out += EventText(record.event());
    out += '\t';
    out += FormatMicros(record.approximate_creation_time_micros(), TimeText::kPostgres);
    out += '\t';
    AppendCopyField(SinkMapJson(record.keys(), options_.image_json), out);
    out += '\t';
    if (record.has_old_image()) {
      AppendCopyField(SinkMapJson(record.old_image(), options_.image_json), out);
    } else {
      out += "\\N";
    }
    out += '\t';
    if (record.has_new_image()) {
      AppendCopyField(SinkMapJson(record.new_image(), options_.image_json), out);
    } else {
      out += "\\N";
    }
    out += '\n';
  }

  Status Copy(PGconn* conn, const std::string& sql, const std::string& rows) {
    TW_RETURN_IF_ERROR(Run(conn, sql, {}, PGRES_COPY_IN).status());
    constexpr size_t kChunk = 1 << 20;
    for (size_t offset = 0; offset < rows.size(); offset += kChunk) {
      const size_t size = std::min(kChunk, rows.size() - offset);
      if (PQputCopyData(conn, rows.data() + offset, static_cast<int>(size)) != 1) {
        return Status::Internal("PostgreSQL: COPY: " + ConnectionError(conn));
      }
    }
    if (PQputCopyEnd(conn, nullptr) != 1) {
      return Status::Internal("PostgreSQL: COPY: " + ConnectionError(conn));
    }
    QueryResult result(PQgetResult(conn));
    Status status;
    if (result == nullptr || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      std::string message = ConnectionError(conn);
      const char* state =
          result != nullptr ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
      if (state != nullptr) message += std::string(" (SQLSTATE ") + state + ")";
      status = RejectsData(state) ? Status::Validation("PostgreSQL: COPY: " + message)
                                  : Status::Internal("PostgreSQL: COPY: " + message);
    }
    while (QueryResult rest{PQgetResult(conn)}) {
    }
    return status;
  }

  // One transaction; returns how many records it committed.
  Result<size_t> WriteOnce(const streams::ShardBatch& batch) {
    TW_ASSIGN_OR_RETURN(Connection conn, Acquire());
    Result<size_t> written = Transaction(conn.get(), batch);
    Release(std::move(conn));
    return written;
  }

  Result<size_t> Transaction(PGconn* conn, const streams::ShardBatch& batch) {
    TW_ASSIGN_OR_RETURN(const TableStatements* statements,
                        Prepare(conn, batch.table.value(), batch.records.front().keys()));
    const std::string shard = std::to_string(batch.shard.value());
    TW_RETURN_IF_ERROR(Run(conn, "BEGIN").status());
    TW_ASSIGN_OR_RETURN(QueryResult stored,
                        Run(conn,
                            "SELECT next_sequence FROM " + checkpoints_ +
                                " WHERE sink_name = $1 AND table_name = $2 AND shard = $3 "
                                "FOR UPDATE",
                            {options_.sink_name, batch.table.value(), shard}, PGRES_TUPLES_OK));
    uint64_t committed_next = 0;
    if (PQntuples(stored.get()) > 0) committed_next = std::stoull(PQgetvalue(stored.get(), 0, 0));

    // Records below the committed position are already in (a resent batch).
    std::string rows;
    size_t count = 0;
    uint64_t first = 0;
    for (const ChangeRecord& record : batch.records) {
      if (record.sequence() < committed_next) continue;
      if (count++ == 0) first = record.sequence();
      AppendCopyRow(record, rows);
    }
    if (count == 0) {
      TW_RETURN_IF_ERROR(Run(conn, "COMMIT").status());
      return size_t{0};
    }
    const uint64_t last = batch.records.back().sequence();
    const std::vector<std::string> range = {shard, std::to_string(first), std::to_string(last)};
    TW_RETURN_IF_ERROR(Copy(conn, statements->copy, rows));
    TW_RETURN_IF_ERROR(Run(conn, statements->upsert, range).status());
    TW_RETURN_IF_ERROR(Run(conn, statements->remove, range).status());
    TW_RETURN_IF_ERROR(
        Run(conn,
            "INSERT INTO " + checkpoints_ +
                " (sink_name, table_name, shard, next_sequence) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (sink_name, table_name, shard) DO UPDATE SET next_sequence = "
                "EXCLUDED.next_sequence, updated_at = now()",
            {options_.sink_name, batch.table.value(), shard, std::to_string(last + 1)})
            .status());
    TW_RETURN_IF_FAILURE_POINT("postgres_sink.before_commit");
    TW_RETURN_IF_ERROR(Run(conn, "COMMIT").status());
    // Committed with its position; the reader has not been told yet.
    TW_FAILURE_POINT("postgres_sink.after_commit");
    return count;
  }

  const PostgresSinkOptions options_;
  SinkMetrics metrics_;
  const std::string checkpoints_;
  const std::string resolved_shards_;
  const std::string resolved_view_;

  Mutex pool_mutex_;
  std::vector<Connection> idle_ TW_GUARDED_BY(pool_mutex_);

  Mutex ddl_mutex_;
  // The resolved times last committed to resolved_shards_, per (table, shard).
  Mutex resolved_mutex_;
  std::map<std::pair<std::string, uint32_t>, int64_t> recorded_resolved_
      TW_GUARDED_BY(resolved_mutex_);
  // The finished shards whose rows were removed from resolved_shards_ (table, shard).
  std::set<std::pair<std::string, uint32_t>> removed_resolved_ TW_GUARDED_BY(resolved_mutex_);
  // Never erased: Prepare's pointers stay valid.
  std::map<std::string, TableStatements> tables_ TW_GUARDED_BY(ddl_mutex_);
};

}  // namespace

Result<std::unique_ptr<PostgresSink>> PostgresSink::Create(PostgresSinkOptions options) {
  if (options.conninfo.empty()) return Status::Validation("postgres: conninfo is required");
  if (options.schema.empty()) return Status::Validation("postgres: schema must not be empty");
  if (options.sink_name.empty()) return Status::Validation("postgres: sink name is required");
  if (options.retry_backoff_initial.count() <= 0 ||
      options.retry_backoff_max < options.retry_backoff_initial) {
    return Status::Validation("postgres: retry backoff must be positive, max >= initial");
  }
  if (options.clock == nullptr) return Status::Validation("postgres: clock is required");
  return std::unique_ptr<PostgresSink>(new PostgresSinkImpl(std::move(options)));
}

}  // namespace tidewater::connectors
