// The web console's static files (server/console/), embedded into the server at build time
// by server/console/embed_assets.cmake, which generates the definition of ConsoleAssets().
#pragma once

#include <string_view>
#include <vector>

namespace tidewater::server {

// One embedded file: its name in server/console/ and its bytes (static storage).
struct ConsoleAsset {
  std::string_view name;
  std::string_view bytes;
};

// Every embedded file; immutable, safe to read from any thread.
const std::vector<ConsoleAsset>& ConsoleAssets();

}  // namespace tidewater::server
