#include "client_pool.h"

#include <utility>

namespace tidewater::streams {

Result<std::unique_ptr<ClientPool>> ClientPool::Create(std::string endpoint_url,
                                                       ServiceClientOptions options) {
  TW_ASSIGN_OR_RETURN(std::unique_ptr<ServiceClient> first,
                      ServiceClient::Create(endpoint_url, options));
  return std::unique_ptr<ClientPool>(
      new ClientPool(std::move(endpoint_url), std::move(options), std::move(first)));
}

ClientPool::ClientPool(std::string endpoint_url, ServiceClientOptions options,
                       std::unique_ptr<ServiceClient> first)
    : endpoint_url_(std::move(endpoint_url)), options_(std::move(options)) {
  idle_.push_back(std::move(first));
}

Result<rapidjson::Document> ClientPool::Call(std::string_view target, std::string_view body,
                                             const HttpHeaders& headers) {
  std::unique_ptr<ServiceClient> client;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!client) {
    TW_ASSIGN_OR_RETURN(client, ServiceClient::Create(endpoint_url_, options_));
  }
  Result<std::string> response = client->CallJson(target, body, headers);
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(client));
  }
  if (!response.ok()) return response.status();
  rapidjson::Document document;
  // Untrusted text: no recursion on deep nesting, and strings must be valid UTF-8 (they
  // end up in Protobuf string fields).
  document.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
      response->data(), response->size());
  if (document.HasParseError() || !document.IsObject()) {
    return Status::Internal("tidewaterd at " + endpoint_url_ + " answered " + std::string(target) +
                            " with malformed JSON");
  }
  return document;
}

}  // namespace tidewater::streams
