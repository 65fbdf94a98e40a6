#include "node/peer_layer.h"

#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "ledger/peers/delivery.h"
#include "ledger/peers/peer_keys.h"
#include "ledger/status_macros.h"
#include "ledger/store/keys.h"
#include "node/json_log.h"

namespace segledger::node {
namespace {

using store::Family;

// Delivery retries: quick at first (a receiver restarting), capped low
// enough that a recovered receiver is served within seconds.
constexpr absl::Duration kBackoffInitial = absl::Milliseconds(100);
constexpr absl::Duration kBackoffMax = absl::Seconds(5);

absl::Duration MsOr(uint32_t ms, absl::Duration fallback) {
  return ms > 0 ? absl::Milliseconds(ms) : fallback;
}

absl::Status CheckPeer(const v1::NodeConfig& config, int i,
                       std::set<std::string>& origins,
                       std::set<std::string>& parties) {
  const v1::PeerNode& p = config.peers(i);
  const std::string at = absl::StrCat("peers[", i, "].");
  if (p.origin().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(at, "origin: empty"));
  }
  if (p.origin() == config.origin()) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, "origin: \"", p.origin(), "\" is this node's own"));
  }
  if (!origins.insert(p.origin()).second) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, "origin: \"", p.origin(), "\" configured twice"));
  }
  if (p.party().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(at, "party: empty"));
  }
  if (!parties.insert(p.party()).second) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, "party: \"", p.party(), "\" configured twice"));
  }
  if (p.address().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(at, "address: empty"));
  }
  if (p.verifier_keys().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(at, "verifier_keys: none"));
  }
  for (int k = 0; k < p.verifier_keys_size(); ++k) {
    absl::StatusOr<NoteVerifier> v =
        NoteVerifier::FromVerifierKey(p.verifier_keys(k));
    if (!v.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, "verifier_keys[", k, "]: ", v.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// ---- LateEvidence

absl::StatusOr<domain::VerifiedDispatch> LateEvidence::FindDispatch(
    absl::string_view origin, uint64_t index, const Hash& leaf) {
  domain::Evidence* t = target_.load();
  if (t == nullptr) return absl::NotFoundError("no peer evidence yet");
  return t->FindDispatch(origin, index, leaf);
}

absl::StatusOr<v1::EntryRef> LateEvidence::FindReceipt(
    const v1::EntryRef& dispatch, absl::string_view transfer_id) {
  domain::Evidence* t = target_.load();
  if (t == nullptr) return absl::NotFoundError("no peer evidence yet");
  return t->FindReceipt(dispatch, transfer_id);
}

absl::StatusOr<v1::ProductRegistration> LateEvidence::FindProduct(
    absl::string_view product_id) {
  domain::Evidence* t = target_.load();
  if (t == nullptr) return absl::NotFoundError("no peer evidence yet");
  return t->FindProduct(product_id);
}

absl::StatusOr<v1::PartyRegistration> LateEvidence::FindParty(
    absl::string_view party_id) {
  domain::Evidence* t = target_.load();
  if (t == nullptr) return absl::NotFoundError("no peer evidence yet");
  return t->FindParty(party_id);
}

// ---- PeerLayer: set-up

absl::StatusOr<std::unique_ptr<PeerLayer>> PeerLayer::Create(
    const v1::NodeConfig& config) {
  std::set<std::string> origins, parties;
  for (int i = 0; i < config.peers_size(); ++i) {
    SEG_RETURN_IF_ERROR(CheckPeer(config, i, origins, parties));
  }
  std::unique_ptr<PeerLayer> layer(new PeerLayer(config));
  SEG_ASSIGN_OR_RETURN(layer->links_, PeerLinks::Create(config));
  return layer;
}

PeerLayer::~PeerLayer() { Stop(); }

store::AppendHook* PeerLayer::Wrap(store::AppendHook* inner) {
  if (!enabled()) return inner;
  std::map<std::string, std::string> party_to_origin;
  for (const v1::PeerNode& p : config_.peers()) {
    party_to_origin[p.party()] = p.origin();
  }
  outbox_hook_ = std::make_unique<peers::OutboxHook>(
      inner, peers::DestinationsByParty(std::move(party_to_origin)));
  return outbox_hook_.get();
}

absl::Status PeerLayer::Attach(store::LogStore* store) {
  log_ = store;
  verify_pool_ = std::make_unique<ThreadPool>(ThreadPool::DefaultWorkers());
  peers_ = std::make_unique<peers::PeerStore>(store->kv(), nullptr,
                                              verify_pool_.get());
  for (const v1::PeerNode& p : config_.peers()) {
    peers::PeerConfig pc;
    pc.origin = p.origin();
    pc.party = p.party();
    for (const std::string& k : p.verifier_keys()) {
      SEG_ASSIGN_OR_RETURN(NoteVerifier v, NoteVerifier::FromVerifierKey(k));
      pc.keys.push_back(std::move(v));
    }
    SEG_RETURN_IF_ERROR(peers_->AddPeer(std::move(pc)));
  }
  peer_evidence_ = std::make_unique<peers::PeerEvidence>(*peers_);
  evidence_.Set(peer_evidence_.get());
  outbox_ = std::make_unique<peers::Outbox>(
      *store, nullptr, peers::BackoffPolicy{kBackoffInitial, kBackoffMax});
  transport_ = std::make_unique<GrpcPeerTransport>(links_.get());
  if (!enabled()) return absl::OkStatus();
  const absl::Duration deliver =
      MsOr(config_.deliver_interval_ms(), absl::Milliseconds(50));
  const absl::Duration follow =
      MsOr(config_.follow_interval_ms(), absl::Milliseconds(100));
  const absl::Duration cosign =
      MsOr(config_.cosign_interval_ms(), absl::Seconds(1));
  threads_.emplace_back([this, deliver] {
    Loop(deliver, /*on_growth=*/true, [this] { DeliverPass(); });
  });
  // One follower thread per followed log: a slow or busy site delays only
  // its own copy (PeerStore verifies different origins in parallel).
  for (const auto& link : links_->links()) {
    if (!link->config.follow()) continue;
    PeerLink* l = link.get();
    threads_.emplace_back([this, follow, l] {
      Loop(follow, /*on_growth=*/false, [this, l] { FollowOne(*l); });
    });
  }
  threads_.emplace_back([this, cosign] {
    Loop(cosign, /*on_growth=*/false, [this] { CosignPass(); });
  });
  return absl::OkStatus();
}

void PeerLayer::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

// Runs `pass` every `period`, and as soon as the log grew when
// `on_growth` (a Dispatch is delivered within milliseconds of its commit).
void PeerLayer::Loop(absl::Duration period, bool on_growth,
                     const std::function<void()>& pass) {
  uint64_t seen = 0;
  absl::Time next = absl::Now();
  const absl::Duration tick = on_growth
                                  ? absl::Milliseconds(1)
                                  : std::min(period, absl::Milliseconds(50));
  while (!stop_.HasBeenNotified()) {
    const uint64_t size = log_->Size();
    if ((on_growth && size != seen) || absl::Now() >= next) {
      seen = size;
      pass();
      next = absl::Now() + period;
    }
    stop_.WaitForNotificationWithTimeout(tick);
  }
}

const v1::PeerNode* PeerLayer::PeerByOrigin(absl::string_view origin) const {
  for (const v1::PeerNode& p : config_.peers()) {
    if (p.origin() == origin) return &p;
  }
  return nullptr;
}

bool PeerLayer::follows_any() const {
  for (const v1::PeerNode& p : config_.peers()) {
    if (p.follow()) return true;
  }
  return false;
}

void PeerLayer::SetError(const std::string& origin, const absl::Status& s) {
  absl::MutexLock l(&mu_);
  std::string& last = last_error_[origin];
  const std::string now = s.ok() ? "" : s.ToString();
  if (now == last) return;
  last = now;
  if (!s.ok()) {
    LogJson("warn", "peer", {{"peer", origin}, {"error", now}});
  } else {
    LogJson("info", "peer recovered", {{"peer", origin}});
  }
}

void PeerLayer::NoteIfEquivocation(const absl::Status& s,
                                   absl::string_view source) {
  if (!absl::IsFailedPrecondition(s) ||
      !absl::StrContains(s.message(), "equivocation")) {
    return;
  }
  LogJson("error", "equivocation detected",
          {{"source", std::string(source)}, {"detail", s.ToString()}});
}

// ---- the passes

void PeerLayer::DeliverPass() {
  absl::StatusOr<peers::DeliveryReport> r =
      peers::DeliverDue(*outbox_, *transport_, absl::Now());
  if (!r.ok()) {
    SetError("outbox", r.status());
  } else if (r->failed == 0) {
    SetError("outbox", absl::OkStatus());
  }
  KeyRecordPass();
}

void PeerLayer::KeyRecordPass() {
  std::vector<uint64_t> indexes;
  constexpr absl::string_view kRows = "o/k/";
  absl::Status s =
      log_->kv().Scan(Family::kIndex, kRows, peers::PrefixEnd(kRows),
                      [&](absl::string_view key, absl::string_view) {
                        absl::StatusOr<uint64_t> i = store::ParseBe64(
                            key.substr(kRows.size()), "key record row");
                        if (i.ok()) indexes.push_back(*i);
                        return true;
                      });
  if (!s.ok() || indexes.empty()) return;
  for (const auto& link : links_->links()) {
    const std::string& peer = link->config.origin();
    // A peer that failed is retried with backoff, as outbox rows are, so a
    // hung peer does not stall every delivery pass for its deadline.
    KeyRetry& retry = key_retry_[peer];
    if (absl::Now() < retry.next) continue;
    // Key records go to a peer in index order, so those it has are a prefix
    // of `indexes` (rows only grow): its markers are read once, not per pass.
    for (; retry.delivered < indexes.size(); ++retry.delivered) {
      const uint64_t index = indexes[retry.delivered];
      const std::string marker = peers::PositionKey('K', peer, index);
      if (log_->kv().Get(Family::kPeers, marker).ok()) continue;
      absl::StatusOr<v1::HeldSizeResponse> held =
          links_->HeldSize(*link, log_->origin());
      absl::StatusOr<v1::HandoffEvidence> ev =
          held.ok() ? outbox_->BuildEvidence(index, held->size())
                    : absl::StatusOr<v1::HandoffEvidence>(held.status());
      absl::Status d =
          ev.ok() ? links_->Deliver(*link, *ev).status() : ev.status();
      SetError(absl::StrCat(peer, " (key records)"), d);
      if (!d.ok()) {
        retry.backoff =
            std::min(kBackoffMax, std::max(kBackoffInitial, retry.backoff * 2));
        retry.next = absl::Now() + retry.backoff;
        break;
      }
      retry.next = absl::InfinitePast();
      retry.backoff = absl::ZeroDuration();
      store::KvBatch batch;
      batch.Put(Family::kPeers, marker, "");
      if (!log_->kv().Write(batch, /*sync=*/true).ok()) return;
    }
  }
}

void PeerLayer::FollowOne(const PeerLink& link) {
  GrpcFollowSource source(&link, links_->timeout());
  absl::StatusOr<uint64_t> r =
      peers::FollowOnce(*peers_, link.config.origin(), source);
  NoteIfEquivocation(r.status(), "follower");
  SetError(link.config.origin(), r.status());
}

void PeerLayer::FollowPass() {
  for (const auto& link : links_->links()) {
    if (!link->config.follow() || stop_.HasBeenNotified()) continue;
    FollowOne(*link);
  }
}

void PeerLayer::CosignPass() {
  absl::StatusOr<std::string> note = log_->LatestCheckpoint();
  if (!note.ok()) return;  // nothing signed yet
  absl::StatusOr<uint64_t> size = CheckpointNoteSize(*note);
  if (!size.ok() || *size == 0) return;
  for (const auto& link : links_->links()) {
    if (stop_.HasBeenNotified()) return;
    absl::Status s = CosignWith(*link, *note, *size);
    if (!s.ok()) {
      SetError(absl::StrCat(link->config.origin(), " (cosign)"), s);
    } else {
      SetError(absl::StrCat(link->config.origin(), " (cosign)"),
               absl::OkStatus());
    }
  }
}

absl::Status PeerLayer::CosignWith(const PeerLink& link,
                                   const std::string& note, uint64_t size) {
  const std::string& peer = link.config.origin();
  const std::string row = peers::PositionKey('w', peer, size);
  absl::StatusOr<std::string> have = log_->kv().Get(Family::kPeers, row);
  if (have.ok()) return absl::OkStatus();  // already cosigned at this size
  if (!absl::IsNotFound(have.status())) return have.status();
  SEG_ASSIGN_OR_RETURN(v1::HeldSizeResponse held,
                       links_->HeldSize(link, log_->origin()));
  // The larger of the size the peer last cosigned and the size it holds
  // verified (evidence, following, cosigning): the proof's base.
  const uint64_t base = held.cosigned_size();
  if (base > size) {
    // A checkpoint signed since `note` was read (evidence signs one on
    // the spot) may already be held there: the next pass cosigns it.
    if (base <= log_->Size()) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("peer ", peer, " cosigned or holds size ", base,
                     " of our log, beyond our size ", log_->Size(),
                     " (a rolled-back or forked store?)"));
  }
  v1::CosignRequest req;
  req.set_checkpoint(note);
  req.set_base_size(base);
  if (base > 0 && base < size) {
    SEG_ASSIGN_OR_RETURN(std::vector<Hash> proof,
                         log_->ConsistencyProof(base, size));
    for (const Hash& h : proof) req.add_proof(std::string(HashBytes(h)));
  }
  SEG_ASSIGN_OR_RETURN(std::string cosigned, links_->Cosign(link, req));
  // Keep it only if it is our note plus a valid line by the peer's key.
  SEG_ASSIGN_OR_RETURN(peers::PeerKeyring keyring, peers_->Keyring(peer));
  std::vector<NoteVerifier> keys;
  for (const auto& k : keyring.keys()) keys.push_back(k.verifier);
  SEG_ASSIGN_OR_RETURN(VerifiedNote opened, OpenNote(cosigned, keys));
  SEG_ASSIGN_OR_RETURN(Note ours, ParseNote(note));
  if (opened.text != ours.text) {
    return absl::DataLossError(
        absl::StrCat("peer ", peer, " returned a cosigned note of other text"));
  }
  store::KvBatch batch;
  batch.Put(Family::kPeers, row, cosigned);
  return log_->kv().Write(batch, /*sync=*/true);
}

// ---- reports

absl::StatusOr<std::vector<std::string>> PeerLayer::OurCosignedNotes() const {
  std::vector<std::string> out;
  SEG_RETURN_IF_ERROR(
      log_->kv().Scan(Family::kPeers, "w/", peers::PrefixEnd("w/"),
                      [&](absl::string_view, absl::string_view v) {
                        out.emplace_back(v);
                        return true;
                      }));
  return out;
}

absl::Status PeerLayer::FillStatus(v1::StatusResponse* out) const {
  if (peers_ == nullptr) return absl::OkStatus();
  std::map<std::string, uint64_t> pending;
  SEG_ASSIGN_OR_RETURN(std::vector<peers::Delivery> rows, outbox_->Pending());
  std::map<std::string, std::string> row_error;
  for (const peers::Delivery& d : rows) {
    ++pending[d.destination];
    if (!d.state.last_error().empty()) {
      row_error[d.destination] = d.state.last_error();
    }
  }
  for (const v1::PeerNode& p : config_.peers()) {
    v1::PeerLogStatus* s = out->add_peers();
    s->set_origin(p.origin());
    s->set_party(p.party());
    s->set_address(p.address());
    SEG_ASSIGN_OR_RETURN(auto latest, peers_->Latest(p.origin()));
    if (latest.has_value()) {
      s->set_verified_size(latest->size);
      s->set_latest_checkpoint(latest->note);
    }
    SEG_ASSIGN_OR_RETURN(v1::FollowState fs, peers_->FollowStateOf(p.origin()));
    s->set_followed_size(fs.size());
    SEG_ASSIGN_OR_RETURN(auto evidence, peers_->ListEvidence(p.origin()));
    s->set_evidence_count(evidence.size());
    SEG_ASSIGN_OR_RETURN(auto cosigned, peers_->LastCosigned(p.origin()));
    if (cosigned.has_value()) s->set_cosigned_size(cosigned->size);
    s->set_outbox_pending(pending[p.origin()]);
    SEG_ASSIGN_OR_RETURN(auto eq, peers_->Equivocations(p.origin()));
    s->set_equivocations(eq.size());
    SEG_ASSIGN_OR_RETURN(peers::PeerKeyring ring, peers_->Keyring(p.origin()));
    for (const auto& k : ring.keys()) {
      s->add_verifier_keys(k.verifier.VerifierKey());
    }
    absl::MutexLock l(&mu_);
    auto it = last_error_.find(p.origin());
    if (it != last_error_.end() && !it->second.empty()) {
      s->set_last_error(it->second);
    } else if (row_error.count(p.origin()) > 0) {
      s->set_last_error(row_error[p.origin()]);
    }
  }
  return absl::OkStatus();
}

absl::Status PeerLayer::FillPeerData(absl::string_view origin,
                                     v1::PeerDataResponse* out) const {
  if (peers_ == nullptr) return absl::OkStatus();
  if (!origin.empty() && PeerByOrigin(origin) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("origin: \"", origin, "\" is not a configured peer"));
  }
  for (const v1::PeerNode& p : config_.peers()) {
    if (!origin.empty() && p.origin() != origin) continue;
    SEG_ASSIGN_OR_RETURN(auto evidence, peers_->ListEvidence(p.origin()));
    for (auto& e : evidence) *out->add_evidence() = std::move(e);
    SEG_ASSIGN_OR_RETURN(auto notes, peers_->CosignedNotes(p.origin()));
    for (auto& n : notes) out->add_cosigned_by_us(std::move(n));
    SEG_ASSIGN_OR_RETURN(auto eq, peers_->Equivocations(p.origin()));
    for (auto& r : eq) *out->add_equivocations() = std::move(r);
  }
  SEG_ASSIGN_OR_RETURN(std::vector<std::string> ours, OurCosignedNotes());
  for (auto& n : ours) out->add_our_cosigned(std::move(n));
  return absl::OkStatus();
}

}  // namespace segledger::node
