// PeerStore cosigning and equivocation records (peer_store.h).
#include <algorithm>
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

absl::StatusOr<uint64_t> PeerStore::CosignBase(absl::string_view origin) const {
  SEG_ASSIGN_OR_RETURN(std::optional<HeldCheckpoint> last,
                       LastCosigned(origin));
  SEG_ASSIGN_OR_RETURN(std::optional<HeldCheckpoint> held, Latest(origin));
  return std::max(last.has_value() ? last->size : 0,
                  held.has_value() ? held->size : 0);
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
  SEG_ASSIGN_OR_RETURN(std::optional<HeldCheckpoint> held, Latest(text.origin));
  std::optional<v1::EquivocationRecord> eq;
  auto refuse = [&](const absl::Status& s) -> absl::Status {
    if (eq.has_value()) SEG_RETURN_IF_ERROR(Persist(*eq));
    return s;
  };
  // Another verified root for the same size, from any source, forks.
  for (const std::optional<HeldCheckpoint>* same : {&held, &last}) {
    if (!same->has_value() || (*same)->size != text.size) continue;
    absl::Status s = CheckConsistent(**same, cp, text.size, {}, "cosign", &eq);
    if (!s.ok()) return refuse(s);
  }
  // Below what this node verified, a checkpoint cannot be proven against
  // it: stale (a newer one is due), not evidence of a fork.
  if (last.has_value() && text.size < last->size) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "checkpoint of %s at size %d is older than the last one cosigned "
        "(size %d)",
        text.origin, text.size, last->size));
  }
  if (held.has_value() && text.size < held->size) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "checkpoint of %s at size %d is older than the checkpoint of size %d "
        "this node holds verified (ask GetHeldSize again)",
        text.origin, text.size, held->size));
  }
  // The proof is from the larger of the two (CosignBase); the held one on
  // a tie, so that the cosigned checkpoint may become the held one.
  const bool from_held =
      held.has_value() && (!last.has_value() || last->size <= held->size);
  const std::optional<HeldCheckpoint>& base = from_held ? held : last;
  if (base.has_value() && base->size < text.size) {
    absl::Status s = CheckConsistent(*base, cp, proof_size, ProofBytes(proof),
                                     "cosign", &eq);
    if (!s.ok()) return refuse(s);
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
  // Proven from the held checkpoint (or none held): it is the held one now,
  // so evidence and the follower are checked against it.
  if (!held.has_value() || (from_held && text.size > held->size)) {
    v1::PeerCheckpoint latest;
    latest.set_note(cp.note);
    latest.set_size(text.size);
    latest.set_root(std::string(HashBytes(text.root)));
    batch.Put(Family::kPeers, OriginKey('c', text.origin),
              latest.SerializeAsString());
  }
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
