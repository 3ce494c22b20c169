// The API operations, one group per file: table_handlers.cc, backup_handlers.cc,
// export_handlers.cc, import_handlers.cc, item_handlers.cc, query_scan_handlers.cc,
// batch_handlers.cc, transaction_handlers.cc, streams_handlers.cc, replication_handlers.cc,
// admin_handlers.cc, credential_handlers.cc, policy_handlers.cc. Each reads a parsed request object
// and writes its response through RequestScope.
#pragma once

#include "service_context.h"

namespace tidewater::server {

#define TW_OPERATION(name) \
  Status name(ServiceContext& service, const rapidjson::Value& request, RequestScope& scope)

// DynamoDB_20120810
TW_OPERATION(CreateTable);
TW_OPERATION(DescribeTable);
TW_OPERATION(ListTables);
TW_OPERATION(DeleteTable);
TW_OPERATION(UpdateTable);
TW_OPERATION(UpdateTimeToLive);
TW_OPERATION(DescribeTimeToLive);
TW_OPERATION(TagResource);
TW_OPERATION(UntagResource);
TW_OPERATION(ListTagsOfResource);
TW_OPERATION(DescribeLimits);
TW_OPERATION(DescribeEndpoints);
// backup_handlers.cc
TW_OPERATION(CreateBackup);
TW_OPERATION(DescribeBackup);
TW_OPERATION(ListBackups);
TW_OPERATION(DeleteBackup);
TW_OPERATION(RestoreTableFromBackup);
TW_OPERATION(UpdateContinuousBackups);
TW_OPERATION(DescribeContinuousBackups);
TW_OPERATION(RestoreTableToPointInTime);
// Tidewater's backup copy, on the DynamoDB prefix (backup_copy_handlers.cc)
TW_OPERATION(TidewaterReadBackup);
TW_OPERATION(TidewaterBeginBackupCopy);
TW_OPERATION(TidewaterAppendBackupCopy);
TW_OPERATION(TidewaterFinishBackupCopy);
// export_handlers.cc
TW_OPERATION(ExportTableToPointInTime);
TW_OPERATION(DescribeExport);
TW_OPERATION(ListExports);
// import_handlers.cc
TW_OPERATION(ImportTable);
TW_OPERATION(DescribeImport);
TW_OPERATION(ListImports);
TW_OPERATION(PutItem);
TW_OPERATION(GetItem);
TW_OPERATION(UpdateItem);
TW_OPERATION(DeleteItem);
TW_OPERATION(Query);
TW_OPERATION(Scan);
TW_OPERATION(BatchWriteItem);
TW_OPERATION(BatchGetItem);
TW_OPERATION(TransactWriteItems);
TW_OPERATION(TransactGetItems);
// DynamoDBStreams_20120810
TW_OPERATION(ListStreams);
TW_OPERATION(DescribeStream);
TW_OPERATION(GetShardIterator);
TW_OPERATION(GetRecords);
// TidewaterAdmin_20261205 (admin_handlers.cc)
TW_OPERATION(SplitShard);
TW_OPERATION(EstimateCost);
// TidewaterAdmin_20261205 (credential_handlers.cc)
TW_OPERATION(CreateCredentials);
TW_OPERATION(ListCredentials);
TW_OPERATION(DeleteCredentials);
// TidewaterAdmin_20261205 (policy_handlers.cc)
TW_OPERATION(PutPolicy);
TW_OPERATION(GetPolicy);
TW_OPERATION(DeletePolicy);
TW_OPERATION(ListPolicies);

#undef TW_OPERATION

// TidewaterReplication_20261126 (replication_handlers.cc): Protobuf bodies, see
// proto/tidewater/v1/replication.proto and docs/REPLICATION.md.
#define TW_BINARY_OPERATION(name) \
  Status name(ServiceContext& service, std::string_view request, std::string* response)

TW_BINARY_OPERATION(ApplyReplicationBatch);
TW_BINARY_OPERATION(GetReplicationCheckpoints);
TW_BINARY_OPERATION(SnapshotScan);
TW_BINARY_OPERATION(ShardDigests);
TW_BINARY_OPERATION(ReportReplicatorProgress);
TW_BINARY_OPERATION(ListReplicatorProgress);

#undef TW_BINARY_OPERATION

}  // namespace tidewater::server
