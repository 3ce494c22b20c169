// The replication operations of one tidewaterd, as the replicator uses them: read and
// store a source's checkpoints in a target, apply a batch of changes, and copy a table
// with a consistent scan (catch-up of a new replica).
//
// Contract for every implementation:
//  * Apply is idempotent per checkpoint: the target writes the changes (last writer wins)
//    and the batch's checkpoint in one WriteBatch, so a batch applied twice changes
//    nothing the second time. A batch without a checkpoint only writes the changes.
//  * An error means the batch may or may not have been applied; the caller sends it
//    again (the contract above makes that safe).
//
// Thread safety: implementations are safe to call from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tidewater/core/engine.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/service_client.h"
#include "tidewater/v1/replication.pb.h"

namespace tidewater::replicator {

// Per source shard: the first sequence not yet applied.
using ShardPositions = std::map<ShardIndex, SequenceNumber>;

// One page of a consistent scan of a table.
struct SnapshotPage {
  // The items as changes ready to apply: keys, new_image, version and origin_region set.
  std::vector<ChangeRecord> items;
  // Per shard, the first sequence the scan does not reflect: following each shard from
  // here after the copy loses nothing. Set on the first page of a scan.
  ShardPositions positions;
  // Passed to the next SnapshotScan call; empty on the last page.
  std::string next_page_token;
};

class ReplicationApi {
 public:
  virtual ~ReplicationApi() = default;

  // The checkpoints of `source_region` for `table` stored in this tidewaterd; empty when
  // nothing was ever applied from that region.
  virtual Result<ShardPositions> GetCheckpoints(const TableName& table,
                                                const std::string& source_region) = 0;

  virtual Result<v1::ReplicationApplyResult> Apply(const v1::ReplicationBatch& batch) = 0;

  // A page of the table's items; an empty token starts a new scan.
  virtual Result<SnapshotPage> SnapshotScan(const TableName& table,
                                            const std::string& page_token) = 0;

  // The region this tidewaterd runs as (the region in its table ARNs).
  virtual Result<std::string> Region(const TableName& table) = 0;

  // The table's item count as DescribeTable shows it (an estimate; for progress only).
  virtual Result<uint64_t> ApproximateItemCount(const TableName& table) = 0;

  // Tells this tidewaterd how far a replicator writing into it has applied each source
  // shard (shown by `tidewater lag`). Reports are informational: losing one loses nothing.
  virtual Status ReportProgress(const v1::ReplicatorProgress& progress) = 0;
};

// The replication API of the tidewaterd at `endpoint_url` ("http://127.0.0.1:8000"):
// its internal operations (X-Amz-Target TidewaterReplication_20261126.*, Protobuf bodies)
// and DescribeTable. Each call times out after `timeout`; requests are signed with
// streams::ResolveClientIdentity()'s identity, whose errors the calls return.
std::unique_ptr<ReplicationApi> MakeRemoteReplicationApi(const std::string& endpoint_url,
                                                         std::chrono::milliseconds timeout);
// The same, calling the endpoint as `client` says (timeout; identity, whose region must be
// the endpoint's).
std::unique_ptr<ReplicationApi> MakeRemoteReplicationApi(const std::string& endpoint_url,
                                                         streams::ServiceClientOptions client);

}  // namespace tidewater::replicator
