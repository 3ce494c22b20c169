// Compiled only by core_identifier_swap_test (tests/CMakeLists.txt,
// identifier_swap/check.cmake). Without TW_SWAP_CASE every call below passes its
// identifiers in the intended order and the file must compile (the control: a broken
// include path or flag cannot make the test pass). With TW_SWAP_CASE=n exactly one call
// passes two identifiers swapped (or a raw integer for one), and the file must not compile:
// that is what the strong types in tidewater/core/identifiers.h are for.
#include <cstdint>
#include <string>

#include "tidewater/core/change_log.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/replication_target.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/stream_reader.h"
#include "tidewater/streams/stream_record_json.h"

#ifndef TW_SWAP_CASE
#define TW_SWAP_CASE 0
#endif

namespace tidewater {

void CallEveryIdentifierApi(ChangeLog& log, streams::ChangeSource& source,
                            streams::CheckpointStore& store) {
  const std::string consumer = "publisher";
  const TableName table("orders");
  const ShardIndex shard(2);
  const SequenceNumber next(42);

#if TW_SWAP_CASE == 1
  ShardReadRequest request{table, next, shard, 100};
#else
  ShardReadRequest request{table, shard, next, 100};
#endif
  (void)log.ReadShard(request);

#if TW_SWAP_CASE == 2
  (void)log.SaveCheckpoint(consumer, table, next, shard, true);
#else
  (void)log.SaveCheckpoint(consumer, table, shard, next, true);
#endif

#if TW_SWAP_CASE == 3
  (void)log.SaveCheckpoint(table, consumer, shard, next, true);
#else
  (void)log.SaveCheckpoint(consumer, table, shard, next, true);
#endif

#if TW_SWAP_CASE == 4
  (void)log.LoadCheckpoint(consumer, table, next);
#else
  (void)log.LoadCheckpoint(consumer, table, shard);
#endif

#if TW_SWAP_CASE == 5
  (void)source.Read(next, shard, 100, std::chrono::milliseconds(0));
#else
  (void)source.Read(shard, next, 100, std::chrono::milliseconds(0));
#endif

#if TW_SWAP_CASE == 6
  (void)store.Save(table, next, shard);
#else
  (void)store.Save(table, shard, next);
#endif

#if TW_SWAP_CASE == 7
  const ReplicationCheckpoint checkpoint{next, shard};
#else
  const ReplicationCheckpoint checkpoint{shard, next};
#endif
  (void)checkpoint;

#if TW_SWAP_CASE == 8
  (void)streams::EventId(7, next, shard);
#else
  (void)streams::EventId(7, shard, next);
#endif

  // A raw number is no identifier: it must be named explicitly.
#if TW_SWAP_CASE == 9
  (void)source.Read(2, 42, 100, std::chrono::milliseconds(0));
#else
  (void)source.Read(ShardIndex(2), SequenceNumber(42), 100, std::chrono::milliseconds(0));
#endif

  // Nor does an identifier compare with another kind of identifier.
#if TW_SWAP_CASE == 10
  (void)(request.from_sequence == request.shard);
#else
  (void)(request.from_sequence == next);
#endif
}

}  // namespace tidewater
