// Private: what the DynamoDB backup operations (backup_handlers.cc) share with tidewater's
// backup copy operations (backup_copy_handlers.cc): reading a backup's ARN and writing a
// backup's description in DynamoDB's shape. Defined in backup_handlers.cc.
#pragma once

#include <rapidjson/document.h>

#include <string_view>

#include "json_request.h"
#include "service_context.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table_backups.h"

namespace tidewater::server {

// The member BackupArn (required, 37 to 1024 characters; constraint errors collected in
// `errors`).
Result<std::string_view> ReadBackupArn(const rapidjson::Value& request, ConstraintErrors& errors);

// The USER or SYSTEM backup `arn` names: a backup ARN of this region and account whose table
// part is the backup's source table. ValidationException when `arn` is not shaped
// `<table ARN>/backup/<id>`, BackupNotFoundException otherwise.
Result<BackupDescription> BackupOfArn(ServiceContext& service, std::string_view arn);

// {"BackupDescription": {BackupDetails, SourceTableDetails, SourceTableFeatureDetails}}, as
// DescribeBackup answers; ARNs of `region`.
Status WriteBackupDescription(const BackupDescription& backup, std::string_view region,
                              json::Writer& w);

}  // namespace tidewater::server
