// Transport-independent loops of the peer layer (the node plugs in gRPC):
//
// Deliverer: one pass over the outbox rows that are due - for each
// destination, ask the receiver which size of this log it holds, build the
// evidence from that size, deliver it, and record the outcome (delivered,
// or a failed attempt with backoff). The bookkeeping is in the store, so a
// restart resumes where the last pass stopped; the receiver is idempotent
// by (origin, index), so a delivery repeated after a crash has
// exactly-once effect.
//
// FollowOnce: one step of the MAH follower - fetch the source's latest
// checkpoint and the entries from the follower's verified position up to
// it, then PeerStore::Follow. A follower far behind goes in steps, each to
// a signed checkpoint of the source at most FollowLimits::max_step entries
// ahead: the entries of one step are held in memory together, and the
// size a source claims is never trusted with an allocation. A step that
// ends below the checkpoint held for the origin (moved by evidence and
// cosigning too) carries the source's consistency proof from its size to
// the held one.
//
// Thread-compatible: run one pass at a time per outbox / origin.
#ifndef SEGLEDGER_LEDGER_PEERS_DELIVERY_H_
#define SEGLEDGER_LEDGER_PEERS_DELIVERY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ledger/peers/outbox.h"
#include "ledger/peers/peer_store.h"
#include "segledger/v1/entry.pb.h"
#include "segledger/v1/peers.pb.h"

namespace segledger::peers {

// How the sender reaches a receiver (gRPC in the node; in-process in tests).
class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  // The size of `origin`'s log the receiver at `destination` holds
  // verified (0: none).
  virtual absl::StatusOr<uint64_t> HeldSize(absl::string_view destination,
                                            absl::string_view origin) = 0;
  // Delivers evidence; OK once the receiver stored it (or held it already).
  virtual absl::Status Deliver(absl::string_view destination,
                               const v1::HandoffEvidence& evidence) = 0;
};

struct DeliveryReport {
  int delivered = 0;
  int failed = 0;
};

// Delivers every row of `outbox` due at `now` (at most `max`).
absl::StatusOr<DeliveryReport> DeliverDue(Outbox& outbox,
                                          PeerTransport& transport,
                                          absl::Time now, size_t max = 1024);

// Where the follower reads a log (a site's node; a LogStore in tests).
class FollowSource {
 public:
  virtual ~FollowSource() = default;
  virtual absl::StatusOr<std::string> LatestCheckpoint() = 0;
  // Entries [from, to) in order.
  virtual absl::StatusOr<std::vector<v1::SignedEntry>> Entries(uint64_t from,
                                                               uint64_t to) = 0;
  // The note of the source's signed checkpoint with the largest size in
  // (above, at_most]; nullopt when it keeps none there.
  virtual absl::StatusOr<std::optional<std::string>> CheckpointIn(
      uint64_t above, uint64_t at_most) = 0;
  // The RFC 9162 consistency proof from `old_size` to `new_size`
  // (0 < old_size < new_size) in the source's log.
  virtual absl::StatusOr<std::vector<Hash>> ConsistencyProof(
      uint64_t old_size, uint64_t new_size) = 0;
};

struct FollowLimits {
  // Entries one step fetches and verifies as one batch at most, when the
  // source has a checkpoint that close (nodes sign one every 1,024
  // entries or every second by default).
  uint64_t max_step = 65536;
  // Without such a checkpoint, a gap up to this size is fetched whole (to
  // the latest checkpoint, and only when the keys held verify that
  // checkpoint's signature); a larger one is UNAVAILABLE until the source
  // signs a checkpoint within max_step.
  uint64_t max_gap = uint64_t{1} << 20;
};

// Follows `origin` from the verified position towards the source's latest
// checkpoint in one verified batch: to it, or to the step checkpoint above.
// When the step ends below the checkpoint held for `origin`, the source's
// consistency proof to the held size goes with it (PeerStore::Follow).
// Returns the new verified size; errors as PeerStore::Follow, or the
// source's (UNAVAILABLE for a gap no step can verify, or a source that
// answers outside what was asked; a source that cannot give the proof,
// its error prefixed with what was asked).
absl::StatusOr<uint64_t> FollowOnce(PeerStore& peers, absl::string_view origin,
                                    FollowSource& source,
                                    const FollowLimits& limits = {});

}  // namespace segledger::peers

#endif  // SEGLEDGER_LEDGER_PEERS_DELIVERY_H_
