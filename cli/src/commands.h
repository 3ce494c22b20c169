// The subcommands of `tidewater`. Each Add*Command registers its subcommand (flags and the
// function that runs it) on the application; the function's exit code becomes the
// process's. One subcommand per file: <name>_command.cc.
#pragma once

#include <signal.h>

#include <CLI/CLI.hpp>

namespace tidewater::cli {

// Set by a subcommand's callback: what `tidewater` exits with.
int& ExitCode();

// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts later) and
// returns them, for a subcommand that waits for them with sigtimedwait to stop gracefully.
sigset_t BlockStopSignals();

// `tidewater sink --config FILE` (sink_command.cc).
void AddSinkCommand(CLI::App& app);

// `tidewater trigger --config FILE` (trigger_command.cc).
void AddTriggerCommand(CLI::App& app);

// `tidewater lag --endpoint URL` (lag_command.cc).
void AddLagCommand(CLI::App& app);

// `tidewater tail --endpoint URL --table NAME` (tail_command.cc).
void AddTailCommand(CLI::App& app);

// tidewater verify --a URL --b URL --table NAME (verify_command.cc).
void AddVerifyCommand(CLI::App& app);

// `tidewater admin split-shard --endpoint URL --table NAME --shard SHARD_ID`, `admin cost`
// (admin_command.cc), `admin credentials ...` and `admin policy ...` (below).
void AddAdminCommand(CLI::App& app);

// `tidewater admin credentials create|list|delete --endpoint URL ...` under `admin`
// (credentials_command.cc).
void AddAdminCredentialsCommand(CLI::App& admin);

// `tidewater admin policy put|get|delete|list --endpoint URL ...` under `admin`
// (policy_command.cc).
void AddAdminPolicyCommand(CLI::App& admin);

// `tidewater backup copy --from URL --to URL BACKUP_ARN` (backup_command.cc).
void AddBackupCommand(CLI::App& app);

}  // namespace tidewater::cli
