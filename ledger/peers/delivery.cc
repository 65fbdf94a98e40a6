#include "ledger/peers/delivery.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/note.h"
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
        absl::StatusOr<Note> note = ParseNote(ev->checkpoint());
        absl::StatusOr<Checkpoint> cp =
            note.ok() ? ParseCheckpointText(note->text) : note.status();
        if (cp.ok() && cp->size > *it->second) it->second = cp->size;
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

absl::StatusOr<uint64_t> FollowOnce(PeerStore& peers, absl::string_view origin,
                                    FollowSource& source) {
  SEG_ASSIGN_OR_RETURN(v1::FollowState state, peers.FollowStateOf(origin));
  SEG_ASSIGN_OR_RETURN(std::string note, source.LatestCheckpoint());
  SEG_ASSIGN_OR_RETURN(Note parsed, ParseNote(note));
  SEG_ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpointText(parsed.text));
  if (cp.size < state.size()) {
    // The source is behind what was verified (a lagging replica): nothing
    // new to verify; a fork shows up once it grows past our position.
    return state.size();
  }
  SEG_ASSIGN_OR_RETURN(std::vector<v1::SignedEntry> entries,
                       source.Entries(state.size(), cp.size));
  if (entries.size() != cp.size - state.size()) {
    return absl::UnavailableError(
        absl::StrCat("follow ", origin, ": source returned ", entries.size(),
                     " entries for [", state.size(), ", ", cp.size, ")"));
  }
  return peers.Follow(origin, entries, note);
}

}  // namespace segledger::peers
