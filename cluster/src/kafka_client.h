// Private: librdkafka handles for the cluster module, configured from the operator's
// properties (TLS, SASL) with the module's own settings on top.
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "tidewater/core/status.h"

namespace tidewater::cluster {

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;

// A client of `type` on `brokers`: the operator's `properties` first, then `own` (which
// win), then `configure` for callbacks and opaques. Errors: Validation for a property
// librdkafka refuses or a client it cannot create.
Result<KafkaHandle> NewKafkaClient(rd_kafka_type_t type, const std::string& brokers,
                                   const std::map<std::string, std::string>& properties,
                                   const std::map<std::string, std::string>& own,
                                   const std::function<void(rd_kafka_conf_t*)>& configure = {});

}  // namespace tidewater::cluster
