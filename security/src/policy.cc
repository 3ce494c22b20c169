// Policy documents: the parser (JSON to statements whose patterns, numbers, times and
// address ranges are checked and converted once), the matchers, and the evaluator.
// The grammar and the semantics are written down in policy.h.
#include "tidewater/security/policy.h"

#include <arpa/inet.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>
#include <variant>

#include "ascii_text.h"
#include "tidewater/core/utf8.h"

namespace tidewater::security {
namespace {

constexpr std::string_view kVersion2012 = "2012-10-17";
constexpr std::string_view kVersion2008 = "2008-10-17";
constexpr std::string_view kNeedsVendor =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

// The bytes of the character at text[i]: its UTF-8 sequence, or one byte when the text is
// not UTF-8 there.
size_t CharacterLength(std::string_view text, size_t i) {
  return std::max<size_t>(1, Utf8SequenceLength(text, i));
}

// `text` for an error message: quoted, at most 80 bytes, bytes outside printable ASCII as
// '?' (the text may be anything the client sent).
std::string Quoted(std::string_view text) {
  constexpr size_t kShown = 80;
  std::string out = "\"";
  for (char c : text.substr(0, kShown)) out += c >= ' ' && c < 0x7F ? c : '?';
  return out + (text.size() > kShown ? "...\"" : "\"");
}

std::string_view View(const rapidjson::Value& value) {
  return {value.GetString(), value.GetStringLength()};
}

// ---------------------------------------------------------------------------------------
// Wildcard patterns.

// One element of a pattern: a character, '*' (any run of characters, also none) or '?'
// (exactly one character).
struct GlobToken {
  enum class Kind : uint8_t { kCharacter, kAnyRun, kAnyOne };
  Kind kind;
  char character;  // for kCharacter
};
using Glob = std::vector<GlobToken>;

void AppendText(std::string_view text, Glob& glob) {
  for (char c : text) glob.push_back({GlobToken::Kind::kCharacter, c});
}

bool SameCharacter(char a, char b, bool ignore_case) {
  return ignore_case ? AsciiLower(a) == AsciiLower(b) : a == b;
}

// Whether `glob` matches all of `text`. Greedy with backtracking to the last '*': at most
// |glob| * |text| steps, no recursion.
bool GlobMatches(std::span<const GlobToken> glob, std::string_view text, bool ignore_case) {
  size_t g = 0;
  size_t t = 0;
  std::optional<size_t> last_star;
  size_t text_after_star = 0;  // where the text resumes when the last '*' takes one more
  while (t < text.size()) {
    if (g < glob.size()) {
      const GlobToken& token = glob[g];
      if (token.kind == GlobToken::Kind::kAnyRun) {
        last_star = g++;
        text_after_star = t;
        continue;
      }
      if (token.kind == GlobToken::Kind::kAnyOne) {
        ++g;
        t += CharacterLength(text, t);
        continue;
      }
      if (SameCharacter(token.character, text[t], ignore_case)) {
        ++g;
        ++t;
        continue;
      }
    }
    if (!last_star) return false;
    g = *last_star + 1;
    text_after_star += CharacterLength(text, text_after_star);
    t = text_after_star;
  }
  while (g < glob.size() && glob[g].kind == GlobToken::Kind::kAnyRun) ++g;
  return g == glob.size();
}

// Whether a glob without wildcards spells `text`.
bool GlobEqualsText(const Glob& glob, std::string_view text, bool ignore_case) {
  if (glob.size() != text.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (glob[i].kind != GlobToken::Kind::kCharacter ||
        !SameCharacter(glob[i].character, text[i], ignore_case)) {
      return false;
    }
  }
  return true;
}

// ARN matching (ArnEquals, ArnLike and their negations): the first five ':' split both into
// six parts, matched one by one, so that a wildcard never spans a ':' before the resource.
bool ArnMatches(const Glob& glob, std::string_view arn) {
  constexpr int kParts = 6;
  std::array<std::span<const GlobToken>, kParts> glob_parts;
  std::array<std::string_view, kParts> arn_parts;
  size_t glob_start = 0;
  size_t arn_start = 0;
  for (int part = 0; part < kParts - 1; ++part) {
    size_t glob_colon = glob_start;
    while (glob_colon < glob.size() && !(glob[glob_colon].kind == GlobToken::Kind::kCharacter &&
                                         glob[glob_colon].character == ':')) {
      ++glob_colon;
    }
    const size_t arn_colon = arn.find(':', arn_start);
    if (glob_colon == glob.size() || arn_colon == std::string_view::npos) return false;
    glob_parts[part] = std::span(glob).subspan(glob_start, glob_colon - glob_start);
    arn_parts[part] = arn.substr(arn_start, arn_colon - arn_start);
    glob_start = glob_colon + 1;
    arn_start = arn_colon + 1;
  }
  glob_parts[kParts - 1] = std::span(glob).subspan(glob_start);
  arn_parts[kParts - 1] = arn.substr(arn_start);
  for (int part = 0; part < kParts; ++part) {
    if (!GlobMatches(glob_parts[part], arn_parts[part], /*ignore_case=*/false)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Patterns with policy variables.

// ${key} or ${key, 'fallback'}.
struct Variable {
  std::string key;
  std::optional<std::string> fallback;
};

// A value from the policy: runs of glob tokens and variables, resolved per request.
struct Pattern {
  std::vector<std::variant<Glob, Variable>> pieces;
};

bool IsVendor(std::string_view vendor) {
  return !vendor.empty() && std::all_of(vendor.begin(), vendor.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// "<vendor>:<name>" with a name of printable ASCII characters other than space and the
// characters of the variable syntax.
bool IsConditionKey(std::string_view key) {
  const size_t colon = key.find(':');
  if (colon == std::string_view::npos || !IsVendor(key.substr(0, colon))) return false;
  const std::string_view name = key.substr(colon + 1);
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return c > ' ' && c < 0x7F && c != '$' && c != '{' && c != '}' && c != ',' && c != '\'';
  });
}

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// The inside of "${...}" (not one of the escapes).
Result<Variable> ParseVariable(std::string_view inside) {
  const size_t comma = inside.find(',');
  Variable variable;
  variable.key = std::string(Trimmed(inside.substr(0, comma)));
  if (!IsConditionKey(variable.key)) {
    return Status::Validation("policy variable ${" + std::string(inside) +
                              "} does not name a condition key (<vendor>:<name>)");
  }
  if (comma != std::string_view::npos) {
    const std::string_view fallback = Trimmed(inside.substr(comma + 1));
    if (fallback.size() < 2 || fallback.front() != '\'' || fallback.back() != '\'' ||
        fallback.substr(1, fallback.size() - 2).find('\'') != std::string_view::npos) {
      return Status::Validation("policy variable ${" + std::string(inside) +
                                "}: the default value must be one 'quoted' text");
    }
    variable.fallback = std::string(fallback.substr(1, fallback.size() - 2));
  }
  return variable;
}

// `text` as a pattern: with `wildcards`, '*' and '?' are wildcards (else characters); with
// `variables`, "${...}" is a variable or one of the escapes ${*}, ${?}, ${$}.
Result<Pattern> ParsePattern(std::string_view text, bool wildcards, bool variables) {
  Pattern pattern;
  const auto append = [&pattern](GlobToken token) {
    if (pattern.pieces.empty() || !std::holds_alternative<Glob>(pattern.pieces.back())) {
      pattern.pieces.emplace_back(Glob{});
    }
    std::get<Glob>(pattern.pieces.back()).push_back(token);
  };
  for (size_t i = 0; i < text.size();) {
    if (variables && text.substr(i).starts_with("${")) {
      const size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        return Status::Validation("policy variable " + Quoted(text.substr(i)) +
                                  " is not closed with '}'");
      }
      const std::string_view inside = text.substr(i + 2, close - i - 2);
      if (inside == "*" || inside == "?" || inside == "$") {
        append({GlobToken::Kind::kCharacter, inside[0]});
      } else {
        Result<Variable> variable = ParseVariable(inside);
        if (!variable.ok()) return variable.status();
        pattern.pieces.emplace_back(std::move(variable).value());
      }
      i = close + 1;
      continue;
    }
    const char c = text[i++];
    if (wildcards && c == '*') {
      append({GlobToken::Kind::kAnyRun, 0});
    } else if (wildcards && c == '?') {
      append({GlobToken::Kind::kAnyOne, 0});
    } else {
      append({GlobToken::Kind::kCharacter, c});
    }
  }
  return pattern;
}

// The request as the evaluator reads it: its condition keys, with aws:username from the
// principal.
class RequestKeys {
 public:
  explicit RequestKeys(const AuthorizationRequest& request) : request_(request) {
    if (!request.principal.empty()) username_.push_back(request.principal);
  }

  const AuthorizationRequest& request() const { return request_; }

  // The values of `key`, nullptr when the request does not have it.
  const std::vector<std::string>* Find(std::string_view key) const {
    if (EqualsIgnoringCase(key, condition_keys::kUsername)) {
      return username_.empty() ? nullptr : &username_;
    }
    return request_.context.Find(key);
  }

 private:
  const AuthorizationRequest& request_;
  std::vector<std::string> username_;
};

// `pattern` with its variables replaced by the request's values (never wildcards), or
// nullopt when a variable has no single value and no fallback.
std::optional<Glob> Resolve(const Pattern& pattern, const RequestKeys& keys) {
  Glob glob;
  for (const auto& piece : pattern.pieces) {
    if (const Glob* tokens = std::get_if<Glob>(&piece)) {
      glob.insert(glob.end(), tokens->begin(), tokens->end());
      continue;
    }
    const Variable& variable = std::get<Variable>(piece);
    const std::vector<std::string>* values = keys.Find(variable.key);
    if (values != nullptr && values->size() == 1) {
      AppendText(values->front(), glob);
    } else if (variable.fallback) {
      AppendText(*variable.fallback, glob);
    } else {
      return std::nullopt;
    }
  }
  return glob;
}

// ---------------------------------------------------------------------------------------
// Typed condition values.

// A decimal number: -?digits(.digits)?([eE][+-]?digits)?, finite.
std::optional<double> ParseNumber(std::string_view text) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i > start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  if (!digits()) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits()) return std::nullopt;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digits()) return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// A time as microseconds since the epoch: epoch seconds (1 to 12 digits), or ISO 8601
// "YYYY-MM-DD", optionally followed by "THH:MM", ":SS", a fraction of 1 to 9 digits, and
// "Z" or an offset "+hh:mm" / "-hh:mm" (no offset: UTC).
std::optional<int64_t> ParseTime(std::string_view text) {
  using namespace std::chrono;
  constexpr int64_t kMicrosPerSecond = 1'000'000;
  if (!text.empty() && text.size() <= 12 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    for (char c : text) seconds = seconds * 10 + (c - '0');
    return seconds * kMicrosPerSecond;
  }
  const auto y = Digits(text, 0, 4), mo = Digits(text, 5, 2), d = Digits(text, 8, 2);
  if (!y || !mo || !d || text[4] != '-' || text[7] != '-') return std::nullopt;
  const year_month_day date{year(*y), month(static_cast<unsigned>(*mo)),
                            day(static_cast<unsigned>(*d))};
  if (!date.ok()) return std::nullopt;
  int64_t micros = duration_cast<microseconds>(sys_days(date).time_since_epoch()).count();
  size_t i = 10;
  if (i == text.size()) return micros;
  if (text[i] != 'T') return std::nullopt;
  const auto h = Digits(text, i + 1, 2), mi = Digits(text, i + 4, 2);
  if (!h || !mi || text[i + 3] != ':' || *h > 23 || *mi > 59) return std::nullopt;
  micros += (*h * 3600LL + *mi * 60LL) * kMicrosPerSecond;
  i += 6;
  if (i < text.size() && text[i] == ':') {
    const auto s = Digits(text, i + 1, 2);
    if (!s || *s > 59) return std::nullopt;
    micros += *s * kMicrosPerSecond;
    i += 3;
    if (i < text.size() && text[i] == '.') {
      ++i;
      int64_t scale = kMicrosPerSecond / 10;
      const size_t start = i;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 9) {
        micros += (text[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
      if (i == start) return std::nullopt;
    }
  }
  if (i == text.size()) return micros;
  if (text.substr(i) == "Z") return micros;
  if (text[i] != '+' && text[i] != '-') return std::nullopt;
  const auto offset_h = Digits(text, i + 1, 2), offset_m = Digits(text, i + 4, 2);
  if (!offset_h || !offset_m || text.size() != i + 6 || text[i + 3] != ':' || *offset_h > 23 ||
      *offset_m > 59) {
    return std::nullopt;
  }
  const int64_t offset = (*offset_h * 3600LL + *offset_m * 60LL) * kMicrosPerSecond;
  return text[i] == '+' ? micros - offset : micros + offset;
}

// "true" or "false", in any case.
std::optional<bool> ParseBool(std::string_view text) {
  if (EqualsIgnoringCase(text, "true")) return true;
  if (EqualsIgnoringCase(text, "false")) return false;
  return std::nullopt;
}

// An IPv4 or IPv6 address with the number of leading bits that must match.
struct IpRange {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};
  int prefix_bits = 0;
};

// "192.0.2.0/24", "2001:db8::/32", or one address (all of its bits).
std::optional<IpRange> ParseIpRange(std::string_view text, bool allow_prefix) {
  const size_t slash = text.find('/');
  if (slash != std::string_view::npos && !allow_prefix) return std::nullopt;
  const std::string address(text.substr(0, slash));
  IpRange range;
  if (inet_pton(AF_INET, address.c_str(), range.bytes.data()) == 1) {
    range.prefix_bits = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), range.bytes.data()) == 1) {
    range.v6 = true;
    range.prefix_bits = 128;
  } else {
    return std::nullopt;
  }
  if (slash != std::string_view::npos) {
    const std::string_view bits = text.substr(slash + 1);
    int prefix = 0;
    const auto [end, error] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
    if (bits.empty() || error != std::errc() || end != bits.data() + bits.size() || prefix < 0 ||
        prefix > range.prefix_bits) {
      return std::nullopt;
    }
    range.prefix_bits = prefix;
  }
  return range;
}

bool InRange(const IpRange& range, const IpRange& address) {
  if (range.v6 != address.v6) return false;
  const int whole_bytes = range.prefix_bits / 8;
  if (!std::equal(range.bytes.begin(), range.bytes.begin() + whole_bytes, address.bytes.begin())) {
    return false;
  }
  const int rest = range.prefix_bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (range.bytes[whole_bytes] & mask) == (address.bytes[whole_bytes] & mask);
}

// ---------------------------------------------------------------------------------------
// Condition operators.

enum class Family { kString, kNumeric, kDate, kBool, kIp, kArn, kNull };
enum class Comparison {
  kEquals,
  kEqualsIgnoringCase,
  kLike,
  kLess,
  kLessOrEqual,
  kGreater,
  kGreaterOrEqual
};

struct OperatorInfo {
  std::string_view name;
  Family family;
  Comparison comparison;
  bool negated;  // a request value satisfies it when it matches none of the policy's values
};

constexpr OperatorInfo kOperators[] = {
    {"StringEquals", Family::kString, Comparison::kEquals, false},
    {"StringNotEquals", Family::kString, Comparison::kEquals, true},
    {"StringEqualsIgnoreCase", Family::kString, Comparison::kEqualsIgnoringCase, false},
    {"StringNotEqualsIgnoreCase", Family::kString, Comparison::kEqualsIgnoringCase, true},
    {"StringLike", Family::kString, Comparison::kLike, false},
    {"StringNotLike", Family::kString, Comparison::kLike, true},
    {"NumericEquals", Family::kNumeric, Comparison::kEquals, false},
    {"NumericNotEquals", Family::kNumeric, Comparison::kEquals, true},
    {"NumericLessThan", Family::kNumeric, Comparison::kLess, false},
    {"NumericLessThanEquals", Family::kNumeric, Comparison::kLessOrEqual, false},
    {"NumericGreaterThan", Family::kNumeric, Comparison::kGreater, false},
    {"NumericGreaterThanEquals", Family::kNumeric, Comparison::kGreaterOrEqual, false},
    {"DateEquals", Family::kDate, Comparison::kEquals, false},
    {"DateNotEquals", Family::kDate, Comparison::kEquals, true},
    {"DateLessThan", Family::kDate, Comparison::kLess, false},
    {"DateLessThanEquals", Family::kDate, Comparison::kLessOrEqual, false},
    {"DateGreaterThan", Family::kDate, Comparison::kGreater, false},
    {"DateGreaterThanEquals", Family::kDate, Comparison::kGreaterOrEqual, false},
    {"Bool", Family::kBool, Comparison::kEquals, false},
    {"IpAddress", Family::kIp, Comparison::kEquals, false},
    {"NotIpAddress", Family::kIp, Comparison::kEquals, true},
    {"ArnEquals", Family::kArn, Comparison::kLike, false},
    {"ArnLike", Family::kArn, Comparison::kLike, false},
    {"ArnNotEquals", Family::kArn, Comparison::kLike, true},
    {"ArnNotLike", Family::kArn, Comparison::kLike, true},
    {"Null", Family::kNull, Comparison::kEquals, false},
};

enum class SetOperator { kNone, kForAllValues, kForAnyValue };

template <typename T>
bool Compare(Comparison comparison, const T& request_value, const T& policy_value) {
  switch (comparison) {
    case Comparison::kLess:
      return request_value < policy_value;
    case Comparison::kLessOrEqual:
      return request_value <= policy_value;
    case Comparison::kGreater:
      return request_value > policy_value;
    case Comparison::kGreaterOrEqual:
      return request_value >= policy_value;
    default:
      return request_value == policy_value;
  }
}

// One operator applied to one key.
struct Condition {
  const OperatorInfo* op = nullptr;  // an element of kOperators
  SetOperator set_operator = SetOperator::kNone;
  bool if_exists = false;
  std::string key;  // as written; looked up ignoring case
  // The policy's values in the form the operator compares: patterns (String, Arn), numbers
  // (Numeric), microseconds since the epoch (Date), booleans (Bool, Null), ranges (Ip).
  std::variant<std::vector<Pattern>, std::vector<double>, std::vector<int64_t>, std::vector<bool>,
               std::vector<IpRange>>
      values;
};

struct Statement {
  std::string sid;
  bool deny = false;
  bool not_action = false;
  std::vector<Glob> actions;
  bool not_resource = false;
  std::vector<Pattern> resources;
  std::vector<Condition> conditions;
};

}  // namespace

struct Policy::Parsed {
  std::string document;
  std::vector<Statement> statements;
};

struct PolicyAccess {
  static Policy Make(std::shared_ptr<const Policy::Parsed> parsed) {
    return Policy(std::move(parsed));
  }
  static const Policy::Parsed& Of(const Policy& policy) { return *policy.parsed_; }
};

const std::string& Policy::document() const { return parsed_->document; }
size_t Policy::statement_count() const { return parsed_->statements.size(); }

namespace {

// ---------------------------------------------------------------------------------------
// The parser.

Status Malformed(std::string_view where, std::string_view problem) {
  std::string message = "Malformed policy document: ";
  if (!where.empty()) message.append(where).append(": ");
  return Status::Validation(message.append(problem));
}

// Every member name of `object` is valid UTF-8 and given once; with `known`, one of those.
Status CheckMembers(const rapidjson::Value& object, std::span<const std::string_view> known,
                    std::string_view where) {
  std::vector<std::string_view> names;
  names.reserve(object.MemberCount());
  for (auto member = object.MemberBegin(); member != object.MemberEnd(); ++member) {
    const std::string_view name = View(member->name);
    if (!IsValidUtf8(name)) return Malformed(where, "a member name is not valid UTF-8");
    if (!known.empty() && std::find(known.begin(), known.end(), name) == known.end()) {
      return Malformed(where, "unknown element " + Quoted(name));
    }
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  const auto repeated = std::adjacent_find(names.begin(), names.end());
  if (repeated != names.end()) return Malformed(where, Quoted(*repeated) + " is given twice");
  return Status::Ok();
}

// A string, or a non-empty array of strings (Action, Resource and their negations).
Result<std::vector<std::string_view>> StringList(const rapidjson::Value& value,
                                                 std::string_view element, std::string_view where) {
  const std::string problem =
      std::string(element) + " must be a string or a non-empty array of strings";
  std::vector<std::string_view> out;
  if (value.IsString()) {
    out.push_back(View(value));
  } else if (value.IsArray() && !value.Empty()) {
    for (const rapidjson::Value& element_value : value.GetArray()) {
      if (!element_value.IsString()) return Malformed(where, problem);
      out.push_back(View(element_value));
    }
  } else {
    return Malformed(where, problem);
  }
  for (std::string_view text : out) {
    if (!IsValidUtf8(text)) return Malformed(where, std::string(element) + ": not valid UTF-8");
  }
  return out;
}

// The text of a condition value: a string, a number as JSON writes it, or true/false.
// nullopt for a number whose text does not read back as the same number (RapidJSON's
// parser is not exact for every input, e.g. 999999919980201.2999999999999992): the compact
// document, which holds that text, would parse to another policy. Such a number can be
// given as a string.
std::optional<std::string> ScalarText(const rapidjson::Value& value) {
  if (value.IsString()) return std::string(View(value));
  if (value.IsBool()) return value.GetBool() ? "true" : "false";
  if (value.IsNumber()) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    if (value.IsDouble()) {
      rapidjson::Document again;
      again.Parse(buffer.GetString(), buffer.GetSize());
      if (again.HasParseError() || !again.IsNumber() || again.GetDouble() != value.GetDouble()) {
        return std::nullopt;
      }
    }
    return std::string(buffer.GetString(), buffer.GetSize());
  }
  return std::nullopt;
}

class PolicyParser {
 public:
  Result<Policy> Parse(const rapidjson::Value& document) {
    if (!document.IsObject()) return Malformed("", "the document must be a JSON object");
    static constexpr std::string_view kTopLevel[] = {"Version", "Id", "Statement"};
    TW_RETURN_IF_ERROR(CheckMembers(document, kTopLevel, ""));
    variables_ = false;
    if (const auto version = document.FindMember("Version"); version != document.MemberEnd()) {
      if (!version->value.IsString() ||
          (View(version->value) != kVersion2012 && View(version->value) != kVersion2008)) {
        return Malformed("Version", "must be \"2012-10-17\" or \"2008-10-17\"");
      }
      variables_ = View(version->value) == kVersion2012;
    }
    if (const auto id = document.FindMember("Id"); id != document.MemberEnd()) {
      if (!id->value.IsString() || !IsValidUtf8(View(id->value))) {
        return Malformed("Id", "must be a string");
      }
    }
    const auto statements = document.FindMember("Statement");
    if (statements == document.MemberEnd()) return Malformed("", "Statement is missing");
    auto parsed = std::make_shared<Policy::Parsed>();
    if (statements->value.IsObject()) {
      TW_ASSIGN_OR_RETURN(Statement statement, ParseStatement(statements->value, "Statement"));
      parsed->statements.push_back(std::move(statement));
    } else if (statements->value.IsArray() && !statements->value.Empty()) {
      const auto list = statements->value.GetArray();
      for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
        const std::string where = "Statement[" + std::to_string(i) + "]";
        if (!list[i].IsObject()) return Malformed(where, "a statement must be a JSON object");
        TW_ASSIGN_OR_RETURN(Statement statement, ParseStatement(list[i], where));
        parsed->statements.push_back(std::move(statement));
      }
    } else {
      return Malformed("Statement", "must be a statement object or a non-empty array of them");
    }
    // The structure is checked (bounded depth), so writing it back is safe.
    rapidjson::StringBuffer compact;
    rapidjson::Writer<rapidjson::StringBuffer> writer(compact);
    document.Accept(writer);
    if (compact.GetSize() > kMaxPolicyCharacters) {
      return Malformed("", "the document has " + std::to_string(compact.GetSize()) +
                               " characters without whitespace; the limit is " +
                               std::to_string(kMaxPolicyCharacters));
    }
    parsed->document.assign(compact.GetString(), compact.GetSize());
    return PolicyAccess::Make(std::move(parsed));
  }

 private:
  Result<Statement> ParseStatement(const rapidjson::Value& object, std::string where) {
    if (object.HasMember("Principal") || object.HasMember("NotPrincipal")) {
      return Malformed(where, "Policy document should not specify a principal.");
    }
    static constexpr std::string_view kElements[] = {
        "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"};
    TW_RETURN_IF_ERROR(CheckMembers(object, kElements, where));
    Statement statement;
    if (const auto sid = object.FindMember("Sid"); sid != object.MemberEnd()) {
      const auto is_alphanumeric = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      };
      const std::string_view text = sid->value.IsString() ? View(sid->value) : "";
      if (!sid->value.IsString() || !std::all_of(text.begin(), text.end(), is_alphanumeric)) {
        return Malformed(where,
                         "Statement IDs (SID) must be alpha-numeric. Check that your input "
                         "satisfies the regular expression [0-9A-Za-z]*");
      }
      statement.sid = std::string(text);
      if (!statement.sid.empty()) {
        where += " (Sid " + statement.sid + ")";
        if (std::find(sids_.begin(), sids_.end(), statement.sid) != sids_.end()) {
          return Malformed(where, "Statement IDs (SID) in a single policy must be unique.");
        }
        sids_.push_back(statement.sid);
      }
    }
    const auto effect = object.FindMember("Effect");
    if (effect == object.MemberEnd()) return Malformed(where, "Effect is missing");
    if (!effect->value.IsString() ||
        (View(effect->value) != "Allow" && View(effect->value) != "Deny")) {
      return Malformed(where, "Effect must be \"Allow\" or \"Deny\"");
    }
    statement.deny = View(effect->value) == "Deny";
    TW_RETURN_IF_ERROR(ParseActions(object, where, statement));
    TW_RETURN_IF_ERROR(ParseResources(object, where, statement));
    if (const auto condition = object.FindMember("Condition"); condition != object.MemberEnd()) {
      TW_RETURN_IF_ERROR(ParseConditionBlock(condition->value, where, statement));
    }
    return statement;
  }

  Status ParseActions(const rapidjson::Value& object, const std::string& where,
                      Statement& statement) {
    const auto action = object.FindMember("Action");
    const auto not_action = object.FindMember("NotAction");
    if (action != object.MemberEnd() && not_action != object.MemberEnd()) {
      return Malformed(where, "a statement cannot have both Action and NotAction");
    }
    if (action == object.MemberEnd() && not_action == object.MemberEnd()) {
      return Malformed(where, "Policy statement must contain actions.");
    }
    statement.not_action = not_action != object.MemberEnd();
    const auto& member = statement.not_action ? not_action->value : action->value;
    TW_ASSIGN_OR_RETURN(const std::vector<std::string_view> texts,
                        StringList(member, statement.not_action ? "NotAction" : "Action", where));
    for (std::string_view text : texts) {
      const size_t colon = text.find(':');
      if (text != "*" && (colon == std::string_view::npos || !IsVendor(text.substr(0, colon)) ||
                          colon + 1 == text.size())) {
        return Malformed(where, std::string(kNeedsVendor) + " (action " + Quoted(text) + ")");
      }
      // Actions never have variables.
      TW_ASSIGN_OR_RETURN(Pattern pattern, ParsePattern(text, /*wildcards=*/true, false));
      statement.actions.push_back(std::get<Glob>(std::move(pattern.pieces.front())));
    }
    return Status::Ok();
  }

  Status ParseResources(const rapidjson::Value& object, const std::string& where,
                        Statement& statement) {
    const auto resource = object.FindMember("Resource");
    const auto not_resource = object.FindMember("NotResource");
    if (resource != object.MemberEnd() && not_resource != object.MemberEnd()) {
      return Malformed(where, "a statement cannot have both Resource and NotResource");
    }
    if (resource == object.MemberEnd() && not_resource == object.MemberEnd()) {
      return Malformed(where, "Policy statement must contain resources.");
    }
    statement.not_resource = not_resource != object.MemberEnd();
    const auto& member = statement.not_resource ? not_resource->value : resource->value;
    TW_ASSIGN_OR_RETURN(
        const std::vector<std::string_view> texts,
        StringList(member, statement.not_resource ? "NotResource" : "Resource", where));
    for (std::string_view text : texts) {
      if (text != "*" &&
          (!text.starts_with("arn:") || std::count(text.begin(), text.end(), ':') < 5)) {
        return Malformed(where, "Resource " + Quoted(text) + " must be in ARN format or \"*\".");
      }
      Result<Pattern> pattern = ParsePattern(text, /*wildcards=*/true, variables_);
      if (!pattern.ok()) return Malformed(where, "Resource: " + pattern.status().message());
      statement.resources.push_back(std::move(pattern).value());
    }
    return Status::Ok();
  }

  Status ParseConditionBlock(const rapidjson::Value& block, const std::string& where,
                             Statement& statement) {
    if (!block.IsObject()) return Malformed(where, "Condition must be a JSON object");
    TW_RETURN_IF_ERROR(CheckMembers(block, {}, where + ": Condition"));
    for (auto entry = block.MemberBegin(); entry != block.MemberEnd(); ++entry) {
      const std::string_view written = View(entry->name);
      const std::string at = where + ": Condition " + Quoted(written);
      std::string_view name = written;
      Condition condition;
      if (name.starts_with("ForAllValues:")) {
        condition.set_operator = SetOperator::kForAllValues;
        name.remove_prefix(std::string_view("ForAllValues:").size());
      } else if (name.starts_with("ForAnyValue:")) {
        condition.set_operator = SetOperator::kForAnyValue;
        name.remove_prefix(std::string_view("ForAnyValue:").size());
      }
      if (name.ends_with("IfExists")) {
        condition.if_exists = true;
        name.remove_suffix(std::string_view("IfExists").size());
      }
      const auto* op = std::find_if(std::begin(kOperators), std::end(kOperators),
                                    [name](const OperatorInfo& info) { return info.name == name; });
      if (op == std::end(kOperators)) {
        return Malformed(at, "the condition operator is not supported");
      }
      if (op->family == Family::kNull &&
          (condition.if_exists || condition.set_operator != SetOperator::kNone)) {
        return Malformed(at, "Null cannot have ForAllValues:, ForAnyValue: or IfExists");
      }
      condition.op = op;
      if (!entry->value.IsObject()) {
        return Malformed(at, "must map condition keys to values (a JSON object)");
      }
      TW_RETURN_IF_ERROR(CheckMembers(entry->value, {}, at));
      for (auto key = entry->value.MemberBegin(); key != entry->value.MemberEnd(); ++key) {
        Condition keyed = condition;
        keyed.key = std::string(View(key->name));
        if (!IsConditionKey(keyed.key)) {
          return Malformed(
              at, std::string(kNeedsVendor) + " (condition key " + Quoted(keyed.key) + ")");
        }
        TW_RETURN_IF_ERROR(ParseConditionValues(key->value, at + " " + Quoted(keyed.key), keyed));
        statement.conditions.push_back(std::move(keyed));
      }
    }
    return Status::Ok();
  }

  Status ParseConditionValues(const rapidjson::Value& value, const std::string& at,
                              Condition& condition) {
    std::vector<std::string> texts;
    const auto add = [&texts](const rapidjson::Value& scalar) {
      std::optional<std::string> text = ScalarText(scalar);
      if (!text || !IsValidUtf8(*text)) return false;
      texts.push_back(std::move(*text));
      return true;
    };
    bool ok = value.IsArray() ? !value.Empty() : add(value);
    if (value.IsArray()) {
      for (const rapidjson::Value& element : value.GetArray()) ok = ok && add(element);
    }
    if (!ok) {
      return Malformed(at,
                       "the values must be strings, numbers or booleans (UTF-8), or a "
                       "non-empty array of them");
    }
    const Family family = condition.op->family;
    switch (family) {
      case Family::kString:
      case Family::kArn: {
        std::vector<Pattern> patterns;
        const bool wildcards = condition.op->comparison == Comparison::kLike;
        for (const std::string& text : texts) {
          Result<Pattern> pattern = ParsePattern(text, wildcards, variables_);
          if (!pattern.ok()) return Malformed(at, pattern.status().message());
          patterns.push_back(std::move(pattern).value());
        }
        condition.values = std::move(patterns);
        return Status::Ok();
      }
      case Family::kNumeric:
        return Convert<double>(texts, ParseNumber, "a number", at, condition);
      case Family::kDate:
        return Convert<int64_t>(texts, ParseTime,
                                "a date (ISO 8601 such as 2026-12-06T12:00:00Z, or epoch seconds)",
                                at, condition);
      case Family::kBool:
      case Family::kNull:
        return Convert<bool>(texts, ParseBool, "\"true\" or \"false\"", at, condition);
      case Family::kIp:
        return Convert<IpRange>(
            texts, [](std::string_view text) { return ParseIpRange(text, /*allow_prefix=*/true); },
            "an IP address or CIDR block", at, condition);
    }
    return Status::Ok();
  }

  template <typename T, typename Parser>
  static Status Convert(const std::vector<std::string>& texts, Parser parse,
                        std::string_view expected, const std::string& at, Condition& condition) {
    std::vector<T> values;
    for (const std::string& text : texts) {
      std::optional<T> value = parse(text);
      if (!value) return Malformed(at, Quoted(text) + " is not " + std::string(expected));
      values.push_back(*value);
    }
    condition.values = std::move(values);
    return Status::Ok();
  }

  bool variables_ = false;         // Version 2012-10-17: "${...}" is a variable
  std::vector<std::string> sids_;  // the Sids seen so far
};

// ---------------------------------------------------------------------------------------
// The evaluator.

// The policy's values of `condition` ready to compare with the request's: patterns
// resolved (nullopt when a variable does not resolve).
class ConditionMatcher {
 public:
  static std::optional<ConditionMatcher> Prepare(const Condition& condition,
                                                 const RequestKeys& keys) {
    ConditionMatcher matcher(condition);
    if (const auto* patterns = std::get_if<std::vector<Pattern>>(&condition.values)) {
      for (const Pattern& pattern : *patterns) {
        std::optional<Glob> glob = Resolve(pattern, keys);
        if (!glob) return std::nullopt;
        matcher.globs_.push_back(std::move(*glob));
      }
    }
    return matcher;
  }

  // Whether the request value satisfies the operator: matches one of the policy's values,
  // or, for a negated operator, none of them.
  bool Satisfied(const std::string& request_value) const {
    return MatchesAny(request_value) != condition_.op->negated;
  }

 private:
  explicit ConditionMatcher(const Condition& condition) : condition_(condition) {}

  bool MatchesAny(const std::string& request_value) const {
    const Comparison comparison = condition_.op->comparison;
    switch (condition_.op->family) {
      case Family::kString:
        return std::any_of(globs_.begin(), globs_.end(), [&](const Glob& glob) {
          if (comparison == Comparison::kLike) return GlobMatches(glob, request_value, false);
          return GlobEqualsText(glob, request_value, comparison == Comparison::kEqualsIgnoringCase);
        });
      case Family::kArn:
        return std::any_of(globs_.begin(), globs_.end(),
                           [&](const Glob& glob) { return ArnMatches(glob, request_value); });
      case Family::kNumeric:
        return AnyCompares(ParseNumber(request_value),
                           std::get<std::vector<double>>(condition_.values));
      case Family::kDate:
        return AnyCompares(ParseTime(request_value),
                           std::get<std::vector<int64_t>>(condition_.values));
      case Family::kBool:
        return AnyCompares(ParseBool(request_value),
                           std::get<std::vector<bool>>(condition_.values));
      case Family::kIp: {
        const std::optional<IpRange> address = ParseIpRange(request_value, /*allow_prefix=*/false);
        const auto& ranges = std::get<std::vector<IpRange>>(condition_.values);
        return address && std::any_of(ranges.begin(), ranges.end(), [&](const IpRange& range) {
                 return InRange(range, *address);
               });
      }
      case Family::kNull:
        break;  // decided by presence, never per value
    }
    return false;
  }

  template <typename T, typename Values>
  bool AnyCompares(const std::optional<T>& request_value, const Values& policy_values) const {
    if (!request_value) return false;  // not of the operator's type: matches nothing
    return std::any_of(policy_values.begin(), policy_values.end(), [&](const T& policy_value) {
      return Compare<T>(condition_.op->comparison, *request_value, policy_value);
    });
  }

  const Condition& condition_;
  std::vector<Glob> globs_;
};

bool ConditionHolds(const Condition& condition, const RequestKeys& keys) {
  const std::vector<std::string>* values = keys.Find(condition.key);
  const bool has_values = values != nullptr && !values->empty();
  if (condition.op->family == Family::kNull) {
    const auto& expected = std::get<std::vector<bool>>(condition.values);
    return std::find(expected.begin(), expected.end(), !has_values) != expected.end();
  }
  if (values == nullptr && condition.if_exists) return true;
  if (!has_values) {
    switch (condition.set_operator) {
      case SetOperator::kForAllValues:
        return true;
      case SetOperator::kForAnyValue:
        return false;
      case SetOperator::kNone:
        return condition.op->negated;
    }
  }
  const std::optional<ConditionMatcher> matcher = ConditionMatcher::Prepare(condition, keys);
  if (!matcher) return false;  // a variable does not resolve: the statement does not apply
  const auto satisfied = [&](const std::string& value) { return matcher->Satisfied(value); };
  if (condition.set_operator == SetOperator::kForAllValues ||
      (condition.set_operator == SetOperator::kNone && condition.op->negated)) {
    return std::all_of(values->begin(), values->end(), satisfied);
  }
  return std::any_of(values->begin(), values->end(), satisfied);
}

bool StatementApplies(const Statement& statement, const RequestKeys& keys) {
  const std::string& action = keys.request().action;
  const bool action_listed = std::any_of(
      statement.actions.begin(), statement.actions.end(),
      [&](const Glob& glob) { return GlobMatches(glob, action, /*ignore_case=*/true); });
  if (action_listed == statement.not_action) return false;
  bool resource_listed = false;
  for (const Pattern& pattern : statement.resources) {
    const std::optional<Glob> glob = Resolve(pattern, keys);
    if (!glob) return false;  // a variable does not resolve: the statement does not apply
    resource_listed = resource_listed || GlobMatches(*glob, keys.request().resource, false);
  }
  if (resource_listed == statement.not_resource) return false;
  return std::all_of(statement.conditions.begin(), statement.conditions.end(),
                     [&](const Condition& condition) { return ConditionHolds(condition, keys); });
}

}  // namespace

bool ContextKeys::CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](char x, char y) { return AsciiLower(x) < AsciiLower(y); });
}

void ContextKeys::Set(std::string_view name, std::vector<std::string> values) {
  const auto found = keys_.find(name);
  if (found != keys_.end()) {
    found->second = std::move(values);
  } else {
    keys_.emplace(std::string(name), std::move(values));
  }
}

void ContextKeys::Add(std::string_view name, std::string value) {
  auto found = keys_.find(name);
  if (found == keys_.end())
    found = keys_.emplace(std::string(name), std::vector<std::string>()).first;
  found->second.push_back(std::move(value));
}

const std::vector<std::string>* ContextKeys::Find(std::string_view name) const {
  const auto found = keys_.find(name);
  return found == keys_.end() ? nullptr : &found->second;
}

Result<Policy> ParsePolicy(std::string_view json) {
  if (json.size() > kMaxPolicyTextBytes) {
    return Malformed("", "the document is " + std::to_string(json.size()) +
                             " bytes long; the limit is " + std::to_string(kMaxPolicyTextBytes));
  }
  // RapidJSON reads a NUL byte as the end of input; JSON text never has a raw one.
  if (const size_t nul = json.find('\0'); nul != std::string_view::npos) {
    return Malformed(
        "", "Syntax errors in policy: NUL character (at offset " + std::to_string(nul) + ")");
  }
  rapidjson::Document document;
  // Iterative parsing keeps deeply nested input off the call stack.
  document.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
      json.data(), json.size());
  if (document.HasParseError()) {
    return Malformed("", std::string("Syntax errors in policy: ") +
                             rapidjson::GetParseError_En(document.GetParseError()) +
                             " (at offset " + std::to_string(document.GetErrorOffset()) + ")");
  }
  return ParsePolicy(static_cast<const rapidjson::Value&>(document));
}

Result<Policy> ParsePolicy(const rapidjson::Value& document) {
  return PolicyParser().Parse(document);
}

Decision Evaluate(std::span<const NamedPolicy> policies, const AuthorizationRequest& request) {
  const RequestKeys keys(request);
  Decision decision;
  for (const NamedPolicy& named : policies) {
    const std::vector<Statement>& statements = PolicyAccess::Of(named.policy).statements;
    for (size_t i = 0; i < statements.size(); ++i) {
      const Statement& statement = statements[i];
      // Once allowed, only a Deny can change the outcome.
      if (!statement.deny && decision.allowed()) continue;
      if (!StatementApplies(statement, keys)) continue;
      decision.outcome =
          statement.deny ? Decision::Outcome::kExplicitDeny : Decision::Outcome::kAllowed;
      decision.policy_name = named.name;
      decision.statement_index = i;
      decision.sid = statement.sid;
      if (statement.deny) return decision;
    }
  }
  return decision;
}

Status AccessDeniedError(const AuthorizationRequest& request, const Decision& decision,
                         std::string_view account_id) {
  if (decision.allowed()) return Status::Ok();
  std::string message = "User: arn:aws:iam::" + std::string(account_id) + ":user/" +
                        request.principal + " is not authorized to perform: " + request.action +
                        " on resource: " + request.resource;
  if (decision.explicitly_denied()) {
    message += " with an explicit deny in an identity-based policy";
  } else {
    message += " because no identity-based policy allows the " + request.action + " action";
  }
  return Status(ErrorCode::kAccessDenied, std::move(message));
}

Status Authorize(std::span<const NamedPolicy> policies,
                 std::span<const AuthorizationRequest> requests, std::string_view account_id) {
  for (const AuthorizationRequest& request : requests) {
    TW_RETURN_IF_ERROR(AccessDeniedError(request, Evaluate(policies, request), account_id));
  }
  return Status::Ok();
}

}  // namespace tidewater::security
