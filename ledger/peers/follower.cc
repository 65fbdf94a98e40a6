// PeerStore::Follow (peer_store.h) and the cross-log view (follower.h).
#include "ledger/peers/follower.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/compact_range.h"
#include "ledger/entry_codec.h"
#include "ledger/merkle.h"
#include "ledger/peers/peer_keys.h"
#include "ledger/peers/peer_rows.h"
#include "ledger/status_macros.h"

namespace segledger::peers {

using store::Family;
using store::KvBatch;

namespace {

// A batch of followed entries checked against the verified prefix.
struct FollowBatch {
  std::vector<VerifiedEntry> entries;
  CompactRange range;
  PeerKeyring keyring;
  bool forked = false;  // first entry does not chain to the verified prefix
  std::string fork_detail;
  std::optional<Hash> root_at_held;  // root when the range reached held.size
  std::vector<NoteVerifier> keys;    // the key each entry must be signed by
};

// Entry signatures of a checked batch, in parallel on `pool` (may be null);
// the first failure by index.
absl::Status CheckSignatures(absl::string_view origin, uint64_t first,
                             absl::Span<const v1::SignedEntry> entries,
                             const FollowBatch& b, ThreadPool* pool) {
  std::vector<absl::Status> results(entries.size());
  auto run = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      results[i] =
          CheckEntrySignature(entries[i], first + i, origin, b.keys[i]);
    }
  };
  if (pool == nullptr || entries.size() < 64) {
    run(0, entries.size());
  } else {
    pool->ParallelFor(entries.size(), 32, run);
  }
  for (const absl::Status& s : results) SEG_RETURN_IF_ERROR(s);
  return absl::OkStatus();
}

absl::Status CheckBatch(absl::string_view origin, const v1::FollowState& state,
                        absl::Span<const v1::SignedEntry> entries,
                        const std::optional<HeldCheckpoint>& held,
                        FollowBatch& b) {
  std::vector<Hash> hashes;
  for (const std::string& h : state.range_hashes()) {
    SEG_ASSIGN_OR_RETURN(Hash x, HashFromBytes(h, "follow state range hash"));
    hashes.push_back(x);
  }
  SEG_ASSIGN_OR_RETURN(
      b.range, CompactRange::FromHashes(state.size(), std::move(hashes)));
  Hash prev = kZeroHash;
  if (state.size() > 0) {
    SEG_ASSIGN_OR_RETURN(prev, HashFromBytes(state.last_leaf_hash(), "leaf"));
  }
  TreeHasher hasher;  // the batch's tree hashing
  for (size_t i = 0; i < entries.size(); ++i) {
    const uint64_t index = state.size() + i;
    std::optional<NoteVerifier> key;
    SEG_ASSIGN_OR_RETURN(
        VerifiedEntry v,
        ParseAndResolve(entries[i], index, origin, b.keyring, &key));
    b.keys.push_back(*std::move(key));
    if (v.body.prev_hash() != HashBytes(prev)) {
      if (i > 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("entry %d of %s: prev_hash does not match entry %d",
                            index, origin, index - 1));
      }
      b.forked = true;
      b.fork_detail = absl::StrFormat(
          "entry %d does not chain to the verified entry %d", index, index - 1);
    }
    if (IsKeyRecord(v.body.record())) {
      SEG_RETURN_IF_ERROR(b.keyring.Apply(v.body, index));
    }
    prev = v.leaf_hash;
    b.range.Append(v.leaf_hash, nullptr, hasher);
    if (held.has_value() && held->size == b.range.size()) {
      b.root_at_held = b.range.Root(hasher);
    }
    b.entries.push_back(std::move(v));
  }
  return absl::OkStatus();
}

// Whether a step ending at `size` must be proven a prefix of `held`: it
// ends below it, and above 0 (the empty tree is a prefix of every tree).
bool NeedsProofToHeld(uint64_t size,
                      const std::optional<HeldCheckpoint>& held) {
  return held.has_value() && size > 0 && size < held->size;
}

// Why a checked batch under a validly signed checkpoint shows a fork
// (empty: it does not). `to_held` is set when NeedsProofToHeld.
std::string ForkDetail(const FollowBatch& b, const SignedCheckpoint& cp,
                       const std::optional<HeldCheckpoint>& held,
                       const std::optional<HeldConsistencyProof>& to_held) {
  if (b.forked) return b.fork_detail;
  if (b.range.Root() != cp.checkpoint.root) {
    return absl::StrFormat("checkpoint root %s differs from the entries' %s",
                           HashHex(cp.checkpoint.root),
                           HashHex(b.range.Root()));
  }
  if (held.has_value() && b.root_at_held.has_value() &&
      *b.root_at_held != held->root) {
    return absl::StrFormat("entries give root %s at held size %d, held %s",
                           HashHex(*b.root_at_held), held->size,
                           HashHex(held->root));
  }
  if (NeedsProofToHeld(b.range.size(), held)) {
    absl::Status c =
        VerifyConsistency(b.range.size(), held->size, to_held->proof,
                          cp.checkpoint.root, held->root);
    if (!c.ok()) {
      return absl::StrFormat(
          "checkpoint of size %d is not proven a prefix of the held "
          "checkpoint of size %d: %s",
          b.range.size(), held->size, c.message());
    }
  }
  return "";
}

v1::FollowState NextState(const v1::FollowState& state, const FollowBatch& b) {
  v1::FollowState next;
  next.set_size(b.range.size());
  next.set_last_leaf_hash(
      b.entries.empty() ? state.last_leaf_hash()
                        : std::string(HashBytes(b.entries.back().leaf_hash)));
  for (const Hash& h : b.range.hashes()) {
    next.add_range_hashes(std::string(HashBytes(h)));
  }
  return next;
}

}  // namespace

absl::StatusOr<v1::FollowState> PeerStore::FollowStateOf(
    absl::string_view origin) const {
  SEG_ASSIGN_OR_RETURN(
      std::optional<v1::FollowState> state,
      ReadPeerRow<v1::FollowState>(kv_, OriginKey('f', origin),
                                   absl::StrCat("follow state of ", origin)));
  return state.value_or(v1::FollowState());
}

absl::StatusOr<v1::SignedEntry> PeerStore::FollowedEntry(
    absl::string_view origin, uint64_t index) const {
  const std::string what =
      absl::StrFormat("followed entry %s index %d", origin, index);
  SEG_ASSIGN_OR_RETURN(
      std::optional<v1::SignedEntry> e,
      ReadPeerRow<v1::SignedEntry>(kv_, PositionKey('v', origin, index), what));
  if (!e.has_value()) {
    return absl::NotFoundError(
        absl::StrFormat("no followed entry of %s at index %d", origin, index));
  }
  return *std::move(e);
}

absl::StatusOr<uint64_t> PeerStore::Follow(
    absl::string_view origin, absl::Span<const v1::SignedEntry> entries,
    absl::string_view checkpoint,
    const std::optional<HeldConsistencyProof>& to_held) {
  absl::MutexLock l(&OriginMutex(origin));
  FollowBatch b;
  SEG_ASSIGN_OR_RETURN(b.keyring, Keyring(origin));
  const size_t learned = b.keyring.applied_count();
  SEG_ASSIGN_OR_RETURN(v1::FollowState state, FollowStateOf(origin));
  SEG_ASSIGN_OR_RETURN(std::optional<HeldCheckpoint> held, Latest(origin));
  // Below the held checkpoint only the proof ties the step to it (checked
  // with the step's root below); refused before any entry is verified.
  const uint64_t end = state.size() + entries.size();
  if (NeedsProofToHeld(end, held)) {
    if (!to_held.has_value()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "follow %s: the entries end at size %d, below the held checkpoint "
          "of size %d, and no consistency proof from %d to %d was given",
          origin, end, held->size, end, held->size));
    }
    if (to_held->held_size != held->size) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "follow %s: the consistency proof leads to size %d, but the held "
          "checkpoint is of size %d now (ask for a proof to it)",
          origin, to_held->held_size, held->size));
    }
  }
  SEG_RETURN_IF_ERROR(CheckBatch(origin, state, entries, held, b));
  SEG_RETURN_IF_ERROR(CheckSignatures(origin, state.size(), entries, b, pool_));
  SEG_ASSIGN_OR_RETURN(SignedCheckpoint cp,
                       OpenPeerCheckpoint(checkpoint, origin, b.keyring));
  const uint64_t size = b.range.size();
  if (cp.checkpoint.size != size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "follow %s: checkpoint size %d, but the entries end at %d", origin,
        cp.checkpoint.size, size));
  }
  // From here on the checkpoint is validly signed: a mismatch is a fork.
  const std::string fork = ForkDetail(b, cp, held, to_held);
  if (!fork.empty()) {
    v1::EquivocationRecord r =
        MakeEquivocation(origin, held.has_value() ? held->note : "", cp.note,
                         "follower", absl::StrCat(origin, ": ", fork));
    SEG_RETURN_IF_ERROR(Persist(r));
    return absl::FailedPreconditionError(
        absl::StrCat("equivocation: ", r.detail()));
  }
  KvBatch batch;
  PendingIndex pending;
  for (size_t i = 0; i < entries.size(); ++i) {
    batch.Put(Family::kPeers, PositionKey('v', origin, b.entries[i].index),
              entries[i].SerializeAsString());
    SEG_RETURN_IF_ERROR(IndexRegistrations(b.entries[i], batch, pending));
  }
  v1::FollowState next = NextState(state, b);
  next.set_checkpoint(cp.note);
  batch.Put(Family::kPeers, OriginKey('f', origin), next.SerializeAsString());
  if (!held.has_value() || size > held->size) {
    v1::PeerCheckpoint row;
    row.set_note(cp.note);
    row.set_size(size);
    row.set_root(std::string(HashBytes(cp.checkpoint.root)));
    batch.Put(Family::kPeers, OriginKey('c', origin), row.SerializeAsString());
  }
  if (b.keyring.applied_count() != learned) {
    batch.Put(Family::kPeers, OriginKey('k', origin),
              b.keyring.ToProto().SerializeAsString());
  }
  SEG_RETURN_IF_ERROR(kv_.Write(batch, /*sync=*/true));
  generation_.fetch_add(1);
  return size;
}

absl::Status LoadVerifiedLogs(const PeerStore& peers,
                              domain::DomainGraph* graph) {
  std::set<std::pair<std::string, uint64_t>> seen;
  absl::Status inner;
  auto add = [&](absl::string_view key, absl::string_view value, bool stored) {
    absl::StatusOr<std::pair<std::string, uint64_t>> pos =
        ParseRef(key.substr(2));
    if (!pos.ok()) {
      inner = pos.status();
      return false;
    }
    if (!seen.insert(*pos).second) return true;
    v1::SignedEntry e;
    v1::StoredEvidence ev;
    if (stored) {
      if (!ev.ParseFromString(std::string(value))) {
        inner = absl::DataLossError(absl::StrCat("evidence of ", pos->first));
        return false;
      }
      e = ev.evidence().entry().entry();
    } else if (!e.ParseFromString(std::string(value))) {
      inner = absl::DataLossError(absl::StrCat("followed entry ", pos->first));
      return false;
    }
    inner = graph->AddSigned(pos->first, e.body(), e.signature(), nullptr);
    return inner.ok();
  };
  SEG_RETURN_IF_ERROR(
      peers.kv().Scan(Family::kPeers, "v/", "v0",
                      [&](absl::string_view k, absl::string_view v) {
                        return add(k, v, false);
                      }));
  SEG_RETURN_IF_ERROR(inner);
  SEG_RETURN_IF_ERROR(
      peers.kv().Scan(Family::kPeers, "e/", "e0",
                      [&](absl::string_view k, absl::string_view v) {
                        return add(k, v, true);
                      }));
  return inner;
}

absl::Status LoadTransferEvidence(const PeerStore& peers,
                                  const std::set<std::string>& transfers,
                                  domain::DomainGraph* graph) {
  for (const std::string& t : transfers) {
    SEG_ASSIGN_OR_RETURN(auto positions, peers.EvidenceOfTransfer(t));
    for (const auto& [origin, index] : positions) {
      if (graph->Find(origin, index) != nullptr) continue;
      absl::StatusOr<v1::StoredEvidence> ev = peers.GetEvidence(origin, index);
      if (absl::IsNotFound(ev.status())) {
        return absl::DataLossError(
            absl::StrCat("indexed ", ev.status().message()));
      }
      SEG_RETURN_IF_ERROR(ev.status());
      const v1::SignedEntry& e = ev->evidence().entry().entry();
      SEG_RETURN_IF_ERROR(
          graph->AddSigned(origin, e.body(), e.signature(), nullptr));
    }
  }
  return absl::OkStatus();
}

absl::Status LoadOwnLog(const store::LogStore& log,
                        domain::DomainGraph* graph) {
  absl::Status inner;
  SEG_RETURN_IF_ERROR(
      log.ScanEntries(0, log.Size(), [&](uint64_t, const v1::SignedEntry& e) {
        inner =
            graph->AddSigned(log.origin(), e.body(), e.signature(), nullptr);
        return inner.ok();
      }));
  return inner;
}

absl::StatusOr<std::vector<domain::DomainFinding>> CrossLogFindings(
    const PeerStore& peers, const domain::DomainGraph& graph,
    const domain::FindingOptions& options) {
  std::vector<domain::DomainFinding> out = graph.Findings(options);
  SEG_ASSIGN_OR_RETURN(std::vector<v1::EquivocationRecord> eq,
                       peers.Equivocations());
  for (domain::DomainFinding& f : EquivocationDomainFindings(eq)) {
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace segledger::peers
