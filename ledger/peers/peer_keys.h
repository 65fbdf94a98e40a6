// Key scheme of the `peers` column family (DESIGN.md "Storage"). Every key
// starts with a one-letter prefix and "/"; an origin is followed by a 0x00
// byte (origins are note text and never contain one) when more follows, so
// a prefix scan of one origin never matches another.
//
//   c/<origin>                   PeerCheckpoint: latest verified checkpoint
//   k/<origin>                   PeerKeyring: keys learned for the origin
//   e/<origin>\0<be64 index>     StoredEvidence: verified hand-off evidence
//   t/<origin>                   PeerCheckpoint: last checkpoint we cosigned
//   s/<origin>\0<be64 size>      cosigned checkpoint note (with our line)
//   q/<origin>\0<be64 held size><be64 offered size><be64 hash>
//                                EquivocationRecord (both notes)
//   f/<origin>                   FollowState of the follower
//   v/<origin>\0<be64 index>     SignedEntry: followed, verified copy
//   x/product/<id>, x/party/<id> "<origin>\0<be64 index>" of the latest
//                                verified registration
//   w/<cosigner origin>\0<be64 size>
//                                our own checkpoint of that size as
//                                cosigned by that peer (node/peer_layer.h)
//   K/<peer origin>\0<be64 index> (empty) our key record at that index was
//                                delivered to that peer (node/peer_layer.h)
//   o/<destination>\0<be64 index> OutboxState: delivery bookkeeping of an
//                                outbox row (the row is in the index family)
//
// Pure functions; thread-safe.
#ifndef SEGLEDGER_LEDGER_PEERS_PEER_KEYS_H_
#define SEGLEDGER_LEDGER_PEERS_PEER_KEYS_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ledger/store/keys.h"

namespace segledger::peers {

inline std::string OriginKey(char kind, absl::string_view origin) {
  return absl::StrCat(std::string(1, kind), "/", origin);
}
// "<kind>/<origin>\0": the prefix of every positioned key of the origin.
inline std::string OriginPrefix(char kind, absl::string_view origin) {
  return absl::StrCat(std::string(1, kind), "/", origin,
                      absl::string_view("\0", 1));
}
inline std::string PositionKey(char kind, absl::string_view origin,
                               uint64_t n) {
  return absl::StrCat(OriginPrefix(kind, origin), store::Be64(n));
}
// "<origin>\0<be64 index>", the value of the x/ rows.
inline std::string RefValue(absl::string_view origin, uint64_t index) {
  return absl::StrCat(origin, absl::string_view("\0", 1), store::Be64(index));
}
// Splits a RefValue or the tail of a positioned key. DATA_LOSS otherwise.
absl::StatusOr<std::pair<std::string, uint64_t>> ParseRef(absl::string_view v);

// The smallest string greater than every string starting with `prefix`
// (scan end); empty when there is none.
std::string PrefixEnd(absl::string_view prefix);

}  // namespace segledger::peers

#endif  // SEGLEDGER_LEDGER_PEERS_PEER_KEYS_H_
