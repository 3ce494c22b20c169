// A consumer worker process for the lease take-over test: consumes TABLE from a remote
// tidewaterd with remote leases and appends "<shard> <sequence>" per record to FILE
// (write(2) per batch, so a SIGKILL loses nothing already handed over). SIGTERM stops it
// gracefully (exit 0).
//   tw_consumer_worker ENDPOINT TABLE WORKER_ID FILE LEASE_MILLIS
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"
#include "tidewater/streams/remote_source.h"

int main(int argc, char** argv) {
  using namespace tidewater;
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s ENDPOINT TABLE WORKER_ID FILE LEASE_MILLIS\n", argv[0]);
    return 2;
  }
  // SIGTERM is blocked here, so in every thread started later, and taken by sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  const std::string endpoint = argv[1];
  const int fd = open(argv[4], O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return 1;
  auto source = streams::MakeRemoteStreamsSource(endpoint, TableName(argv[2]));
  auto leases = streams::MakeRemoteLeaseStore(endpoint);
  if (!source.ok() || !leases.ok()) {
    std::fprintf(stderr, "setup failed: %s %s\n", source.status().ToString().c_str(),
                 leases.status().ToString().c_str());
    return 1;
  }
  streams::ConsumerOptions options;
  options.table = argv[2];
  options.application = "takeover-test";
  options.worker_id = argv[3];
  options.max_batch_records = 10;
  options.lease_duration = std::chrono::milliseconds(std::atoi(argv[5]));
  options.retry_backoff_initial = std::chrono::milliseconds(5);
  options.retry_backoff_max = std::chrono::milliseconds(50);
  auto consumer = streams::StreamConsumer::Create(
      options, **source, **leases, [fd](const streams::ShardBatch& batch) {
        std::string lines;
        for (const ChangeRecord& record : batch.records) {
          lines +=
              std::to_string(batch.shard.value()) + " " + std::to_string(record.sequence()) + "\n";
        }
        if (write(fd, lines.data(), lines.size()) != static_cast<ssize_t>(lines.size())) {
          return Status::IOError("write failed");
        }
        return Status::Ok();
      });
  if (!consumer.ok() || !(*consumer)->Start().ok()) {
    std::fprintf(stderr, "consumer failed to start\n");
    return 1;
  }
  std::printf("event=started worker=%s\n", argv[3]);
  std::fflush(stdout);
  int received = 0;
  sigwait(&stop_signals, &received);
  (*consumer)->Stop();
  close(fd);
  return 0;
}
