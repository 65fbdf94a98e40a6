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
// and max_step_bytes bytes ahead: the entries of one step are held in
// memory together, an entry over the size any entry may have is refused
// as it arrives, and the size a source claims is never trusted with an
// allocation. A step that
// ends below the checkpoint held for the origin (moved by evidence and
// cosigning too) carries the source's consistency proof from its size to
// the held one.
//
// Thread-compatible: run one pass at a time per outbox / origin.
#ifndef SEGLEDGER_LEDGER_PEERS_DELIVERY_H_
#define SEGLEDGER_LEDGER_PEERS_DELIVERY_H_

#include <cstdint>
#include <functional>
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
  // Streams entries [from, to) in index order to `take` as they arrive,
  // until the range ends or `take` returns false (the source then stops
  // the stream and returns OK). `take` may move from the entry. A source
  // keeps none of them: what is held, and how much, is the caller's.
  virtual absl::Status Entries(
      uint64_t from, uint64_t to,
      const std::function<bool(v1::SignedEntry&)>& take) = 0;
  // The note of the source's signed checkpoint with the largest size in
  // (above, at_most]; nullopt when it keeps none there.
  virtual absl::StatusOr<std::optional<std::string>> CheckpointIn(
      uint64_t above, uint64_t at_most) = 0;
  // The RFC 9162 consistency proof from `old_size` to `new_size`
  // (0 < old_size < new_size) in the source's log.
  virtual absl::StatusOr<std::vector<Hash>> ConsistencyProof(
      uint64_t old_size, uint64_t new_size) = 0;
};

// Bytes of entries (serialized SignedEntry: body, signature and anything
// else the source put in it) one follow step holds at most: 96 MiB, room
// for 1,535 entries of the largest size (a 65,535-byte body, DESIGN.md,
// and a 64-byte signature), half again the 1,024 entries between two
// checkpoints a node signs by default, so a step of the largest entries
// still reaches a checkpoint. Entries beyond it end the step early, at the
// source's largest checkpoint within what arrived.
inline constexpr uint64_t kMaxFollowStepBytes = uint64_t{96} << 20;

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
  // Bytes one step holds at most (kMaxFollowStepBytes).
  uint64_t max_step_bytes = kMaxFollowStepBytes;
};

// Follows `origin` from the verified position towards the source's latest
// checkpoint in one verified batch: to it, or to the step checkpoint above.
// When the step ends below the checkpoint held for `origin`, the source's
// consistency proof to the held size goes with it (PeerStore::Follow).
// Returns the new verified size; errors as PeerStore::Follow, or the
// source's (UNAVAILABLE for a gap no step can verify, a step whose entries
// fill max_step_bytes before any source checkpoint, or a source that
// answers outside what was asked; a source that cannot give the proof,
// its error prefixed with what was asked). An entry whose body is over
// kMaxEntryBodySize is INVALID_ARGUMENT as soon as it arrives (the source
// is stopped, nothing is stored).
absl::StatusOr<uint64_t> FollowOnce(PeerStore& peers, absl::string_view origin,
                                    FollowSource& source,
                                    const FollowLimits& limits = {});

}  // namespace segledger::peers

#endif  // SEGLEDGER_LEDGER_PEERS_DELIVERY_H_
