// DynamoDB JSON for attribute values and items.
//
// DynamoDB checks a request in two stages, and so do we:
//   1. Deserialization: every value must have the JSON type its field declares (a string
//      under "S", an array under "L", base64 text under "B", ...). A mismatch anywhere
//      is a SerializationException, whatever else is wrong with the request.
//   2. Validation: exactly one type tag per attribute value, non-empty sets without
//      duplicates, valid numbers, NULL only true, nesting at most 32 levels. The first
//      problem in document order is reported as a ValidationException.
// The texts are DynamoDB's as returned by the service (collected by the dynalite and
// dynoxide emulator test suites, which were run against DynamoDB). The SerializationException
// texts name Java types because DynamoDB's deserializer leaks them.
//
// A few texts are ours because no DynamoDB text for the case was found: malformed JSON
// text ("Malformed JSON: ..."), invalid UTF-8 after unescaping, and null members of SS
// and BS. "Invalid Base64 character: 'x'" is what DynamoDB returned in the past; the
// current service may word it differently.
//
// Following DynamoDB's deserializer, a JSON null under a field means "field absent"
// ({"S": null} is an empty attribute value), unknown fields are ignored, and when a
// field is repeated the last occurrence wins.
//
// Strings (names, S, SS members) must be valid UTF-8, also after unescaping: a lone
// surrogate written as "\udc00" is rejected, so that everything we accept can be written
// back and parsed again unchanged.
#include "tidewater/core/json_codec.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <array>
#include <optional>
#include <unordered_set>

#include "tidewater/core/utf8.h"

namespace tidewater::json {
namespace {

// DynamoDB's document nesting limit: the attribute itself is level 1, each L or M adds
// one; a value at level 33 is rejected.
constexpr int kMaxNestingLevels = 32;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeBase64Table() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kBase64Table = MakeBase64Table();

// The bytes of the UTF-8 sequence starting at text[i] (for quoting it in a message).
std::string_view Utf8SequenceAt(std::string_view text, size_t i) {
  unsigned char lead = static_cast<unsigned char>(text[i]);
  size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return text.substr(i, length);
}

// Strict base64 decoding; returns DynamoDB's message on failure.
std::optional<std::string> DecodeBase64(std::string_view text, std::string* out) {
  if (text.size() % 4 != 0) {
    return "Base64 encoded length is expected a multiple of 4 bytes but found: " +
           std::to_string(text.size());
  }
  // DynamoDB's own spelling.
  static constexpr std::string_view kBadEnd = "Invalid last non-pad Base64 character dectected";
  out->clear();
  out->reserve(text.size() / 4 * 3);
  for (size_t group = 0; group < text.size(); group += 4) {
    const bool last_group = group + 4 == text.size();
    uint32_t bits = 0;
    int padding = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = text[group + k];
      if (c == '=') {
        // Padding only at the end of the last group, at most two characters.
        if (!last_group || k < 2) return std::string(kBadEnd);
        ++padding;
        bits <<= 6;
        continue;
      }
      const int8_t value = kBase64Table[static_cast<unsigned char>(c)];
      if (value < 0) {
        return "Invalid Base64 character: '" + std::string(Utf8SequenceAt(text, group + k)) + "'";
      }
      if (padding > 0) return std::string(kBadEnd);  // data after padding
      bits = (bits << 6) | static_cast<uint32_t>(value);
    }
    // The bits that padding stands for must be zero (canonical encoding only).
    if ((padding == 1 && (bits & 0xFF) != 0) || (padding == 2 && (bits & 0xFFFF) != 0)) {
      return std::string(kBadEnd);
    }
    out->push_back(static_cast<char>(bits >> 16));
    if (padding < 2) out->push_back(static_cast<char>((bits >> 8) & 0xFF));
    if (padding < 1) out->push_back(static_cast<char>(bits & 0xFF));
  }
  return std::nullopt;
}

// The JSON-type names DynamoDB's deserializer uses in its messages.
std::string_view ScalarTokenName(const rapidjson::Value& json) {
  if (json.IsTrue()) return "TRUE_VALUE";
  if (json.IsFalse()) return "FALSE_VALUE";
  if (json.IsInt64() || json.IsUint64()) return "NUMBER_VALUE";
  return "DECIMAL_VALUE";
}

constexpr std::string_view kStructureNotExpected =
    "Start of structure or map found where not expected";
constexpr std::string_view kAttributeValueClass = "com.amazonaws.dynamodb.v20120810.AttributeValue";

std::string EmptyValueMessage() {
  return "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
}

std::string Invalid(std::string_view detail) {
  return "One or more parameter values were invalid: " + std::string(detail);
}

std::string JoinForMessage(const rapidjson::Value& array) {
  std::string joined = "[";
  for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
    if (i > 0) joined += ", ";
    joined.append(array[i].GetString(), array[i].GetStringLength());
  }
  joined += "]";
  return joined;
}

std::string_view View(const rapidjson::Value& json) {
  return {json.GetString(), json.GetStringLength()};
}

// One parse of an attribute value tree. A SerializationException ends the parse at once;
// the first ValidationException is remembered and the parse goes on, so that a later
// SerializationException still wins, as it does in DynamoDB.
class Decoder {
 public:
  Result<AttributeValue> Value(const rapidjson::Value& json) {
    AttributeValue value = DecodeValue(json, 1);
    if (Failed()) return Error();
    return value;
  }

  Result<Item> Map(const rapidjson::Value& json) {
    if (!json.IsObject()) {
      if (json.IsArray()) {
        Serialization("Unrecognized collection type java.util.Map<java.lang.String, " +
                      std::string(kAttributeValueClass) + ">");
      } else {
        Serialization("Unexpected field type");
      }
      return Error();
    }
    Item item = DecodeMembers(json, 1);
    if (!Failed()) return item;
    return Error();
  }

 private:
  bool Failed() const { return !serialization_.ok() || !validation_.ok(); }
  Status Error() const { return serialization_.ok() ? validation_ : serialization_; }
  bool Aborted() const { return !serialization_.ok(); }

  void Serialization(std::string message) {
    if (serialization_.ok()) serialization_ = Status::Serialization(std::move(message));
  }
  void Validation(std::string message) {
    if (validation_.ok()) validation_ = Status::Validation(std::move(message));
  }

  // Checks that a string is one; reports the deserializer's message otherwise.
  bool ExpectString(const rapidjson::Value& json) {
    if (json.IsString()) {
      if (IsValidUtf8(View(json))) return true;
      Serialization("Invalid UTF-8 in string");
      return false;
    }
    if (json.IsArray()) {
      Serialization("Unrecognized collection type class java.lang.String");
    } else if (json.IsObject()) {
      Serialization(std::string(kStructureNotExpected));
    } else {
      Serialization(std::string(ScalarTokenName(json)) + " cannot be converted to String");
    }
    return false;
  }

  bool ExpectBinary(const rapidjson::Value& json, std::string* bytes) {
    if (json.IsString()) {
      if (auto problem = DecodeBase64(View(json), bytes)) {
        Serialization(std::move(*problem));
        return false;
      }
      return true;
    }
    if (json.IsArray()) {
      Serialization("Unrecognized collection type class java.nio.ByteBuffer");
    } else if (json.IsObject()) {
      Serialization(std::string(kStructureNotExpected));
    } else {
      Serialization("only base-64-encoded strings are convertible to bytes");
    }
    return false;
  }

  bool ExpectBoolean(const rapidjson::Value& json) {
    if (json.IsBool()) return true;
    if (json.IsString()) {
      Serialization("Unexpected token received from parser");
    } else if (json.IsArray()) {
      Serialization("Unrecognized collection type class java.lang.Boolean");
    } else if (json.IsObject()) {
      Serialization(std::string(kStructureNotExpected));
    } else {
      Serialization(std::string(ScalarTokenName(json)) + " cannot be converted to Boolean");
    }
    return false;
  }

  bool ExpectArray(const rapidjson::Value& json) {
    if (json.IsArray()) return true;
    Serialization(json.IsObject() ? std::string(kStructureNotExpected) : "Unexpected field type");
    return false;
  }

  Number DecodeNumber(const rapidjson::Value& json) {
    auto number = Number::Parse(View(json));
    if (number.ok()) return *number;
    Validation(number.status().message());
    return Number();
  }

  AttributeValue DecodeValue(const rapidjson::Value& json, int level) {
    if (json.IsNull()) {
      Validation(EmptyValueMessage());
      return {};
    }
    if (!json.IsObject()) {
      if (json.IsArray()) {
        Serialization("Unrecognized collection type class " + std::string(kAttributeValueClass));
      } else {
        Serialization("Unexpected value type in payload");
      }
      return {};
    }
    if (level > kMaxNestingLevels) {
      Validation(
          "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
          "levels beyond supported limit");
      return {};
    }
    std::optional<AttributeValue> result;
    std::optional<AttributeType> seen_type;
    bool several_types = false;
    for (auto member = json.MemberBegin(); member != json.MemberEnd(); ++member) {
      std::optional<AttributeType> type = TagType(View(member->name));
      if (!type || member->value.IsNull()) continue;  // unknown or absent field
      if (seen_type && *seen_type != *type) several_types = true;
      seen_type = type;
      result = DecodeTagged(*type, member->value, level);
      if (Aborted()) return {};
    }
    if (!result) {
      Validation(EmptyValueMessage());
      return {};
    }
    if (several_types) {
      Validation(
          "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
          "of the supported datatypes");
    }
    return std::move(*result);
  }

  static std::optional<AttributeType> TagType(std::string_view tag) {
    for (auto type : {AttributeType::kS, AttributeType::kN, AttributeType::kB, AttributeType::kBool,
                      AttributeType::kNull, AttributeType::kL, AttributeType::kM,
                      AttributeType::kSS, AttributeType::kNS, AttributeType::kBS}) {
      if (AttributeTypeName(type) == tag) return type;
    }
    return std::nullopt;
  }

  AttributeValue DecodeTagged(AttributeType type, const rapidjson::Value& json, int level) {
    switch (type) {
      case AttributeType::kS:
        if (!ExpectString(json)) return {};
        return AttributeValue::S(std::string(View(json)));
      case AttributeType::kN:
        if (!ExpectString(json)) return {};
        return AttributeValue::N(DecodeNumber(json));
      case AttributeType::kB: {
        std::string bytes;
        if (!ExpectBinary(json, &bytes)) return {};
        return AttributeValue::B(std::move(bytes));
      }
      case AttributeType::kBool:
        if (!ExpectBoolean(json)) return {};
        return AttributeValue::Bool(json.GetBool());
      case AttributeType::kNull:
        if (!ExpectBoolean(json)) return {};
        if (!json.GetBool())
          Validation(Invalid("Null attribute value types must have the value of true"));
        return AttributeValue::Null();
      case AttributeType::kL: {
        if (!ExpectArray(json)) return {};
        AttributeList list;
        list.reserve(json.Size());
        for (const auto& element : json.GetArray()) {
          list.push_back(DecodeValue(element, level + 1));
          if (Aborted()) return {};
        }
        return AttributeValue::L(std::move(list));
      }
      case AttributeType::kM:
        if (!json.IsObject()) {
          Serialization(json.IsArray()
                            ? "Unrecognized collection type java.util.Map<java.lang.String, " +
                                  std::string(kAttributeValueClass) + ">"
                            : "Unexpected field type");
          return {};
        }
        return AttributeValue::M(DecodeMembers(json, level + 1));
      case AttributeType::kSS:
        return DecodeStringSet(json);
      case AttributeType::kNS:
        return DecodeNumberSet(json);
      case AttributeType::kBS:
        return DecodeBinarySet(json);
    }
    return {};
  }

  AttributeMap DecodeMembers(const rapidjson::Value& json, int level) {
    AttributeMap map;
    for (auto member = json.MemberBegin(); member != json.MemberEnd(); ++member) {
      if (!ExpectString(member->name)) return {};
      AttributeValue value = DecodeValue(member->value, level);
      if (Aborted()) return {};
      map.insert_or_assign(std::string(View(member->name)), std::move(value));
    }
    return map;
  }

  AttributeValue DecodeStringSet(const rapidjson::Value& json) {
    if (!ExpectArray(json)) return {};
    std::vector<std::string> members;
    bool null_member = false;
    for (const auto& element : json.GetArray()) {
      if (element.IsNull()) {
        null_member = true;
        continue;
      }
      if (!ExpectString(element)) return {};
      members.emplace_back(View(element));
    }
    if (json.Empty()) {
      Validation(Invalid("An string set  may not be empty"));
    } else if (null_member) {
      Validation(Invalid("An string set may not have a null string as a member"));
    } else if (HasDuplicate(members)) {
      Validation(Invalid("Input collection " + JoinForMessage(json) + " contains duplicates."));
    }
    return AttributeValue::SS(std::move(members));
  }

  AttributeValue DecodeNumberSet(const rapidjson::Value& json) {
    if (!ExpectArray(json)) return {};
    for (const auto& element : json.GetArray()) {
      if (!element.IsNull() && !ExpectString(element)) return {};
    }
    std::vector<Number> members;
    if (json.Empty()) {
      Validation(Invalid("An number set  may not be empty"));
      return AttributeValue::NS(std::move(members));
    }
    for (const auto& element : json.GetArray()) {
      if (element.IsNull()) {
        Validation("The parameter cannot be converted to a numeric value");
        return AttributeValue::NS(std::move(members));
      }
      auto number = Number::Parse(View(element));
      if (!number.ok()) {
        Validation(number.status().message());
        return AttributeValue::NS(std::move(members));
      }
      members.push_back(std::move(*number));
    }
    // Duplicates by value: "1" and "1.0" are the same member.
    std::vector<Number> sorted = members;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      Validation("Input collection contains duplicates");
    }
    return AttributeValue::NS(std::move(members));
  }

  AttributeValue DecodeBinarySet(const rapidjson::Value& json) {
    if (!ExpectArray(json)) return {};
    std::vector<std::string> members;
    bool null_member = false;
    for (const auto& element : json.GetArray()) {
      if (element.IsNull()) {
        null_member = true;
        continue;
      }
      std::string bytes;
      if (!ExpectBinary(element, &bytes)) return {};
      members.push_back(std::move(bytes));
    }
    if (json.Empty()) {
      Validation(Invalid("Binary sets should not be empty"));
    } else if (null_member) {
      Validation(Invalid("Binary sets may not contain null values"));
    } else if (HasDuplicate(members)) {
      // DynamoDB's text has no space before "of".
      Validation(
          Invalid("Input collection " + JoinForMessage(json) + "of type BS contains duplicates."));
    }
    return AttributeValue::BS(std::move(members));
  }

  static bool HasDuplicate(const std::vector<std::string>& members) {
    std::unordered_set<std::string_view> seen;
    seen.reserve(members.size());
    for (const auto& member : members) {
      if (!seen.insert(member).second) return true;
    }
    return false;
  }

  Status serialization_;
  Status validation_;
};

void WriteString(std::string_view text, Writer& writer) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void WriteKey(std::string_view text, Writer& writer) {
  writer.Key(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

}  // namespace

Result<AttributeValue> ParseAttributeValue(const rapidjson::Value& json) {
  return Decoder().Value(json);
}

Result<Item> ParseItem(const rapidjson::Value& json) { return Decoder().Map(json); }

Result<Item> ParseItemText(std::string_view text) {
  // RapidJSON reads a NUL byte as the end of input; JSON never has a raw one.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return Status::Serialization("Malformed JSON: NUL character (at offset " + std::to_string(nul) +
                                 ")");
  }
  rapidjson::Document document;
  // Iterative parsing keeps deeply nested input off the call stack.
  document.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
      text.data(), text.size());
  if (document.HasParseError()) {
    return Status::Serialization(std::string("Malformed JSON: ") +
                                 rapidjson::GetParseError_En(document.GetParseError()) +
                                 " (at offset " + std::to_string(document.GetErrorOffset()) + ")");
  }
  return ParseItem(document);
}

void WriteAttributeValue(const AttributeValue& value, Writer& writer) {
  writer.StartObject();
  WriteKey(AttributeTypeName(value.type()), writer);
  switch (value.type()) {
    case AttributeType::kS:
      WriteString(value.s(), writer);
      break;
    case AttributeType::kN:
      WriteString(value.n().ToString(), writer);
      break;
    case AttributeType::kB:
      WriteString(Base64Encode(value.b()), writer);
      break;
    case AttributeType::kBool:
      writer.Bool(value.boolean());
      break;
    case AttributeType::kNull:
      writer.Bool(true);
      break;
    case AttributeType::kL:
      writer.StartArray();
      for (const auto& element : value.l()) WriteAttributeValue(element, writer);
      writer.EndArray();
      break;
    case AttributeType::kM:
      WriteItem(value.m(), writer);
      break;
    case AttributeType::kSS:
      writer.StartArray();
      for (const auto& member : value.ss()) WriteString(member, writer);
      writer.EndArray();
      break;
    case AttributeType::kNS:
      writer.StartArray();
      for (const auto& member : value.ns()) WriteString(member.ToString(), writer);
      writer.EndArray();
      break;
    case AttributeType::kBS:
      writer.StartArray();
      for (const auto& member : value.bs()) WriteString(Base64Encode(member), writer);
      writer.EndArray();
      break;
  }
  writer.EndObject();
}

void WriteItem(const Item& item, Writer& writer) {
  writer.StartObject();
  for (const auto& [name, value] : item) {
    WriteKey(name, writer);
    WriteAttributeValue(value, writer);
  }
  writer.EndObject();
}

std::string ItemToJson(const Item& item) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  WriteItem(item, writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string AttributeValueToJson(const AttributeValue& value) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  WriteAttributeValue(value, writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t bits = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kAlphabet[(bits >> 18) & 63]);
    out.push_back(kAlphabet[(bits >> 12) & 63]);
    out.push_back(kAlphabet[(bits >> 6) & 63]);
    out.push_back(kAlphabet[bits & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    const uint32_t bits = (byte(i) << 16) | (rest == 2 ? byte(i + 1) << 8 : 0);
    out.push_back(kAlphabet[(bits >> 18) & 63]);
    out.push_back(kAlphabet[(bits >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(bits >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  return !DecodeBase64(text, out).has_value();
}

}  // namespace tidewater::json
