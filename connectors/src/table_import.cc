// The readers of ImportTable's formats (table_import.h has the contract).
//
// DYNAMODB_JSON: each line is parsed by RapidJSON (iteratively: deep nesting cannot
// overflow the stack) and its "Item" by the DynamoDB JSON codec, with the codec's rules and
// messages (a nesting limit of 32 levels among them). Other members of the line's object
// are ignored and a repeated "Item" counts the last time, as the codec treats unknown and
// repeated fields. A line longer than kMaxJsonRecordBytes is refused before parsing, which
// bounds the parser's memory; the longest compact line of a valid item is well below it.
//
// ION: a reader of the Ion text subset DynamoDB's exports (and ours, ion_text.h) write,
// the inverse of that mapping. It knows whitespace, // and /* */ comments, the $ion_1_0
// version marker between records (optional), structs (field names: identifiers, 'quoted'
// symbols, "strings"; trailing commas), lists, the three set annotations on lists,
// "strings" with all of Ion's escapes (\uD83D\uDE00 pairs too), decimals (103., 6d2, 1.5,
// -1d-7) and decimal ints (103) as N, blobs {{base64}}, true, false, null and null.null.
// Everything else Ion has no DynamoDB type for in DynamoDB's mapping and is a bad record:
// floats (1e0, nan, +inf), timestamps, symbol values, clobs, s-expressions, other
// annotations and typed nulls; so are what this subset leaves out (long strings '''...''',
// hexadecimal, binary and underscored ints, symbol IDs such as $10). Records are the
// top-level values; a bad one is reported at the line it starts on and reading resumes at
// the next line (DynamoDB's files have one record a line). Nesting is limited as in
// DynamoDB JSON: an attribute is level 1, each L or M adds one, a value at level 33 is a
// bad record, and the reader never recurses deeper than that.
//
// CSV: RFC 4180 with the given delimiter. A record ends at a newline ("\n" or "\r\n")
// outside quotes; a quoted field may hold delimiters, newlines and doubled quotes; a
// quote inside an unquoted field or text after a closing quote makes the record bad (the
// Developer Guide: quotes "must be escaped"), and reading resumes at the next line. Empty
// lines are skipped. A record must have as many fields as the header has columns
// ("headers ... as long as they match the number of columns in the file"). Key columns
// are typed from key_types (N parsed as a DynamoDB number, B decoded from base64), every
// other column is an S. An empty field, quoted or not, adds no attribute (DynamoDB's
// documentation says nothing of empty values; a CSV cannot tell an empty string from a
// missing value); an empty key field so leaves the key missing, which the engine reports.
#include "tidewater/connectors/table_import.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "decompress.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/number.h"
#include "tidewater/core/utf8.h"

namespace tidewater {
namespace {

using ItemCallback = std::function<Status(Item item, uint64_t line)>;
using BadRowCallback = std::function<Status(const ImportRowError& error)>;

// DynamoDB's document nesting limit: an attribute is level 1, each L or M adds one.
constexpr int kMaxNestingLevels = 32;
// The longest DYNAMODB_JSON line parsed. Compact DynamoDB JSON takes a few times an
// item's size at most (6 for strings of control characters escaped as \u00XX, about 12
// for tiny attributes with escaped names, "\u0061":{"NULL":true}), so 8 MiB refuses no
// compact line of a 400 KB item and bounds what one line costs to parse.
constexpr size_t kMaxJsonRecordBytes = size_t{8} << 20;

constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";
constexpr std::string_view kGzipMagic = "\x1F\x8B";
constexpr std::string_view kZstdMagic = "\x28\xB5\x2F\xFD";
constexpr std::string_view kIonVersionMarker = "$ion_1_0";

// DynamoDB's texts, as the DynamoDB JSON codec reports them.
constexpr std::string_view kNestingTooDeep =
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels "
    "beyond supported limit";
constexpr std::string_view kItemTooLarge = "Item size has exceeded the maximum allowed size";
constexpr std::string_view kInvalidParameter = "One or more parameter values were invalid: ";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A code point (not a surrogate, at most U+10FFFF) in UTF-8.
void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// The position after the line holding text[position] (the end of the text on the last line).
size_t AfterLineOf(std::string_view text, size_t position) {
  const size_t newline = text.find('\n', position);
  return newline == std::string_view::npos ? text.size() : newline + 1;
}

// 1-based line numbers of positions, counted as reading moves forward.
class LineCounter {
 public:
  explicit LineCounter(std::string_view text) : text_(text) {}

  // The line of text[position]; positions are asked for in increasing order.
  uint64_t LineOf(size_t position) {
    line_ +=
        static_cast<uint64_t>(std::count(text_.data() + counted_, text_.data() + position, '\n'));
    counted_ = position;
    return line_;
  }

 private:
  std::string_view text_;
  size_t counted_ = 0;
  uint64_t line_ = 1;
};

// Hands each record to the caller: an item within DynamoDB's size limit to `item`, any
// other outcome to `bad_row` with its reason. A callback's error is the read's.
class RecordSink {
 public:
  RecordSink(std::string_view object_key, const ItemCallback& item, const BadRowCallback& bad_row)
      : object_key_(object_key), item_(item), bad_row_(bad_row) {}

  Status Deliver(Result<Item> item, uint64_t line) {
    if (!item.ok()) return BadRow(line, item.status().message());
    if (ItemSize(*item) > kMaxItemSizeBytes) return BadRow(line, std::string(kItemTooLarge));
    return Passed(item_(std::move(*item), line));
  }

  Status BadRow(uint64_t line, std::string message) {
    return Passed(bad_row_(ImportRowError{std::string(object_key_), line, std::move(message)}));
  }

  // Whether a callback's error ended the read.
  bool callback_failed() const { return callback_failed_; }

 private:
  Status Passed(Status status) {
    if (!status.ok()) callback_failed_ = true;
    return status;
  }

  std::string_view object_key_;
  const ItemCallback& item_;
  const BadRowCallback& bad_row_;
  bool callback_failed_ = false;
};

Status ObjectError(std::string_view object_key, const Status& status) {
  return Status(status.code(), "object " + std::string(object_key) + ": " + status.message());
}

// ---- DYNAMODB_JSON ----

Result<Item> ParseJsonRecord(std::string_view record) {
  if (record.size() > kMaxJsonRecordBytes) {
    return Status::Validation("the line is " + std::to_string(record.size()) +
                              " bytes long, more than any item's DynamoDB JSON takes (" +
                              std::to_string(kMaxJsonRecordBytes) + ")");
  }
  // RapidJSON would read a NUL byte as the end of the input.
  if (const size_t nul = record.find('\0'); nul != std::string_view::npos) {
    return Status::Serialization("Malformed JSON: NUL character (at offset " + std::to_string(nul) +
                                 ")");
  }
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
      record.data(), record.size());
  if (document.HasParseError()) {
    return Status::Serialization(std::string("Malformed JSON: ") +
                                 rapidjson::GetParseError_En(document.GetParseError()) +
                                 " (at offset " + std::to_string(document.GetErrorOffset()) + ")");
  }
  const rapidjson::Value* item = nullptr;
  if (document.IsObject()) {
    const rapidjson::Value& object = document;
    for (const auto& member : object.GetObject()) {
      if (std::string_view(member.name.GetString(), member.name.GetStringLength()) == "Item") {
        item = &member.value;
      }
    }
  }
  if (item == nullptr) {
    return Status::Validation(R"(a DYNAMODB_JSON line must be an object {"Item":{...}})");
  }
  return json::ParseItem(*item);
}

bool IsJsonBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

Status ReadDynamoDbJson(std::string_view text, RecordSink& sink) {
  uint64_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    const size_t next = AfterLineOf(text, start);
    std::string_view line = text.substr(start, next - start);
    if (line.ends_with('\n')) line.remove_suffix(1);
    start = next;
    ++line_number;
    if (IsJsonBlank(line)) continue;
    TW_RETURN_IF_ERROR(sink.Deliver(ParseJsonRecord(line), line_number));
  }
  return Status::Ok();
}

// ---- ION ----

bool IsIonWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool IsIdentifierPart(char c) { return IsIdentifierStart(c) || IsDigit(c); }
bool IsBase64Character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '+' || c == '/' ||
         c == '=';
}

// Identifiers that are not symbols: the keywords, and symbol IDs ($<digits>), which refer
// to symbol tables this reader does not keep.
bool IsKeywordOrSymbolId(std::string_view identifier) {
  if (identifier == "null" || identifier == "true" || identifier == "false" ||
      identifier == "nan") {
    return true;
  }
  return identifier.size() > 1 && identifier[0] == '$' &&
         std::all_of(identifier.begin() + 1, identifier.end(), IsDigit);
}

// DynamoDB's checks of a set: not empty, no member twice (its messages, as the DynamoDB
// JSON codec reports them).
Status CheckStringSet(AttributeType type, const std::vector<std::string>& members) {
  const bool binary = type == AttributeType::kBS;
  const std::string invalid(kInvalidParameter);
  if (members.empty()) {
    return Status::Validation(
        invalid + (binary ? "Binary sets should not be empty" : "An string set  may not be empty"));
  }
  std::set<std::string_view> seen;
  if (std::all_of(members.begin(), members.end(),
                  [&](const std::string& member) { return seen.insert(member).second; })) {
    return Status::Ok();
  }
  std::string listed = "[";
  for (size_t i = 0; i < members.size(); ++i) {
    if (i > 0) listed += ", ";
    listed += binary ? json::Base64Encode(members[i]) : members[i];
  }
  listed += "]";
  return Status::Validation(invalid + "Input collection " + listed +
                            (binary ? "of type BS contains duplicates." : " contains duplicates."));
}

Status CheckNumberSet(std::vector<Number> members) {
  if (members.empty()) {
    return Status::Validation(std::string(kInvalidParameter) + "An number set  may not be empty");
  }
  std::sort(members.begin(), members.end());
  if (std::adjacent_find(members.begin(), members.end()) != members.end()) {
    return Status::Validation("Input collection contains duplicates");
  }
  return Status::Ok();
}

// Reads records from Ion text, one value at a time. Errors are ValidationExceptions naming
// the offset in the object where reading stopped.
class IonReader {
 public:
  explicit IonReader(std::string_view text) : text_(text) {}

  size_t position() const { return pos_; }
  bool AtEnd() const { return pos_ >= text_.size(); }

  // Skips whitespace, comments and version markers up to the next record (or the end).
  // An unclosed /* comment is an error, with the position at its start.
  Status SkipToRecord() {
    for (;;) {
      TW_RETURN_IF_ERROR(SkipSpace());
      const size_t after = pos_ + kIonVersionMarker.size();
      if (!text_.substr(pos_).starts_with(kIonVersionMarker) ||
          (after < text_.size() && (IsIdentifierPart(text_[after]) || text_[after] == ':'))) {
        return Status::Ok();
      }
      pos_ = after;
    }
  }

  // One record, {Item:{...}}. After an error the position is anywhere in the record.
  Result<Item> ReadRecord() {
    if (!Peek('{') || PeekAt(1, '{')) return Error("a record must be a struct {Item:{...}}");
    ++pos_;
    std::optional<Item> item;
    for (;;) {
      TW_RETURN_IF_ERROR(SkipSpace());
      if (Peek('}')) {
        ++pos_;
        break;
      }
      TW_ASSIGN_OR_RETURN(const std::string name, ReadFieldName());
      if (name != "Item") return Error("a record has no field but Item");
      TW_RETURN_IF_ERROR(SkipSpace());
      if (!Peek('{') || PeekAt(1, '{')) return Error("Item must be a struct");
      TW_ASSIGN_OR_RETURN(item, ReadStruct(1));
      TW_RETURN_IF_ERROR(AfterMember('}'));
    }
    if (!item) return Error("a record must be a struct {Item:{...}}");
    return std::move(*item);
  }

  // Where reading resumes after a bad record that started at `record_start`.
  void ResumeAfterLineOf(size_t record_start) { pos_ = AfterLineOf(text_, record_start); }

 private:
  bool Peek(char c) const { return PeekAt(0, c); }
  bool PeekAt(size_t offset, char c) const {
    return pos_ + offset < text_.size() && text_[pos_ + offset] == c;
  }
  bool PeekDigit() const { return pos_ < text_.size() && IsDigit(text_[pos_]); }

  Status Error(std::string_view what) const {
    return Status::Validation("Ion: " + std::string(what) + " (at offset " + std::to_string(pos_) +
                              ")");
  }

  Status SkipSpace() {
    while (pos_ < text_.size()) {
      if (IsIonWhitespace(text_[pos_])) {
        ++pos_;
      } else if (PeekAt(0, '/') && PeekAt(1, '/')) {
        pos_ = AfterLineOf(text_, pos_);
      } else if (PeekAt(0, '/') && PeekAt(1, '*')) {
        const size_t from = pos_ + 2;
        const size_t close =
            from >= no_comment_end_from_ ? std::string_view::npos : text_.find("*/", from);
        if (close == std::string_view::npos) {
          no_comment_end_from_ = std::min(no_comment_end_from_, from);
          return Error("a /* comment is not closed");
        }
        pos_ = close + 2;
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  // After a member of a list or struct: a ',' (consumed) or the closing `close` (left).
  Status AfterMember(char close) {
    TW_RETURN_IF_ERROR(SkipSpace());
    if (Peek(',')) {
      ++pos_;
      return Status::Ok();
    }
    if (Peek(close)) return Status::Ok();
    return Error(std::string("expected ',' or '") + close + "'");
  }

  // [A-Za-z_$][A-Za-z0-9_$]*, at an identifier's first character.
  std::string_view ReadIdentifier() {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsIdentifierPart(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // A field name and its ':': an identifier, a 'quoted symbol' or a "string".
  Result<std::string> ReadFieldName() {
    std::string name;
    if (Peek('"')) {
      TW_ASSIGN_OR_RETURN(name, ReadQuoted('"'));
    } else if (Peek('\'')) {
      TW_ASSIGN_OR_RETURN(name, ReadQuotedSymbol());
    } else if (pos_ < text_.size() && IsIdentifierStart(text_[pos_])) {
      name = ReadIdentifier();
      if (IsKeywordOrSymbolId(name)) {
        return Error("'" + name +
                     "' is not a field name unless quoted (an Ion keyword or symbol ID)");
      }
    } else {
      return Error("expected a field name");
    }
    TW_RETURN_IF_ERROR(SkipSpace());
    if (!Peek(':') || PeekAt(1, ':')) return Error("expected ':' after a field name");
    ++pos_;
    return name;
  }

  Result<std::string> ReadQuotedSymbol() {
    if (PeekAt(1, '\'') && PeekAt(2, '\'')) {
      return Error("long strings ('''...''') are not supported");
    }
    return ReadQuoted('\'');
  }

  // The text of a short string ("...") or quoted symbol ('...'), at its opening quote.
  Result<std::string> ReadQuoted(char quote) {
    ++pos_;
    std::string out;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == quote) {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        TW_RETURN_IF_ERROR(ReadEscape(&out));
        continue;
      }
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 && c != '\t' && c != '\v' && c != '\f') {
        return Error("a control character or newline inside quotes (write it as an escape)");
      }
      const size_t length = byte < 0x80 ? 1 : Utf8SequenceLength(text_, pos_);
      if (length == 0) return Error("a string or symbol is not UTF-8");
      out.append(text_.substr(pos_, length));
      pos_ += length;
    }
    return Error("a string or symbol is not closed");
  }

  Status ReadEscape(std::string* out) {
    ++pos_;  // the backslash
    if (AtEnd()) return Error("an escape is cut short");
    const char c = text_[pos_++];
    switch (c) {
      case 'a':
        out->push_back('\a');
        return Status::Ok();
      case 'b':
        out->push_back('\b');
        return Status::Ok();
      case 't':
        out->push_back('\t');
        return Status::Ok();
      case 'n':
        out->push_back('\n');
        return Status::Ok();
      case 'f':
        out->push_back('\f');
        return Status::Ok();
      case 'r':
        out->push_back('\r');
        return Status::Ok();
      case 'v':
        out->push_back('\v');
        return Status::Ok();
      case '0':
        out->push_back('\0');
        return Status::Ok();
      case '?':
      case '\'':
      case '"':
      case '/':
      case '\\':
        out->push_back(c);
        return Status::Ok();
      case '\r':  // an escaped newline continues the text on the next line
        if (Peek('\n')) ++pos_;
        return Status::Ok();
      case '\n':
        return Status::Ok();
      case 'x':
        return ReadCodePointEscape(2, out);
      case 'u':
        return ReadCodePointEscape(4, out);
      case 'U':
        return ReadCodePointEscape(8, out);
      default:
        return Error("an unknown escape");
    }
  }

  Result<uint32_t> ReadHex(size_t digits) {
    uint32_t value = 0;
    for (size_t i = 0; i < digits; ++i, ++pos_) {
      if (AtEnd()) return Error("an escape is cut short");
      const char c = text_[pos_];
      uint32_t digit = 0;
      if (IsDigit(c)) {
        digit = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Error("an escape needs hexadecimal digits");
      }
      value = (value << 4) | digit;
    }
    return value;
  }

  // \xHH, \uHHHH (a UTF-16 surrogate pair as two of them) and \UHHHHHHHH: a code point.
  Status ReadCodePointEscape(size_t digits, std::string* out) {
    TW_ASSIGN_OR_RETURN(uint32_t code_point, ReadHex(digits));
    if (digits == 4 && code_point >= 0xD800 && code_point <= 0xDBFF && PeekAt(0, '\\') &&
        PeekAt(1, 'u')) {
      pos_ += 2;
      TW_ASSIGN_OR_RETURN(const uint32_t low, ReadHex(4));
      if (low < 0xDC00 || low > 0xDFFF) return Error("a surrogate escape without its pair");
      code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
    } else if ((code_point >= 0xD800 && code_point <= 0xDFFF) || code_point > 0x10FFFF) {
      return Error("an escape of a lone surrogate or of no Unicode code point");
    }
    AppendUtf8(code_point, out);
    return Status::Ok();
  }

  // A decimal (or a decimal int), at its '-' or first digit.
  Result<Number> ReadNumber() {
    const size_t start = pos_;
    if (Peek('-')) ++pos_;
    if (!PeekDigit()) {
      return Error("Ion floats (-inf) have no DynamoDB type, or a malformed number");
    }
    if (Peek('0')) {
      ++pos_;
      if (Peek('x') || Peek('X') || Peek('b') || Peek('B')) {
        return Error("hexadecimal and binary ints are not supported");
      }
    }
    while (PeekDigit()) ++pos_;
    if (Peek('.')) ++pos_;
    while (PeekDigit()) ++pos_;
    const std::string_view mantissa = text_.substr(start, pos_ - start);
    // Ion allows no leading zero ("007."), which Number would read.
    const size_t first_digit = mantissa[0] == '-' ? 1 : 0;
    if (mantissa.size() > first_digit + 1 && mantissa[first_digit] == '0' &&
        IsDigit(mantissa[first_digit + 1])) {
      return Error("a number with a leading zero");
    }
    std::string decimal(mantissa);
    if (Peek('d') || Peek('D')) {
      ++pos_;
      decimal.push_back('e');
      if (Peek('+') || Peek('-')) decimal.push_back(text_[pos_++]);
      if (!PeekDigit()) return Error("a decimal's exponent has no digits");
      while (PeekDigit()) decimal.push_back(text_[pos_++]);
    } else if (Peek('e') || Peek('E')) {
      return Error("Ion floats have no DynamoDB type (a decimal's exponent is written d)");
    }
    if (pos_ < text_.size() && (IsIdentifierPart(text_[pos_]) || text_[pos_] == '.' ||
                                text_[pos_] == '-' || text_[pos_] == '+' || text_[pos_] == ':')) {
      return Error("a malformed number (timestamps and underscores are not supported)");
    }
    return Number::Parse(decimal);
  }

  // {{base64}}, at its "{{" (whitespace may be anywhere inside).
  Result<std::string> ReadBlob() {
    pos_ += 2;
    std::string base64;
    for (; pos_ < text_.size(); ++pos_) {
      const char c = text_[pos_];
      if (IsIonWhitespace(c)) continue;
      if (c == '"' || c == '\'') return Error("Ion clobs have no DynamoDB type");
      if (c == '}') {
        if (!PeekAt(1, '}')) return Error("a blob must end with }}");
        pos_ += 2;
        std::string bytes;
        if (!json::Base64Decode(base64, &bytes)) return Error("a blob is not valid base64");
        return bytes;
      }
      // Stopping at the first character that is not base64 keeps a blob left open from
      // running over the following records.
      if (!IsBase64Character(c)) return Error("a blob is not valid base64");
      base64.push_back(c);
    }
    return Error("a blob is not closed");
  }

  // One attribute value at DynamoDB nesting `level`.
  Result<AttributeValue> ReadValue(int level) {
    if (level > kMaxNestingLevels) return Status::Validation(std::string(kNestingTooDeep));
    TW_RETURN_IF_ERROR(SkipSpace());
    if (AtEnd()) return Error("a value is missing");
    const char c = text_[pos_];
    if (c == '"') {
      TW_ASSIGN_OR_RETURN(std::string text, ReadQuoted('"'));
      return AttributeValue::S(std::move(text));
    }
    if (c == '{' && PeekAt(1, '{')) {
      TW_ASSIGN_OR_RETURN(std::string bytes, ReadBlob());
      return AttributeValue::B(std::move(bytes));
    }
    if (c == '{') {
      TW_ASSIGN_OR_RETURN(AttributeMap map, ReadStruct(level + 1));
      return AttributeValue::M(std::move(map));
    }
    if (c == '[') {
      TW_ASSIGN_OR_RETURN(AttributeList list, ReadList(level + 1));
      return AttributeValue::L(std::move(list));
    }
    if (c == '-' || IsDigit(c)) {
      TW_ASSIGN_OR_RETURN(Number number, ReadNumber());
      return AttributeValue::N(std::move(number));
    }
    if (c == '\'' || IsIdentifierStart(c)) return ReadSymbolOrAnnotated();
    if (c == '(') return Error("Ion s-expressions have no DynamoDB type");
    if (c == '+') return Error("Ion floats (+inf) have no DynamoDB type");
    return Error("expected a value");
  }

  // A struct's fields as attributes at `member_level`, at its '{'.
  Result<AttributeMap> ReadStruct(int member_level) {
    ++pos_;
    AttributeMap map;
    for (;;) {
      TW_RETURN_IF_ERROR(SkipSpace());
      if (Peek('}')) {
        ++pos_;
        return map;
      }
      TW_ASSIGN_OR_RETURN(std::string name, ReadFieldName());
      TW_ASSIGN_OR_RETURN(AttributeValue value, ReadValue(member_level));
      map.insert_or_assign(std::move(name), std::move(value));
      TW_RETURN_IF_ERROR(AfterMember('}'));
    }
  }

  // A list's elements at `element_level`, at its '['.
  Result<AttributeList> ReadList(int element_level) {
    ++pos_;
    AttributeList list;
    for (;;) {
      TW_RETURN_IF_ERROR(SkipSpace());
      if (Peek(']')) {
        ++pos_;
        return list;
      }
      TW_ASSIGN_OR_RETURN(AttributeValue element, ReadValue(element_level));
      list.push_back(std::move(element));
      TW_RETURN_IF_ERROR(AfterMember(']'));
    }
  }

  // At an identifier or a quoted symbol: true, false, null, null.null, or an annotated
  // set ($dynamodb_SS::[...]). Other symbols have no DynamoDB type.
  Result<AttributeValue> ReadSymbolOrAnnotated() {
    const bool quoted = Peek('\'');
    std::string symbol;
    if (quoted) {
      TW_ASSIGN_OR_RETURN(symbol, ReadQuotedSymbol());
    } else {
      symbol = ReadIdentifier();
    }
    const size_t after_symbol = pos_;
    TW_RETURN_IF_ERROR(SkipSpace());
    if (Peek(':') && PeekAt(1, ':')) {
      pos_ += 2;
      return ReadSet(symbol);
    }
    pos_ = after_symbol;
    if (!quoted && (symbol == "true" || symbol == "false")) {
      return AttributeValue::Bool(symbol == "true");
    }
    if (!quoted && symbol == "null") {
      if (!Peek('.')) return AttributeValue::Null();
      ++pos_;
      if (AtEnd() || !IsIdentifierStart(text_[pos_])) return Error("a malformed typed null");
      const std::string_view type = ReadIdentifier();
      if (type == "null") return AttributeValue::Null();
      return Error("Ion null." + std::string(type) + " has no DynamoDB type");
    }
    if (!quoted && symbol == "nan") return Error("Ion floats (nan) have no DynamoDB type");
    return Error("Ion symbols have no DynamoDB type (a string is written in double quotes)");
  }

  // The list after a set annotation: $dynamodb_SS strings, $dynamodb_NS decimals or
  // $dynamodb_BS blobs, with DynamoDB's checks of a set.
  Result<AttributeValue> ReadSet(const std::string& annotation) {
    AttributeType type = AttributeType::kSS;
    if (annotation == "$dynamodb_NS") {
      type = AttributeType::kNS;
    } else if (annotation == "$dynamodb_BS") {
      type = AttributeType::kBS;
    } else if (annotation != "$dynamodb_SS") {
      return Error("the annotation " + annotation + " has no DynamoDB meaning");
    }
    TW_RETURN_IF_ERROR(SkipSpace());
    if (!Peek('[')) return Error(annotation + " annotates a list only");
    ++pos_;
    std::vector<std::string> strings;  // SS, BS
    std::vector<Number> numbers;       // NS
    for (;;) {
      TW_RETURN_IF_ERROR(SkipSpace());
      if (Peek(']')) {
        ++pos_;
        break;
      }
      if (type == AttributeType::kSS) {
        if (!Peek('"')) return Error("a $dynamodb_SS member must be a string");
        TW_ASSIGN_OR_RETURN(std::string member, ReadQuoted('"'));
        strings.push_back(std::move(member));
      } else if (type == AttributeType::kNS) {
        if (!Peek('-') && !PeekDigit()) return Error("a $dynamodb_NS member must be a decimal");
        TW_ASSIGN_OR_RETURN(Number member, ReadNumber());
        numbers.push_back(std::move(member));
      } else {
        if (!Peek('{') || !PeekAt(1, '{')) return Error("a $dynamodb_BS member must be a blob");
        TW_ASSIGN_OR_RETURN(std::string member, ReadBlob());
        strings.push_back(std::move(member));
      }
      TW_RETURN_IF_ERROR(AfterMember(']'));
    }
    if (type == AttributeType::kNS) {
      TW_RETURN_IF_ERROR(CheckNumberSet(numbers));
      return AttributeValue::NS(std::move(numbers));
    }
    TW_RETURN_IF_ERROR(CheckStringSet(type, strings));
    return type == AttributeType::kSS ? AttributeValue::SS(std::move(strings))
                                      : AttributeValue::BS(std::move(strings));
  }

  std::string_view text_;
  size_t pos_ = 0;
  // No "*/" follows this position: an unclosed comment, met again from each line a bad
  // record resumes at, is not searched for again (which would take quadratic time).
  size_t no_comment_end_from_ = std::string_view::npos;
};

Status ReadIon(std::string_view text, RecordSink& sink) {
  IonReader reader(text);
  LineCounter lines(text);
  for (;;) {
    if (Status skipped = reader.SkipToRecord(); !skipped.ok()) {
      // An unclosed comment runs to the end of the object: nothing more to read.
      return sink.BadRow(lines.LineOf(reader.position()), skipped.message());
    }
    if (reader.AtEnd()) return Status::Ok();
    const size_t start = reader.position();
    const uint64_t line = lines.LineOf(start);
    Result<Item> item = reader.ReadRecord();
    if (!item.ok()) reader.ResumeAfterLineOf(start);
    TW_RETURN_IF_ERROR(sink.Deliver(std::move(item), line));
  }
}

// ---- CSV ----

bool IsAllowedDelimiter(char c) {
  return c == ',' || c == '\t' || c == ':' || c == ';' || c == '|' || c == ' ';
}

// A record ends at "\n", at "\r\n", or at a "\r" that ends the text.
bool IsLineEnd(std::string_view text, size_t i) {
  return text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] == '\n'));
}

// The fields of the record at text[start], and in *next where the following one starts.
// A malformed record is an error, with *next after the line holding the problem (or at
// the end of the text, for a quoted field that is never closed).
Status ParseCsvRecord(std::string_view text, size_t start, char delimiter,
                      std::vector<std::string>* fields, size_t* next) {
  const auto malformed = [&](size_t at, std::string_view what) {
    *next = AfterLineOf(text, at);
    return Status::Validation("malformed CSV: " + std::string(what));
  };
  fields->clear();
  size_t i = start;
  for (;;) {
    std::string field;
    if (i < text.size() && text[i] == '"') {
      for (++i;; ++i) {
        if (i == text.size()) return malformed(i, "a quoted field is not closed");
        if (text[i] != '"') {
          field.push_back(text[i]);
        } else if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          break;
        }
      }
      ++i;  // the closing quote
      if (i < text.size() && text[i] != delimiter && !IsLineEnd(text, i)) {
        return malformed(i, "text after the closing quote of a field");
      }
    } else {
      for (; i < text.size() && text[i] != delimiter && !IsLineEnd(text, i); ++i) {
        if (text[i] == '"') {
          return malformed(i,
                           "a double quote in a field that is not quoted (write the field in "
                           "quotes, doubling the quotes inside)");
        }
        field.push_back(text[i]);
      }
    }
    fields->push_back(std::move(field));
    if (i == text.size()) {
      *next = i;
      return Status::Ok();
    }
    if (text[i] != delimiter) {
      *next = AfterLineOf(text, i);
      return Status::Ok();
    }
    ++i;
  }
}

// Column names must be names: not empty, UTF-8, each once.
Status CheckHeader(const std::vector<std::string>& header) {
  std::set<std::string_view> seen;
  for (const std::string& name : header) {
    if (name.empty()) return Status::Validation("the CSV header has an empty column name");
    if (!IsValidUtf8(name)) return Status::Validation("a CSV column name is not UTF-8");
    if (!seen.insert(name).second) {
      return Status::Validation("the CSV header names the column " + name + " twice");
    }
  }
  return Status::Ok();
}

Result<AttributeValue> CsvValue(const std::string& column, AttributeType type, std::string field) {
  if (type == AttributeType::kN) {
    Result<Number> number = Number::Parse(field);
    if (!number.ok()) {
      return Status::Validation(number.status().message() + " (key attribute " + column + ")");
    }
    return AttributeValue::N(std::move(*number));
  }
  if (type == AttributeType::kB) {
    std::string bytes;
    if (!json::Base64Decode(field, &bytes)) {
      return Status::Validation("the key attribute " + column + " is not valid base64");
    }
    return AttributeValue::B(std::move(bytes));
  }
  if (!IsValidUtf8(field)) return Status::Validation("the value of " + column + " is not UTF-8");
  return AttributeValue::S(std::move(field));
}

Result<Item> CsvItem(const std::vector<std::string>& header, std::vector<std::string>& fields,
                     const std::map<std::string, AttributeType>& key_types) {
  if (fields.size() != header.size()) {
    return Status::Validation("the record has " + std::to_string(fields.size()) +
                              " fields and the header " + std::to_string(header.size()));
  }
  Item item;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].empty()) continue;
    const auto key_type = key_types.find(header[i]);
    const AttributeType type = key_type == key_types.end() ? AttributeType::kS : key_type->second;
    TW_ASSIGN_OR_RETURN(AttributeValue value, CsvValue(header[i], type, std::move(fields[i])));
    item.emplace(header[i], std::move(value));
  }
  return item;
}

Status ReadCsv(std::string_view text, const ImportFormatOptions& options, RecordSink& sink) {
  const char delimiter = options.csv.delimiter;
  if (!IsAllowedDelimiter(delimiter)) {
    return Status::Validation("the CSV delimiter must be one of , \\t : ; | and space");
  }
  for (const auto& [name, type] : options.key_types) {
    if (type != AttributeType::kS && type != AttributeType::kN && type != AttributeType::kB) {
      return Status::Validation("the key attribute " + name + " has the type " +
                                std::string(AttributeTypeName(type)) + ", not S, N or B");
    }
  }
  std::vector<std::string> header = options.csv.header;
  bool header_pending = header.empty();
  if (!header_pending) TW_RETURN_IF_ERROR(CheckHeader(header));
  LineCounter lines(text);
  std::vector<std::string> fields;
  for (size_t position = 0; position < text.size();) {
    if (IsLineEnd(text, position)) {
      position = AfterLineOf(text, position);
      continue;
    }
    const uint64_t line = lines.LineOf(position);
    const Status parsed = ParseCsvRecord(text, position, delimiter, &fields, &position);
    if (header_pending) {
      if (!parsed.ok()) {
        return Status::Validation("the CSV header (line " + std::to_string(line) +
                                  ") is not one: " + parsed.message());
      }
      TW_RETURN_IF_ERROR(CheckHeader(fields));
      header = std::move(fields);
      header_pending = false;
      continue;
    }
    if (!parsed.ok()) {
      TW_RETURN_IF_ERROR(sink.BadRow(line, parsed.message()));
      continue;
    }
    TW_RETURN_IF_ERROR(sink.Deliver(CsvItem(header, fields, options.key_types), line));
  }
  return Status::Ok();
}

// ---- The object ----

// An object that is not text at all: compressed data (its magic number, never UTF-8 text,
// at the start) or one whose first character is not UTF-8.
Status CheckIsText(std::string_view text) {
  if (text.starts_with(kGzipMagic)) {
    return Status::Validation("the object is gzip data, not text: is InputCompressionType GZIP?");
  }
  if (text.starts_with(kZstdMagic)) {
    return Status::Validation("the object is zstd data, not text: is InputCompressionType ZSTD?");
  }
  if (!text.empty() && Utf8SequenceLength(text, 0) == 0) {
    return Status::Validation("the object is not UTF-8 text");
  }
  return Status::Ok();
}

Status ReadText(std::string_view text, const ImportFormatOptions& options, RecordSink& sink) {
  switch (options.format) {
    case ImportFormat::kDynamoDbJson:
      return ReadDynamoDbJson(text, sink);
    case ImportFormat::kIon:
      return ReadIon(text, sink);
    case ImportFormat::kCsv:
      return ReadCsv(text, options, sink);
  }
  return Status::Internal("import: unknown input format");
}

}  // namespace

Status ReadImportObject(std::string_view object_key, std::string_view data,
                        const ImportFormatOptions& options, const ItemCallback& item,
                        const BadRowCallback& bad_row) {
  if (!item || !bad_row) return Status::Internal("import: ReadImportObject needs both callbacks");
  std::string decompressed;
  std::string_view text = data;
  if (!data.empty() && options.compression != ImportCompression::kNone) {
    Result<std::string> inflated =
        options.compression == ImportCompression::kGzip ? Gunzip(data) : Unzstd(data);
    if (!inflated.ok()) return ObjectError(object_key, inflated.status());
    decompressed = std::move(*inflated);
    text = decompressed;
  }
  if (Status is_text = CheckIsText(text); !is_text.ok()) return ObjectError(object_key, is_text);
  if (text.starts_with(kUtf8ByteOrderMark)) text.remove_prefix(kUtf8ByteOrderMark.size());
  RecordSink sink(object_key, item, bad_row);
  Status status = ReadText(text, options, sink);
  // The reader's own failures name the object; the callbacks' errors are passed on as is.
  if (!status.ok() && !sink.callback_failed()) return ObjectError(object_key, status);
  return status;
}

}  // namespace tidewater
