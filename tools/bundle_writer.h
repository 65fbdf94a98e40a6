// Writes an audit bundle (tools/bundle_layout.h) from one or more logs.
//
// Atomic: everything is written (and fsynced) into a fresh temporary
// directory beside `out_dir`, which is then renamed to `out_dir`. A crash
// leaves at most a "<out_dir>.tmp-*" directory, never a partial bundle under
// the final name. Not thread-safe per source; distinct calls may run
// concurrently with distinct targets.
#ifndef SEGLEDGER_TOOLS_BUNDLE_WRITER_H_
#define SEGLEDGER_TOOLS_BUNDLE_WRITER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "tools/bundle_source.h"

namespace segledger::tools {

struct BundleWriteOptions {
  // fsync every file and directory before the rename (off only in tests
  // that write many bundles).
  bool sync = true;
};

// Writes the bundle of `logs` (not owned; each used once, in order) to
// `out_dir`, which must not exist (FAILED_PRECONDITION otherwise). Two logs
// with one origin are INVALID_ARGUMENT. Source errors are returned with the
// origin and the path being written.
absl::Status WriteBundle(absl::Span<LogExportSource* const> logs,
                         const std::string& out_dir,
                         const BundleWriteOptions& options = {});

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_BUNDLE_WRITER_H_
