#include "client/export_source.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/ed25519.h"
#include "ledger/entry_codec.h"
#include "ledger/hash.h"
#include "ledger/status_macros.h"
#include "tools/proof_file.h"

namespace segledger::client {
namespace {

// Entries as fetched: one tile's entry and signature bundles at a time.
struct Fetched {
  std::vector<std::string> entry_bundles;
  std::vector<std::string> signature_bundles;
  std::vector<Hash> leaves;
  uint64_t bytes = 0;
};

// Appends entry `e` (which must be leaf `next`) to `f`; DATA_LOSS when the
// node's stream or entry is inconsistent (DESIGN.md "Audit bundle and
// tiles": bodies fit a u16 length, signatures are 64 bytes).
absl::Status AddEntry(const v1::EntryResponse& e, uint64_t next,
                      const GrpcExportOptions& options, Fetched& f) {
  if (e.index() != next) {
    return absl::DataLossError(absl::StrCat("node sent entry ", e.index(),
                                            " where entry ", next, " was due"));
  }
  const std::string& body = e.entry().body();
  const std::string& sig = e.entry().signature();
  if (body.size() > 0xFFFF) {
    return absl::DataLossError(absl::StrCat(
        "entry ", next, ": body of ", body.size(), " bytes exceeds 65535"));
  }
  if (sig.size() != kEd25519SignatureSize) {
    return absl::DataLossError(absl::StrCat("entry ", next, ": signature of ",
                                            sig.size(), " bytes, want 64"));
  }
  Hash leaf = EntryLeafHash(body);
  if (!e.leaf_hash().empty() &&
      e.leaf_hash() != std::string(leaf.begin(), leaf.end())) {
    return absl::DataLossError(absl::StrCat(
        "entry ", next, ": node's leaf hash ",
        absl::BytesToHexString(e.leaf_hash()), " is not the hash of its body"));
  }
  f.bytes += body.size() + sig.size();
  if (f.bytes > options.max_entry_bytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("log entries exceed max_entry_bytes ",
                     options.max_entry_bytes, " at entry ", next));
  }
  if (next % kTileWidth == 0) {
    f.entry_bundles.emplace_back();
    f.signature_bundles.emplace_back();
  }
  std::string& bundle = f.entry_bundles.back();
  bundle.push_back(static_cast<char>(body.size() >> 8));
  bundle.push_back(static_cast<char>(body.size() & 0xFF));
  bundle += body;
  f.signature_bundles.back() += sig;
  f.leaves.push_back(leaf);
  return absl::OkStatus();
}

absl::StatusOr<Fetched> FetchEntries(Client& client, uint64_t size,
                                     const GrpcExportOptions& options) {
  Fetched f;
  // The size is the node's claim: reserve for at most 2^20 leaves, grow
  // with what it actually sends.
  f.leaves.reserve(std::min<uint64_t>(size, uint64_t{1} << 20));
  absl::Status bad;
  SEG_RETURN_IF_ERROR(client.GetEntries(
      0, size,
      [&](v1::EntryResponse& e) {
        bad = AddEntry(e, f.leaves.size(), options, f);
        return bad.ok() && f.leaves.size() < size;
      },
      options.origin));
  SEG_RETURN_IF_ERROR(bad);
  if (f.leaves.size() != size) {
    return absl::DataLossError(absl::StrCat(
        "node sent ", f.leaves.size(), " entries of the checkpoint's ", size));
  }
  return f;
}

absl::StatusOr<std::vector<NoteVerifier>> ParseVerifiers(
    const v1::StatusResponse& status) {
  std::vector<NoteVerifier> out;
  for (const std::string& k : status.verifier_keys()) {
    absl::StatusOr<NoteVerifier> v = NoteVerifier::FromVerifierKey(k);
    if (!v.ok()) {
      return absl::DataLossError(absl::StrCat("node's verifier key \"", k,
                                              "\": ", v.status().message()));
    }
    out.push_back(*std::move(v));
  }
  if (out.empty()) return absl::DataLossError("node lists no verifier keys");
  return out;
}

// The status' latest checkpoint, opened with the status' keys.
absl::StatusOr<SignedCheckpoint> OpenLatest(const v1::StatusResponse& status,
                                            absl::Span<const NoteVerifier> keys,
                                            const GrpcExportOptions& options) {
  if (status.latest_checkpoint().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "log ", status.origin(), " has no checkpoint yet (checkpoint-now)"));
  }
  absl::StatusOr<SignedCheckpoint> cp =
      OpenCheckpoint(status.latest_checkpoint(), keys, status.origin());
  if (!cp.ok()) {
    return absl::DataLossError(absl::StrCat(
        "latest checkpoint of ", status.origin(), ": ", cp.status().message()));
  }
  uint64_t size = cp->checkpoint.size;
  if (size == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "log ", status.origin(), " has no checkpoint of a non-empty tree"));
  }
  if (size > options.max_entries) {
    return absl::FailedPreconditionError(
        absl::StrCat("log ", status.origin(), " has ", size,
                     " entries; export over gRPC holds at most max_entries ",
                     options.max_entries, " in memory"));
  }
  return cp;
}

// For a followed log: the status' view of that log (its keys and the
// node's verified checkpoint of it) in place of the node's own.
absl::StatusOr<v1::StatusResponse> FollowedStatus(
    Client& client, const v1::StatusResponse& status,
    const std::string& origin) {
  for (const v1::PeerLogStatus& p : status.peers()) {
    if (p.origin() != origin) continue;
    v1::StatusResponse out;
    out.set_origin(origin);
    *out.mutable_verifier_keys() = p.verifier_keys();
    SEG_ASSIGN_OR_RETURN(v1::CheckpointResponse cp,
                         client.GetCheckpoint(std::nullopt, origin));
    out.set_latest_checkpoint(cp.note());
    return out;
  }
  return absl::NotFoundError(
      absl::StrCat("origin: the node has no peer \"", origin, "\""));
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcExportSource>> GrpcExportSource::Fetch(
    Client& client, const GrpcExportOptions& options) {
  SEG_ASSIGN_OR_RETURN(v1::StatusResponse status, client.GetStatus());
  if (!options.origin.empty()) {
    SEG_ASSIGN_OR_RETURN(status,
                         FollowedStatus(client, status, options.origin));
  }
  std::unique_ptr<GrpcExportSource> src(new GrpcExportSource());
  SEG_ASSIGN_OR_RETURN(src->verifiers_, ParseVerifiers(status));
  SEG_ASSIGN_OR_RETURN(SignedCheckpoint cp,
                       OpenLatest(status, src->verifiers_, options));
  src->origin_ = cp.checkpoint.origin;
  src->size_ = cp.checkpoint.size;
  src->checkpoint_note_ = cp.note;
  SEG_ASSIGN_OR_RETURN(Fetched f, FetchEntries(client, src->size_, options));
  if (src->origin_ != status.origin()) {
    return absl::DataLossError(absl::StrCat("checkpoint of ", src->origin_,
                                            " where ", status.origin(),
                                            " was asked for"));
  }
  std::vector<bool> known(f.leaves.size(), true);
  src->tree_ = std::make_unique<tools::TreeLevels>(std::move(f.leaves),
                                                   std::move(known), nullptr);
  // Nothing is exported unless the entries are the checkpoint's tree.
  std::optional<Hash> root = src->tree_->RootAt(src->size_);
  if (!root.has_value() || *root != cp.checkpoint.root) {
    return absl::DataLossError(absl::StrCat(
        "root of the ", src->size_, " entries served by the node is ",
        root.has_value() ? HashHex(*root) : "unknown", ", its checkpoint says ",
        HashHex(cp.checkpoint.root)));
  }
  src->entry_bundles_ = std::move(f.entry_bundles);
  src->signature_bundles_ = std::move(f.signature_bundles);
  if (options.origin.empty()) SEG_RETURN_IF_ERROR(src->AddEarlier(client));
  return src;
}

absl::Status GrpcExportSource::AddEarlier(Client& client) {
  absl::StatusOr<std::vector<v1::CheckpointResponse>> all =
      client.ListCheckpoints();
  // A node without ListCheckpoints: the latest checkpoint only.
  if (absl::IsUnimplemented(all.status())) return absl::OkStatus();
  if (!all.ok()) return all.status();
  for (const v1::CheckpointResponse& c : *all) {
    if (c.size() == 0 || c.size() >= size_) continue;
    absl::StatusOr<SignedCheckpoint> cp =
        OpenCheckpoint(c.note(), verifiers_, origin_);
    std::optional<Hash> root = tree_->RootAt(c.size());
    if (!cp.ok() || cp->checkpoint.size != c.size() || !root.has_value() ||
        *root != cp->checkpoint.root) {
      return absl::DataLossError(
          absl::StrCat("checkpoint of size ", c.size(), " served by the node ",
                       cp.ok() ? "does not match the entries' tree"
                               : std::string(cp.status().message())));
    }
    earlier_.push_back(c.note());
  }
  return absl::OkStatus();
}

std::vector<NoteVerifier> GrpcExportSource::Verifiers() {
  std::vector<NoteVerifier> all = verifiers_;
  all.insert(all.end(), extra_verifiers_.begin(), extra_verifiers_.end());
  return all;
}

absl::Status GrpcExportSource::AddPeerData(
    const v1::PeerDataResponse& data,
    const std::vector<std::string>& extra_keys) {
  for (const std::string& k : extra_keys) {
    absl::StatusOr<NoteVerifier> v = NoteVerifier::FromVerifierKey(k);
    if (!v.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("peer key \"", k, "\": ", v.status().message()));
    }
    extra_verifiers_.push_back(*std::move(v));
  }
  for (const std::string& n : data.our_cosigned()) cosigned_.push_back(n);
  for (const std::string& n : data.cosigned_by_us()) cosigned_.push_back(n);
  for (const v1::StoredEvidence& s : data.evidence()) {
    const v1::ProvenEntry& e = s.evidence().entry();
    std::vector<Hash> proof;
    for (const std::string& b : e.inclusion_proof()) {
      if (b.size() != kHashSize) {
        return absl::DataLossError(
            absl::StrCat("evidence of ", s.evidence().origin(), " index ",
                         e.index(), ": proof hash of ", b.size(), " bytes"));
      }
      Hash h;
      std::copy(b.begin(), b.end(), h.begin());
      proof.push_back(h);
    }
    evidence_.push_back(tools::MakeEntryProofFile(e.entry(), e.index(), proof,
                                                  s.evidence().checkpoint()));
  }
  return absl::OkStatus();
}

absl::Status GrpcExportSource::CheckLeafTile(const TileId& tile) const {
  if (tile.width == 0 || tile.width > kTileWidth ||
      tile.index >= entry_bundles_.size() ||
      tile.index * kTileWidth + tile.width > size_) {
    return absl::OutOfRangeError(
        absl::StrCat("tile ", tile.index, " width ", tile.width,
                     " is beyond the exported size ", size_, " of ", origin_));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GrpcExportSource::ReadHashTile(const TileId& tile) {
  std::optional<std::string> t = tree_->ExpectedTile(tile);
  if (!t.has_value()) {
    return absl::OutOfRangeError(absl::StrCat("hash tile ", HashTilePath(tile),
                                              " is beyond the exported size ",
                                              size_, " of ", origin_));
  }
  return *std::move(t);
}

absl::StatusOr<std::string> GrpcExportSource::ReadEntryBundle(
    const TileId& tile) {
  SEG_RETURN_IF_ERROR(CheckLeafTile(tile));
  const std::string& b = entry_bundles_[tile.index];
  // Prefix of `tile.width` length-prefixed bodies (all lengths checked).
  size_t pos = 0;
  for (uint16_t i = 0; i < tile.width; ++i) {
    size_t len = (static_cast<unsigned char>(b[pos]) << 8) |
                 static_cast<unsigned char>(b[pos + 1]);
    pos += 2 + len;
  }
  return b.substr(0, pos);
}

absl::StatusOr<std::string> GrpcExportSource::ReadSignatureBundle(
    const TileId& tile) {
  SEG_RETURN_IF_ERROR(CheckLeafTile(tile));
  return signature_bundles_[tile.index].substr(
      0, size_t{tile.width} * kEd25519SignatureSize);
}

}  // namespace segledger::client
