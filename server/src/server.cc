#include "tidewater/server/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "autoscaling_registry.h"
#include "autoscaling_scaler.h"
#include "cache_metrics.h"
#include "console.h"
#include "console_history.h"
#include "data_encryption.h"
#include "export_jobs.h"
#include "http_server.h"
#include "import_jobs.h"
#include "listen_address.h"
#include "request_router.h"
#include "server_credential_store.h"
#include "server_metrics.h"
#include "server_policy_store.h"
#include "server_secret.h"
#include "service_context.h"
#include "shard_autosplit.h"
#include "shard_iterator.h"
#include "sigv4_authenticator.h"
#include "table_cost.h"
#include "table_schemas.h"
#include "throughput_limiter.h"
#include "tidewater/security/tls.h"
#include "transaction_tokens.h"

namespace tidewater::server {
namespace {

// The credentials created through the admin API, in the data directory.
constexpr std::string_view kStoredCredentialsFile = "credentials.yaml";
// The policies attached through the admin API, in the data directory.
constexpr std::string_view kStoredPoliciesFile = "policies.json";

// The console's charts keep an hour at the default interval (5 s).
constexpr size_t kConsoleHistoryPoints = 720;

// Where exports go and imports come from, without the credentials.
void LogExportStore(const ObjectStoreOptions& store) {
  std::string buckets;
  for (const auto& [bucket, dir] : store.local_buckets) {
    if (!buckets.empty()) buckets += ',';
    buckets += bucket + "=" + dir;
  }
  spdlog::info("event=export_store endpoint=\"{}\" region={} path_style={} local_buckets=\"{}\"",
               store.endpoint, store.region, store.path_style, buckets);
}

// How requests are authenticated, for the start-up log line (never a secret).
std::string DescribeAuthentication(const ServerOptions& options,
                                   const ServerCredentialStore* credentials, bool loopback) {
  if (!options.require_auth) {
    if (options.authenticator) return "custom";
    return loopback ? "off (loopback only; requests are not authenticated)"
                    : "off (requests are not authenticated)";
  }
  std::string description =
      options.authenticator
          ? "required (custom authenticator"
          : "required (SigV4 for region " + options.region + "; " +
                std::to_string(credentials->given_count()) + " credentials given at start, " +
                std::to_string(credentials->List().size() - credentials->given_count()) + " stored";
  description += options.metrics_open ? "; GET /metrics open)" : "; GET /metrics signed)";
  return description;
}

// How requests are authorized, for the start-up log line.
std::string DescribeAuthorization(const ServerOptions& options, const ServerPolicyStore* policies) {
  if (options.authorization == ServerOptions::Authorization::kOpen) {
    return "open (every authenticated caller may do everything)";
  }
  return "policies (default deny; " + std::to_string(policies->given_count()) +
         " policies given at start, " + std::to_string(policies->Principals().size()) +
         " principals with policies; allowed requests " +
         (options.audit_allowed ? "logged)" : "not logged)");
}

// "http", "https", or "https+mtls" (client certificates required), for the start-up line.
std::string_view DescribeScheme(const ServerOptions& options) {
  if (options.tls_cert_file.empty()) return "http";
  return options.tls_client_ca_file.empty() ? "https" : "https+mtls";
}

// The listener's TLS context: null without a certificate. Errors: a key without a
// certificate (or the reverse), a client CA without a certificate, unreadable or mismatched
// files (security::MakeTlsServerContext).
Result<std::shared_ptr<boost::asio::ssl::context>> ListenerTls(const ServerOptions& options) {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
    if (!options.tls_client_ca_file.empty()) {
      return Status::Validation("a TLS client CA needs a TLS certificate and key (HTTPS)");
    }
    return std::shared_ptr<boost::asio::ssl::context>();
  }
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return Status::Validation(
        "TLS needs both a certificate and its private key (--tls-cert and --tls-key)");
  }
  return security::MakeTlsServerContext(
      {options.tls_cert_file, options.tls_key_file, options.tls_client_ca_file});
}

// One worker per hardware thread: a request's work is short and never waits, and more
// workers than cores cost a context switch per request (measured: GetItem 38 µs of server
// CPU with 4 workers on 2 cores, 24 µs with 2; docs/PERFORMANCE.md). With `sync_writes` a
// write waits for its fsync, so twice as many keep the cores busy meanwhile.
int WorkerThreads(int requested, bool sync_writes) {
  if (requested > 0) return requested;
  int hardware = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return sync_writes ? std::max(4, 2 * hardware) : std::max(2, hardware);
}

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& options, std::unique_ptr<Engine> owned_engine, Engine* engine,
             std::string secret, std::unique_ptr<AutoScalingRegistry> autoscaling_registry,
             std::unique_ptr<ExportJobs> exports, std::unique_ptr<ImportJobs> imports,
             std::unique_ptr<ServerCredentialStore> credentials,
             std::unique_ptr<ServerPolicyStore> policies,
             std::shared_ptr<const Authenticator> authenticator,
             std::shared_ptr<boost::asio::ssl::context> tls,
             std::shared_ptr<const security::MasterKeyring> master_keys)
      : options_(options),
        master_keys_(std::move(master_keys)),
        owned_engine_(std::move(owned_engine)),
        credentials_(std::move(credentials)),
        policies_(std::move(policies)),
        authorizer_(
            options.authorization == ServerOptions::Authorization::kPolicies
                ? std::make_unique<RequestAuthorizer>(policies_.get(), options.audit_allowed)
                : nullptr),
        authenticator_(std::move(authenticator)),
        engine_(engine),
        schemas_(engine),
        iterators_(std::move(secret), options.region, options.clock),
        tokens_(options.clock),
        throughput_(engine, options.clock, options.region, options.throttling),
        autoscaling_registry_(std::move(autoscaling_registry)),
        autoscaler_(engine, options.clock, &throughput_, autoscaling_registry_.get()),
        cost_(engine, options.clock, &throughput_),
        exports_(std::move(exports)),
        imports_(std::move(imports)),
        metrics_(RequestRouter::OperationNames(), engine,
                 WithServerCollectables(options.extra_metrics)),
        service_{engine,          options.clock,     options.region,
                 &schemas_,       &expressions_,     &iterators_,
                 &tokens_,        &metrics_,         &replicators_,
                 &throughput_,    &autoscaler_,      &cost_,
                 exports_.get(),  imports_.get(),    credentials_.get(),
                 policies_.get(), master_keys_.get()},
        forwarder_(options.remote_owner
                       ? std::make_unique<RequestForwarder>(
                             &service_, options.remote_owner, options.forward_timeout,
                             options.require_auth ? std::string() : options.advertised)
                       : nullptr),
        router_(&service_, authenticator_.get(), options.max_body_bytes, authorizer_.get(),
                forwarder_.get(), options.catalog_submit),
        history_(kConsoleHistoryPoints),
        console_(Console::Options{engine, &history_, options.region, &metrics_}),
        workers_(MakeWorkers(WorkerThreads(options.worker_threads, options.sync_writes))),
        http_(
            WorkerPointers(), &router_, &metrics_, {options.max_body_bytes, options.read_timeout},
            [engine, log = options.replicated_log] {
              TW_RETURN_IF_ERROR(engine->WriteHealth());
              return log != nullptr ? log->Health() : Status::Ok();
            },
            options.console ? &console_ : nullptr,
            {options.require_auth ? authenticator_.get() : nullptr, options.metrics_open},
            std::move(tls)) {}

  ~ServerImpl() override { Shutdown(); }

  Status Run(const boost::asio::ip::tcp::endpoint& endpoint) {
    TW_RETURN_IF_ERROR(http_.Listen(endpoint));
    if (options_.console) {  // before accepting: its baseline precedes every request
      sampler_ = std::make_unique<HistorySampler>(engine_, options_.extra_metrics, &replicators_,
                                                  options_.clock, &history_,
                                                  options_.console_sample_interval);
    }
    // Cluster mode serves only shards that never split (docs/CLUSTER.md).
    if (options_.replicated_log == nullptr &&
        (options_.split_shard_bytes > 0 || options_.split_shard_writes_per_second > 0)) {
      splitter_ = std::make_unique<ShardAutoSplitter>(
          *engine_, options_.clock,
          AutoSplitThresholds{options_.split_shard_bytes, options_.split_shard_writes_per_second,
                              options_.split_sustain},
          options_.split_check_interval, split_metrics_);
    }
    autoscaler_.Start(options_.autoscaling_period);
    if (options_.before_serving) TW_RETURN_IF_ERROR(options_.before_serving(*this));
    // Logged before the first request is answered: a client that saw an answer finds the line.
    spdlog::info(
        "event=listening scheme={} address={} port={} region={} data_dir={} workers={} "
        "auth=\"{}\" authorization=\"{}\"",
        DescribeScheme(options_), endpoint.address().to_string(), http_.port(), options_.region,
        options_.data_dir, workers_.size(),
        DescribeAuthentication(options_, credentials_.get(), IsLoopback(endpoint)),
        DescribeAuthorization(options_, policies_.get()));
    http_.StartAccepting();
    for (auto& worker : workers_) {
      worker->thread = std::thread([io = &worker->io] { io->run(); });
    }
    started_ = true;
    return Status::Ok();
  }

  uint16_t port() const override { return http_.port(); }
  Engine& engine() override { return *engine_; }
  ApiAnswer ApplyCatalogChange(const std::string& operation, const std::string& request) override {
    return router_.Apply(operation, request);
  }

  void Shutdown() override {
    std::lock_guard lock(shutdown_mutex_);
    if (shut_down_) return;
    shut_down_ = true;
    http_.Stop();
    auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
    while (http_.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (http_.in_flight() > 0) {
      spdlog::warn("event=shutdown_grace_expired in_flight={}", http_.in_flight());
    }
    for (auto& worker : workers_) {
      worker->work.reset();
      worker->io.stop();
    }
    for (auto& worker : workers_) {
      if (worker->thread.joinable()) worker->thread.join();
    }
    sampler_.reset();
    splitter_.reset();
    autoscaler_.Stop();
    exports_->Shutdown();  // running exports read the engine: before it closes
    imports_->Shutdown();  // running imports write it, and drop their tables: likewise
    owned_engine_.reset();
    if (started_) spdlog::info("event=stopped");
  }

 private:
  // One worker thread with its own io_context (concurrency hint 1: a single thread runs it).
  struct Worker {
    Worker() : io(1), work(io.get_executor()) {}
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
    std::thread thread;
  };

  std::vector<const prometheus::Collectable*> WithServerCollectables(
      std::vector<const prometheus::Collectable*> extra) const {
    extra.push_back(&throughput_);
    extra.push_back(&split_metrics_);
    extra.push_back(&cost_);
    extra.push_back(&cache_metrics_);
    return extra;
  }

  static std::vector<std::unique_ptr<Worker>> MakeWorkers(int count) {
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < count; ++i) workers.push_back(std::make_unique<Worker>());
    return workers;
  }

  std::vector<boost::asio::io_context*> WorkerPointers() {
    std::vector<boost::asio::io_context*> pointers;
    for (auto& worker : workers_) pointers.push_back(&worker->io);
    return pointers;
  }

  ServerOptions options_;
  std::shared_ptr<const security::MasterKeyring> master_keys_;  // with encryption at rest
  std::unique_ptr<Engine> owned_engine_;
  std::unique_ptr<ServerCredentialStore> credentials_;  // with require_auth only
  std::unique_ptr<ServerPolicyStore> policies_;         // with require_auth only
  std::unique_ptr<RequestAuthorizer> authorizer_;       // with authorization policies only
  std::shared_ptr<const Authenticator> authenticator_;
  Engine* engine_;
  TableSchemas schemas_;
  ExpressionCache expressions_;
  ShardIteratorCodec iterators_;
  TransactionTokens tokens_;
  ThroughputLimiter throughput_;
  std::unique_ptr<AutoScalingRegistry> autoscaling_registry_;
  AutoScaler autoscaler_;  // scales on its thread from Run until Shutdown
  TableCostEstimator cost_;
  std::unique_ptr<ExportJobs> exports_;  // threads of running exports until Shutdown
  std::unique_ptr<ImportJobs> imports_;  // threads of running imports until Shutdown
  prometheus::Registry split_metrics_;
  CacheMetrics cache_metrics_{engine_};
  ServerMetrics metrics_;
  ReplicatorProgressBoard replicators_;
  ServiceContext service_;
  std::unique_ptr<RequestForwarder> forwarder_;  // cluster mode, with remote_owner
  RequestRouter router_;
  MetricHistory history_;
  Console console_;
  std::unique_ptr<HistorySampler> sampler_;      // while the console is on
  std::unique_ptr<ShardAutoSplitter> splitter_;  // while a split threshold is set
  std::vector<std::unique_ptr<Worker>> workers_;
  HttpServer http_;
  std::mutex shutdown_mutex_;
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  TW_ASSIGN_OR_RETURN(auto endpoint, ParseListenAddress(options.listen));
  if (options.authorization == ServerOptions::Authorization::kPolicies && !options.require_auth) {
    return Status::Validation(
        "authorization by policies needs authentication (--auth required): policies are "
        "attached to the principals of signed requests");
  }
  // Before the engine opens: a bad certificate fails fast and touches nothing.
  TW_ASSIGN_OR_RETURN(std::shared_ptr<boost::asio::ssl::context> tls, ListenerTls(options));
  std::unique_ptr<Engine> owned_engine;
  Engine* engine = options.engine;
  DataEncryption encryption;
  if (engine == nullptr) {
    TW_ASSIGN_OR_RETURN(encryption, OpenDataEncryption(options));
    EngineOptions engine_options;
    engine_options.data_dir = options.data_dir;
    engine_options.region = options.region;
    engine_options.clock = options.clock;
    engine_options.sync = options.sync_writes;
    engine_options.min_free_disk_bytes = options.min_free_disk_bytes;
    engine_options.item_cache_bytes = options.cache_bytes;
    engine_options.stream_retention_micros = options.stream_retention_micros;
    engine_options.file_system = encryption.file_system;
    engine_options.replicated_log = options.replicated_log;
    TW_ASSIGN_OR_RETURN(owned_engine, Engine::Open(engine_options));
    engine = owned_engine.get();
  }
  TW_ASSIGN_OR_RETURN(std::string secret, LoadOrCreateServerSecret(options.data_dir));
  TW_ASSIGN_OR_RETURN(std::unique_ptr<AutoScalingRegistry> autoscaling,
                      AutoScalingRegistry::Open(options.data_dir));
  TW_ASSIGN_OR_RETURN(std::shared_ptr<ObjectStore> store, MakeObjectStore(options.object_store));
  ExportJobs::Options export_options;
  export_options.engine = engine;
  export_options.data_dir = options.data_dir;
  export_options.region = options.region;
  export_options.store = store;
  export_options.min_incremental_window_micros =
      std::max<int64_t>(1, options.incremental_export_min_window.count() * 1000);
  TW_ASSIGN_OR_RETURN(std::unique_ptr<ExportJobs> exports,
                      ExportJobs::Open(std::move(export_options)));
  ImportJobs::Options import_options;
  import_options.engine = engine;
  import_options.data_dir = options.data_dir;
  import_options.store = std::move(store);
  TW_ASSIGN_OR_RETURN(std::unique_ptr<ImportJobs> imports,
                      ImportJobs::Open(std::move(import_options)));
  LogExportStore(options.object_store);
  std::unique_ptr<ServerCredentialStore> credentials;
  std::unique_ptr<ServerPolicyStore> policies;
  std::shared_ptr<const Authenticator> authenticator = options.authenticator;
  if (options.require_auth) {
    TW_ASSIGN_OR_RETURN(
        credentials,
        ServerCredentialStore::Open(
            std::filesystem::path(options.data_dir) / kStoredCredentialsFile, options.credentials));
    TW_ASSIGN_OR_RETURN(policies, ServerPolicyStore::Open(
                                      std::filesystem::path(options.data_dir) / kStoredPoliciesFile,
                                      options.policies));
    if (!authenticator) {
      authenticator =
          std::make_shared<SigV4Authenticator>(credentials.get(), options.region, options.clock);
    }
  } else if (!authenticator) {
    authenticator = std::make_shared<AcceptAllAuthenticator>();
  }
  auto server = std::make_unique<ServerImpl>(
      options, std::move(owned_engine), engine, std::move(secret), std::move(autoscaling),
      std::move(exports), std::move(imports), std::move(credentials), std::move(policies),
      std::move(authenticator), std::move(tls), std::move(encryption.keys));
  TW_RETURN_IF_ERROR(server->Run(endpoint));
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace tidewater::server
