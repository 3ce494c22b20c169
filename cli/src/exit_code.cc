#include "commands.h"

namespace tidewater::cli {

int& ExitCode() {
  static int code = 0;
  return code;
}

}  // namespace tidewater::cli
