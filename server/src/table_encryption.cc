#include "table_encryption.h"

#include "json_request.h"
#include "tidewater/streams/resource_names.h"

namespace tidewater::server {
namespace {

// DynamoDB's default key alias: the keyring's current key stands in for it.
constexpr std::string_view kDefaultKeyAlias = "alias/aws/dynamodb";

std::string KmsKeyArn(std::string_view region, std::string_view key_id) {
  return "arn:aws:kms:" + std::string(region) + ":" + std::string(streams::kAccountId) + ":key/" +
         std::string(key_id);
}

// The key id KMSMasterKeyId names: itself, or the part after "key/" of a key ARN.
std::string_view KeyIdOf(std::string_view given) {
  if (given.rfind("arn:", 0) != 0) return given;
  const size_t key = given.rfind(":key/");
  return key == std::string_view::npos ? given : given.substr(key + 5);
}

}  // namespace

Result<std::optional<std::string>> ReadSseSpecification(const rapidjson::Value& object,
                                                        const security::MasterKeyring* keys,
                                                        std::string_view member) {
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* sse, GetObject(object, member));
  if (sse == nullptr) return std::optional<std::string>();
  TW_ASSIGN_OR_RETURN(const std::optional<bool> enabled, GetBool(*sse, "Enabled"));
  TW_ASSIGN_OR_RETURN(const auto type, GetString(*sse, "SSEType"));
  TW_ASSIGN_OR_RETURN(const auto key, GetString(*sse, "KMSMasterKeyId"));
  if (type && *type == "AES256") return Status::Validation("The only valid SSEType is KMS");
  if (key && !type) {
    return Status::Validation("SSEType KMS is required if KMSMasterKeyId is specified");
  }
  if (!enabled.value_or(type.has_value())) return std::optional<std::string>(std::string());
  if (keys == nullptr) {
    return Status::Validation(
        "KMS encryption at rest needs a master key, and this tidewaterd has none: start it with "
        "--encryption-key-file or --encryption-key-command (docs/OPERATIONS.md, \"Encryption "
        "at rest\")");
  }
  if (!key || *key == kDefaultKeyAlias ||
      (key->rfind("arn:", 0) == 0 && key->ends_with(":" + std::string(kDefaultKeyAlias)))) {
    return std::optional<std::string>(keys->current().id);
  }
  const std::string_view id = KeyIdOf(*key);
  if (keys->Find(id) == nullptr) {
    std::string known;
    for (const std::string& name : keys->ids()) known += (known.empty() ? "" : ", ") + name;
    return Status::Validation("KMSMasterKeyId " + std::string(*key) +
                              " is not a master key of this tidewaterd (its keyring has: " + known +
                              ")");
  }
  return std::optional<std::string>(std::string(id));
}

void WriteSseDescription(const TableSettings& settings, std::string_view region,
                         json::Writer& writer) {
  if (settings.sse_kms_master_key_id.empty()) return;
  writer.Key("SSEDescription");
  writer.StartObject();
  writer.Key("Status");
  writer.String("ENABLED");
  writer.Key("SSEType");
  writer.String("KMS");
  writer.Key("KMSMasterKeyArn");
  const std::string arn = KmsKeyArn(region, settings.sse_kms_master_key_id);
  writer.String(arn.data(), static_cast<rapidjson::SizeType>(arn.size()));
  writer.EndObject();
}

}  // namespace tidewater::server
