// Sink throughput (issue: analytics sinks). PostgreSQL: rows/s through the PostgreSQL sink
// (change table + mirror upsert + checkpoint per transaction, one writer per shard) against
// a plain COPY of the same change rows into an unindexed table of the same server, in the
// same run (target ratio >= 0.5). Files: rows/s of the JSON Lines and CSV file sinks.
//
//   tw_sink_bench [rows] [batch]     (defaults 40000 rows, batches of 1000)
#include <chrono>
#include <cstdio>
#include <thread>

#include "support/postgres_server.h"
#include "support/sink_workload.h"
#include "support/temp_dir.h"
#include "tidewater/connectors/file_sink.h"
#include "tidewater/connectors/postgres_sink.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/record_codec.h"

namespace tw = tidewater;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One writer thread per shard, as the consumer runs a sink.
double RunSink(tw::connectors::Sink& sink, const std::vector<tw::streams::ShardBatch>& batches) {
  std::map<tw::ShardIndex, std::vector<const tw::streams::ShardBatch*>> by_shard;
  for (const auto& batch : batches) by_shard[batch.shard].push_back(&batch);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (const auto& entry : by_shard) {
    threads.emplace_back([&sink, &batches_of_shard = entry.second] {
      for (const auto* batch : batches_of_shard) {
        tw::Status status = sink.Write(*batch);
        if (!status.ok()) std::fprintf(stderr, "write: %s\n", status.ToString().c_str());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  tw::Status flushed = sink.Flush();
  if (!flushed.ok()) std::fprintf(stderr, "flush: %s\n", flushed.ToString().c_str());
  return Seconds(start);
}

// The change rows as COPY text, in the sink's column layout.
std::string CopyText(const std::vector<tw::streams::ShardBatch>& batches) {
  std::string text;
  auto field = [&text](const std::string& value) {
    for (char c : value) {
      if (c == '\\') text += '\\';
      text += c;
    }
  };
  for (const auto& batch : batches) {
    for (const tw::ChangeRecord& record : batch.records) {
      text += std::to_string(record.shard()) + "\t" + std::to_string(record.sequence()) +
              "\tINSERT\t2024-01-01 00:00:00+00\t";
      field(tw::json::ItemToJson(*tw::FromProto(record.keys())));
      text += "\t\\N\t";
      field(tw::json::ItemToJson(*tw::FromProto(record.new_image())));
      text += "\n";
    }
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  const int rows = argc > 1 ? std::atoi(argv[1]) : 40000;
  const size_t batch_size = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1000;
  tw::testing::PostgresServer postgres;
  const std::string error = postgres.Start();
  if (!error.empty()) {
    std::fprintf(stderr, "PostgreSQL did not start: %s\n", error.c_str());
    return 1;
  }
  tw::testing::TempDir dir;
  tw::EngineOptions options;
  options.data_dir = dir.Sub("engine");
  auto engine = tw::Engine::Open(options);
  if (!engine.ok() || !tw::testing::CreateSinkTable(**engine, "orders").ok()) return 1;
  for (int i = 0; i < rows; ++i) {
    if (!(*engine)->PutItem("orders", tw::testing::WorkloadItem(i, i)).ok()) return 1;
  }
  auto source = tw::streams::MakeEngineChangeSource(**engine, tw::TableName("orders"));
  std::vector<tw::streams::ShardBatch> batches;
  for (uint32_t index = 0; index < 4; ++index) {
    const tw::ShardIndex shard(index);
    tw::SequenceNumber next(1);
    while (true) {
      auto batch = source->Read(shard, next, batch_size, std::chrono::milliseconds(0));
      if (!batch.ok() || batch->records.empty()) break;
      next = batch->next_sequence;
      batches.push_back(
          {.table = tw::TableName("orders"), .shard = shard, .records = std::move(batch->records)});
    }
  }
  std::printf("rows %d, batches of %zu, %zu batches over 4 shards\n", rows, batch_size,
              batches.size());

  // Baseline: one COPY of the same rows into an unindexed table (text prepared beforehand).
  const std::string copy_text = CopyText(batches);
  PGconn* conn = PQconnectdb(postgres.conninfo().c_str());
  PQclear(PQexec(conn,
                 "CREATE TABLE plain_copy (shard integer, sequence bigint, event text, time "
                 "timestamptz, keys jsonb, old_image jsonb, new_image jsonb)"));
  auto start = Clock::now();
  PQclear(PQexec(conn, "COPY plain_copy FROM STDIN"));
  PQputCopyData(conn, copy_text.data(), static_cast<int>(copy_text.size()));
  PQputCopyEnd(conn, nullptr);
  PGresult* result = PQgetResult(conn);
  if (PQresultStatus(result) != PGRES_COMMAND_OK) {
    std::fprintf(stderr, "COPY failed: %s\n", PQerrorMessage(conn));
  }
  PQclear(result);
  const double copy_seconds = Seconds(start);
  PQfinish(conn);

  tw::connectors::PostgresSinkOptions pg;
  pg.conninfo = postgres.conninfo();
  auto sink = tw::connectors::PostgresSink::Create(pg);
  const double sink_seconds = RunSink(**sink, batches);

  const double copy_rate = rows / copy_seconds;
  const double sink_rate = rows / sink_seconds;
  std::printf("postgres plain COPY     %10.0f rows/s\n", copy_rate);
  std::printf("postgres sink           %10.0f rows/s  (%.2fx of COPY)\n", sink_rate,
              sink_rate / copy_rate);

  for (auto format : {tw::connectors::FileFormat::kJsonLines, tw::connectors::FileFormat::kCsv}) {
    tw::connectors::FileSinkOptions files;
    files.dir =
        dir.Sub(std::string("files-") + std::string(tw::connectors::FileFormatName(format)));
    files.format = format;
    auto file_sink = tw::connectors::FileSink::Create(files);
    const double seconds = RunSink(**file_sink, batches);
    std::printf("file sink %-5s         %10.0f rows/s\n",
                std::string(tw::connectors::FileFormatName(format)).c_str(), rows / seconds);
  }
  return 0;
}
