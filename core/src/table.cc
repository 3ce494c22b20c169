#include "tidewater/core/table.h"

#include <algorithm>

namespace tidewater {

std::string_view StreamViewTypeName(StreamViewType type) {
  switch (type) {
    case StreamViewType::kKeysOnly:
      return "KEYS_ONLY";
    case StreamViewType::kNewImage:
      return "NEW_IMAGE";
    case StreamViewType::kOldImage:
      return "OLD_IMAGE";
    case StreamViewType::kNewAndOldImages:
      return "NEW_AND_OLD_IMAGES";
  }
  return "NEW_AND_OLD_IMAGES";
}

bool ParseStreamViewType(std::string_view name, StreamViewType* out) {
  for (auto type : {StreamViewType::kKeysOnly, StreamViewType::kNewImage, StreamViewType::kOldImage,
                    StreamViewType::kNewAndOldImages}) {
    if (StreamViewTypeName(type) == name) {
      *out = type;
      return true;
    }
  }
  return false;
}

std::string_view ProjectionTypeName(ProjectionType type) {
  switch (type) {
    case ProjectionType::kKeysOnly:
      return "KEYS_ONLY";
    case ProjectionType::kInclude:
      return "INCLUDE";
    case ProjectionType::kAll:
      return "ALL";
  }
  return "ALL";
}

bool ParseProjectionType(std::string_view name, ProjectionType* out) {
  for (auto type : {ProjectionType::kKeysOnly, ProjectionType::kInclude, ProjectionType::kAll}) {
    if (ProjectionTypeName(type) == name) {
      *out = type;
      return true;
    }
  }
  return false;
}

bool IndexProjects(const SecondaryIndex& index, const KeySchema& table_keys,
                   const std::string& attribute) {
  const auto is_key = [&attribute](const KeySchema& schema) {
    return schema.partition_key.name == attribute ||
           (schema.sort_key && schema.sort_key->name == attribute);
  };
  switch (index.projection.type) {
    case ProjectionType::kAll:
      return true;
    case ProjectionType::kInclude: {
      const auto& names = index.projection.non_key_attributes;
      if (std::find(names.begin(), names.end(), attribute) != names.end()) return true;
      break;
    }
    case ProjectionType::kKeysOnly:
      break;
  }
  return is_key(table_keys) || is_key(index.key_schema);
}

}  // namespace tidewater
