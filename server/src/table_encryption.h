// A table's encryption at rest as DynamoDB shows it: the SSESpecification of CreateTable and
// UpdateTable, the SSEDescription of table descriptions. tidewaterd encrypts its whole data
// directory when it has a master keyring (security/encryption_at_rest.h); a table's setting
// records what the user asked for and names the master key, it does not pick another
// encryption for that table's files.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "tidewater/core/json_codec.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table.h"
#include "tidewater/security/encryption_at_rest.h"

namespace tidewater::server {

// The KMS master key id `object`'s SSESpecification (or the member named `member`, e.g. a
// restore's SSESpecificationOverride) asks for (TableSettings::
// sse_kms_master_key_id): nullopt without an SSESpecification, "" for DynamoDB's AWS owned
// key (Enabled false), else the id of a key of `keys` (KMSMasterKeyId as a key id, a key
// ARN, or absent or alias/aws/dynamodb for the current key). ValidationException for KMS
// encryption when `keys` is null (no master key configured), for a key not in `keys`, and
// for DynamoDB's refusals (SSEType AES256; KMSMasterKeyId without SSEType KMS). The shape
// (member types, SSEType's values) is CheckSseSpecification's (table_definition_input.h).
Result<std::optional<std::string>> ReadSseSpecification(
    const rapidjson::Value& object, const security::MasterKeyring* keys,
    std::string_view member = "SSESpecification");

// The SSEDescription member of a table description, when the table has KMS encryption:
// Status ENABLED, SSEType KMS, KMSMasterKeyArn "arn:aws:kms:<region>:<account>:key/<id>".
void WriteSseDescription(const TableSettings& settings, std::string_view region,
                         json::Writer& writer);

}  // namespace tidewater::server
