// Private: reading a shard's records from the change log and encoding them as Kafka
// messages, either at once or ahead of time on a helper thread, so that the publisher
// thread produces one batch while the next one is read.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "change_message.h"
#include "tidewater/core/change_log.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::connectors {

struct EncodedBatch {
  uint64_t from = 0;             // the sequence the read started at
  uint64_t first_available = 1;  // records before it were trimmed
  std::vector<EncodedRecord> records;
  // Reading failed (the table is gone: NotFound), or encoding failed at the record after
  // the last of `records`.
  Status error;
};

// Reads up to `limit` records of the shard from `from` and encodes them.
EncodedBatch ReadBatch(ChangeLog& log, const ChangeMessageEncoder& encoder,
                       const ShardSource& source, uint64_t from, size_t limit);

// Runs ReadBatch jobs on one helper thread, in the order submitted. Destroying it waits for
// the running job and drops the others (their futures then hold a broken_promise error).
// Thread safety: Submit from one thread at a time.
class ReadAhead {
 public:
  ReadAhead(ChangeLog& log, const ChangeMessageEncoder& encoder);
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  std::future<EncodedBatch> Submit(ShardSource source, uint64_t from, size_t limit)
      TW_EXCLUDES(mu_);

 private:
  void Loop() TW_EXCLUDES(mu_);

  ChangeLog& log_;
  const ChangeMessageEncoder& encoder_;
  Mutex mu_;
  CondVar cv_;
  std::deque<std::packaged_task<EncodedBatch()>> jobs_ TW_GUARDED_BY(mu_);
  bool stopping_ TW_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tidewater::connectors
