// tidewaterd's server: the DynamoDB JSON 1.0 API (X-Amz-Target DynamoDB_20120810.*) and the
// DynamoDB Streams API (DynamoDBStreams_20120810.*) on POST /, Prometheus metrics on
// GET /metrics, a health check on GET /healthz and the web console on GET /console, all
// on one HTTP/1.1 listener (HTTPS only when given a certificate) with
// keep-alive, served by a pool of worker threads. With require_auth, requests must be
// signed with AWS Signature Version 4 (docs/OPERATIONS.md, "Authentication").
//
// Lifetime: Start() opens (or borrows) the engine, binds the listener and starts the
// workers; Shutdown() stops accepting, lets in-flight requests finish (up to
// shutdown_grace), then stops the workers and closes the engine it opened. The
// destructor calls Shutdown(). Thread safety: port()/Shutdown() may be called from any
// thread; Shutdown() is idempotent.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tidewater/connectors/object_store.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/status.h"
#include "tidewater/security/credential_store.h"
#include "tidewater/security/policy.h"
#include "tidewater/server/authenticator.h"

namespace prometheus {
class Collectable;
}

namespace tidewater::server {

// A DynamoDB answer: HTTP status and JSON body.
struct ApiAnswer {
  unsigned http_status = 200;
  std::string body;
};

// Cluster mode's catalog (docs/CLUSTER.md, "The catalog and DDL"): sends a CreateTable or
// DeleteTable (its JSON request) through the cluster's catalog, which every node applies
// (Server::ApplyCatalogChange), and answers with this node's outcome. Errors: the change
// could not be sent (Unavailable) or was not applied here in time (Internal).
using CatalogSubmit =
    std::function<Result<ApiAnswer>(const std::string& operation, const std::string& request)>;

struct ServerOptions {
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:8000";  // HOST:PORT; port 0 picks a free port
  std::string region = "local";
  // Worker threads serving connections (they also run the engine calls).
  // 0 picks one per hardware thread (at least 2); with sync_writes 2 per hardware thread
  // (at least 4).
  int worker_threads = 0;
  // Requests with a larger body are refused with HTTP 413 (DynamoDB's limit is 16 MB).
  size_t max_body_bytes = 16 * 1024 * 1024;
  // A connection that does not deliver a complete request within this time (slow or
  // idle keep-alive client) is closed.
  std::chrono::milliseconds read_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  // Engine settings used when the server opens its own engine.
  bool sync_writes = false;
  // Writes are refused while the data directory's disk has less free space (see
  // EngineOptions::min_free_disk_bytes).
  uint64_t min_free_disk_bytes = 64ULL << 20;
  // The engine's read cache (EngineOptions::item_cache_bytes); 0: none.
  uint64_t cache_bytes = 64ULL << 20;
  int64_t stream_retention_micros = 24LL * 3600 * 1'000'000;
  Clock* clock = Clock::System();  // not owned; iterator expiry, request timing, throttling
  // PROVISIONED tables refuse requests beyond their throughput
  // (ProvisionedThroughputExceededException); false serves any load (units still counted).
  bool throttling = true;
  // When set, the server uses this engine (not owned; must outlive the server) instead
  // of opening one at data_dir. The engine's region should equal `region`.
  Engine* engine = nullptr;
  // Request authentication (docs/OPERATIONS.md, "Authentication"). With require_auth, every
  // POST API request and GET /metrics must carry a valid AWS Signature Version 4 of one of the
  // server's credentials, for `region`, checked by `clock`'s time; GET /healthz stays open.
  // The console's page and its charts (/console, /console/api/history) are treated as
  // /metrics; its live stream (/console/api/stream), which carries items, always needs a
  // signature (a browser does not sign: with auth required the console shows its charts at
  // most). The credentials are those of <data_dir>/credentials.yaml (created and deleted
  // with the admin operations TidewaterAdmin_20261205.CreateCredentials, ListCredentials,
  // DeleteCredentials, and kept across restarts) and `credentials`. Without require_auth
  // every request is served unsigned (or signed: signatures are not checked) and the admin
  // operations on credentials answer ValidationException.
  bool require_auth = false;
  // With require_auth: GET /metrics and the console's page and charts answer unsigned
  // requests too (Prometheus cannot sign its scrapes).
  bool metrics_open = false;
  // Credentials accepted besides the stored ones (e.g. from --credentials-file), for as long
  // as this server runs: never written to the data directory, not deletable through the
  // admin API. Used only with require_auth.
  std::vector<security::Credential> credentials;
  // Authorization (docs/OPERATIONS.md, "Authorization"). kOpen: every authenticated request
  // may do everything. kPolicies: every API request is evaluated against its principal's
  // access policies (IAM's identity-policy logic, security/policy.h: default deny) before it
  // runs, and a denied one is answered AccessDeniedException and logged
  // (event=access_denied); needs require_auth (Start refuses it otherwise). The policies are
  // those of <data_dir>/policies.json (attached and detached with the admin operations
  // TidewaterAdmin_20261205.PutPolicy, DeletePolicy, and kept across restarts) and `policies`.
  enum class Authorization { kOpen, kPolicies };
  Authorization authorization = Authorization::kOpen;
  // Policies in force besides the stored ones (e.g. from --policy-file), for as long as this
  // server runs: never written to the data directory, not changeable through the admin API.
  // Used only with require_auth.
  std::vector<security::PrincipalPolicy> policies;
  // With kPolicies: log every allowed request too (event=access_allowed, at info).
  bool audit_allowed = false;
  // Replaces the signature check: when set, it decides every POST API request (and, with
  // require_auth, the GETs a signature would be asked for). Null: SigV4 with require_auth,
  // else AcceptAllAuthenticator.
  std::shared_ptr<const Authenticator> authenticator;
  // More metrics served on /metrics next to the server's own (the Kafka publisher's).
  // Not owned; each must outlive the server.
  std::vector<const prometheus::Collectable*> extra_metrics;
  // The read-only web console on GET /console (docs/OPERATIONS.md); off: those paths 404.
  bool console = true;
  // How often the console's charts get a point (720 points are kept: an hour at 5 s).
  std::chrono::milliseconds console_sample_interval{5'000};
  // Automatic shard splits (DynamoDB's partition limits by default): a shard whose
  // estimated stored bytes pass split_shard_bytes, or whose change records per second stay
  // above split_shard_writes_per_second for split_sustain, splits in two; 0 turns a rule
  // off. Checked every split_check_interval.
  uint64_t split_shard_bytes = 10ULL << 30;
  double split_shard_writes_per_second = 1000;
  std::chrono::seconds split_sustain{60};
  std::chrono::milliseconds split_check_interval{5'000};
  // Application Auto Scaling (docs/OPERATIONS.md, "Auto scaling"): the evaluation period,
  // one datapoint of consumed capacity per period (DynamoDB's CloudWatch alarms use one
  // minute; a shorter period makes scaling faster, for tests). Targets and policies are
  // kept in <data_dir>/autoscaling.json.
  std::chrono::milliseconds autoscaling_period{60'000};
  // Where ExportTableToPointInTime writes (docs/OPERATIONS.md, "Exports"): an S3-compatible
  // endpoint and/or buckets mapped to local directories. The default has neither, so an
  // export fails (FAILED, FailureCode S3NoSuchBucket) as DynamoDB's does for a bucket that
  // does not exist. Exports are recorded in <data_dir>/exports.
  ObjectStoreOptions object_store;
  // The shortest window of an incremental export (DynamoDB: 15 minutes; shorter only for
  // tests, which cannot wait a quarter of an hour).
  std::chrono::milliseconds incremental_export_min_window{15 * 60 * 1000};
  // HTTPS (docs/OPERATIONS.md, "TLS"): with a certificate, `listen` speaks HTTPS only (TLS
  // 1.2+, forward-secret AEAD cipher suites, no compression or renegotiation; see
  // security/tls.h). PEM files: the certificate (then its chain) and its private key, both
  // or neither; Start fails with IOError when one cannot be read or the key does not match.
  std::string tls_cert_file;
  std::string tls_key_file;
  // With a certificate: a PEM file of CAs; every client must present a certificate one of
  // them signed (mutual TLS), else the handshake fails. Empty: clients are not asked.
  std::string tls_client_ca_file;
  // Encryption at rest (docs/OPERATIONS.md, "Encryption at rest"): the master keyring, from a
  // file (mode 600 or stricter) or from the stdout of a command run with /bin/sh -c; at most
  // one. With a keyring every file of the data directory and of its backups is encrypted
  // (security/encryption_at_rest.h), and Start refuses a data directory with unencrypted
  // data; without one, Start refuses an encrypted data directory. Unused with `engine`.
  std::string encryption_key_file;
  std::string encryption_key_command;
  // Cluster mode (docs/CLUSTER.md): the engine the server opens commits through this log
  // (EngineOptions::replicated_log), and GET /healthz answers 503 while the log's Health is
  // not ok. Not owned; must outlive the server. Shards are not split automatically then.
  // Unused with `engine`.
  ReplicatedCommitLog* replicated_log = nullptr;
  // Cluster mode's forwarding (docs/CLUSTER.md, "Forwarding"): the HOST:PORT of the node
  // serving a shard this node does not, nullopt when none is known. With it, an item
  // operation refused with ServiceUnavailable because its shards are another node's is sent
  // on to that node (plain HTTP, keep-alive, as the client sent it) and its answer returned;
  // a request forwarded once is never forwarded again. Empty: no forwarding.
  std::function<std::optional<std::string>(const TableName&, ShardIndex)> remote_owner;
  // With remote_owner: the HOST:PORT other nodes reach this one at. When set, and requests
  // are not signed (require_auth off), a BatchGetItem or BatchWriteItem whose items live on
  // several nodes' shards is split among them (this node's share sent here) and the answers
  // merged, what a node could not do coming back unprocessed.
  std::string advertised;
  // Cluster mode: CreateTable and DeleteTable, once authorized, go through the catalog
  // rather than straight to the engine. Empty: they run here.
  CatalogSubmit catalog_submit;
  // Called by Start once the engine is open and the listener bound, before the first
  // connection is accepted (cluster mode reads its catalog there, applying it through
  // Server::ApplyCatalogChange); an error fails Start.
  std::function<Status(class Server&)> before_serving;
  // How long a forwarded request may take there and back before it is answered
  // InternalServerError (its outcome unknown).
  std::chrono::milliseconds forward_timeout{30'000};
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options);
  virtual ~Server() = default;

  // The TCP port the server listens on (useful with port 0).
  virtual uint16_t port() const = 0;
  // The engine the server serves (its own or the borrowed one); valid until Shutdown().
  virtual Engine& engine() = 0;
  // Cluster mode: applies a catalog change here (CreateTable, DeleteTable: its JSON
  // request), as its handler does, with no authentication (the node that took it checked).
  // Thread-safe.
  virtual ApiAnswer ApplyCatalogChange(const std::string& operation,
                                       const std::string& request) = 0;
  // Graceful stop: refuse new connections, finish in-flight requests, stop the workers,
  // close the engine if the server opened it.
  virtual void Shutdown() = 0;
};

}  // namespace tidewater::server
