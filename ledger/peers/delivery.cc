#include "ledger/peers/delivery.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/entry_codec.h"
#include "ledger/note.h"
#include "ledger/peers/handoff.h"
#include "ledger/status_macros.h"

namespace segledger::peers {

absl::StatusOr<DeliveryReport> DeliverDue(Outbox& outbox,
                                          PeerTransport& transport,
                                          absl::Time now, size_t max) {
  SEG_ASSIGN_OR_RETURN(std::vector<Delivery> due, outbox.Pending(now, max));
  DeliveryReport report;
  // One HeldSize question per destination per pass; it grows as we deliver.
  std::map<std::string, absl::StatusOr<uint64_t>> held;
  for (const Delivery& d : due) {
    auto it = held.find(d.destination);
    if (it == held.end()) {
      it = held.emplace(d.destination,
                        transport.HeldSize(d.destination, outbox.origin()))
               .first;
    }
    absl::Status st = it->second.status();
    if (st.ok()) {
      absl::StatusOr<v1::HandoffEvidence> ev =
          outbox.BuildEvidence(d.index, *it->second);
      st = ev.ok() ? transport.Deliver(d.destination, *ev) : ev.status();
      if (st.ok()) {
        SEG_RETURN_IF_ERROR(outbox.MarkDelivered(d.destination, d.index));
        ++report.delivered;
        absl::StatusOr<uint64_t> size = CheckpointNoteSize(ev->checkpoint());
        if (size.ok() && *size > *it->second) it->second = *size;
        continue;
      }
      // The receiver moved on (another delivery, its follower): ask again.
      if (absl::IsFailedPrecondition(st)) held.erase(it);
    }
    SEG_RETURN_IF_ERROR(outbox.MarkFailed(d.destination, d.index, st));
    ++report.failed;
  }
  return report;
}

namespace {

// The source's proof that a step ending at `target` is a prefix of the
// checkpoint held for `origin` (moved by evidence and cosigning too), when
// it ends below it; nullopt when it needs none (PeerStore::Follow). Asked
// for before the entries, so a source that cannot give one (its log is
// shorter) costs no step.
absl::StatusOr<std::optional<HeldConsistencyProof>> ProofToHeld(
    PeerStore& peers, absl::string_view origin, FollowSource& source,
    uint64_t target) {
  SEG_ASSIGN_OR_RETURN(std::optional<HeldCheckpoint> held,
                       peers.Latest(origin));
  if (!held.has_value() || target == 0 || target >= held->size) {
    return std::optional<HeldConsistencyProof>();
  }
  absl::StatusOr<std::vector<Hash>> proof =
      source.ConsistencyProof(target, held->size);
  if (!proof.ok()) {
    return absl::Status(
        proof.status().code(),
        absl::StrCat("follow ", origin, ": consistency proof from size ",
                     target, " to the held size ", held->size, ": ",
                     proof.status().message()));
  }
  return std::optional<HeldConsistencyProof>(
      HeldConsistencyProof{held->size, *std::move(proof)});
}

}  // namespace

absl::StatusOr<uint64_t> FollowOnce(PeerStore& peers, absl::string_view origin,
                                    FollowSource& source,
                                    const FollowLimits& limits) {
  SEG_ASSIGN_OR_RETURN(v1::FollowState state, peers.FollowStateOf(origin));
  SEG_ASSIGN_OR_RETURN(std::string note, source.LatestCheckpoint());
  SEG_ASSIGN_OR_RETURN(const uint64_t latest, CheckpointNoteSize(note));
  if (latest < state.size()) {
    // The source is behind what was verified (a lagging replica): nothing
    // new to verify; a fork shows up once it grows past our position.
    return state.size();
  }
  // No size is verified before Follow: they only bound what is asked for.
  uint64_t target = latest;
  if (latest - state.size() > limits.max_step) {
    const uint64_t at_most = state.size() + limits.max_step;
    SEG_ASSIGN_OR_RETURN(std::optional<std::string> step,
                         source.CheckpointIn(state.size(), at_most));
    if (step.has_value()) {
      SEG_ASSIGN_OR_RETURN(target, CheckpointNoteSize(*step));
      if (target <= state.size() || target > at_most) {
        return absl::UnavailableError(absl::StrCat(
            "follow ", origin, ": asked for a checkpoint in (", state.size(),
            ", ", at_most, "], the source sent one of size ", target));
      }
      note = *std::move(step);
    } else if (latest - state.size() > limits.max_gap) {
      return absl::UnavailableError(absl::StrCat(
          "follow ", origin, ": ", latest - state.size(),
          " entries behind the source's checkpoint of size ", latest,
          ", and it has no checkpoint within ", limits.max_step, " entries of ",
          state.size(), " to verify a step against"));
    }
  }
  if (target - state.size() > limits.max_step) {
    // A gap beyond one step is fetched whole on this note's word: take it
    // only from a note the origin's keys sign (a forged size would have
    // the node hold up to max_gap unverified entries). Within one step the
    // note may be signed by a key the batch itself introduces (a
    // rotation), and Follow verifies both.
    SEG_ASSIGN_OR_RETURN(PeerKeyring keyring, peers.Keyring(origin));
    absl::Status signed_by = OpenPeerCheckpoint(note, origin, keyring).status();
    if (!signed_by.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "follow ", origin, ": will not fetch ", target - state.size(),
          " entries for a checkpoint of size ", target,
          " that the keys held do not verify (", signed_by.message(), ")"));
    }
  }
  SEG_ASSIGN_OR_RETURN(std::optional<HeldConsistencyProof> to_held,
                       ProofToHeld(peers, origin, source, target));
  // The entries are checked as they arrive: an entry over the size any
  // entry may have stops the stream at once, and so does the byte cap.
  std::vector<v1::SignedEntry> entries;
  uint64_t bytes = 0;
  bool capped = false;
  absl::Status refused;
  SEG_RETURN_IF_ERROR(
      source.Entries(state.size(), target, [&](v1::SignedEntry& e) {
        const uint64_t index = state.size() + entries.size();
        if (e.body().size() > kMaxEntryBodySize) {
          refused = absl::InvalidArgumentError(absl::StrCat(
              "follow ", origin, ": entry ", index, " from the source has a ",
              e.body().size(), "-byte body, over the limit of ",
              kMaxEntryBodySize, " bytes (refused as it arrived)"));
          return false;
        }
        const uint64_t size = e.ByteSizeLong();
        if (bytes + size > limits.max_step_bytes) {
          capped = true;
          return false;
        }
        bytes += size;
        entries.push_back(std::move(e));
        return true;
      }));
  SEG_RETURN_IF_ERROR(refused);
  if (capped) {
    // End the step at the source's largest checkpoint within what arrived.
    const uint64_t reached = state.size() + entries.size();
    std::optional<std::string> step;
    if (reached > state.size()) {
      SEG_ASSIGN_OR_RETURN(step, source.CheckpointIn(state.size(), reached));
    }
    if (!step.has_value()) {
      return absl::UnavailableError(absl::StrCat(
          "follow ", origin, ": entries [", state.size(), ", ", reached,
          ") hold ", bytes, " bytes and the next would pass the step's cap of ",
          limits.max_step_bytes,
          " bytes, and the source has no checkpoint in (", state.size(), ", ",
          reached, "] to end the step at"));
    }
    SEG_ASSIGN_OR_RETURN(target, CheckpointNoteSize(*step));
    if (target <= state.size() || target > reached) {
      return absl::UnavailableError(absl::StrCat(
          "follow ", origin, ": asked for a checkpoint in (", state.size(),
          ", ", reached, "], the source sent one of size ", target));
    }
    entries.resize(target - state.size());
    note = *std::move(step);
    SEG_ASSIGN_OR_RETURN(to_held, ProofToHeld(peers, origin, source, target));
  }
  if (entries.size() != target - state.size()) {
    return absl::UnavailableError(
        absl::StrCat("follow ", origin, ": source returned ", entries.size(),
                     " entries for [", state.size(), ", ", target, ")"));
  }
  return peers.Follow(origin, entries, note, to_held);
}

}  // namespace segledger::peers
