// A stream consumer on the Tidewater SDK: prints every change of a table as one JSON line
// (the DynamoDB Streams record shape), shard by shard in order, checkpointing as it goes.
// Several copies with the same --application share the table's shards; stop one with
// Ctrl-C (it checkpoints and hands its shards over) or kill it (its shards move after
// --lease-ms).
//
//   consumer --endpoint http://127.0.0.1:8000 --table orders [--application printer]
//   consumer --data-dir ./data --table orders          (an engine in this process)
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "tidewater/streams/change_source.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"
#include "tidewater/streams/remote_source.h"
#include "tidewater/streams/stream_record_json.h"

using namespace tidewater;

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void OnSignal(int) { stop_requested = 1; }

int Fail(const std::string& what, const Status& status) {
  std::cerr << "consumer: " << what << ": " << status.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint, data_dir, table, application = "printer";
  int lease_ms = 10'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--endpoint")
      endpoint = value;
    else if (flag == "--data-dir")
      data_dir = value;
    else if (flag == "--table")
      table = value;
    else if (flag == "--application")
      application = value;
    else if (flag == "--lease-ms")
      lease_ms = std::stoi(value);
    else {
      std::cerr << "consumer: unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (table.empty() || endpoint.empty() == data_dir.empty()) {
    std::cerr << "usage: consumer (--endpoint URL | --data-dir DIR) --table NAME "
                 "[--application NAME] [--lease-ms N]\n";
    return 2;
  }

  // The source of changes and the lease table: both remote, or both in this process.
  std::unique_ptr<Engine> engine;
  std::unique_ptr<streams::ChangeSource> source;
  std::unique_ptr<streams::LeaseStore> leases;
  if (!endpoint.empty()) {
    auto remote = streams::MakeRemoteStreamsSource(endpoint, TableName(table));
    if (!remote.ok()) return Fail("source", remote.status());
    source = std::move(*remote);
    auto remote_leases = streams::MakeRemoteLeaseStore(endpoint);
    if (!remote_leases.ok()) return Fail("lease table", remote_leases.status());
    leases = std::move(*remote_leases);
  } else {
    EngineOptions options;
    options.data_dir = data_dir;
    auto opened = Engine::Open(options);
    if (!opened.ok()) return Fail("engine", opened.status());
    engine = std::move(*opened);
    source = streams::MakeEngineChangeSource(*engine, TableName(table));
    auto local_leases = streams::MakeEngineLeaseStore(*engine);
    if (!local_leases.ok()) return Fail("lease table", local_leases.status());
    leases = std::move(*local_leases);
  }

  streams::ConsumerOptions options;
  options.table = table;
  options.application = application;
  options.max_batch_records = 100;
  options.lease_duration = std::chrono::milliseconds(lease_ms);
  std::mutex out_mu;  // shards are handled on their own threads
  auto handler = [&](const streams::ShardBatch& batch) -> Status {
    std::lock_guard lock(out_mu);
    for (const ChangeRecord& record : batch.records) {
      auto line = streams::StreamRecordJson(record, /*table_id=*/0, record.origin_region());
      if (!line.ok()) return line.status();  // the batch comes again after a backoff
      std::printf("%s\n", line->c_str());
    }
    std::fflush(stdout);
    return Status::Ok();  // checkpointed: the next run starts after this batch
  };
  auto consumer = streams::StreamConsumer::Create(options, *source, *leases, handler);
  if (!consumer.ok()) return Fail("consumer", consumer.status());
  Status started = (*consumer)->Start();
  if (!started.ok()) return Fail("start", started);

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (*consumer)->Stop();
  for (const streams::ConsumerShardStatus& shard : (*consumer)->Progress()) {
    std::cerr << "shard " << shard.shard << ": processed " << shard.records_processed
              << ", next sequence " << shard.next_sequence << "\n";
  }
  return 0;
}
