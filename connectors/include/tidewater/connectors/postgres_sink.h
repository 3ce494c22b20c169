// The PostgreSQL sink (libpq): mirrors tables and appends their change history into a
// PostgreSQL database, exactly once.
//
// Per source table T (names in `schema`, created when missing):
//   mirror   "<prefix>T": one row per live item. Columns: the key attributes, typed from
//            the key's types (S -> text, N -> numeric, B -> bytea; primary key), then
//            tw_image jsonb (the newest image; NULL when the stream carries no new image),
//            tw_shard integer, tw_sequence bigint, tw_time timestamptz (the change that
//            wrote it). INSERT and MODIFY upsert the row, REMOVE deletes it.
//   changes  "<prefix>T_changes": one row per change record, append-only: shard integer,
//            sequence bigint (primary key (shard, sequence)), event text
//            (INSERT|MODIFY|REMOVE), time timestamptz, keys jsonb, old_image jsonb,
//            new_image jsonb (NULL when the record does not carry it).
//   checkpoints  "<checkpoint_table>" (shared): sink_name, table_name, shard, next_sequence,
//            updated_at; primary key (sink_name, table_name, shard).
//   resolved "<resolved_table>_shards" (shared): sink_name, table_name, shard, resolved_time
//            timestamptz, table_shards integer (the table's shard count as the worker saw
//            it), updated_at; primary key (sink_name, table_name, shard). A shard's row says
//            every change of the shard committed before resolved_time is in the mirror and
//            change tables. Written from RecordProgress; it never goes back.
//            View "<resolved_table>": per (sink_name, table_name) the lowest resolved_time
//            of the shards, NULL until every shard has a row: every change of the table
//            committed before it is in PostgreSQL ("how complete is my mirror").
// Key columns come from the first record's keys; images are JSONB in the `image_json` form
// (numbers exact: JSONB keeps numeric digits), so item schema changes need no migration.
//
// Exactly-once: a batch's change rows, its mirror changes and the shard's checkpoint row
// are written in ONE transaction. The transaction reads the checkpoint first (FOR UPDATE)
// and drops records below it, so a batch resent after an unknown COMMIT outcome (a
// connection lost during COMMIT) is not applied twice. Load reads the checkpoint.
//
// Failures (unreachable database, lost connection, server restart, SQL errors such as a
// constraint violation) roll the transaction back and are retried with exponential
// backoff, reconnecting as needed; each is logged (spdlog, event=postgres_sink_retry) and
// counted in tidewater_sink_errors_total. Nothing is skipped.
//
// Thread safety: see sink.h; each concurrent Write uses its own connection (a pool).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "tidewater/connectors/sink.h"
#include "tidewater/core/clock.h"

namespace prometheus {
class Registry;
}

namespace tidewater::connectors {

struct PostgresSinkOptions {
  std::string conninfo;  // libpq connection string ("host=... port=... dbname=...")
  std::string schema = "public";
  std::string table_prefix;  // mirror "<prefix>T", changes "<prefix>T_changes"
  std::string checkpoint_table = "tidewater_sink_checkpoints";
  std::string resolved_table = "tidewater_sink_resolved";  // a view over "<it>_shards"
  std::string sink_name = "tidewater";                     // checkpoint rows are per sink name
  ImageJson image_json = ImageJson::kPlain;
  // false (the default): every failure is retried inside Write (see above). true: a batch
  // the database rejects for its data (SQLSTATE class 22 data exception or 23 integrity
  // constraint violation) is rolled back and Write returns Status::Validation at once, for
  // the quarantine (quarantining_sink.h) to find the record; other failures are retried.
  bool return_record_errors = false;
  std::chrono::milliseconds retry_backoff_initial{100};
  std::chrono::milliseconds retry_backoff_max{5'000};
  Clock* clock = Clock::System();  // times the retry backoff; not owned
  // Metrics (sink_metrics.h names, label sink=<sink_name>). Not owned; must outlive the
  // sink. Null: a private registry.
  prometheus::Registry* registry = nullptr;
};

class PostgresSink : public Sink {
 public:
  // Validates the options; connects lazily (the database may come up later).
  static Result<std::unique_ptr<PostgresSink>> Create(PostgresSinkOptions options);
};

}  // namespace tidewater::connectors
