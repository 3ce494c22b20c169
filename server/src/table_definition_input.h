// Private: a table definition as CreateTable reads it from its request and ImportTable from its
// TableCreationParameters, with DynamoDB's constraint errors and CreateTable's rules, in two
// steps: ReadTableDefinitionMembers checks the members' shapes (constraint errors collected in
// `errors`, beside the caller's own members), then, once the caller has reported those,
// ResolveTableDefinition applies the rules between them and builds the CreateTableRequest.
// Below them, the pieces UpdateTable and the restores read alike (attribute definitions,
// billing, a global index, SSESpecification's shape).
//
// `path` prefixes every constraint error path: "" for CreateTable ("tableName"),
// "tableCreationParameters." for ImportTable ("tableCreationParameters.tableName"). Validation
// messages that are not constraint errors are CreateTable's, whatever the path.
// Pure functions: thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

#include "billing_changes.h"
#include "index_input.h"
#include "json_request.h"
#include "tidewater/core/status.h"
#include "tidewater/core/table.h"

namespace tidewater::server {

// KeySchema and AttributeDefinitions as sent, after the shape checks.
struct KeyInput {
  std::vector<KeyElement> elements;
  std::vector<KeyAttribute> definitions;
};

// The members of a table definition that ReadTableDefinitionMembers reads, as sent, after the
// shape checks (meaningful only when no constraint error was collected).
struct TableDefinitionMembers {
  std::string name;       // TableName
  KeyInput keys;          // KeySchema and AttributeDefinitions
  BillingChange billing;  // BillingMode, ProvisionedThroughput, OnDemandThroughput
};

// TableName, AttributeDefinitions, KeySchema, BillingMode, ProvisionedThroughput and
// OnDemandThroughput of `object`, and the shape of its SSESpecification (see
// CheckSseSpecification). Constraint errors are collected in `errors`; a member of the wrong
// JSON type (SerializationException) and OnDemandThroughput's own rules (ValidationException)
// are returned at once.
Result<TableDefinitionMembers> ReadTableDefinitionMembers(const rapidjson::Value& object,
                                                          std::string_view path,
                                                          ConstraintErrors& errors);

// The table `members` (read from `object` by ReadTableDefinitionMembers, with no constraint
// error) define, by CreateTable's rules: the key schema; LocalSecondaryIndexes of `object` when
// `with_local_indexes` (otherwise that member is not read) and GlobalSecondaryIndexes, each
// checked, names unique, within DynamoDB's counts; the projected-attribute limit
// (LimitExceededException); every attribute definition used by a key; ProvisionedThroughput
// exactly when the billing mode (default PROVISIONED) is PROVISIONED, OnDemandThroughput only
// when it is PAY_PER_REQUEST. The first error is returned (`errors` collects an index's
// constraint errors, then returned). The result's name, key schema, indexes and billing
// settings are set; the stream, tags, deletion protection and table class are the caller's.
Result<CreateTableRequest> ResolveTableDefinition(const rapidjson::Value& object,
                                                  const TableDefinitionMembers& members,
                                                  std::string_view path, bool with_local_indexes,
                                                  ConstraintErrors& errors);

// --- Pieces of a definition that UpdateTable and the restores read alike ---

// AttributeDefinitions of `object` (required) as sent, after the shape checks; `elements` is
// left empty.
Result<KeyInput> ReadAttributeDefinitions(const rapidjson::Value& object, std::string_view path,
                                          ConstraintErrors& errors);

// BillingMode, ProvisionedThroughput and OnDemandThroughput of `object`, each when given.
// OnDemandThroughput must name a maximum, each at least 1 or -1 (ValidationException).
Result<BillingChange> ReadBilling(const rapidjson::Value& object, std::string_view path,
                                  ConstraintErrors& errors);

// One member of LocalSecondaryIndexes or GlobalSecondaryIndexes (or a global index that
// UpdateTable creates): its name, key schema (its attributes defined in `input`) and
// projection. `path` names the member in constraint errors ("globalSecondaryIndexes.1.member.");
// they are returned at once.
Result<SecondaryIndex> ReadIndex(const rapidjson::Value& member, const std::string& path,
                                 const KeyInput& input, ConstraintErrors& errors);

// The provisioned units of a global index (`action`: CreateTable's member, or UpdateTable's
// Create or Update; `path` its name in constraint errors) on the table's billing mode after
// the request: required on a PROVISIONED table, refused on a PAY_PER_REQUEST one. Sets
// `index`'s units.
Status ReadIndexThroughput(const rapidjson::Value& action, const std::string& path,
                           BillingMode billing_mode, ConstraintErrors& errors,
                           SecondaryIndex& index);

// DynamoDB's limit on the attributes projected by INCLUDE over all the table's indexes
// (LimitExceededException).
Status CheckProjectedAttributes(const std::vector<SecondaryIndex>& local,
                                const std::vector<SecondaryIndex>& global);

// An SSESpecification (the member `member` of `object`, absent allowed; `path` its name in
// constraint errors, "sSESpecification"): only its shape is checked (member types, SSEType's
// values); what it asks for is ReadSseSpecification's (table_encryption.h).
Status CheckSseSpecification(const rapidjson::Value& object, std::string_view member,
                             std::string_view path, ConstraintErrors& errors);

// A list as DynamoDB's messages show it: "[a, b]".
std::string NameList(const std::vector<std::string>& names);

}  // namespace tidewater::server
