// PeerStore cosigning and equivocation records (peer_store.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/checkpoint.h"
#include "ledger/peers/peer_keys.h"
#include "ledger/peers/peer_rows.h"
#include "ledger/peers/peer_store.h"
#include "ledger/status_macros.h"

namespace segledger::peers {

using store::Family;
using store::KvBatch;

namespace {

google::protobuf::RepeatedPtrField<std::string> ProofBytes(
    absl::Span<const Hash> proof) {
  google::protobuf::RepeatedPtrField<std::string> out;
  for (const Hash& h : proof) *out.Add() = std::string(HashBytes(h));
  return out;
}

}  // namespace

absl::StatusOr<std::optional<HeldCheckpoint>> PeerStore::LastCosigned(
    absl::string_view origin) const {
  return ReadHeldCheckpoint(
      kv_, OriginKey('t', origin),
      absl::StrCat("last cosigned checkpoint of ", origin));
}

absl::StatusOr<std::string> PeerStore::Cosign(absl::string_view note,
                                              uint64_t proof_size,
                                              absl::Span<const Hash> proof,
                                              const NoteSigner& me) {
  SEG_ASSIGN_OR_RETURN(Checkpoint text, PeekCheckpoint(note));
  absl::MutexLock l(&OriginMutex(text.origin));
  SEG_ASSIGN_OR_RETURN(PeerKeyring keyring, Keyring(text.origin));
  SEG_ASSIGN_OR_RETURN(SignedCheckpoint cp,
                       OpenPeerCheckpoint(note, text.origin, keyring));
  SEG_ASSIGN_OR_RETURN(std::optional<HeldCheckpoint> last,
                       LastCosigned(text.origin));
  SEG_ASSIGN_OR_RETURN(std::optional<HeldCheckpoint> latest,
                       Latest(text.origin));
  std::optional<v1::EquivocationRecord> eq;
  // Another verified root for the same size, from any source, also forks.
  if (latest.has_value() && latest->size == text.size) {
    absl::Status s =
        CheckConsistent(*latest, cp, latest->size, {}, "cosign", &eq);
    if (!s.ok()) {
      if (eq.has_value()) SEG_RETURN_IF_ERROR(Persist(*eq));
      return s;
    }
  }
  if (last.has_value()) {
    if (text.size < last->size) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "checkpoint of %s at size %d is older than the last one cosigned "
          "(size %d)",
          text.origin, text.size, last->size));
    }
    absl::Status s = CheckConsistent(*last, cp, proof_size, ProofBytes(proof),
                                     "cosign", &eq);
    if (!s.ok()) {
      if (eq.has_value()) SEG_RETURN_IF_ERROR(Persist(*eq));
      return s;
    }
  }
  SEG_ASSIGN_OR_RETURN(std::string cosigned, AddNoteSignature(note, me));
  v1::PeerCheckpoint row;
  row.set_note(cosigned);
  row.set_size(text.size);
  row.set_root(std::string(HashBytes(text.root)));
  KvBatch batch;
  batch.Put(Family::kPeers, OriginKey('t', text.origin),
            row.SerializeAsString());
  batch.Put(Family::kPeers, PositionKey('s', text.origin, text.size), cosigned);
  SEG_RETURN_IF_ERROR(kv_.Write(batch, /*sync=*/true));
  return cosigned;
}

absl::StatusOr<std::vector<std::string>> PeerStore::CosignedNotes(
    absl::string_view origin) const {
  std::vector<std::string> out;
  const std::string prefix = OriginPrefix('s', origin);
  SEG_RETURN_IF_ERROR(kv_.Scan(Family::kPeers, prefix, PrefixEnd(prefix),
                               [&](absl::string_view, absl::string_view value) {
                                 out.emplace_back(value);
                                 return true;
                               }));
  return out;
}

absl::StatusOr<std::vector<v1::EquivocationRecord>> PeerStore::Equivocations(
    absl::string_view origin) const {
  const std::string prefix =
      origin.empty() ? std::string("q/") : OriginPrefix('q', origin);
  return ScanPeerRows<v1::EquivocationRecord>(kv_, prefix,
                                              "equivocation records");
}

namespace {

int64_t OfferedSize(const v1::EquivocationRecord& r) {
  absl::StatusOr<uint64_t> size = CheckpointNoteSize(r.offered_note());
  return size.ok() ? static_cast<int64_t>(*size) : -1;
}

}  // namespace

std::vector<Finding> EquivocationFindings(
    absl::Span<const v1::EquivocationRecord> records) {
  std::vector<Finding> out;
  for (const v1::EquivocationRecord& r : records) {
    out.push_back(Finding{FindingKind::kEquivocation,
                          DefaultSeverity(FindingKind::kEquivocation),
                          r.origin(), OfferedSize(r),
                          absl::StrCat(r.source(), ": ", r.detail())});
  }
  return out;
}

std::vector<domain::DomainFinding> EquivocationDomainFindings(
    absl::Span<const v1::EquivocationRecord> records) {
  std::vector<domain::DomainFinding> out;
  for (const v1::EquivocationRecord& r : records) {
    domain::DomainFinding f;
    f.kind = domain::DomainFindingKind::kEquivocation;
    f.severity = domain::DefaultSeverityOf(f.kind);
    f.message = absl::StrCat("log ", r.origin(), " equivocated (", r.source(),
                             "): ", r.detail());
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace segledger::peers
