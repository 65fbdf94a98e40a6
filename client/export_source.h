// LogExportSource (tools/bundle_source.h) built from what a running node
// serves over the existing gRPC API, for `segctl export --out DIR`
// (DESIGN.md "Command-line contract", "Audit bundle and tiles").
//
// Fetch() reads the node's status (origin, latest signed checkpoint,
// verifier keys), opens the checkpoint with those keys, streams entries
// [0, checkpoint size) into memory, recomputes the Merkle tree locally
// (tools/tree_levels.h: tree levels 0, 8, 16, ... as hash tiles need) and
// checks the root against the checkpoint before returning. Tiles are then
// served from memory, so a bundle written from this source holds only data
// the client has checked against the node's signature.
//
// Thread-compatible: immutable after Fetch(); one writer drives it.
#ifndef SEGLEDGER_CLIENT_EXPORT_SOURCE_H_
#define SEGLEDGER_CLIENT_EXPORT_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/client.h"
#include "ledger/note.h"
#include "ledger/tiles.h"
#include "tools/bundle_source.h"
#include "tools/tree_levels.h"

namespace segledger::client {

struct GrpcExportOptions {
  // Everything is held in memory: larger logs are refused up front
  // (FAILED_PRECONDITION) rather than exhausting the client's memory.
  uint64_t max_entries = 50'000'000;
  uint64_t max_entry_bytes = uint64_t{8} << 30;  // bodies + signatures
  // A log the node follows (its verified copy, checked here again against
  // the keys the node trusts for it); empty: the node's own log.
  std::string origin;
};

class GrpcExportSource final : public tools::LogExportSource {
 public:
  // Fetches and checks the node's log up to its latest checkpoint. `client`
  // is only used during the call. Errors:
  //   FAILED_PRECONDITION  no checkpoint of a non-empty tree yet, or the
  //                        log exceeds `options`' limits;
  //   DATA_LOSS            the node's data does not check out (checkpoint
  //                        signature, origin, entry order, leaf hashes,
  //                        signature length or recomputed root);
  //   anything from the RPCs as returned by Client.
  static absl::StatusOr<std::unique_ptr<GrpcExportSource>> Fetch(
      Client& client, const GrpcExportOptions& options = {});

  std::string Origin() const override { return origin_; }
  uint64_t size() const { return size_; }
  // Every checkpoint the node keeps up to the latest (own log; a followed
  // log: the verified one), each checked against the entries' tree.
  absl::StatusOr<std::vector<std::string>> Checkpoints() override {
    std::vector<std::string> all = earlier_;
    all.push_back(checkpoint_note_);
    return all;
  }
  // OUT_OF_RANGE for tiles beyond the checkpoint's tree.
  absl::StatusOr<std::string> ReadHashTile(const TileId& tile) override;
  absl::StatusOr<std::string> ReadEntryBundle(const TileId& tile) override;
  absl::StatusOr<std::string> ReadSignatureBundle(const TileId& tile) override;
  std::vector<NoteVerifier> Verifiers() override;
  absl::StatusOr<std::vector<std::string>> CosignedCheckpoints() override {
    return cosigned_;
  }
  absl::StatusOr<std::vector<std::string>> PeerEvidence() override {
    return evidence_;
  }

  // What the node holds about other logs (PeerService.GetPeerData), for
  // the bundle's cosignatures/: cosigned checkpoints, and evidence as
  // tlog-proof files. `extra_keys` (C2SP vkeys) are the keys of evidence
  // origins whose logs are not in the bundle, so it can be checked
  // offline. INVALID_ARGUMENT for a malformed key.
  absl::Status AddPeerData(const v1::PeerDataResponse& data,
                           const std::vector<std::string>& extra_keys);

 private:
  GrpcExportSource() = default;
  // Adds the node's earlier checkpoints (DATA_LOSS when one does not
  // check out against the fetched tree).
  absl::Status AddEarlier(Client& client);
  // OUT_OF_RANGE unless leaves of `tile` lie within [0, size_).
  absl::Status CheckLeafTile(const TileId& tile) const;

  std::string origin_;
  uint64_t size_ = 0;
  std::string checkpoint_note_;
  std::vector<std::string> earlier_;  // checkpoints below size_, ascending
  std::vector<NoteVerifier> verifiers_;
  std::vector<NoteVerifier> extra_verifiers_;
  std::vector<std::string> cosigned_;
  std::vector<std::string> evidence_;
  // Per full or final partial entry tile N: u16 BE length || body per leaf,
  // and the 64-byte signatures concatenated.
  std::vector<std::string> entry_bundles_;
  std::vector<std::string> signature_bundles_;
  std::unique_ptr<tools::TreeLevels> tree_;
};

}  // namespace segledger::client

#endif  // SEGLEDGER_CLIENT_EXPORT_SOURCE_H_
