// ReplicationApi over HTTP: tidewaterd's TidewaterReplication_20261126.* operations with
// Protobuf bodies, and DynamoDB DescribeTable for the region and the key schema.
#include <rapidjson/document.h>

#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "tidewater/replicator/replication_api.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::replicator {
namespace {

constexpr char kTargetPrefix[] = "TidewaterReplication_20261126.";
constexpr uint32_t kSnapshotPageItems = 1000;

std::string Target(const char* operation) { return std::string(kTargetPrefix) + operation; }

// What DescribeTable tells about a table.
struct TableFacts {
  std::string region;
  std::vector<std::string> key_attributes;
};

// Makes one more client of the endpoint.
using ClientFactory = std::function<Result<std::unique_ptr<streams::ServiceClient>>()>;

class RemoteReplicationApi final : public ReplicationApi {
 public:
  RemoteReplicationApi(std::string endpoint_url, ClientFactory new_client)
      : endpoint_url_(std::move(endpoint_url)), new_client_(std::move(new_client)) {}

  Result<ShardPositions> GetCheckpoints(const TableName& table,
                                        const std::string& source_region) override {
    v1::GetReplicationCheckpointsRequest request;
    request.set_table(table.value());
    request.set_source_region(source_region);
    v1::GetReplicationCheckpointsResponse response;
    TW_RETURN_IF_ERROR(Call("GetReplicationCheckpoints", request, &response));
    ShardPositions positions;
    for (const v1::ReplicationCheckpoint& checkpoint : response.checkpoints()) {
      positions[ShardIndex(checkpoint.shard())] = SequenceNumber(checkpoint.next_sequence());
    }
    return positions;
  }

  Result<v1::ReplicationApplyResult> Apply(const v1::ReplicationBatch& batch) override {
    v1::ReplicationApplyResult result;
    TW_RETURN_IF_ERROR(Call("ApplyReplicationBatch", batch, &result));
    return result;
  }

  Result<SnapshotPage> SnapshotScan(const TableName& table,
                                    const std::string& page_token) override {
    TW_ASSIGN_OR_RETURN(TableFacts facts, Facts(table.value()));
    v1::SnapshotScanRequest request;
    request.set_table(table.value());
    request.set_limit(kSnapshotPageItems);
    request.set_include_tombstones(true);  // so that a late older update cannot revive
    if (!page_token.empty() &&
        !request.mutable_exclusive_start_key()->ParseFromString(page_token)) {
      return Status::Validation("malformed snapshot page token");
    }
    v1::SnapshotScanResponse response;
    TW_RETURN_IF_ERROR(Call("SnapshotScan", request, &response));
    SnapshotPage page;
    page.items.reserve(static_cast<size_t>(response.items_size()));
    for (v1::VersionedItem& versioned : *response.mutable_items()) {
      ChangeRecord& change = page.items.emplace_back();
      change.set_table(table.value());
      change.set_event(versioned.deleted() ? v1::REMOVE : v1::MODIFY);
      change.set_provenance(v1::BACKFILL);
      change.set_origin_region(versioned.version().region());
      *change.mutable_version() = versioned.version();
      for (const v1::NamedValue& attribute : versioned.item().attributes()) {
        for (const std::string& key : facts.key_attributes) {
          if (attribute.name() == key) *change.mutable_keys()->add_attributes() = attribute;
        }
      }
      if (!versioned.deleted()) *change.mutable_new_image() = std::move(*versioned.mutable_item());
    }
    for (const v1::ShardPosition& position : response.positions()) {
      page.positions[ShardIndex(position.shard())] =
          SequenceNumber(position.last_sequence()).Next();
    }
    if (response.has_last_evaluated_key()) {
      page.next_page_token = response.last_evaluated_key().SerializeAsString();
    }
    return page;
  }

  Result<std::string> Region(const TableName& table) override {
    TW_ASSIGN_OR_RETURN(TableFacts facts, Facts(table.value()));
    return facts.region;
  }

  Result<uint64_t> ApproximateItemCount(const TableName& table) override {
    TW_ASSIGN_OR_RETURN(rapidjson::Document document, DescribeTable(table.value()));
    const auto& description = document["Table"];
    if (!description.HasMember("ItemCount") || !description["ItemCount"].IsUint64()) {
      return Status::Internal("DescribeTable of " + table.value() + " at " + endpoint_url_ +
                              " shows no ItemCount");
    }
    return description["ItemCount"].GetUint64();
  }

  Status ReportProgress(const v1::ReplicatorProgress& progress) override {
    v1::ReportReplicatorProgressResponse response;
    return Call("ReportReplicatorProgress", progress, &response);
  }

 private:
  // A client per concurrent caller (ServiceClient is single-threaded), kept for reuse.
  class Lease {
   public:
    Lease(RemoteReplicationApi& api, std::unique_ptr<streams::ServiceClient> client)
        : api_(api), client_(std::move(client)) {}
    ~Lease() {
      std::lock_guard lock(api_.mu_);
      api_.idle_.push_back(std::move(client_));
    }
    streams::ServiceClient* operator->() { return client_.get(); }

   private:
    RemoteReplicationApi& api_;
    std::unique_ptr<streams::ServiceClient> client_;
  };

  Result<std::unique_ptr<Lease>> Client() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto client = std::move(idle_.back());
        idle_.pop_back();
        return std::make_unique<Lease>(*this, std::move(client));
      }
    }
    TW_ASSIGN_OR_RETURN(auto client, new_client_());
    return std::make_unique<Lease>(*this, std::move(client));
  }

  Status Call(const char* operation, const google::protobuf::Message& request,
              google::protobuf::Message* response) {
    TW_ASSIGN_OR_RETURN(auto client, Client());
    TW_ASSIGN_OR_RETURN(std::string body,
                        (*client)->CallBinary(Target(operation), request.SerializeAsString()));
    if (!response->ParseFromString(body)) {
      return Status::Internal(std::string("malformed ") + operation + " response from " +
                              endpoint_url_);
    }
    return Status::Ok();
  }

  Result<TableFacts> Facts(const std::string& table) {
    {
      std::lock_guard lock(mu_);
      auto known = facts_.find(table);
      if (known != facts_.end()) return known->second;
    }
    TW_ASSIGN_OR_RETURN(rapidjson::Document document, DescribeTable(table));
    const auto& description = document["Table"];
    TableFacts facts;
    // arn:aws:dynamodb:REGION:ACCOUNT:table/NAME
    if (description.HasMember("TableArn") && description["TableArn"].IsString()) {
      const std::string arn = description["TableArn"].GetString();
      const size_t begin = std::string_view("arn:aws:dynamodb:").size();
      const size_t end = arn.find(':', begin);
      if (arn.starts_with("arn:aws:dynamodb:") && end != std::string::npos) {
        facts.region = arn.substr(begin, end - begin);
      }
    }
    if (description.HasMember("KeySchema") && description["KeySchema"].IsArray()) {
      for (const auto& element : description["KeySchema"].GetArray()) {
        if (element.HasMember("AttributeName") && element["AttributeName"].IsString()) {
          facts.key_attributes.emplace_back(element["AttributeName"].GetString());
        }
      }
    }
    if (facts.region.empty() || facts.key_attributes.empty()) {
      return Status::Internal("DescribeTable of " + table + " at " + endpoint_url_ +
                              " shows no region or no key schema");
    }
    std::lock_guard lock(mu_);
    facts_[table] = facts;
    return facts;
  }

  // The DescribeTable answer; it has a "Table" object.
  Result<rapidjson::Document> DescribeTable(const std::string& table) {
    TW_ASSIGN_OR_RETURN(auto client, Client());
    std::string body = R"({"TableName":")";
    for (char c : table) {  // table names are [a-zA-Z0-9_.-]; escape anyway
      if (c == '"' || c == '\\') body += '\\';
      body += c;
    }
    body += R"("})";
    TW_ASSIGN_OR_RETURN(std::string answer,
                        (*client)->CallJson("DynamoDB_20120810.DescribeTable", body));
    rapidjson::Document document;
    document.Parse(answer.c_str());
    if (document.HasParseError() || !document.IsObject() || !document.HasMember("Table") ||
        !document["Table"].IsObject()) {
      return Status::Internal("malformed DescribeTable response from " + endpoint_url_);
    }
    return document;
  }

  const std::string endpoint_url_;
  const ClientFactory new_client_;
  std::mutex mu_;
  std::vector<std::unique_ptr<streams::ServiceClient>> idle_;  // guarded by mu_
  std::map<std::string, TableFacts> facts_;                    // guarded by mu_
};

}  // namespace

std::unique_ptr<ReplicationApi> MakeRemoteReplicationApi(const std::string& endpoint_url,
                                                         std::chrono::milliseconds timeout) {
  return std::make_unique<RemoteReplicationApi>(endpoint_url, [endpoint_url, timeout] {
    return streams::ServiceClient::Create(endpoint_url, timeout);
  });
}

std::unique_ptr<ReplicationApi> MakeRemoteReplicationApi(const std::string& endpoint_url,
                                                         streams::ServiceClientOptions client) {
  return std::make_unique<RemoteReplicationApi>(
      endpoint_url, [endpoint_url, client = std::move(client)] {
        return streams::ServiceClient::Create(endpoint_url, client);
      });
}

}  // namespace tidewater::replicator
