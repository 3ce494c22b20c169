// Where readers read a table's change stream from, and the one factory of readers.
//
// A StreamSourceConfig names exactly one source:
//   data_dir        a local engine's data directory, opened by the source (not shared
//                   with a running tidewaterd);
//   engine          an engine in this process;
//   endpoint        a remote tidewaterd's Streams API, "http://HOST:PORT", its requests
//                   signed as the AWS CLI would with `profile`, scoped to `endpoint_region`;
//   kafka           the topics a tidewaterd's Kafka publisher writes (kafka_wire.h);
//   change_sources  the caller's own ChangeSource per table (tests, embedders).
// StreamSource::Open checks that and opens what the readers share: the engine of a
// data_dir, the lease store. OpenReader then gives a streams::StreamReader for one table:
// a KafkaStreamConsumer for kafka, else a StreamConsumer over the source's ChangeSource.
//
// Leases (engine, data_dir, endpoint, change_sources): workers of one application share
// a table's shards through the lease table `lease_table` of the source (created when
// missing). With lease_table "" the leases are kept in this process: each reader is the
// only worker of its application, and its positions survive only in a CheckpointStore
// (the replicator's case: its positions are the target's checkpoints). change_sources
// has no table to keep leases in and requires "". A Kafka source's consumer group plays
// the leases' role; lease_table does not apply.
//
// Thread safety: OpenReader and DescribeTable may be called from several threads.
// Ownership: the source owns what it opened; every reader must be destroyed before it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tidewater/connectors/kafka_wire.h"
#include "tidewater/core/engine.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/consumer.h"
#include "tidewater/streams/lease_store.h"
#include "tidewater/streams/quarantine.h"
#include "tidewater/streams/stream_reader.h"

namespace tidewater::connectors {

// The topics a Kafka publisher writes, as it was configured.
struct KafkaSourceConfig {
  std::string brokers;  // bootstrap servers, "HOST:PORT,HOST:PORT"; set: the source is Kafka
  std::string topic_prefix{kDefaultTopicPrefix};  // table T is topic "<topic_prefix>T"
  KafkaFormat format = KafkaFormat::kProtobuf;
  // librdkafka consumer properties passed through (security.protocol, sasl.*,
  // session.timeout.ms, ...); see KafkaConsumerOptions::properties.
  std::map<std::string, std::string> properties;
};

// A ChangeSource for `table`, for StreamSourceConfig::change_sources.
using ChangeSourceMaker =
    std::function<Result<std::unique_ptr<streams::ChangeSource>>(const TableName& table)>;

// Exactly one of data_dir, engine, endpoint, kafka.brokers and change_sources is set.
struct StreamSourceConfig {
  std::string data_dir;
  std::string region = "local";  // the region of the engine opened from data_dir
  Engine* engine = nullptr;      // not owned; must outlive the source
  std::string endpoint;
  // What requests to `endpoint` are signed with: the identity streams::ResolveClientIdentity
  // finds for the AWS CLI profile `profile` ("": AWS_PROFILE, else "default"), scoped to
  // `endpoint_region`, the endpoint's --region ("": the profile's); unsigned without one.
  std::string profile;
  std::string endpoint_region;
  // For an https endpoint: the CA bundle its certificate is checked with (ca_bundle_file "":
  // AWS_CA_BUNDLE, else the system's store), and the client certificate presented to a
  // tidewaterd that asks for one (--tls-client-ca).
  security::TlsClientOptions tls;
  KafkaSourceConfig kafka;
  ChangeSourceMaker change_sources;
  std::string lease_table = streams::kDefaultLeaseTable;  // see the file comment
};

// How a table's stream records are named in DynamoDB Streams events (eventID, awsRegion,
// eventSourceARN).
struct StreamTableIdentity {
  std::string region;
  uint64_t table_id = 0;
  int64_t creation_time_micros = 0;
  std::string partition_key;  // the HASH key attribute's name
};

class StreamSource {
 public:
  enum class Kind { kEngine, kEndpoint, kKafka, kChangeSources };  // data_dir is kEngine

  // Errors: Validation when the config names no source or several (naming them), or
  // lease_table is set with change_sources, or the endpoint URL is unusable, or the signing
  // identity cannot be resolved (a profile that does not exist); the engine's errors when
  // data_dir cannot be opened; the lease table's when it cannot be created.
  static Result<std::unique_ptr<StreamSource>> Open(StreamSourceConfig config);
  virtual ~StreamSource() = default;

  virtual Kind kind() const = 0;
  // "engine", "endpoint", "kafka" or "change_sources" (for logs).
  static std::string_view KindName(Kind kind);

  // A reader (not started) of options.table that calls `handler`. `options.application`
  // names the reader: the lease owner's application, or with Kafka the consumer group,
  // unless `kafka_group_id` is given (Kafka only). The reader reads the options that
  // apply to its kind (see streams::ConsumerOptions). Errors: Validation for bad options;
  // the endpoint's URL errors.
  virtual Result<std::unique_ptr<streams::StreamReader>> OpenReader(
      streams::ConsumerOptions options, streams::BatchHandler handler,
      std::string kafka_group_id = "") = 0;

  // What the source knows of the table's identity; nullopt when it cannot tell (kafka,
  // change_sources). Errors: the table is unknown (ResourceNotFound) or the endpoint does
  // not answer.
  virtual Result<std::optional<StreamTableIdentity>> DescribeTable(const std::string& table) = 0;

  // The trigger quarantine table `table` (streams/quarantine.h) where the source keeps its
  // data: in the engine (data_dir, engine) or in the endpoint's tidewaterd; created when
  // missing. Errors: Validation for kafka and change_sources (no table to keep it in); the
  // table's errors when it cannot be created.
  virtual Result<std::unique_ptr<streams::QuarantineStore>> OpenQuarantineStore(
      const std::string& table);
};

}  // namespace tidewater::connectors
