#include "ledger/peers/peer_store.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/checkpoint.h"
#include "ledger/domain/links.h"
#include "ledger/entry_codec.h"
#include "ledger/peers/peer_keys.h"
#include "ledger/peers/peer_rows.h"
#include "ledger/proto_time.h"
#include "ledger/status_macros.h"

namespace segledger::peers {

using store::Family;
using store::KvBatch;

namespace {

v1::PeerCheckpoint ToRow(const SignedCheckpoint& cp) {
  v1::PeerCheckpoint row;
  row.set_note(cp.note);
  row.set_size(cp.checkpoint.size);
  row.set_root(std::string(HashBytes(cp.checkpoint.root)));
  return row;
}

std::string EquivocationKey(const v1::EquivocationRecord& r) {
  auto size_of = [](absl::string_view note) -> uint64_t {
    return CheckpointNoteSize(note).value_or(0);
  };
  const Hash h = Sha256(absl::StrCat(r.held_note(), r.offered_note()));
  return absl::StrCat(
      OriginPrefix('q', r.origin()), store::Be64(size_of(r.held_note())),
      store::Be64(size_of(r.offered_note())), HashBytes(h).substr(0, 8));
}

}  // namespace

absl::StatusOr<std::optional<HeldCheckpoint>> ReadHeldCheckpoint(
    store::KvStore& kv, absl::string_view key, absl::string_view what) {
  SEG_ASSIGN_OR_RETURN(std::optional<v1::PeerCheckpoint> row,
                       ReadPeerRow<v1::PeerCheckpoint>(kv, key, what));
  if (!row.has_value()) return std::optional<HeldCheckpoint>();
  HeldCheckpoint h;
  h.size = row->size();
  h.note = row->note();
  SEG_ASSIGN_OR_RETURN(h.root, HashFromBytes(row->root(), "checkpoint root"));
  return std::optional<HeldCheckpoint>(std::move(h));
}

PeerStore::PeerStore(store::KvStore& kv, const Clock* clock, ThreadPool* pool)
    : kv_(kv),
      clock_(clock != nullptr ? clock : SystemClock::Get()),
      pool_(pool) {}

absl::Status PeerStore::AddPeer(PeerConfig config) {
  if (config.origin.empty() || config.keys.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "peer config: origin \"%s\" with %d keys (need an origin and a key)",
        config.origin, config.keys.size()));
  }
  absl::MutexLock l(&config_mu_);
  for (const auto& [origin, c] : configs_) {
    if (!config.party.empty() && c.party == config.party &&
        origin != config.origin) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "peer config: party \"%s\" is already %s", config.party, origin));
    }
  }
  std::string origin = config.origin;
  configs_[origin] = std::move(config);
  return absl::OkStatus();
}

std::vector<std::string> PeerStore::Origins() const {
  absl::MutexLock l(&config_mu_);
  std::vector<std::string> out;
  for (const auto& [origin, c] : configs_) out.push_back(origin);
  return out;
}

std::optional<std::string> PeerStore::OriginOfParty(
    absl::string_view party) const {
  absl::MutexLock l(&config_mu_);
  for (const auto& [origin, c] : configs_) {
    if (!c.party.empty() && c.party == party) return origin;
  }
  return std::nullopt;
}

absl::StatusOr<PeerKeyring> PeerStore::KeyringLocked(
    absl::string_view origin) const {
  SEG_ASSIGN_OR_RETURN(
      std::optional<v1::PeerKeyring> row,
      ReadPeerRow<v1::PeerKeyring>(kv_, OriginKey('k', origin),
                                   absl::StrCat("keyring of ", origin)));
  if (row.has_value()) return PeerKeyring::FromProto(*row);
  absl::MutexLock l(&config_mu_);
  auto it = configs_.find(origin);
  if (it == configs_.end()) {
    return absl::NotFoundError(
        absl::StrCat("origin ", origin, " is not a configured peer"));
  }
  return PeerKeyring::FromConfig(it->second.keys);
}

absl::StatusOr<PeerKeyring> PeerStore::Keyring(absl::string_view origin) const {
  {
    absl::MutexLock l(&config_mu_);
    if (configs_.find(origin) == configs_.end()) {
      return absl::NotFoundError(
          absl::StrCat("origin ", origin, " is not a configured peer"));
    }
  }
  return KeyringLocked(origin);
}

absl::StatusOr<std::optional<HeldCheckpoint>> PeerStore::Latest(
    absl::string_view origin) const {
  return ReadHeldCheckpoint(kv_, OriginKey('c', origin),
                            absl::StrCat("latest checkpoint of ", origin));
}

absl::Status PeerStore::Persist(const v1::EquivocationRecord& record,
                                KvBatch* batch) {
  v1::EquivocationRecord r = record;
  *r.mutable_detected_at() = ToProtoTime(clock_->Now());
  KvBatch own;
  KvBatch& b = batch != nullptr ? *batch : own;
  b.Put(Family::kPeers, EquivocationKey(r), r.SerializeAsString());
  if (batch != nullptr) return absl::OkStatus();
  return kv_.Write(own, /*sync=*/true);
}

absl::Status PeerStore::IndexRegistrations(const VerifiedEntry& v,
                                           KvBatch& batch,
                                           PendingIndex& pending) const {
  const v1::Record& r = v.body.record();
  const bool product = r.has_product_registration();
  if (!product && !r.has_party_registration()) return absl::OkStatus();
  const std::string& party = product
                                 ? r.product_registration().header().party_id()
                                 : r.party_registration().header().party_id();
  const std::string& origin = v.body.log_origin();
  // Only the log of the party's configured origin speaks for the party:
  // any other peer could otherwise write "the MAH's" segmentation plan.
  if (party.empty() || OriginOfParty(party) != origin) return absl::OkStatus();
  PeerEvidence held(*this);
  if (product) {
    // The MAH registers products: the party's own registration (earlier in
    // this batch, or held and speaking for it) must name it MAH.
    std::optional<v1::PartyRole> role;
    if (auto it = pending.roles.find(party); it != pending.roles.end()) {
      role = it->second;
    } else {
      absl::StatusOr<v1::PartyRegistration> reg = held.FindParty(party);
      if (reg.ok()) {
        role = reg->role();
      } else if (!absl::IsNotFound(reg.status())) {
        return reg.status();
      }
    }
    if (role != v1::PARTY_ROLE_MAH) return absl::OkStatus();
  }
  const std::string key =
      product
          ? absl::StrCat("x/product/", r.product_registration().product_id())
          : absl::StrCat("x/party/", party);
  // Forward only: a replayed older registration (or another MAH's of the
  // same product id) never replaces the one held.
  if (auto it = pending.index.find(key); it != pending.index.end()) {
    if (it->second >= v.index) return absl::OkStatus();
  } else {
    absl::StatusOr<v1::EntryBody> cur = held.RegistrationBody(key);
    if (cur.ok()) {
      if (cur->log_origin() != origin || cur->index() >= v.index) {
        return absl::OkStatus();
      }
    } else if (!absl::IsNotFound(cur.status())) {
      return cur.status();
    }
  }
  pending.index[key] = v.index;
  if (!product) pending.roles[party] = r.party_registration().role();
  batch.Put(Family::kPeers, key, RefValue(origin, v.index));
  return absl::OkStatus();
}

absl::Status PeerStore::AddEvidenceRows(
    const v1::HandoffEvidence& evidence, const Hash& leaf,
    const HandoffResult& res, const std::optional<HeldCheckpoint>& held,
    const PeerKeyring& before, KvBatch& batch) const {
  const std::string& origin = evidence.origin();
  v1::StoredEvidence stored;
  *stored.mutable_evidence() = evidence;
  // Only what was verified is kept: fields this version does not know
  // (padding, or a newer sender's) are not stored or exported.
  stored.mutable_evidence()->DiscardUnknownFields();
  stored.set_leaf_hash(std::string(HashBytes(leaf)));
  *stored.mutable_verified_at() = ToProtoTime(clock_->Now());
  batch.Put(Family::kPeers, PositionKey('e', origin, evidence.entry().index()),
            stored.SerializeAsString());
  if (!held.has_value() || res.checkpoint.checkpoint.size > held->size) {
    batch.Put(Family::kPeers, OriginKey('c', origin),
              ToRow(res.checkpoint).SerializeAsString());
  }
  if (res.keyring.applied_count() != before.applied_count()) {
    batch.Put(Family::kPeers, OriginKey('k', origin),
              res.keyring.ToProto().SerializeAsString());
  }
  PendingIndex pending;
  return IndexRegistrations(res.entry, batch, pending);
}

absl::Mutex& PeerStore::OriginMutex(absl::string_view origin) const {
  absl::MutexLock l(&config_mu_);
  auto it = origin_mu_.find(origin);
  if (it == origin_mu_.end()) {
    it =
        origin_mu_.emplace(std::string(origin), std::make_unique<absl::Mutex>())
            .first;
  }
  return *it->second;
}

absl::Status PeerStore::CheckResentCheckpoint(
    const v1::HandoffEvidence& evidence, const PeerKeyring& keyring,
    const std::optional<HeldCheckpoint>& held) {
  if (!held.has_value()) return absl::OkStatus();
  // A checkpoint that does not open with the keys held, or whose proof is
  // from another size than held, proves nothing either way: the entry is
  // held, so the delivery stays a duplicate.
  absl::StatusOr<SignedCheckpoint> cp =
      OpenPeerCheckpoint(evidence.checkpoint(), evidence.origin(), keyring);
  if (!cp.ok()) return absl::OkStatus();
  std::optional<v1::EquivocationRecord> eq;
  absl::Status c =
      CheckConsistent(*held, *cp, evidence.consistency_size(),
                      evidence.consistency_proof(), "evidence", &eq);
  if (!eq.has_value()) return absl::OkStatus();
  SEG_RETURN_IF_ERROR(Persist(*eq));
  return c;
}

absl::StatusOr<AcceptResult> PeerStore::AcceptEvidence(
    const v1::HandoffEvidence& evidence) {
  absl::MutexLock l(&OriginMutex(evidence.origin()));
  const std::string& origin = evidence.origin();
  SEG_ASSIGN_OR_RETURN(PeerKeyring keyring, Keyring(origin));
  const std::string ekey = PositionKey('e', origin, evidence.entry().index());
  SEG_ASSIGN_OR_RETURN(std::optional<v1::StoredEvidence> existing,
                       ReadPeerRow<v1::StoredEvidence>(
                           kv_, ekey, absl::StrCat("evidence of ", origin)));
  const Hash leaf = LeafHash(evidence.entry().entry().body());
  SEG_ASSIGN_OR_RETURN(std::optional<HeldCheckpoint> held, Latest(origin));
  if (existing.has_value() && existing->leaf_hash() == HashBytes(leaf)) {
    SEG_RETURN_IF_ERROR(CheckResentCheckpoint(evidence, keyring, held));
    return AcceptResult{leaf, true, 0};
  }
  std::optional<v1::EquivocationRecord> eq;
  absl::StatusOr<HandoffResult> res =
      VerifyHandoff(evidence, keyring, held, &eq);
  if (!res.ok()) {
    if (eq.has_value()) SEG_RETURN_IF_ERROR(Persist(*eq));
    return res.status();
  }
  if (existing.has_value()) {  // another entry verified at that index
    v1::EquivocationRecord r =
        MakeEquivocation(origin, existing->evidence().checkpoint(),
                         evidence.checkpoint(), "evidence",
                         absl::StrFormat("two signed entries at index %d",
                                         evidence.entry().index()));
    SEG_RETURN_IF_ERROR(Persist(r));
    return absl::FailedPreconditionError(
        absl::StrCat("equivocation: ", r.detail()));
  }
  KvBatch batch;
  const uint64_t size = res->checkpoint.checkpoint.size;
  SEG_RETURN_IF_ERROR(
      AddEvidenceRows(evidence, leaf, *res, held, keyring, batch));
  SEG_RETURN_IF_ERROR(kv_.Write(batch, /*sync=*/true));
  generation_.fetch_add(1);
  IndexNewEvidence(origin, evidence.entry().index(), res->entry.body.record());
  return AcceptResult{leaf, false, size};
}

absl::StatusOr<v1::StoredEvidence> PeerStore::GetEvidence(
    absl::string_view origin, uint64_t index) const {
  SEG_ASSIGN_OR_RETURN(
      std::optional<v1::StoredEvidence> row,
      ReadPeerRow<v1::StoredEvidence>(kv_, PositionKey('e', origin, index),
                                      absl::StrCat("evidence of ", origin)));
  if (!row.has_value()) {
    return absl::NotFoundError(
        absl::StrFormat("no verified evidence of %s index %d", origin, index));
  }
  return *std::move(row);
}

absl::StatusOr<std::vector<v1::StoredEvidence>> PeerStore::ListEvidence(
    absl::string_view origin) const {
  return ScanPeerRows<v1::StoredEvidence>(kv_, OriginPrefix('e', origin),
                                          absl::StrCat("evidence of ", origin));
}

absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>>
PeerStore::EvidenceOfTransfer(absl::string_view transfer) const {
  absl::MutexLock l(&transfer_mu_);
  if (!transfers_indexed_) {
    absl::Status s = IndexHeldEvidenceLocked();
    if (!s.ok()) {
      evidence_by_transfer_.clear();  // the next call reads them again
      return s;
    }
    transfers_indexed_ = true;
  }
  auto it = evidence_by_transfer_.find(transfer);
  if (it == evidence_by_transfer_.end()) {
    return std::vector<std::pair<std::string, uint64_t>>();
  }
  return std::vector<std::pair<std::string, uint64_t>>(it->second.begin(),
                                                       it->second.end());
}

absl::Status PeerStore::IndexHeldEvidenceLocked() const {
  // Rows written by AcceptEvidence meanwhile are indexed here or there:
  // both insert into a set.
  struct Held {
    std::pair<std::string, uint64_t> pos;
    std::vector<std::string> transfers;
  };
  std::vector<Held> held;
  absl::Status bad;
  const std::string prefix = "e/";
  SEG_RETURN_IF_ERROR(kv_.Scan(
      Family::kPeers, prefix, PrefixEnd(prefix),
      [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<std::pair<std::string, uint64_t>> pos =
            ParseRef(key.substr(prefix.size()));
        if (!pos.ok()) {
          bad = pos.status();
          return false;
        }
        v1::StoredEvidence stored;
        if (!stored.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          bad = CorruptPeerRow<v1::StoredEvidence>("evidence index", key);
          return false;
        }
        v1::EntryBody body;
        if (!body.ParseFromString(stored.evidence().entry().entry().body())) {
          bad =
              CorruptPeerRow<v1::EntryBody>("evidence index, entry body", key);
          return false;
        }
        held.push_back(
            Held{*std::move(pos), domain::LinksOf(body.record()).transfers});
        return true;
      }));
  SEG_RETURN_IF_ERROR(bad);
  for (const Held& h : held) {
    IndexEvidenceLocked(h.pos.first, h.pos.second, h.transfers);
  }
  return absl::OkStatus();
}

void PeerStore::IndexEvidenceLocked(
    absl::string_view origin, uint64_t index,
    const std::vector<std::string>& transfers) const {
  for (const std::string& t : transfers) {
    evidence_by_transfer_[t].emplace(std::string(origin), index);
  }
}

void PeerStore::IndexNewEvidence(absl::string_view origin, uint64_t index,
                                 const v1::Record& record) {
  absl::MutexLock l(&transfer_mu_);
  // Not built yet: the first EvidenceOfTransfer reads the row.
  if (transfers_indexed_) {
    IndexEvidenceLocked(origin, index, domain::LinksOf(record).transfers);
  }
}

}  // namespace segledger::peers
