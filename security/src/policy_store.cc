// The policy file (ReadPolicyFile) and the PolicyStore that mirrors it.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>
#include <utility>

#include "tidewater/core/durable_file.h"
#include "tidewater/core/thread_annotations.h"
#include "tidewater/security/policy.h"

namespace tidewater::security {
namespace {

constexpr size_t kMaxNameLength = 128;
constexpr char kPrincipalsMember[] = "principals";

// Why `principal` cannot have policies, or "". The same characters as a credential's
// principal (credential_store.h), at most kMaxNameLength of them.
std::string PrincipalProblem(std::string_view principal) {
  if (principal.empty() || principal.size() > kMaxNameLength ||
      !std::all_of(principal.begin(), principal.end(),
                   [](char c) { return c > ' ' && c < 0x7F; })) {
    return "a principal must be 1 to 128 printable ASCII characters other than space";
  }
  return "";
}

// IAM's policy names: [A-Za-z0-9+=,.@_-]{1,128}.
std::string PolicyNameProblem(std::string_view name) {
  const auto allowed = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("+=,.@_-").find(c) != std::string_view::npos;
  };
  if (name.empty() || name.size() > kMaxNameLength ||
      !std::all_of(name.begin(), name.end(), allowed)) {
    return "a policy name must be 1 to 128 characters of [A-Za-z0-9+=,.@_-]";
  }
  return "";
}

std::string_view View(const rapidjson::Value& value) {
  return {value.GetString(), value.GetStringLength()};
}

// The principals' policies, each set sorted by name.
using PolicyMap = std::map<std::string, std::shared_ptr<const PolicySet>, std::less<>>;

// The entries of a policy file's text; `path` names it in errors.
Result<std::vector<PrincipalPolicy>> ParsePolicyFile(const std::string& text,
                                                     const std::string& path) {
  if (const size_t nul = text.find('\0'); nul != std::string::npos) {
    return Status::Validation(path + " is not valid JSON: NUL character (at offset " +
                              std::to_string(nul) + ")");
  }
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
      text.data(), text.size());
  if (document.HasParseError()) {
    return Status::Validation(
        path + " is not valid JSON: " + rapidjson::GetParseError_En(document.GetParseError()) +
        " (at offset " + std::to_string(document.GetErrorOffset()) + ")");
  }
  const rapidjson::Value& root = document;
  const auto shape_error = [&path] {
    return Status::Validation(path +
                              ": expected an object with one member, \"principals\", "
                              "mapping each principal to its policies by name");
  };
  if (!root.IsObject() || root.MemberCount() != 1) return shape_error();
  const auto principals = root.FindMember(kPrincipalsMember);
  if (principals == root.MemberEnd() || !principals->value.IsObject()) return shape_error();
  std::vector<PrincipalPolicy> entries;
  const rapidjson::Value& by_principal = principals->value;
  for (auto principal = by_principal.MemberBegin(); principal != by_principal.MemberEnd();
       ++principal) {
    const std::string principal_name(View(principal->name));
    if (std::string problem = PrincipalProblem(principal_name); !problem.empty()) {
      return Status::Validation(path + ": principal \"" + principal_name + "\": " + problem);
    }
    const std::string where = path + ": principal \"" + principal_name + "\"";
    if (!principal->value.IsObject()) {
      return Status::Validation(where + ": expected an object mapping policy names to documents");
    }
    for (auto policy = principal->value.MemberBegin(); policy != principal->value.MemberEnd();
         ++policy) {
      const std::string policy_name(View(policy->name));
      if (std::string problem = PolicyNameProblem(policy_name); !problem.empty()) {
        return Status::Validation(where + ": " + problem);
      }
      Result<Policy> parsed = ParsePolicy(policy->value);
      if (!parsed.ok()) {
        return Status::Validation(where + ", policy \"" + policy_name +
                                  "\": " + parsed.status().message());
      }
      entries.push_back({principal_name, {policy_name, std::move(parsed).value()}});
    }
  }
  std::sort(entries.begin(), entries.end(), [](const PrincipalPolicy& a, const PrincipalPolicy& b) {
    return std::tie(a.principal, a.named.name) < std::tie(b.principal, b.named.name);
  });
  const auto repeated = std::adjacent_find(
      entries.begin(), entries.end(), [](const PrincipalPolicy& a, const PrincipalPolicy& b) {
        return a.principal == b.principal && a.named.name == b.named.name;
      });
  if (repeated != entries.end()) {
    return Status::Validation(path + ": principal \"" + repeated->principal +
                              "\" has two policies named \"" + repeated->named.name + "\"");
  }
  return entries;
}

// `policies` in the file format: documents pretty-printed, principals and names sorted.
Result<std::string> FormatPolicyFile(const PolicyMap& policies) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  writer.StartObject();
  writer.Key(kPrincipalsMember);
  writer.StartObject();
  for (const auto& [principal, set] : policies) {
    writer.Key(principal.data(), static_cast<rapidjson::SizeType>(principal.size()));
    writer.StartObject();
    for (const NamedPolicy& named : *set) {
      writer.Key(named.name.data(), static_cast<rapidjson::SizeType>(named.name.size()));
      // A document ParsePolicy wrote: valid JSON of bounded depth.
      rapidjson::Document document;
      document.Parse(named.policy.document().data(), named.policy.document().size());
      if (document.HasParseError()) {
        return Status::Internal("cannot write the policy \"" + named.name + "\" of " + principal);
      }
      document.Accept(writer);
    }
    writer.EndObject();
  }
  writer.EndObject();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

// IAM's NoSuchEntity text.
Status NoSuchPolicy(std::string_view name) {
  return Status::NotFound("The user policy with name " + std::string(name) + " cannot be found.");
}

// The PolicyStore: an immutable map that each change replaces (copy on write; the sets of
// the principals a change does not touch are shared), and the file it mirrors. Readers take
// the current map under a mutex held for a pointer copy; a change is written to the file
// before the map is replaced, so a failed write changes nothing.
class FileBackedPolicyStore final : public PolicyStore {
 public:
  FileBackedPolicyStore(std::filesystem::path path, std::vector<PrincipalPolicy> initial)
      : path_(std::move(path)) {
    std::map<std::string, PolicySet, std::less<>> sets;
    for (PrincipalPolicy& entry : initial) sets[entry.principal].push_back(std::move(entry.named));
    auto policies = std::make_shared<PolicyMap>();
    for (auto& [principal, set] : sets) {
      policies->emplace(principal, std::make_shared<const PolicySet>(std::move(set)));
    }
    policies_ = std::move(policies);
  }

  Status Put(std::string_view principal, std::string_view name, Policy policy) override {
    if (std::string problem = PrincipalProblem(principal); !problem.empty()) {
      return Status::Validation("Invalid principal: " + problem);
    }
    if (std::string problem = PolicyNameProblem(name); !problem.empty()) {
      return Status::Validation("Invalid policy name: " + problem);
    }
    MutexLock change(change_mu_);
    const std::shared_ptr<const PolicyMap> current = Snapshot();
    PolicySet set;
    if (const auto found = current->find(principal); found != current->end()) set = *found->second;
    const auto position =
        std::lower_bound(set.begin(), set.end(), name,
                         [](const NamedPolicy& a, std::string_view b) { return a.name < b; });
    if (position != set.end() && position->name == name) {
      position->policy = std::move(policy);
    } else {
      set.insert(position, NamedPolicy{std::string(name), std::move(policy)});
    }
    auto next = std::make_shared<PolicyMap>(*current);
    (*next)[std::string(principal)] = std::make_shared<const PolicySet>(std::move(set));
    return Replace(std::move(next));
  }

  Result<Policy> Get(std::string_view principal, std::string_view name) const override {
    const std::shared_ptr<const PolicySet> set = PoliciesOf(principal);
    const auto found = std::find_if(
        set->begin(), set->end(), [name](const NamedPolicy& named) { return named.name == name; });
    if (found == set->end()) return NoSuchPolicy(name);
    return found->policy;
  }

  Status Delete(std::string_view principal, std::string_view name) override {
    MutexLock change(change_mu_);
    const std::shared_ptr<const PolicyMap> current = Snapshot();
    const auto found = current->find(principal);
    if (found == current->end()) return NoSuchPolicy(name);
    PolicySet set = *found->second;
    const auto position = std::find_if(
        set.begin(), set.end(), [name](const NamedPolicy& named) { return named.name == name; });
    if (position == set.end()) return NoSuchPolicy(name);
    set.erase(position);
    auto next = std::make_shared<PolicyMap>(*current);
    if (set.empty()) {
      next->erase(found->first);
    } else {
      (*next)[found->first] = std::make_shared<const PolicySet>(std::move(set));
    }
    return Replace(std::move(next));
  }

  std::vector<std::string> List(std::string_view principal) const override {
    const std::shared_ptr<const PolicySet> set = PoliciesOf(principal);
    std::vector<std::string> names;
    for (const NamedPolicy& named : *set) names.push_back(named.name);
    return names;
  }

  std::vector<std::string> Principals() const override {
    const std::shared_ptr<const PolicyMap> policies = Snapshot();
    std::vector<std::string> principals;
    for (const auto& entry : *policies) principals.push_back(entry.first);
    return principals;
  }

  std::shared_ptr<const PolicySet> PoliciesOf(std::string_view principal) const override {
    const std::shared_ptr<const PolicyMap> policies = Snapshot();
    const auto found = policies->find(principal);
    return found == policies->end() ? no_policies_ : found->second;
  }

 private:
  std::shared_ptr<const PolicyMap> Snapshot() const TW_EXCLUDES(snapshot_mu_) {
    MutexLock lock(snapshot_mu_);
    return policies_;
  }

  // Writes `next` to the file (when there is one), then makes it the current map.
  Status Replace(std::shared_ptr<const PolicyMap> next) TW_REQUIRES(change_mu_) {
    if (!path_.empty()) {
      TW_ASSIGN_OR_RETURN(const std::string text, FormatPolicyFile(*next));
      TW_RETURN_IF_ERROR(WriteFileAtomically(path_.string(), text, 0600));
    }
    MutexLock lock(snapshot_mu_);
    policies_ = std::move(next);
    return Status::Ok();
  }

  const std::filesystem::path path_;
  const std::shared_ptr<const PolicySet> no_policies_ = std::make_shared<const PolicySet>();
  // Serializes Put and Delete, and so the file's writes. Taken before snapshot_mu_.
  Mutex change_mu_ TW_ACQUIRED_BEFORE(snapshot_mu_);
  mutable Mutex snapshot_mu_;
  std::shared_ptr<const PolicyMap> policies_ TW_GUARDED_BY(snapshot_mu_);
};

}  // namespace

Result<std::vector<PrincipalPolicy>> ReadPolicyFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read " + path.string());
  return ParsePolicyFile(text.str(), path.string());
}

Result<std::unique_ptr<PolicyStore>> PolicyStore::Open(std::filesystem::path path) {
  std::vector<PrincipalPolicy> initial;
  if (!path.empty()) {
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
    std::error_code error;
    if (!std::filesystem::is_directory(dir, error)) {
      return Status::IOError("cannot keep policies in " + path.string() + ": " + dir.string() +
                             " is not a directory");
    }
    if (std::filesystem::exists(path, error)) {
      TW_ASSIGN_OR_RETURN(initial, ReadPolicyFile(path));
    } else if (error) {
      return Status::IOError("cannot read " + path.string() + ": " + error.message());
    }
  }
  return std::unique_ptr<PolicyStore>(
      std::make_unique<FileBackedPolicyStore>(std::move(path), std::move(initial)));
}

}  // namespace tidewater::security
