#include "tidewater/streams/filter_pattern.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <variant>

namespace tidewater::streams {
namespace {

constexpr size_t kMaxPatternDepth = 32;

std::string ToLowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::string_view StringOf(const rapidjson::Value& value) {
  return std::string_view(value.GetString(), value.GetStringLength());
}

// The numeric value of a JSON number, or of a string that is a complete decimal number
// (DynamoDB JSON carries numbers as text).
bool NumericValue(const rapidjson::Value& value, double* out) {
  if (value.IsNumber()) {
    *out = value.GetDouble();
    return true;
  }
  if (!value.IsString() || value.GetStringLength() == 0) return false;
  std::string text(StringOf(value));
  char* end = nullptr;
  errno = 0;
  double parsed = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(parsed)) {
    return false;
  }
  for (char c : text) {  // strtod also reads hex, "inf", "nan": only decimals count
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
      return false;
    }
  }
  *out = parsed;
  return true;
}

enum class Op { kEq, kLt, kLe, kGt, kGe };

bool Compare(double value, Op op, double operand) {
  switch (op) {
    case Op::kEq:
      return value == operand;
    case Op::kLt:
      return value < operand;
    case Op::kLe:
      return value <= operand;
    case Op::kGt:
      return value > operand;
    case Op::kGe:
      return value >= operand;
  }
  return false;
}

// One literal of an exact or anything-but list.
using Literal = std::variant<std::monostate /* null */, bool, double, std::string>;

bool LiteralMatches(const Literal& literal, const rapidjson::Value& value) {
  if (std::holds_alternative<std::monostate>(literal)) return value.IsNull();
  if (const bool* b = std::get_if<bool>(&literal)) return value.IsBool() && value.GetBool() == *b;
  if (const double* n = std::get_if<double>(&literal)) {
    return value.IsNumber() && value.GetDouble() == *n;
  }
  return value.IsString() && StringOf(value) == std::get<std::string>(literal);
}

struct Matcher {
  enum class Kind {
    kLiteral,
    kPrefix,
    kSuffix,
    kEqualsIgnoreCase,
    kNumeric,
    kExists,
    kAnythingBut,  // literals
    kAnythingButPrefix,
    kAnythingButSuffix,
    kAnythingButIgnoreCase,  // texts (lower case)
  };
  Kind kind = Kind::kLiteral;
  std::vector<Literal> literals;   // kLiteral (one), kAnythingBut
  std::vector<std::string> texts;  // the operand(s) of string matchers
  bool ignore_case = false;        // kPrefix, kSuffix
  std::vector<std::pair<Op, double>> comparisons;
  bool exists = true;

  // Whether `value` (present) matches. Arrays are handled by the caller.
  bool MatchesValue(const rapidjson::Value& value) const {
    switch (kind) {
      case Kind::kLiteral:
        return LiteralMatches(literals.front(), value);
      case Kind::kPrefix:
      case Kind::kSuffix: {
        if (!value.IsString()) return false;
        std::string text =
            ignore_case ? ToLowerAscii(StringOf(value)) : std::string(StringOf(value));
        return kind == Kind::kPrefix ? std::string_view(text).starts_with(texts.front())
                                     : std::string_view(text).ends_with(texts.front());
      }
      case Kind::kEqualsIgnoreCase:
        return value.IsString() && ToLowerAscii(StringOf(value)) == texts.front();
      case Kind::kNumeric: {
        double number = 0;
        if (!NumericValue(value, &number)) return false;
        for (const auto& [op, operand] : comparisons) {
          if (!Compare(number, op, operand)) return false;
        }
        return true;
      }
      case Kind::kExists:
        return exists;
      case Kind::kAnythingBut:
        for (const Literal& literal : literals) {
          if (LiteralMatches(literal, value)) return false;
        }
        return value.IsString() || value.IsNumber();
      case Kind::kAnythingButPrefix:
        return value.IsString() && !StringOf(value).starts_with(texts.front());
      case Kind::kAnythingButSuffix:
        return value.IsString() && !StringOf(value).ends_with(texts.front());
      case Kind::kAnythingButIgnoreCase: {
        if (!value.IsString()) return false;
        std::string lower = ToLowerAscii(StringOf(value));
        for (const std::string& text : texts) {
          if (lower == text) return false;
        }
        return true;
      }
    }
    return false;
  }

  // Whether the field `value` (nullptr: absent) matches.
  bool Matches(const rapidjson::Value* value) const {
    if (kind == Kind::kExists) return (value != nullptr) == exists;
    if (value == nullptr) return false;
    if (value->IsArray()) {
      for (const auto& element : value->GetArray()) {
        if (MatchesValue(element)) return true;
      }
      return false;
    }
    return MatchesValue(*value);
  }
};

Status Invalid(const std::string& path, const std::string& what) {
  return Status::Validation("Invalid filter pattern: " + what +
                            (path.empty() ? std::string() : " at " + path));
}

Result<std::string> StringOperand(const rapidjson::Value& operand, const std::string& path,
                                  const char* name) {
  if (!operand.IsString()) return Invalid(path, std::string(name) + " takes a string");
  return std::string(StringOf(operand));
}

Result<Literal> ParseLiteral(const rapidjson::Value& value, const std::string& path) {
  if (value.IsNull()) return Literal{};
  if (value.IsBool()) return Literal{value.GetBool()};
  if (value.IsNumber()) return Literal{value.GetDouble()};
  if (value.IsString()) return Literal{std::string(StringOf(value))};
  return Invalid(path, "a matcher must be a string, number, boolean, null or an operator object");
}

Result<Op> ParseOp(const rapidjson::Value& value, const std::string& path) {
  if (value.IsString()) {
    std::string_view op = StringOf(value);
    if (op == "=") return Op::kEq;
    if (op == "<") return Op::kLt;
    if (op == "<=") return Op::kLe;
    if (op == ">") return Op::kGt;
    if (op == ">=") return Op::kGe;
  }
  return Invalid(path, "numeric operators are =, <, <=, >, >=");
}

Result<std::vector<std::pair<Op, double>>> ParseNumeric(const rapidjson::Value& operand,
                                                        const std::string& path) {
  if (!operand.IsArray() || (operand.Size() != 2 && operand.Size() != 4)) {
    return Invalid(path, "numeric takes [op, number] or [op, number, op, number]");
  }
  std::vector<std::pair<Op, double>> comparisons;
  for (rapidjson::SizeType i = 0; i < operand.Size(); i += 2) {
    TW_ASSIGN_OR_RETURN(Op op, ParseOp(operand[i], path));
    if (!operand[i + 1].IsNumber()) return Invalid(path, "numeric operands must be numbers");
    comparisons.emplace_back(op, operand[i + 1].GetDouble());
  }
  if (comparisons.size() == 2) {
    bool lower = comparisons[0].first == Op::kGt || comparisons[0].first == Op::kGe;
    bool upper = comparisons[1].first == Op::kLt || comparisons[1].first == Op::kLe;
    if (!lower || !upper) {
      return Invalid(path, "a numeric range is a lower bound (>, >=) then an upper bound (<, <=)");
    }
    if (comparisons[0].second > comparisons[1].second) {
      return Invalid(path, "the numeric range's lower bound exceeds its upper bound");
    }
  }
  return comparisons;
}

// {"prefix": "x"} or {"prefix": {"equals-ignore-case": "x"}}; the same for suffix.
Status ParseAffix(const rapidjson::Value& operand, const std::string& path, const char* name,
                  Matcher* matcher) {
  if (operand.IsObject() && operand.MemberCount() == 1 && operand.HasMember("equals-ignore-case")) {
    TW_ASSIGN_OR_RETURN(std::string text,
                        StringOperand(operand["equals-ignore-case"], path, "equals-ignore-case"));
    matcher->texts.push_back(ToLowerAscii(text));
    matcher->ignore_case = true;
    return Status::Ok();
  }
  TW_ASSIGN_OR_RETURN(std::string text, StringOperand(operand, path, name));
  matcher->texts.push_back(std::move(text));
  return Status::Ok();
}

Result<Matcher> ParseAnythingBut(const rapidjson::Value& operand, const std::string& path) {
  Matcher matcher;
  if (operand.IsObject()) {
    if (operand.MemberCount() != 1) {
      return Invalid(path, "anything-but takes one of prefix, suffix, equals-ignore-case");
    }
    const auto& member = *operand.MemberBegin();
    std::string_view name = StringOf(member.name);
    if (name == "prefix" || name == "suffix") {
      matcher.kind =
          name == "prefix" ? Matcher::Kind::kAnythingButPrefix : Matcher::Kind::kAnythingButSuffix;
      TW_ASSIGN_OR_RETURN(std::string text, StringOperand(member.value, path, "anything-but"));
      matcher.texts.push_back(std::move(text));
      return matcher;
    }
    if (name == "equals-ignore-case") {
      matcher.kind = Matcher::Kind::kAnythingButIgnoreCase;
      if (member.value.IsArray()) {
        if (member.value.Empty()) return Invalid(path, "anything-but needs at least one value");
        for (const auto& text : member.value.GetArray()) {
          TW_ASSIGN_OR_RETURN(std::string s, StringOperand(text, path, "equals-ignore-case"));
          matcher.texts.push_back(ToLowerAscii(s));
        }
      } else {
        TW_ASSIGN_OR_RETURN(std::string s, StringOperand(member.value, path, "equals-ignore-case"));
        matcher.texts.push_back(ToLowerAscii(s));
      }
      return matcher;
    }
    return Invalid(path, "anything-but takes one of prefix, suffix, equals-ignore-case");
  }
  matcher.kind = Matcher::Kind::kAnythingBut;
  auto add = [&](const rapidjson::Value& value) -> Status {
    if (!value.IsString() && !value.IsNumber()) {
      return Invalid(path, "anything-but values must be strings or numbers");
    }
    TW_ASSIGN_OR_RETURN(Literal literal, ParseLiteral(value, path));
    matcher.literals.push_back(std::move(literal));
    return Status::Ok();
  };
  if (operand.IsArray()) {
    if (operand.Empty()) return Invalid(path, "anything-but needs at least one value");
    for (const auto& value : operand.GetArray()) TW_RETURN_IF_ERROR(add(value));
  } else {
    TW_RETURN_IF_ERROR(add(operand));
  }
  return matcher;
}

Result<Matcher> ParseMatcher(const rapidjson::Value& value, const std::string& path) {
  Matcher matcher;
  if (!value.IsObject()) {
    TW_ASSIGN_OR_RETURN(Literal literal, ParseLiteral(value, path));
    matcher.literals.push_back(std::move(literal));
    return matcher;
  }
  if (value.MemberCount() != 1) return Invalid(path, "an operator object has exactly one key");
  const auto& member = *value.MemberBegin();
  std::string_view name = StringOf(member.name);
  const rapidjson::Value& operand = member.value;
  if (name == "prefix" || name == "suffix") {
    matcher.kind = name == "prefix" ? Matcher::Kind::kPrefix : Matcher::Kind::kSuffix;
    TW_RETURN_IF_ERROR(ParseAffix(operand, path, name == "prefix" ? "prefix" : "suffix", &matcher));
    return matcher;
  }
  if (name == "equals-ignore-case") {
    matcher.kind = Matcher::Kind::kEqualsIgnoreCase;
    TW_ASSIGN_OR_RETURN(std::string text, StringOperand(operand, path, "equals-ignore-case"));
    matcher.texts.push_back(ToLowerAscii(text));
    return matcher;
  }
  if (name == "numeric") {
    matcher.kind = Matcher::Kind::kNumeric;
    TW_ASSIGN_OR_RETURN(matcher.comparisons, ParseNumeric(operand, path));
    return matcher;
  }
  if (name == "exists") {
    if (!operand.IsBool()) return Invalid(path, "exists takes true or false");
    matcher.kind = Matcher::Kind::kExists;
    matcher.exists = operand.GetBool();
    return matcher;
  }
  if (name == "anything-but") return ParseAnythingBut(operand, path);
  return Invalid(path, "unknown operator \"" + std::string(name) + "\"");
}

}  // namespace

// An object node (named children) or a leaf (matchers, OR).
struct FilterPattern::Node {
  std::vector<std::string> names;  // of the children, in the same order
  std::vector<Node> children;
  std::vector<Matcher> matchers;
  bool leaf = false;

  // `value` is the record's field at this node, nullptr when absent.
  bool Matches(const rapidjson::Value* value) const {
    if (leaf) {
      for (const Matcher& matcher : matchers) {
        if (matcher.Matches(value)) return true;
      }
      return false;
    }
    const bool is_object = value != nullptr && value->IsObject();
    if (value != nullptr && !is_object) return false;
    for (size_t i = 0; i < children.size(); ++i) {
      const std::string& name = names[i];
      const Node& child = children[i];
      const rapidjson::Value* field = nullptr;
      if (is_object) {
        auto it = value->FindMember(rapidjson::StringRef(name.data(), name.size()));
        if (it != value->MemberEnd()) field = &it->value;
      }
      if (!child.Matches(field)) return false;
    }
    return true;
  }
};

namespace {

Status ParseNode(const rapidjson::Value& json, const std::string& path, size_t depth,
                 FilterPattern::Node* node) {
  if (depth > kMaxPatternDepth) return Invalid(path, "the pattern nests too deeply");
  if (json.IsArray()) {
    if (json.Empty()) return Invalid(path, "a matcher list must not be empty");
    node->leaf = true;
    for (const auto& element : json.GetArray()) {
      TW_ASSIGN_OR_RETURN(Matcher matcher, ParseMatcher(element, path));
      node->matchers.push_back(std::move(matcher));
    }
    return Status::Ok();
  }
  if (!json.IsObject()) return Invalid(path, "a field's pattern must be an object or an array");
  if (json.ObjectEmpty()) return Invalid(path, "an object pattern must not be empty");
  for (const auto& member : json.GetObject()) {
    std::string name(StringOf(member.name));
    FilterPattern::Node child;
    TW_RETURN_IF_ERROR(
        ParseNode(member.value, path.empty() ? name : path + "." + name, depth + 1, &child));
    node->names.push_back(std::move(name));
    node->children.push_back(std::move(child));
  }
  return Status::Ok();
}

}  // namespace

Result<FilterPattern> FilterPattern::Parse(std::string_view pattern_json) {
  rapidjson::Document document;
  document.Parse(pattern_json.data(), pattern_json.size());
  if (document.HasParseError()) return Invalid("", "not valid JSON");
  if (!document.IsObject()) return Invalid("", "a pattern must be a JSON object");
  auto root = std::make_shared<Node>();
  TW_RETURN_IF_ERROR(ParseNode(document, "", 0, root.get()));
  return FilterPattern(std::move(root));
}

bool FilterPattern::Matches(const rapidjson::Value& record) const {
  return root_->Matches(&record);
}

Result<FilterCriteria> FilterCriteria::Parse(const std::vector<std::string>& patterns) {
  FilterCriteria criteria;
  for (const std::string& text : patterns) {
    TW_ASSIGN_OR_RETURN(FilterPattern pattern, FilterPattern::Parse(text));
    criteria.patterns_.push_back(std::move(pattern));
  }
  return criteria;
}

bool FilterCriteria::Matches(const rapidjson::Value& record) const {
  if (patterns_.empty()) return true;
  for (const FilterPattern& pattern : patterns_) {
    if (pattern.Matches(record)) return true;
  }
  return false;
}

}  // namespace tidewater::streams
