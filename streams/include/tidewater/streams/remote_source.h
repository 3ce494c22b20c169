// A ChangeSource over a remote tidewaterd's DynamoDB Streams API (ListStreams,
// DescribeStream, GetShardIterator, GetRecords).
//
// Fidelity: requests carry `X-Tidewater-Record-Metadata: 1`, so tidewaterd adds what the
// DynamoDB shape lacks (origin region, provenance, version, transaction id and
// participants, creation time in microseconds, stream label, each open shard's last
// sequence): records read here equal the records in the remote log. Against an endpoint
// without the extension, records carry only what DynamoDB's shape tells (see
// ParseStreamRecord) and an open shard's last_sequence is unknown (0).
// GetRecords also carries `X-Tidewater-Watermark: 1`: a batch that read the shard to its
// end gets the shard's resolved time (ChangeBatch::resolved_micros); an endpoint without
// the extension answers none.
//
// Iterators are kept per shard between Reads: a reader that follows a shard does one
// GetRecords per poll. While a shard is idle, Read polls every 20 ms until `wait` passes.
// Thread safety: safe to call from several threads (one HTTP connection per concurrent
// call).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"
#include "tidewater/streams/change_source.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::streams {

// `endpoint_url`: "http://HOST:PORT". Validation when the URL is unusable; the endpoint
// is first contacted by ListShards/Read. Requests are signed with ResolveClientIdentity()'s
// identity (service_client.h), whose errors are this function's too.
Result<std::unique_ptr<ChangeSource>> MakeRemoteStreamsSource(
    std::string endpoint_url, TableName table,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));
// The same, calling the endpoint as `client` says (timeout, identity).
Result<std::unique_ptr<ChangeSource>> MakeRemoteStreamsSource(std::string endpoint_url,
                                                              TableName table,
                                                              ServiceClientOptions client);

}  // namespace tidewater::streams
