// What every API handler works with: the shared service state (engine, clock, region,
// key schemas, expression cache, iterator codec, transaction tokens, metrics, replicator
// reports, throughput limiter, auto scaling, cost estimates, table exports and imports, the
// credentials requests are signed with, the principals' access policies) and the per-request
// scope (response writer, error details).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>

#include <string>
#include <string_view>

#include "api_error.h"
#include "replicator_progress.h"
#include "server_metrics.h"
#include "shard_iterator.h"
#include "table_schemas.h"
#include "throughput_limiter.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/expression.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/security/credential_store.h"
#include "tidewater/security/encryption_at_rest.h"
#include "transaction_tokens.h"

namespace tidewater::server {

class AutoScaler;          // autoscaling_scaler.h
class TableCostEstimator;  // table_cost.h
class ExportJobs;          // export_jobs.h
class ImportJobs;          // import_jobs.h
class ServerPolicyStore;   // server_policy_store.h

// Shared by all requests; every member is safe for concurrent use. Owned by the Server.
struct ServiceContext {
  Engine* engine;
  const Clock* clock;
  std::string region;
  TableSchemas* schemas;
  ExpressionCache* expressions;
  ShardIteratorCodec* iterators;
  TransactionTokens* transaction_tokens;
  ServerMetrics* metrics;
  ReplicatorProgressBoard* replicators;
  ThroughputLimiter* throughput;
  AutoScaler* autoscaling;   // Application Auto Scaling's targets, policies and scaler
  TableCostEstimator* cost;  // monthly cost estimates (EstimateCost, /metrics)
  ExportJobs* exports;       // table exports (ExportTableToPointInTime, DescribeExport, ...)
  ImportJobs* imports;       // table imports (ImportTable, DescribeImport, ListImports)
  // The credentials signatures are checked against (CreateCredentials, ListCredentials,
  // DeleteCredentials); null when the server does not require authentication.
  security::CredentialStore* credentials;
  // The access policies of the principals (PutPolicy, GetPolicy, DeletePolicy, ListPolicies;
  // evaluated with authorization policies): those of --policy-file and the stored ones; null
  // when the server does not require authentication.
  ServerPolicyStore* policies = nullptr;
  // The master keys of encryption at rest (SSESpecification names one); null when tidewaterd
  // has none (its data directory is not encrypted).
  const security::MasterKeyring* master_keys = nullptr;
};

// One request in progress. A handler writes its whole response document (one JSON object)
// to `writer`, or returns an error Status (the router then discards the partial output and
// answers the error, with `error_details` when set).
struct RequestScope {
  rapidjson::StringBuffer buffer;
  json::Writer writer{buffer};
  ErrorDetails error_details;
  // The client sent `X-Tidewater-Record-Metadata: 1`: the Streams API adds Tidewater's
  // own fields (streams/stream_record_json.h).
  bool tidewater_metadata = false;
  // The Host header the client sent (DescribeEndpoints); valid while the request is handled.
  std::string_view host;
  // The client sent `X-Tidewater-Watermark: 1`: GetRecords adds the shard's resolved
  // time when it read the shard to its end (streams/stream_record_json.h).
  bool watermark = false;
};

// An API operation: reads `request` (a JSON object), answers through `scope`.
using OperationHandler = Status (*)(ServiceContext& service, const rapidjson::Value& request,
                                    RequestScope& scope);

// An internal operation with a binary (Protobuf) body: reads `request`, writes the whole
// response body to `*response`, or returns an error Status (answered as error JSON).
using BinaryOperationHandler = Status (*)(ServiceContext& service, std::string_view request,
                                          std::string* response);

}  // namespace tidewater::server
