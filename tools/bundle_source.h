// What the bundle writer needs from one log: a small read-only interface
// that a stopped node's store (store_source.h), a running node over gRPC
// (`segctl export`) or a test can implement.
//
// Implementations must be safe to call from one thread at a time; the
// writer calls them sequentially.
#ifndef SEGLEDGER_TOOLS_BUNDLE_SOURCE_H_
#define SEGLEDGER_TOOLS_BUNDLE_SOURCE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/note.h"
#include "ledger/tiles.h"

namespace segledger::tools {

class LogExportSource {
 public:
  virtual ~LogExportSource() = default;

  // The log's origin (its checkpoints' first line).
  virtual std::string Origin() const = 0;

  // Every stored signed checkpoint note to export, in increasing size, at
  // most one per size. The last is the bundle's `checkpoint`. Tiles are
  // written for each of their sizes. Must not be empty.
  virtual absl::StatusOr<std::vector<std::string>> Checkpoints() = 0;

  // Tile contents exactly as in DESIGN.md "Audit bundle and tiles" for
  // tiles within the largest exported size (LogStore::ReadHashTile etc.).
  virtual absl::StatusOr<std::string> ReadHashTile(const TileId& tile) = 0;
  virtual absl::StatusOr<std::string> ReadEntryBundle(const TileId& tile) = 0;
  virtual absl::StatusOr<std::string> ReadSignatureBundle(
      const TileId& tile) = 0;

  // Verifier keys of every key this log used (current and retired).
  virtual std::vector<NoteVerifier> Verifiers() = 0;

  // Checkpoints of any log carrying other parties' cosignatures (witness
  // lines), as full signed notes. May be empty.
  virtual absl::StatusOr<std::vector<std::string>> CosignedCheckpoints() {
    return std::vector<std::string>();
  }
  // Verified peer evidence: one C2SP tlog-proof file per foreign entry this
  // node holds (tools/proof_file.h, with the SignedEntry as extra data).
  virtual absl::StatusOr<std::vector<std::string>> PeerEvidence() {
    return std::vector<std::string>();
  }
};

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_BUNDLE_SOURCE_H_
