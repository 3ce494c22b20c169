// Small files written so that a crash leaves either the old or the new contents, never a
// mix: the manifests, registries and secrets that modules keep beside their data. POSIX
// calls; errors as IOError naming the path. Thread-safe (no shared state); two writers of
// the same path must be serialized by their caller.
#pragma once

#include <string>
#include <string_view>

#include "tidewater/core/status.h"

namespace tidewater {

// Writes all of `data` to the open descriptor `fd` (retrying short writes and EINTR);
// `path` names it in errors.
Status WriteAll(int fd, std::string_view data, const std::string& path);

// Makes the entries of directory `dir` (a file created or renamed in it) durable.
Status SyncDirectory(const std::string& dir);

// Replaces `path` with `contents` atomically and durably: a temporary file beside it
// ("<path>.tmp", permissions `mode`), fsync, rename over `path`, fsync of the directory.
Status WriteFileAtomically(const std::string& path, std::string_view contents, int mode = 0644);

}  // namespace tidewater
