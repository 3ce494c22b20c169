// What a tidewater-replicator process replicates: one direction (source -> target) of one
// or more tables. Built from the command line or read from a YAML file:
//
//   source: http://127.0.0.1:8000        # the source region's tidewaterd
//   target: http://127.0.0.1:8001        # the target region's tidewaterd
//   source_region: us-east-1             # optional; default: the source's own region
//   target_region: eu-west-1             # optional; the target's region (below)
//   profile: replicator                  # optional; AWS profile (below)
//   ca_bundle: /etc/tidewater/ca.pem     # optional; CAs of https:// endpoints (below)
//   client_cert: /etc/tidewater/replicator.crt   # optional; mutual TLS (below)
//   client_key: /etc/tidewater/replicator.key
//   metrics_listen: 127.0.0.1:9464       # optional; GET /metrics
//   batch_size: 500                      # optional; changes per apply, 1..10000
//   tables: [orders, customers]
//
// or, reading the source region's Kafka topics instead of its Streams API:
//
//   source_kafka: 127.0.0.1:9092         # bootstrap servers
//   kafka_topic_prefix: tidewater.       # optional; as the source's publisher
//   kafka_format: protobuf               # optional; only protobuf carries item versions
//   kafka_group_id: east-to-west         # optional; default from the two regions
//   kafka_properties: {security.protocol: SSL}   # optional; librdkafka properties
//   source_region: us-east-1             # required unless `source` is given too
//   source: http://127.0.0.1:8000        # optional; needed to copy the table (catch-up)
//
// Requests to both tidewaterds are signed (AWS SigV4) with the credentials the AWS CLI would
// use with `profile` (environment variables, else AWS_PROFILE or the default profile of
// ~/.aws/credentials and ~/.aws/config; unsigned when there are none), each scoped to its
// server's region, which a server checking signatures requires to be its --region: the
// source's is source_region, the target's target_region; either defaults to the profile's
// region (AWS_REGION, ...). So with authentication on, name source_region when the source's
// region is not the profile's.
//
// Either endpoint may be https://: its certificate is then checked against ca_bundle (a PEM
// file of CA certificates; default: AWS_CA_BUNDLE, else the system's store), for both; to a
// tidewaterd that asks for a client certificate (--tls-client-ca) the replicator presents
// client_cert with its key client_key (PEM; both or neither).
//
// A value type; functions only.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "tidewater/connectors/stream_source.h"
#include "tidewater/core/status.h"

namespace tidewater::replicator {

struct ReplicatorConfig {
  std::string source_url;
  std::string target_url;
  std::string source_region;
  std::string target_region;  // the target's --region, for signing ("": the profile's)
  std::string profile;        // the AWS profile signing requests ("": as the AWS CLI)
  std::string ca_bundle;      // CAs of https:// endpoints ("": AWS_CA_BUNDLE, else the system's)
  std::string client_cert;    // mutual TLS: the certificate presented (PEM), and its key
  std::string client_key;
  std::string metrics_listen;
  size_t batch_size = 500;
  std::vector<std::string> tables;
  // Kafka source (empty brokers: the Streams API of source_url).
  std::string source_kafka;
  std::string kafka_topic_prefix = "tidewater.";
  connectors::KafkaFormat kafka_format = connectors::KafkaFormat::kProtobuf;
  std::string kafka_group_id;
  std::map<std::string, std::string> kafka_properties;
};

// Reads a YAML file as above. Validation errors name the file and the key.
Result<ReplicatorConfig> ReadReplicatorConfig(const std::string& path);

// Where the replicator reads the source's changes: its Kafka topics when source_kafka is
// set, else source_url's Streams API (signed as above); leases in this process (the
// positions are the target's checkpoints).
connectors::StreamSourceConfig ChangeSourceOf(const ReplicatorConfig& config);

// Checks the settings: a source (a URL, or Kafka brokers with the source region or a URL)
// and a target, http:// or https:// URLs and distinct, the Protobuf Kafka format, at least one
// table and no table twice, batch size in range.
Status ValidateReplicatorConfig(const ReplicatorConfig& config);

}  // namespace tidewater::replicator
