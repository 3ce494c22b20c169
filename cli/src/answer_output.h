// Printing what a tidewaterd answered: members of its JSON and aligned text tables, shared
// by the admin subcommands. Stateless functions: thread-safe (each printf is one call).
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace tidewater::cli {

// The string member `name` of `object`, "" when absent or not a string.
std::string StringMember(const rapidjson::Value& object, const char* name);

// Prints `rows` (the first one the header) as columns two spaces apart, each as wide as
// its longest cell.
void PrintAlignedRows(const std::vector<std::vector<std::string>>& rows);

}  // namespace tidewater::cli
