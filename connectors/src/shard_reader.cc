#include "shard_reader.h"

#include <pthread.h>

namespace tidewater::connectors {

EncodedBatch ReadBatch(ChangeLog& log, const ChangeMessageEncoder& encoder,
                       const ShardSource& source, uint64_t from, size_t limit) {
  EncodedBatch batch;
  batch.from = from;
  ShardReadRequest request{TableName(source.table), ShardIndex(source.shard), SequenceNumber(from),
                           limit};
  request.serialized = true;           // forwarded as stored
  request.table_id = source.table_id;  // also a deleted table's final records
  auto read = log.ReadShard(request);
  if (!read.ok()) {
    batch.error = read.status();
    return batch;
  }
  batch.first_available = read->first_available.value();
  batch.records.reserve(read->serialized.size());
  for (std::string& serialized : read->serialized) {
    auto encoded = encoder.Encode(std::move(serialized), source);
    if (!encoded.ok()) {
      batch.error = encoded.status();
      break;
    }
    batch.records.push_back(std::move(*encoded));
  }
  return batch;
}

ReadAhead::ReadAhead(ChangeLog& log, const ChangeMessageEncoder& encoder)
    : log_(log), encoder_(encoder), thread_([this] { Loop(); }) {}

ReadAhead::~ReadAhead() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyOne();
  thread_.join();
}

std::future<EncodedBatch> ReadAhead::Submit(ShardSource source, uint64_t from, size_t limit) {
  std::packaged_task<EncodedBatch()> job([this, source = std::move(source), from, limit] {
    return ReadBatch(log_, encoder_, source, from, limit);
  });
  std::future<EncodedBatch> result = job.get_future();
  {
    MutexLock lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.NotifyOne();
  return result;
}

void ReadAhead::Loop() {
  pthread_setname_np(pthread_self(), "tw-kafka-read");
  while (true) {
    std::packaged_task<EncodedBatch()> job;
    {
      MutexLock lock(mu_);
      while (!stopping_ && jobs_.empty()) cv_.Wait(mu_);
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace tidewater::connectors
