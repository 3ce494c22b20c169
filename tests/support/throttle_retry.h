// Calls a tidewaterd as the AWS SDKs do by default when a request is throttled: again,
// after a growing pause. Tests that write as fast as one client can use it, since
// tidewaterd enforces DynamoDB's per-shard and on-demand limits.
#pragma once

#include <algorithm>
#include <chrono>
#include <string_view>
#include <thread>

#include "tidewater/core/status.h"
#include "tidewater/streams/service_client.h"

namespace tidewater::testing {

// CallJson, retried while the answer is ProvisionedThroughputExceededException (up to
// `attempts` calls; the pause doubles from 5 ms to at most 200 ms).
inline Result<std::string> CallJsonRetryingThrottles(streams::ServiceClient& client,
                                                     std::string_view target, std::string_view body,
                                                     int attempts = 40) {
  std::chrono::milliseconds pause(5);
  for (int attempt = 1;; ++attempt) {
    Result<std::string> answer = client.CallJson(target, body);
    if (answer.ok() || attempt >= attempts ||
        answer.status().code() != ErrorCode::kProvisionedThroughputExceeded) {
      return answer;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
}

}  // namespace tidewater::testing
