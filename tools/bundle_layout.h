// Audit bundle layout (DESIGN.md "Audit bundle and tiles", C2SP tlog-tiles)
// plus segledger's additions, documented in tools/README.md:
//
//   <bundle>/MANIFEST                        "segledger-bundle/v1" + one line
//                                            per log and per extra file
//   <bundle>/keys                            one verifier key per line
//   <bundle>/<log dir>/checkpoint            latest exported checkpoint
//   <bundle>/<log dir>/checkpoints/<size>    every exported checkpoint
//   <bundle>/<log dir>/tile/...  tile/entries/...  signatures/...
//   <bundle>/cosignatures/<log dir>/<size>.<8 hex>   cosigned checkpoints
//   <bundle>/cosignatures/evidence/<log dir>/<index>.tlog-proof  peer evidence
//
// MANIFEST lets a reader that cannot list directories (HTTP) find every log
// and every exported checkpoint; it is not trusted (every claim in it is
// checked against signed data). Pure and thread-safe.
#ifndef SEGLEDGER_TOOLS_BUNDLE_LAYOUT_H_
#define SEGLEDGER_TOOLS_BUNDLE_LAYOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace segledger::tools {

inline constexpr absl::string_view kManifestPath = "MANIFEST";
inline constexpr absl::string_view kKeysPath = "keys";
inline constexpr absl::string_view kManifestMagic = "segledger-bundle/v1";

struct ManifestLog {
  std::string log_dir;
  std::vector<uint64_t> checkpoint_sizes;  // ascending; last = latest
};

struct Manifest {
  std::vector<ManifestLog> logs;
  std::vector<std::string> cosignatures;  // bundle-relative paths
  std::vector<std::string> evidence;      // bundle-relative paths
};

// Text form:
//   segledger-bundle/v1\n
//   log <log dir> <size> <size> ...\n
//   cosignature <path>\n
//   evidence <path>\n
std::string FormatManifest(const Manifest& m);
// INVALID_ARGUMENT naming the line for anything malformed: unknown line
// kind, sizes not ascending, paths with "..", absolute or empty paths.
absl::StatusOr<Manifest> ParseManifest(absl::string_view text);

// "<log dir>/checkpoint", "<log dir>/checkpoints/<size>".
std::string CheckpointPath(absl::string_view log_dir);
std::string CheckpointAtPath(absl::string_view log_dir, uint64_t size);
// "<log dir>/<rel>".
std::string LogPath(absl::string_view log_dir, absl::string_view rel);

// True for a relative path without "..", "." or empty components.
bool IsSafeRelativePath(absl::string_view path);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_BUNDLE_LAYOUT_H_
