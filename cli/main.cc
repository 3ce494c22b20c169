// tidewater: the command line. See `tidewater --help` and the subcommands in cli/src.
#include <CLI/CLI.hpp>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tidewater: the Tidewater command line"};
  app.require_subcommand(1);
  // Subcommands, one line each.
  tidewater::cli::AddSinkCommand(app);
  tidewater::cli::AddTriggerCommand(app);
  tidewater::cli::AddLagCommand(app);
  tidewater::cli::AddTailCommand(app);
  tidewater::cli::AddVerifyCommand(app);
  tidewater::cli::AddAdminCommand(app);
  tidewater::cli::AddBackupCommand(app);
  CLI11_PARSE(app, argc, argv);
  return tidewater::cli::ExitCode();
}
