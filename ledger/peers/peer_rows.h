// Internal to ledger/peers: reading proto rows of the `peers` column family
// (peer_keys.h lists them). A row that is present but does not parse is
// DATA_LOSS, and the message names what was read, the row's key (escaped:
// positioned keys hold binary be64) and the message type expected.
// Thread-safe (KvStore is).
#ifndef SEGLEDGER_LEDGER_PEERS_PEER_ROWS_H_
#define SEGLEDGER_LEDGER_PEERS_PEER_ROWS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ledger/peers/peer_keys.h"
#include "ledger/peers/peer_store.h"
#include "ledger/store/kv.h"

namespace segledger::peers {

// "<what>: peers row "<key>" does not parse as <type>".
template <typename M>
absl::Status CorruptPeerRow(absl::string_view what, absl::string_view key) {
  return absl::DataLossError(
      absl::StrCat(what, ": peers row \"", absl::CHexEscape(key),
                   "\" does not parse as ", M::descriptor()->name()));
}

// The row `key` parsed as M; nullopt when absent.
template <typename M>
absl::StatusOr<std::optional<M>> ReadPeerRow(store::KvStore& kv,
                                             absl::string_view key,
                                             absl::string_view what) {
  absl::StatusOr<std::string> raw = kv.Get(store::Family::kPeers, key);
  if (absl::IsNotFound(raw.status())) return std::optional<M>();
  if (!raw.ok()) return raw.status();
  M m;
  if (!m.ParseFromString(*raw)) return CorruptPeerRow<M>(what, key);
  return std::optional<M>(std::move(m));
}

// Every row under `prefix`, in key order, parsed as M.
template <typename M>
absl::StatusOr<std::vector<M>> ScanPeerRows(store::KvStore& kv,
                                            absl::string_view prefix,
                                            absl::string_view what) {
  std::vector<M> out;
  absl::Status bad;
  absl::Status scan = kv.Scan(
      store::Family::kPeers, prefix, PrefixEnd(prefix),
      [&](absl::string_view key, absl::string_view value) {
        M m;
        if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = CorruptPeerRow<M>(what, key);
          return false;
        }
        out.push_back(std::move(m));
        return true;
      });
  if (!scan.ok()) return scan;
  if (!bad.ok()) return bad;
  return out;
}

// A PeerCheckpoint row (c/ or t/) as a HeldCheckpoint; nullopt when absent.
absl::StatusOr<std::optional<HeldCheckpoint>> ReadHeldCheckpoint(
    store::KvStore& kv, absl::string_view key, absl::string_view what);

}  // namespace segledger::peers

#endif  // SEGLEDGER_LEDGER_PEERS_PEER_ROWS_H_
