// Environment variables set (or removed) for a scope and restored when it ends.
#pragma once

#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tidewater::testing {

// Remembers the values of the variables it touches and puts them back when destroyed.
// Not thread-safe (setenv is not): use it where no other thread reads the environment.
class ScopedEnv {
 public:
  // Removes each of `names` for the scope.
  explicit ScopedEnv(std::initializer_list<const char*> names = {}) {
    for (const char* name : names) Set(name, std::nullopt);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) Apply(it->first, it->second);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

  // Sets `name` to `value`, or removes it when `value` is nullopt.
  void Set(const char* name, std::optional<std::string> value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
    Apply(name, value);
  }

 private:
  static void Apply(const std::string& name, const std::optional<std::string>& value) {
    if (value) {
      setenv(name.c_str(), value->c_str(), 1);
    } else {
      unsetenv(name.c_str());
    }
  }

  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace tidewater::testing
