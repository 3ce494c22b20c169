// Calling tidewaterd's admin API (TidewaterAdmin_20261205.<Operation>, JSON 1.0, signed as
// signing_flags.h says) from an admin subcommand, with the subcommands' shared way of
// reporting failures: one line "<command>: <reason>" on stderr. Stateless functions:
// thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "signing_flags.h"
#include "tidewater/core/status.h"

namespace tidewater::cli {

// The answer of TidewaterAdmin_20261205.<operation> to `body` from the tidewaterd at
// `endpoint`. On failure (no client, the server refused or could not be reached) prints
// "<command>: <reason>" to stderr and returns the error.
Result<std::string> CallAdmin(std::string_view command, const std::string& endpoint,
                              const SigningFlags& signing, std::string_view operation,
                              std::string_view body);

// Parses `answer` into `document`: true when it is a JSON object whose member `member` has
// type `type`. Otherwise prints "<command>: unexpected answer from the server" to stderr and
// returns false.
bool ParseAnswer(std::string_view command, const std::string& answer, const char* member,
                 rapidjson::Type type, rapidjson::Document* document);

// A request body of string members, in the order given: {"Principal":"alice",...}.
std::string JsonObjectOfStrings(
    std::initializer_list<std::pair<std::string_view, std::string_view>> members);

}  // namespace tidewater::cli
