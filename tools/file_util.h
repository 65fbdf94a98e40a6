// Small POSIX file helpers for the tools (never used by the pure core).
// Thread-safe (no shared state).
#ifndef SEGLEDGER_TOOLS_FILE_UTIL_H_
#define SEGLEDGER_TOOLS_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace segledger::tools {

// Whole file. NOT_FOUND when absent; errors name the path.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);
// Creates or truncates `path` (mode 0644), writes `data`, fsyncs if `sync`.
// Creates missing parent directories.
absl::Status WriteStringToFile(const std::string& path, absl::string_view data,
                               bool sync);
// fsync of a directory (makes renames/creations in it durable).
absl::Status SyncDir(const std::string& path);
// Renames; FAILED_PRECONDITION when `to` exists.
absl::Status RenameNoReplace(const std::string& from, const std::string& to);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_FILE_UTIL_H_
