// Access policies applied to API requests (ServerOptions::authorization policies;
// docs/OPERATIONS.md, "Authorization"): what one request asks to do, as the
// security::AuthorizationRequest list security/policy.h documents, and the decision with its
// audit line.
//
// The questions per operation (resources are streams/resource_names.h's ARNs; every request
// carries aws:CurrentTime, aws:EpochTime and, when the client's address is known,
// aws:SourceIp):
//   * GetItem, PutItem, UpdateItem, DeleteItem: "dynamodb:<Op>" on the table, with
//     dynamodb:LeadingKeys (the item's partition key value: S as is, N as its canonical
//     decimal text, B as base64), dynamodb:Attributes (GetItem: the projection's top-level
//     names, absent without one; PutItem: the item's names; UpdateItem: the names the update
//     sets, removes, adds to or deletes from, and the key's names; DeleteItem: the key's
//     names), dynamodb:ReturnValues and dynamodb:ReturnConsumedCapacity when given.
//   * Query and Scan: the table, or "<table ARN>/index/<name>" with IndexName; Query's
//     LeadingKeys from its key condition (the index's partition key with IndexName);
//     Attributes from the projection; Select and ReturnConsumedCapacity when given.
//   * BatchGetItem, BatchWriteItem: one question per key or write request, on its table.
//   * TransactWriteItems: "dynamodb:PutItem", "UpdateItem", "DeleteItem" or
//     "ConditionCheckItem" per action (ConditionCheck: the key's names) with
//     dynamodb:EnclosingOperation "TransactWriteItems"; TransactGetItems: "dynamodb:GetItem"
//     per item with "TransactGetItems".
//   * DescribeStream, GetShardIterator: the stream ARN (rebuilt in the server's region);
//     GetRecords: the stream of its shard iterator (none when the iterator does not decode:
//     the handler then refuses it); ListStreams: "*".
//   * table operations (CreateTable, DescribeTable, UpdateTable, DeleteTable, TTL, continuous
//     backups, CreateBackup): the table named by TableName; tags: ResourceArn; DescribeBackup,
//     DeleteBackup, TidewaterReadBackup: BackupArn; RestoreTableFromBackup: BackupArn and the
//     target table; RestoreTableToPointInTime: the source and the target table;
//     ExportTableToPointInTime: TableArn; DescribeExport: ExportArn; ImportTable: the table
//     it creates; DescribeImport: ImportArn; the rest (ListTables, ListBackups, ListExports,
//     ListImports, DescribeLimits, DescribeEndpoints, the other backup copy operations): "*".
//   * Application Auto Scaling: "application-autoscaling:<Op>" on "*"; TidewaterAdmin:
//     "tidewater:<Op>" on "*"; the replication API: "tidewater:<Op>" on "*", except
//     ApplyReplicationBatch on its target table.
// A request too malformed to say what it touches (no table, a key without its partition key,
// an expression that does not compile, a table that does not exist) gives the questions
// without the missing parts; its handler then refuses it.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "service_context.h"
#include "tidewater/security/policy.h"

namespace tidewater::server {

// What the router knows of a request besides its body. Views valid for the call.
struct RequestOrigin {
  std::string_view principal;  // the authenticated principal
  std::string_view source_ip;  // the client's address; empty when unknown (no aws:SourceIp)
  int64_t now_micros = 0;      // aws:CurrentTime and aws:EpochTime
};

// The questions of a JSON API request: `api_prefix` is its X-Amz-Target prefix
// ("DynamoDB_20120810.", ...; request_router.h), `operation` its name. Reads `request` in
// place (copies names and values only), and service.schemas, service.iterators and
// service.expressions. Thread-safe.
std::vector<security::AuthorizationRequest> JsonAuthorizationRequests(
    const ServiceContext& service, std::string_view api_prefix, std::string_view operation,
    const rapidjson::Value& request, const RequestOrigin& origin);

// The questions of a replication request (a Protobuf body).
std::vector<security::AuthorizationRequest> BinaryAuthorizationRequests(
    const ServiceContext& service, std::string_view operation, std::string_view body,
    const RequestOrigin& origin);

// Decides requests against their principal's effective policies and writes the audit lines
// (spdlog): a denial at warn,
//   event=access_denied principal=<p> action=<a> resource=<r> reason="implicit deny"
//   request_id=<id>
// (reason "explicit deny by policy <name> statement <n> (<Sid>)", n counted from 0), and with
// `audit_allowed` each allowed question at info as event=access_allowed, reason "allowed by
// policy <name> statement <n> (<Sid>)".
// [Threading] Authorize is thread-safe. [Lifetime] `policies` outlives the authorizer.
class RequestAuthorizer {
 public:
  RequestAuthorizer(const security::PolicyStore* policies, bool audit_allowed)
      : policies_(policies), audit_allowed_(audit_allowed) {}

  // Ok when every question is allowed (none is: ok), else the AccessDeniedException of the
  // first that is not.
  Status Authorize(std::string_view principal,
                   std::span<const security::AuthorizationRequest> requests,
                   std::string_view request_id) const;

 private:
  const security::PolicyStore* policies_;
  bool audit_allowed_;
};

}  // namespace tidewater::server
