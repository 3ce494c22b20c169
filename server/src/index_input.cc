#include "index_input.h"

#include "json_request.h"

namespace tidewater::server {

Result<std::vector<KeyElement>> ReadIndexKeyElements(const rapidjson::Value& index,
                                                     const std::string& path,
                                                     ConstraintErrors& errors) {
  std::vector<KeyElement> elements;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* schema, GetArray(index, "KeySchema"));
  errors.RequireNotNull(path + "keySchema", schema != nullptr);
  if (schema == nullptr) return elements;
  for (const rapidjson::Value& element : schema->GetArray()) {
    TW_RETURN_IF_ERROR(ExpectObject(element));
    TW_ASSIGN_OR_RETURN(auto attribute, GetString(element, "AttributeName"));
    TW_ASSIGN_OR_RETURN(auto key_type, GetString(element, "KeyType"));
    errors.RequireNotNull(path + "keySchema.member.attributeName", attribute.has_value());
    errors.CheckEnum(path + "keySchema.member.keyType", key_type, {"HASH", "RANGE"});
    elements.push_back(
        {attribute ? std::string(*attribute) : "", key_type ? std::string(*key_type) : ""});
  }
  if (schema->Empty() || schema->Size() > 2) {
    errors.Add(path + "keySchema", "[" + std::to_string(schema->Size()) + " elements]",
               schema->Empty() ? "Member must have length greater than or equal to 1"
                               : "Member must have length less than or equal to 2");
  }
  return elements;
}

Result<IndexProjection> ReadProjection(const rapidjson::Value& index, const std::string& path,
                                       ConstraintErrors& errors) {
  IndexProjection projection;
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* given, GetObject(index, "Projection"));
  errors.RequireNotNull(path + "projection", given != nullptr);
  if (given == nullptr) return projection;
  TW_ASSIGN_OR_RETURN(auto type, GetString(*given, "ProjectionType"));
  errors.CheckEnum(path + "projection.projectionType", type, {"ALL", "KEYS_ONLY", "INCLUDE"});
  if (type) ParseProjectionType(*type, &projection.type);
  TW_ASSIGN_OR_RETURN(const rapidjson::Value* names, GetArray(*given, "NonKeyAttributes"));
  if (names != nullptr) {
    for (const rapidjson::Value& name : names->GetArray()) {
      TW_RETURN_IF_ERROR(ExpectString(name));
      projection.non_key_attributes.emplace_back(name.GetString(), name.GetStringLength());
    }
  }
  if (!errors.empty()) return projection;
  if (!type) {
    return Status::Validation(
        "One or more parameter values were invalid: Unknown ProjectionType: null");
  }
  if (projection.type == ProjectionType::kInclude && projection.non_key_attributes.empty()) {
    return Status::Validation(
        "One or more parameter values were invalid: ProjectionType is INCLUDE, but "
        "NonKeyAttributes is not specified");
  }
  if (projection.type != ProjectionType::kInclude && names != nullptr) {
    return Status::Validation("One or more parameter values were invalid: ProjectionType is " +
                              std::string(*type) + ", but NonKeyAttributes is specified");
  }
  return projection;
}

Result<ProvisionedThroughput> ReadThroughput(const rapidjson::Value& throughput,
                                             const std::string& path, ConstraintErrors& errors) {
  TW_ASSIGN_OR_RETURN(auto read, GetInteger(throughput, "ReadCapacityUnits"));
  TW_ASSIGN_OR_RETURN(auto write, GetInteger(throughput, "WriteCapacityUnits"));
  errors.RequireNotNull(path + "readCapacityUnits", read.has_value());
  errors.RequireNotNull(path + "writeCapacityUnits", write.has_value());
  errors.CheckRange(path + "readCapacityUnits", read, 1, std::nullopt);
  errors.CheckRange(path + "writeCapacityUnits", write, 1, std::nullopt);
  return ProvisionedThroughput{read.value_or(0), write.value_or(0)};
}

}  // namespace tidewater::server
