// Cluster mode's catalog (docs/CLUSTER.md, "The catalog and DDL"): CreateTable and
// DeleteTable go through the topic tidewater.<cluster>.catalog (one partition), which every
// node applies in the topic's order, so that every node has the same tables with the same
// table ids (they count from 1 in each data directory and name the shard-log topics).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tidewater/cluster/cluster_topics.h"
#include "tidewater/core/status.h"

namespace tidewater::cluster {

// What one node's apply of a catalog change answered (a DynamoDB response).
struct CatalogOutcome {
  unsigned http_status = 200;
  std::string body;
};

// Applies one change on this node: `operation` ("CreateTable", "DeleteTable") with its
// DynamoDB JSON request. Called on the catalog's thread, one change at a time.
using CatalogApplier =
    std::function<CatalogOutcome(const std::string& operation, const std::string& request)>;

// [Ownership] Owns a producer, a reader of the catalog topic and the reader's thread, which
// calls the applier; the applier's target must outlive the catalog.
// [Threading] Submit may be called from any thread.
// [Guarantees] Changes are applied in the topic's order, each once per data directory: the
// offset after the last applied is stored in <data_dir>/CLUSTER_CATALOG after its apply, so
// a restart goes on from there. A crash between an apply and that store applies that one
// change again, which fails harmlessly (the table exists, or does not any more).
class CatalogLog {
 public:
  // Checks the catalog topic exists (creating it, one partition, where the brokers allow),
  // then applies what it holds beyond the stored offset, up to its end, before returning.
  // Errors: Internal when the brokers do not answer, the topic is missing, or the stored
  // offset cannot be read or written.
  static Result<std::unique_ptr<CatalogLog>> Start(const ClusterKafka& kafka,
                                                   const std::string& cluster_name,
                                                   const std::string& node_id,
                                                   const std::string& data_dir,
                                                   CatalogApplier applier);
  // Stop() first.
  ~CatalogLog();

  // Stops applying changes (its thread ends) and answers Submits still waiting Unavailable.
  // Call before the applier's target closes. Idempotent.
  void Stop();

  // Appends the change and waits until this node has applied it: this node's outcome.
  // Errors: Unavailable when Kafka does not take it within `timeout` (nothing applied), or
  // Internal when it was appended but not applied here in time (it will be).
  Result<CatalogOutcome> Submit(const std::string& operation, const std::string& request,
                                std::chrono::milliseconds timeout);

  struct State;  // catalog_log.cc's (its Kafka callbacks reach it)

 private:
  explicit CatalogLog(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace tidewater::cluster
