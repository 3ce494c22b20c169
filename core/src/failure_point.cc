// Named failure points (see failure_point.h): the armed points, behind one mutex; the
// attention flag lets unarmed hits return after one relaxed load.
#include "tidewater/core/failure_point.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

#include "tidewater/core/thread_annotations.h"

namespace tidewater {
namespace failure_point_internal {

std::atomic<int> g_attention{1};

}  // namespace failure_point_internal
namespace {

constexpr char kEnvironmentVariable[] = "TIDEWATER_FAILURE_POINTS";

struct ArmedPoint {
  FailureAction action;
  uint64_t on_hit;
  uint64_t hits = 0;
};

struct ParsedPoint {
  std::string name;
  ArmedPoint point;
};

class Registry {
 public:
  // The first use reads the environment.
  static Registry& Get() {
    static Registry* registry = new Registry();  // never destroyed: hit from any thread
    return *registry;
  }

  void Arm(std::vector<ParsedPoint> points) TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    for (ParsedPoint& parsed : points) armed_[parsed.name] = parsed.point;
    UpdateAttention();
  }

  void Disarm(std::string_view name) TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    auto it = armed_.find(name);
    if (it != armed_.end()) armed_.erase(it);
    UpdateAttention();
  }

  void DisarmAll() TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    armed_.clear();
    UpdateAttention();
  }

  uint64_t Hits(std::string_view name) TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    auto it = armed_.find(name);
    return it == armed_.end() ? 0 : it->second.hits;
  }

  // The armed action if this hit is the one it fires on.
  std::optional<std::pair<FailureAction, uint64_t>> Hit(std::string_view name) TW_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    auto it = armed_.find(name);
    if (it == armed_.end()) return std::nullopt;
    ArmedPoint& point = it->second;
    if (++point.hits != point.on_hit) return std::nullopt;
    return std::make_pair(point.action, point.hits);
  }

 private:
  Registry() { ArmFromEnvironment(); }

  void ArmFromEnvironment() TW_EXCLUDES(mu_);

  void UpdateAttention() TW_REQUIRES(mu_) {
    failure_point_internal::g_attention.store(armed_.empty() ? 0 : 1, std::memory_order_relaxed);
  }

  Mutex mu_;
  std::map<std::string, ArmedPoint, std::less<>> armed_ TW_GUARDED_BY(mu_);
};

std::string_view ActionName(FailureAction action) {
  switch (action) {
    case FailureAction::kKill:
      return "kill";
    case FailureAction::kAbort:
      return "abort";
    case FailureAction::kError:
      return "error";
  }
  return "?";
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// "NAME=ACTION[@N]" entries separated by ','.
Result<std::vector<ParsedPoint>> Parse(std::string_view spec) {
  std::vector<ParsedPoint> points;
  while (!spec.empty()) {
    const size_t comma = spec.find(',');
    const std::string_view entry = Trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (entry.empty()) continue;
    const auto invalid = [&](const std::string& why) {
      return Status::Validation("failure point '" + std::string(entry) + "': " + why +
                                " (expected NAME=kill|abort|error[@N])");
    };
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos || equals == 0) return invalid("no NAME=");
    ParsedPoint parsed{std::string(Trim(entry.substr(0, equals))), {FailureAction::kKill, 1}};
    std::string_view action = entry.substr(equals + 1);
    const size_t at = action.find('@');
    if (at != std::string_view::npos) {
      const std::string count(action.substr(at + 1));
      char* end = nullptr;
      const unsigned long long on_hit = std::strtoull(count.c_str(), &end, 10);
      if (count.empty() || *end != '\0' || on_hit == 0) return invalid("N must be 1 or more");
      parsed.point.on_hit = on_hit;
      action = action.substr(0, at);
    }
    action = Trim(action);
    if (action == "kill") {
      parsed.point.action = FailureAction::kKill;
    } else if (action == "abort") {
      parsed.point.action = FailureAction::kAbort;
    } else if (action == "error") {
      parsed.point.action = FailureAction::kError;
    } else {
      return invalid("unknown action");
    }
    points.push_back(std::move(parsed));
  }
  return points;
}

void WriteToStderr(const std::string& line) {
  // write(2), not stdio: the line must be out before a SIGKILL.
  for (size_t written = 0; written < line.size();) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + written, line.size() - written);
    if (n <= 0) return;
    written += static_cast<size_t>(n);
  }
}

void Registry::ArmFromEnvironment() {
  const char* spec = std::getenv(kEnvironmentVariable);
  if (spec == nullptr || *spec == '\0') {
    MutexLock lock(mu_);
    UpdateAttention();
    return;
  }
  auto parsed = Parse(spec);
  if (!parsed.ok()) {
    WriteToStderr(std::string(kEnvironmentVariable) + ": " + parsed.status().message() + "\n");
    std::abort();
  }
  Arm(std::move(*parsed));
}

}  // namespace

void ArmFailurePoint(std::string_view name, FailureAction action, uint64_t on_hit) {
  std::vector<ParsedPoint> points;
  points.push_back({std::string(name), {action, on_hit == 0 ? 1 : on_hit}});
  Registry::Get().Arm(std::move(points));
}

Status ArmFailurePoints(std::string_view spec) {
  TW_ASSIGN_OR_RETURN(std::vector<ParsedPoint> points, Parse(spec));
  Registry::Get().Arm(std::move(points));
  return Status::Ok();
}

void DisarmFailurePoint(std::string_view name) { Registry::Get().Disarm(name); }
void DisarmAllFailurePoints() { Registry::Get().DisarmAll(); }
uint64_t FailurePointHits(std::string_view name) { return Registry::Get().Hits(name); }

namespace failure_point_internal {

Status Hit(std::string_view name) {
  const auto due = Registry::Get().Hit(name);
  if (!due) return Status::Ok();
  const auto [action, hit] = *due;
  if (action == FailureAction::kError) {
    return Status::Internal("failure point " + std::string(name));
  }
  WriteToStderr("event=failure_point name=" + std::string(name) + " action=" +
                std::string(ActionName(action)) + " hit=" + std::to_string(hit) + "\n");
  if (action == FailureAction::kKill) ::kill(::getpid(), SIGKILL);
  std::abort();
}

}  // namespace failure_point_internal
}  // namespace tidewater
