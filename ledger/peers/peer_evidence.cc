// PeerEvidence: the domain's Evidence over a PeerStore (peer_store.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/entry_codec.h"
#include "ledger/peers/peer_keys.h"
#include "ledger/peers/peer_store.h"
#include "ledger/status_macros.h"

namespace segledger::peers {

absl::StatusOr<std::pair<v1::SignedEntry, v1::EntryBody>> PeerEvidence::Load(
    absl::string_view origin, uint64_t index) const {
  v1::SignedEntry entry;
  absl::StatusOr<v1::StoredEvidence> ev = peers_.GetEvidence(origin, index);
  if (ev.ok()) {
    entry = ev->evidence().entry().entry();
  } else if (absl::IsNotFound(ev.status())) {
    SEG_ASSIGN_OR_RETURN(entry, peers_.FollowedEntry(origin, index));
  } else {
    return ev.status();
  }
  absl::StatusOr<v1::EntryBody> body = ParseEntryBody(entry.body());
  if (!body.ok()) {
    return absl::DataLossError(absl::StrFormat("stored entry %s index %d: %s",
                                               origin, index,
                                               body.status().message()));
  }
  return std::make_pair(std::move(entry), *std::move(body));
}

absl::StatusOr<domain::VerifiedDispatch> PeerEvidence::FindDispatch(
    absl::string_view origin, uint64_t index, const Hash& leaf_hash) {
  absl::StatusOr<std::pair<v1::SignedEntry, v1::EntryBody>> held =
      Load(origin, index);
  if (absl::IsNotFound(held.status())) {
    return absl::NotFoundError(
        absl::StrFormat("no verified dispatch at %s index %d", origin, index));
  }
  if (!held.ok()) return held.status();
  if (LeafHash(held->first.body()) != leaf_hash) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "verified entry at %s index %d has leaf hash %s, not %s", origin, index,
        HashHex(LeafHash(held->first.body())), HashHex(leaf_hash)));
  }
  if (!held->second.record().has_dispatch()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "verified entry at %s index %d is not a dispatch", origin, index));
  }
  domain::VerifiedDispatch v;
  v.ref.set_origin(std::string(origin));
  v.ref.set_index(index);
  v.ref.set_leaf_hash(std::string(HashBytes(leaf_hash)));
  v.dispatch = held->second.record().dispatch();
  return v;
}

absl::StatusOr<v1::EntryRef> PeerEvidence::FindReceipt(
    const v1::EntryRef& dispatch, absl::string_view transfer_id) {
  SEG_ASSIGN_OR_RETURN(auto held, peers_.EvidenceOfTransfer(transfer_id));
  for (const auto& [origin, index] : held) {
    SEG_ASSIGN_OR_RETURN(auto entry, Load(origin, index));
    const v1::Record& r = entry.second.record();
    if (!r.has_receipt() || r.receipt().transfer_id() != transfer_id) continue;
    const v1::EntryRef& named = r.receipt().dispatch();
    if (named.origin() != dispatch.origin() ||
        named.index() != dispatch.index() ||
        named.leaf_hash() != dispatch.leaf_hash()) {
      continue;
    }
    v1::EntryRef ref;
    ref.set_origin(origin);
    ref.set_index(index);
    ref.set_leaf_hash(std::string(HashBytes(LeafHash(entry.first.body()))));
    return ref;
  }
  return absl::NotFoundError(
      absl::StrFormat("no verified receipt of transfer %s held", transfer_id));
}

absl::StatusOr<v1::EntryBody> PeerEvidence::RegistrationBody(
    absl::string_view key) const {
  absl::StatusOr<std::string> ref = peers_.kv().Get(store::Family::kPeers, key);
  if (!ref.ok()) return ref.status();
  SEG_ASSIGN_OR_RETURN(auto pos, ParseRef(*ref));
  SEG_ASSIGN_OR_RETURN(auto held, Load(pos.first, pos.second));
  const v1::Record& r = held.second.record();
  const std::string& party = r.has_product_registration()
                                 ? r.product_registration().header().party_id()
                                 : r.party_registration().header().party_id();
  // Rows written before registrations were bound to their party's origin
  // may point anywhere: check again on every read.
  if (peers_.OriginOfParty(party) != pos.first) {
    return absl::NotFoundError(absl::StrFormat(
        "%s: registration at %s index %d is not from the origin configured "
        "for party \"%s\"",
        key, pos.first, pos.second, party));
  }
  return std::move(held.second);
}

absl::StatusOr<v1::ProductRegistration> PeerEvidence::FindProduct(
    absl::string_view product_id) {
  SEG_ASSIGN_OR_RETURN(v1::EntryBody body, RegistrationBody(absl::StrCat(
                                               "x/product/", product_id)));
  const std::string& party =
      body.record().product_registration().header().party_id();
  absl::StatusOr<v1::PartyRegistration> owner = FindParty(party);
  if (!owner.ok() && !absl::IsNotFound(owner.status())) return owner.status();
  if (!owner.ok() || owner->role() != v1::PARTY_ROLE_MAH) {
    return absl::NotFoundError(absl::StrFormat(
        "product %s: registered by party \"%s\", which is not a verified MAH",
        product_id, party));
  }
  return body.record().product_registration();
}

absl::StatusOr<v1::PartyRegistration> PeerEvidence::FindParty(
    absl::string_view party_id) {
  SEG_ASSIGN_OR_RETURN(v1::EntryBody body,
                       RegistrationBody(absl::StrCat("x/party/", party_id)));
  return body.record().party_registration();
}

}  // namespace segledger::peers
