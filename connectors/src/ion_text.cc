#include "ion_text.h"

#include <cstdint>

#include "tidewater/core/json_codec.h"

namespace tidewater::connectors::ion {
namespace {

// The length of the UTF-8 sequence at text[i] (1..4), or 0 when it is not well formed
// (overlong forms, surrogates and code points past U+10FFFF are not). *code_point gets
// its value.
size_t DecodeUtf8(std::string_view text, size_t i, uint32_t* code_point) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  }
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  uint32_t value = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    value = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    value = lead & 0x07;
    if (lead == 0xF0) low = 0x90;   // no overlong forms
    if (lead == 0xF4) high = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (text.size() - i < length) return 0;
  for (size_t k = 1; k < length; ++k) {
    const unsigned char next = byte(k);
    const unsigned char min = k == 1 ? low : 0x80;
    const unsigned char max = k == 1 ? high : 0xBF;
    if (next < min || next > max) return 0;
    value = (value << 6) | (next & 0x3F);
  }
  *code_point = value;
  return length;
}

void AppendHexEscape(uint32_t code_point, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->append("\\x");
  out->push_back(kHex[(code_point >> 4) & 0xF]);
  out->push_back(kHex[code_point & 0xF]);
}

// The body of a quoted string ('"' quotes) or symbol ('\'' quotes), with ion-java's
// escapes: the named ones, \xHH for the other C0 controls, DEL and the C1 controls.
Status AppendQuotedBody(std::string_view text, char quote, std::string* out) {
  for (size_t i = 0; i < text.size();) {
    uint32_t code_point = 0;
    const size_t length = DecodeUtf8(text, i, &code_point);
    if (length == 0) return Status::Validation("Ion export: a string is not valid UTF-8");
    if (length > 1) {
      if (code_point <= 0x9F) {
        AppendHexEscape(code_point, out);
      } else {
        out->append(text.substr(i, length));
      }
      i += length;
      continue;
    }
    const char c = text[i++];
    switch (c) {
      case '\0':
        out->append("\\0");
        break;
      case '\a':
        out->append("\\a");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\v':
        out->append("\\v");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\\':
        out->append("\\\\");
        break;
      default:
        if (c == quote) {
          out->push_back('\\');
          out->push_back(c);
        } else if (code_point < 0x20 || code_point == 0x7F) {
          AppendHexEscape(code_point, out);
        } else {
          out->push_back(c);
        }
    }
  }
  return Status::Ok();
}

bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

bool IsIdentifierPart(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9'); }

// ion-java's isIdentifierKeyword: null, true, false, nan, and symbol ids ($<digits>).
bool IsKeyword(std::string_view text) {
  if (text == "null" || text == "true" || text == "false" || text == "nan") return true;
  if (text.size() < 2 || text[0] != '$') return false;
  for (size_t i = 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

bool SymbolNeedsQuotes(std::string_view text) {
  if (text.empty() || IsKeyword(text) || !IsIdentifierStart(text[0])) return true;
  for (char c : text) {
    if (!IsIdentifierPart(c)) return true;
  }
  return false;
}

// An annotated list of set members: $dynamodb_SS::[...].
template <typename Members, typename AppendMember>
Status AppendSet(std::string_view annotation, const Members& members, AppendMember append,
                 std::string* out) {
  out->append(annotation);
  out->append("::[");
  bool first = true;
  for (const auto& member : members) {
    if (!first) out->push_back(',');
    first = false;
    TW_RETURN_IF_ERROR(append(member));
  }
  out->push_back(']');
  return Status::Ok();
}

}  // namespace

Status AppendString(std::string_view utf8, std::string* out) {
  out->push_back('"');
  TW_RETURN_IF_ERROR(AppendQuotedBody(utf8, '"', out));
  out->push_back('"');
  return Status::Ok();
}

Status AppendSymbol(std::string_view utf8, std::string* out) {
  if (!SymbolNeedsQuotes(utf8)) {
    out->append(utf8);
    return Status::Ok();
  }
  out->push_back('\'');
  TW_RETURN_IF_ERROR(AppendQuotedBody(utf8, '\'', out));
  out->push_back('\'');
  return Status::Ok();
}

void AppendDecimal(const Number& number, std::string* out) {
  // Number holds 0.d1...dn x 10^exponent; as a BigDecimal that is the unscaled value
  // d1...dn with exponent (exponent - n), which ion-java prints as below. Number has no
  // trailing zeros, as DynamoDB's numbers in its exports (600 -> 6d2).
  if (number.is_zero()) {
    out->append("0.");
    return;
  }
  if (number.is_negative()) out->push_back('-');
  const std::string& digits = number.digits();
  const int64_t count = static_cast<int64_t>(digits.size());
  const int64_t exponent = static_cast<int64_t>(number.exponent()) - count;
  if (exponent == 0) {
    out->append(digits);
    out->push_back('.');
  } else if (exponent > 0) {
    out->append(digits);
    out->push_back('d');
    out->append(std::to_string(exponent));
  } else {
    const int64_t scale = -exponent;
    const int64_t adjusted = count - 1 - scale;
    if (adjusted >= 0) {
      const size_t whole = static_cast<size_t>(count - scale);
      out->append(digits, 0, whole);
      out->push_back('.');
      out->append(digits, whole);
    } else if (adjusted >= -6) {
      out->append("0.");
      out->append(static_cast<size_t>(scale - count), '0');
      out->append(digits);
    } else {
      out->append(digits);
      out->append("d-");
      out->append(std::to_string(scale));
    }
  }
}

void AppendBlob(std::string_view bytes, std::string* out) {
  out->append("{{");
  out->append(json::Base64Encode(bytes));
  out->append("}}");
}

Status AppendValue(const AttributeValue& value, std::string* out) {
  switch (value.type()) {
    case AttributeType::kS:
      return AppendString(value.s(), out);
    case AttributeType::kN:
      AppendDecimal(value.n(), out);
      return Status::Ok();
    case AttributeType::kB:
      AppendBlob(value.b(), out);
      return Status::Ok();
    case AttributeType::kBool:
      out->append(value.boolean() ? "true" : "false");
      return Status::Ok();
    case AttributeType::kNull:
      out->append("null");
      return Status::Ok();
    case AttributeType::kL: {
      out->push_back('[');
      bool first = true;
      for (const AttributeValue& element : value.l()) {
        if (!first) out->push_back(',');
        first = false;
        TW_RETURN_IF_ERROR(AppendValue(element, out));
      }
      out->push_back(']');
      return Status::Ok();
    }
    case AttributeType::kM:
      return AppendStruct(value.m(), out);
    case AttributeType::kSS:
      return AppendSet(
          "$dynamodb_SS", value.ss(),
          [out](const std::string& member) { return AppendString(member, out); }, out);
    case AttributeType::kNS:
      return AppendSet(
          "$dynamodb_NS", value.ns(),
          [out](const Number& member) {
            AppendDecimal(member, out);
            return Status::Ok();
          },
          out);
    case AttributeType::kBS:
      return AppendSet(
          "$dynamodb_BS", value.bs(),
          [out](const std::string& member) {
            AppendBlob(member, out);
            return Status::Ok();
          },
          out);
  }
  return Status::Internal("Ion export: unknown attribute type");
}

Status AppendStruct(const AttributeMap& map, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : map) {
    if (!first) out->push_back(',');
    first = false;
    TW_RETURN_IF_ERROR(AppendSymbol(name, out));
    out->push_back(':');
    TW_RETURN_IF_ERROR(AppendValue(value, out));
  }
  out->push_back('}');
  return Status::Ok();
}

}  // namespace tidewater::connectors::ion
