#include "tidewater/security/client_credentials.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>
#include <system_error>

#include "ascii_text.h"

namespace tidewater::security {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDefaultProfile = "default";
constexpr std::string_view kDefaultRegion = "us-east-1";

// One INI file as the AWS CLI reads it (Python's configparser): section name -> key -> value.
using IniSections = std::map<std::string, std::map<std::string, std::string>>;

// The environment variable `name`, "" when unset.
std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// The blanks around an INI line's parts.
std::string_view TrimLine(std::string_view text) { return Trim(text, " \t\r"); }

// Parses configparser's subset the AWS files use: "[section]" lines, "key = value" (or
// "key: value") lines with case-insensitive keys, whole-line comments starting with '#' or
// ';', blank lines. A line indented deeper than the key before it continues that key's value
// (the nested "s3 =" settings of ~/.aws/config) and names no key of its own.
IniSections ParseIni(std::string_view text) {
  IniSections sections;
  std::map<std::string, std::string>* section = nullptr;
  size_t key_indent = std::string_view::npos;  // npos: no key yet in this section
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    const std::string_view content = TrimLine(line);
    if (content.empty() || content.front() == '#' || content.front() == ';') continue;
    const size_t indent = line.find_first_not_of(" \t");
    if (key_indent != std::string_view::npos && indent > key_indent) continue;  // continuation
    if (content.front() == '[') {  // "[name]": as configparser, the name ends at the last ']'
      const size_t close = content.rfind(']');
      if (close != std::string_view::npos && close > 1) {
        section = &sections[std::string(TrimLine(content.substr(1, close - 1)))];
        key_indent = std::string_view::npos;
      }
      continue;
    }
    const size_t delimiter = content.find_first_of("=:");
    if (section == nullptr || delimiter == std::string_view::npos) continue;
    (*section)[AsciiLowercase(TrimLine(content.substr(0, delimiter)))] =
        std::string(TrimLine(content.substr(delimiter + 1)));
    key_indent = indent;
  }
  return sections;
}

// The file at `path` parsed; empty when it does not exist. An existing file that cannot be
// read is a Validation error.
Result<IniSections> ReadIniFile(const fs::path& path) {
  if (path.empty()) return IniSections{};
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) return IniSections{};
  const auto unreadable = [&](const std::string& why) {
    return Status::Validation("cannot read AWS settings file " + path.string() + ": " + why);
  };
  if (error) return unreadable(error.message());
  if (fs::is_directory(status)) return unreadable("it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return unreadable("cannot open it");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return unreadable("read error");
  return ParseIni(text.str());
}

// The file an environment variable names (a leading "~/" is the home directory), else
// ~/<default_name>; empty when neither the variable nor HOME is set.
fs::path SettingsFile(const char* variable, std::string_view default_name) {
  const std::string home = Env("HOME");
  const std::string named = Env(variable);
  if (!named.empty()) {
    if (named.starts_with("~/") && !home.empty()) return fs::path(home) / named.substr(2);
    return named;
  }
  if (home.empty()) return {};
  return fs::path(home) / default_name;
}

// The profile's section of a credentials file ("[NAME]") or a config file ("[profile NAME]",
// the default profile also "[default]"); nullptr when absent.
const std::map<std::string, std::string>* CredentialsSection(const IniSections& file,
                                                             const std::string& profile) {
  const auto found = file.find(profile);
  return found == file.end() ? nullptr : &found->second;
}

const std::map<std::string, std::string>* ConfigSection(const IniSections& file,
                                                        const std::string& profile) {
  for (const auto& [name, keys] : file) {
    if (profile == kDefaultProfile && name == kDefaultProfile) return &keys;
    // "profile NAME", with any run of blanks between the two words.
    if (!name.starts_with("profile") || name.size() <= 7 || (name[7] != ' ' && name[7] != '\t')) {
      continue;
    }
    if (TrimLine(std::string_view(name).substr(7)) == profile) return &keys;
  }
  return nullptr;
}

std::string ValueOf(const std::map<std::string, std::string>& section, const std::string& key) {
  const auto found = section.find(key);
  return found == section.end() ? "" : found->second;
}

// The key pair of an environment or a profile section, or nullopt when it names no access
// key id. Half a pair is a Validation error (`where` says whose).
Result<std::optional<sigv4::Credentials>> KeyPair(std::string access_key_id,
                                                  std::string secret_access_key,
                                                  std::string session_token,
                                                  const std::string& where) {
  if (access_key_id.empty() && secret_access_key.empty()) {
    return std::optional<sigv4::Credentials>();
  }
  if (access_key_id.empty()) {
    return Status::Validation("partial credentials in " + where +
                              ": a secret access key without an access key id");
  }
  if (secret_access_key.empty()) {
    return Status::Validation("partial credentials in " + where +
                              ": an access key id without a secret access key");
  }
  return std::optional<sigv4::Credentials>(sigv4::Credentials{
      std::move(access_key_id), std::move(secret_access_key), std::move(session_token)});
}

Result<std::optional<sigv4::Credentials>> KeyPairOfSection(
    const std::map<std::string, std::string>* section, const std::string& where) {
  if (section == nullptr) return std::optional<sigv4::Credentials>();
  return KeyPair(ValueOf(*section, "aws_access_key_id"), ValueOf(*section, "aws_secret_access_key"),
                 ValueOf(*section, "aws_session_token"), where);
}

}  // namespace

Result<std::optional<SigningIdentity>> ResolveSigningIdentity(const std::string& profile) {
  const std::string profile_from_env = Env("AWS_PROFILE");
  const bool named = !profile.empty() || !profile_from_env.empty();
  const std::string name =
      !profile.empty()
          ? profile
          : (!profile_from_env.empty() ? profile_from_env : std::string(kDefaultProfile));

  const fs::path credentials_path = SettingsFile("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
  const fs::path config_path = SettingsFile("AWS_CONFIG_FILE", ".aws/config");
  TW_ASSIGN_OR_RETURN(const IniSections credentials_file, ReadIniFile(credentials_path));
  TW_ASSIGN_OR_RETURN(const IniSections config_file, ReadIniFile(config_path));
  const auto* credentials_section = CredentialsSection(credentials_file, name);
  const auto* config_section = ConfigSection(config_file, name);
  if (named && credentials_section == nullptr && config_section == nullptr) {
    return Status::Validation("The config profile (" + name + ") could not be found");
  }

  std::optional<sigv4::Credentials> credentials;
  if (profile.empty()) {  // as with the AWS CLI's --profile, a profile given wins over them
    TW_ASSIGN_OR_RETURN(credentials, KeyPair(Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"),
                                             Env("AWS_SESSION_TOKEN"), "the environment"));
  }
  if (!credentials) {
    TW_ASSIGN_OR_RETURN(credentials,
                        KeyPairOfSection(credentials_section,
                                         "profile " + name + " of " + credentials_path.string()));
  }
  if (!credentials) {
    TW_ASSIGN_OR_RETURN(credentials, KeyPairOfSection(config_section, "profile " + name + " of " +
                                                                          config_path.string()));
  }
  if (!credentials) return std::optional<SigningIdentity>();

  std::string region = Env("AWS_REGION");
  if (region.empty()) region = Env("AWS_DEFAULT_REGION");
  if (region.empty() && config_section != nullptr) region = ValueOf(*config_section, "region");
  if (region.empty()) region = kDefaultRegion;
  return std::optional<SigningIdentity>(
      SigningIdentity{std::move(*credentials), std::move(region)});
}

}  // namespace tidewater::security
