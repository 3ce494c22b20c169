#include "kafka_client.h"

namespace tidewater::cluster {
namespace {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};

}  // namespace

Result<KafkaHandle> NewKafkaClient(rd_kafka_type_t type, const std::string& brokers,
                                   const std::map<std::string, std::string>& properties,
                                   const std::map<std::string, std::string>& own,
                                   const std::function<void(rd_kafka_conf_t*)>& configure) {
  std::unique_ptr<rd_kafka_conf_t, ConfDeleter> conf(rd_kafka_conf_new());
  char error[512];
  auto set = [&](const std::string& name, const std::string& value) -> Status {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      return Status::Validation("Kafka property " + name + ": " + error);
    }
    return Status::Ok();
  };
  for (const auto& [name, value] : properties) TW_RETURN_IF_ERROR(set(name, value));
  TW_RETURN_IF_ERROR(set("bootstrap.servers", brokers));
  for (const auto& [name, value] : own) TW_RETURN_IF_ERROR(set(name, value));
  if (configure) configure(conf.get());
  rd_kafka_t* handle = rd_kafka_new(type, conf.get(), error, sizeof(error));
  if (handle == nullptr) return Status::Validation(std::string("Kafka client: ") + error);
  conf.release();  // rd_kafka_new took it
  return KafkaHandle(handle);
}

}  // namespace tidewater::cluster
