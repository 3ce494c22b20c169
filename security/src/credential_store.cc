#include "tidewater/security/credential_store.h"

#include <openssl/rand.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "ascii_text.h"
#include "tidewater/core/durable_file.h"
#include "tidewater/core/thread_annotations.h"

namespace tidewater::security {
namespace {

constexpr std::string_view kKeyIdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kSecretAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr size_t kKeyIdRandomLength = 18;
constexpr size_t kSecretLength = 40;
constexpr size_t kSessionTokenLength = 64;

// The latest expiry the file format can write: 9999-12-31T23:59:59.999999Z.
constexpr int64_t kLatestExpiryMicros = 253'402'300'799'999'999;

// `length` characters drawn uniformly from `alphabet` with OpenSSL's generator. A credential
// must never be predictable, so a generator that fails ends the process.
std::string RandomString(size_t length, std::string_view alphabet) {
  // Bytes at or above `limit` would favour the first characters: they are drawn again.
  const unsigned limit = 256 - 256 % alphabet.size();
  std::string out;
  out.reserve(length);
  std::array<unsigned char, 64> bytes{};
  while (out.size() < length) {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      std::fputs("tidewater: OpenSSL's random generator failed; cannot issue a credential\n",
                 stderr);
      std::abort();
    }
    for (unsigned char byte : bytes) {
      if (byte >= limit || out.size() == length) continue;
      out += alphabet[byte % alphabet.size()];
    }
  }
  return out;
}

// "YYYY-MM-DDTHH:MM:SSZ" (UTC; an optional fraction of 1 to 6 digits before the 'Z') as
// microseconds since the epoch, or nullopt.
std::optional<int64_t> ParseExpiry(std::string_view text) {
  using namespace std::chrono;
  constexpr size_t kSecondsEnd = 19;  // "YYYY-MM-DDTHH:MM:SS"
  if (text.size() < kSecondsEnd + 1 || text.back() != 'Z' || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const auto y = Digits(text, 0, 4), mo = Digits(text, 5, 2), d = Digits(text, 8, 2);
  const auto h = Digits(text, 11, 2), mi = Digits(text, 14, 2), s = Digits(text, 17, 2);
  if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 59) return std::nullopt;
  const year_month_day date{year(*y), month(static_cast<unsigned>(*mo)),
                            day(static_cast<unsigned>(*d))};
  if (!date.ok()) return std::nullopt;
  int64_t fraction_micros = 0;
  const size_t fraction_digits = text.size() - kSecondsEnd - 1;  // '.' and the digits
  if (fraction_digits > 0) {
    if (text[kSecondsEnd] != '.' || fraction_digits < 2 || fraction_digits > 7) {
      return std::nullopt;
    }
    const auto fraction = Digits(text, kSecondsEnd + 1, fraction_digits - 1);
    if (!fraction) return std::nullopt;
    fraction_micros = *fraction;
    for (size_t i = fraction_digits - 1; i < 6; ++i) fraction_micros *= 10;
  }
  const auto time = sys_days(date) + hours(*h) + minutes(*mi) + seconds(*s);
  return duration_cast<microseconds>(time.time_since_epoch()).count() + fraction_micros;
}

// The inverse of ParseExpiry; the fraction only when there is one.
std::string FormatExpiry(int64_t micros) {
  using namespace std::chrono;
  const sys_time<microseconds> time{microseconds(micros)};
  const sys_days day = floor<days>(time);
  const year_month_day date(day);
  const hh_mm_ss clock_time(time - day);
  std::array<char, 40> text{};
  int size = std::snprintf(
      text.data(), text.size(), "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock_time.hours().count()), static_cast<int>(clock_time.minutes().count()),
      static_cast<int>(clock_time.seconds().count()));
  std::string out(text.data(), static_cast<size_t>(size));
  if (const int64_t fraction = clock_time.subseconds().count(); fraction != 0) {
    size = std::snprintf(text.data(), text.size(), ".%06lld", static_cast<long long>(fraction));
    out.append(text.data(), static_cast<size_t>(size));
  }
  return out + "Z";
}

bool IsKeyIdCharacter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Printable ASCII without the space: what AWS's secrets, tokens and user names are made of,
// and what the file holds unchanged.
bool IsPrintableWord(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7F; });
}

// Why `credential` cannot be stored, naming the member (never its value), or "".
std::string CredentialProblem(const Credential& credential) {
  if (credential.access_key_id.empty()) return "access_key_id is empty";
  if (!std::all_of(credential.access_key_id.begin(), credential.access_key_id.end(),
                   IsKeyIdCharacter)) {
    return "access_key_id may contain only letters, digits and '_'";
  }
  if (credential.secret_access_key.empty()) return "secret_access_key is empty";
  if (!IsPrintableWord(credential.secret_access_key)) {
    return "secret_access_key may contain only printable ASCII characters other than space";
  }
  if (!IsPrintableWord(credential.session_token)) {
    return "session_token may contain only printable ASCII characters other than space";
  }
  if (credential.principal.empty()) return "principal is empty";
  if (!IsPrintableWord(credential.principal)) {
    return "principal may contain only printable ASCII characters other than space";
  }
  if (credential.expires_at_micros < 0 || credential.expires_at_micros > kLatestExpiryMicros) {
    return "the expiry must be between 1970 and 9999";
  }
  return "";
}

// How errors name the entry at `index` (0-based) of the file's list.
std::string EntryName(size_t index, const std::string& access_key_id) {
  std::string name = "credentials entry " + std::to_string(index + 1);
  if (!access_key_id.empty()) name += " (access_key_id " + access_key_id + ")";
  return name;
}

// One entry of the file's `credentials` list.
Result<Credential> ParseEntry(const YAML::Node& entry, size_t index) {
  if (!entry.IsMap()) return Status::Validation(EntryName(index, "") + " is not a mapping");
  Credential credential;
  std::string expires;
  // The key id first, so that every later error names it.
  if (const YAML::Node key_id = entry["access_key_id"]; key_id && key_id.IsScalar()) {
    credential.access_key_id = key_id.Scalar();
  }
  const std::string name = EntryName(index, credential.access_key_id);
  const std::pair<std::string_view, std::string*> members[] = {
      {"access_key_id", &credential.access_key_id},
      {"secret_access_key", &credential.secret_access_key},
      {"session_token", &credential.session_token},
      {"principal", &credential.principal},
      {"expires", &expires}};
  std::vector<std::string_view> seen;
  for (const auto& member : entry) {
    const std::string member_name = member.first.IsScalar() ? member.first.Scalar() : "";
    const auto known = std::find_if(std::begin(members), std::end(members),
                                    [&](const auto& m) { return m.first == member_name; });
    if (known == std::end(members)) {
      return Status::Validation(name + ": unknown member '" + member_name + "'");
    }
    if (std::find(seen.begin(), seen.end(), known->first) != seen.end()) {
      return Status::Validation(name + ": member '" + member_name + "' is given twice");
    }
    seen.push_back(known->first);
    if (!member.second.IsScalar()) {
      return Status::Validation(name + ": member '" + member_name + "' is not a string");
    }
    *known->second = member.second.Scalar();
  }
  for (std::string_view required : {"access_key_id", "secret_access_key", "principal"}) {
    if (std::find(seen.begin(), seen.end(), required) == seen.end()) {
      return Status::Validation(name + ": missing member '" + std::string(required) + "'");
    }
  }
  if (!expires.empty()) {
    const std::optional<int64_t> expires_at = ParseExpiry(expires);
    if (!expires_at) {
      return Status::Validation(name + ": expires '" + expires +
                                "' is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ");
    }
    credential.expires_at_micros = *expires_at;
  }
  if (std::string problem = CredentialProblem(credential); !problem.empty()) {
    return Status::Validation(name + ": " + problem);
  }
  return credential;
}

// The credentials in `text`, the contents of the file `path`.
Result<std::vector<Credential>> ParseCredentials(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // e.what() can quote the text around the error, which may be a secret: only the place.
    return Status::Validation(path + " is not valid YAML (line " + std::to_string(e.mark.line + 1) +
                              ", column " + std::to_string(e.mark.column + 1) + ")");
  }
  std::vector<Credential> credentials;
  if (root.IsNull()) return credentials;
  const auto shape_error = [&] {
    return Status::Validation(path + ": expected a mapping with one member, a 'credentials' list");
  };
  if (!root.IsMap() || root.size() != 1) return shape_error();
  const YAML::Node list = root["credentials"];
  if (!list) return shape_error();
  if (list.IsNull()) return credentials;
  if (!list.IsSequence()) return shape_error();
  std::unordered_set<std::string> key_ids;
  for (size_t i = 0; i < list.size(); ++i) {
    Result<Credential> credential = ParseEntry(list[i], i);
    if (!credential.ok()) return Status::Validation(path + ": " + credential.status().message());
    if (!key_ids.insert(credential->access_key_id).second) {
      return Status::Validation(path + ": " + EntryName(i, credential->access_key_id) +
                                ": the access_key_id is already used by an earlier entry");
    }
    credentials.push_back(std::move(credential).value());
  }
  return credentials;
}

// `credentials` in the file format (every string double-quoted, so that it reads back
// unchanged whatever it looks like).
Result<std::string> FormatCredentials(const std::vector<Credential>& credentials) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "credentials" << YAML::Value << YAML::BeginSeq;
  for (const Credential& credential : credentials) {
    out << YAML::BeginMap;
    out << YAML::Key << "access_key_id" << YAML::Value << YAML::DoubleQuoted
        << credential.access_key_id;
    out << YAML::Key << "secret_access_key" << YAML::Value << YAML::DoubleQuoted
        << credential.secret_access_key;
    if (!credential.session_token.empty()) {
      out << YAML::Key << "session_token" << YAML::Value << YAML::DoubleQuoted
          << credential.session_token;
    }
    out << YAML::Key << "principal" << YAML::Value << YAML::DoubleQuoted << credential.principal;
    if (credential.expires_at_micros != 0) {
      out << YAML::Key << "expires" << YAML::Value << FormatExpiry(credential.expires_at_micros);
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  if (!out.good()) {
    return Status::Internal("cannot write the credentials as YAML: " + out.GetLastError());
  }
  return std::string(out.c_str(), out.size()) + "\n";
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};
using CredentialMap = std::unordered_map<std::string, Credential, StringHash, std::equal_to<>>;

std::vector<Credential> Sorted(const CredentialMap& credentials) {
  std::vector<Credential> out;
  out.reserve(credentials.size());
  for (const auto& entry : credentials) out.push_back(entry.second);
  std::sort(out.begin(), out.end(), [](const Credential& a, const Credential& b) {
    return a.access_key_id < b.access_key_id;
  });
  return out;
}

// The CredentialStore: an immutable map that each change replaces (copy on write), and the
// file it mirrors. Readers take the current map under a mutex held for a pointer copy, so a
// steady stream of Finds never holds off a change (as a reader-preferring rwlock would). A
// change is written to the file before the map is replaced: a failed write changes nothing.
class FileBackedCredentialStore final : public CredentialStore {
 public:
  FileBackedCredentialStore(std::filesystem::path path, std::vector<Credential> initial)
      : path_(std::move(path)) {
    auto credentials = std::make_shared<CredentialMap>();
    for (Credential& credential : initial) {
      std::string key_id = credential.access_key_id;
      credentials->emplace(std::move(key_id), std::move(credential));
    }
    credentials_ = std::move(credentials);
  }

  Status Add(const Credential& credential) override {
    if (std::string problem = CredentialProblem(credential); !problem.empty()) {
      return Status::Validation("Invalid credential: " + problem);
    }
    MutexLock change(change_mu_);
    const std::shared_ptr<const CredentialMap> current = Snapshot();
    if (current->contains(credential.access_key_id)) {
      return Status::InUse("A credential with access key id " + credential.access_key_id +
                           " already exists");
    }
    auto next = std::make_shared<CredentialMap>(*current);
    next->emplace(credential.access_key_id, credential);
    return Replace(std::move(next));
  }

  Status Remove(std::string_view access_key_id) override {
    MutexLock change(change_mu_);
    const std::shared_ptr<const CredentialMap> current = Snapshot();
    if (!current->contains(access_key_id)) {
      return Status::NotFound("No credential has access key id " + std::string(access_key_id));
    }
    auto next = std::make_shared<CredentialMap>(*current);
    next->erase(next->find(access_key_id));
    return Replace(std::move(next));
  }

  std::optional<Credential> Find(std::string_view access_key_id) const override {
    const std::shared_ptr<const CredentialMap> credentials = Snapshot();
    const auto found = credentials->find(access_key_id);
    if (found == credentials->end()) return std::nullopt;
    return found->second;
  }

  std::vector<Credential> List() const override { return Sorted(*Snapshot()); }

 private:
  std::shared_ptr<const CredentialMap> Snapshot() const TW_EXCLUDES(snapshot_mu_) {
    MutexLock lock(snapshot_mu_);
    return credentials_;
  }

  // Writes `next` to the file (when there is one), then makes it the current map.
  Status Replace(std::shared_ptr<const CredentialMap> next) TW_REQUIRES(change_mu_) {
    if (!path_.empty()) {
      TW_ASSIGN_OR_RETURN(const std::string text, FormatCredentials(Sorted(*next)));
      TW_RETURN_IF_ERROR(WriteFileAtomically(path_.string(), text, 0600));
    }
    MutexLock lock(snapshot_mu_);
    credentials_ = std::move(next);
    return Status::Ok();
  }

  const std::filesystem::path path_;
  // Serializes Add and Remove, and so the file's writes. Taken before snapshot_mu_.
  Mutex change_mu_ TW_ACQUIRED_BEFORE(snapshot_mu_);
  mutable Mutex snapshot_mu_;
  std::shared_ptr<const CredentialMap> credentials_ TW_GUARDED_BY(snapshot_mu_);
};

}  // namespace

Credential GenerateCredential(std::string principal, bool with_session_token,
                              int64_t expires_at_micros) {
  Credential credential;
  credential.access_key_id = "TW" + RandomString(kKeyIdRandomLength, kKeyIdAlphabet);
  credential.secret_access_key = RandomString(kSecretLength, kSecretAlphabet);
  if (with_session_token) {
    credential.session_token = RandomString(kSessionTokenLength, kSecretAlphabet);
  }
  credential.expires_at_micros = expires_at_micros;
  credential.principal = std::move(principal);
  return credential;
}

Result<std::vector<Credential>> ReadCredentialsFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read " + path.string());
  return ParseCredentials(text.str(), path.string());
}

Result<std::unique_ptr<CredentialStore>> CredentialStore::Open(std::filesystem::path path) {
  std::vector<Credential> initial;
  if (!path.empty()) {
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
    std::error_code error;
    if (!std::filesystem::is_directory(dir, error)) {
      return Status::IOError("cannot keep credentials in " + path.string() + ": " + dir.string() +
                             " is not a directory");
    }
    if (std::filesystem::exists(path, error)) {
      TW_ASSIGN_OR_RETURN(initial, ReadCredentialsFile(path));
    } else if (error) {
      return Status::IOError("cannot read " + path.string() + ": " + error.message());
    }
  }
  return std::unique_ptr<CredentialStore>(
      std::make_unique<FileBackedCredentialStore>(std::move(path), std::move(initial)));
}

}  // namespace tidewater::security
