// ServiceClient is one connection for one thread; readers and lease stores are called
// from several threads. A pool hands each call a client of its own.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tidewater/streams/service_client.h"

namespace tidewater::streams {

class ClientPool {
 public:
  // Every client is created with `options`. Fails (Validation) when `endpoint_url` is not a
  // usable URL.
  static Result<std::unique_ptr<ClientPool>> Create(std::string endpoint_url,
                                                    ServiceClientOptions options);

  // One AWS JSON call; the response parsed. Thread-safe.
  Result<rapidjson::Document> Call(std::string_view target, std::string_view body,
                                   const HttpHeaders& headers = {});

 private:
  ClientPool(std::string endpoint_url, ServiceClientOptions options,
             std::unique_ptr<ServiceClient> first);

  const std::string endpoint_url_;
  const ServiceClientOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<ServiceClient>> idle_;  // guarded by mu_
};

}  // namespace tidewater::streams
